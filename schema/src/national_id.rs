//! The Iranian national ID (کد ملی): ten digits whose last is a check digit.

use serde::{Deserialize, Serialize};
use std::fmt;

use crate::error::ValidationError;
use crate::text::digit_value;

/// A national ID that passed the check-digit test. Construct it with [`NationalId::parse`].
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
#[cfg_attr(feature = "ts", derive(ts_rs::TS), ts(type = "string"))]
pub struct NationalId(String);

impl NationalId {
    /// Accepts Persian, Arabic-Indic or Latin digits, with spaces or dashes between groups.
    ///
    /// The check digit c = d10; s = Σ d_i × (11 − i) for i = 1..9; r = s mod 11; valid when
    /// (r < 2 and c = r) or (r ≥ 2 and c = 11 − r). Ten equal digits pass that test but are never
    /// issued, so they are refused too.
    pub fn parse(input: &str) -> Result<Self, ValidationError> {
        let err = |reason| ValidationError::NationalId {
            input: input.to_string(),
            reason,
        };
        let mut digits = Vec::with_capacity(10);
        for c in input.trim().chars() {
            match digit_value(c) {
                Some(d) => digits.push(d),
                None if c == ' ' || c == '-' => {}
                None => return Err(err("must contain only digits")),
            }
        }
        if digits.is_empty() {
            return Err(err("is empty"));
        }
        if digits.len() != 10 {
            return Err(err("must have exactly 10 digits"));
        }
        if digits.iter().all(|d| *d == digits[0]) {
            return Err(err("cannot be ten equal digits"));
        }
        let sum: u32 = digits[..9]
            .iter()
            .enumerate()
            .map(|(i, d)| d * (10 - i as u32))
            .sum();
        let r = sum % 11;
        let expected = if r < 2 { r } else { 11 - r };
        if digits[9] != expected {
            return Err(err("check digit does not match (mistyped?)"));
        }
        Ok(Self(
            digits.iter().map(|d| char::from(b'0' + *d as u8)).collect(),
        ))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Builds a valid ID from any nine leading digits by appending the check digit; used by the
    /// demo and test data generators.
    pub fn with_check_digit(first_nine: u32) -> Self {
        let body = format!("{:09}", first_nine % 1_000_000_000);
        let sum: u32 = body
            .bytes()
            .enumerate()
            .map(|(i, b)| u32::from(b - b'0') * (10 - i as u32))
            .sum();
        let r = sum % 11;
        let check = if r < 2 { r } else { 11 - r };
        Self(format!("{body}{check}"))
    }
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

    #[test]
    fn known_valid_ids_pass() {
        // s = 266, r = 2 ≥ 2, c = 11 − 2 = 9.
        assert_eq!(
            NationalId::parse("0499370899").map(|n| n.0),
            Ok("0499370899".into())
        );
        // s = 8, r = 8, c = 3.
        assert!(NationalId::parse("0010000003").is_ok());
        // s = 11, r = 0 < 2, c = r = 0.
        assert!(NationalId::parse("0000000140").is_ok());
        // s = 12, r = 1 < 2, c = r = 1.
        assert!(NationalId::parse("0000000231").is_ok());
        // s = 10, r = 10, c = 1.
        assert!(NationalId::parse("1000000001").is_ok());
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
        assert!(NationalId::parse("").is_err());
    }

    #[test]
    fn generated_ids_are_valid() {
        for n in [0, 1, 12345, 49_937_089, 999_999_999] {
            let id = NationalId::with_check_digit(n);
            if id
                .0
                .chars()
                .all(|c| c == id.0.chars().next().unwrap_or('x'))
            {
                continue;
            }
            assert_eq!(NationalId::parse(&id.0), Ok(id));
        }
    }
}
