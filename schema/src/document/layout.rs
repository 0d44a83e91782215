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
    ("merged_into", Field::MergedInto),
    ("merged_group", Field::MergedGroup),
    ("merged_at", Field::MergedAt),
    ("merged_by", Field::MergedBy),
    ("graduation_threshold", Field::GraduationThreshold),
    ("graduation_visits", Field::GraduationVisits),
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
    ("father_name", Field::FatherName),
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
    ("partner", Field::Partner),
];
pub(super) const EVENT_KEYS: &[(&str, Field)] = &[
    ("status", Field::ReferralStatus),
    ("date", Field::StatusDate),
    ("worker_id", Field::StatusWorker),
    ("note", Field::Note),
    ("amount", Field::Amount),
    ("reason", Field::Reason),
];

/// A visit's review events (`visits.<id>.review.<event id>`), schema version 2.
pub(super) const REVIEW_KEYS: &[(&str, Field)] = &[
    ("action", Field::ReviewAction),
    ("worker_id", Field::WorkerId),
    ("at", Field::Date),
    ("comment", Field::Comment),
    ("field", Field::ReviewField),
];
/// "Not a duplicate" decisions (`not_duplicates.<other household id>`), schema version 2.
pub(super) const DECISION_KEYS: &[(&str, Field)] = &[
    ("reason", Field::Reason),
    ("worker_id", Field::WorkerId),
    ("at", Field::Date),
    ("evidence", Field::Evidence),
];

