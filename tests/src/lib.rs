//! Helpers shared by the end-to-end tests: temporary replicas and the paths of built binaries.

use std::path::PathBuf;

/// The directory holding the workspace's built binaries (`target/debug` or `target/release`),
/// found from the running test executable (`target/<profile>/deps/<test>`).
pub fn bin_dir() -> PathBuf {
    let exe = std::env::current_exe().unwrap_or_default();
    let deps = exe.parent().map(PathBuf::from).unwrap_or_default();
    if deps.ends_with("deps") {
        deps.parent().map(PathBuf::from).unwrap_or(deps)
    } else {
        deps
    }
}
