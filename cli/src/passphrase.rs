//! Where the CLI takes passphrases from: an environment variable or a file, never an argument
//! (arguments are visible to every local user in `ps` and stay in shell history).

use std::path::Path;

use anyhow::{Context, Result, bail};
use madadkar_client::{Passphrase, StoreError};

/// The store's passphrase, when no `--passphrase-file` is given.
pub const STORE_ENV: &str = "MADADKAR_PASSPHRASE";
/// The new passphrase of `madadkar passphrase change`, when no `--new-passphrase-file` is given.
pub const NEW_ENV: &str = "MADADKAR_NEW_PASSPHRASE";
/// A bundle's passphrase, when no `--bundle-passphrase-file` is given.
pub const BUNDLE_ENV: &str = "MADADKAR_BUNDLE_PASSPHRASE";

/// Exit status when no passphrase was given (like a usage error).
pub const EXIT_NO_PASSPHRASE: u8 = 2;
/// Exit status when a passphrase (the store's or a bundle's) is wrong, so scripts can tell it
/// from every other failure (1).
pub const EXIT_WRONG_PASSPHRASE: u8 = 3;

/// The passphrase in `file` if given, else in the environment variable `env`.
pub fn read(what: &str, file: Option<&Path>, env: &str, file_flag: &str) -> Result<Passphrase> {
    if let Some(file) = file {
        return Passphrase::from_file(file)
            .with_context(|| format!("reading the {what} from {}", file.display()));
    }
    match std::env::var(env) {
        Ok(text) if !text.is_empty() => Ok(Passphrase::new(&text)),
        Ok(_) => bail!(NoPassphrase(format!(
            "{env} is empty; set it to the {what}, or pass {file_flag} PATH"
        ))),
        Err(std::env::VarError::NotUnicode(_)) => bail!("{env} is not UTF-8 text"),
        Err(std::env::VarError::NotPresent) => bail!(NoPassphrase(format!(
            "no {what} given: set {env}, or pass {file_flag} PATH (a file readable only by you)"
        ))),
    }
}

/// A passphrase that was needed and not given; `main` exits with [`EXIT_NO_PASSPHRASE`].
#[derive(Debug)]
pub struct NoPassphrase(String);

impl std::fmt::Display for NoPassphrase {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for NoPassphrase {}

/// The exit status an error calls for: [`EXIT_WRONG_PASSPHRASE`] for a wrong passphrase,
/// [`EXIT_NO_PASSPHRASE`] for a missing one, 1 for everything else.
pub fn exit_status(e: &anyhow::Error) -> u8 {
    for cause in e.chain() {
        if cause.is::<NoPassphrase>() {
            return EXIT_NO_PASSPHRASE;
        }
        if matches!(
            cause.downcast_ref::<StoreError>(),
            Some(StoreError::WrongPassphrase | StoreError::WrongBundlePassphrase)
        ) {
            return EXIT_WRONG_PASSPHRASE;
        }
    }
    1
}
