//! The embedded storage backend: one SQLite file in WAL mode, one writer connection and a small
//! pool of readers, so pulls run in parallel while pushes are serialised.

use std::collections::{HashMap, HashSet};
use std::path::Path;
use std::sync::Mutex;

use chrono::{DateTime, Utc};
use madadkar_schema::{Partner, Role};
use rusqlite::{Connection, OptionalExtension, Row, TransactionBehavior, params};
use uuid::Uuid;

use madadkar_server_storage::audit::{AuditEntry, AuditEvent, AuditQuery, AuditRow};
use madadkar_server_storage::sql::{VISIBILITY_JOINS, quota_hour, quota_window_start, sql_count};
use madadkar_server_storage::*;

mod actor_seq;
mod audit;
mod enroll_limits;
mod partners;
mod reconcile;
mod snapshots;

/// The schema's steps, in order. The push quota's, the access audit's, the device keys', the
/// (actor, sequence number) and the reconciliation steps each depend on nothing but `INITIAL`;
/// the partner directory's on nothing but the device keys' `directory_version`; the enrolment
/// limits' on nothing at all.
const MIGRATIONS: &[&str] = &[
    INITIAL,
    PUSH_USAGE,
    audit::MIGRATION,
    DEVICE_KEYS,
    actor_seq::MIGRATION,
    reconcile::MIGRATION,
    partners::MIGRATION,
    enroll_limits::MIGRATION,
    snapshots::MIGRATION,
];

/// Authorship (issue 9): each device's public signing key, and the version of the directory of
/// devices that clients name authors from, bumped by triggers whenever what it lists changes
/// (so the version cannot be forgotten by any code path that edits devices or workers).
const DEVICE_KEYS: &str = r#"
ALTER TABLE devices ADD COLUMN signing_key TEXT;
CREATE TABLE directory_version (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    version INTEGER NOT NULL
) STRICT;
INSERT INTO directory_version (id, version) VALUES (1, 1);
CREATE TRIGGER directory_on_device_insert AFTER INSERT ON devices
BEGIN UPDATE directory_version SET version = version + 1; END;
CREATE TRIGGER directory_on_device_update AFTER UPDATE OF worker_id, revoked_at, signing_key ON devices
BEGIN UPDATE directory_version SET version = version + 1; END;
CREATE TRIGGER directory_on_device_delete AFTER DELETE ON devices
BEGIN UPDATE directory_version SET version = version + 1; END;
CREATE TRIGGER directory_on_worker_update AFTER UPDATE OF name, group_id ON workers
BEGIN UPDATE directory_version SET version = version + 1; END;

-- A device being retired: it may still push its pending work, then is told to erase itself.
ALTER TABLE devices ADD COLUMN retiring_at TEXT;

-- The version of every scope's household list: bumped when a household may have left a scope
-- (a reassignment, a worker moved or given another role). A new household's first assignment
-- does not bump it: it only adds, and pulls bring it.
CREATE TABLE scope_version (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    version INTEGER NOT NULL
) STRICT;
INSERT INTO scope_version (id, version) VALUES (1, 1);
CREATE TRIGGER scope_on_assignment_update AFTER UPDATE OF group_id, worker_id ON assignments
BEGIN UPDATE scope_version SET version = version + 1; END;
CREATE TRIGGER scope_on_assignment_delete AFTER DELETE ON assignments
BEGIN UPDATE scope_version SET version = version + 1; END;
CREATE TRIGGER scope_on_worker_update AFTER UPDATE OF group_id, role ON workers
BEGIN UPDATE scope_version SET version = version + 1; END;
"#;

const INITIAL: &str = r#"
CREATE TABLE groups (id TEXT PRIMARY KEY, name TEXT NOT NULL, created_at TEXT NOT NULL) STRICT;
CREATE TABLE workers (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    group_id TEXT REFERENCES groups(id),
    role TEXT NOT NULL,
    created_at TEXT NOT NULL
) STRICT;
CREATE TABLE enroll_codes (
    code_hash BLOB PRIMARY KEY,
    worker_id TEXT NOT NULL REFERENCES workers(id),
    expires_at TEXT NOT NULL,
    used_at TEXT
) STRICT;
CREATE TABLE devices (
    id TEXT PRIMARY KEY,
    worker_id TEXT NOT NULL REFERENCES workers(id),
    name TEXT NOT NULL,
    token_hash BLOB NOT NULL UNIQUE,
    local_worker_id TEXT,
    enrolled_at TEXT NOT NULL,
    revoked_at TEXT,
    last_seen_at TEXT
) STRICT;
CREATE TABLE assignments (
    household TEXT PRIMARY KEY,
    group_id TEXT,
    worker_id TEXT,
    updated_at TEXT NOT NULL
) STRICT;
CREATE INDEX assignments_scope ON assignments (group_id, worker_id);
-- One sequence for everything a pull must see: stored changes and (re)assignments.
CREATE TABLE log (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    kind TEXT NOT NULL CHECK (kind IN ('change', 'assign')),
    household TEXT NOT NULL
) STRICT;
CREATE TABLE changes (
    seq INTEGER PRIMARY KEY REFERENCES log(seq),
    household TEXT NOT NULL,
    hash BLOB NOT NULL UNIQUE,
    bytes BLOB NOT NULL,
    device_id TEXT NOT NULL,
    received_at TEXT NOT NULL
) STRICT;
CREATE INDEX changes_by_household ON changes (household, seq);
"#;

/// Push quotas (issue 9, server hygiene): what each device pushed, per hour, for the rolling
/// day. A step of its own that depends on no other but `INITIAL`'s `devices`, so it can take
/// any place after it when steps from parallel work are merged (renumber freely: nothing else
/// refers to its position).
const PUSH_USAGE: &str = r#"
CREATE TABLE push_usage (
    device_id TEXT NOT NULL REFERENCES devices(id),
    -- Unix time in whole hours.
    hour INTEGER NOT NULL,
    bytes INTEGER NOT NULL,
    changes INTEGER NOT NULL,
    PRIMARY KEY (device_id, hour)
) STRICT, WITHOUT ROWID;
"#;

fn stored_count(n: i64, what: impl FnOnce() -> String) -> SqlResult<u64> {
    u64::try_from(n).map_err(|_| corrupt(format!("{} is negative: {n}", what())))
}

/// Reader connections kept open. A read beyond them waits for one to come back rather than
/// opening a connection of its own: opening one parses the schema and takes SQLite's global
/// memory lock, which under load (hundreds of pulls at once) cost more than the reads.
const READERS: usize = 8;

/// The reader pool: idle connections, and how many are open (idle or lent out).
#[derive(Debug, Default)]
struct Readers {
    idle: Vec<Connection>,
    open: usize,
}

#[derive(Debug)]
pub struct SqliteStorage {
    writer: Mutex<Connection>,
    readers: Mutex<Readers>,
    /// Signalled when a reader comes back to the pool.
    reader_returned: std::sync::Condvar,
    path: std::path::PathBuf,
}

