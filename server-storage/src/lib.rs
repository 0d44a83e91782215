//! The sync server's storage contract: the [`Storage`] trait every backend implements (SQLite,
//! embedded, in `madadkar-server-sqlite`; PostgreSQL in `madadkar-server-postgres`), the records
//! it speaks in, and what backends share: the audit chain's format ([`audit`]), the partner
//! directory's validation ([`partners`]) and the facts read from household documents
//! ([`facts`]). No backend type leaks through it.
//!
//! The trait is synchronous: handlers call it inside `spawn_blocking`, which keeps backends
//! simple (rusqlite, postgres) and keeps blocking I/O off the async executor.

pub mod audit;
#[cfg(feature = "conformance")]
pub mod conformance;
pub mod facts;
pub mod partners;
pub mod sql;

use std::collections::{HashMap, HashSet};

use chrono::{DateTime, Utc};
use madadkar_schema::{Partner, Role};
use serde::Serialize;
use thiserror::Error;
use uuid::Uuid;

use crate::audit::{AuditEntry, AuditEvent, AuditQuery, AuditRow};

#[derive(Debug, Error)]
pub enum StorageError {
    #[error("{kind} {id:?} not found")]
    NotFound { kind: &'static str, id: String },
    #[error("{0}")]
    Conflict(String),
    /// A change reuses the (actor, sequence number) of another change the household holds.
    #[error(
        "household {household}: a change reuses the actor and sequence number of another change the server holds"
    )]
    DuplicateSeq { household: Uuid },
    #[error("the enrolment code is unknown, used or expired")]
    BadCode,
    /// A partner the directory cannot hold (see [`crate::partners::validated`]).
    #[error(transparent)]
    BadPartner(#[from] crate::partners::BadPartner),
    /// A stored value that cannot be what it claims (an unknown role, a device id that is no
    /// UUID, a date that does not parse): refused rather than read as a default.
    #[error("the database holds a bad value: {what}")]
    Corrupt { what: String },
    #[error("storage backend: {0}")]
    Backend(String),
}

pub type Result<T, E = StorageError> = std::result::Result<T, E>;

/// A 32-byte hash (of an Automerge change or a token).
pub type Hash = [u8; 32];

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Group {
    pub id: String,
    pub name: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct WorkerRecord {
    pub id: String,
    pub name: String,
    pub group_id: Option<String>,
    pub role: Role,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DeviceRecord {
    pub id: Uuid,
    pub worker_id: String,
    pub name: String,
    pub enrolled_at: DateTime<Utc>,
    pub revoked_at: Option<DateTime<Utc>>,
    pub last_seen_at: Option<DateTime<Utc>>,
    /// The worker id the device wrote with before it was enrolled.
    pub local_worker_id: Option<String>,
    /// The device's Ed25519 public key (hex), when it registered one at enrolment.
    pub signing_key: Option<String>,
    /// When the administrator began retiring it: it may push its pending work, then pulls are
    /// answered `device_retired` and the device erases its store.
    pub retiring_at: Option<DateTime<Utc>>,
}

/// What a client compares with its copies to know whether to fetch them again.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Versions {
    /// The directory of devices (see [`Storage::directory`]); changes whenever a device or its
    /// worker's name or group changes.
    pub directory: u64,
    /// Every scope's household list; changes whenever a household may have left a scope.
    pub scope: u64,
}

/// A device enrolling with a one-time code.
#[derive(Debug, Clone)]
pub struct NewDevice {
    pub id: Uuid,
    pub name: String,
    pub token_hash: Hash,
    pub local_worker_id: Option<String>,
    /// Its Ed25519 public key, hex, already checked to be one.
    pub signing_key: Option<String>,
}

/// Who is calling: the device and its worker.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Principal {
    pub device: DeviceRecord,
    pub worker: WorkerRecord,
}

/// Which group (and optionally which worker) a household belongs to.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize)]
pub struct Assignment {
    pub group_id: Option<String>,
    pub worker_id: Option<String>,
}

