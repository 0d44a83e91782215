//! The Automerge document that holds one household: its layout, how actions become changes,
//! how it reads back into the domain model, and its conflicts and history.
//!
//! Layout (every collection is a map keyed by UUID v7, so concurrent additions never collide):
//!
//! ```text
//! { schema_version: 1, kind: "household", id: "<uuid>",
//!   household: { district, address, phone, alt_phone, status, head_member_id, assigned_group,
//!                assigned_worker, created_at, created_by },
//!   members:   { "<uuid>": { first_name, last_name, national_id, birth_date, sex, relation,
//!                            education, employment, health_notes, disability_notes } },
//!   visits:    { "<uuid>": { date, worker_id, kind, observations, followup_date,
//!                            needs: { income: 0..4, … } } },
//!   referrals: { "<uuid>": { kind, target, visit_id,
//!                            events: { "<uuid>": { status, date, worker_id, note } } } } }
//! ```
//!
//! Scalars are strings (dates ISO `YYYY-MM-DD`), need scores integers. Each action is one change
//! whose message is a JSON [`ChangeMeta`] (who, on which device, what) and whose time is the
//! author's clock in milliseconds.

use std::collections::BTreeMap;

use automerge::{
    ActorId, AutoCommit, Change, ChangeHash, ObjId, ObjType, ReadDoc, ScalarValue, Value, ValueRef,
    transaction::{CommitOptions, Transactable},
};
use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::enums::*;
use crate::error::{DocumentError, ValidationError};
use crate::model::*;
use crate::national_id::NationalId;

/// The layout version this program writes. Older documents are migrated on load.
pub const SCHEMA_VERSION: u64 = 1;

/// Forward migrations: entry `i` lifts a document from version `i` to `i + 1`. Version 1 is the
/// first released layout, so there is nothing to lift yet; a later layout adds its step here.
type Migration = fn(&mut AutoCommit) -> Result<(), DocumentError>;
const MIGRATIONS: &[Migration] = &[];

type Result<T, E = DocumentError> = std::result::Result<T, E>;

/// Who made a change and what it did; stored as the change's message.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChangeMeta {
    pub worker_id: String,
    #[serde(default)]
    pub worker_name: String,
    pub device_id: String,
    /// What the change did: `household.create`, `visit.add`, `conflict.resolve`, …
    #[serde(default)]
    pub action: String,
    /// The entity it touched, when there is one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target: Option<String>,
    /// The fields it wrote.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub fields: Vec<String>,
}

impl ChangeMeta {
    pub fn new(worker_id: &str, worker_name: &str, device_id: &str) -> Self {
        Self {
            worker_id: worker_id.into(),
            worker_name: worker_name.into(),
            device_id: device_id.into(),
            action: String::new(),
            target: None,
            fields: Vec::new(),
        }
    }

    fn action(&self, action: &str, target: Option<String>, fields: Vec<String>) -> Self {
        Self {
            action: action.into(),
            target,
            fields,
            ..self.clone()
        }
    }

    fn decode(change_message: Option<&str>) -> Self {
        change_message
            .and_then(|m| serde_json::from_str(m).ok())
            .unwrap_or_else(|| Self::new("unknown", "", "unknown"))
    }
}

/// One entry of a household's history.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChangeInfo {
    pub hash: String,
    pub time: DateTime<Utc>,
    #[serde(flatten)]
    pub meta: ChangeMeta,
}

/// A field that holds several concurrent values.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Conflict {
    /// Where the field is: `household.phone`, `members.<id>.national_id`, …
    pub path: String,
    /// The value the program shows meanwhile (Automerge's deterministic pick).
    pub current: String,
    pub values: Vec<ConflictValue>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConflictValue {
    pub value: String,
    pub worker_id: String,
    pub worker_name: String,
    pub device_id: String,
    pub time: DateTime<Utc>,
}

/// One household's Automerge document.
#[derive(Debug)]
pub struct HouseholdDoc {
    doc: AutoCommit,
}

fn millis_to_time(ms: i64) -> DateTime<Utc> {
    DateTime::from_timestamp_millis(ms).unwrap_or_default()
}

fn malformed(what: impl Into<String>) -> DocumentError {
    DocumentError::Malformed(what.into())
}

fn scalar_text(value: &Value<'_>) -> Option<String> {
    match value {
        Value::Scalar(s) => match s.as_ref() {
            ScalarValue::Str(s) => Some(s.to_string()),
            ScalarValue::Int(i) => Some(i.to_string()),
            ScalarValue::Uint(u) => Some(u.to_string()),
            ScalarValue::Boolean(b) => Some(b.to_string()),
            ScalarValue::F64(f) => Some(f.to_string()),
            ScalarValue::Null => Some(String::new()),
            _ => None,
        },
        Value::Object(_) => None,
    }
}

/// The actor id of a device: its UUID's bytes, so every change names the device that made it.
pub fn device_actor(device_id: Uuid) -> ActorId {
    ActorId::from(device_id.as_bytes().as_slice())
}

/// Reads the scalar fields of one map in the document.
struct Fields {
    values: std::collections::HashMap<String, String>,
    objects: std::collections::HashMap<String, ObjId>,
    what: String,
}