fn backend(e: impl std::fmt::Display) -> StorageError {
    StorageError::Backend(e.to_string())
}

/// An error inside this backend: SQLite's own or the storage's. It becomes a [`StorageError`]
/// at the trait's edge (`read`, `write`, `open`): a `From<rusqlite::Error> for StorageError`
/// would break the orphan rule once this backend and the trait are crates of their own.
#[derive(Debug)]
enum SqlError {
    Sqlite(rusqlite::Error),
    Storage(StorageError),
}

impl From<rusqlite::Error> for SqlError {
    fn from(e: rusqlite::Error) -> Self {
        Self::Sqlite(e)
    }
}

impl From<StorageError> for SqlError {
    fn from(e: StorageError) -> Self {
        Self::Storage(e)
    }
}

impl From<SqlError> for StorageError {
    fn from(e: SqlError) -> Self {
        match e {
            SqlError::Sqlite(e) => backend(e),
            SqlError::Storage(e) => e,
        }
    }
}

type SqlResult<T> = std::result::Result<T, SqlError>;

/// Set on every connection, the writer and each reader alike. The same settings as the
/// client's store (`client/src/sql.rs`), for the server's own reason: a push is acknowledged
/// only once durable (`synchronous = FULL`), because the client then drops those changes from its
/// outbox; WAL lets pulls read while a push writes.
const PRAGMAS: &str =
    "PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL; PRAGMA foreign_keys = ON;";
/// Longer than the client's: requests queue behind the single writer under load, and waiting
/// beats failing a push.
const BUSY_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(30);

fn open_connection(path: &Path) -> SqlResult<Connection> {
    let conn = Connection::open(path)?;
    conn.execute_batch(PRAGMAS)?;
    conn.busy_timeout(BUSY_TIMEOUT)?;
    Ok(conn)
}

fn time(t: DateTime<Utc>) -> String {
    t.to_rfc3339()
}

fn corrupt(what: String) -> SqlError {
    SqlError::Storage(StorageError::Corrupt { what })
}

/// A stored time; one that does not parse is an error, never a default.
fn parse_time(s: &str, what: impl FnOnce() -> String) -> SqlResult<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(s)
        .map(|t| t.with_timezone(&Utc))
        .map_err(|e| corrupt(format!("{} {s:?} is not a time: {e}", what())))
}

fn parse_optional_time(
    s: Option<String>,
    what: impl FnOnce() -> String,
) -> SqlResult<Option<DateTime<Utc>>> {
    s.map(|s| parse_time(&s, what)).transpose()
}

fn parse_uuid(s: &str, what: impl FnOnce() -> String) -> SqlResult<Uuid> {
    Uuid::parse_str(s).map_err(|e| corrupt(format!("{} {s:?} is not a UUID: {e}", what())))
}

fn worker_row(row: &Row<'_>, at: usize) -> SqlResult<WorkerRecord> {
    let id: String = row.get(at)?;
    let role: String = row.get(at + 3)?;
    let role = Role::parse(&role)
        .map_err(|_| corrupt(format!("worker {id} has an unknown role {role:?}")))?;
    Ok(WorkerRecord {
        id,
        name: row.get(at + 1)?,
        group_id: row.get(at + 2)?,
        role,
    })
}

const DEVICE_COLUMNS: &str = "d.id, d.worker_id, d.name, d.enrolled_at, d.revoked_at, d.last_seen_at, d.local_worker_id, d.signing_key, d.retiring_at";
const WORKER_COLUMNS: &str = "w.id, w.name, w.group_id, w.role";

fn device_row(row: &Row<'_>) -> SqlResult<DeviceRecord> {
    let raw_id: String = row.get(0)?;
    let id = parse_uuid(&raw_id, || "a device id".into())?;
    let what = |column: &str| format!("device {id}'s {column}");
    Ok(DeviceRecord {
        id,
        worker_id: row.get(1)?,
        name: row.get(2)?,
        enrolled_at: parse_time(&row.get::<_, String>(3)?, || what("enrolled_at"))?,
        revoked_at: parse_optional_time(row.get(4)?, || what("revoked_at"))?,
        last_seen_at: parse_optional_time(row.get(5)?, || what("last_seen_at"))?,
        local_worker_id: row.get(6)?,
        signing_key: row.get(7)?,
        retiring_at: parse_optional_time(row.get(8)?, || what("retiring_at"))?,
    })
}

fn principal_row(row: &Row<'_>) -> SqlResult<Principal> {
    Ok(Principal {
        device: device_row(row)?,
        worker: worker_row(row, 9)?,
    })
}