/// Where a household stands for scopes: its own assignment and, when it was merged into
/// another household (retired), that survivor and the survivor's assignment (`None`: the
/// server does not hold the survivor).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Standing {
    pub own: Assignment,
    pub merged_into: Option<(Uuid, Option<Assignment>)>,
}

/// The households a worker may see; see `docs/sync-protocol.md` for the policy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Scope {
    Everything,
    Group(String),
    /// Households of the group assigned to this worker or to the group as a whole.
    GroupWorker {
        group: String,
        worker: String,
    },
    Nothing,
}

impl Scope {
    pub fn of(worker: &WorkerRecord) -> Self {
        match (worker.role, &worker.group_id) {
            (Role::Coordinator, _) => Self::Everything,
            (Role::Supervisor, Some(g)) => Self::Group(g.clone()),
            (Role::Field, Some(g)) => Self::GroupWorker {
                group: g.clone(),
                worker: worker.id.clone(),
            },
            _ => Self::Nothing,
        }
    }

    /// Whether a household standing as `s` is visible to this scope: the one rule of who sees
    /// what, used by pushes, the per-household sync and (in SQL, see the backend's
    /// `visible_to`) pulls and scope lists. A household is visible when its own assignment is
    /// in the scope, or when it was merged into a household whose assignment is: every replica
    /// that shows the survivor composes it with the households retired into it.
    pub fn sees(&self, s: &Standing) -> bool {
        self.contains(&s.own)
            || s.merged_into
                .as_ref()
                .and_then(|(_, survivor)| survivor.as_ref())
                .is_some_and(|a| self.contains(a))
    }

    /// Whether an assignment lies in this scope (a household's own, or its survivor's).
    pub fn contains(&self, a: &Assignment) -> bool {
        match self {
            Self::Everything => true,
            Self::Group(g) => a.group_id.as_ref() == Some(g),
            Self::GroupWorker { group, worker } => {
                a.group_id.as_ref() == Some(group)
                    && a.worker_id.as_ref().is_none_or(|w| w == worker)
            }
            Self::Nothing => false,
        }
    }
}

/// One household's move: where it stood when the move was decided (`None`: the server does not
/// know the household yet) and where it goes. Stored only if it still stands there.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reassignment {
    pub household: Uuid,
    pub from: Option<Assignment>,
    pub to: Assignment,
}

/// What the server reads from a household's document when it stores changes to it, and keeps
/// in indexes beside the changes (written in the same transaction): the national IDs its
/// members hold, for `POST /v1/lookup`, and the household it was merged into, for scopes.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct HouseholdFacts {
    pub household: Uuid,
    /// Every member's national ID, each once.
    pub national_ids: Vec<String>,
    /// The survivor this household was merged into (retired), if it was.
    pub merged_into: Option<Uuid>,
}

/// The most lookups by national ID one device may make in an hour (setting
/// `lookups_per_hour`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LookupLimit {
    pub per_hour: u32,
}

impl Default for LookupLimit {
    /// A worker registering families checks one ID per member, a few dozen an hour at most;
    /// enumerating the ID space at this rate would take lifetimes.
    fn default() -> Self {
        Self { per_hour: 60 }
    }
}

/// A change the server accepted for storage, already parsed and checked.
#[derive(Debug, Clone)]
pub struct IncomingChange {
    pub household: Uuid,
    pub hash: Hash,
    pub bytes: Vec<u8>,
    pub device_id: Uuid,
}

/// What a device pushed: request bytes and changes. Counted per device over a rolling day for
/// the push quota.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct PushUsage {
    pub bytes: u64,
    pub changes: u64,
}

/// The most a device may push in [`QUOTA_WINDOW`] (settings `push_quota_bytes`,
/// `push_quota_changes`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PushQuota {
    pub bytes: u64,
    pub changes: u64,
}

impl Default for PushQuota {
    /// Far above a field worker's day (a visit is a few KiB in a handful of changes), low
    /// enough that one device cannot fill every replica in its scope with junk.
    fn default() -> Self {
        Self {
            bytes: 64 * 1024 * 1024,
            changes: 20_000,
        }
    }
}

