//! `madadkar bundle export|import`: move changes between replicas on a file instead of a network.

use std::path::PathBuf;

use anyhow::Result;
use clap::Subcommand;
use madadkar_client::Store;

use crate::output::Output;

#[derive(Debug, Subcommand)]
pub enum BundleCommand {
    /// Write every household, with its whole history, to FILE.
    Export { file: PathBuf },
    /// Merge the households in FILE into this replica (idempotent; all or nothing).
    Import { file: PathBuf },
}

pub fn run(store: &mut Store, out: &Output, cmd: BundleCommand) -> Result<()> {
    match cmd {
        BundleCommand::Export { file } => {
            let n = store.export_bundle(&file)?;
            out.done(&format!("exported {n} households to {}", file.display()));
        }
        BundleCommand::Import { file } => {
            let report = store.import_bundle(&file)?;
            out.import(&report);
        }
    }
    Ok(())
}
