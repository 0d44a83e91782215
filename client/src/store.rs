//! The local store: one SQLite file per replica holding every household as an Automerge
//! document (snapshot + changes), the projections derived from them, and who this replica is.
//!
//! Every user action is one `BEGIN IMMEDIATE` transaction that loads the document, applies the
//! action as one Automerge change, appends that change, and rewrites the household's projections.
//! Loading inside the write lock matters: two processes on one device share one actor id, and
//! must never both build on the same state.

use std::cell::RefCell;
use std::collections::VecDeque;
use std::path::{Path, PathBuf};

use automerge::{AutoCommit, Change};
use chrono::{DateTime, Local, NaiveDate, Utc};
use madadkar_schema::document::{Received, device_actor};
use madadkar_schema::{
    ChangeInfo, ChangeMeta, Conflict, DocumentError, Household, HouseholdDoc, HouseholdEdit,
    MemberEdit, NewHousehold, NewMember, NewReferral, NewVisit, ReferralUpdate, SCHEMA_VERSION,
    change::parse_change,
};
use rusqlite::{Connection, OptionalExtension, Transaction, TransactionBehavior, params};
use serde::Serialize;
use uuid::Uuid;

use crate::authorship;
use crate::bundle;
use crate::error::{Result, StoreError};
use crate::projection;
use crate::query::{self, Followup, HouseholdSummary, ListQuery, Page};
use crate::sql;
use crate::vault::{self, DataKey, Passphrase};

/// The database file inside a data directory.
pub const DB_FILE: &str = "madadkar.sqlite3";
/// A document is folded into a fresh snapshot once this many changes follow the last one:
/// loading applies those changes one by one, which costs far more than loading a snapshot.
const COMPACT_AFTER: i64 = 32;

/// Who this replica writes as.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct Identity {
    pub worker_id: String,
    pub worker_name: String,
    pub device_id: Uuid,
    pub device_name: String,
}

/// A household with the fields that hold conflicting values.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct HouseholdDetails {
    /// The household, composed with every household merged into it (their members, visits
    /// and referrals shown in it; see `reconcile::compose`).
    #[serde(flatten)]
    pub household: Household,
    /// Its own conflicts, then the values it and a household merged into it hold differently.
    pub conflicts: Vec<Conflict>,
    /// The households merged into this one.
    pub merged_from: Vec<crate::reconcile::compose::AbsorbedHousehold>,
    /// The id that was asked for, when it was merged into this household (its redirect was
    /// followed).
    pub redirected_from: Option<Uuid>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct ImportReport {
    pub households_new: usize,
    pub households_updated: usize,
    pub households_unchanged: usize,
    pub changes_new: usize,
    /// Who signed the bundle (nothing for documents merged from elsewhere).
    pub signed_by: BundleSigner,
}

/// Who signed an imported bundle, as far as this replica can tell.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum BundleSigner {
    /// Signed by a device the server's directory (or this replica) knows, with its key.
    Verified { worker_name: String },
    /// Signed by a device this replica does not know yet (sync to learn it).
    UnknownDevice { device_id: Uuid },
    /// An older bundle without a signature, or not a bundle at all.
    #[default]
    Unsigned,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct CheckReport {
    pub households: usize,
    pub changes: usize,
    pub problems: Vec<String>,
}

impl CheckReport {
    pub fn ok(&self) -> bool {
        self.problems.is_empty()
    }
}

#[derive(Debug)]
pub struct Store {
    pub(crate) conn: Connection,
    path: PathBuf,
    pub(crate) identity: Option<Identity>,
    cache: RefCell<DocCache>,
    /// The database's key, kept so that a second connection ([`Store::open_another`]) needs no
    /// second passphrase derivation. Wiped from memory when the store is dropped.
    pub(crate) key: DataKey,
    /// The duplicate finder's name and value frequencies, kept while nothing changes.
    pub(crate) population: crate::reconcile::duplicates::PopulationCache,
    /// Background checkpoints, when asked for ([`Store::checkpoint_in_background`]).
    pub(crate) checkpointer: Option<crate::checkpoint::Checkpointer>,
}

/// Documents used recently, so the next action on the household a worker has open does not
/// load it again. An entry is used only while its version matches the database's, so writes by
/// another process (the CLI beside the app) are never missed.
#[derive(Debug, Default)]
struct DocCache {
    entries: VecDeque<(Uuid, i64, HouseholdDoc)>,
}

const CACHED_DOCUMENTS: usize = 32;

impl DocCache {
    fn take(&mut self, id: Uuid, version: i64) -> Option<HouseholdDoc> {
        let at = self.entries.iter().position(|(i, _, _)| *i == id)?;
        let (_, v, doc) = self.entries.remove(at)?;
        (v == version).then_some(doc)
    }

    fn clear(&mut self) {
        self.entries.clear();
    }

    fn put(&mut self, id: Uuid, version: i64, doc: HouseholdDoc) {
        self.entries.retain(|(i, _, _)| *i != id);
        if self.entries.len() >= CACHED_DOCUMENTS {
            self.entries.pop_back();
        }
        self.entries.push_front((id, version, doc));
    }
}

/// The date validation treats as "today": the device's local date.
pub fn today() -> NaiveDate {
    Local::now().date_naive()
}

impl Store {
    /// Drops every cached document (after households were removed or the store erased).
    pub(crate) fn forget_cached_documents(&self) {
        self.cache.borrow_mut().clear();
    }