impl Fields {
    /// Reads every key of a map in one pass: far cheaper than one lookup per key.
    fn of(doc: &AutoCommit, obj: &ObjId, what: String) -> Self {
        let mut values = std::collections::HashMap::new();
        let mut objects = std::collections::HashMap::new();
        for item in doc.map_range(obj, ..) {
            match &item.value {
                ValueRef::Object(ObjType::Map) => {
                    objects.insert(item.key.to_string(), item.id());
                }
                ValueRef::Object(_) => {}
                ValueRef::Scalar(_) => {
                    if let Some(text) = scalar_text(&item.value.clone().into_value()) {
                        values.insert(item.key.to_string(), text);
                    }
                }
            }
        }
        Self {
            values,
            objects,
            what,
        }
    }

    fn text(&self, key: &str) -> Result<Option<String>> {
        Ok(self.values.get(key).filter(|s| !s.is_empty()).cloned())
    }

    fn required(&self, key: &str) -> Result<String> {
        self.text(key)?
            .ok_or_else(|| malformed(format!("{} has no {key}", self.what)))
    }

    fn parsed<T>(
        &self,
        key: &str,
        parse: impl Fn(&str) -> Result<T, ValidationError>,
    ) -> Result<Option<T>> {
        self.text(key)?
            .map(|v| parse(&v).map_err(|e| malformed(format!("{}.{key}: {e}", self.what))))
            .transpose()
    }

    fn required_parsed<T>(
        &self,
        key: &str,
        parse: impl Fn(&str) -> Result<T, ValidationError>,
    ) -> Result<T> {
        self.parsed(key, parse)?
            .ok_or_else(|| malformed(format!("{} has no {key}", self.what)))
    }
}

fn parse_iso_date(v: &str) -> Result<NaiveDate, ValidationError> {
    NaiveDate::parse_from_str(v, "%Y-%m-%d").map_err(|_| ValidationError::Date {
        field: "stored date",
        input: v.to_string(),
    })
}

fn parse_uuid(v: &str) -> Result<Uuid, ValidationError> {
    Uuid::parse_str(v).map_err(|_| ValidationError::Invalid {
        field: "id",
        input: v.to_string(),
        reason: "is not a UUID",
    })
}

fn iso(date: NaiveDate) -> String {
    date.format("%Y-%m-%d").to_string()
}

