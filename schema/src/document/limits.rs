//! Bounds on a whole household document, and the one check a document passes before a server
//! stores it ([`HouseholdDoc::check_for_storage`]). The bounds are checked by a walk with an
//! explicit stack (never recursion), so a hostile document (maps nested 100,000 deep, a million
//! keys, a text of a gigabyte) is refused before anything that recurses or reads whole values
//! touches it.

use automerge::{
    AutoCommit, Change, ObjId, ObjType, Prop, ReadDoc, ScalarValue, ScalarValueRef, Value, ValueRef,
};
use uuid::Uuid;

use super::layout::{
    COLLECTIONS, DECISION_KEYS, EVENT_KEYS, GOAL_KEYS, HOUSEHOLD_KEYS, MAX_DEPTH, MEMBER_KEYS,
    PROGRESS_KEYS, REFERRAL_KEYS, REVIEW_KEYS, STATUS_EVENT_KEYS, STEP_KEYS, VISIT_KEYS,
    declared_version, field_of, malformed, value_text,
};
use super::{HouseholdDoc, Result, SCHEMA_VERSION};
use crate::error::DocumentError;
use crate::field::Field;
use crate::model::limits as field;

/// The most keys one map may hold. The widest map of the layout is a household's `visits`:
/// weekly visits for twenty years stay near 1,000.
pub const MAX_MAP_KEYS: usize = 10_000;
/// The most elements of a list (the layout has none; another client's or a newer version's).
pub const MAX_LIST_LEN: usize = 10_000;
/// The most objects (maps, lists, texts) in a document, concurrent values included. A large
/// household (20 members, 1,000 visits, 100 referrals) holds about 2,500.
pub const MAX_OBJECTS: usize = 50_000;
/// The longest map key. Keys of the layout are field names and UUIDs (36 characters).
pub const MAX_KEY_CHARS: usize = 200;
/// The longest string at a key this version does not know (a newer version's field): generous,
/// since its meaning is unknown, yet far from what a memory bomb needs.
pub const MAX_UNKNOWN_CHARS: usize = 65_536;
/// The longest string of a known field without a length rule of its own (codes, dates, ids,
/// phone numbers, times).
pub const MAX_SHORT_CHARS: usize = 100;
/// All strings of a document together, in characters.
pub const MAX_TOTAL_CHARS: usize = 16 * 1024 * 1024;

/// What a map or list is in the layout, which says which keys it holds and how long their
/// strings may be.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Place {
    Root,
    /// The household's own fields.
    Household,
    /// `members`, `visits` or `referrals`: entities keyed by UUID.
    Collection(&'static [(&'static str, Field)]),
    /// One member, visit or referral.
    Entity(&'static [(&'static str, Field)]),
    /// A visit's `needs`.
    Needs,
    /// A referral's `events`.
    Events,
    /// A visit's `review`.
    Review,
    /// Anywhere this version's layout does not name.
    Unknown,
}

impl Place {
    /// Where the value at `key` of a map of this place lives, if it is an object.
    fn child(self, key: &str) -> Self {
        match (self, key) {
            (Self::Root, "household") => Self::Household,
            (Self::Root, "members") => Self::Collection(MEMBER_KEYS),
            (Self::Root, "visits") => Self::Collection(VISIT_KEYS),
            (Self::Root, "referrals") => Self::Collection(REFERRAL_KEYS),
            (Self::Root, "not_duplicates") => Self::Collection(DECISION_KEYS),
            (Self::Root, "goals") => Self::Collection(GOAL_KEYS),
            (Self::Root, "status_events") => Self::Collection(STATUS_EVENT_KEYS),
            (Self::Entity(keys), "steps") if keys == GOAL_KEYS => Self::Collection(STEP_KEYS),
            (Self::Entity(keys), "progress") if keys == STEP_KEYS => {
                Self::Collection(PROGRESS_KEYS)
            }
            (Self::Collection(keys), _) => Self::Entity(keys),
            (Self::Entity(keys), "needs") if keys == VISIT_KEYS => Self::Needs,
            (Self::Entity(keys), "events") if keys == REFERRAL_KEYS => Self::Events,
            (Self::Events, _) => Self::Entity(EVENT_KEYS),
            (Self::Entity(keys), "review") if keys == VISIT_KEYS => Self::Review,
            (Self::Review, _) => Self::Entity(REVIEW_KEYS),
            _ => Self::Unknown,
        }
    }

