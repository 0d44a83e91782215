//! `madadkar`: the command-line client over the local store, for scripts, administrators and
//! teams without the desktop app. Human output by default, `--json` for scripts.
//!
//! This file only parses the command line and dispatches; each command group lives in its own
//! module under `command/`, and `output` is the one place that prints.

mod command;
mod output;
mod passphrase;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Parser;

use command::Command;
use output::Output;

#[derive(Debug, Parser)]
#[command(
    name = "madadkar",
    version,
    about = "Madadkar: the shared, offline-first caseload of a relief committee"
)]
struct Cli {
    /// Where this replica keeps its data (default: $MADADKAR_DATA_DIR or the OS data directory).
    #[arg(long, global = true, env = "MADADKAR_DATA_DIR")]
    data_dir: Option<PathBuf>,
    /// Read the store's passphrase from this file (default: $MADADKAR_PASSPHRASE). A passphrase
    /// is never taken as an argument: other users see arguments.
    #[arg(long, global = true, value_name = "PATH")]
    passphrase_file: Option<PathBuf>,
    /// Print machine-readable JSON instead of text.
    #[arg(long, global = true)]
    json: bool,
    #[command(subcommand)]
    command: Command,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let out = Output { json: cli.json };
    match command::run(
        cli.command,
        cli.data_dir,
        cli.passphrase_file.as_deref(),
        &out,
    ) {
        Ok(code) => code,
        Err(e) => {
            out.error(&e);
            ExitCode::from(passphrase::exit_status(&e))
        }
    }
}