/// Puts an optional text field: an empty value deletes the key.
fn put_opt(tx: &mut AutoCommit, obj: &ObjId, key: &str, value: Option<&str>) -> Result<()> {
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

impl HouseholdDoc {
    /// A new household document with its head as the first member. The first change creates every
    /// collection, so later changes from any replica only ever add inside them.
    pub fn create(
        actor: ActorId,
        id: Uuid,
        household: &NewHousehold,
        head: &NewMember,
        meta: &ChangeMeta,
        now: DateTime<Utc>,
    ) -> Result<(Self, Uuid)> {
        let mut doc = AutoCommit::new().with_actor(actor);
        let head_id = Uuid::now_v7();
        doc.put(automerge::ROOT, "schema_version", SCHEMA_VERSION)?;
        doc.put(automerge::ROOT, "kind", "household")?;
        doc.put(automerge::ROOT, "id", id.to_string())?;
        let h = doc.put_object(automerge::ROOT, "household", ObjType::Map)?;
        for name in ["members", "visits", "referrals"] {
            doc.put_object(automerge::ROOT, name, ObjType::Map)?;
        }
        doc.put(&h, "district", household.district.as_str())?;
        doc.put(&h, "address", household.address.as_str())?;
        put_opt(&mut doc, &h, "phone", household.phone.as_deref())?;
        put_opt(&mut doc, &h, "alt_phone", household.alt_phone.as_deref())?;
        doc.put(&h, "status", HouseholdStatus::Active.code())?;
        doc.put(&h, "head_member_id", head_id.to_string())?;
        put_opt(
            &mut doc,
            &h,
            "assigned_group",
            household.assigned_group.as_deref(),
        )?;
        put_opt(
            &mut doc,
            &h,
            "assigned_worker",
            household.assigned_worker.as_deref(),
        )?;
        doc.put(&h, "created_at", now.to_rfc3339())?;
        doc.put(&h, "created_by", meta.worker_id.as_str())?;
        let members = Self::collection(&doc, "members")?;
        let m = doc.put_object(&members, head_id.to_string(), ObjType::Map)?;
        write_member(&mut doc, &m, head)?;
        let meta = meta.action("household.create", Some(id.to_string()), Vec::new());
        doc.commit_with(commit_options(&meta, now));
        Ok((Self { doc }, head_id))
    }

    /// Loads a document saved whole (`save`) or as concatenated changes, and migrates it.
    pub fn load(bytes: &[u8]) -> Result<Self> {
        let doc = AutoCommit::load(bytes)?;
        Self::from_automerge(doc)
    }

    /// Loads from an optional snapshot plus the changes stored after it.
    pub fn from_parts<'a>(
        snapshot: Option<&[u8]>,
        changes: impl IntoIterator<Item = &'a [u8]>,
    ) -> Result<Self> {
        let mut doc = match snapshot {
            Some(bytes) => AutoCommit::load(bytes)?,
            None => AutoCommit::new(),
        };
        let changes = changes
            .into_iter()
            .map(|b| Change::try_from(b).map_err(|e| malformed(format!("stored change: {e}"))))
            .collect::<Result<Vec<_>>>()?;
        doc.apply_changes(changes)?;
        Self::from_automerge(doc)
    }

    /// Wraps a document received from elsewhere after checking it is a household.
    pub fn from_automerge(doc: AutoCommit) -> Result<Self> {
        let this = Self { doc };
        this.check_shape()?;
        Ok(this)
    }

    fn check_shape(&self) -> Result<()> {
        let version = match self.doc.get(automerge::ROOT, "schema_version")? {
            Some((Value::Scalar(s), _)) => match s.as_ref() {
                ScalarValue::Uint(v) => *v,
                ScalarValue::Int(v) if *v >= 0 => *v as u64,
                _ => return Err(malformed("schema_version is not a number")),
            },
            _ => return Err(malformed("no schema_version")),
        };
        if version > SCHEMA_VERSION {
            return Err(DocumentError::TooNew {
                found: version,
                supported: SCHEMA_VERSION,
            });
        }
        match self.doc.get(automerge::ROOT, "kind")? {
            Some((v, _)) if scalar_text(&v).as_deref() == Some("household") => {}
            _ => return Err(malformed("kind is not \"household\"")),
        }
        self.id()?;
        for name in ["household", "members", "visits", "referrals"] {
            Self::collection(&self.doc, name)?;
        }
        Ok(())
    }

    /// Lifts an older document to [`SCHEMA_VERSION`]; returns whether it wrote a change, which
    /// the caller must then store like any other.
    pub fn migrate(&mut self, meta: &ChangeMeta, now: DateTime<Utc>) -> Result<bool> {
        let version = match self.doc.get(automerge::ROOT, "schema_version")? {
            Some((v, _)) => v
                .as_u64()
                .or_else(|| v.as_i64().map(|i| i as u64))
                .unwrap_or(0),
            None => 0,
        };
        if version >= SCHEMA_VERSION {
            return Ok(false);
        }
        for step in MIGRATIONS.iter().skip(version as usize) {
            step(&mut self.doc)?;
        }
        self.doc
            .put(automerge::ROOT, "schema_version", SCHEMA_VERSION)?;
        let meta = meta.action("schema.migrate", None, Vec::new());
        self.doc.commit_with(commit_options(&meta, now));
        Ok(true)
    }

    fn collection(doc: &AutoCommit, name: &str) -> Result<ObjId> {
        match doc.get(automerge::ROOT, name)? {
            Some((Value::Object(ObjType::Map), id)) => Ok(id),
            _ => Err(malformed(format!("no {name} map"))),
        }
    }

    fn entity(&self, collection: &str, kind: &'static str, id: Uuid) -> Result<ObjId> {
        let coll = Self::collection(&self.doc, collection)?;
        match self.doc.get(&coll, id.to_string())? {
            Some((Value::Object(ObjType::Map), obj)) => Ok(obj),
            _ => Err(DocumentError::NotFound {
                kind,
                id: id.to_string(),
            }),
        }
    }

    pub fn id(&self) -> Result<Uuid> {
        match self.doc.get(automerge::ROOT, "id")? {
            Some((v, _)) => scalar_text(&v)
                .and_then(|s| Uuid::parse_str(&s).ok())
                .ok_or_else(|| malformed("id is not a UUID")),
            None => Err(malformed("no id")),
        }
    }

    /// Sets who the next local changes are attributed to.
    pub fn set_actor(&mut self, actor: ActorId) {
        self.doc.set_actor(actor);
    }

    pub fn heads(&mut self) -> Vec<ChangeHash> {
        self.doc.get_heads()
    }

    /// The changes not reachable from `heads` (all changes for `&[]`).
    pub fn changes_since(&mut self, heads: &[ChangeHash]) -> Vec<Change> {
        self.doc.get_changes(heads)
    }

    /// Hashes that changes in this document depend on but that it does not hold. Always empty for
    /// a complete document; anything else means a change arrived without its history.
    pub fn missing_dependencies(&mut self) -> Vec<ChangeHash> {
        self.doc.get_missing_deps(&[])
    }

    pub fn change_by_hash(&mut self, hash: &ChangeHash) -> Option<Change> {
        self.doc.get_change_by_hash(hash)
    }

    /// Takes in another replica's copy; returns the hashes of the changes that were new here.
    pub fn merge(&mut self, other: &mut HouseholdDoc) -> Result<Vec<ChangeHash>> {
        Ok(self.doc.merge(&mut other.doc)?)
    }

    pub fn apply_changes(&mut self, changes: Vec<Change>) -> Result<()> {
        self.doc.apply_changes(changes)?;
        self.check_shape()
    }

    /// The whole document, history included, compressed.
    pub fn save(&mut self) -> Vec<u8> {
        self.doc.save()
    }

    pub fn automerge(&mut self) -> &mut AutoCommit {
        &mut self.doc
    }

    /// Runs `write` as one change; if it fails, nothing of it stays in the document.
    fn transact<T>(
        &mut self,
        meta: &ChangeMeta,
        now: DateTime<Utc>,
        write: impl FnOnce(&mut AutoCommit) -> Result<T>,
    ) -> Result<T> {
        match write(&mut self.doc) {
            Ok(value) => {
                self.doc.commit_with(commit_options(meta, now));
                Ok(value)
            }
            Err(e) => {
                self.doc.rollback();
                Err(e)
            }
        }
    }

    pub fn edit_household(
        &mut self,
        edit: &HouseholdEdit,
        meta: &ChangeMeta,
        now: DateTime<Utc>,
    ) -> Result<()> {
        let h = Self::collection(&self.doc, "household")?;
        let mut fields = Vec::new();
        let mut set = |key: &str, value: &Option<String>| {
            if value.is_some() {
                fields.push(key.to_string());
            }
        };
        set("district", &edit.district);
        set("address", &edit.address);
        set("phone", &edit.phone);
        set("alt_phone", &edit.alt_phone);
        set("status", &edit.status.map(|s| s.code().to_string()));
        set("assigned_group", &edit.assigned_group);
        set("assigned_worker", &edit.assigned_worker);
        let meta = meta.action("household.edit", None, fields);
        self.transact(&meta, now, |tx| {
            let text_fields = [
                ("district", &edit.district),
                ("address", &edit.address),
                ("phone", &edit.phone),
                ("alt_phone", &edit.alt_phone),
                ("assigned_group", &edit.assigned_group),
                ("assigned_worker", &edit.assigned_worker),
            ];
            for (key, value) in text_fields {
                if let Some(v) = value {
                    put_opt(tx, &h, key, Some(v))?;
                }
            }
            if let Some(status) = edit.status {
                tx.put(&h, "status", status.code())?;
            }
            Ok(())
        })
    }

    pub fn add_member(
        &mut self,
        member: &NewMember,
        meta: &ChangeMeta,
        now: DateTime<Utc>,
    ) -> Result<Uuid> {
        self.check_national_id_free(member.national_id.as_ref(), None)?;
        let id = Uuid::now_v7();
        let members = Self::collection(&self.doc, "members")?;
        let meta = meta.action("member.add", Some(id.to_string()), Vec::new());
        self.transact(&meta, now, |tx| {
            let m = tx.put_object(&members, id.to_string(), ObjType::Map)?;
            write_member(tx, &m, member)
        })?;
        Ok(id)
    }

    fn check_national_id_free(&self, nid: Option<&NationalId>, except: Option<Uuid>) -> Result<()> {
        let Some(nid) = nid else { return Ok(()) };
        let household = self.read()?;
        if let Some(other) = household
            .members
            .iter()
            .find(|m| m.national_id.as_ref() == Some(nid) && Some(m.id) != except)
        {
            return Err(ValidationError::Invalid {
                field: "national ID",
                input: nid.to_string(),
                reason: if other.id == household.head_member_id.unwrap_or_default() {
                    "already belongs to the head of this household"
                } else {
                    "already belongs to another member of this household"
                },
            }
            .into());
        }
        Ok(())
    }

    pub fn edit_member(
        &mut self,
        id: Uuid,
        edit: &MemberEdit,
        meta: &ChangeMeta,
        now: DateTime<Utc>,
    ) -> Result<()> {
        let m = self.entity("members", "member", id)?;
        self.check_national_id_free(edit.national_id.as_ref(), Some(id))?;
        let text = |v: &Option<String>| v.clone();
        let values: [(&str, Option<String>); 10] = [
            ("first_name", text(&edit.first_name)),
            ("last_name", text(&edit.last_name)),
            (
                "national_id",
                edit.national_id.as_ref().map(|n| n.to_string()),
            ),
            ("birth_date", edit.birth_date.map(iso)),
            ("sex", edit.sex.map(|s| s.code().to_string())),
            ("relation", edit.relation.map(|s| s.code().to_string())),
            ("education", edit.education.map(|s| s.code().to_string())),
            ("employment", edit.employment.map(|s| s.code().to_string())),
            ("health_notes", text(&edit.health_notes)),
            ("disability_notes", text(&edit.disability_notes)),
        ];
        let fields = values
            .iter()
            .filter(|(_, v)| v.is_some())
            .map(|(k, _)| k.to_string())
            .collect();
        let meta = meta.action("member.edit", Some(id.to_string()), fields);
        self.transact(&meta, now, |tx| {
            for (key, value) in &values {
                if let Some(v) = value {
                    put_opt(tx, &m, key, Some(v))?;
                }
            }
            Ok(())
        })
    }

    pub fn add_visit(
        &mut self,
        visit: &NewVisit,
        meta: &ChangeMeta,
        now: DateTime<Utc>,
    ) -> Result<Uuid> {
        let id = Uuid::now_v7();
        let visits = Self::collection(&self.doc, "visits")?;
        let action = meta.action("visit.add", Some(id.to_string()), Vec::new());
        self.transact(&action, now, |tx| {
            let v = tx.put_object(&visits, id.to_string(), ObjType::Map)?;
            tx.put(&v, "date", iso(visit.date))?;
            tx.put(&v, "worker_id", meta.worker_id.as_str())?;
            tx.put(&v, "kind", visit.kind.code())?;
            put_opt(tx, &v, "observations", Some(&visit.observations))?;
            put_opt(
                tx,
                &v,
                "followup_date",
                visit.followup_date.map(iso).as_deref(),
            )?;
            let needs = tx.put_object(&v, "needs", ObjType::Map)?;
            for (domain, score) in &visit.needs {
                tx.put(&needs, domain.code(), i64::from(*score))?;
            }
            Ok(())
        })?;
        Ok(id)
    }

    pub fn add_referral(
        &mut self,
        referral: &NewReferral,
        meta: &ChangeMeta,
        now: DateTime<Utc>,
    ) -> Result<Uuid> {
        if let Some(visit) = referral.visit_id {
            self.entity("visits", "visit", visit)?;
        }
        let id = Uuid::now_v7();
        let referrals = Self::collection(&self.doc, "referrals")?;
        let action = meta.action("referral.add", Some(id.to_string()), Vec::new());
        self.transact(&action, now, |tx| {
            let r = tx.put_object(&referrals, id.to_string(), ObjType::Map)?;
            tx.put(&r, "kind", referral.kind.code())?;
            tx.put(&r, "target", referral.target.as_str())?;
            put_opt(
                tx,
                &r,
                "visit_id",
                referral.visit_id.map(|v| v.to_string()).as_deref(),
            )?;
            let events = tx.put_object(&r, "events", ObjType::Map)?;
            let update = ReferralUpdate {
                status: ReferralStatus::Referred,
                date: referral.date,
                note: referral.note.clone(),
            };
            write_event(tx, &events, &update, &meta.worker_id)
        })?;
        Ok(id)
    }

    pub fn update_referral(
        &mut self,
        id: Uuid,
        update: &ReferralUpdate,
        meta: &ChangeMeta,
        now: DateTime<Utc>,
    ) -> Result<()> {
        let r = self.entity("referrals", "referral", id)?;
        let events = match self.doc.get(&r, "events")? {
            Some((Value::Object(ObjType::Map), obj)) => obj,
            _ => return Err(malformed("referral has no events map")),
        };
        let action = meta.action(
            "referral.update",
            Some(id.to_string()),
            vec!["status".into()],
        );
        self.transact(&action, now, |tx| {
            write_event(tx, &events, update, &meta.worker_id)
        })
    }

    /// The household as the domain model sees it; a field in conflict shows Automerge's
    /// deterministic pick (see [`Self::conflicts`] for the rest).
    pub fn read(&self) -> Result<Household> {
        let doc = &self.doc;
        let fields = |obj: ObjId, what: String| Fields::of(doc, &obj, what);
        let h = fields(Self::collection(doc, "household")?, "household".into());
        let mut members = Vec::new();
        for (id, obj) in self.entities("members")? {
            members.push(read_member(id, fields(obj, format!("member {id}")))?);
        }
        let mut visits = Vec::new();
        for (id, obj) in self.entities("visits")? {
            visits.push(self.read_visit(id, fields(obj, format!("visit {id}")))?);
        }
        visits.sort_by_key(|v| (v.date, v.id));
        let mut referrals = Vec::new();
        for (id, obj) in self.entities("referrals")? {
            referrals.push(self.read_referral(id, fields(obj, format!("referral {id}")))?);
        }
        Ok(Household {
            id: self.id()?,
            head_member_id: h.parsed("head_member_id", parse_uuid)?,
            district: h.required("district")?,
            address: h.required("address")?,
            phone: h.text("phone")?,
            alt_phone: h.text("alt_phone")?,
            status: h.required_parsed("status", HouseholdStatus::parse)?,
            assigned_group: h.text("assigned_group")?,
            assigned_worker: h.text("assigned_worker")?,
            created_at: h
                .text("created_at")?
                .and_then(|t| DateTime::parse_from_rfc3339(&t).ok())
                .map(|t| t.with_timezone(&Utc))
                .unwrap_or_default(),
            created_by: h.text("created_by")?.unwrap_or_default(),
            members,
            visits,
            referrals,
        })
    }

    /// The entities of a collection in id order (UUID v7: creation order).
    fn entities(&self, collection: &str) -> Result<Vec<(Uuid, ObjId)>> {
        let coll = Self::collection(&self.doc, collection)?;
        let mut out = Vec::new();
        for item in self.doc.map_range(&coll, ..) {
            let id = parse_uuid(item.key.as_ref())
                .map_err(|e| malformed(format!("{collection}: {e}")))?;
            if matches!(item.value, ValueRef::Object(ObjType::Map)) {
                out.push((id, item.id()));
            }
        }
        out.sort_by_key(|(id, _)| *id);
        Ok(out)
    }

    fn read_visit(&self, id: Uuid, f: Fields) -> Result<Visit> {
        let mut needs = BTreeMap::new();
        if let Some(obj) = f.objects.get("needs") {
            for item in self.doc.map_range(obj, ..) {
                let domain = NeedDomain::parse(item.key.as_ref())
                    .map_err(|e| malformed(format!("visit {id} needs: {e}")))?;
                let score = item
                    .value
                    .clone()
                    .into_value()
                    .as_i64()
                    .filter(|s| (0..=i64::from(limits::NEED_SCORE_MAX)).contains(s))
                    .ok_or_else(|| malformed(format!("visit {id} needs.{domain}: not a score")))?;
                needs.insert(domain, score as u8);
            }
        }
        Ok(Visit {
            id,
            date: f.required_parsed("date", parse_iso_date)?,
            worker_id: f.text("worker_id")?.unwrap_or_default(),
            kind: f.required_parsed("kind", VisitKind::parse)?,
            observations: f.text("observations")?.unwrap_or_default(),
            needs,
            followup_date: f.parsed("followup_date", parse_iso_date)?,
        })
    }

    fn read_referral(&self, id: Uuid, f: Fields) -> Result<Referral> {
        let mut history = Vec::new();
        if let Some(obj) = f.objects.get("events") {
            for item in self.doc.map_range(obj, ..) {
                let event_id = parse_uuid(item.key.as_ref())
                    .map_err(|e| malformed(format!("referral {id} events: {e}")))?;
                let e = Fields::of(&self.doc, &item.id(), format!("referral event {event_id}"));
                history.push(ReferralEvent {
                    id: event_id,
                    status: e.required_parsed("status", ReferralStatus::parse)?,
                    date: e.required_parsed("date", parse_iso_date)?,
                    worker_id: e.text("worker_id")?.unwrap_or_default(),
                    note: e.text("note")?.unwrap_or_default(),
                });
            }
        }
        history.sort_by_key(|e| (e.date, e.id));
        Ok(Referral {
            id,
            kind: f.required_parsed("kind", ReferralKind::parse)?,
            target: f.required("target")?,
            visit_id: f.parsed("visit_id", parse_uuid)?,
            history,
        })
    }

    /// Every field holding more than one distinct concurrent value, with who wrote each and when.
    pub fn conflicts(&mut self) -> Result<Vec<Conflict>> {
        let mut found = Vec::new();
        self.collect_conflicts(automerge::ROOT, String::new(), &mut found)?;
        let mut conflicts = Vec::with_capacity(found.len());
        for (path, current, values) in found {
            let mut out = Vec::with_capacity(values.len());
            for (value, opid) in values {
                let meta_time = self
                    .doc
                    .hash_for_opid(&opid)
                    .and_then(|h| self.doc.get_change_by_hash(&h))
                    .map(|c| (ChangeMeta::decode(c.message()), c.timestamp()));
                let (meta, time) = meta_time.unwrap_or_else(|| (ChangeMeta::decode(None), 0));
                out.push(ConflictValue {
                    value,
                    worker_id: meta.worker_id,
                    worker_name: meta.worker_name,
                    device_id: meta.device_id,
                    time: millis_to_time(time),
                });
            }
            out.sort_by(|a, b| (a.time, &a.value).cmp(&(b.time, &b.value)));
            conflicts.push(Conflict {
                path,
                current,
                values: out,
            });
        }
        Ok(conflicts)
    }

    /// The paths of the fields in conflict, without looking up who wrote what (cheap).
    pub fn conflict_paths(&self) -> Result<Vec<String>> {
        let mut found = Vec::new();
        self.collect_conflicts(automerge::ROOT, String::new(), &mut found)?;
        Ok(found.into_iter().map(|(path, _, _)| path).collect())
    }

    #[allow(clippy::type_complexity)]
    fn collect_conflicts(
        &self,
        obj: ObjId,
        prefix: String,
        out: &mut Vec<(String, String, Vec<(String, automerge::ObjId)>)>,
    ) -> Result<()> {
        // One pass over the map; only keys Automerge flags as conflicted are looked at closely.
        let mut children = Vec::new();
        for item in self.doc.map_range(&obj, ..) {
            let key = item.key.to_string();
            let path = if prefix.is_empty() {
                key.clone()
            } else {
                format!("{prefix}.{key}")
            };
            if let ValueRef::Object(ObjType::Map) = item.value {
                children.push((item.id(), path.clone()));
            }
            if !item.conflict {
                continue;
            }
            let mut distinct: Vec<(String, ObjId)> = Vec::new();
            for (value, opid) in self.doc.get_all(&obj, key.as_str())? {
                if let Some(text) = scalar_text(&value)
                    && !distinct.iter().any(|(t, _)| *t == text)
                {
                    distinct.push((text, opid));
                }
            }
            if distinct.len() > 1 {
                let current = scalar_text(&item.value.clone().into_value()).unwrap_or_default();
                out.push((path, current, distinct));
            }
        }
        for (child, path) in children {
            self.collect_conflicts(child, path, out)?;
        }
        Ok(())
    }

    /// Settles a field in conflict (or simply sets it) with a new change that supersedes every
    /// concurrent value. The value is validated as that field's own input would be.
    pub fn resolve(
        &mut self,
        path: &str,
        value: &str,
        meta: &ChangeMeta,
        now: DateTime<Utc>,
    ) -> Result<()> {
        let (obj, key, scalar) = self.resolve_target(path, value)?;
        let meta = meta.action(
            "conflict.resolve",
            Some(path.to_string()),
            vec![key.clone()],
        );
        self.transact(&meta, now, |tx| {
            tx.put(&obj, key.as_str(), scalar)?;
            Ok(())
        })
    }

    fn resolve_target(&self, path: &str, value: &str) -> Result<(ObjId, String, ScalarValue)> {
        let unknown = || DocumentError::UnknownField(path.to_string());
        let parts: Vec<&str> = path.split('.').collect();
        let (obj, field_kind, key) = match parts.as_slice() {
            ["household", key] => (Self::collection(&self.doc, "household")?, "household", *key),
            [coll @ ("members" | "visits" | "referrals"), id, key] => {
                let id = Uuid::parse_str(id).map_err(|_| unknown())?;
                let kind = match *coll {
                    "members" => "member",
                    "visits" => "visit",
                    _ => "referral",
                };
                (self.entity(coll, kind, id)?, kind, *key)
            }
            ["visits", id, "needs", domain] => {
                let id = Uuid::parse_str(id).map_err(|_| unknown())?;
                let v = self.entity("visits", "visit", id)?;
                let needs = match self.doc.get(&v, "needs")? {
                    Some((Value::Object(ObjType::Map), o)) => o,
                    _ => return Err(unknown()),
                };
                let (domain, score) = parse_need(&format!("{domain}={value}"))?;
                return Ok((
                    needs,
                    domain.code().to_string(),
                    ScalarValue::Int(i64::from(score)),
                ));
            }
            _ => return Err(unknown()),
        };
        let scalar = validate_field(field_kind, key, value).ok_or_else(unknown)??;
        Ok((obj, key.to_string(), scalar))
    }

    /// Every change in the document in causal order (a change never precedes one it builds
    /// on, whatever the authors' clocks said): who, when, what.
    pub fn history(&mut self) -> Vec<ChangeInfo> {
        self.doc
            .get_changes(&[])
            .into_iter()
            .map(|c| ChangeInfo {
                hash: c.hash().to_string(),
                time: millis_to_time(c.timestamp()),
                meta: ChangeMeta::decode(c.message()),
            })
            .collect()
    }
}

