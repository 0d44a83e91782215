//! `madadkar bundle export|import`: move changes between replicas on a file instead of a network.
//! Bundles are encrypted to a passphrase the two teams agree on, taken like the store's: from
//! `$MADADKAR_BUNDLE_PASSPHRASE` or a file, never an argument.

use std::path::PathBuf;

use anyhow::Result;
use clap::{Args, Subcommand};
use madadkar_client::{Passphrase, Store};

use crate::output::Output;
use crate::passphrase::{BUNDLE_ENV, read};

#[derive(Debug, Subcommand)]
pub enum BundleCommand {
    /// Write every household, with its whole history, to FILE, encrypted to the bundle passphrase.
    Export {
        file: PathBuf,
        #[command(flatten)]
        passphrase: BundlePassphrase,
    },
    /// Merge the households in FILE into this replica (idempotent; all or nothing).
    Import {
        file: PathBuf,
        #[command(flatten)]
        passphrase: BundlePassphrase,
    },
}

#[derive(Debug, Args)]
pub struct BundlePassphrase {
    /// Read the bundle's passphrase from this file instead of $MADADKAR_BUNDLE_PASSPHRASE.
    #[arg(long, value_name = "PATH")]
    bundle_passphrase_file: Option<PathBuf>,
}

impl BundlePassphrase {
    fn read(&self) -> Result<Passphrase> {
        read(
            "bundle's passphrase",
            self.bundle_passphrase_file.as_deref(),
            BUNDLE_ENV,
            "--bundle-passphrase-file",
        )
    }
}

pub fn run(store: &mut Store, out: &Output, cmd: BundleCommand) -> Result<()> {
    match cmd {
        BundleCommand::Export { file, passphrase } => {
            let n = store.export_bundle(&file, &passphrase.read()?)?;
            out.done(&format!("exported {n} households to {}", file.display()));
        }
        BundleCommand::Import { file, passphrase } => {
            let report = store.import_bundle(&file, &passphrase.read()?)?;
            out.import(&report);
        }
    }
    Ok(())
}