/// The first row a query gives through a fallible mapping, if any (`query_row` and
/// `optional()` only take mappings that fail with rusqlite's own error).
fn first_row<T>(
    stmt: &mut rusqlite::Statement<'_>,
    params: impl rusqlite::Params,
    map: impl FnMut(&Row<'_>) -> SqlResult<T>,
) -> SqlResult<Option<T>> {
    stmt.query_and_then(params, map)?.next().transpose()
}

/// The number in one of the single-row version tables (`directory_version`, `scope_version`).
fn version_of(c: &Connection, table: &'static str) -> SqlResult<u64> {
    let version: i64 = c.query_row(&format!("SELECT version FROM {table}"), [], |r| r.get(0))?;
    stored_count(version, || format!("the {table}"))
}

/// [`sql::visible_to`] with this backend's placeholders.
fn visible_to(scope: &Scope, first: usize) -> Option<(String, Vec<String>)> {
    sql::visible_to(scope, first, |n| format!("?{n}"))
}

/// The last sequence number of the log (0 when empty).
fn log_head(c: &Connection) -> SqlResult<u64> {
    let head: i64 = c.query_row("SELECT coalesce(max(seq), 0) FROM log", [], |r| r.get(0))?;
    Ok(head as u64)
}

impl SqliteStorage {
    /// Sets a device's `column` (`revoked_at` or `retiring_at`) to `now` unless it is set
    /// already: the first time counts.
    fn mark_device(&self, id: Uuid, column: &'static str, now: DateTime<Utc>) -> Result<()> {
        self.write(|c| {
            let n = c.execute(
                &format!("UPDATE devices SET {column} = coalesce({column}, ?) WHERE id = ?"),
                params![time(now), id.to_string()],
            )?;
            if n == 0 {
                return Err(StorageError::NotFound {
                    kind: "device",
                    id: id.to_string(),
                }
                .into());
            }
            Ok(())
        })
    }

    /// Opens (creating and migrating) the database at `path`.
    pub fn open(path: &Path) -> Result<Self> {
        Ok(Self::open_sql(path)?)
    }

    fn open_sql(path: &Path) -> SqlResult<Self> {
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).map_err(backend)?;
        }
        let mut writer = open_connection(path)?;
        let version: i64 = writer.pragma_query_value(None, "user_version", |r| r.get(0))?;
        if version > MIGRATIONS.len() as i64 {
            return Err(backend(format!(
                "database version {version} is newer than this server understands; update it"
            ))
            .into());
        }
        for (i, step) in MIGRATIONS.iter().enumerate().skip(version as usize) {
            let tx = writer.transaction()?;
            tx.execute_batch(step)?;
            tx.pragma_update(None, "user_version", i as i64 + 1)?;
            tx.commit()?;
        }
        if actor_seq::step().is_some_and(|at| version as usize <= at) {
            actor_seq::backfill(&mut writer)?;
        }
        if reconcile::step().is_some_and(|at| version as usize <= at) {
            reconcile::backfill(&mut writer)?;
        }
        Ok(Self {
            writer: Mutex::new(writer),
            readers: Mutex::new(Readers::default()),
            reader_returned: std::sync::Condvar::new(),
            path: path.to_path_buf(),
        })
    }

    /// A write whose loss at a power cut costs nothing worth a flush to disk (a quota's count,
    /// when a device was last seen): committed without waiting for the disk
    /// (`synchronous = NORMAL`, in WAL mode), and made durable by the next full commit, which
    /// flushes the log it sits in. Under load it keeps a push to one flush (its changes'), not
    /// two.
    fn write_light<T>(&self, f: impl FnOnce(&mut Connection) -> SqlResult<T>) -> Result<T> {
        self.write(|c| {
            c.execute_batch("PRAGMA synchronous = NORMAL")?;
            let result = f(c);
            // Back to full durability whatever happened: every other write relies on it.
            let restored = c.execute_batch("PRAGMA synchronous = FULL");
            let value = result?;
            restored?;
            Ok(value)
        })
    }

    fn write<T>(&self, f: impl FnOnce(&mut Connection) -> SqlResult<T>) -> Result<T> {
        let mut conn = self
            .writer
            .lock()
            .map_err(|_| backend("writer lock poisoned"))?;
        Ok(f(&mut conn)?)
    }

    fn read<T>(&self, f: impl FnOnce(&mut Connection) -> SqlResult<T>) -> Result<T> {
        // Given back however `f` ends, a panic included: a reader lost would shrink the pool
        // until reads wait for ever.
        struct Lent<'a> {
            storage: &'a SqliteStorage,
            conn: Option<Connection>,
        }
        impl Drop for Lent<'_> {
            fn drop(&mut self) {
                if let Some(c) = self.conn.take() {
                    self.storage.give_back(c);
                }
            }
        }
        let mut lent = Lent {
            storage: self,
            conn: Some(self.take_reader()?),
        };
        match lent.conn.as_mut() {
            Some(conn) => Ok(f(conn)?),
            None => Err(backend("a reader was lent twice")),
        }
    }

    /// A reader from the pool: an idle one, a new one while fewer than [`READERS`] are open,
    /// else the next one given back.
    fn take_reader(&self) -> Result<Connection> {
        let poisoned = || backend("reader pool poisoned");
        let mut pool = self.readers.lock().map_err(|_| poisoned())?;
        loop {
            if let Some(c) = pool.idle.pop() {
                return Ok(c);
            }
            if pool.open < READERS {
                pool.open += 1;
                drop(pool);
                return open_connection(&self.path).map_err(|e| {
                    // Not opened after all: leave room for another try.
                    if let Ok(mut pool) = self.readers.lock() {
                        pool.open -= 1;
                    }
                    self.reader_returned.notify_one();
                    StorageError::from(e)
                });
            }
            pool = self.reader_returned.wait(pool).map_err(|_| poisoned())?;
        }
    }

    fn give_back(&self, conn: Connection) {
        if let Ok(mut pool) = self.readers.lock() {
            pool.idle.push(conn);
        }
        self.reader_returned.notify_one();
    }
}

