//! The Iranian national ID (کد ملی): ten digits whose last is a check digit, and why a typed
//! one is refused.

use serde::{Deserialize, Serialize};
use std::fmt;

use crate::error::ValidationError;
use crate::text::{digit_value, persian_digits};

/// A national ID that passed the check-digit test. Construct it with [`NationalId::parse`].
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
#[cfg_attr(feature = "ts", derive(ts_rs::TS), ts(type = "string"))]
pub struct NationalId(String);

/// Why a typed national ID was refused, with the message in English and in Persian.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NationalIdProblem {
    Empty,
    NotOnlyDigits,
    WrongLength,
    /// Eight or nine digits that make a valid ID once zeros are put back in front: what a
    /// spreadsheet leaves of an ID that starts with zeros. Holds the whole ID, for the hint.
    LeadingZerosDropped {
        padded: String,
    },
    TenEqualDigits,
    /// The six digits after the three of the issuing office are all zero.
    NeverIssued,
    CheckDigit,
}

impl NationalIdProblem {
    /// The English reason, as it follows `national ID "…": ` in an error message.
    pub fn en(&self) -> String {
        match self {
            Self::Empty => "is empty".into(),
            Self::NotOnlyDigits => "must contain only digits".into(),
            Self::WrongLength => "must have exactly 10 digits".into(),
            Self::LeadingZerosDropped { padded } => {
                format!("must have exactly 10 digits; add the leading zeros: {padded}")
            }
            Self::TenEqualDigits => "cannot be ten equal digits".into(),
            Self::NeverIssued => {
                "is never issued (the six digits after the first three are all zero)".into()
            }
            Self::CheckDigit => "check digit does not match (mistyped?)".into(),
        }
    }

    /// The whole message in Persian, for the forms of the desktop app.
    pub fn fa(&self) -> String {
        match self {
            Self::Empty => "کد ملی را وارد کنید.".into(),
            Self::NotOnlyDigits => "کد ملی فقط از رقم تشکیل می‌شود.".into(),
            Self::WrongLength => "کد ملی باید ۱۰ رقم باشد.".into(),
            Self::LeadingZerosDropped { padded } => format!(
                "کد ملی باید ۱۰ رقم باشد؛ صفرهای ابتدای آن را اضافه کنید: {}",
                persian_digits(padded)
            ),
            Self::TenEqualDigits => "کد ملی نمی‌تواند ده رقم یکسان باشد.".into(),
            Self::NeverIssued => {
                "چنین کد ملی‌ای صادر نمی‌شود (شش رقم پس از سه رقم اول همه صفرند).".into()
            }
            Self::CheckDigit => {
                "رقم کنترل کد ملی درست نیست؛ احتمالاً یک رقم اشتباه وارد شده است.".into()
            }
        }
    }
}

impl fmt::Display for NationalIdProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.en())
    }
}

/// The check digit of the first nine: s = Σ d_i × (11 − i) for i = 1..9, r = s mod 11; the
/// check digit is r when r < 2, else 11 − r.
fn check_digit(first_nine: &[u32]) -> u32 {
    let sum: u32 = first_nine
        .iter()
        .enumerate()
        .map(|(i, d)| d * (10 - i as u32))
        .sum();
    let r = sum % 11;
    if r < 2 { r } else { 11 - r }
}

/// What is wrong with ten digits, if anything.
///
/// Besides the check digit, two kinds of ID pass that test but are never issued:
/// - ten equal digits (`1111111111`);
/// - IDs whose six digits after the issuing office's three are all zero (`001 000000 3`): the
///   serial part of an issued ID is never 000000. This is the rule of persian-tools'
///   `verifyIranianNationalId` (`code.substring(3, 9)` must not be 0), the reference validator
///   used by Iranian web forms.
fn problem_of(digits: &[u32; 10]) -> Option<NationalIdProblem> {
    if digits.iter().all(|d| *d == digits[0]) {
        Some(NationalIdProblem::TenEqualDigits)
    } else if digits[3..9].iter().all(|d| *d == 0) {
        Some(NationalIdProblem::NeverIssued)
    } else if digits[9] != check_digit(&digits[..9]) {
        Some(NationalIdProblem::CheckDigit)
    } else {
        None
    }
}

fn text_of(digits: &[u32; 10]) -> String {
    digits.iter().map(|d| char::from(b'0' + *d as u8)).collect()
}