    /// The most characters a string at `key` of a map of this place may hold.
    fn max_chars(self, key: &str) -> usize {
        let known = match self {
            Self::Root => ["schema_version", "kind", "id"]
                .contains(&key)
                .then_some(MAX_SHORT_CHARS),
            Self::Household => field_of(HOUSEHOLD_KEYS, key).map(field_chars),
            Self::Entity(keys) => field_of(keys, key).map(field_chars),
            Self::Needs => Some(MAX_SHORT_CHARS),
            Self::Collection(_) | Self::Events | Self::Review | Self::Unknown => None,
        };
        known.unwrap_or(MAX_UNKNOWN_CHARS)
    }
}

/// The most characters a field's stored value may hold: its input rule's limit, or
/// [`MAX_SHORT_CHARS`] for fields whose format is shorter anyway.
fn field_chars(f: Field) -> usize {
    match f {
        Field::District => field::DISTRICT,
        Field::Address => field::ADDRESS,
        Field::FirstName | Field::LastName => field::NAME,
        Field::Target | Field::GoalTitle | Field::StepWhat => field::TARGET,
        Field::Partner => field::WORKER_ID,
        Field::HealthNotes
        | Field::DisabilityNotes
        | Field::Note
        | Field::Comment
        | Field::Reason
        | Field::Evidence => field::NOTES,
        Field::FatherName => field::NAME,
        Field::MergedGroup | Field::MergedBy | Field::WorkerId => field::WORKER_ID,
        Field::Observations => field::OBSERVATIONS,
        Field::AssignedGroup
        | Field::AssignedWorker
        | Field::CreatedBy
        | Field::VisitWorker
        | Field::StatusWorker => field::WORKER_ID,
        _ => MAX_SHORT_CHARS,
    }
}

/// The characters (or bytes) a scalar counts for against the bounds.
fn scalar_chars(scalar: &ScalarValueRef<'_>) -> usize {
    match scalar {
        ScalarValueRef::Str(s) => s.chars().count(),
        ScalarValueRef::Bytes(b) | ScalarValueRef::Unknown { bytes: b, .. } => b.len(),
        _ => 0,
    }
}

/// An object waiting to be walked: where it is, how deep, and the path for messages.
struct Pending {
    obj: ObjId,
    kind: ObjType,
    place: Place,
    depth: usize,
    /// For a text object: the most characters its key's field may hold.
    max_chars: usize,
    path: String,
}

/// The walk's running totals.
struct Walk<'a> {
    doc: &'a AutoCommit,
    stack: Vec<Pending>,
    objects: usize,
    chars: usize,
}

fn over(what: impl Into<String>, limit: usize) -> DocumentError {
    DocumentError::OverLimit {
        what: what.into(),
        limit,
    }
}

/// A map key as messages may quote it: a UUID or a lower-case field name. Anything else (a
/// hostile document may use a name or a national ID as a key) is not repeated.
fn shown_key(key: &str) -> &str {
    let field_name = key.len() <= 40 && key.bytes().all(|b| b.is_ascii_lowercase() || b == b'_');
    if field_name || Uuid::parse_str(key).is_ok() {
        key
    } else {
        "<key>"
    }
}

