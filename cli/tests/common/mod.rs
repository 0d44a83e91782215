//! Runs the real `madadkar` binary on a data directory, for every CLI test file.

use std::path::Path;
use std::process::{Command, Output};

/// `madadkar --data-dir DIR ARGS…`, ignoring any data directory set in the environment.
pub fn madadkar(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_madadkar"))
        .arg("--data-dir")
        .arg(dir)
        .args(args)
        .env_remove("MADADKAR_DATA_DIR")
        .output()
        .expect("run madadkar")
}
