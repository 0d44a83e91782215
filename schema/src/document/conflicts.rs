//! Conflicts: fields holding several concurrent values, who wrote each, and resolving one with
//! a change that supersedes them all. Resolution validates the value through the same field
//! table as editing ([`Field::validate`]).

use automerge::{ObjId, ObjType, ReadDoc, ScalarValue, Value, ValueRef, transaction::Transactable};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::layout::{HOUSEHOLD_KEYS, MEMBER_KEYS, REFERRAL_KEYS, VISIT_KEYS};
use super::layout::{MAX_DEPTH, key_of, malformed, value_text};
use super::meta::{Action, ChangeMeta, change_time};
use super::{FieldPath, HouseholdDoc, Result};
use crate::error::DocumentError;
use crate::field::{Field, FieldValue};

/// A field that holds several concurrent values.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct Conflict {
    /// Where the field is (`household.phone`, `members.<id>.national_id`, …).
    pub path: FieldPath,
    /// The field at the end of the path, when this version knows it.
    pub field: Option<Field>,
    /// The path's name for people, in Persian and in English.
    pub label_fa: String,
    pub label_en: String,
    /// The value the program shows meanwhile (Automerge's deterministic pick).
    pub current: String,
    pub values: Vec<ConflictValue>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct ConflictValue {
    pub value: String,
    pub worker_id: String,
    pub worker_name: String,
    /// The device that wrote the value: the change's actor, not what its message claims.
    pub device_id: String,
    /// When its author's clock says it was written; `None` when the change carries no time.
    pub time: Option<DateTime<Utc>>,
    /// Whether the worker's names come from the server's records (see `ChangeInfo::verified`).
    #[serde(default)]
    pub verified: bool,
}

/// A conflicted field found in the document: its keys, the shown value, every distinct value.
struct Found {
    keys: Vec<String>,
    current: String,
    values: Vec<(String, ObjId)>,
}

impl HouseholdDoc {
    /// Every field holding more than one distinct concurrent value, with who wrote each and when.
    pub fn conflicts(&mut self) -> Result<Vec<Conflict>> {
        let mut found = Vec::new();
        self.collect_conflicts(&mut found)?;
        let mut conflicts = Vec::with_capacity(found.len());
        for Found {
            keys,
            current,
            values,
        } in found
        {
            let mut out: Vec<ConflictValue> = values
                .into_iter()
                .map(|(value, opid)| self.author_of(value, &opid))
                .collect();
            out.sort_by(|a, b| (a.time, &a.value).cmp(&(b.time, &b.value)));
            let path = FieldPath::from_keys(&keys);
            conflicts.push(Conflict {
                field: path.field(),
                label_fa: path.label_fa(),
                label_en: path.label_en(),
                path,
                current,
                values: out,
            });
        }
        Ok(conflicts)
    }

    /// Who wrote a value and when, from the change that holds the operation.
    fn author_of(&mut self, value: String, opid: &ObjId) -> ConflictValue {
        let change = self
            .doc
            .hash_for_opid(opid)
            .and_then(|h| self.doc.get_change_by_hash(&h));
        let message = change
            .as_ref()
            .and_then(|c| c.message().map(str::to_string));
        let meta = ChangeMeta::decode(message.as_deref());
        let device_id = change
            .as_ref()
            .map(|c| super::layout::actor_device(c.actor_id()))
            .unwrap_or(meta.device_id);
        let time = change.and_then(|c| change_time(c.timestamp()));
        ConflictValue {
            value,
            worker_id: meta.worker_id,
            worker_name: meta.worker_name,
            device_id,
            time,
            verified: false,
        }
    }

    /// The value a field holds now (Automerge's pick, if in conflict) and who wrote it; `None`
    /// when the field is empty or the entity is not in this household. `authors: false` skips
    /// looking the author up (cheap; the author fields are left empty).
    pub fn value_at(&mut self, path: &FieldPath, authors: bool) -> Result<Option<ConflictValue>> {
        let Ok((obj, key)) = self.resolve_target(path) else {
            return Ok(None);
        };
        let Some((value, id)) = self.doc.get(&obj, key.as_str())? else {
            return Ok(None);
        };
        let text = value_text(&self.doc, &value, &id).unwrap_or_default();
        if text.is_empty() {
            return Ok(None);
        }
        Ok(Some(if authors {
            self.author_of(text, &id)
        } else {
            ConflictValue {
                value: text,
                worker_id: String::new(),
                worker_name: String::new(),
                device_id: String::new(),
                time: None,
                verified: false,
            }
        }))
    }

    /// The paths of the fields in conflict, without looking up who wrote what (cheap).
    pub fn conflict_paths(&self) -> Result<Vec<FieldPath>> {
        let mut found = Vec::new();
        self.collect_conflicts(&mut found)?;
        Ok(found
            .iter()
            .map(|f| FieldPath::from_keys(&f.keys))
            .collect())
    }