/// The rolling window of the push quota: the last 24 hours, counted in whole hours.
pub const QUOTA_WINDOW_HOURS: i64 = 24;

/// The answer to a request to charge a push to a device's quota.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Charge {
    /// Counted; the push may go ahead.
    Charged,
    /// Over quota; nothing counted. `resets_at` is when enough of the window's usage has
    /// expired for this push to fit, `None` if it never will (the push alone is over quota).
    Refused {
        usage: PushUsage,
        resets_at: Option<DateTime<Utc>>,
    },
}

/// One entry of the change log as a pull reads it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LogEntry {
    /// A change stored at `seq`.
    Change {
        seq: u64,
        household: Uuid,
        bytes: Vec<u8>,
    },
    /// A change the pulling device sent itself (it has it): only its place in the log.
    Own { seq: u64 },
    /// The household entered scopes at `seq` (reassigned, or merged into a household of
    /// another scope): a scope that now sees it needs the history its cursor has passed.
    Entered { seq: u64, household: Uuid },
}

impl LogEntry {
    pub fn seq(&self) -> u64 {
        match self {
            Self::Change { seq, .. } | Self::Own { seq } | Self::Entered { seq, .. } => *seq,
        }
    }
}

/// A household in a first sync's page: the sequence number of its last stored change, and the
/// whole document cached for it, if any (possibly older than its last change).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredDocument {
    pub household: Uuid,
    pub last_seq: u64,
    pub cached: Option<CachedSnapshot>,
}

/// A household's whole document saved by Automerge, holding its changes up to `through`: a
/// cache over the changes (rebuilt from them at any time), so a first sync sends one compact
/// document per household instead of its every change.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CachedSnapshot {
    pub through: u64,
    pub bytes: Vec<u8>,
}

/// A page of the households a scope sees, read for a first sync.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DocumentPage {
    /// The log's head, read in the same snapshot as the households (as [`LogPage::head`]).
    pub head: u64,
    /// The households after the cursor, in id order.
    pub households: Vec<StoredDocument>,
}

/// A household's stored changes after a sequence number, read with the log's head in one
/// snapshot ([`Storage::changes_after`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HouseholdDelta {
    /// The log's head, read in the same snapshot as the changes (as [`LogPage::head`]): no
    /// change of the household at or below it can be stored later, so what is built from the
    /// changes up to it may be kept and brought up to date from there.
    pub head: u64,
    /// Every stored change of the household after the sequence number asked for, in order,
    /// with its sequence number (those above the head too: what is stored now).
    pub changes: Vec<(u64, Vec<u8>)>,
}

/// A page of the log read for a pull.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogPage {
    /// The last sequence number of the whole log, read before the entries: every entry up to
    /// it is committed and final (the visibility rule, `docs/scale-out.md`), so a cursor may
    /// move up to it once no entry of the scope is left.
    pub head: u64,
    /// The scope's entries after the cursor, oldest first.
    pub entries: Vec<LogEntry>,
}

/// One push's write, checked and ready to store (see [`Storage::store_pushes`]): its changes,
/// the assignments of households new to the server, the facts read from the documents it
/// makes, and the audit entries that record it. Stored all or nothing, on its own.
#[derive(Debug, Clone)]
pub struct PushWrite {
    pub changes: Vec<IncomingChange>,
    pub new_households: Vec<(Uuid, Assignment)>,
    pub facts: Vec<HouseholdFacts>,
    /// Appended to the audit chain with the changes, in the same transaction, so that no
    /// stored change lacks its entry and a refused push leaves none.
    pub audit: Vec<AuditEvent>,
    /// The time of the audit entries (when the push passed its checks).
    pub at: DateTime<Utc>,
}

impl PushWrite {
    /// The bytes of its changes, by which a group of pushes is bounded.
    pub fn change_bytes(&self) -> usize {
        self.changes.iter().map(|c| c.bytes.len()).sum()
    }
}

