//! The layout's names and shape: which maps a household document holds, which key means which
//! [`Field`], the checks a document passes before it is used, and the reader of one map.

use std::collections::HashMap;

use automerge::{
    ActorId, AutoCommit, ObjId, ObjType, ReadDoc, ScalarValue, Value, ValueRef,
    transaction::Transactable,
};
use uuid::Uuid;

use super::{HouseholdDoc, Result, SCHEMA_VERSION};
use crate::error::{DocumentError, ValidationError};
use crate::field::Field;

/// The collections every household document holds, each a map created by the first change.
pub(super) const COLLECTIONS: [&str; 3] = ["members", "visits", "referrals"];

/// What each key of an entity's map holds. Household and member keys are their fields' codes.
pub(super) const HOUSEHOLD_KEYS: &[(&str, Field)] = &[
    ("district", Field::District),
    ("address", Field::Address),
    ("phone", Field::Phone),
    ("alt_phone", Field::AltPhone),
    ("status", Field::Status),
    ("head_member_id", Field::HeadMember),
    ("assigned_group", Field::AssignedGroup),
    ("assigned_worker", Field::AssignedWorker),
    ("created_at", Field::CreatedAt),
    ("created_by", Field::CreatedBy),
];
pub(super) const MEMBER_KEYS: &[(&str, Field)] = &[
    ("first_name", Field::FirstName),
    ("last_name", Field::LastName),
    ("national_id", Field::NationalId),
    ("birth_date", Field::BirthDate),
    ("sex", Field::Sex),
    ("relation", Field::Relation),
    ("education", Field::Education),
    ("employment", Field::Employment),
    ("health_notes", Field::HealthNotes),
    ("disability_notes", Field::DisabilityNotes),
];
pub(super) const VISIT_KEYS: &[(&str, Field)] = &[
    ("date", Field::VisitDate),
    ("kind", Field::VisitKind),
    ("worker_id", Field::VisitWorker),
    ("observations", Field::Observations),
    ("followup_date", Field::FollowupDate),
];
pub(super) const REFERRAL_KEYS: &[(&str, Field)] = &[
    ("kind", Field::ReferralKind),
    ("target", Field::Target),
    ("visit_id", Field::ReferralVisit),
];
pub(super) const EVENT_KEYS: &[(&str, Field)] = &[
    ("status", Field::ReferralStatus),
    ("date", Field::StatusDate),
    ("worker_id", Field::StatusWorker),
    ("note", Field::Note),
];

/// The field a key holds in one of the tables above.
pub(super) fn field_of(keys: &[(&str, Field)], key: &str) -> Option<Field> {
    keys.iter().find(|(k, _)| *k == key).map(|(_, f)| *f)
}