impl<'a> Walk<'a> {
    /// Checks one value found at `path`: a scalar's size, or an object queued for its own turn.
    fn value(
        &mut self,
        value: ValueRef<'_>,
        id: ObjId,
        place: Place,
        max_chars: usize,
        depth: usize,
        path: String,
    ) -> Result<()> {
        match value {
            ValueRef::Object(kind) => {
                self.objects += 1;
                if self.objects > MAX_OBJECTS {
                    return Err(over("the number of objects", MAX_OBJECTS));
                }
                if depth + 1 > MAX_DEPTH {
                    return Err(over(format!("the nesting at {path}"), MAX_DEPTH));
                }
                self.stack.push(Pending {
                    obj: id,
                    kind,
                    place,
                    depth: depth + 1,
                    max_chars,
                    path,
                });
                Ok(())
            }
            ValueRef::Scalar(scalar) => self.count(scalar_chars(&scalar), max_chars, &path),
        }
    }

    fn count(&mut self, chars: usize, max_chars: usize, path: &str) -> Result<()> {
        if chars > max_chars {
            return Err(over(format!("the length of {path}"), max_chars));
        }
        self.chars += chars;
        if self.chars > MAX_TOTAL_CHARS {
            return Err(over("the text of the whole document", MAX_TOTAL_CHARS));
        }
        Ok(())
    }

    /// Every value at one key or index: the visible one, or all concurrent ones when the key
    /// is in conflict (a losing value is kept and may surface later, so it is bounded too).
    fn values_at(
        &mut self,
        at: &Pending,
        prop: Prop,
        shown: (ValueRef<'_>, ObjId),
        conflict: bool,
        place: Place,
        max_chars: usize,
    ) -> Result<()> {
        let path = || match &prop {
            Prop::Map(key) => format!("{}.{}", at.path, shown_key(key)),
            Prop::Seq(i) => format!("{}[{i}]", at.path),
        };
        if !conflict {
            // A scalar within its bounds (almost every value) needs no path: it is made only
            // for an object, which carries it, or for the error naming where a bound is broken.
            if let ValueRef::Scalar(scalar) = &shown.0 {
                let chars = scalar_chars(scalar);
                if chars <= max_chars && self.chars + chars <= MAX_TOTAL_CHARS {
                    self.chars += chars;
                    return Ok(());
                }
            }
            return self.value(shown.0, shown.1, place, max_chars, at.depth, path());
        }
        let path = path();
        for (value, id) in self.doc.get_all(&at.obj, prop)? {
            let value = match value {
                Value::Object(kind) => ValueRef::Object(kind),
                Value::Scalar(s) => ValueRef::Scalar(ScalarValueRef::from(s.into_owned())),
            };
            self.value(value, id, place, max_chars, at.depth, path.clone())?;
        }
        Ok(())
    }

    fn map(&mut self, at: &Pending) -> Result<()> {
        let mut keys = 0usize;
        for item in self.doc.map_range(&at.obj, ..) {
            keys += 1;
            if keys > MAX_MAP_KEYS {
                return Err(over(format!("the keys of {}", at.path), MAX_MAP_KEYS));
            }
            if item.key.chars().count() > MAX_KEY_CHARS {
                return Err(over(format!("a key in {}", at.path), MAX_KEY_CHARS));
            }
            let key = item.key.to_string();
            let (place, max_chars) = (at.place.child(&key), at.place.max_chars(&key));
            let shown = (item.value.clone(), item.id());
            self.values_at(at, Prop::Map(key), shown, item.conflict, place, max_chars)?;
        }
        Ok(())
    }

    fn list(&mut self, at: &Pending) -> Result<()> {
        let len = self.doc.length(&at.obj);
        if len > MAX_LIST_LEN {
            return Err(over(format!("the length of {}", at.path), MAX_LIST_LEN));
        }
        for item in self.doc.list_range(&at.obj, ..) {
            let shown = (item.value.clone(), item.id());
            let prop = Prop::Seq(item.index);
            self.values_at(
                at,
                prop,
                shown,
                item.conflict,
                Place::Unknown,
                MAX_UNKNOWN_CHARS,
            )?;
        }
        Ok(())
    }

    /// A text object: its length is read without building the string, and the string is built
    /// only once it is known to be small. Automerge counts text in code points, UTF-8 or UTF-16
    /// units, or graphemes; a code point is at most four of any, so a length beyond four times
    /// the limit is over it whatever the counting.
    fn text(&mut self, at: &Pending, max_chars: usize) -> Result<()> {
        if self.doc.length(&at.obj) > max_chars.saturating_mul(4) {
            return Err(over(format!("the length of {}", at.path), max_chars));
        }
        let chars = self.doc.text(&at.obj)?.chars().count();
        self.count(chars, max_chars, &at.path)
    }
}

/// Checks a whole document against the bounds of this module, without recursion: depth at most
/// [`MAX_DEPTH`], keys per map, list and text lengths, string sizes (a field's own limit, a
/// generous one for keys this version does not know), the number of objects and of characters.
pub(super) fn check_bounds(doc: &AutoCommit) -> Result<()> {
    let mut walk = Walk {
        doc,
        stack: vec![Pending {
            obj: automerge::ROOT,
            kind: ObjType::Map,
            place: Place::Root,
            depth: 0,
            max_chars: 0,
            path: "the document".into(),
        }],
        objects: 0,
        chars: 0,
    };
    while let Some(at) = walk.stack.pop() {
        match at.kind {
            ObjType::Map | ObjType::Table => walk.map(&at)?,
            ObjType::List => walk.list(&at)?,
            ObjType::Text => walk.text(&at, at.max_chars)?,
        }
    }
    Ok(())
}

impl HouseholdDoc {
    /// Everything a server checks before it stores a household, so that no replica that pulls
    /// it can fail on it: no schema version newer than this program's (all concurrent values),
    /// the bounds of this module (checked first, by a walk that never recurses), the layout's
    /// shape, an `id` whose every concurrent value is `household`, each collection held by one
    /// map (a second, concurrent map would hide the entities of the first), no change whose
    /// history is missing, a document that reads into the domain model (national id check
    /// digits, codes, dates, scores), and conflicts and history that can be listed.
    pub fn check_for_storage(&mut self, household: Uuid) -> Result<()> {
        self.check_document(household)?;
        self.history();
        Ok(())
    }

