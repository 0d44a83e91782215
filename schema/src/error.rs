//! Error types: what is wrong with input (`ValidationError`) and with a document (`DocumentError`).

use thiserror::Error;

use crate::field::Field;

/// Why a value a worker typed was refused. Messages name the field and say what is expected, so a
/// form or the CLI can show them as they are; [`ValidationError::message_fa`] says the same in
/// Persian, built from the same parts (never by matching the English text).
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum ValidationError {
    #[error("{}: required", .field.label_en())]
    Required { field: Field },
    #[error("{}: too long ({len} characters, at most {max})", .field.label_en())]
    TooLong {
        field: Field,
        len: usize,
        max: usize,
    },
    #[error("national ID {input:?}: {problem}")]
    NationalId {
        input: String,
        problem: crate::national_id::NationalIdProblem,
    },
    #[error(
        "{}: {input:?} is not a date (expected Jalali 1403-08-15 or ISO 2024-11-05)",
        .field.label_en()
    )]
    Date { field: Field, input: String },
    #[error("{}: {input:?} is not a valid {calendar} date", .field.label_en())]
    NoSuchDay {
        field: Field,
        input: String,
        calendar: &'static str,
    },
    #[error("{}: {date} is in the future", .field.label_en())]
    FutureDate { field: Field, date: String },
    #[error("{}: {input:?} is not one of: {allowed}", .field.label_en())]
    NotOneOf {
        field: Field,
        input: String,
        allowed: String,
    },
    #[error("{}: {input:?} {reason}", .field.label_en())]
    Invalid {
        field: Field,
        input: String,
        reason: &'static str,
    },
    #[error("{}: {value} is out of range {min}..={max}", .field.label_en())]
    OutOfRange {
        field: Field,
        value: i64,
        min: i64,
        max: i64,
    },
    #[error("nothing to change: give at least one field")]
    NothingToChange,
}

impl ValidationError {
    /// The field the error is about, so a form can show it next to that field; `None` when the
    /// error is about the form as a whole.
    pub fn field(&self) -> Option<Field> {
        match self {
            Self::Required { field }
            | Self::TooLong { field, .. }
            | Self::Date { field, .. }
            | Self::NoSuchDay { field, .. }
            | Self::FutureDate { field, .. }
            | Self::NotOneOf { field, .. }
            | Self::Invalid { field, .. }
            | Self::OutOfRange { field, .. } => Some(*field),
            Self::NationalId { .. } => Some(Field::NationalId),
            Self::NothingToChange => None,
        }
    }

    /// The same message in Persian, for the forms of the desktop app.
    pub fn message_fa(&self) -> String {
        let f = self.field().map(Field::label_fa).unwrap_or_default();
        let digits = crate::text::persian_digits;
        match self {
            Self::Required { .. } => format!("{f} را وارد کنید."),
            Self::TooLong { len, max, .. } => digits(&format!(
                "{f} بیش از حد طولانی است ({len} نویسه؛ حداکثر {max})."
            )),
            Self::NationalId { problem, .. } => problem.fa(),
            Self::Date { .. } => format!("{f} تاریخ معتبری نیست (نمونه: ۱۴۰۴/۰۸/۱۵)."),
            Self::NoSuchDay { input, .. } => {
                digits(&format!("{f}: چنین روزی در تقویم وجود ندارد ({input})."))
            }
            Self::FutureDate { .. } => format!("{f} نمی‌تواند در آینده باشد."),
            Self::NotOneOf { .. } | Self::Invalid { .. } => format!("{f} معتبر نیست."),
            Self::OutOfRange { min, max, .. } => {
                digits(&format!("{f} باید بین {min} و {max} باشد."))
            }
            Self::NothingToChange => "چیزی برای تغییر وارد نشده است.".into(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn persian_messages_name_the_field_in_persian() {
        let e = ValidationError::Required {
            field: Field::District,
        };
        assert_eq!(e.message_fa(), "منطقه را وارد کنید.");
        let e = ValidationError::OutOfRange {
            field: Field::NeedScore,
            value: 7,
            min: 0,
            max: 4,
        };
        assert_eq!(e.message_fa(), "امتیاز نیاز باید بین ۰ و ۴ باشد.");
        let nid = crate::NationalId::parse("0499370898").unwrap_err();
        assert!(nid.message_fa().contains("رقم کنترل"));
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
        "this household was written by a newer Madadkar (document version {found}; this app knows up to {supported}); update the app to change it"
    )]
    TooNew { found: u64, supported: u64 },
    #[error("no {kind} with id {id} in this household")]
    NotFound { kind: &'static str, id: String },
    #[error(transparent)]
    Invalid(#[from] ValidationError),
    #[error("unknown field path {0:?}")]
    UnknownField(String),
    #[error("{0} cannot be set by hand")]
    NotSettable(String),
    /// An action the household's state does not allow (merging a household that is already
    /// merged, undoing a merge that is not there, reviewing a visit twice the same way, …).
    #[error("{0}")]
    NotAllowed(String),
    /// The document is bigger, deeper or wider than a household may be (a bound of
    /// [`crate::document::limits`]); found by a walk that never recurses.
    #[error("{what} is over the limit of {limit}")]
    OverLimit { what: String, limit: usize },
    /// The document names another household than the one it is stored or sent as, or holds
    /// several concurrent ids. What it names instead is left out: a hostile document may hold
    /// anything there, a name included, and this message reaches logs and other servers.
    #[error("the document's id is not household {expected} (an id never changes)")]
    WrongId { expected: uuid::Uuid },
}
