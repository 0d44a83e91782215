//! The committee's partner directory (banks and their branches, training centres, clinics): the
//! checks a partner passes before the server stores it. The administrator maintains the
//! directory (`madadkar-server partner …`); it reaches every replica with the directory of
//! devices (`GET /v1/directory`), so referrals and plan steps choose a partner by its code
//! instead of typing a name that could not be counted.

use madadkar_schema::{Partner, text::clean_input};
use thiserror::Error;

/// The longest code: short enough to type on a command line and to show in a list.
pub const CODE_MAX: usize = 64;
/// The shortest code.
pub const CODE_MIN: usize = 2;
/// The longest name, branch or district, in characters.
pub const TEXT_MAX: usize = 100;

/// Why a partner was refused. Each names the partner's code, so a refused import says which
/// entry to fix.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum BadPartner {
    #[error(
        "partner code {0:?} is not {CODE_MIN}–{CODE_MAX} lower-case Latin letters, digits or '-' (e.g. bank-melli-enghelab)"
    )]
    Code(String),
    #[error("partner {code}: the name is empty")]
    EmptyName { code: String },
    #[error("partner {code}: the {field} is {len} characters long; at most {TEXT_MAX}")]
    TooLong {
        code: String,
        field: &'static str,
        len: usize,
    },
    #[error("partner {code} is listed more than once")]
    Repeated { code: String },
}

/// Whether `code` is a partner code: `[a-z0-9-]{2,64}`.
pub fn is_code(code: &str) -> bool {
    (CODE_MIN..=CODE_MAX).contains(&code.len())
        && code
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
}

/// The partner as stored: its code checked, its texts cleaned as typed values are everywhere
/// (trimmed, inner spaces collapsed, Arabic ي/ك made Persian) and within [`TEXT_MAX`]; a
/// branch or district left empty is none.
pub fn validated(p: &Partner) -> Result<Partner, BadPartner> {
    if !is_code(&p.code) {
        return Err(BadPartner::Code(p.code.clone()));
    }
    let text = |field: &'static str, value: &str| {
        let cleaned = clean_input(value);
        let len = cleaned.chars().count();
        if len > TEXT_MAX {
            return Err(BadPartner::TooLong {
                code: p.code.clone(),
                field,
                len,
            });
        }
        Ok(cleaned)
    };
    let optional = |field: &'static str, value: &Option<String>| {
        value
            .as_deref()
            .map(|v| text(field, v))
            .transpose()
            .map(|v| v.filter(|v| !v.is_empty()))
    };
    let name = text("name", &p.name)?;
    if name.is_empty() {
        return Err(BadPartner::EmptyName {
            code: p.code.clone(),
        });
    }
    Ok(Partner {
        code: p.code.clone(),
        kind: p.kind,
        name,
        branch: optional("branch", &p.branch)?,
        district: optional("district", &p.district)?,
        active: p.active,
    })
}

/// Every partner of a batch [`validated`], refusing the batch if any fails or a code appears
/// twice in it.
pub fn validated_all(partners: &[Partner]) -> Result<Vec<Partner>, BadPartner> {
    let mut seen = std::collections::HashSet::new();
    partners
        .iter()
        .map(|p| {
            let p = validated(p)?;
            if !seen.insert(p.code.clone()) {
                return Err(BadPartner::Repeated { code: p.code });
            }
            Ok(p)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use madadkar_schema::PartnerKind;

    fn partner(code: &str, name: &str) -> Partner {
        Partner {
            code: code.into(),
            kind: PartnerKind::Bank,
            name: name.into(),
            branch: None,
            district: None,
            active: true,
        }
    }

    #[test]
    fn codes_are_short_lower_case_latin_words() {
        for good in ["ab", "bank-melli-enghelab", "tvto-3", &"a".repeat(64)] {
            assert!(is_code(good), "{good}");
        }
        for bad in [
            "",
            "a",
            "Bank",
            "bank melli",
            "bank_melli",
            "بانک",
            "bank/1",
            &"a".repeat(65),
        ] {
            assert!(!is_code(bad), "{bad}");
            assert_eq!(
                validated(&partner(bad, "بانک")),
                Err(BadPartner::Code(bad.into()))
            );
        }
    }

    #[test]
    fn texts_are_cleaned_and_bounded() {
        let p = Partner {
            branch: Some("  شعبهٔ   ميدان انقلاب ".into()),
            district: Some("   ".into()),
            ..partner("bank-melli-enghelab", " بانک ملي ")
        };
        let v = validated(&p).expect("valid");
        assert_eq!(v.name, "بانک ملی");
        assert_eq!(v.branch.as_deref(), Some("شعبهٔ میدان انقلاب"));
        assert_eq!(v.district, None);

        assert_eq!(
            validated(&partner("x1", "  ")),
            Err(BadPartner::EmptyName { code: "x1".into() })
        );
        assert_eq!(
            validated(&partner("x1", &"ب".repeat(101))),
            Err(BadPartner::TooLong {
                code: "x1".into(),
                field: "name",
                len: 101
            })
        );
        assert!(validated(&partner("x1", &"ب".repeat(100))).is_ok());
        let long_branch = Partner {
            branch: Some("ش".repeat(101)),
            ..partner("x1", "بانک")
        };
        assert!(matches!(
            validated(&long_branch),
            Err(BadPartner::TooLong {
                field: "branch",
                ..
            })
        ));
    }

    #[test]
    fn a_batch_naming_one_code_twice_is_refused() {
        let batch = [
            partner("a1", "one"),
            partner("b2", "two"),
            partner("a1", "three"),
        ];
        assert_eq!(
            validated_all(&batch),
            Err(BadPartner::Repeated { code: "a1".into() })
        );
        assert_eq!(validated_all(&batch[..2]).expect("valid").len(), 2);
    }
}
