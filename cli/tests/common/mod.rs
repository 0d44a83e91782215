//! Runs the real `madadkar` binary on a data directory, for every CLI test file.

#![allow(dead_code)]

use std::path::Path;
use std::process::{Command, Output};

/// The passphrase of every test store, given as `MADADKAR_PASSPHRASE`.
pub const PASSPHRASE: &str = "cli test passphrase";
/// The passphrase of the bundles the tests exchange, given as `MADADKAR_BUNDLE_PASSPHRASE`.
pub const BUNDLE_PASSPHRASE: &str = "cli bundle passphrase";

/// `madadkar` without arguments or environment of the caller's that would change what it opens.
pub fn command(dir: &Path) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_madadkar"));
    command
        .arg("--data-dir")
        .arg(dir)
        .env_remove("MADADKAR_DATA_DIR")
        .env_remove("MADADKAR_NEW_PASSPHRASE")
        .env("MADADKAR_PASSPHRASE", PASSPHRASE)
        .env("MADADKAR_BUNDLE_PASSPHRASE", BUNDLE_PASSPHRASE);
    command
}

/// `madadkar --data-dir DIR ARGS…` with the test passphrases, ignoring any data directory set
/// in the environment.
pub fn madadkar(dir: &Path, args: &[&str]) -> Output {
    command(dir).args(args).output().expect("run madadkar")
}

/// The test store's database in `dir`, keyed: for tests that set up a state directly.
pub fn connection(dir: &Path) -> rusqlite::Connection {
    madadkar_client::Store::open(dir, &madadkar_client::Passphrase::new(PASSPHRASE))
        .expect("open the store")
        .connection()
        .expect("connection")
}