/// The plan's goals (`goals.<id>`, created on first use), schema version 3. A goal's `steps`
/// map and a step's `progress` map are created with their goal and step.
pub(super) const GOAL_KEYS: &[(&str, Field)] = &[
    ("domain", Field::GoalDomain),
    ("title", Field::GoalTitle),
    ("worker_id", Field::WorkerId),
    ("at", Field::Date),
];
pub(super) const STEP_KEYS: &[(&str, Field)] = &[
    ("what", Field::StepWhat),
    ("owner", Field::StepOwner),
    ("partner", Field::Partner),
    ("target_date", Field::TargetDate),
    ("worker_id", Field::WorkerId),
    ("at", Field::Date),
];
pub(super) const PROGRESS_KEYS: &[(&str, Field)] = &[
    ("status", Field::StepStatus),
    ("comment", Field::Comment),
    ("visit_id", Field::Visit),
    ("worker_id", Field::WorkerId),
    ("at", Field::Date),
];
/// Graduations and re-entries (`status_events.<id>`, created on first use), schema version 3.
pub(super) const STATUS_EVENT_KEYS: &[(&str, Field)] = &[
    ("status", Field::Status),
    ("worker_id", Field::WorkerId),
    ("at", Field::Date),
    ("reason", Field::Reason),
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

/// What is wrong with a value read from a document, without the value itself: a document's
/// errors reach logs, the quarantine list and supervisors' screens, and a value may be a name,
/// a national ID or a note.
pub(super) fn problem(e: &ValidationError) -> String {
    match e {
        ValidationError::NationalId { problem, .. } => format!("national ID: {problem}"),
        ValidationError::Date { field, .. } => format!("{}: not a date", field.label_en()),
        ValidationError::NoSuchDay {
            field, calendar, ..
        } => format!("{}: not a valid {calendar} date", field.label_en()),
        ValidationError::FutureDate { field, .. } => {
            format!("{}: a date in the future", field.label_en())
        }
        ValidationError::NotOneOf { field, allowed, .. } => {
            format!("{}: not one of: {allowed}", field.label_en())
        }
        ValidationError::Invalid { field, reason, .. } => {
            format!("{}: {reason}", field.label_en())
        }
        // These carry no value (lengths and numbers only).
        ValidationError::Required { .. }
        | ValidationError::TooLong { .. }
        | ValidationError::OutOfRange { .. }
        | ValidationError::NothingToChange => e.to_string(),
    }
}

/// The actor id of a device: its UUID's bytes, so every change names the device that made it.
pub fn device_actor(device_id: Uuid) -> ActorId {
    ActorId::from(device_id.as_bytes().as_slice())
}

/// The device an actor is, as text: its id when the actor is a device id (every Madadkar
/// device's is), else the actor's hex (another client's).
pub fn actor_device(actor: &ActorId) -> String {
    Uuid::from_slice(actor.to_bytes())
        .map(|u| u.to_string())
        .unwrap_or_else(|_| actor.to_hex_string())
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
    /// The map itself, for reading what hangs below it.
    pub(super) obj: ObjId,
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
            obj: obj.clone(),
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
            .map(|v| {
                parse(&v).map_err(|e| malformed(format!("{}.{key}: {}", self.what, problem(&e))))
            })
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

/// Maps created after a document's first change, on first use (a visit's `review`, the root's
/// `not_duplicates`). Two replicas may create one concurrently, and Automerge then keeps both
/// objects under the key and shows one: reading every concurrent object and taking the union of
/// their entries (keyed by UUID, so they never collide) loses nothing that either wrote.
pub(super) fn lazy_maps(doc: &AutoCommit, parent: &ObjId, key: &str) -> Result<Vec<ObjId>> {
    Ok(doc
        .get_all(parent, key)?
        .into_iter()
        .filter(|(v, _)| matches!(v, Value::Object(ObjType::Map)))
        .map(|(_, id)| id)
        .collect())
}

/// The map to write a new entry of a lazily created map into: the one Automerge shows, or a
/// new one when there is none.
pub(super) fn lazy_map_for_write(tx: &mut AutoCommit, parent: &ObjId, key: &str) -> Result<ObjId> {
    match tx.get(parent, key)? {
        Some((Value::Object(ObjType::Map), id)) => Ok(id),
        Some(_) => Err(malformed(format!("{key} is not a map"))),
        None => Ok(tx.put_object(parent, key, ObjType::Map)?),
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

/// A household document that arrived from elsewhere (a pull, a bundle), sorted by whether this
/// program may write to it.
#[derive(Debug)]
pub enum Received {
    /// Of a schema version this program reads and writes; it passed every shape check.
    Current(HouseholdDoc),
    /// Written by a newer Madadkar: kept and passed on as it is, never written to.
    Newer(NewerHousehold),
}

/// A household document of a newer schema version than this program's. It is kept whole (every
/// change, so fields this program does not know survive untouched) and can be saved and passed
/// on, but it offers no way to change it: an older program that wrote to a layout it does not
/// know could corrupt it.
#[derive(Debug)]
pub struct NewerHousehold {
    /// Wrapped without the version check; private, so no action can reach it.
    doc: HouseholdDoc,
    version: u64,
}

impl NewerHousehold {
    /// The schema version the document declares.
    pub fn version(&self) -> u64 {
        self.version
    }

    /// The household as far as this program can tell: the document read with this version's
    /// rules, the version check skipped. It fails when the newer layout moved or changed a
    /// field this version needs; it may also miss what the newer version added. Meant for a
    /// read-only view marked "update the app", never for writing.
    pub fn read_known(&self) -> Result<crate::model::Household> {
        self.doc.read()
    }

    pub fn heads(&mut self) -> Vec<automerge::ChangeHash> {
        self.doc.heads()
    }

    pub fn changes_since(&mut self, heads: &[automerge::ChangeHash]) -> Vec<automerge::Change> {
        self.doc.changes_since(heads)
    }

    /// The whole document, history included, compressed.
    pub fn save(&mut self) -> Vec<u8> {
        self.doc.save()
    }

    /// The whole document, history included, without Automerge's own column compression (for
    /// a store or a wire that compresses it better as a whole).
    pub fn save_nocompress(&mut self) -> Vec<u8> {
        self.doc.save_nocompress()
    }
}

impl Received {
    pub fn heads(&mut self) -> Vec<automerge::ChangeHash> {
        match self {
            Self::Current(doc) => doc.heads(),
            Self::Newer(doc) => doc.heads(),
        }
    }

    /// The changes not reachable from `heads` (all changes for `&[]`).
    pub fn changes_since(&mut self, heads: &[automerge::ChangeHash]) -> Vec<automerge::Change> {
        match self {
            Self::Current(doc) => doc.changes_since(heads),
            Self::Newer(doc) => doc.changes_since(heads),
        }
    }

    /// The whole document, history included, compressed.
    pub fn save(&mut self) -> Vec<u8> {
        match self {
            Self::Current(doc) => doc.save(),
            Self::Newer(doc) => doc.save(),
        }
    }

    /// The whole document, history included, without Automerge's own column compression.
    pub fn save_nocompress(&mut self) -> Vec<u8> {
        match self {
            Self::Current(doc) => doc.save_nocompress(),
            Self::Newer(doc) => doc.save_nocompress(),
        }
    }

    /// The Automerge document itself, to merge another copy into before sorting it again.
    pub fn into_automerge(self) -> AutoCommit {
        match self {
            Self::Current(doc) => doc.doc,
            Self::Newer(doc) => doc.doc.doc,
        }
    }
}

impl HouseholdDoc {
    /// Sorts a document that arrived as household `household`. One of this program's version
    /// (or older) must pass every shape check; one of a newer version only those every version
    /// shares (a version number, `kind: "household"`, an id). Either way the id inside must be
    /// `household`: a document never stands in for another household.
    pub fn receive(doc: AutoCommit, household: Uuid) -> Result<Received> {
        let this = Self { doc };
        let received = match this.check_shape() {
            Ok(()) => Received::Current(this),
            Err(DocumentError::TooNew { found, .. }) => {
                this.check_common_shape()?;
                Received::Newer(NewerHousehold {
                    doc: this,
                    version: found,
                })
            }
            Err(e) => return Err(e),
        };
        let inner = match &received {
            Received::Current(doc) => doc.id()?,
            Received::Newer(doc) => doc.doc.id()?,
        };
        if inner != household {
            return Err(malformed(format!(
                "its id is {inner}, not {household}, the household it arrived as"
            )));
        }
        Ok(received)
    }

    /// The checks every schema version shares: it is a household and it names its id.
    fn check_common_shape(&self) -> Result<()> {
        match self.doc.get(automerge::ROOT, "kind")? {
            Some((v, id)) if value_text(&self.doc, &v, &id).as_deref() == Some("household") => {}
            _ => return Err(malformed("kind is not \"household\"")),
        }
        self.id()?;
        Ok(())
    }

    /// Checks the document is a household this program can read: version, kind, id and maps.
    pub(super) fn check_shape(&self) -> Result<()> {
        let version = declared_version(&self.doc)?.ok_or_else(|| malformed("no schema_version"))?;
        if version > SCHEMA_VERSION {
            return Err(DocumentError::TooNew {
                found: version,
                supported: SCHEMA_VERSION,
            });
        }
        self.check_common_shape()?;
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

#[cfg(test)]
mod tests {
    use automerge::{AutoCommit, ObjType, ReadDoc, transaction::Transactable};
    use chrono::Utc;
    use uuid::Uuid;

    use super::*;
    use crate::{ChangeMeta, NationalId, NewHousehold, NewMember, Relation};

    fn household(id: Uuid) -> AutoCommit {
        let head = NewMember {
            national_id: Some(NationalId::with_check_digit(11_000_001)),
            ..NewMember::named("علی", "کریمی", Relation::Head)
        };
        let new = NewHousehold {
            district: "منطقه ۳".into(),
            address: "کوچه یاس".into(),
            ..Default::default()
        };
        let meta = ChangeMeta::new("w", "w", "d");
        let (doc, _) = HouseholdDoc::create(
            device_actor(Uuid::now_v7()),
            id,
            &new,
            &head,
            &meta,
            Utc::now(),
        )
        .expect("create");
        doc.doc
    }

    #[test]
    fn a_received_document_is_sorted_by_version_and_must_carry_its_own_id() {
        let id = Uuid::now_v7();
        assert!(matches!(
            HouseholdDoc::receive(household(id), id),
            Ok(Received::Current(_))
        ));
        let err = HouseholdDoc::receive(household(id), Uuid::now_v7()).expect_err("wrong id");
        assert!(err.to_string().contains(&id.to_string()), "{err}");

        // A newer version may drop a map this one requires and add one it does not know.
        let mut newer = household(id);
        newer
            .put(automerge::ROOT, "schema_version", SCHEMA_VERSION as i64 + 1)
            .expect("put");
        newer.delete(automerge::ROOT, "referrals").expect("delete");
        newer
            .put_object(automerge::ROOT, "reviews", ObjType::Map)
            .expect("put");
        newer.commit();
        match HouseholdDoc::receive(newer.clone(), id).expect("kept") {
            Received::Newer(doc) => {
                assert_eq!(doc.version(), SCHEMA_VERSION + 1);
                // What this version knows of it can no longer be read (no referrals map).
                assert!(doc.read_known().is_err());
            }
            Received::Current(_) => panic!("a newer document sorted as current"),
        }
        // Even a newer document must be a household with its own id.
        assert!(HouseholdDoc::receive(newer.clone(), Uuid::now_v7()).is_err());
        newer
            .put(automerge::ROOT, "kind", "shopping list")
            .expect("put");
        assert!(HouseholdDoc::receive(newer, id).is_err());
    }

    #[test]
    fn a_newer_document_that_kept_the_known_fields_reads_them() {
        let id = Uuid::now_v7();
        let mut newer = household(id);
        newer
            .put(automerge::ROOT, "schema_version", SCHEMA_VERSION as i64 + 1)
            .expect("put");
        newer.commit();
        let Ok(Received::Newer(doc)) = HouseholdDoc::receive(newer, id) else {
            panic!("not sorted as newer");
        };
        let read = doc.read_known().expect("the known fields read");
        assert_eq!(read.id, id);
        assert_eq!(read.members.len(), 1);
    }

    #[test]
    fn a_value_that_does_not_read_is_named_but_not_repeated() {
        let id = Uuid::now_v7();
        let mut doc = household(id);
        let members = match doc.get(automerge::ROOT, "members").expect("get") {
            Some((_, obj)) => obj,
            None => panic!("no members"),
        };
        let (_, member) = doc
            .map_range(&members, ..)
            .map(|item| (item.key.to_string(), item.id()))
            .next()
            .expect("a member");
        doc.put(&member, "national_id", "0499370898").expect("put");
        doc.put(&member, "birth_date", "someday 1361").expect("put");
        doc.commit();
        let doc = HouseholdDoc::from_automerge(doc).expect("shape");
        let err = doc.read().expect_err("a bad national ID").to_string();
        assert!(err.contains("national_id"), "{err}");
        assert!(!err.contains("0499370898"), "the value is repeated: {err}");
    }

    /// Runs `f` on a thread with a small stack: a walk that recursed once per nested map would
    /// overflow it long before 100,000 levels.
    fn on_small_stack<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> T {
        std::thread::Builder::new()
            .stack_size(256 * 1024)
            .spawn(f)
            .expect("spawn")
            .join()
            .expect("the walk overflowed or panicked")
    }

    #[test]
    fn maps_nested_100_000_deep_are_read_within_bounds() {
        let id = Uuid::now_v7();
        let mut raw = household(id);
        let mut obj = match raw.get(automerge::ROOT, "household").expect("get") {
            Some((_, obj)) => obj,
            None => panic!("no household map"),
        };
        for _ in 0..100_000 {
            obj = raw.put_object(&obj, "deeper", ObjType::Map).expect("nest");
        }
        raw.commit();
        let bytes = raw.save();
        let changes: Vec<Vec<u8>> = raw
            .get_changes(&[])
            .iter()
            .map(|c| c.raw_bytes().to_vec())
            .collect();
        let outcome = on_small_stack(move || {
            // Applying the changes one by one (as a pull does) and loading the saved whole.
            let mut applied = HouseholdDoc::from_parts(None, changes.iter().map(Vec::as_slice))
                .expect("the changes apply");
            assert_eq!(applied.save().len(), bytes.len());
            let mut doc = HouseholdDoc::load(&bytes).expect("the shape is fine");
            let read = doc.read().map(|_| ());
            let paths = doc.conflict_paths().map(|_| ());
            let conflicts = doc.conflicts().map(|_| ());
            let history = doc.history().len();
            (
                read.is_ok(),
                paths.err().map(|e| e.to_string()),
                conflicts.is_err(),
                history,
            )
        });
        let (read_ok, paths_err, conflicts_err, history) = outcome;
        assert!(read_ok, "the known fields read");
        let paths_err = paths_err.expect("the conflict scan refuses the depth");
        assert!(paths_err.contains("nested deeper"), "{paths_err}");
        assert!(conflicts_err);
        assert_eq!(history, 2);
    }
}