impl NationalId {
    /// Accepts Persian, Arabic-Indic or Latin digits, with spaces or dashes between groups.
    ///
    /// Refused: anything but ten digits (eight or nine get a hint to put the leading zeros
    /// back when that gives a valid ID; they are not padded silently), a wrong check digit, and
    /// IDs that are never issued (see [`problem_of`]).
    pub fn parse(input: &str) -> Result<Self, ValidationError> {
        let err = |problem| ValidationError::NationalId {
            input: input.to_string(),
            problem,
        };
        let mut digits = Vec::with_capacity(10);
        for c in input.trim().chars() {
            match digit_value(c) {
                Some(d) => digits.push(d),
                None if c == ' ' || c == '-' => {}
                None => return Err(err(NationalIdProblem::NotOnlyDigits)),
            }
        }
        if digits.is_empty() {
            return Err(err(NationalIdProblem::Empty));
        }
        let Ok(ten) = <[u32; 10]>::try_from(digits.as_slice()) else {
            return Err(err(leading_zeros_hint(&digits)));
        };
        match problem_of(&ten) {
            Some(problem) => Err(err(problem)),
            None => Ok(Self(text_of(&ten))),
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Builds a valid ID from nine leading digits by appending the check digit; used by the
    /// demo and test data generators, so that any number gives an ID that [`Self::parse`]
    /// accepts. The few numbers whose ID would never be issued (see [`problem_of`]) are moved
    /// to a far-off one of the same office, so that neighbouring numbers still give different
    /// IDs: a zero serial (`abc000000`) becomes `abc999999`, and nine equal digits
    /// (`111111111`, also `999999999` reached that way) take the serial `999997`. Those few
    /// moved numbers may give the same ID as another number far from them.
    pub fn with_check_digit(first_nine: u32) -> Self {
        const SERIALS: u32 = 1_000_000;
        let mut n = first_nine % 1_000_000_000;
        if n.is_multiple_of(SERIALS) {
            n += SERIALS - 1;
        }
        if n.is_multiple_of(111_111_111) {
            n = n - n % SERIALS + SERIALS - 3;
        }
        let mut digits = [0u32; 10];
        let mut rest = n;
        for d in digits[..9].iter_mut().rev() {
            *d = rest % 10;
            rest /= 10;
        }
        digits[9] = check_digit(&digits[..9]);
        Self(text_of(&digits))
    }
}

/// The problem of an ID with other than ten digits: a hint to restore the leading zeros when
/// eight or nine digits make a valid ID with them, the plain length problem otherwise (the hint
/// would then put a wrong ID forward).
fn leading_zeros_hint(digits: &[u32]) -> NationalIdProblem {
    if matches!(digits.len(), 8 | 9) {
        let mut ten = [0u32; 10];
        ten[10 - digits.len()..].copy_from_slice(digits);
        if problem_of(&ten).is_none() {
            return NationalIdProblem::LeadingZerosDropped {
                padded: text_of(&ten),
            };
        }
    }
    NationalIdProblem::WrongLength
}

impl fmt::Display for NationalId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl TryFrom<String> for NationalId {
    type Error = ValidationError;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        Self::parse(&value)
    }
}

impl From<NationalId> for String {
    fn from(id: NationalId) -> Self {
        id.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn problem(input: &str) -> NationalIdProblem {
        match NationalId::parse(input) {
            Err(ValidationError::NationalId { problem, .. }) => problem,
            other => panic!("{input:?} should be refused as a national ID, got {other:?}"),
        }
    }

    #[test]
    fn known_valid_ids_pass() {
        // s = 266, r = 2 ≥ 2, c = 11 − 2 = 9.
        assert_eq!(
            NationalId::parse("0499370899").map(|n| n.0),
            Ok("0499370899".into())
        );
        // s = 10, r = 10, c = 1.
        assert!(NationalId::parse("0010000011").is_ok());
        // s = 11, r = 0 < 2, c = r = 0.
        assert!(NationalId::parse("0000000140").is_ok());
        // s = 12, r = 1 < 2, c = r = 1.
        assert!(NationalId::parse("0000000231").is_ok());
        // s = 13, r = 2, c = 11 − 2 = 9.
        assert!(NationalId::parse("1000000109").is_ok());
    }

    #[test]
    fn persian_and_arabic_digits_and_separators_are_accepted() {
        let id = NationalId::parse("۰۴۹۹-۳۷۰۸٩٩").map(|n| n.0);
        assert_eq!(id, Ok("0499370899".into()));
        assert!(NationalId::parse(" 049 937 0899 ").is_ok());
    }

    #[test]
    fn wrong_check_digit_is_refused_with_a_clear_reason() {
        let err = NationalId::parse("0499370898").unwrap_err();
        assert!(err.to_string().contains("check digit"), "{err}");
        assert_eq!(problem("0499370898"), NationalIdProblem::CheckDigit);
    }

    #[test]
    fn wrong_length_letters_and_repeated_digits_are_refused() {
        assert!(
            NationalId::parse("049937089")
                .unwrap_err()
                .to_string()
                .contains("10 digits")
        );
        assert!(NationalId::parse("04993708990").is_err());
        assert!(
            NationalId::parse("04993a0899")
                .unwrap_err()
                .to_string()
                .contains("only digits")
        );
        assert!(
            NationalId::parse("1111111111")
                .unwrap_err()
                .to_string()
                .contains("equal")
        );
        assert_eq!(problem(""), NationalIdProblem::Empty);
    }

    #[test]
    fn ids_with_a_zero_serial_are_never_issued() {
        // Each passes the check digit: 0010000003 (s = 8, c = 3), 1000000001 and 2220000001
        // (s = 10 and 54, r = 10, c = 1).
        for id in ["0010000003", "1000000001", "۰۰۱۰۰۰۰۰۰۳", "2220000001"] {
            assert_eq!(problem(id), NationalIdProblem::NeverIssued, "{id}");
        }
        let err = NationalId::parse("0010000003").unwrap_err();
        assert!(err.to_string().contains("never issued"), "{err}");
        // One non-zero digit in the serial is enough.
        assert!(NationalId::parse("0010000011").is_ok());
    }

    #[test]
    fn dropped_leading_zeros_get_a_hint_and_are_not_padded() {
        let nine = NationalId::parse("499370899").unwrap_err();
        assert_eq!(
            nine.to_string(),
            "national ID \"499370899\": must have exactly 10 digits; add the leading zeros: \
             0499370899"
        );
        assert_eq!(
            problem("۱۲۳۴۵۶۷۹"),
            NationalIdProblem::LeadingZerosDropped {
                padded: "0012345679".into()
            }
        );
        // When zeros in front would not give a valid ID either, there is no hint to follow.
        assert_eq!(problem("499370898"), NationalIdProblem::WrongLength);
        assert_eq!(problem("1234567"), NationalIdProblem::WrongLength);
    }

    #[test]
    fn problems_read_in_persian_without_english() {
        assert!(problem("0010000003").fa().contains("صادر نمی‌شود"));
        let hint = problem("12345679").fa();
        assert!(hint.contains("۰۰۱۲۳۴۵۶۷۹"), "{hint}");
        for p in [
            NationalIdProblem::Empty,
            NationalIdProblem::NotOnlyDigits,
            NationalIdProblem::WrongLength,
            NationalIdProblem::TenEqualDigits,
            NationalIdProblem::NeverIssued,
            NationalIdProblem::CheckDigit,
        ] {
            assert!(!p.fa().chars().any(|c| c.is_ascii_alphabetic()), "{p:?}");
        }
    }

    #[test]
    fn generated_ids_are_valid_even_from_never_issued_numbers() {
        for n in [
            0,
            1,
            12345,
            10_000_000,
            111_111_111,
            123_000_000,
            49_937_089,
            999_999_999,
            u32::MAX,
        ] {
            let id = NationalId::with_check_digit(n);
            assert_eq!(NationalId::parse(&id.0), Ok(id.clone()), "from {n}");
        }
        for d in 0..=9 {
            let id = NationalId::with_check_digit(d * 111_111_111);
            assert_eq!(NationalId::parse(&id.0), Ok(id.clone()), "from {d} × 9");
            let zero_serial = NationalId::with_check_digit(d * 1_000_000);
            assert_eq!(
                NationalId::parse(&zero_serial.0),
                Ok(zero_serial),
                "{d}000000"
            );
        }
        assert_eq!(NationalId::with_check_digit(49_937_089).0, "0499370899");
    }

    #[test]
    fn neighbouring_numbers_give_different_ids() {
        let ids: std::collections::BTreeSet<NationalId> = (22_000_000..22_000_010)
            .chain(111_111_105..111_111_115)
            .map(NationalId::with_check_digit)
            .collect();
        assert_eq!(ids.len(), 20);
    }
}
