//! `madadkar passphrase change`: re-wraps the store's data key under a new passphrase.

use std::path::PathBuf;

use anyhow::Result;
use clap::Subcommand;
use madadkar_client::{Passphrase, Store};

use crate::output::Output;
use crate::passphrase::{NEW_ENV, read};

#[derive(Debug, Subcommand)]
pub enum PassphraseCommand {
    /// Replace the store's passphrase with the one in $MADADKAR_NEW_PASSPHRASE (or
    /// --new-passphrase-file). The current one is the one the store was opened with.
    Change {
        /// Read the new passphrase from this file instead of $MADADKAR_NEW_PASSPHRASE.
        #[arg(long, value_name = "PATH")]
        new_passphrase_file: Option<PathBuf>,
    },
}

pub fn run(
    store: &mut Store,
    out: &Output,
    cmd: PassphraseCommand,
    current: &Passphrase,
) -> Result<()> {
    match cmd {
        PassphraseCommand::Change {
            new_passphrase_file,
        } => {
            let new = read(
                "new passphrase",
                new_passphrase_file.as_deref(),
                NEW_ENV,
                "--new-passphrase-file",
            )?;
            store.change_passphrase(current, &new)?;
            out.done("the passphrase is changed; the old one no longer opens this store");
        }
    }
    Ok(())
}
