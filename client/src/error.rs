//! The store's error type: each variant says what went wrong and, where it can, what to do.

use madadkar_schema::{DocumentError, ValidationError};
use thiserror::Error;

#[derive(Debug, Error)]
pub enum StoreError {
    #[error("{0}")]
    Invalid(#[from] ValidationError),
    #[error("{0}")]
    Document(#[from] DocumentError),
    #[error("database: {0}")]
    Sqlite(#[from] rusqlite::Error),
    #[error("{path}: {source}")]
    Io {
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error("no {kind} matches {id:?}")]
    NotFound { kind: &'static str, id: String },
    #[error("{id:?} matches several {kind}s; type more of the id")]
    Ambiguous { kind: &'static str, id: String },
    #[error("this replica has no worker yet; run `madadkar init` first")]
    NotInitialised,
    #[error("this replica is already set up for worker {worker}")]
    AlreadyInitialised { worker: String },
    #[error("bundle: {0}")]
    Bundle(String),
    #[error(
        "this replica is not enrolled with a server; run `madadkar enroll --server URL --code CODE`"
    )]
    NotEnrolled,
    #[error("cannot reach the server ({message}); your work is kept and will sync later")]
    Network { message: String },
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
}

impl StoreError {
    /// Whether trying the same thing again later may succeed.
    pub fn is_retryable(&self) -> bool {
        match self {
            Self::Network { .. } => true,
            Self::Server { retry, .. } => *retry,
            _ => false,
        }
    }
}

pub type Result<T, E = StoreError> = std::result::Result<T, E>;