/// The enrolment rate limits as the storage keeps them for every server instance together
/// (settings `enroll_per_minute`, `enroll_global_per_minute`, `enroll_lockout_failures`,
/// `enroll_lockout_minutes`). Windows slide: an attempt counts for the minute after it, a wrong
/// code for `lockout` after it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EnrollBudget {
    /// Attempts one source may make in any minute.
    pub per_source_per_minute: u32,
    /// Attempts all sources together may make in any minute.
    pub global_per_minute: u32,
    /// Wrong codes from one source within `lockout` that lock it out (at least 1).
    pub lockout_failures: u32,
    /// How long a lockout lasts, and the window in which wrong codes count towards one.
    pub lockout: std::time::Duration,
}

/// The window of the per-source and global enrolment budgets.
pub const ENROLL_WINDOW: std::time::Duration = std::time::Duration::from_secs(60);

/// Why an enrolment attempt was refused, and from when it may be made again.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EnrollRefusal {
    /// The source made its budget of attempts in the last minute.
    SourceRate { until: DateTime<Utc> },
    /// The source gave too many wrong codes and is locked out.
    LockedOut { until: DateTime<Utc> },
    /// All sources together made the global budget of attempts in the last minute.
    Global { until: DateTime<Utc> },
}

pub trait Storage: Send + Sync + 'static {
    fn create_group(&self, id: &str, name: &str) -> Result<Group>;
    fn groups(&self) -> Result<Vec<Group>>;
    fn create_worker(&self, name: &str, group_id: Option<&str>, role: Role)
    -> Result<WorkerRecord>;
    fn workers(&self) -> Result<Vec<WorkerRecord>>;
    fn create_enroll_code(
        &self,
        worker_id: &str,
        code_hash: Hash,
        expires_at: DateTime<Utc>,
    ) -> Result<()>;
    /// Redeems a one-time code: marks it used and registers the device, atomically.
    fn enroll(
        &self,
        code_hash: Hash,
        device: NewDevice,
        now: DateTime<Utc>,
    ) -> Result<WorkerRecord>;
    fn devices(&self) -> Result<Vec<DeviceRecord>>;
    fn revoke_device(&self, id: Uuid, now: DateTime<Utc>) -> Result<()>;
    /// The device holding this token (revoked ones too: the caller refuses them).
    fn principal_by_token(&self, token_hash: Hash, now: DateTime<Utc>)
    -> Result<Option<Principal>>;
    fn principal_by_device(&self, id: Uuid) -> Result<Option<Principal>>;
    /// Moves households, all or nothing, in one transaction with the audit entries that record
    /// it: each household's whole history then reaches its new scope on the next pull, and
    /// the scope version changes so the old scope's replicas remove it. A household that no
    /// longer stands where its [`Reassignment::from`] says (moved meanwhile) refuses the whole
    /// move ([`StorageError::Conflict`]). The checks on who may move what are the caller's
    /// (`crate::reassign`).
    fn reassign(
        &self,
        moves: &[Reassignment],
        audit: &[AuditEvent],
        at: DateTime<Utc>,
    ) -> Result<()>;
    fn assignments(&self, households: &[Uuid]) -> Result<HashMap<Uuid, Assignment>>;
    /// Where each of `households` the server holds stands for scopes ([`Scope::sees`]).
    fn standings(&self, households: &[Uuid]) -> Result<HashMap<Uuid, Standing>>;
    /// Which of `hashes` are stored for `household`.
    fn known_hashes(&self, household: Uuid, hashes: &[Hash]) -> Result<HashSet<Hash>>;
    /// Stores changes idempotently (by hash) with the assignments of households new to the
    /// server and the facts read from the documents they make (replacing each named
    /// household's earlier facts), all or nothing; returns each change's sequence number. A
    /// change whose (actor, sequence number) the household holds under another hash is refused
    /// ([`StorageError::DuplicateSeq`]). A merge link that appears or changes brings the
    /// retired household's whole history to its survivor's scope on the next pull, as a
    /// reassignment does; one that changes or goes changes the scope version.
    ///
    /// One push through [`Storage::store_pushes`] (the arguments are copied into a
    /// [`PushWrite`] with no audit entries).
    fn store_changes(
        &self,
        changes: &[IncomingChange],
        new_households: &[(Uuid, Assignment)],
        facts: &[HouseholdFacts],
    ) -> Result<Vec<u64>> {
        let push = PushWrite {
            changes: changes.to_vec(),
            new_households: new_households.to_vec(),
            facts: facts.to_vec(),
            audit: Vec::new(),
            at: Utc::now(),
        };
        self.store_pushes(std::slice::from_ref(&push))?
            .pop()
            .unwrap_or_else(|| {
                Err(StorageError::Backend(
                    "the storage answered no result for the one push it was given".into(),
                ))
            })
    }
    /// The households one of whose members holds `national_id`, with their assignments.
    fn national_id_households(&self, national_id: &str) -> Result<HashMap<Uuid, Assignment>>;
    /// Counts one lookup by national ID for `device` if it made fewer than `limit` in the hour
    /// before `now` (`None`); otherwise counts nothing and says when the oldest of them leaves
    /// the hour. Kept in the database, so a restart does not reset it.
    fn charge_lookup(
        &self,
        device: Uuid,
        limit: LookupLimit,
        now: DateTime<Utc>,
    ) -> Result<Option<DateTime<Utc>>>;
    /// At most `limit` entries of the log after `after` that are visible to `scope`
    /// ([`Scope::sees`], with the households' standing now), oldest first, the changes
    /// `device` sent itself as [`LogEntry::Own`]; and the log's head. Only entries that are
    /// final may be returned: none may later appear below a sequence number returned, nor
    /// below the head (the visibility rule of `docs/scale-out.md`). Batching, byte limits and
    /// the cursor are the pull's (`madadkar_server::pull`), above this trait.
    fn log_after(&self, scope: &Scope, device: Uuid, after: u64, limit: usize) -> Result<LogPage>;
    /// A household's stored changes up to and including sequence number `through`, in order,
    /// with their sequence numbers: the history a scope the household entered has not seen.
    fn history_through(&self, household: Uuid, through: u64) -> Result<Vec<(u64, Vec<u8>)>>;
    /// A household's stored changes after sequence number `after` up to and including
    /// `through`, in order, with their sequence numbers: what a cached snapshot lacks.
    fn history_between(
        &self,
        household: Uuid,
        after: u64,
        through: u64,
    ) -> Result<Vec<(u64, Vec<u8>)>>;
    /// At most `limit` households visible to `scope` ([`Scope::sees`]) with an id above
    /// `after`, in id order, each with its last stored change's sequence number and its cached
    /// snapshot; households with no stored change are left out. The head and the households
    /// are read from one snapshot, as in [`Storage::log_after`].
    fn documents_after(
        &self,
        scope: &Scope,
        after: Option<Uuid>,
        limit: usize,
    ) -> Result<DocumentPage>;
    /// Keeps each snapshot as its household's cached document, unless the one kept already
    /// holds as much (`through` at least as high): a cache, so written without waiting for
    /// the disk.
    fn put_snapshots(&self, snapshots: &[(Uuid, CachedSnapshot)]) -> Result<()>;
    /// A household's stored changes after sequence number `after` and the log's head, from one
    /// snapshot: what a document kept in memory through `after` lacks (the push's check,
    /// `madadkar_server::documents`).
    fn changes_after(&self, household: Uuid, after: u64) -> Result<HouseholdDelta>;
    /// Every stored change of a household, in the order stored.
    fn household_changes(&self, household: Uuid) -> Result<Vec<Vec<u8>>>;

    /// Adds `amount` to the device's push usage if the usage of the rolling window plus
    /// `amount` stays within `quota`; atomically, so parallel pushes cannot both slip under.
    /// Kept in the database, so a restart does not reset it.
    fn charge_push(
        &self,
        device: Uuid,
        amount: PushUsage,
        quota: PushQuota,
        now: DateTime<Utc>,
    ) -> Result<Charge>;
    /// Takes back a charge made at `charged_at` (the push it paid for was refused).
    fn refund_push(&self, device: Uuid, amount: PushUsage, charged_at: DateTime<Utc>)
    -> Result<()>;
    /// Every device's push usage over the rolling window ending at `now` (devices that pushed
    /// nothing are left out).
    fn push_usage(&self, now: DateTime<Utc>) -> Result<HashMap<Uuid, PushUsage>>;
    /// Every enrolled device's worker, for the directory clients name authors from, and the
    /// partner directory, with the directory's version (it changes whenever a device, its
    /// worker's name or a partner changes).
    fn directory(&self) -> Result<madadkar_schema::wire::Directory>;

    // The partner directory (`crate::partners`): banks, training centres, clinics.

    /// Adds partners, all or nothing: each is [`crate::partners::validated`] (and stored as
    /// cleaned), and a code the directory holds already, or one the batch names twice, refuses
    /// the whole batch naming that code. Bumps the directory's version.
    fn add_partners(&self, partners: &[Partner]) -> Result<()>;
    /// Adds one partner; see [`Storage::add_partners`].
    fn add_partner(&self, partner: &Partner) -> Result<()> {
        self.add_partners(std::slice::from_ref(partner))
    }
    /// Retires (`false`) or brings back (`true`) a partner. A retired partner stays in the
    /// directory, for the referrals that name it, but is offered for no new one. Setting what
    /// is already set changes nothing (not even the directory's version).
    fn set_partner_active(&self, code: &str, active: bool) -> Result<()>;
    /// Every partner, retired ones too, by code.
    fn partners(&self) -> Result<Vec<Partner>>;
    /// The current versions of the directory and of the scope lists, in one read (every pull
    /// answer names both).
    fn versions(&self) -> Result<Versions>;
    /// Begins retiring a device (see [`DeviceRecord::retiring_at`]).
    fn retire_device(&self, id: Uuid, now: DateTime<Utc>) -> Result<()>;
    /// Every household visible to `scope` ([`Scope::sees`]).
    fn households_in_scope(&self, scope: &Scope) -> Result<Vec<Uuid>>;

    // The access audit (`crate::audit`): an append-only hash chain.

    /// Appends entries to the audit chain at time `at`, all in one transaction, each linked to
    /// the one before; no events, no write.
    fn append_audit(&self, events: &[AuditEvent], at: DateTime<Utc>) -> Result<()>;
    /// Entries matching `query`, newest first, with their workers' names.
    fn audit_entries(&self, query: &AuditQuery) -> Result<Vec<AuditEntry>>;
    /// At most `limit` stored entries after `after` (from the first when `None`), oldest
    /// first, exactly as stored: what verification walks.
    fn audit_rows(&self, after: Option<i64>, limit: usize) -> Result<Vec<AuditRow>>;

    // Group commit (issue 13): several pushes in one transaction.

    /// Stores several pushes in ONE transaction (one commit, one flush to disk), each all or
    /// nothing on its own, in the order given: each push is what [`Storage::store_changes`]
    /// stores, plus its audit entries ([`PushWrite::audit`], at [`PushWrite::at`]), and its
    /// result is what `store_changes` would answer for it stored alone after the pushes before
    /// it. A push refused ([`StorageError::DuplicateSeq`], [`StorageError::Conflict`], or any
    /// other refusal of its content) is rolled back alone (a savepoint per push) and gets its
    /// error in its place; the others are stored. A later push of the group sees what the
    /// earlier ones stored (the same change again answers the same sequence number; a reused
    /// (actor, sequence number) is refused). The outer error means the transaction failed as a
    /// whole (a backend failure): nothing of any push is stored. Sequence numbers are handed
    /// out in the order of the pushes, and every one of them commits at once.
    fn store_pushes(&self, pushes: &[PushWrite]) -> Result<Vec<Result<Vec<u64>>>>;

    // Enrolment rate limits (issue 13): kept in the database so that every server instance
    // shares them and a restart does not reset them. `source` is the limiter's key of where
    // an attempt comes from (an address, or `unknown`); at most 64 characters.

    /// Takes one enrolment attempt for `source` at `now`, atomically (two instances cannot
    /// both take the last one), or refuses it, counting nothing: first a lockout of the
    /// source still running ([`EnrollRefusal::LockedOut`], until it ends); then the source's
    /// attempts in the [`ENROLL_WINDOW`] before `now` ([`EnrollRefusal::SourceRate`] when they
    /// are `per_source_per_minute` or more, until enough of them have left the window for one
    /// more); then all sources' attempts ([`EnrollRefusal::Global`], likewise). Forgets what
    /// no longer counts as it goes (attempts older than the window, wrong codes older than the
    /// lockout window, ended lockouts), so what it keeps stays bounded by the global budget.
    fn enroll_attempt(
        &self,
        source: &str,
        budget: &EnrollBudget,
        now: DateTime<Utc>,
    ) -> Result<Option<EnrollRefusal>>;
    /// Counts a wrong enrolment code from `source` at `now`. When the source's wrong codes
    /// within `budget.lockout` reach `budget.lockout_failures`, locks it out until `now +
    /// budget.lockout` and forgets those wrong codes (the next lockout needs as many again);
    /// answers whether it did.
    fn enroll_failed(
        &self,
        source: &str,
        budget: &EnrollBudget,
        now: DateTime<Utc>,
    ) -> Result<bool>;
    /// A code from `source` worked: its earlier wrong codes are forgiven (a running lockout
    /// stays; no attempt gets through one anyway).
    fn enroll_succeeded(&self, source: &str) -> Result<()>;
}

