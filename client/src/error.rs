//! The store's error type: each variant says what went wrong and, where it can, what to do.
//!
//! Wrapped errors are `transparent`: their message is said once, whether a caller prints the
//! error alone or its whole chain.

use madadkar_schema::{DocumentError, ValidationError};
use thiserror::Error;

#[derive(Debug, Error)]
pub enum StoreError {
    #[error(transparent)]
    Invalid(#[from] ValidationError),
    #[error(transparent)]
    Document(#[from] DocumentError),
    #[error(transparent)]
    Sqlite(#[from] rusqlite::Error),
    /// The I/O error is part of the message, not a source, so a chain prints it once.
    #[error("{path}: {error}")]
    Io { path: String, error: std::io::Error },
    #[error("no {kind} matches {id:?}")]
    NotFound { kind: &'static str, id: String },
    #[error("{id:?} matches several {kind}s; type more of the id")]
    Ambiguous { kind: &'static str, id: String },
    #[error(
        "this replica has no worker yet; run `madadkar enroll --server URL --code CODE`, or `madadkar init` to work offline"
    )]
    NotInitialised,
    #[error("this replica is already set up for worker {worker}")]
    AlreadyInitialised { worker: String },
    #[error("bundle: {0}")]
    Bundle(String),
    /// The operating system could not give random bytes for a new key.
    #[error("no randomness for a new key: {message}")]
    Randomness { message: String },
    /// The lease the server granted has run out: the household data stays locked until a
    /// sync renews it.
    #[error(
        "this laptop has not synced since its lease ended ({since}); sync with the server to unlock it"
    )]
    LeaseExpired {
        since: chrono::DateTime<chrono::Utc>,
    },
    /// The server said this device is revoked or retired; its data has been erased.
    #[error("the server says this device is {reason}; its data has been erased from this laptop")]
    Erased { reason: &'static str },
    /// The store holds a signing key that cannot be read (a damaged or tampered store).
    #[error("this replica's signing key is damaged; enrol the device again")]
    BadSigningKey,
    /// A request to the server could not be encoded (a bug, not bad input or a bad network).
    #[error("could not encode a request to the server: {message}")]
    Encode { message: String },
    #[error(
        "this replica is not enrolled with a server; run `madadkar enroll --server URL --code CODE`"
    )]
    NotEnrolled,
    /// The server could not be reached or the connection broke: waiting can help.
    #[error("cannot reach the server ({message}); your work is kept and will sync later")]
    Network { message: String },
    /// The server answered, but not in a way this program can use (a body that does not
    /// decode, an impossible acknowledgement, something that is not a Madadkar server):
    /// waiting does not help.
    #[error(
        "the server's answer cannot be used ({message}); check the server address, or update Madadkar"
    )]
    Protocol { message: String },
    /// The server speaks another version of the sync protocol (`docs/sync-protocol.md`).
    #[error(
        "the server speaks sync protocol {server} and this Madadkar speaks {client}; update the older of the two"
    )]
    ServerVersion { server: String, client: u32 },
    #[error("the server refused: {message} [{code}]")]
    Server {
        status: u16,
        code: String,
        message: String,
        retry: bool,
        households: Vec<uuid::Uuid>,
    },
    #[error(
        "the database was written by a newer Madadkar (store version {found}, this one knows {supported})"
    )]
    StoreTooNew { found: i64, supported: i64 },
    /// The passphrase does not unwrap the store's data key (`vault`).
    #[error("the passphrase is wrong")]
    WrongPassphrase,
    /// A new passphrase (a new store, a passphrase change, a bundle) is too short.
    #[error("the passphrase must have at least {min} characters")]
    PassphraseTooShort { min: usize },
    /// The key file beside the database cannot be read or is not one this program knows.
    #[error("the key file {path} cannot be used: {reason}")]
    KeyFile { path: String, reason: String },
    /// An encrypted database without its key file: nothing can read it any more.
    #[error(
        "the store in {dir} is encrypted but its key file ({file}) is missing; without it the data cannot be read"
    )]
    KeyFileMissing { dir: String, file: &'static str },
    /// The key file unwrapped, but its key does not open the database beside it.
    #[error("the key file does not belong to the database beside it (or the database is damaged)")]
    KeyMismatch,
    /// The passphrase does not decrypt a bundle.
    #[error("the bundle's passphrase is wrong")]
    WrongBundlePassphrase,
    /// An action this replica's role does not allow (the server checks again on sync).
    #[error("only {needs} may {action}")]
    NotPermitted {
        action: &'static str,
        needs: &'static str,
    },
    /// A form draft the app asked to keep is not one the store keeps (`drafts`).
    #[error("draft: {0}")]
    Draft(String),
}

impl StoreError {
    /// Whether trying the same thing again later may succeed: only when the network failed or
    /// the server says so. A protocol or version mismatch stays until someone updates.
    pub fn is_retryable(&self) -> bool {
        match self {
            Self::Network { .. } => true,
            Self::Server { retry, .. } => *retry,
            _ => false,
        }
    }
}

pub type Result<T, E = StoreError> = std::result::Result<T, E>;

#[cfg(test)]
mod tests {
    use super::*;

    /// The error and its causes the way `anyhow`'s `{:#}` prints them (the CLI does).
    fn chain(e: &dyn std::error::Error) -> String {
        let mut parts = vec![e.to_string()];
        let mut source = e.source();
        while let Some(s) = source {
            parts.push(s.to_string());
            source = s.source();
        }
        parts.join(": ")
    }

    #[test]
    fn wrapped_errors_say_their_message_once() {
        let sqlite = StoreError::from(rusqlite::Error::QueryReturnedNoRows);
        assert_eq!(chain(&sqlite), "Query returned no rows");
        let io = StoreError::Io {
            path: "/data/x".into(),
            error: std::io::Error::new(std::io::ErrorKind::NotFound, "gone"),
        };
        assert_eq!(chain(&io), "/data/x: gone");
    }

    #[test]
    fn only_network_failures_and_retryable_refusals_are_retried() {
        let message = String::from("m");
        assert!(
            StoreError::Network {
                message: message.clone()
            }
            .is_retryable()
        );
        assert!(
            !StoreError::Protocol {
                message: message.clone()
            }
            .is_retryable()
        );
        assert!(!StoreError::Encode { message }.is_retryable());
        let version = StoreError::ServerVersion {
            server: "2".into(),
            client: 1,
        };
        assert!(!version.is_retryable());
    }
}