fn commit_options(meta: &ChangeMeta, now: DateTime<Utc>) -> CommitOptions {
    let message = serde_json::to_string(meta).unwrap_or_default();
    CommitOptions::default()
        .with_message(message)
        .with_time(now.timestamp_millis())
}

fn write_member(tx: &mut AutoCommit, m: &ObjId, member: &NewMember) -> Result<()> {
    tx.put(m, "first_name", member.first_name.as_str())?;
    tx.put(m, "last_name", member.last_name.as_str())?;
    put_opt(
        tx,
        m,
        "national_id",
        member.national_id.as_ref().map(NationalId::as_str),
    )?;
    put_opt(tx, m, "birth_date", member.birth_date.map(iso).as_deref())?;
    put_opt(tx, m, "sex", member.sex.map(Sex::code))?;
    tx.put(m, "relation", member.relation.code())?;
    put_opt(tx, m, "education", member.education.map(Education::code))?;
    put_opt(tx, m, "employment", member.employment.map(Employment::code))?;
    put_opt(tx, m, "health_notes", Some(&member.health_notes))?;
    put_opt(tx, m, "disability_notes", Some(&member.disability_notes))?;
    Ok(())
}

fn write_event(
    tx: &mut AutoCommit,
    events: &ObjId,
    update: &ReferralUpdate,
    worker_id: &str,
) -> Result<()> {
    let e = tx.put_object(events, Uuid::now_v7().to_string(), ObjType::Map)?;
    tx.put(&e, "status", update.status.code())?;
    tx.put(&e, "date", iso(update.date))?;
    tx.put(&e, "worker_id", worker_id)?;
    put_opt(tx, &e, "note", Some(&update.note))?;
    Ok(())
}