    /// Walks every map of the document, depth first, without recursion: a work list of maps
    /// still to look at, refusing maps nested deeper than [`MAX_DEPTH`]. A hostile document can
    /// neither exhaust the stack nor make the walk go on without end.
    fn collect_conflicts(&self, out: &mut Vec<Found>) -> Result<()> {
        let mut pending: Vec<(ObjId, Vec<String>)> = vec![(automerge::ROOT, Vec::new())];
        while let Some((obj, keys)) = pending.pop() {
            if keys.len() > MAX_DEPTH {
                return Err(malformed(format!("maps nested deeper than {MAX_DEPTH}")));
            }
            // One pass over the map; only keys Automerge flags as conflicted are looked at
            // closely.
            let mut children = Vec::new();
            for item in self.doc.map_range(&obj, ..) {
                let is_map = matches!(item.value, ValueRef::Object(ObjType::Map));
                // Most values are plain fields without a conflict: nothing to note, so no
                // path is built for them.
                if !is_map && !item.conflict {
                    continue;
                }
                let key = item.key.to_string();
                let mut path = keys.clone();
                path.push(key.clone());
                if is_map {
                    children.push((item.id(), path.clone()));
                }
                if !item.conflict {
                    continue;
                }
                let mut distinct: Vec<(String, ObjId)> = Vec::new();
                for (value, id) in self.doc.get_all(&obj, key.as_str())? {
                    if let Some(text) = value_text(&self.doc, &value, &id)
                        && !distinct.iter().any(|(t, _)| *t == text)
                    {
                        distinct.push((text, id));
                    }
                }
                if distinct.len() > 1 {
                    let shown = item.value.clone().into_value();
                    let current = value_text(&self.doc, &shown, &item.id()).unwrap_or_default();
                    out.push(Found {
                        keys: path,
                        current,
                        values: distinct,
                    });
                }
            }
            // Last pushed is walked first: reversed, the children keep the map's key order.
            pending.extend(children.into_iter().rev());
        }
        Ok(())
    }

    /// Settles a field in conflict (or simply sets it) with a new change that supersedes every
    /// concurrent value. The value goes through the field's own validation ([`Field::validate`]):
    /// an optional field may be cleared, a required one may not.
    pub fn resolve(
        &mut self,
        path: &FieldPath,
        value: &str,
        meta: &ChangeMeta,
        now: DateTime<Utc>,
    ) -> Result<()> {
        let (obj, key) = self.resolve_target(path)?;
        let field = path
            .field()
            .ok_or_else(|| DocumentError::UnknownField(path.to_string()))?;
        let today = now.date_naive();
        let value = field
            .validate(value, today)
            .ok_or_else(|| DocumentError::NotSettable(path.to_string()))??;
        let meta = meta.action(
            Action::ConflictResolve,
            Some(path.to_string()),
            vec![key.clone()],
        );
        self.transact(&meta, now, |tx| {
            match value {
                FieldValue::Text(text) => tx.put(&obj, key.as_str(), text)?,
                FieldValue::Score(score) => {
                    tx.put(&obj, key.as_str(), ScalarValue::Int(i64::from(score)))?
                }
                FieldValue::Clear => {
                    if tx.get(&obj, key.as_str())?.is_some() {
                        tx.delete(&obj, key.as_str())?;
                    }
                }
            }
            Ok(())
        })
    }

    /// The map and key a path points at; an entity that does not exist is an error.
    fn resolve_target(&self, path: &FieldPath) -> Result<(ObjId, String)> {
        let unknown = || DocumentError::UnknownField(path.to_string());
        let key = |keys, field| key_of(keys, field).map(str::to_string).ok_or_else(unknown);
        match path {
            FieldPath::Household(field) => Ok((
                Self::collection(&self.doc, "household")?,
                key(HOUSEHOLD_KEYS, *field)?,
            )),
            FieldPath::Member { member, field } => Ok((
                self.entity("members", "member", *member)?,
                key(MEMBER_KEYS, *field)?,
            )),
            FieldPath::Visit { visit, field } => Ok((
                self.entity("visits", "visit", *visit)?,
                key(VISIT_KEYS, *field)?,
            )),
            FieldPath::Need { visit, domain } => {
                let v = self.entity("visits", "visit", *visit)?;
                match self.doc.get(&v, "needs")? {
                    Some((Value::Object(ObjType::Map), needs)) => Ok((needs, domain.code().into())),
                    _ => Err(unknown()),
                }
            }
            FieldPath::Referral { referral, field } => Ok((
                self.entity("referrals", "referral", *referral)?,
                key(REFERRAL_KEYS, *field)?,
            )),
            FieldPath::ReferralEvent { .. } => {
                // Events are a referral's record of what happened; a new status is a new event.
                Err(DocumentError::NotSettable(path.to_string()))
            }
            FieldPath::Other(_) => Err(unknown()),
        }
    }
}