/// The key that holds a field in one of the tables above.
pub(super) fn key_of(keys: &[(&'static str, Field)], field: Field) -> Option<&'static str> {
    keys.iter().find(|(_, f)| *f == field).map(|(k, _)| *k)
}

/// Maps nested deeper than this are refused rather than walked: the layout needs four levels
/// (`referrals.<id>.events.<id>`), and a hostile document must not exhaust the stack.
pub(super) const MAX_DEPTH: usize = 16;

pub(super) fn malformed(what: impl Into<String>) -> DocumentError {
    DocumentError::Malformed(what.into())
}

/// The actor id of a device: its UUID's bytes, so every change names the device that made it.
pub fn device_actor(device_id: Uuid) -> ActorId {
    ActorId::from(device_id.as_bytes().as_slice())
}

/// A scalar as text; `None` for kinds that never hold a field's text (bytes, counters, …).
pub(super) fn scalar_text(value: &ScalarValue) -> Option<String> {
    match value {
        ScalarValue::Str(s) => Some(s.to_string()),
        ScalarValue::Int(i) => Some(i.to_string()),
        ScalarValue::Uint(u) => Some(u.to_string()),
        ScalarValue::Boolean(b) => Some(b.to_string()),
        ScalarValue::F64(f) => Some(f.to_string()),
        ScalarValue::Null => Some(String::new()),
        _ => None,
    }
}

/// A value as text, reading an Automerge text object as the string it holds.
pub(super) fn value_text(doc: &AutoCommit, value: &Value<'_>, id: &ObjId) -> Option<String> {
    match value {
        Value::Scalar(s) => scalar_text(s),
        Value::Object(ObjType::Text) => doc.text(id).ok(),
        Value::Object(_) => None,
    }
}

/// Parses a stored UUID (map keys and id fields).
pub(super) fn parse_uuid(field: Field, v: &str) -> Result<Uuid, ValidationError> {
    Uuid::parse_str(v).map_err(|_| ValidationError::Invalid {
        field,
        input: v.to_string(),
        reason: "is not a UUID",
    })
}

/// The keys of one map read in one pass (far cheaper than one lookup per key): text values,
/// child maps, and the keys whose value has a type no field may hold.
pub(super) struct Fields {
    values: HashMap<String, String>,
    pub(super) objects: HashMap<String, ObjId>,
    wrong_type: HashMap<String, &'static str>,
    what: String,
}

impl Fields {
    pub(super) fn of(doc: &AutoCommit, obj: &ObjId, what: String) -> Self {
        let mut values = HashMap::new();
        let mut objects = HashMap::new();
        let mut wrong_type = HashMap::new();
        for item in doc.map_range(obj, ..) {
            let key = item.key.to_string();
            match &item.value {
                ValueRef::Object(ObjType::Map) => {
                    objects.insert(key, item.id());
                }
                value => match value_text(doc, &value.clone().into_value(), &item.id()) {
                    Some(text) => {
                        values.insert(key, text);
                    }
                    None => {
                        let held = match value {
                            ValueRef::Object(ObjType::Text) => "unreadable text",
                            ValueRef::Object(_) => "a list",
                            ValueRef::Scalar(_) => "bytes, a counter or a timestamp",
                        };
                        wrong_type.insert(key, held);
                    }
                },
            }
        }
        Self {
            values,
            objects,
            wrong_type,
            what,
        }
    }

    /// An optional text field; empty counts as absent. A value of a type no field may hold is
    /// an error, never a silent absence.
    pub(super) fn text(&self, key: &str) -> Result<Option<String>> {
        if let Some(kind) = self.wrong_type.get(key) {
            return Err(malformed(format!(
                "{}.{key} holds {kind}, not text",
                self.what
            )));
        }
        Ok(self.values.get(key).filter(|s| !s.is_empty()).cloned())
    }

    pub(super) fn required(&self, key: &str) -> Result<String> {
        self.text(key)?
            .ok_or_else(|| malformed(format!("{} has no {key}", self.what)))
    }

    pub(super) fn parsed<T>(
        &self,
        key: &str,
        parse: impl Fn(&str) -> Result<T, ValidationError>,
    ) -> Result<Option<T>> {
        self.text(key)?
            .map(|v| parse(&v).map_err(|e| malformed(format!("{}.{key}: {e}", self.what))))
            .transpose()
    }

    pub(super) fn required_parsed<T>(
        &self,
        key: &str,
        parse: impl Fn(&str) -> Result<T, ValidationError>,
    ) -> Result<T> {
        self.parsed(key, parse)?
            .ok_or_else(|| malformed(format!("{} has no {key}", self.what)))
    }
}

/// Puts an optional text field: an empty value deletes the key.
pub(super) fn put_opt(
    tx: &mut AutoCommit,
    obj: &ObjId,
    key: &str,
    value: Option<&str>,
) -> Result<()> {
    match value {
        Some(v) if !v.is_empty() => tx.put(obj, key, v)?,
        _ => {
            if tx.get(obj, key)?.is_some() {
                tx.delete(obj, key)?;
            }
        }
    }
    Ok(())
}

/// The schema version a document declares (stored signed; older Madadkar wrote it unsigned).
pub(super) fn declared_version(doc: &AutoCommit) -> Result<Option<u64>> {
    match doc.get(automerge::ROOT, "schema_version")? {
        None => Ok(None),
        Some((Value::Scalar(s), _)) => match s.as_ref() {
            ScalarValue::Uint(v) => Ok(Some(*v)),
            ScalarValue::Int(v) if *v >= 0 => Ok(Some(*v as u64)),
            ScalarValue::F64(v) if v.fract() == 0.0 && *v >= 0.0 => Ok(Some(*v as u64)),
            _ => Err(malformed("schema_version is not a whole number")),
        },
        Some(_) => Err(malformed("schema_version is not a number")),
    }
}

impl HouseholdDoc {
    /// Checks the document is a household this program can read: version, kind, id and maps.
    pub(super) fn check_shape(&self) -> Result<()> {
        let version = declared_version(&self.doc)?.ok_or_else(|| malformed("no schema_version"))?;
        if version > SCHEMA_VERSION {
            return Err(DocumentError::TooNew {
                found: version,
                supported: SCHEMA_VERSION,
            });
        }
        match self.doc.get(automerge::ROOT, "kind")? {
            Some((v, id)) if value_text(&self.doc, &v, &id).as_deref() == Some("household") => {}
            _ => return Err(malformed("kind is not \"household\"")),
        }
        self.id()?;
        Self::collection(&self.doc, "household")?;
        for name in COLLECTIONS {
            Self::collection(&self.doc, name)?;
        }
        Ok(())
    }

    pub(super) fn collection(doc: &AutoCommit, name: &str) -> Result<ObjId> {
        match doc.get(automerge::ROOT, name)? {
            Some((Value::Object(ObjType::Map), id)) => Ok(id),
            _ => Err(malformed(format!("no {name} map"))),
        }
    }

    pub(super) fn entity(&self, collection: &str, kind: &'static str, id: Uuid) -> Result<ObjId> {
        let coll = Self::collection(&self.doc, collection)?;
        match self.doc.get(&coll, id.to_string())? {
            Some((Value::Object(ObjType::Map), obj)) => Ok(obj),
            _ => Err(DocumentError::NotFound {
                kind,
                id: id.to_string(),
            }),
        }
    }

    /// The household's id as the document states it.
    pub fn id(&self) -> Result<Uuid> {
        match self.doc.get(automerge::ROOT, "id")? {
            Some((v, obj)) => value_text(&self.doc, &v, &obj)
                .and_then(|s| Uuid::parse_str(&s).ok())
                .ok_or_else(|| malformed("id is not a UUID")),
            None => Err(malformed("no id")),
        }
    }
}
