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
    #[error("national ID {input:?}: {problem}")]
    NationalId {
        input: String,
        problem: crate::national_id::NationalIdProblem,
    },
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

    /// The same message in Persian, for the forms of the desktop app.
    pub fn message_fa(&self) -> String {
        let f = field_fa(self.field());
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
        }
    }
}

/// Persian names of the fields that validation speaks of.
fn field_fa(field: &str) -> &str {
    match field {
        "district" => "منطقه",
        "address" => "نشانی",
        "phone" | "alt phone" => "تلفن",
        "first name" => "نام",
        "last name" => "نام خانوادگی",
        "national ID" | "national ID of the head of household" => "کد ملی",
        "birth date" => "تاریخ تولد",
        "visit date" => "تاریخ بازدید",
        "follow-up date" => "تاریخ پیگیری",
        "referral date" | "status date" => "تاریخ",
        "observations" => "مشاهدات",
        "need score" | "need" => "امتیاز نیاز",
        "relation" => "نسبت",
        "sex" => "جنسیت",
        "visit kind" => "نوع بازدید",
        "worker name" => "نام شما",
        "device name" => "نام دستگاه",
        "server" => "نشانی سرور",
        "health notes" | "disability notes" | "note" => "یادداشت",
        "target" => "مقصد معرفی",
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn persian_messages_name_the_field_in_persian() {
        let e = ValidationError::Required { field: "district" };
        assert_eq!(e.message_fa(), "منطقه را وارد کنید.");
        let e = ValidationError::OutOfRange {
            field: "need score",
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