fn read_member(id: Uuid, f: Fields) -> Result<Member> {
    Ok(Member {
        id,
        first_name: f.required("first_name")?,
        last_name: f.required("last_name")?,
        national_id: f.parsed("national_id", NationalId::parse)?,
        birth_date: f.parsed("birth_date", parse_iso_date)?,
        sex: f.parsed("sex", Sex::parse)?,
        relation: f.required_parsed("relation", Relation::parse)?,
        education: f.parsed("education", Education::parse)?,
        employment: f.parsed("employment", Employment::parse)?,
        health_notes: f.text("health_notes")?.unwrap_or_default(),
        disability_notes: f.text("disability_notes")?.unwrap_or_default(),
    })
}

/// Validates a value for one field as its own input would be, giving the scalar to store; `None`
/// when the field cannot be set this way.
fn validate_field(kind: &str, key: &str, value: &str) -> Option<Result<ScalarValue>> {
    let text =
        |field, max, required| clean_text(field, value, max, required).map(ScalarValue::from);
    let notes = |field, max| clean_notes(field, value, max).map(ScalarValue::from);
    let code = |r: Result<&'static str, ValidationError>| r.map(ScalarValue::from);
    let date = |field| crate::date::parse_date(field, value).map(|d| ScalarValue::from(iso(d)));
    let result = match (kind, key) {
        ("household", "district") => text("district", limits::DISTRICT, true),
        ("household", "address") => text("address", limits::ADDRESS, true),
        ("household", "phone" | "alt_phone") => clean_phone("phone", value).map(ScalarValue::from),
        ("household", "status") => code(HouseholdStatus::parse(value).map(HouseholdStatus::code)),
        ("household", "assigned_group" | "assigned_worker") => {
            text("assignment", limits::WORKER_ID, true)
        }
        ("member", "first_name") => text("first name", limits::NAME, true),
        ("member", "last_name") => text("last name", limits::NAME, true),
        ("member", "national_id") => {
            NationalId::parse(value).map(|n| ScalarValue::from(n.to_string()))
        }
        ("member", "birth_date") => date("birth date"),
        ("member", "sex") => code(Sex::parse(value).map(Sex::code)),
        ("member", "relation") => code(Relation::parse(value).map(Relation::code)),
        ("member", "education") => code(Education::parse(value).map(Education::code)),
        ("member", "employment") => code(Employment::parse(value).map(Employment::code)),
        ("member", "health_notes") => notes("health notes", limits::NOTES),
        ("member", "disability_notes") => notes("disability notes", limits::NOTES),
        ("visit", "date") => date("visit date"),
        ("visit", "followup_date") => date("follow-up date"),
        ("visit", "kind") => code(VisitKind::parse(value).map(VisitKind::code)),
        ("visit", "observations") => notes("observations", limits::OBSERVATIONS),
        ("referral", "target") => text("target", limits::TARGET, true),
        ("referral", "kind") => code(ReferralKind::parse(value).map(ReferralKind::code)),
        _ => return None,
    };
    Some(result.map_err(DocumentError::from))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn meta(worker: &str) -> ChangeMeta {
        ChangeMeta::new(worker, worker, &format!("{worker}-device"))
    }

    fn new_doc() -> HouseholdDoc {
        let household = NewHousehold {
            district: "منطقه ۳".into(),
            address: "کوچه یاس".into(),
            ..Default::default()
        };
        let head = NewMember::named("علی", "کریمی", Relation::Head);
        let actor = device_actor(Uuid::now_v7());
        HouseholdDoc::create(
            actor,
            Uuid::now_v7(),
            &household,
            &head,
            &meta("a"),
            Utc::now(),
        )
        .expect("create")
        .0
    }

    #[test]
    fn a_new_document_reads_back() {
        let doc = new_doc();
        let h = doc.read().expect("read");
        assert_eq!(h.members.len(), 1);
        assert_eq!(h.head().map(|m| m.full_name()), Some("علی کریمی".into()));
        assert_eq!(h.status, HouseholdStatus::Active);
    }

    #[test]
    fn concurrent_edits_to_one_field_keep_both_values_with_authors() {
        let mut a = new_doc();
        let mut b = HouseholdDoc::load(&a.save()).expect("load");
        b.set_actor(device_actor(Uuid::now_v7()));
        let edit = |p: &str| HouseholdEdit {
            phone: Some(p.into()),
            ..Default::default()
        };
        a.edit_household(&edit("1111"), &meta("a"), Utc::now())
            .expect("a");
        b.edit_household(&edit("2222"), &meta("b"), Utc::now())
            .expect("b");
        a.merge(&mut b).expect("merge");
        let conflicts = a.conflicts().expect("conflicts");
        assert_eq!(conflicts.len(), 1);
        let mut who: Vec<_> = conflicts[0]
            .values
            .iter()
            .map(|v| (v.value.clone(), v.worker_id.clone()))
            .collect();
        who.sort();
        assert_eq!(
            who,
            vec![("1111".into(), "a".into()), ("2222".into(), "b".into())]
        );
        a.resolve("household.phone", "3333", &meta("supervisor"), Utc::now())
            .expect("resolve");
        assert!(a.conflicts().expect("conflicts").is_empty());
        assert_eq!(a.read().expect("read").phone.as_deref(), Some("3333"));
    }

    #[test]
    fn a_failed_action_leaves_no_trace() {
        let mut doc = new_doc();
        let heads = doc.heads();
        let err = doc.edit_member(
            Uuid::now_v7(),
            &MemberEdit::default(),
            &meta("a"),
            Utc::now(),
        );
        assert!(matches!(
            err,
            Err(DocumentError::NotFound { kind: "member", .. })
        ));
        assert_eq!(doc.heads(), heads);
    }

    #[test]
    fn newer_and_foreign_documents_are_refused() {
        let mut doc = new_doc();
        doc.automerge()
            .put(automerge::ROOT, "schema_version", SCHEMA_VERSION + 1)
            .expect("put");
        let bytes = doc.save();
        assert!(matches!(
            HouseholdDoc::load(&bytes),
            Err(DocumentError::TooNew { .. })
        ));
        let mut foreign = AutoCommit::new();
        foreign
            .put(automerge::ROOT, "title", "a shopping list")
            .expect("put");
        assert!(matches!(
            HouseholdDoc::load(&foreign.save()),
            Err(DocumentError::Malformed(_))
        ));
    }

    #[test]
    fn migration_lifts_an_older_document_once() {
        let mut doc = new_doc();
        doc.automerge()
            .put(automerge::ROOT, "schema_version", 0u64)
            .expect("put");
        doc.automerge().commit();
        assert!(doc.migrate(&meta("a"), Utc::now()).expect("migrate"));
        assert!(!doc.migrate(&meta("a"), Utc::now()).expect("migrate again"));
        let history = doc.history();
        assert_eq!(
            history.last().map(|c| c.meta.action.as_str()),
            Some("schema.migrate")
        );
    }
}