    /// Opens the encrypted store in `data_dir` with the worker's passphrase. A directory without
    /// a store gets a new one, encrypted with a new data key wrapped by `passphrase` (which must
    /// then be long enough); a store an older version left unencrypted is encrypted first, once.
    /// A passphrase that does not fit is [`StoreError::WrongPassphrase`]. See [`crate::vault`].
    pub fn open(data_dir: &Path, passphrase: &Passphrase) -> Result<Self> {
        let key = vault::unlock_or_create(data_dir, passphrase)?;
        Self::connect(data_dir, key)
    }

    /// Another connection to this store (the desktop app's sync thread has its own), with the
    /// key this one holds: no passphrase is asked for or derived again.
    pub fn open_another(&self) -> Result<Self> {
        Self::connect(self.data_dir(), self.key.clone())
    }

    fn connect(data_dir: &Path, key: DataKey) -> Result<Self> {
        let path = vault::prepare_files(data_dir)?;
        let mut conn = Connection::open(&path)?;
        vault::apply_key(&conn, &key)?;
        sql::configure(&conn)?;
        sql::migrate(&mut conn)?;
        let identity = read_identity(&conn)?;
        let mut store = Self {
            conn,
            path,
            identity,
            cache: RefCell::default(),
            key,
            population: Default::default(),
            checkpointer: None,
        };
        store.rebuild_stale_projections()?;
        Ok(store)
    }

    /// The data directory the store lives in.
    pub fn data_dir(&self) -> &Path {
        self.path.parent().unwrap_or(Path::new("."))
    }