    /// [`Self::check_for_storage`] but for listing the history, which the caller does for the
    /// changes it has not listed before; returns the household read for the check.
    fn check_document(&mut self, household: Uuid) -> Result<crate::Household> {
        self.check_versions()?;
        check_bounds(&self.doc)?;
        self.check_shape()?;
        self.check_ids(household)?;
        for name in ["household"].into_iter().chain(COLLECTIONS) {
            let held = self.doc.get_all(automerge::ROOT, name)?.len();
            if held > 1 {
                return Err(malformed(format!(
                    "{name} is held by {held} concurrent maps; a collection is created once"
                )));
            }
        }
        if !self.missing_dependencies().is_empty() {
            return Err(malformed("some changes build on changes it does not hold"));
        }
        let read = self.read()?;
        self.conflicts()?;
        Ok(read)
    }

    /// The document that `stored` (the changes held for `household`; an empty document for a
    /// household new to the holder) becomes with the `received` changes, checked with
    /// [`Self::check_for_storage`]. A received change may also not replace a map that `stored`
    /// holds for the household's fields or a collection: replicas that merge it would lose
    /// sight of every entity in the old map.
    ///
    /// Automerge 0.12 applies, saves, loads and merges documents without recursion (tried with
    /// maps and lists nested 1,000,000 deep on a 2 MiB stack), so the changes are applied
    /// first and the bounds checked on the result before anything that recurses reads it.
    pub fn check_received(
        stored: AutoCommit,
        received: Vec<Change>,
        household: Uuid,
    ) -> Result<Self> {
        Ok(Self::check_received_read(stored, received, household)?.0)
    }

