//! [`FieldPath`]: where a field lives in a household document, typed. It is written as the
//! document's keys joined by dots (`household.phone`, `members.<id>.national_id`,
//! `visits.<id>.needs.income`), the form the CLI takes and JSON carries.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use uuid::Uuid;

use super::layout::{
    EVENT_KEYS, HOUSEHOLD_KEYS, MEMBER_KEYS, REFERRAL_KEYS, VISIT_KEYS, field_of, key_of,
};
use crate::enums::NeedDomain;
use crate::error::DocumentError;
use crate::field::Field;

/// Where a field is: the household's own, or one of an entity's.
/// Written as its text: see the module's doc.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS), ts(type = "string"))]
pub enum FieldPath {
    Household(Field),
    Member {
        member: Uuid,
        field: Field,
    },
    Visit {
        visit: Uuid,
        field: Field,
    },
    Need {
        visit: Uuid,
        domain: NeedDomain,
    },
    Referral {
        referral: Uuid,
        field: Field,
    },
    ReferralEvent {
        referral: Uuid,
        event: Uuid,
        field: Field,
    },
    /// A place this version's layout does not know (a newer version's field): shown as it is,
    /// never resolved by this version.
    Other(String),
}

impl FieldPath {
    /// The path of the keys `keys` (from the document's root); a place outside the layout is
    /// [`FieldPath::Other`].
    pub(super) fn from_keys(keys: &[String]) -> Self {
        let uuid = |s: &String| Uuid::parse_str(s).ok();
        let known = match keys {
            [h, key] if h == "household" => field_of(HOUSEHOLD_KEYS, key).map(Self::Household),
            [c, id, key] if c == "members" => uuid(id)
                .zip(field_of(MEMBER_KEYS, key))
                .map(|(member, field)| Self::Member { member, field }),
            [c, id, key] if c == "visits" => uuid(id)
                .zip(field_of(VISIT_KEYS, key))
                .map(|(visit, field)| Self::Visit { visit, field }),
            [c, id, n, domain] if c == "visits" && n == "needs" => uuid(id)
                .zip(NeedDomain::parse(domain).ok())
                .map(|(visit, domain)| Self::Need { visit, domain }),
            [c, id, key] if c == "referrals" => uuid(id)
                .zip(field_of(REFERRAL_KEYS, key))
                .map(|(referral, field)| Self::Referral { referral, field }),
            [c, id, e, event, key] if c == "referrals" && e == "events" => uuid(id)
                .zip(uuid(event))
                .zip(field_of(EVENT_KEYS, key))
                .map(|((referral, event), field)| Self::ReferralEvent {
                    referral,
                    event,
                    field,
                }),
            _ => None,
        };
        known.unwrap_or_else(|| Self::Other(keys.join(".")))
    }

    /// The field at the end of the path (`None` for a place this version does not know).
    pub fn field(&self) -> Option<Field> {
        match self {
            Self::Household(field)
            | Self::Member { field, .. }
            | Self::Visit { field, .. }
            | Self::Referral { field, .. }
            | Self::ReferralEvent { field, .. } => Some(*field),
            Self::Need { .. } => Some(Field::NeedScore),
            Self::Other(_) => None,
        }
    }

    /// How the path is named to Persian readers.
    pub fn label_fa(&self) -> String {
        match self {
            Self::Need { domain, .. } => {
                format!("{}: {}", Field::Need.label_fa(), domain.label_fa())
            }
            Self::Other(raw) => raw.clone(),
            other => other
                .field()
                .map(Field::label_fa)
                .unwrap_or_default()
                .into(),
        }
    }

    /// How the path is named to English readers.
    pub fn label_en(&self) -> String {
        match self {
            Self::Need { domain, .. } => {
                format!("{}: {}", Field::Need.label_en(), domain.label_en())
            }
            Self::Other(raw) => raw.clone(),
            other => other
                .field()
                .map(Field::label_en)
                .unwrap_or_default()
                .into(),
        }
    }
}

impl fmt::Display for FieldPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Every variant but `Other` is built from the key tables, so its key exists.
        let key = |keys, field| key_of(keys, field).unwrap_or("?");
        match self {
            Self::Household(field) => write!(f, "household.{}", key(HOUSEHOLD_KEYS, *field)),
            Self::Member { member, field } => {
                write!(f, "members.{member}.{}", key(MEMBER_KEYS, *field))
            }
            Self::Visit { visit, field } => write!(f, "visits.{visit}.{}", key(VISIT_KEYS, *field)),
            Self::Need { visit, domain } => write!(f, "visits.{visit}.needs.{}", domain.code()),
            Self::Referral { referral, field } => {
                write!(f, "referrals.{referral}.{}", key(REFERRAL_KEYS, *field))
            }
            Self::ReferralEvent {
                referral,
                event,
                field,
            } => write!(
                f,
                "referrals.{referral}.events.{event}.{}",
                key(EVENT_KEYS, *field)
            ),
            Self::Other(raw) => f.write_str(raw),
        }
    }
}

impl FromStr for FieldPath {
    type Err = DocumentError;

    /// Parses a path someone typed or sent; a place outside the layout is an error here (only
    /// paths found in a document may be [`FieldPath::Other`]).
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let keys: Vec<String> = s.trim().split('.').map(str::to_string).collect();
        match Self::from_keys(&keys) {
            Self::Other(_) => Err(DocumentError::UnknownField(s.to_string())),
            path => Ok(path),
        }
    }
}

impl Serialize for FieldPath {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for FieldPath {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        text.parse().map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_round_trip_through_their_text() {
        let id = Uuid::now_v7();
        for text in [
            "household.phone".to_string(),
            "household.head_member_id".to_string(),
            format!("members.{id}.national_id"),
            format!("visits.{id}.date"),
            format!("visits.{id}.needs.income"),
            format!("referrals.{id}.target"),
            format!("referrals.{id}.events.{id}.status"),
        ] {
            let path: FieldPath = text.parse().expect("parses");
            assert_eq!(path.to_string(), text);
            assert!(!matches!(path, FieldPath::Other(_)));
        }
    }

    #[test]
    fn unknown_places_are_refused_as_input_but_kept_when_found() {
        assert!(matches!(
            "household.colour".parse::<FieldPath>(),
            Err(DocumentError::UnknownField(_))
        ));
        assert!(
            "members.not-a-uuid.first_name"
                .parse::<FieldPath>()
                .is_err()
        );
        let found = FieldPath::from_keys(&["plans".into(), "x".into(), "goal".into()]);
        assert_eq!(found, FieldPath::Other("plans.x.goal".into()));
        assert_eq!(found.field(), None);
    }

    #[test]
    fn paths_are_named_in_persian() {
        let visit = Uuid::now_v7();
        assert_eq!(FieldPath::Household(Field::Phone).label_fa(), "تلفن");
        let need = FieldPath::Need {
            visit,
            domain: NeedDomain::Income,
        };
        assert_eq!(need.label_fa(), "نیاز: درآمد");
        assert_eq!(need.label_en(), "need: income");
    }
}