    /// Rebuilds the projections once when an older version of this program derived them
    /// ([`projection::DERIVATION_VERSION`]); a new store only records the version.
    fn rebuild_stale_projections(&mut self) -> Result<()> {
        if projection_version(&self.conn)? == Some(projection::DERIVATION_VERSION) {
            return Ok(());
        }
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        // Another process (the app's sync thread, the CLI) may have rebuilt meanwhile.
        if projection_version(&tx)? != Some(projection::DERIVATION_VERSION) {
            rebuild_projections(&tx)?;
            put_meta(
                &tx,
                "projection_version",
                &projection::DERIVATION_VERSION.to_string(),
            )?;
        }
        tx.commit()?;
        Ok(())
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    pub fn identity(&self) -> Option<&Identity> {
        self.identity.as_ref()
    }

    fn require_identity(&self) -> Result<&Identity> {
        self.identity.as_ref().ok_or(StoreError::NotInitialised)
    }

    /// Names the worker and device this replica writes as. A worker id comes from enrolment
    /// with a server; offline-only replicas get a fresh one.
    pub fn init(
        &mut self,
        worker_name: &str,
        device_name: &str,
        worker_id: Option<&str>,
    ) -> Result<Identity> {
        if let Some(existing) = &self.identity {
            return Err(StoreError::AlreadyInitialised {
                worker: existing.worker_id.clone(),
            });
        }
        let limit = madadkar_schema::limits::NAME;
        let identity = Identity {
            worker_id: match worker_id {
                Some(id) => {
                    madadkar_schema::clean_text(madadkar_schema::Field::WorkerId, id, limit, true)?
                }
                None => Uuid::now_v7().to_string(),
            },
            worker_name: madadkar_schema::clean_text(
                madadkar_schema::Field::WorkerName,
                worker_name,
                limit,
                true,
            )?,
            device_id: Uuid::now_v7(),
            device_name: madadkar_schema::clean_text(
                madadkar_schema::Field::DeviceName,
                device_name,
                limit,
                true,
            )?,
        };
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        for (key, value) in [
            ("worker_id", identity.worker_id.clone()),
            ("worker_name", identity.worker_name.clone()),
            ("device_id", identity.device_id.to_string()),
            ("device_name", identity.device_name.clone()),
        ] {
            tx.execute(
                "INSERT INTO meta (key, value) VALUES (?, ?)",
                params![key, value],
            )?;
        }
        authorship::device_key(&tx)?;
        tx.commit()?;
        self.identity = Some(identity.clone());
        Ok(identity)
    }

    fn meta(&self) -> Result<ChangeMeta> {
        let id = self.require_identity()?;
        Ok(ChangeMeta::new(
            &id.worker_id,
            &id.worker_name,
            &id.device_id.to_string(),
        ))
    }

    /// Registers a household with its head; returns the household's and the head's ids.
    pub fn add_household(
        &mut self,
        household: &NewHousehold,
        head: &NewMember,
    ) -> Result<(Uuid, Uuid)> {
        let mut household = household.validated(today())?;
        // Written as the server will first assign it (the pusher's group, and the pusher when
        // a field worker), so that caseloads read from the documents agree with the server.
        if household.assigned_group.is_none() {
            household.assigned_group = self.group()?;
            if household.assigned_worker.is_none()
                && household.assigned_group.is_some()
                && self.role()? == madadkar_schema::Role::Field
            {
                household.assigned_worker = self.identity.as_ref().map(|i| i.worker_id.clone());
            }
        }
        let head = NewMember {
            relation: madadkar_schema::Relation::Head,
            ..head.validated(today())?
        };
        if head.national_id.is_none() {
            return Err(madadkar_schema::ValidationError::Required {
                field: madadkar_schema::Field::HeadNationalId,
            }
            .into());
        }
        let meta = self.meta()?;
        let actor = device_actor(self.require_identity()?.device_id);
        let id = Uuid::now_v7();
        let (mut doc, head_id) =
            HouseholdDoc::create(actor, id, &household, &head, &meta, Utc::now())?;
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        tx.execute("INSERT INTO documents (id) VALUES (?)", [id.to_string()])?;
        let changes = doc.changes_since(&[]);
        append_changes(&tx, id, &changes, Origin::Local)?;
        project(&tx, id, &doc)?;
        tx.commit()?;
        Ok((id, head_id))
    }

    /// Loads a household's document, applies `action` as one change, and stores the result with
    /// its projections in one transaction.
    pub(crate) fn write<T>(
        &mut self,
        household: Uuid,
        action: impl FnOnce(&mut HouseholdDoc, &ChangeMeta, DateTime<Utc>) -> Result<T>,
    ) -> Result<T> {
        let mut value = None;
        let mut action = Some(action);
        self.write_each(&[household], |_, doc, meta, now| {
            if let Some(action) = action.take() {
                value = Some(action(doc, meta, now)?);
            }
            Ok(())
        })?;
        value.ok_or_else(|| StoreError::NotFound {
            kind: "household",
            id: household.to_string(),
        })
    }

    /// Applies `action` to each household in turn, as one change each, all in one transaction:
    /// actions that span households (a "not a duplicate" decision kept in both, a conflict
    /// resolved in a survivor and the household merged into it) land whole or not at all.
    pub(crate) fn write_each(
        &mut self,
        households: &[Uuid],
        mut action: impl FnMut(Uuid, &mut HouseholdDoc, &ChangeMeta, DateTime<Utc>) -> Result<()>,
    ) -> Result<()> {
        let meta = self.meta()?;
        let actor = device_actor(self.require_identity()?.device_id);
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        let mut written = Vec::new();
        for &household in households {
            let (_, mut doc) = checkout(&self.cache, &tx, household)?;
            doc.set_actor(actor.clone());
            let before = doc.heads();
            doc.migrate(&meta, Utc::now())?;
            action(household, &mut doc, &meta, Utc::now())?;
            let changes = doc.changes_since(&before);
            append_changes(&tx, household, &changes, Origin::Local)?;
            let rows = projection::derive_after_local_change(&tx, &household.to_string(), &doc)?;
            projection::write(&tx, &household.to_string(), &rows)?;
            maybe_compact(&tx, household, &mut doc)?;
            written.push((household, doc));
        }
        let mut versions = Vec::new();
        for (household, doc) in written {
            versions.push((household, document_version(&tx, household)?, doc));
        }
        tx.commit()?;
        for (household, version, doc) in versions {
            self.cache.borrow_mut().put(household, version, doc);
        }
        Ok(())
    }

    /// Runs `read` on a household's document, from the cache when it is current.
    pub(crate) fn with_document<T>(
        &self,
        id: Uuid,
        read: impl FnOnce(&mut HouseholdDoc) -> Result<T>,
    ) -> Result<T> {
        let (version, mut doc) = checkout(&self.cache, &self.conn, id)?;
        let value = read(&mut doc);
        self.cache.borrow_mut().put(id, version, doc);
        value
    }

    pub fn edit_household(&mut self, id: Uuid, edit: &HouseholdEdit) -> Result<()> {
        let edit = edit.validated(today())?;
        if edit.is_empty() {
            return Err(madadkar_schema::ValidationError::NothingToChange.into());
        }
        let id = self.follow_redirect(id)?;
        self.edit_household_in(id, &edit)
    }

    /// [`Self::edit_household`] on this very household, not following its redirect (the
    /// assignment the server records for a retired household is its own). `edit` is validated.
    pub(crate) fn edit_household_in(&mut self, id: Uuid, edit: &HouseholdEdit) -> Result<()> {
        self.write(
            id,
            |doc, meta, now| Ok(doc.edit_household(edit, meta, now)?),
        )
    }

    pub fn add_member(&mut self, household: Uuid, member: &NewMember) -> Result<Uuid> {
        let member = member.validated(today())?;
        if member.relation == madadkar_schema::Relation::Head {
            return Err(madadkar_schema::ValidationError::Invalid {
                field: madadkar_schema::Field::Relation,
                input: "head".into(),
                reason: "is taken: a household has one head, registered with it",
            }
            .into());
        }
        let household = self.follow_redirect(household)?;
        self.write(household, |doc, meta, now| {
            Ok(doc.add_member(&member, meta, now)?)
        })
    }

    pub fn edit_member(&mut self, household: Uuid, member: Uuid, edit: &MemberEdit) -> Result<()> {
        let edit = edit.validated(today())?;
        if edit.is_empty() {
            return Err(madadkar_schema::ValidationError::NothingToChange.into());
        }
        let household = self.follow_redirect(household)?;
        let owner = self.owner_of(household, member)?;
        self.write(owner, |doc, meta, now| {
            Ok(doc.edit_member(member, &edit, meta, now)?)
        })
    }

    pub fn add_visit(&mut self, household: Uuid, visit: &NewVisit) -> Result<Uuid> {
        let visit = visit.validated(today())?;
        let household = self.follow_redirect(household)?;
        self.write(household, |doc, meta, now| {
            Ok(doc.add_visit(&visit, meta, now)?)
        })
    }

    /// Adds a referral; the partner it names must be an active one of the directory, of the
    /// kind the referral goes to (a loan to a bank).
    pub fn add_referral(&mut self, household: Uuid, referral: &NewReferral) -> Result<Uuid> {
        let referral = referral.validated(today())?;
        if let Some(code) = &referral.partner {
            crate::partners::require_partner(&self.conn, code, Some(referral.kind.partner_kind()))?;
        }
        let household = self.follow_redirect(household)?;
        if let Some(visit) = referral.visit_id {
            // A referral belongs with its visit's household (one merged into this one, maybe).
            let owner = self.owner_of(household, visit)?;
            return self.write(owner, |doc, meta, now| {
                Ok(doc.add_referral(&referral, meta, now)?)
            });
        }
        self.write(household, |doc, meta, now| {
            Ok(doc.add_referral(&referral, meta, now)?)
        })
    }

    pub fn update_referral(
        &mut self,
        household: Uuid,
        referral: Uuid,
        update: &ReferralUpdate,
    ) -> Result<()> {
        let update = update.validated(today())?;
        let household = self.follow_redirect(household)?;
        let owner = self.owner_of(household, referral)?;
        self.write(owner, |doc, meta, now| {
            Ok(doc.update_referral(referral, &update, meta, now)?)
        })
    }

    /// Settles a field (normally one in conflict) to `value` with a new change.
    /// A value a survivor and a household merged into it hold differently is settled in both.
    pub fn resolve_conflict(
        &mut self,
        household: Uuid,
        path: &madadkar_schema::FieldPath,
        value: &str,
    ) -> Result<()> {
        let household = self.follow_redirect(household)?;
        // One composition serves both questions: is the value held differently by a household
        // merged into this one (then both are written), and which document holds the field.
        let composition = self.composed(household)?;
        if let Some((other, other_path)) =
            composition.as_ref().and_then(|c| c.merged_conflict(path))
        {
            let other_path = other_path.clone();
            return self.write_each(&[household, other], |id, doc, meta, now| {
                let at = if id == household { path } else { &other_path };
                Ok(doc.resolve(at, value, meta, now)?)
            });
        }
        let owner = composition.map_or(household, |c| c.owner_of_path(path, household));
        self.write(owner, |doc, meta, now| {
            Ok(doc.resolve(path, value, meta, now)?)
        })
    }

    /// A household as its page shows it. The id of a household merged into another that is
    /// stored here leads to that survivor (`redirected_from` says so); one whose survivor is
    /// outside this replica's scope shows itself, with its redirect (`merged`).
    pub fn household(&self, id: Uuid) -> Result<HouseholdDetails> {
        let shown = self.follow_redirect(id)?;
        let mut details = self.with_document(shown, |doc| {
            Ok(HouseholdDetails {
                household: doc.read()?,
                conflicts: doc.conflicts()?,
                merged_from: Vec::new(),
                redirected_from: (shown != id).then_some(id),
            })
        })?;
        self.name_conflict_authors(&mut details.conflicts)?;
        if let Some(composition) = self.composition(shown)? {
            details.household = composition.household;
            details.merged_from = composition.absorbed;
            details
                .conflicts
                .extend(composition.conflicts.into_iter().map(|m| m.conflict));
        }
        Ok(details)
    }

    /// The authors' names of conflicting values, from the server's records by device.
    fn name_conflict_authors(&self, conflicts: &mut [Conflict]) -> Result<()> {
        let authors = authorship::Authors::load(&self.conn, self.identity.clone())?;
        for value in conflicts.iter_mut().flat_map(|c| c.values.iter_mut()) {
            authors.name_value(value);
        }
        Ok(())
    }

    /// The household's document itself, for replication and tests.
    pub fn document(&self, id: Uuid) -> Result<HouseholdDoc> {
        load_document(&self.conn, id)
    }

    /// The projection rows stored for a household (what lists and search read).
    /// A household's stored document as Automerge holds it, without any check of its layout:
    /// what this replica holds, whatever its version (for maintenance and tests).
    pub fn raw_document(&self, id: Uuid) -> Result<AutoCommit> {
        load_raw(&self.conn, id)?.ok_or_else(|| StoreError::NotFound {
            kind: "household",
            id: id.to_string(),
        })
    }

    pub fn projection_rows(&self, id: Uuid) -> Result<Option<projection::HouseholdRows>> {
        projection::read(&self.conn, &id.to_string())
    }

    /// Every change to a household, and to the households merged into it (each in causal
    /// order, the merged households' after the household's own).
    pub fn history(&self, id: Uuid) -> Result<Vec<ChangeInfo>> {
        let id = self.follow_redirect(id)?;
        let mut history = self.with_document(id, |doc| Ok(doc.history()))?;
        for other in crate::reconcile::compose::absorbed_ids(&self.conn, id)? {
            history.extend(self.with_document(other, |doc| Ok(doc.history()))?);
        }
        let authors = authorship::Authors::load(&self.conn, self.identity.clone())?;
        for entry in &mut history {
            authors.name_change(entry);
        }
        Ok(history)
    }

    pub fn household_ids(&self) -> Result<Vec<Uuid>> {
        let mut stmt = self.conn.prepare("SELECT id FROM documents ORDER BY id")?;
        let ids = stmt
            .query_map([], |r| r.get::<_, String>(0))?
            .collect::<Result<Vec<_>, _>>()?;
        Ok(ids.iter().filter_map(|s| Uuid::parse_str(s).ok()).collect())
    }

    /// Finds the household whose id starts with `prefix` (at least 4 characters).
    pub fn resolve_household_id(&self, prefix: &str) -> Result<Uuid> {
        self.resolve_id("household", "documents", prefix)
    }

    /// Finds the entity of `kind` in `table` (by its `id` column) whose id starts with `prefix`
    /// (at least 4 characters, hex digits and dashes); a whole id is taken as it is.
    pub(crate) fn resolve_id(
        &self,
        kind: &'static str,
        table: &'static str,
        prefix: &str,
    ) -> Result<Uuid> {
        let prefix = prefix.trim().to_lowercase();
        if let Ok(id) = Uuid::parse_str(&prefix) {
            return Ok(id);
        }
        let not_found = || StoreError::NotFound {
            kind,
            id: prefix.clone(),
        };
        if prefix.len() < 4 || !prefix.chars().all(|c| c.is_ascii_hexdigit() || c == '-') {
            return Err(not_found());
        }
        let mut stmt = self.conn.prepare_cached(&format!(
            "SELECT id FROM {table} WHERE id >= ? AND id < ? ORDER BY id LIMIT 2"
        ))?;
        let upper = format!("{prefix}\u{10FFFF}");
        let ids = stmt
            .query_map(params![prefix, upper], |r| r.get::<_, String>(0))?
            .collect::<Result<Vec<_>, _>>()?;
        match ids.as_slice() {
            [one] => Uuid::parse_str(one).map_err(|_| not_found()),
            [] => Err(not_found()),
            _ => Err(StoreError::Ambiguous { kind, id: prefix }),
        }
    }

    pub fn list(&self, query: &ListQuery) -> Result<Page<HouseholdSummary>> {
        query::list(&self.conn, query)
    }

    /// A page of the caseload without the count of all it lists ([`query::list_page`]).
    pub fn list_page(&self, query: &ListQuery) -> Result<query::ListPage> {
        query::list_page(&self.conn, query)
    }

    /// How many households the list's filters match ([`query::count`]).
    pub fn count(&self, query: &ListQuery) -> Result<i64> {
        query::count(&self.conn, query)
    }

    pub fn search(&self, text: &str, limit: usize) -> Result<Vec<HouseholdSummary>> {
        query::search(&self.conn, text, limit)
    }

    pub fn followups(&self, today: NaiveDate, within_days: u32) -> Result<Vec<Followup>> {
        query::followups(&self.conn, today, within_days)
    }

    /// Changes queued for a sync server.
    pub fn pending_changes(&self) -> Result<i64> {
        Ok(self
            .conn
            .query_row("SELECT count(*) FROM outbox", [], |r| r.get(0))?)
    }

    /// Every household (whole history) in the plain bundle format, signed by this device, in
    /// memory ([`Store::export_bundle`] encrypts it into a file).
    pub fn bundle_bytes(&self) -> Result<Vec<u8>> {
        Ok(self.bundle()?.1)
    }

    /// How many households a bundle of this store holds, and the bundle.
    fn bundle(&self) -> Result<(usize, Vec<u8>)> {
        let device = self.require_identity()?.device_id;
        let key = authorship::device_key(&self.conn)?;
        let mut documents = Vec::new();
        for id in self.household_ids()? {
            // Every household, a newer version's too: bundles pass on what this app cannot read.
            let mut doc = load_received(&self.conn, id)?;
            // The authors' signatures of what the server has not acknowledged yet, so the
            // colleague who imports the bundle can relay it.
            let signatures = authorship::queued_signatures(&self.conn, id)?
                .into_iter()
                .collect();
            documents.push(bundle::Outgoing {
                id,
                document: doc.save(),
                signatures,
            });
        }
        Ok((documents.len(), bundle::encode(&documents, device, &key)))
    }

    /// Writes every household (whole history) into a bundle file encrypted to `passphrase`,
    /// atomically; returns how many households it holds.
    pub fn export_bundle(&self, path: &Path, passphrase: &Passphrase) -> Result<usize> {
        let (households, bytes) = self.bundle()?;
        bundle::write_file(path, &bytes, passphrase)?;
        Ok(households)
    }

    /// Merges an encrypted bundle file from another replica; see
    /// [`Store::import_bundle_bytes`].
    pub fn import_bundle(&mut self, path: &Path, passphrase: &Passphrase) -> Result<ImportReport> {
        let bytes = bundle::read_file(path, passphrase)?;
        self.import_bundle_bytes(&bytes)
    }

    /// Merges a plain bundle from another replica. Every document is parsed, checked and merged
    /// in memory first; only if all of them are sound is anything written, in one transaction.
    /// Importing the same bundle twice changes nothing.
    pub fn import_bundle_bytes(&mut self, bytes: &[u8]) -> Result<ImportReport> {
        let decoded = bundle::decode(bytes)?;
        let signer = self.bundle_signer(&decoded)?;
        let mut documents = Vec::with_capacity(decoded.households.len());
        for incoming in decoded.households {
            let declared = incoming.id;
            let bad = |e: &dyn std::fmt::Display| {
                StoreError::Bundle(format!("household {declared}: {e}"))
            };
            let doc = AutoCommit::load(incoming.document).map_err(|e| bad(&e))?;
            // A household of a newer version is kept read-only; one whose id differs from the
            // bundle's is refused.
            documents.push((
                declared,
                HouseholdDoc::receive(doc, declared).map_err(|e| bad(&e))?,
                incoming.signatures,
            ));
        }
        let mut report = self.merge_received(documents)?;
        report.signed_by = signer;
        Ok(report)
    }

    /// Who signed a bundle, by the server's records. A bundle whose signature does not match
    /// the key of the device it names, as the directory knows it, was changed on the way and is
    /// refused; one from a device the directory does not know (or an older, unsigned bundle)
    /// is read as unverified.
    fn bundle_signer(&self, decoded: &bundle::Decoded<'_>) -> Result<BundleSigner> {
        let Some(signed) = &decoded.signed_by else {
            return Ok(BundleSigner::Unsigned);
        };
        let authors = authorship::Authors::load(&self.conn, self.identity.clone())?;
        let key = authorship::device_key(&self.conn)?;
        if let Some(name) =
            authors.bundle_signer(signed.device, signed.content, &signed.signature, &key)
        {
            return Ok(BundleSigner::Verified { worker_name: name });
        }
        if authors.knows_key(signed.device) {
            return Err(StoreError::Bundle(
                "the bundle's signature does not match the device that wrote it: it was changed after it was written"
                    .into(),
            ));
        }
        Ok(BundleSigner::UnknownDevice {
            device_id: signed.device,
        })
    }

    /// Merges whole household documents from elsewhere (a bundle, the demo generator). Each is
    /// checked and merged in memory first; then all are written in one transaction, or none.
    /// Their new changes are queued for the server.
    pub fn merge_documents(&mut self, documents: Vec<HouseholdDoc>) -> Result<ImportReport> {
        let documents = documents
            .into_iter()
            .map(|doc| Ok((doc.id()?, Received::Current(doc), Vec::new())))
            .collect::<Result<Vec<_>>>()?;
        self.merge_received(documents)
    }

    /// [`Self::merge_documents`] for documents of any version: one a newer Madadkar wrote (or
    /// that becomes newer by the merge) is stored whole and listed read-only.
    fn merge_received(
        &mut self,
        documents: Vec<(Uuid, Received, Vec<bundle::ChangeSignature>)>,
    ) -> Result<ImportReport> {
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        let mut report = ImportReport::default();
        let mut writes = Vec::new();
        let mut signatures = Vec::new();
        for (id, mut theirs, signed) in documents {
            signatures.extend(signed);
            let bad =
                |e: &dyn std::fmt::Display| StoreError::Bundle(format!("household {id}: {e}"));
            // Deriving the projections reads the whole document: that is the validation.
            let rows = projection::derive_received(id, &theirs).map_err(|e| bad(&e))?;
            match load_raw(&tx, id)? {
                Some(mut ours) => {
                    let before = ours.get_heads();
                    ours.merge(&mut theirs.into_automerge())
                        .map_err(|e| bad(&e))?;
                    let mut merged = HouseholdDoc::receive(ours, id).map_err(|e| bad(&e))?;
                    let changes = merged.changes_since(&before);
                    if changes.is_empty() {
                        report.households_unchanged += 1;
                        continue;
                    }
                    let rows = projection::derive_received(id, &merged).map_err(|e| bad(&e))?;
                    report.households_updated += 1;
                    report.changes_new += changes.len();
                    writes.push((id, merged, changes, rows, false));
                }
                None => {
                    let changes = theirs.changes_since(&[]);
                    report.households_new += 1;
                    report.changes_new += changes.len();
                    writes.push((id, theirs, changes, rows, true));
                }
            }
        }
        for (id, mut doc, changes, rows, is_new) in writes {
            if is_new {
                tx.execute("INSERT INTO documents (id) VALUES (?)", [id.to_string()])?;
            }
            append_changes(&tx, id, &changes, Origin::Bundle)?;
            projection::write(&tx, &id.to_string(), &rows)?;
            maybe_compact(&tx, id, &mut doc)?;
        }
        // The authors' signatures travel with the changes they queue, for the server.
        for (hash, signature) in &signatures {
            authorship::queue_signature(&tx, hash, signature)?;
        }
        tx.commit()?;
        Ok(report)
    }

    /// Rebuilds every projection from the documents; returns how many households it indexed.
    pub fn rebuild_index(&mut self) -> Result<usize> {
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        let rebuilt = rebuild_projections(&tx)?;
        tx.commit()?;
        Ok(rebuilt)
    }

    /// Folds every household's changes into a fresh snapshot; returns how many were compacted.
    pub fn compact(&mut self) -> Result<usize> {
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        let ids: Vec<String> = tx
            .prepare("SELECT DISTINCT doc_id FROM changes")?
            .query_map([], |r| r.get(0))?
            .collect::<Result<_, _>>()?;
        for id in &ids {
            if let Ok(uuid) = Uuid::parse_str(id) {
                let mut doc = load_received(&tx, uuid)?;
                write_snapshot(&tx, uuid, &mut doc)?;
            }
        }
        tx.commit()?;
        Ok(ids.len())
    }

    /// Checks the database file, that every stored change is intact and every document loads,
    /// and that the projections say exactly what the documents say.
    pub fn check(&self) -> Result<CheckReport> {
        let mut report = CheckReport::default();
        let integrity: String = self
            .conn
            .query_row("PRAGMA integrity_check", [], |r| r.get(0))?;
        if integrity != "ok" {
            report
                .problems
                .push(format!("sqlite integrity_check: {integrity}"));
        }
        self.check_changes(&mut report)?;
        self.check_documents(&mut report)?;
        self.check_orphans(&mut report)?;
        Ok(report)
    }

    /// Every stored change parses and its hash matches its bytes.
    fn check_changes(&self, report: &mut CheckReport) -> Result<()> {
        let mut stmt = self
            .conn
            .prepare("SELECT doc_id, hash, bytes FROM changes")?;
        let mut rows = stmt.query([])?;
        while let Some(row) = rows.next()? {
            report.changes += 1;
            let doc_id: String = row.get(0)?;
            let hash: Vec<u8> = row.get(1)?;
            let bytes: Vec<u8> = row.get(2)?;
            match Change::try_from(bytes.as_slice()) {
                Ok(c) if c.hash().0.as_slice() == hash.as_slice() => {}
                Ok(_) => report.problems.push(format!(
                    "household {doc_id}: a change's hash does not match its bytes"
                )),
                Err(e) => report
                    .problems
                    .push(format!("household {doc_id}: a change does not parse: {e}")),
            }
        }
        Ok(())
    }

    /// Every document loads, is complete, carries its own id and matches its projections.
    fn check_documents(&self, report: &mut CheckReport) -> Result<()> {
        let ids = self.household_ids()?;
        report.households = ids.len();
        for id in &ids {
            let mut raw = match load_raw(&self.conn, *id) {
                Ok(Some(raw)) => raw,
                Ok(None) => continue,
                Err(e) => {
                    report.problems.push(format!("household {id}: {e}"));
                    continue;
                }
            };
            let missing = raw.get_missing_deps(&[]);
            if !missing.is_empty() {
                report.problems.push(format!(
                    "household {id}: {} changes depend on changes this replica lacks",
                    missing.len()
                ));
            }
            // Of any version, carrying its own id (a newer version's is checked as far as
            // this one can: a household with this id, listed read-only).
            let doc = match HouseholdDoc::receive(raw, *id) {
                Ok(doc) => doc,
                Err(e) => {
                    report.problems.push(format!("household {id}: {e}"));
                    continue;
                }
            };
            let mut expected = projection::derive_received(*id, &doc)?;
            // A survivor's own row and search text come from its composition.
            if crate::reconcile::compose::has_absorbed(&self.conn, &id.to_string())?
                && let Some(composed) = crate::reconcile::compose::composed_rows(&self.conn, *id)?
            {
                expected.household = composed.household;
                expected.search = composed.search;
            }
            match projection::read(&self.conn, &id.to_string())? {
                Some(stored) if stored == expected => {}
                Some(_) => report.problems.push(format!(
                    "household {id}: projections differ from the document (run rebuild-index)"
                )),
                None => report.problems.push(format!(
                    "household {id}: missing from the projections (run rebuild-index)"
                )),
            }
        }
        Ok(())
    }

    /// No projected household or search entry outlives its document.
    fn check_orphans(&self, report: &mut CheckReport) -> Result<()> {
        let orphans: i64 = self.conn.query_row(
            "SELECT count(*) FROM p_households WHERE id NOT IN (SELECT id FROM documents)",
            [],
            |r| r.get(0),
        )?;
        let orphan_search: i64 = self.conn.query_row(
            "SELECT count(*) FROM p_search WHERE rowid NOT IN (SELECT rowid FROM p_households)",
            [],
            |r| r.get(0),
        )?;
        if orphan_search > 0 {
            report.problems.push(format!(
                "{orphan_search} search entries belong to no household (run rebuild-index)"
            ));
        }
        if orphans > 0 {
            report.problems.push(format!(
                "{orphans} projected households have no document (run rebuild-index)"
            ));
        }
        Ok(())
    }
}

/// Which derivation rules made the stored projections (`None` before any were recorded).
fn projection_version(conn: &Connection) -> Result<Option<i64>> {
    let stored: Option<String> = conn
        .query_row(
            "SELECT value FROM meta WHERE key = 'projection_version'",
            [],
            |r| r.get(0),
        )
        .optional()?;
    Ok(stored.and_then(|v| v.parse().ok()))
}

/// Derives every projection again from the documents, inside the caller's transaction.
fn rebuild_projections(tx: &Transaction<'_>) -> Result<usize> {
    for (table, _) in crate::projection::TABLES {
        tx.execute(&format!("DELETE FROM {table}"), [])?;
    }
    let ids: Vec<String> = tx
        .prepare("SELECT id FROM documents")?
        .query_map([], |r| r.get(0))?
        .collect::<Result<_, _>>()?;
    for id in &ids {
        let uuid = Uuid::parse_str(id).map_err(|_| StoreError::NotFound {
            kind: "household",
            id: id.clone(),
        })?;
        let doc = load_received(tx, uuid)?;
        let rows = projection::derive_received(uuid, &doc)?;
        projection::write(tx, id, &rows)?;
    }
    Ok(ids.len())
}

pub(crate) fn read_identity(conn: &Connection) -> Result<Option<Identity>> {
    let get = |key: &str| -> Result<Option<String>> {
        Ok(conn
            .query_row("SELECT value FROM meta WHERE key = ?", [key], |r| r.get(0))
            .optional()?)
    };
    let (Some(worker_id), Some(device_id)) = (get("worker_id")?, get("device_id")?) else {
        return Ok(None);
    };
    Ok(Some(Identity {
        worker_id,
        worker_name: get("worker_name")?.unwrap_or_default(),
        device_id: Uuid::parse_str(&device_id).map_err(|_| StoreError::NotInitialised)?,
        device_name: get("device_name")?.unwrap_or_default(),
    }))
}

/// Sets one `meta` entry, in the caller's connection or transaction.
pub(crate) fn put_meta(conn: &Connection, key: &str, value: &str) -> Result<()> {
    conn.prepare_cached(
        "INSERT INTO meta (key, value) VALUES (?1, ?2) ON CONFLICT (key) DO UPDATE SET value = ?2",
    )?
    .execute(params![key, value])?;
    Ok(())
}

/// Where stored changes came from; all but the server's own are queued for the server.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Origin {
    Local,
    Bundle,
    Server,
}