    /// [`Self::check_received`], with the household read from the result: a caller that needs
    /// it (the server's facts) does not read the document twice. `stored` must be a document
    /// that passed these checks (what a server stored after checking it): its history was
    /// listed then, so only the received changes' history is listed now, which keeps the
    /// check's cost from growing with the changes stored before.
    pub fn check_received_read(
        mut stored: AutoCommit,
        received: Vec<Change>,
        household: Uuid,
    ) -> Result<(Self, crate::Household)> {
        super::history::list(&received);
        let mut kept = Vec::new();
        for name in ["household"].into_iter().chain(COLLECTIONS) {
            if let Some((Value::Object(ObjType::Map), id)) = stored.get(automerge::ROOT, name)? {
                kept.push((name, id));
            }
        }
        // Automerge panics on some malformed changes: a panic is a refusal, not a crash.
        super::untrusted("the received changes", || stored.apply_changes(received))??;
        for (name, id) in kept {
            let now = stored.get(automerge::ROOT, name)?.map(|(_, now)| now);
            if now.as_ref() != Some(&id) {
                return Err(malformed(format!(
                    "a change replaces or deletes the {name} map; add inside it instead"
                )));
            }
        }
        let mut doc = Self { doc: stored };
        let read = doc.check_document(household)?;
        Ok((doc, read))
    }

    /// Every concurrent value of `schema_version` is a version this program knows: a losing
    /// value of a newer version may win again once the winning one is deleted.
    fn check_versions(&self) -> Result<()> {
        declared_version(&self.doc)?;
        for (value, _) in self.doc.get_all(automerge::ROOT, "schema_version")? {
            let version = match &value {
                Value::Scalar(s) => match s.as_ref() {
                    ScalarValue::Uint(v) => Some(*v),
                    ScalarValue::Int(v) => u64::try_from(*v).ok(),
                    ScalarValue::F64(v) if v.fract() == 0.0 && *v >= 0.0 => Some(*v as u64),
                    _ => None,
                },
                Value::Object(_) => None,
            };
            match version {
                Some(found) if found > SCHEMA_VERSION => {
                    return Err(DocumentError::TooNew {
                        found,
                        supported: SCHEMA_VERSION,
                    });
                }
                Some(_) => {}
                None => return Err(malformed("schema_version is not a whole number")),
            }
        }
        Ok(())
    }

