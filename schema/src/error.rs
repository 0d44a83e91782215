//! Error types: what is wrong with input (`ValidationError`) and with a document (`DocumentError`).

use thiserror::Error;

/// Why a value a worker typed was refused. Messages name the field and say what is expected, so a
/// form or the CLI can show them as they are.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum ValidationError {
    #[error("{field}: required")]
    Required { field: &'static str },
    #[error("{field}: too long ({len} characters, at most {max})")]
    TooLong {
        field: &'static str,
        len: usize,
        max: usize,
    },
    #[error("national ID {input:?}: {reason}")]
    NationalId { input: String, reason: &'static str },
    #[error("{field}: {input:?} is not a date (expected Jalali 1403-08-15 or ISO 2024-11-05)")]
    Date { field: &'static str, input: String },
    #[error("{field}: {input:?} is not a valid {calendar} date")]
    NoSuchDay {
        field: &'static str,
        input: String,
        calendar: &'static str,
    },
    #[error("{field}: {date} is in the future")]
    FutureDate { field: &'static str, date: String },
    #[error("{field}: {input:?} is not one of: {allowed}")]
    NotOneOf {
        field: &'static str,
        input: String,
        allowed: String,
    },
    #[error("{field}: {input:?} {reason}")]
    Invalid {
        field: &'static str,
        input: String,
        reason: &'static str,
    },
    #[error("{field}: {value} is out of range {min}..={max}")]
    OutOfRange {
        field: &'static str,
        value: i64,
        min: i64,
        max: i64,
    },
}

impl ValidationError {
    /// The field the error is about, so a form can show it next to that field.
    pub fn field(&self) -> &'static str {
        match self {
            Self::Required { field }
            | Self::TooLong { field, .. }
            | Self::Date { field, .. }
            | Self::NoSuchDay { field, .. }
            | Self::FutureDate { field, .. }
            | Self::NotOneOf { field, .. }
            | Self::Invalid { field, .. }
            | Self::OutOfRange { field, .. } => field,
            Self::NationalId { .. } => "national ID",
        }
    }
}

/// Why a household document could not be read or changed.
#[derive(Debug, Error)]
pub enum DocumentError {
    #[error("automerge: {0}")]
    Automerge(#[from] automerge::AutomergeError),
    #[error("the document is not a Madadkar household: {0}")]
    Malformed(String),
    #[error(
        "document schema version {found} is newer than this program understands ({supported}); update Madadkar"
    )]
    TooNew { found: u64, supported: u64 },
    #[error("no {kind} with id {id} in this household")]
    NotFound { kind: &'static str, id: String },
    #[error("{0}")]
    Invalid(#[from] ValidationError),
    #[error("unknown field path {0:?}")]
    UnknownField(String),
}