/// Appends changes after a document's snapshot and, unless they came from the server, queues
/// them for it in the order given (causal order, which pushes rely on).
pub(crate) fn append_changes(
    tx: &Connection,
    doc_id: Uuid,
    changes: &[Change],
    origin: Origin,
) -> Result<()> {
    let queued = origin != Origin::Server;
    let household = doc_id;
    let origin = match origin {
        Origin::Local => "local",
        Origin::Bundle | Origin::Server => "remote",
    };
    let doc_id = doc_id.to_string();
    let mut insert = tx.prepare_cached(
        "INSERT OR IGNORE INTO changes (doc_id, hash, bytes, origin) VALUES (?, ?, ?, ?)",
    )?;
    let mut queue = tx.prepare_cached(
        "INSERT OR IGNORE INTO outbox (hash, doc_id, queued_seq) \
         VALUES (?, ?, (SELECT coalesce(max(queued_seq), 0) + 1 FROM outbox))",
    )?;
    tx.prepare_cached("UPDATE documents SET version = version + 1 WHERE id = ?")?
        .execute([&doc_id])?;
    // This device signs what it makes, so a colleague's device may relay it (a USB bundle).
    let key = match origin {
        "local" if queued => Some(authorship::device_key(tx)?),
        _ => None,
    };
    for change in changes {
        let hash = change.hash();
        insert.execute(params![
            doc_id,
            hash.0.as_slice(),
            change.raw_bytes(),
            origin
        ])?;
        if queued {
            queue.execute(params![hash.0.as_slice(), doc_id])?;
        }
        if let Some(key) = &key {
            authorship::queue_signature(tx, &hash.0, &key.sign(household, &hash.0))?;
        }
    }
    Ok(())
}