    /// Every concurrent value of `id` names `household`.
    fn check_ids(&self, household: Uuid) -> Result<()> {
        for (value, id) in self.doc.get_all(automerge::ROOT, "id")? {
            let text = value_text(&self.doc, &value, &id).unwrap_or_default();
            if Uuid::parse_str(&text).ok() != Some(household) {
                return Err(DocumentError::WrongId {
                    expected: household,
                });
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use automerge::{ActorId, ObjType, ROOT, transaction::Transactable};
    use chrono::Utc;

    use super::*;
    use crate::{ChangeMeta, NewHousehold, NewMember, Relation};

    fn household() -> (HouseholdDoc, Uuid, Uuid) {
        let id = Uuid::now_v7();
        let (doc, head) = HouseholdDoc::create(
            ActorId::random(),
            id,
            &NewHousehold {
                district: "منطقه ۳".into(),
                address: "کوچه یاس".into(),
                ..Default::default()
            },
            &NewMember::named("علی", "کریمی", Relation::Head),
            &ChangeMeta::new("w", "w", "d"),
            Utc::now(),
        )
        .expect("create");
        (doc, id, head)
    }

    fn obj(doc: &mut HouseholdDoc, path: &[&str]) -> ObjId {
        let mut at = ROOT;
        for key in path {
            at = match doc.automerge().get(&at, *key).expect("get") {
                Some((Value::Object(_), id)) => id,
                other => panic!("{key}: {other:?}"),
            };
        }
        at
    }

    /// Changes the document with `write` as one commit, then runs the storage check.
    fn after(
        write: impl FnOnce(&mut AutoCommit, &ObjId),
        path: &[&str],
    ) -> Result<(), DocumentError> {
        let (mut doc, id, head) = household();
        let head = head.to_string();
        let path: Vec<&str> = path
            .iter()
            .map(|k| if *k == "HEAD" { head.as_str() } else { k })
            .collect();
        let at = obj(&mut doc, &path);
        write(doc.automerge(), &at);
        doc.automerge().commit();
        doc.check_for_storage(id)
    }

    fn over_limit(result: Result<(), DocumentError>, limit: usize) {
        match result {
            Err(DocumentError::OverLimit { limit: l, .. }) if l == limit => {}
            other => panic!("expected over the limit of {limit}, got {other:?}"),
        }
    }

    #[test]
    fn a_household_made_by_madadkar_passes() {
        let (mut doc, id, _) = household();
        doc.check_for_storage(id).expect("valid");
        let other = Uuid::now_v7();
        assert!(matches!(
            doc.check_for_storage(other),
            Err(DocumentError::WrongId { expected, .. }) if expected == other
        ));
    }

    #[test]
    fn nesting_is_refused_past_the_depth_without_recursion() {
        let nest = |levels: usize| {
            move |doc: &mut AutoCommit, at: &ObjId| {
                let mut at = at.clone();
                for _ in 0..levels {
                    at = doc.put_object(&at, "x", ObjType::Map).expect("nest");
                }
            }
        };
        // Under the root, an object at depth MAX_DEPTH is the deepest allowed.
        after(nest(MAX_DEPTH), &[]).expect("deep but within the bound");
        over_limit(after(nest(MAX_DEPTH + 1), &[]), MAX_DEPTH);
        // 100,000 levels (one change of 100,000 operations) neither crash nor pass.
        over_limit(after(nest(100_000), &["members", "HEAD"]), MAX_DEPTH);
        // Lists count as levels too.
        let lists = |doc: &mut AutoCommit, at: &ObjId| {
            let mut at = doc.put_object(at, "l", ObjType::List).expect("list");
            for _ in 0..MAX_DEPTH {
                at = doc.insert_object(&at, 0, ObjType::List).expect("nest");
            }
        };
        over_limit(after(lists, &[]), MAX_DEPTH);
    }

    /// What a server does with a change nesting maps 100,000 deep, received as bytes: parsed
    /// within bounds, applied to the stored document and checked, on a thread whose stack
    /// (256 KiB) a walk recursing once per level would overflow long before the bottom.
    #[test]
    fn a_received_change_nesting_100_000_deep_is_refused_on_a_small_stack() {
        let (mut doc, id, head) = household();
        let stored = doc.automerge().clone();
        let heads = doc.heads();
        let members = obj(&mut doc, &["members", &head.to_string()]);
        let mut at = members;
        for _ in 0..100_000 {
            at = doc
                .automerge()
                .put_object(&at, "x", ObjType::Map)
                .expect("nest");
        }
        doc.automerge().commit();
        let bytes: Vec<Vec<u8>> = doc
            .changes_since(&heads)
            .iter_mut()
            .map(|c| c.bytes().to_vec())
            .collect();
        let outcome = std::thread::Builder::new()
            .stack_size(256 * 1024)
            .spawn(move || {
                let received = bytes
                    .iter()
                    .map(|b| crate::change::parse_change(b).expect("within the change bounds"))
                    .collect();
                HouseholdDoc::check_received(stored, received, id).map(|_| ())
            })
            .expect("spawn")
            .join()
            .expect("the check overflowed its stack or panicked");
        over_limit(outcome, MAX_DEPTH);
    }

    #[test]
    fn a_deep_value_hidden_behind_a_concurrent_one_is_found() {
        let (mut doc, id, _) = household();
        let mut other = doc.automerge().fork().with_actor(ActorId::random());
        let mut at = other.put_object(ROOT, "extra", ObjType::Map).expect("map");
        for _ in 0..50 {
            at = other.put_object(&at, "x", ObjType::Map).expect("nest");
        }
        other.commit();
        doc.automerge().put(ROOT, "extra", "shown").expect("put");
        doc.automerge().commit();
        doc.automerge().merge(&mut other).expect("merge");
        over_limit(doc.check_for_storage(id), MAX_DEPTH);
    }

    #[test]
    fn field_lengths_are_their_input_limits_in_characters() {
        let name = |n: usize| {
            move |doc: &mut AutoCommit, at: &ObjId| {
                doc.put(at, "first_name", "ع".repeat(n)).expect("put");
            }
        };
        after(name(field::NAME), &["members", "HEAD"]).expect("a full-length Persian name");
        over_limit(
            after(name(field::NAME + 1), &["members", "HEAD"]),
            field::NAME,
        );
        // The same through a text object, as other clients write strings.
        let text = |n: usize| {
            move |doc: &mut AutoCommit, at: &ObjId| {
                let t = doc.put_object(at, "address", ObjType::Text).expect("text");
                doc.splice_text(&t, 0, 0, &"ی".repeat(n)).expect("splice");
            }
        };
        after(text(field::ADDRESS), &["household"]).expect("a full-length address");
        over_limit(
            after(text(field::ADDRESS + 1), &["household"]),
            field::ADDRESS,
        );
        let unknown = |n: usize| {
            move |doc: &mut AutoCommit, at: &ObjId| {
                doc.put(at, "future_field", "a".repeat(n)).expect("put");
            }
        };
        after(unknown(MAX_UNKNOWN_CHARS), &["members", "HEAD"]).expect("a newer field");
        over_limit(
            after(unknown(MAX_UNKNOWN_CHARS + 1), &["members", "HEAD"]),
            MAX_UNKNOWN_CHARS,
        );
    }

    #[test]
    fn wide_maps_long_keys_long_lists_and_many_objects_are_refused() {
        let keys = |doc: &mut AutoCommit, at: &ObjId| {
            let m = doc.put_object(at, "wide", ObjType::Map).expect("map");
            for i in 0..=MAX_MAP_KEYS {
                doc.put(&m, i.to_string(), 1).expect("put");
            }
        };
        over_limit(after(keys, &[]), MAX_MAP_KEYS);
        let long_key = |doc: &mut AutoCommit, at: &ObjId| {
            doc.put(at, "k".repeat(MAX_KEY_CHARS + 1), 1).expect("put");
        };
        over_limit(after(long_key, &["household"]), MAX_KEY_CHARS);
        let list = |doc: &mut AutoCommit, at: &ObjId| {
            let l = doc.put_object(at, "list", ObjType::List).expect("list");
            let items = (0..=MAX_LIST_LEN).map(|i| ScalarValue::Int(i as i64));
            doc.splice(&l, 0, 0, items).expect("splice");
        };
        over_limit(after(list, &[]), MAX_LIST_LEN);
        let objects = |doc: &mut AutoCommit, at: &ObjId| {
            for i in 0..=MAX_OBJECTS / MAX_MAP_KEYS {
                let m = doc
                    .put_object(at, format!("m{i}"), ObjType::Map)
                    .expect("map");
                for j in 0..MAX_MAP_KEYS {
                    doc.put_object(&m, j.to_string(), ObjType::Map)
                        .expect("map");
                }
            }
        };
        over_limit(after(objects, &[]), MAX_OBJECTS);
    }

    #[test]
    fn domain_validation_and_shape_are_part_of_the_check() {
        let bad_national_id = |doc: &mut AutoCommit, at: &ObjId| {
            doc.put(at, "national_id", "0499370898").expect("put");
        };
        let e = after(bad_national_id, &["members", "HEAD"]).expect_err("bad check digit");
        assert!(e.to_string().contains("national_id"), "{e}");
        let no_members = |doc: &mut AutoCommit, at: &ObjId| {
            doc.delete(at, "members").expect("delete");
        };
        let e = after(no_members, &[]).expect_err("no members map");
        assert!(e.to_string().contains("members"), "{e}");
        let newer = |doc: &mut AutoCommit, at: &ObjId| {
            doc.put(at, "schema_version", 99).expect("put");
        };
        assert!(matches!(
            after(newer, &[]),
            Err(DocumentError::TooNew { found: 99, .. })
        ));
        let other_id = |doc: &mut AutoCommit, at: &ObjId| {
            doc.put(at, "id", Uuid::now_v7().to_string()).expect("put");
        };
        assert!(matches!(
            after(other_id, &[]),
            Err(DocumentError::WrongId { .. })
        ));
    }

    /// The household with one more change made without its history, so that what it writes
    /// is concurrent with the first change (and may lose to it, hidden from `get`).
    fn with_stray(write: impl FnOnce(&mut AutoCommit)) -> Result<(), DocumentError> {
        let (mut doc, id, _) = household();
        let mut stray = AutoCommit::new();
        write(&mut stray);
        stray.commit();
        doc.automerge().merge(&mut stray).expect("merge");
        doc.check_for_storage(id)
    }

    #[test]
    fn concurrent_ids_versions_and_collections_are_refused() {
        let e = with_stray(|d| {
            d.put(ROOT, "id", Uuid::now_v7().to_string()).expect("put");
        });
        assert!(matches!(e, Err(DocumentError::WrongId { .. })), "{e:?}");
        let e = with_stray(|d| {
            d.put(ROOT, "schema_version", 99).expect("put");
        });
        assert!(
            matches!(e, Err(DocumentError::TooNew { found: 99, .. })),
            "{e:?}"
        );
        let e = with_stray(|d| {
            d.put_object(ROOT, "members", ObjType::Map).expect("put");
        })
        .expect_err("two members maps");
        assert!(e.to_string().contains("members"), "{e}");
    }

    #[test]
    fn received_changes_are_checked_against_what_is_stored() {
        let (mut doc, id, _) = household();
        let first = doc.changes_since(&[]);
        // A new household: nothing stored yet.
        HouseholdDoc::check_received(AutoCommit::new(), first.clone(), id).expect("new");
        let mut stored = doc.automerge().clone();
        let heads = doc.heads();
        // An honest edit is accepted.
        doc.add_member(
            &NewMember::named("زهرا", "کریمی", Relation::Spouse),
            &ChangeMeta::new("w", "w", "d"),
            Utc::now(),
        )
        .expect("add");
        let edit = doc.changes_since(&heads);
        HouseholdDoc::check_received(stored.clone(), edit, id).expect("an added member");
        // Replacing the members map with an empty one would hide every member.
        let mut fork = stored.fork().with_actor(ActorId::random());
        fork.put_object(ROOT, "members", ObjType::Map).expect("put");
        fork.commit();
        let wipe = fork.get_changes(&heads);
        let e = HouseholdDoc::check_received(stored.clone(), wipe, id).expect_err("replaced");
        assert!(e.to_string().contains("replaces"), "{e}");
        // A change whose history is missing is refused, not left waiting.
        let mut fork = stored.fork().with_actor(ActorId::random());
        fork.put(ROOT, "x", 1).expect("put");
        fork.commit();
        let h1 = fork.get_heads();
        fork.put(ROOT, "x", 2).expect("put");
        fork.commit();
        let orphan = fork.get_changes(&h1);
        let e = HouseholdDoc::check_received(stored, orphan, id).expect_err("orphan");
        assert!(e.to_string().contains("does not hold"), "{e}");
    }
}