#[cfg(test)]
mod tests {
    use super::*;

    fn worker(role: Role, group: Option<&str>) -> WorkerRecord {
        WorkerRecord {
            id: "w1".into(),
            name: "n".into(),
            group_id: group.map(Into::into),
            role,
        }
    }

    fn assigned(group: Option<&str>, worker: Option<&str>) -> Assignment {
        Assignment {
            group_id: group.map(Into::into),
            worker_id: worker.map(Into::into),
        }
    }

    #[test]
    fn field_workers_see_their_group_households_assigned_to_them_or_the_group() {
        let s = Scope::of(&worker(Role::Field, Some("g1")));
        assert!(s.contains(&assigned(Some("g1"), None)));
        assert!(s.contains(&assigned(Some("g1"), Some("w1"))));
        assert!(!s.contains(&assigned(Some("g1"), Some("w2"))));
        assert!(!s.contains(&assigned(Some("g2"), None)));
        assert!(!s.contains(&assigned(None, None)));
    }

    #[test]
    fn a_household_merged_into_one_in_scope_is_seen_and_keeps_its_own_scope() {
        let field_x = Scope::of(&worker(Role::Field, Some("x")));
        let field_y = Scope::of(&worker(Role::Field, Some("y")));
        let retired = Standing {
            own: assigned(Some("y"), None),
            merged_into: Some((Uuid::now_v7(), Some(assigned(Some("x"), None)))),
        };
        assert!(field_x.sees(&retired));
        assert!(field_y.sees(&retired));
        // A survivor the server does not hold adds no one.
        let dangling = Standing {
            merged_into: Some((Uuid::now_v7(), None)),
            ..retired.clone()
        };
        assert!(!field_x.sees(&dangling));
        // Another worker's survivor is not this field worker's.
        let elsewhere = Standing {
            own: assigned(Some("y"), Some("w2")),
            merged_into: Some((Uuid::now_v7(), Some(assigned(Some("x"), Some("w2"))))),
        };
        assert!(!field_x.sees(&elsewhere));
        assert!(Scope::of(&worker(Role::Supervisor, Some("x"))).sees(&elsewhere));
    }

    #[test]
    fn supervisors_see_their_group_coordinators_all_admins_nothing() {
        let s = Scope::of(&worker(Role::Supervisor, Some("g1")));
        assert!(s.contains(&assigned(Some("g1"), Some("w9"))));
        assert!(!s.contains(&assigned(Some("g2"), None)));
        assert!(Scope::of(&worker(Role::Coordinator, None)).contains(&assigned(None, None)));
        assert_eq!(Scope::of(&worker(Role::Admin, Some("g1"))), Scope::Nothing);
        assert_eq!(Scope::of(&worker(Role::Field, None)), Scope::Nothing);
    }
}