pub(crate) fn project(tx: &Connection, id: Uuid, doc: &HouseholdDoc) -> Result<()> {
    let rows = projection::derive(doc)?;
    projection::write(tx, &id.to_string(), &rows)
}

/// What folding a document into a snapshot needs of it, whatever its version.
pub(crate) trait Snapshot {
    /// The document saved without compression (packed for the disk by
    /// [`crate::snapshot::pack`]) and how many changes it holds.
    fn snapshot(&mut self) -> (Vec<u8>, usize);
}

impl Snapshot for HouseholdDoc {
    fn snapshot(&mut self) -> (Vec<u8>, usize) {
        (self.save_nocompress(), self.changes_since(&[]).len())
    }
}

impl Snapshot for Received {
    fn snapshot(&mut self) -> (Vec<u8>, usize) {
        (self.save_nocompress(), self.changes_since(&[]).len())
    }
}

fn write_snapshot(tx: &Connection, id: Uuid, doc: &mut impl Snapshot) -> Result<()> {
    let (saved, count) = doc.snapshot();
    let snapshot = crate::snapshot::pack(&saved)?;
    let count = count as i64;
    let id = id.to_string();
    tx.execute(
        "UPDATE documents SET snapshot = ?, snapshot_changes = ? WHERE id = ?",
        params![snapshot, count, id],
    )?;
    tx.execute("DELETE FROM changes WHERE doc_id = ?", [id])?;
    Ok(())
}