/// One push of [`Storage::store_pushes`], inside its savepoint: what `store_changes` always
/// stored (assignments of new households, the changes idempotently by hash with their
/// (actor, sequence number) checked, the facts), and its audit entries. Received at `now`.
fn store_push(c: &Connection, push: &PushWrite, now: &str) -> SqlResult<Vec<u64>> {
    for (h, a) in &push.new_households {
        c.execute(
            "INSERT OR IGNORE INTO assignments (household, group_id, worker_id, updated_at) VALUES (?, ?, ?, ?)",
            params![h.to_string(), a.group_id, a.worker_id, now],
        )?;
    }
    let mut seqs = Vec::with_capacity(push.changes.len());
    {
        let mut existing = c.prepare_cached("SELECT seq, household FROM changes WHERE hash = ?")?;
        let mut log = c.prepare_cached("INSERT INTO log (kind, household) VALUES ('change', ?)")?;
        let mut insert = c.prepare_cached(
            "INSERT INTO changes (seq, household, hash, bytes, device_id, received_at, actor, actor_seq) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        )?;
        for ch in &push.changes {
            let key = ch.household.to_string();
            let found: Option<(i64, String)> = existing
                .query_row([ch.hash.as_slice()], |r| Ok((r.get(0)?, r.get(1)?)))
                .optional()?;
            if let Some((seq, owner)) = found {
                if owner != key {
                    return Err(StorageError::Conflict(
                        "a change was sent for another household than the one holding it".into(),
                    )
                    .into());
                }
                seqs.push(seq as u64);
                continue;
            }
            let actor_seq = sql::actor_seq(&ch.bytes);
            actor_seq::check_unique(c, ch.household, &ch.hash, actor_seq.as_ref())?;
            let (actor, actor_seq) = actor_seq.unzip();
            log.execute([&key])?;
            let seq = c.last_insert_rowid();
            insert.execute(params![
                seq,
                key,
                ch.hash.as_slice(),
                ch.bytes,
                ch.device_id.to_string(),
                now,
                actor,
                actor_seq
            ])?;
            seqs.push(seq as u64);
        }
    }
    reconcile::write_facts(c, &push.facts)?;
    audit::append_in(c, &push.audit, push.at)?;
    Ok(seqs)
}

impl Storage for SqliteStorage {
    fn create_group(&self, id: &str, name: &str) -> Result<Group> {
        self.write(|c| {
            let n = c.execute(
                "INSERT OR IGNORE INTO groups (id, name, created_at) VALUES (?, ?, ?)",
                params![id, name, time(Utc::now())],
            )?;
            if n == 0 {
                return Err(StorageError::Conflict(format!("group {id:?} already exists")).into());
            }
            Ok(Group {
                id: id.into(),
                name: name.into(),
            })
        })
    }

    fn groups(&self) -> Result<Vec<Group>> {
        self.read(|c| {
            let mut stmt = c.prepare("SELECT id, name FROM groups ORDER BY id")?;
            let rows = stmt.query_map([], |r| {
                Ok(Group {
                    id: r.get(0)?,
                    name: r.get(1)?,
                })
            })?;
            Ok(rows.collect::<rusqlite::Result<_>>()?)
        })
    }

    fn create_worker(
        &self,
        name: &str,
        group_id: Option<&str>,
        role: Role,
    ) -> Result<WorkerRecord> {
        self.write(|c| {
            if let Some(g) = group_id {
                let exists: Option<String> = c
                    .query_row("SELECT id FROM groups WHERE id = ?", [g], |r| r.get(0))
                    .optional()?;
                if exists.is_none() {
                    return Err(StorageError::NotFound {
                        kind: "group",
                        id: g.into(),
                    }
                    .into());
                }
            }
            let worker = WorkerRecord {
                id: Uuid::now_v7().to_string(),
                name: name.into(),
                group_id: group_id.map(Into::into),
                role,
            };
            c.execute(
                "INSERT INTO workers (id, name, group_id, role, created_at) VALUES (?, ?, ?, ?, ?)",
                params![
                    worker.id,
                    worker.name,
                    worker.group_id,
                    role.code(),
                    time(Utc::now())
                ],
            )?;
            Ok(worker)
        })
    }

    fn workers(&self) -> Result<Vec<WorkerRecord>> {
        self.read(|c| {
            let mut stmt = c.prepare(&format!(
                "SELECT {WORKER_COLUMNS} FROM workers w ORDER BY w.group_id, w.name"
            ))?;
            let rows = stmt.query_and_then([], |r| worker_row(r, 0))?;
            rows.collect()
        })
    }

    fn create_enroll_code(
        &self,
        worker_id: &str,
        code_hash: Hash,
        expires_at: DateTime<Utc>,
    ) -> Result<()> {
        self.write(|c| {
            let exists: Option<String> = c
                .query_row("SELECT id FROM workers WHERE id = ?", [worker_id], |r| {
                    r.get(0)
                })
                .optional()?;
            if exists.is_none() {
                return Err(StorageError::NotFound {
                    kind: "worker",
                    id: worker_id.into(),
                }
                .into());
            }
            c.execute(
                "INSERT INTO enroll_codes (code_hash, worker_id, expires_at) VALUES (?, ?, ?)",
                params![code_hash.as_slice(), worker_id, time(expires_at)],
            )?;
            Ok(())
        })
    }

    fn enroll(
        &self,
        code_hash: Hash,
        device: NewDevice,
        now: DateTime<Utc>,
    ) -> Result<WorkerRecord> {
        self.write(|c| {
            let tx = c.transaction_with_behavior(TransactionBehavior::Immediate)?;
            let code: Option<(String, String, Option<String>)> = tx
                .query_row(
                    "SELECT worker_id, expires_at, used_at FROM enroll_codes WHERE code_hash = ?",
                    [code_hash.as_slice()],
                    |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
                )
                .optional()?;
            let Some((worker_id, expires_at, None)) = code else {
                return Err(StorageError::BadCode.into());
            };
            if parse_time(&expires_at, || "an enrolment code's expires_at".into())? < now {
                return Err(StorageError::BadCode.into());
            }
            let taken: Option<String> = tx
                .query_row("SELECT id FROM devices WHERE id = ?", [device.id.to_string()], |r| r.get(0))
                .optional()?;
            if taken.is_some() {
                return Err(StorageError::Conflict("this device is already enrolled".into()).into());
            }
            // A replica's pre-enrolment worker id may not be another worker's: changes naming
            // it would pass as that worker's.
            if let Some(local) = &device.local_worker_id {
                let claimed: Option<i64> = tx
                    .query_row(
                        "SELECT 1 FROM workers WHERE id = ?1 AND id <> ?2
                         UNION ALL SELECT 1 FROM devices WHERE local_worker_id = ?1 AND worker_id <> ?2
                         LIMIT 1",
                        params![local, worker_id],
                        |r| r.get(0),
                    )
                    .optional()?;
                if claimed.is_some() {
                    return Err(StorageError::Conflict(
                        "the replica's worker id belongs to another worker".into(),
                    )
                    .into());
                }
            }
            tx.execute("UPDATE enroll_codes SET used_at = ? WHERE code_hash = ?", params![time(now), code_hash.as_slice()])?;
            tx.execute(
                "INSERT INTO devices (id, worker_id, name, token_hash, local_worker_id, enrolled_at, signing_key) VALUES (?, ?, ?, ?, ?, ?, ?)",
                params![device.id.to_string(), worker_id, device.name, device.token_hash.as_slice(), device.local_worker_id, time(now), device.signing_key],
            )?;
            let worker = tx.query_row_and_then(
                &format!("SELECT {WORKER_COLUMNS} FROM workers w WHERE w.id = ?"),
                [&worker_id],
                |r| worker_row(r, 0),
            )?;
            tx.commit()?;
            Ok(worker)
        })
    }

    fn devices(&self) -> Result<Vec<DeviceRecord>> {
        self.read(|c| {
            let mut stmt = c.prepare(&format!(
                "SELECT {DEVICE_COLUMNS} FROM devices d ORDER BY d.enrolled_at"
            ))?;
            let rows = stmt.query_and_then([], device_row)?;
            rows.collect()
        })
    }

    fn revoke_device(&self, id: Uuid, now: DateTime<Utc>) -> Result<()> {
        self.mark_device(id, "revoked_at", now)
    }

    fn principal_by_token(
        &self,
        token_hash: Hash,
        now: DateTime<Utc>,
    ) -> Result<Option<Principal>> {
        let found = self.read(|c| {
            let mut stmt = c.prepare_cached(&format!(
                "SELECT {DEVICE_COLUMNS}, {WORKER_COLUMNS} FROM devices d JOIN workers w ON w.id = d.worker_id WHERE d.token_hash = ?"
            ))?;
            first_row(&mut stmt, [token_hash.as_slice()], principal_row)
        })?;
        // Remember when a device was last seen, but write at most once a minute per device.
        if let Some(p) = &found
            && p.device
                .last_seen_at
                .is_none_or(|t| now - t > chrono::Duration::seconds(60))
        {
            self.write_light(|c| {
                c.execute(
                    "UPDATE devices SET last_seen_at = ? WHERE id = ?",
                    params![time(now), p.device.id.to_string()],
                )?;
                Ok(())
            })?;
        }
        Ok(found)
    }

    fn principal_by_device(&self, id: Uuid) -> Result<Option<Principal>> {
        self.read(|c| {
            let mut stmt = c.prepare_cached(&format!(
                "SELECT {DEVICE_COLUMNS}, {WORKER_COLUMNS} FROM devices d JOIN workers w ON w.id = d.worker_id WHERE d.id = ?"
            ))?;
            first_row(&mut stmt, [id.to_string()], principal_row)
        })
    }

    fn reassign(
        &self,
        moves: &[Reassignment],
        audit: &[AuditEvent],
        at: DateTime<Utc>,
    ) -> Result<()> {
        self.write(|c| {
            let tx = c.transaction_with_behavior(TransactionBehavior::Immediate)?;
            {
                let mut current = tx.prepare_cached(
                    "SELECT group_id, worker_id FROM assignments WHERE household = ?",
                )?;
                let mut upsert = tx.prepare_cached(
                    "INSERT INTO assignments (household, group_id, worker_id, updated_at) VALUES (?1, ?2, ?3, ?4)
                     ON CONFLICT (household) DO UPDATE SET group_id = ?2, worker_id = ?3, updated_at = ?4",
                )?;
                let mut log = tx.prepare_cached("INSERT INTO log (kind, household) VALUES ('assign', ?)")?;
                let mut follow = tx.prepare_cached(
                    "INSERT INTO log (kind, household) SELECT 'assign', retired FROM links WHERE survivor = ? ORDER BY retired",
                )?;
                let stamp = time(at);
                for m in moves {
                    let key = m.household.to_string();
                    let now: Option<Assignment> = current
                        .query_row([&key], |r| {
                            Ok(Assignment {
                                group_id: r.get(0)?,
                                worker_id: r.get(1)?,
                            })
                        })
                        .optional()?;
                    if now != m.from {
                        return Err(StorageError::Conflict(format!(
                            "household {} was reassigned meanwhile; look again",
                            m.household
                        ))
                        .into());
                    }
                    upsert.execute(params![key, m.to.group_id, m.to.worker_id, stamp])?;
                    // Tells every scope that now holds the household to send its whole history;
                    // the same for the households merged into it, which follow it.
                    log.execute([&key])?;
                    follow.execute([&key])?;
                }
            }
            audit::append_in(&tx, audit, at)?;
            tx.commit()?;
            Ok(())
        })
    }

    fn assignments(&self, households: &[Uuid]) -> Result<HashMap<Uuid, Assignment>> {
        self.read(|c| {
            let mut stmt = c.prepare_cached(
                "SELECT group_id, worker_id FROM assignments WHERE household = ?",
            )?;
            let mut out = HashMap::new();
            for h in households {
                if let Some(a) = stmt
                    .query_row([h.to_string()], |r| {
                        Ok(Assignment {
                            group_id: r.get(0)?,
                            worker_id: r.get(1)?,
                        })
                    })
                    .optional()?
                {
                    out.insert(*h, a);
                }
            }
            Ok(out)
        })
    }

    fn standings(&self, households: &[Uuid]) -> Result<HashMap<Uuid, Standing>> {
        self.read(|c| {
            let mut stmt = c.prepare_cached(
                "SELECT a.group_id, a.worker_id, k.survivor, s.household, s.group_id, s.worker_id
                 FROM assignments a
                 LEFT JOIN links k ON k.retired = a.household
                 LEFT JOIN assignments s ON s.household = k.survivor
                 WHERE a.household = ?",
            )?;
            let mut out = HashMap::new();
            for h in households {
                let found = first_row(&mut stmt, [h.to_string()], |r| {
                    let own = Assignment {
                        group_id: r.get(0)?,
                        worker_id: r.get(1)?,
                    };
                    let survivor: Option<String> = r.get(2)?;
                    let merged_into = match survivor {
                        None => None,
                        Some(id) => {
                            let id = parse_uuid(&id, || format!("household {h}'s survivor"))?;
                            let held: Option<String> = r.get(3)?;
                            let assignment = held.map(|_| -> rusqlite::Result<Assignment> {
                                Ok(Assignment {
                                    group_id: r.get(4)?,
                                    worker_id: r.get(5)?,
                                })
                            });
                            Some((id, assignment.transpose()?))
                        }
                    };
                    Ok(Standing { own, merged_into })
                })?;
                if let Some(standing) = found {
                    out.insert(*h, standing);
                }
            }
            Ok(out)
        })
    }

    fn known_hashes(&self, household: Uuid, hashes: &[Hash]) -> Result<HashSet<Hash>> {
        self.read(|c| {
            let mut stmt = c.prepare_cached("SELECT household FROM changes WHERE hash = ?")?;
            let key = household.to_string();
            let mut out = HashSet::new();
            for h in hashes {
                let owner: Option<String> =
                    stmt.query_row([h.as_slice()], |r| r.get(0)).optional()?;
                if owner.as_deref() == Some(key.as_str()) {
                    out.insert(*h);
                }
            }
            Ok(out)
        })
    }

    fn store_pushes(&self, pushes: &[PushWrite]) -> Result<Vec<Result<Vec<u64>>>> {
        self.write(|c| {
            let mut tx = c.transaction_with_behavior(TransactionBehavior::Immediate)?;
            let now = time(Utc::now());
            let mut results = Vec::with_capacity(pushes.len());
            for push in pushes {
                let savepoint = tx.savepoint()?;
                match store_push(&savepoint, push, &now) {
                    Ok(seqs) => {
                        savepoint.commit()?;
                        results.push(Ok(seqs));
                    }
                    // A refusal of this push's content: it alone is rolled back (dropping the
                    // savepoint rolls it back), the others go on.
                    Err(SqlError::Storage(refused)) => results.push(Err(refused)),
                    // SQLite itself failed: the transaction may be gone (a full disk, an I/O
                    // error roll it back whole), so the group fails as a whole.
                    Err(failed @ SqlError::Sqlite(_)) => return Err(failed),
                }
            }
            tx.commit()?;
            Ok(results)
        })
    }

    // Long on purpose: the batch is read in one transaction, and its limits, the skipping of
    // the caller's own changes, the backfill of newly assigned households and the cursor's
    // jump to the end of the log depend on each other.
    fn log_after(&self, scope: &Scope, device: Uuid, after: u64, limit: usize) -> Result<LogPage> {
        let Some((clause, args)) = visible_to(scope, 4) else {
            return Ok(LogPage {
                head: self.read(|c| log_head(c))?,
                entries: vec![],
            });
        };
        self.read(|c| {
            // One read transaction: the head and the entries from one snapshot. With one
            // writer, sequence numbers commit in order, so everything up to the head is final.
            let tx = c.transaction()?;
            let head = log_head(&tx)?;
            let sql = format!(
                "SELECT l.seq, l.kind, l.household,
                        CASE WHEN c.device_id = ?2 THEN NULL ELSE c.bytes END
                 FROM log l
                 JOIN assignments a ON a.household = l.household
                 {VISIBILITY_JOINS}
                 LEFT JOIN changes c ON c.seq = l.seq
                 WHERE l.seq > ?1 AND {clause} ORDER BY l.seq LIMIT ?3"
            );
            let after = after as i64;
            let (device, limit) = (device.to_string(), limit.min(i64::MAX as usize) as i64);
            let mut params: Vec<&dyn rusqlite::ToSql> = vec![&after, &device, &limit];
            for a in &args {
                params.push(a);
            }
            let mut stmt = tx.prepare_cached(&sql)?;
            let mut rows = stmt.query(params.as_slice())?;
            let mut entries = Vec::new();
            while let Some(row) = rows.next()? {
                let seq: i64 = row.get(0)?;
                let kind: String = row.get(1)?;
                let household = parse_uuid(&row.get::<_, String>(2)?, || {
                    format!("log entry {seq}'s household")
                })?;
                let seq = seq as u64;
                entries.push(match (kind.as_str(), row.get::<_, Option<Vec<u8>>>(3)?) {
                    ("change", Some(bytes)) => LogEntry::Change {
                        seq,
                        household,
                        bytes,
                    },
                    ("change", None) => LogEntry::Own { seq },
                    _ => LogEntry::Entered { seq, household },
                });
            }
            Ok(LogPage { head, entries })
        })
    }

    fn history_through(&self, household: Uuid, through: u64) -> Result<Vec<(u64, Vec<u8>)>> {
        self.read(|c| {
            let mut stmt = c.prepare_cached(
                "SELECT seq, bytes FROM changes WHERE household = ? AND seq <= ? ORDER BY seq",
            )?;
            let rows = stmt.query_map(params![household.to_string(), through as i64], |r| {
                Ok((r.get::<_, i64>(0)? as u64, r.get::<_, Vec<u8>>(1)?))
            })?;
            Ok(rows.collect::<rusqlite::Result<_>>()?)
        })
    }

    fn history_between(
        &self,
        household: Uuid,
        after: u64,
        through: u64,
    ) -> Result<Vec<(u64, Vec<u8>)>> {
        self.read(|c| snapshots::history_between(c, household, after, through))
    }

    fn documents_after(
        &self,
        scope: &Scope,
        after: Option<Uuid>,
        limit: usize,
    ) -> Result<DocumentPage> {
        self.read(|c| snapshots::documents_after(c, scope, after, limit))
    }

    fn changes_after(&self, household: Uuid, after: u64) -> Result<HouseholdDelta> {
        self.read(|c| {
            // One read transaction: the head and the changes from one snapshot.
            let tx = c.transaction()?;
            let head = log_head(&tx)?;
            let changes = snapshots::history_between(&tx, household, after, u64::MAX)?;
            Ok(HouseholdDelta { head, changes })
        })
    }

    fn put_snapshots(&self, snapshots: &[(Uuid, CachedSnapshot)]) -> Result<()> {
        if snapshots.is_empty() {
            return Ok(());
        }
        self.write_light(|c| snapshots::put_snapshots(c, snapshots))
    }

    fn household_changes(&self, household: Uuid) -> Result<Vec<Vec<u8>>> {
        self.read(|c| {
            let mut stmt =
                c.prepare_cached("SELECT bytes FROM changes WHERE household = ? ORDER BY seq")?;
            let rows = stmt.query_map([household.to_string()], |r| r.get(0))?;
            Ok(rows.collect::<rusqlite::Result<_>>()?)
        })
    }

    fn charge_push(
        &self,
        device: Uuid,
        amount: PushUsage,
        quota: PushQuota,
        now: DateTime<Utc>,
    ) -> Result<Charge> {
        self.write_light(|c| {
            let tx = c.transaction_with_behavior(TransactionBehavior::Immediate)?;
            let start = quota_window_start(now);
            // Hours that left the window count for no one any more.
            tx.execute("DELETE FROM push_usage WHERE hour < ?", [start])?;
            let key = device.to_string();
            let hours: Vec<(i64, PushUsage)> = {
                let mut stmt = tx.prepare_cached(
                    "SELECT hour, bytes, changes FROM push_usage WHERE device_id = ? ORDER BY hour",
                )?;
                let rows = stmt.query_and_then([&key], |r| {
                    let hour: i64 = r.get(0)?;
                    let what = |column: &str| format!("device {device}'s push {column} in hour {hour}");
                    Ok::<_, SqlError>((
                        hour,
                        PushUsage {
                            bytes: stored_count(r.get(1)?, || what("bytes"))?,
                            changes: stored_count(r.get(2)?, || what("changes"))?,
                        },
                    ))
                })?;
                rows.collect::<SqlResult<_>>()?
            };
            if let Some(refused) = sql::quota_refusal(&hours, amount, quota) {
                return Ok(refused);
            }
            tx.execute(
                "INSERT INTO push_usage (device_id, hour, bytes, changes) VALUES (?1, ?2, ?3, ?4)
                 ON CONFLICT (device_id, hour) DO UPDATE SET bytes = bytes + ?3, changes = changes + ?4",
                params![key, quota_hour(now), sql_count(amount.bytes), sql_count(amount.changes)],
            )?;
            tx.commit()?;
            Ok(Charge::Charged)
        })
    }

    fn refund_push(
        &self,
        device: Uuid,
        amount: PushUsage,
        charged_at: DateTime<Utc>,
    ) -> Result<()> {
        self.write_light(|c| {
            c.execute(
                "UPDATE push_usage SET bytes = max(bytes - ?1, 0), changes = max(changes - ?2, 0)
                 WHERE device_id = ?3 AND hour = ?4",
                params![
                    sql_count(amount.bytes),
                    sql_count(amount.changes),
                    device.to_string(),
                    quota_hour(charged_at)
                ],
            )?;
            Ok(())
        })
    }

    fn push_usage(&self, now: DateTime<Utc>) -> Result<HashMap<Uuid, PushUsage>> {
        self.read(|c| {
            let mut stmt = c.prepare_cached(
                "SELECT device_id, sum(bytes), sum(changes) FROM push_usage
                 WHERE hour >= ? GROUP BY device_id",
            )?;
            let rows = stmt.query_and_then([quota_window_start(now)], |r| {
                let id = parse_uuid(&r.get::<_, String>(0)?, || "a push usage's device".into())?;
                let what = |column: &str| format!("device {id}'s push {column}");
                Ok::<_, SqlError>((
                    id,
                    PushUsage {
                        bytes: stored_count(r.get(1)?, || what("bytes"))?,
                        changes: stored_count(r.get(2)?, || what("changes"))?,
                    },
                ))
            })?;
            rows.collect()
        })
    }

    fn directory(&self) -> Result<madadkar_schema::wire::Directory> {
        self.read(|c| {
            let tx = c.unchecked_transaction()?;
            let version = version_of(&tx, "directory_version")?;
            let mut stmt = tx.prepare_cached(
                "SELECT d.id, w.id, w.name, w.group_id, d.revoked_at IS NOT NULL, d.signing_key
                 FROM devices d JOIN workers w ON w.id = d.worker_id ORDER BY d.id",
            )?;
            let devices = stmt
                .query_and_then([], |r| {
                    Ok::<_, SqlError>(madadkar_schema::wire::DirectoryEntry {
                        device_id: parse_uuid(&r.get::<_, String>(0)?, || "a device id".into())?,
                        worker_id: r.get(1)?,
                        worker_name: r.get(2)?,
                        group_id: r.get(3)?,
                        revoked: r.get(4)?,
                        signing_key: r.get(5)?,
                    })
                })?
                .collect::<SqlResult<Vec<_>>>()?;
            // In the same read transaction as the version: a partner added between the reads
            // shows as a newer version on the next pull, never as a list that looks current.
            let partners = partners::all(&tx)?;
            Ok(madadkar_schema::wire::Directory {
                version,
                devices,
                partners,
            })
        })
    }

    fn add_partners(&self, batch: &[Partner]) -> Result<()> {
        self.write(|c| partners::add(c, batch))
    }

    fn set_partner_active(&self, code: &str, active: bool) -> Result<()> {
        self.write(|c| partners::set_active(c, code, active))
    }

    fn partners(&self) -> Result<Vec<Partner>> {
        self.read(|c| partners::all(c))
    }

    fn retire_device(&self, id: Uuid, now: DateTime<Utc>) -> Result<()> {
        self.mark_device(id, "retiring_at", now)
    }

    fn households_in_scope(&self, scope: &Scope) -> Result<Vec<Uuid>> {
        let Some((clause, args)) = visible_to(scope, 2) else {
            return Ok(Vec::new());
        };
        self.read(|c| {
            // `?1` only keeps the filter's parameters at `?2` and after, as in `pull`.
            let sql = format!(
                "SELECT a.household FROM assignments a {VISIBILITY_JOINS}
                 WHERE ?1 = ?1 AND {clause} ORDER BY a.household"
            );
            let mut stmt = c.prepare_cached(&sql)?;
            let zero = 0i64;
            let mut params: Vec<&dyn rusqlite::ToSql> = vec![&zero];
            for a in &args {
                params.push(a);
            }
            let rows = stmt.query_and_then(params.as_slice(), |r| {
                parse_uuid(&r.get::<_, String>(0)?, || "an assigned household".into())
            })?;
            rows.collect()
        })
    }

    fn national_id_households(&self, national_id: &str) -> Result<HashMap<Uuid, Assignment>> {
        self.read(|c| {
            let mut stmt = c.prepare_cached(
                "SELECT n.household, a.group_id, a.worker_id FROM national_ids n
                 LEFT JOIN assignments a ON a.household = n.household
                 WHERE n.national_id = ?",
            )?;
            let rows = stmt.query_and_then([national_id], |r| {
                let household =
                    parse_uuid(&r.get::<_, String>(0)?, || "an indexed household".into())?;
                Ok::<_, SqlError>((
                    household,
                    Assignment {
                        group_id: r.get(1)?,
                        worker_id: r.get(2)?,
                    },
                ))
            })?;
            rows.collect()
        })
    }

    fn charge_lookup(
        &self,
        device: Uuid,
        limit: LookupLimit,
        now: DateTime<Utc>,
    ) -> Result<Option<DateTime<Utc>>> {
        self.write(|c| reconcile::charge_lookup(c, &device.to_string(), limit, now))
    }

    fn versions(&self) -> Result<Versions> {
        self.read(|c| {
            Ok(Versions {
                directory: version_of(c, "directory_version")?,
                scope: version_of(c, "scope_version")?,
            })
        })
    }

    fn append_audit(&self, events: &[AuditEvent], at: DateTime<Utc>) -> Result<()> {
        if events.is_empty() {
            return Ok(());
        }
        self.write(|c| audit::append(c, events, at))
    }

    fn audit_entries(&self, query: &AuditQuery) -> Result<Vec<AuditEntry>> {
        self.read(|c| audit::entries(c, query))
    }

    fn audit_rows(&self, after: Option<i64>, limit: usize) -> Result<Vec<AuditRow>> {
        self.read(|c| audit::rows(c, after, limit))
    }

    fn enroll_attempt(
        &self,
        source: &str,
        budget: &EnrollBudget,
        now: DateTime<Utc>,
    ) -> Result<Option<EnrollRefusal>> {
        self.write(|c| enroll_limits::attempt(c, source, budget, now))
    }

    fn enroll_failed(
        &self,
        source: &str,
        budget: &EnrollBudget,
        now: DateTime<Utc>,
    ) -> Result<bool> {
        self.write(|c| enroll_limits::failed(c, source, budget, now))
    }

    fn enroll_succeeded(&self, source: &str) -> Result<()> {
        self.write(|c| enroll_limits::succeeded(c, source))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A database with one group, worker and device, and a plain connection to spoil it with.
    fn enrolled() -> (tempfile::TempDir, SqliteStorage, Connection, Uuid) {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("server.sqlite3");
        let storage = SqliteStorage::open(&path).expect("open");
        storage.create_group("g1", "one").expect("group");
        let worker = storage
            .create_worker("w", Some("g1"), Role::Field)
            .expect("worker");
        let now = Utc::now();
        storage
            .create_enroll_code(&worker.id, [1; 32], now + chrono::Duration::hours(1))
            .expect("code");
        let device = Uuid::now_v7();
        storage
            .enroll(
                [1; 32],
                NewDevice {
                    id: device,
                    name: "laptop".into(),
                    token_hash: [2; 32],
                    local_worker_id: None,
                    signing_key: None,
                },
                now,
            )
            .expect("enrol");
        let raw = Connection::open(&path).expect("raw connection");
        (dir, storage, raw, device)
    }

    fn assert_corrupt<T: std::fmt::Debug>(result: Result<T>, mentions: &str) {
        match result {
            Err(StorageError::Corrupt { what }) => {
                assert!(
                    what.contains(mentions),
                    "{what:?} should mention {mentions}"
                )
            }
            other => panic!("expected a corrupt-value error, got {other:?}"),
        }
    }

    #[test]
    fn push_quota_counts_a_rolling_day_and_names_when_it_frees_up() {
        let (_dir, storage, _raw, device) = enrolled();
        let quota = PushQuota {
            bytes: 100,
            changes: 10,
        };
        let t0 = DateTime::parse_from_rfc3339("2026-03-01T08:30:00Z")
            .expect("time")
            .with_timezone(&Utc);
        let push = |bytes, changes| PushUsage { bytes, changes };
        let at = |hours: i64| t0 + chrono::Duration::hours(hours);
        assert_eq!(
            storage
                .charge_push(device, push(60, 2), quota, at(0))
                .expect("charge"),
            Charge::Charged
        );
        assert_eq!(
            storage
                .charge_push(device, push(30, 2), quota, at(5))
                .expect("charge"),
            Charge::Charged
        );
        // 90 bytes used: 20 more do not fit until the first hour's 60 leave the window.
        let refused = storage
            .charge_push(device, push(20, 1), quota, at(6))
            .expect("charge");
        let freed = DateTime::parse_from_rfc3339("2026-03-02T08:00:00Z")
            .expect("time")
            .with_timezone(&Utc);
        assert_eq!(
            refused,
            Charge::Refused {
                usage: push(90, 4),
                resets_at: Some(freed)
            }
        );
        // A push over the quota on its own never fits.
        assert_eq!(
            storage
                .charge_push(device, push(101, 1), quota, at(6))
                .expect("charge"),
            Charge::Refused {
                usage: push(90, 4),
                resets_at: None
            }
        );
        // A refund takes back a charge; the usage survives reopening the database.
        storage
            .refund_push(device, push(30, 2), at(5))
            .expect("refund");
        assert_eq!(
            storage.push_usage(at(6)).expect("usage")[&device],
            push(60, 2)
        );
        let reopened = SqliteStorage::open(&storage.path).expect("reopen");
        assert_eq!(
            reopened.push_usage(at(6)).expect("usage")[&device],
            push(60, 2)
        );
        // A day later the first push has left the window.
        assert_eq!(
            reopened
                .charge_push(device, push(90, 9), quota, at(24))
                .expect("charge"),
            Charge::Charged
        );
        assert_eq!(
            reopened.push_usage(at(24)).expect("usage")[&device],
            push(90, 9)
        );
    }

    /// A change of a new document by `actor` (its first: sequence number 1) setting `value`.
    fn first_change(actor: &automerge::ActorId, household: Uuid, value: &str) -> IncomingChange {
        use automerge::transaction::Transactable;
        let mut doc = automerge::AutoCommit::new().with_actor(actor.clone());
        doc.put(automerge::ROOT, "x", value).expect("put");
        doc.commit();
        let change = doc.get_changes(&[]).remove(0);
        IncomingChange {
            household,
            hash: change.hash().0,
            bytes: change.raw_bytes().to_vec(),
            device_id: Uuid::now_v7(),
        }
    }

    fn push_of(changes: Vec<IncomingChange>, audited: Option<Uuid>) -> PushWrite {
        let households: Vec<Uuid> = changes.iter().map(|c| c.household).collect();
        PushWrite {
            new_households: households
                .iter()
                .map(|h| (*h, Assignment::default()))
                .collect(),
            changes,
            facts: vec![],
            audit: audited
                .map(|device| AuditEvent {
                    action: madadkar_schema::AuditAction::Push,
                    device_id: Some(device),
                    worker_id: None,
                    group_id: None,
                    household: households.first().copied(),
                })
                .into_iter()
                .collect(),
            at: Utc::now(),
        }
    }

    /// One transaction for several pushes, each all or nothing on its own: a push that reuses
    /// an (actor, seq) an earlier push of the group stored, or sends a held change for another
    /// household, is refused alone, with its audit entry; the others are stored, a change sent
    /// twice answers its one sequence number, and the numbers follow the pushes' order.
    #[test]
    fn a_group_of_pushes_stores_each_on_its_own() {
        let (_dir, storage, raw, device) = enrolled();
        let actor = automerge::ActorId::random();
        let (h1, h2, h3) = (Uuid::now_v7(), Uuid::now_v7(), Uuid::now_v7());
        let a = first_change(&actor, h1, "a");
        let clash = first_change(&actor, h1, "b");
        let c = first_change(&automerge::ActorId::random(), h2, "c");
        let misplaced = IncomingChange {
            household: h3,
            ..c.clone()
        };
        let d = first_change(&automerge::ActorId::random(), h3, "d");
        let results = storage
            .store_pushes(&[
                push_of(vec![a.clone()], Some(device)),
                push_of(vec![clash], Some(device)),
                push_of(vec![c.clone()], Some(device)),
                push_of(vec![a, d.clone()], Some(device)),
                push_of(vec![d, misplaced], Some(device)),
            ])
            .expect("one transaction");
        assert!(matches!(results[0], Ok(ref s) if s == &vec![1]));
        assert!(
            matches!(results[1], Err(StorageError::DuplicateSeq { household }) if household == h1)
        );
        assert!(matches!(results[2], Ok(ref s) if s == &vec![2]));
        assert!(matches!(results[3], Ok(ref s) if s == &vec![1, 3]));
        assert!(matches!(results[4], Err(StorageError::Conflict(_))));
        assert_eq!(results.len(), 5);
        let count = |sql: &str| -> i64 { raw.query_row(sql, [], |r| r.get(0)).expect("count") };
        assert_eq!(count("SELECT count(*) FROM changes"), 3);
        assert_eq!(count("SELECT count(*) FROM log"), 3);
        // The refused pushes' entries went with them; the chain stays whole.
        assert_eq!(count("SELECT count(*) FROM audit"), 3);
        let chain = madadkar_server_storage::audit::verify(&storage, None).expect("verify");
        assert_eq!((chain.entries, chain.broken), (3, None));
        // The provided `store_changes` is one push of it.
        assert!(matches!(
            storage.store_changes(&[c], &[], &[]),
            Ok(ref s) if s == &vec![2]
        ));
    }

    #[test]
    fn a_good_row_reads_back() {
        let (_dir, storage, _raw, device) = enrolled();
        let p = storage
            .principal_by_token([2; 32], Utc::now())
            .expect("read")
            .expect("found");
        assert_eq!((p.device.id, p.worker.role), (device, Role::Field));
    }

    #[test]
    fn unknown_role_is_an_error_not_admin() {
        let (_dir, storage, raw, device) = enrolled();
        raw.execute("UPDATE workers SET role = 'boss'", [])
            .expect("spoil");
        assert_corrupt(storage.workers(), "boss");
        assert_corrupt(storage.principal_by_device(device), "boss");
        assert_corrupt(storage.principal_by_token([2; 32], Utc::now()), "boss");
    }

    #[test]
    fn malformed_device_id_is_an_error_not_the_nil_uuid() {
        let (_dir, storage, raw, _device) = enrolled();
        raw.execute("UPDATE devices SET id = 'not-a-uuid'", [])
            .expect("spoil");
        assert_corrupt(storage.devices(), "not-a-uuid");
        assert_corrupt(
            storage.principal_by_token([2; 32], Utc::now()),
            "not-a-uuid",
        );
    }

    #[test]
    fn malformed_times_are_errors_not_the_epoch_or_never() {
        let (_dir, storage, raw, _device) = enrolled();
        raw.execute("UPDATE devices SET enrolled_at = 'yesterday'", [])
            .expect("spoil");
        assert_corrupt(storage.devices(), "enrolled_at");
        raw.execute(
            "UPDATE devices SET enrolled_at = '2026-01-01T00:00:00+00:00', revoked_at = 'soon'",
            [],
        )
        .expect("spoil");
        // A revocation that does not parse must not read as "never revoked".
        assert_corrupt(
            storage.principal_by_token([2; 32], Utc::now()),
            "revoked_at",
        );
    }

    #[test]
    fn malformed_code_expiry_is_an_error_not_an_expired_code() {
        let (_dir, storage, raw, _device) = enrolled();
        let worker = storage.workers().expect("workers").remove(0);
        storage
            .create_enroll_code(&worker.id, [3; 32], Utc::now())
            .expect("code");
        raw.execute(
            "UPDATE enroll_codes SET expires_at = 'later' WHERE used_at IS NULL",
            [],
        )
        .expect("spoil");
        let device = NewDevice {
            id: Uuid::now_v7(),
            name: "second".into(),
            token_hash: [4; 32],
            local_worker_id: None,
            signing_key: None,
        };
        assert_corrupt(storage.enroll([3; 32], device, Utc::now()), "expires_at");
    }
}