pub(crate) fn maybe_compact(tx: &Connection, id: Uuid, doc: &mut impl Snapshot) -> Result<()> {
    let pending: i64 = tx
        .prepare_cached("SELECT count(*) FROM changes WHERE doc_id = ?")?
        .query_row([id.to_string()], |r| r.get(0))?;
    if pending >= COMPACT_AFTER {
        write_snapshot(tx, id, doc)?;
    }
    Ok(())
}

/// A household's document with its current version: from the cache when the cached copy is
/// current, loaded otherwise. The caller puts it back once done.
fn checkout(cache: &RefCell<DocCache>, conn: &Connection, id: Uuid) -> Result<(i64, HouseholdDoc)> {
    let version = document_version(conn, id)?;
    let cached = cache.borrow_mut().take(id, version);
    let doc = match cached {
        Some(doc) => doc,
        None => load_document(conn, id)?,
    };
    Ok((version, doc))
}

fn document_version(conn: &Connection, id: Uuid) -> Result<i64> {
    conn.prepare_cached(sql::DOCUMENT_VERSION)?
        .query_row([id.to_string()], |r| r.get(0))
        .optional()?
        .ok_or_else(|| StoreError::NotFound {
            kind: "household",
            id: id.to_string(),
        })
}

/// A household's stored document as Automerge holds it (snapshot plus the changes after it),
/// without any check of its layout: for the paths that must carry a document of any version
/// (sync, bundles, maintenance). Stored changes are parsed within the same bounds as received
/// ones.
pub(crate) fn load_raw(conn: &Connection, id: Uuid) -> Result<Option<AutoCommit>> {
    let key = id.to_string();
    let snapshot: Option<Option<Vec<u8>>> = conn
        .prepare_cached("SELECT snapshot FROM documents WHERE id = ?")?
        .query_row([&key], |r| r.get(0))
        .optional()?;
    let Some(snapshot) = snapshot else {
        return Ok(None);
    };
    let mut doc = match snapshot {
        Some(bytes) => {
            AutoCommit::load(&crate::snapshot::unpack(&bytes)?).map_err(DocumentError::from)?
        }
        None => AutoCommit::new(),
    };
    let mut stmt =
        conn.prepare_cached("SELECT bytes FROM changes WHERE doc_id = ? ORDER BY seq")?;
    let changes = stmt
        .query_map([&key], |r| r.get::<_, Vec<u8>>(0))?
        .map(|bytes| {
            let bytes = bytes?;
            parse_change(&bytes)
                .map_err(|e| DocumentError::Malformed(format!("stored change: {e}")).into())
        })
        .collect::<Result<Vec<_>>>()?;
    doc.apply_changes(changes).map_err(DocumentError::from)?;
    Ok(Some(doc))
}

/// A household's stored document sorted by version: one this program writes, or one a newer
/// Madadkar wrote (kept read-only).
pub(crate) fn load_received(conn: &Connection, id: Uuid) -> Result<Received> {
    let doc = load_raw(conn, id)?.ok_or_else(|| StoreError::NotFound {
        kind: "household",
        id: id.to_string(),
    })?;
    Ok(HouseholdDoc::receive(doc, id)?)
}

/// A household's document to read or write. One a newer Madadkar wrote is refused with
/// [`DocumentError::TooNew`] ("update the app"): this version never writes to it.
pub(crate) fn try_load_document(conn: &Connection, id: Uuid) -> Result<Option<HouseholdDoc>> {
    let Some(doc) = load_raw(conn, id)? else {
        return Ok(None);
    };
    match HouseholdDoc::receive(doc, id)? {
        Received::Current(doc) => Ok(Some(doc)),
        Received::Newer(doc) => Err(DocumentError::TooNew {
            found: doc.version(),
            supported: SCHEMA_VERSION,
        }
        .into()),
    }
}

pub(crate) fn load_document(conn: &Connection, id: Uuid) -> Result<HouseholdDoc> {
    try_load_document(conn, id)?.ok_or_else(|| StoreError::NotFound {
        kind: "household",
        id: id.to_string(),
    })
}
