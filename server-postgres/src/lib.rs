//! The PostgreSQL storage backend, for several server instances sharing one cluster: a pooled
//! async driver (tokio-postgres with deadpool) behind the synchronous [`Storage`] trait, the
//! schema's migrations ([`schema`]), and the visibility rule that keeps pulls from skipping a
//! change when writers commit out of order (`docs/scale-out.md`).
//!
//! The trait is synchronous (handlers call it inside `spawn_blocking`); this backend owns a
//! small runtime that drives the pool's connections, and each call blocks its (blocking-pool)
//! thread on one future.

mod audit;
mod enroll_limits;
mod schema;
#[cfg(feature = "test-cluster")]
pub mod testing;

use std::collections::{HashMap, HashSet};
use std::sync::Mutex;

use chrono::{DateTime, Utc};
use deadpool_postgres::{GenericClient, Manager, ManagerConfig, Pool, RecyclingMethod};
use madadkar_schema::{Partner, PartnerKind, Role};
use madadkar_server_storage::audit::{AuditEntry, AuditEvent, AuditQuery, AuditRow};
use madadkar_server_storage::sql::{
    VISIBILITY_JOINS, actor_seq, quota_hour, quota_window_start, sql_count,
};
use madadkar_server_storage::*;
use tokio_postgres::{NoTls, Row, error::SqlState, types::ToSql};
use uuid::Uuid;

/// Connections per server instance. PostgreSQL's default `max_connections` is 100: two
/// instances and the administration commands fit with room to spare.
pub const DEFAULT_POOL_SIZE: usize = 16;

/// An error inside this backend; it becomes a [`StorageError`] at the trait's edge.
#[derive(Debug)]
enum PgError {
    Pg(tokio_postgres::Error),
    Storage(StorageError),
}

impl From<tokio_postgres::Error> for PgError {
    fn from(e: tokio_postgres::Error) -> Self {
        Self::Pg(e)
    }
}

impl From<StorageError> for PgError {
    fn from(e: StorageError) -> Self {
        Self::Storage(e)
    }
}

impl From<PgError> for StorageError {
    fn from(e: PgError) -> Self {
        match e {
            PgError::Pg(e) => backend(describe(&e)),
            PgError::Storage(e) => e,
        }
    }
}

/// The server's message with its code, not only "db error".
fn describe(e: &tokio_postgres::Error) -> String {
    match e.as_db_error() {
        Some(db) => format!("{}: {}", db.code().code(), db.message()),
        None => e.to_string(),
    }
}

type PgResult<T> = std::result::Result<T, PgError>;

fn backend(e: impl std::fmt::Display) -> StorageError {
    StorageError::Backend(e.to_string())
}

fn corrupt(what: String) -> PgError {
    PgError::Storage(StorageError::Corrupt { what })
}

fn is_unique_violation(e: &PgError) -> bool {
    matches!(e, PgError::Pg(e) if e.code() == Some(&SqlState::UNIQUE_VIOLATION))
}

/// Storage in a PostgreSQL database, shared by any number of server instances.
pub struct PgStorage {
    runtime: Option<tokio::runtime::Runtime>,
    pool: Pool,
    /// Whether log writers take the head lock (always, but for the test that shows why).
    commit_ordered: bool,
    /// Called by a log writer after it wrote its entries and before it commits: lets the
    /// concurrency test hold a writer open.
    before_commit: Mutex<Option<std::sync::Arc<dyn Fn() + Send + Sync>>>,
}

impl std::fmt::Debug for PgStorage {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PgStorage")
            .field("pool", &self.pool.status())
            .field("commit_ordered", &self.commit_ordered)
            .finish_non_exhaustive()
    }
}

impl Drop for PgStorage {
    fn drop(&mut self) {
        // Dropping a runtime blocks, which panics inside an async context (a server's shutdown
        // drops its storage there); connections need no goodbye.
        if let Some(rt) = self.runtime.take() {
            rt.shutdown_background();
        }
    }
}

impl PgStorage {
    /// Connects to the database at `url` (`postgres://user:password@host:port/database`) with a
    /// pool of `pool_size` connections, and brings its schema up to date.
    pub fn connect(url: &str, pool_size: usize) -> Result<Self> {
        let config: tokio_postgres::Config = url
            .parse()
            .map_err(|e| backend(format!("the database URL is not one PostgreSQL reads: {e}")))?;
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .thread_name("madadkar-pg")
            .enable_all()
            .build()
            .map_err(backend)?;
        let manager = Manager::from_config(
            config,
            NoTls,
            ManagerConfig {
                recycling_method: RecyclingMethod::Fast,
            },
        );
        let pool = Pool::builder(manager)
            .max_size(pool_size.max(1))
            .runtime(deadpool_postgres::Runtime::Tokio1)
            .build()
            .map_err(backend)?;
        let storage = Self {
            runtime: Some(runtime),
            pool,
            commit_ordered: true,
            before_commit: Mutex::new(None),
        };
        storage.run(async |c| migrate(c).await)?;
        Ok(storage)
    }

    /// Runs `f` on a pooled connection, blocking this thread until it finishes.
    fn run<T>(
        &self,
        f: impl AsyncFnOnce(&mut deadpool_postgres::Client) -> PgResult<T>,
    ) -> Result<T> {
        let runtime = self
            .runtime
            .as_ref()
            .ok_or_else(|| backend("the storage is shut down"))?;
        runtime.block_on(async {
            let mut client = self
                .pool
                .get()
                .await
                .map_err(|e| backend(format!("no database connection: {e}")))?;
            Ok(f(&mut client).await?)
        })
    }

    /// Numbers log entries from a plain sequence without the head lock: what a backend without
    /// the visibility rule does. Only for the test that shows a pull skipping a change then.
    #[doc(hidden)]
    pub fn without_visibility_rule_for_tests(mut self) -> Self {
        self.commit_ordered = false;
        self
    }

    /// Calls `hook` in every log writer between writing its entries and committing.
    #[doc(hidden)]
    pub fn set_before_commit_for_tests(&self, hook: Option<Box<dyn Fn() + Send + Sync>>) {
        if let Ok(mut h) = self.before_commit.lock() {
            *h = hook.map(std::sync::Arc::from);
        }
    }

    fn before_commit(&self) {
        // Called outside the lock: a hook that waits must not hold up other writers' hooks.
        let hook = self.before_commit.lock().ok().and_then(|h| h.clone());
        if let Some(hook) = hook {
            hook();
        }
    }

    /// Sets a device's `column` (`revoked_at` or `retiring_at`) to `now` unless set already.
    fn mark_device(&self, id: Uuid, column: &'static str, now: DateTime<Utc>) -> Result<()> {
        self.run(async |c| {
            let n = exec(
                c,
                &format!("UPDATE devices SET {column} = coalesce({column}, $1) WHERE id = $2"),
                &[&now, &id],
            )
            .await?;
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
}

async fn migrate(c: &mut deadpool_postgres::Client) -> PgResult<()> {
    let tx = c.transaction().await?;
    exec(
        &tx,
        "SELECT pg_advisory_xact_lock($1)",
        &[&schema::MIGRATION_LOCK],
    )
    .await?;
    tx.batch_execute("CREATE TABLE IF NOT EXISTS schema_version (version INT NOT NULL)")
        .await?;
    let version: i32 = match opt(&tx, "SELECT version FROM schema_version", &[]).await? {
        Some(r) => r.try_get(0)?,
        None => {
            exec(&tx, "INSERT INTO schema_version (version) VALUES (0)", &[]).await?;
            0
        }
    };
    let known = schema::MIGRATIONS.len() as i32;
    if version > known {
        return Err(backend(format!(
            "database version {version} is newer than this server understands ({known}); update it"
        ))
        .into());
    }
    for (i, step) in schema::MIGRATIONS.iter().enumerate().skip(version as usize) {
        tx.batch_execute(step).await?;
        exec(
            &tx,
            "UPDATE schema_version SET version = $1",
            &[&(i as i32 + 1)],
        )
        .await?;
    }
    tx.commit().await?;
    Ok(())
}

/// Runs a statement prepared once per connection. Statements given as text are parsed on every
/// call, a round trip more each; on the push path, under the log's head lock, every round trip
/// is time no other writer can use.
pub(crate) async fn exec(
    c: &impl GenericClient,
    sql: &str,
    params: &[&(dyn ToSql + Sync)],
) -> PgResult<u64> {
    let statement = c.prepare_cached(sql).await?;
    Ok(c.execute(&statement, params).await?)
}

/// The one row a prepared statement gives (see [`exec`]).
pub(crate) async fn one(
    c: &impl GenericClient,
    sql: &str,
    params: &[&(dyn ToSql + Sync)],
) -> PgResult<Row> {
    let statement = c.prepare_cached(sql).await?;
    Ok(c.query_one(&statement, params).await?)
}

/// The row, if any, a prepared statement gives (see [`exec`]).
pub(crate) async fn opt(
    c: &impl GenericClient,
    sql: &str,
    params: &[&(dyn ToSql + Sync)],
) -> PgResult<Option<Row>> {
    let statement = c.prepare_cached(sql).await?;
    Ok(c.query_opt(&statement, params).await?)
}

/// The rows a prepared statement gives (see [`exec`]).
pub(crate) async fn rows(
    c: &impl GenericClient,
    sql: &str,
    params: &[&(dyn ToSql + Sync)],
) -> PgResult<Vec<Row>> {
    let statement = c.prepare_cached(sql).await?;
    Ok(c.query(&statement, params).await?)
}

fn stored_count(n: i64, what: impl FnOnce() -> String) -> PgResult<u64> {
    u64::try_from(n).map_err(|_| corrupt(format!("{} is negative: {n}", what())))
}

fn worker_row(row: &Row, at: usize) -> PgResult<WorkerRecord> {
    let id: String = row.try_get(at)?;
    let role: String = row.try_get(at + 3)?;
    let role = Role::parse(&role)
        .map_err(|_| corrupt(format!("worker {id} has an unknown role {role:?}")))?;
    Ok(WorkerRecord {
        id,
        name: row.try_get(at + 1)?,
        group_id: row.try_get(at + 2)?,
        role,
    })
}

const DEVICE_COLUMNS: &str = "d.id, d.worker_id, d.name, d.enrolled_at, d.revoked_at, d.last_seen_at, d.local_worker_id, d.signing_key, d.retiring_at";
const WORKER_COLUMNS: &str = "w.id, w.name, w.group_id, w.role";

fn device_row(row: &Row) -> PgResult<DeviceRecord> {
    Ok(DeviceRecord {
        id: row.try_get(0)?,
        worker_id: row.try_get(1)?,
        name: row.try_get(2)?,
        enrolled_at: row.try_get(3)?,
        revoked_at: row.try_get(4)?,
        last_seen_at: row.try_get(5)?,
        local_worker_id: row.try_get(6)?,
        signing_key: row.try_get(7)?,
        retiring_at: row.try_get(8)?,
    })
}

fn principal_row(row: &Row) -> PgResult<Principal> {
    Ok(Principal {
        device: device_row(row)?,
        worker: worker_row(row, 9)?,
    })
}

fn hash_of(bytes: &[u8], what: impl FnOnce() -> String) -> PgResult<Hash> {
    bytes
        .try_into()
        .map_err(|_| corrupt(format!("{} is not 32 bytes", what())))
}

/// [`sql::visible_to`] with this backend's placeholders.
fn visible_to(scope: &Scope, first: usize) -> Option<(String, Vec<String>)> {
    sql::visible_to(scope, first, |n| format!("${n}"))
}

/// A read-only transaction on one snapshot, and the log's head in it: what a pull and a first
/// sync's page read everything else from.
async fn snapshot_read(
    c: &mut deadpool_postgres::Client,
    commit_ordered: bool,
) -> PgResult<(deadpool_postgres::Transaction<'_>, u64)> {
    let tx = read_only_snapshot(c).await?;
    let head = log_head(&tx, commit_ordered).await?;
    Ok((tx, head))
}

/// A read-only transaction whose every statement reads one snapshot.
async fn read_only_snapshot(
    c: &mut deadpool_postgres::Client,
) -> PgResult<deadpool_postgres::Transaction<'_>> {
    Ok(c.build_transaction()
        .isolation_level(tokio_postgres::IsolationLevel::RepeatableRead)
        .read_only(true)
        .start()
        .await?)
}

/// Rows of (seq, bytes): a household's changes with their sequence numbers.
fn numbered_changes(rows: &[Row]) -> PgResult<Vec<(u64, Vec<u8>)>> {
    rows.iter()
        .map(|r| {
            let seq: i64 = r.try_get(0)?;
            Ok((
                stored_count(seq, || "a change's sequence number".into())?,
                r.try_get(1)?,
            ))
        })
        .collect()
}

/// The log's committed head: with the visibility rule, everything at or below it is final.
async fn log_head(c: &impl GenericClient, commit_ordered: bool) -> PgResult<u64> {
    let sql = if commit_ordered {
        "SELECT seq FROM log_head WHERE id = 1"
    } else {
        "SELECT coalesce(max(seq), 0) FROM log"
    };
    let head: i64 = c.query_one(sql, &[]).await?.try_get(0)?;
    stored_count(head, || "the log's head".into())
}

/// Numbers log entries inside a write transaction. With the visibility rule, the first call
/// locks the head row until the transaction ends: writers number and commit one at a time.
struct LogWriter {
    ordered: bool,
    next: Option<i64>,
}

impl LogWriter {
    fn new(ordered: bool) -> Self {
        Self {
            ordered,
            next: None,
        }
    }

    /// Takes the head lock now (before the transaction's reads that must see every earlier
    /// writer's rows, such as the check for a change stored already).
    async fn lock(&mut self, tx: &impl GenericClient) -> PgResult<()> {
        if self.ordered && self.next.is_none() {
            let head: i64 = one(tx, "SELECT seq FROM log_head WHERE id = 1 FOR UPDATE", &[])
                .await?
                .try_get(0)?;
            self.next = Some(head + 1);
        }
        Ok(())
    }

    /// Appends one entry to the log; its sequence number.
    async fn append(
        &mut self,
        tx: &impl GenericClient,
        kind: &str,
        household: Uuid,
    ) -> PgResult<i64> {
        let seq = if self.ordered {
            self.lock(tx).await?;
            let seq = self.next.unwrap_or(1);
            self.next = Some(seq + 1);
            seq
        } else {
            one(tx, "SELECT nextval('log_unordered')", &[])
                .await?
                .try_get(0)?
        };
        exec(
            tx,
            "INSERT INTO log (seq, kind, household) VALUES ($1, $2, $3)",
            &[&seq, &kind, &household],
        )
        .await?;
        Ok(seq)
    }

    /// Moves the head past the entries appended (before commit).
    async fn finish(&self, tx: &impl GenericClient) -> PgResult<()> {
        if let (true, Some(next)) = (self.ordered, self.next) {
            exec(
                tx,
                "UPDATE log_head SET seq = $1 WHERE id = 1",
                &[&(next - 1)],
            )
            .await?;
        }
        Ok(())
    }
}

/// Logs `assign` entries for every household merged into `survivor`, which follow it.
async fn log_followers(
    tx: &impl GenericClient,
    log: &mut LogWriter,
    survivor: Uuid,
) -> PgResult<()> {
    let retired = rows(
        tx,
        "SELECT retired FROM links WHERE survivor = $1 ORDER BY retired",
        &[&survivor],
    )
    .await?;
    for r in retired {
        log.append(tx, "assign", r.try_get(0)?).await?;
    }
    Ok(())
}

/// Replaces the facts of each named household (inside the caller's write transaction); a merge
/// link that appears or points elsewhere is logged as an `assign` entry of the retired
/// household (see the SQLite backend's `write_facts`).
async fn write_facts(
    tx: &impl GenericClient,
    log: &mut LogWriter,
    facts: &[HouseholdFacts],
) -> PgResult<()> {
    for f in facts {
        exec(
            tx,
            "DELETE FROM national_ids WHERE household = $1",
            &[&f.household],
        )
        .await?;
        for id in &f.national_ids {
            exec(tx, "INSERT INTO national_ids (national_id, household) VALUES ($1, $2) ON CONFLICT DO NOTHING",
                &[id, &f.household],
            )
            .await?;
        }
        let before: Option<Uuid> = opt(
            tx,
            "SELECT survivor FROM links WHERE retired = $1",
            &[&f.household],
        )
        .await?
        .map(|r| r.try_get(0))
        .transpose()?;
        if before == f.merged_into {
            continue;
        }
        match f.merged_into {
            Some(survivor) => {
                exec(
                    tx,
                    "INSERT INTO links (retired, survivor) VALUES ($1, $2)
                     ON CONFLICT (retired) DO UPDATE SET survivor = EXCLUDED.survivor",
                    &[&f.household, &survivor],
                )
                .await?;
                log.append(tx, "assign", f.household).await?;
            }
            None => {
                exec(tx, "DELETE FROM links WHERE retired = $1", &[&f.household]).await?;
            }
        }
    }
    Ok(())
}

/// Stores one push inside the group's transaction (in its savepoint): what
/// [`Storage::store_changes`] stores, and its audit entries.
async fn store_push(
    tx: &impl GenericClient,
    log: &mut LogWriter,
    push: &PushWrite,
    now: DateTime<Utc>,
) -> PgResult<Vec<u64>> {
    for (h, a) in &push.new_households {
        exec(tx, "INSERT INTO assignments (household, group_id, worker_id, updated_at) VALUES ($1, $2, $3, $4)
             ON CONFLICT DO NOTHING",
            &[h, &a.group_id, &a.worker_id, &now],
        )
        .await?;
    }
    let existing = tx
        .prepare_cached("SELECT seq, household FROM changes WHERE hash = $1")
        .await?;
    let held = tx
        .prepare_cached(
            "SELECT hash FROM changes WHERE household = $1 AND actor = $2 AND actor_seq = $3 LIMIT 1",
        )
        .await?;
    let insert = tx
        .prepare_cached(
            "INSERT INTO changes (seq, household, hash, bytes, device_id, received_at, actor, actor_seq)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        )
        .await?;
    let mut seqs = Vec::with_capacity(push.changes.len());
    for ch in &push.changes {
        if let Some(r) = tx.query_opt(&existing, &[&ch.hash.as_slice()]).await? {
            let owner: Uuid = r.try_get(1)?;
            if owner != ch.household {
                return Err(StorageError::Conflict(
                    "a change was sent for another household than the one holding it".into(),
                )
                .into());
            }
            let seq: i64 = r.try_get(0)?;
            seqs.push(stored_count(seq, || "a change's sequence number".into())?);
            continue;
        }
        let pair = actor_seq(&ch.bytes);
        if let Some((actor, aseq)) = &pair
            && let Some(r) = tx.query_opt(&held, &[&ch.household, actor, aseq]).await?
            && r.try_get::<_, &[u8]>(0)? != ch.hash.as_slice()
        {
            return Err(StorageError::DuplicateSeq {
                household: ch.household,
            }
            .into());
        }
        let (actor, aseq) = pair.unzip();
        let seq = log.append(tx, "change", ch.household).await?;
        tx.execute(
            &insert,
            &[
                &seq,
                &ch.household,
                &ch.hash.as_slice(),
                &ch.bytes,
                &ch.device_id,
                &now,
                &actor,
                &aseq,
            ],
        )
        .await?;
        seqs.push(seq as u64);
    }
    write_facts(tx, log, &push.facts).await?;
    audit::append_in(tx, &push.audit, push.at).await?;
    Ok(seqs)
}

fn partner_row(r: &Row) -> PgResult<Partner> {
    let code: String = r.try_get(0)?;
    let kind: String = r.try_get(1)?;
    let kind = PartnerKind::parse(&kind)
        .map_err(|_| corrupt(format!("partner {code} has an unknown kind {kind:?}")))?;
    Ok(Partner {
        code,
        kind,
        name: r.try_get(2)?,
        branch: r.try_get(3)?,
        district: r.try_get(4)?,
        active: r.try_get(5)?,
    })
}

async fn all_partners(c: &impl GenericClient) -> PgResult<Vec<Partner>> {
    rows(
        c,
        "SELECT code, kind, name, branch, district, active FROM partners ORDER BY code",
        &[],
    )
    .await?
    .iter()
    .map(partner_row)
    .collect()
}

async fn version_of(c: &impl GenericClient, name: &str) -> PgResult<u64> {
    let v: i64 = one(c, "SELECT version FROM versions WHERE name = $1", &[&name])
        .await?
        .try_get(0)?;
    stored_count(v, || format!("the {name} version"))
}

/// Parameters as the driver takes them.
fn params<'a>(
    first: &'a [&'a (dyn ToSql + Sync)],
    rest: &'a [String],
) -> Vec<&'a (dyn ToSql + Sync)> {
    let mut out: Vec<&(dyn ToSql + Sync)> = first.to_vec();
    for a in rest {
        out.push(a);
    }
    out
}

impl Storage for PgStorage {
    fn create_group(&self, id: &str, name: &str) -> Result<Group> {
        self.run(async |c| {
            let n = exec(&*c, "INSERT INTO groups (id, name, created_at) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING",
                    &[&id, &name, &Utc::now()],
                )
                .await?;
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
        self.run(async |c| {
            let rows = rows(&*c, "SELECT id, name FROM groups ORDER BY id", &[]).await?;
            rows.iter()
                .map(|r| {
                    Ok(Group {
                        id: r.try_get(0)?,
                        name: r.try_get(1)?,
                    })
                })
                .collect()
        })
    }

    fn create_worker(
        &self,
        name: &str,
        group_id: Option<&str>,
        role: Role,
    ) -> Result<WorkerRecord> {
        self.run(async |c| {
            if let Some(g) = group_id
                && opt(&*c, "SELECT 1 FROM groups WHERE id = $1", &[&g])
                    .await?
                    .is_none()
            {
                return Err(StorageError::NotFound {
                    kind: "group",
                    id: g.into(),
                }
                .into());
            }
            let worker = WorkerRecord {
                id: Uuid::now_v7().to_string(),
                name: name.into(),
                group_id: group_id.map(Into::into),
                role,
            };
            exec(&*c, "INSERT INTO workers (id, name, group_id, role, created_at) VALUES ($1, $2, $3, $4, $5)",
                &[&worker.id, &worker.name, &worker.group_id, &role.code(), &Utc::now()],
            )
            .await?;
            Ok(worker)
        })
    }

    fn workers(&self) -> Result<Vec<WorkerRecord>> {
        self.run(async |c| {
            let rows = rows(
                &*c,
                &format!(
                    "SELECT {WORKER_COLUMNS} FROM workers w ORDER BY w.group_id NULLS FIRST, w.name"
                ),
                &[],
            )
            .await?;
            rows.iter().map(|r| worker_row(r, 0)).collect()
        })
    }

    fn create_enroll_code(
        &self,
        worker_id: &str,
        code_hash: Hash,
        expires_at: DateTime<Utc>,
    ) -> Result<()> {
        self.run(async |c| {
            if opt(&*c, "SELECT 1 FROM workers WHERE id = $1", &[&worker_id])
                .await?
                .is_none()
            {
                return Err(StorageError::NotFound {
                    kind: "worker",
                    id: worker_id.into(),
                }
                .into());
            }
            exec(
                &*c,
                "INSERT INTO enroll_codes (code_hash, worker_id, expires_at) VALUES ($1, $2, $3)",
                &[&code_hash.as_slice(), &worker_id, &expires_at],
            )
            .await?;
            Ok(())
        })
    }

    fn enroll(
        &self,
        code_hash: Hash,
        device: NewDevice,
        now: DateTime<Utc>,
    ) -> Result<WorkerRecord> {
        self.run(async |c| {
            let tx = c.transaction().await?;
            // The code's row lock: two devices redeeming one code at once cannot both succeed.
            let code = opt(&tx, "SELECT worker_id, expires_at, used_at FROM enroll_codes WHERE code_hash = $1 FOR UPDATE",
                    &[&code_hash.as_slice()],
                )
                .await?;
            let Some(code) = code else {
                return Err(StorageError::BadCode.into());
            };
            let worker_id: String = code.try_get(0)?;
            let expires_at: DateTime<Utc> = code.try_get(1)?;
            let used_at: Option<DateTime<Utc>> = code.try_get(2)?;
            if used_at.is_some() || expires_at < now {
                return Err(StorageError::BadCode.into());
            }
            if opt(&tx, "SELECT 1 FROM devices WHERE id = $1", &[&device.id])
                .await?
                .is_some()
            {
                return Err(StorageError::Conflict("this device is already enrolled".into()).into());
            }
            if let Some(local) = &device.local_worker_id {
                let claimed = opt(&tx, "SELECT 1 FROM workers WHERE id = $1 AND id <> $2
                         UNION ALL SELECT 1 FROM devices WHERE local_worker_id = $1 AND worker_id <> $2
                         LIMIT 1",
                        &[local, &worker_id],
                    )
                    .await?;
                if claimed.is_some() {
                    return Err(StorageError::Conflict(
                        "the replica's worker id belongs to another worker".into(),
                    )
                    .into());
                }
            }
            exec(&tx, "UPDATE enroll_codes SET used_at = $1 WHERE code_hash = $2",
                &[&now, &code_hash.as_slice()],
            )
            .await?;
            let inserted = exec(&tx, "INSERT INTO devices (id, worker_id, name, token_hash, local_worker_id, enrolled_at, signing_key)
                     VALUES ($1, $2, $3, $4, $5, $6, $7)",
                    &[
                        &device.id,
                        &worker_id,
                        &device.name,
                        &device.token_hash.as_slice(),
                        &device.local_worker_id,
                        &now,
                        &device.signing_key,
                    ],
                )
                .await;
            match inserted {
                Err(e) if is_unique_violation(&e) => {
                    return Err(
                        StorageError::Conflict("this device is already enrolled".into()).into(),
                    );
                }
                other => {
                    other?;
                }
            }
            let row = one(&tx, &format!("SELECT {WORKER_COLUMNS} FROM workers w WHERE w.id = $1"),
                    &[&worker_id],
                )
                .await?;
            let worker = worker_row(&row, 0)?;
            tx.commit().await?;
            Ok(worker)
        })
    }

    fn devices(&self) -> Result<Vec<DeviceRecord>> {
        self.run(async |c| {
            let rows = rows(
                &*c,
                &format!("SELECT {DEVICE_COLUMNS} FROM devices d ORDER BY d.enrolled_at, d.id"),
                &[],
            )
            .await?;
            rows.iter().map(device_row).collect()
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
        self.run(async |c| {
            let stmt = c
                .prepare_cached(&format!(
                    "SELECT {DEVICE_COLUMNS}, {WORKER_COLUMNS} FROM devices d JOIN workers w ON w.id = d.worker_id WHERE d.token_hash = $1"
                ))
                .await?;
            let found = c
                .query_opt(&stmt, &[&token_hash.as_slice()])
                .await?
                .map(|r| principal_row(&r))
                .transpose()?;
            // Remember when a device was last seen, but write at most once a minute per device.
            if let Some(p) = &found
                && p.device
                    .last_seen_at
                    .is_none_or(|t| now - t > chrono::Duration::seconds(60))
            {
                exec(&*c, "UPDATE devices SET last_seen_at = $1 WHERE id = $2",
                    &[&now, &p.device.id],
                )
                .await?;
            }
            Ok(found)
        })
    }

    fn principal_by_device(&self, id: Uuid) -> Result<Option<Principal>> {
        self.run(async |c| {
            let stmt = c
                .prepare_cached(&format!(
                    "SELECT {DEVICE_COLUMNS}, {WORKER_COLUMNS} FROM devices d JOIN workers w ON w.id = d.worker_id WHERE d.id = $1"
                ))
                .await?;
            c.query_opt(&stmt, &[&id])
                .await?
                .map(|r| principal_row(&r))
                .transpose()
        })
    }

    fn reassign(
        &self,
        moves: &[Reassignment],
        audit: &[AuditEvent],
        at: DateTime<Utc>,
    ) -> Result<()> {
        self.run(async |c| {
            let tx = c.transaction().await?;
            let mut log = LogWriter::new(self.commit_ordered);
            log.lock(&tx).await?;
            for m in moves {
                let now = opt(&tx, "SELECT group_id, worker_id FROM assignments WHERE household = $1 FOR UPDATE",
                        &[&m.household],
                    )
                    .await?
                    .map(|r| -> PgResult<Assignment> {
                        Ok(Assignment {
                            group_id: r.try_get(0)?,
                            worker_id: r.try_get(1)?,
                        })
                    })
                    .transpose()?;
                if now != m.from {
                    return Err(StorageError::Conflict(format!(
                        "household {} was reassigned meanwhile; look again",
                        m.household
                    ))
                    .into());
                }
                exec(&tx, "INSERT INTO assignments (household, group_id, worker_id, updated_at) VALUES ($1, $2, $3, $4)
                     ON CONFLICT (household) DO UPDATE SET group_id = EXCLUDED.group_id,
                        worker_id = EXCLUDED.worker_id, updated_at = EXCLUDED.updated_at",
                    &[&m.household, &m.to.group_id, &m.to.worker_id, &at],
                )
                .await?;
                log.append(&tx, "assign", m.household).await?;
                log_followers(&tx, &mut log, m.household).await?;
            }
            audit::append_in(&tx, audit, at).await?;
            log.finish(&tx).await?;
            self.before_commit();
            tx.commit().await?;
            Ok(())
        })
    }

    fn assignments(&self, households: &[Uuid]) -> Result<HashMap<Uuid, Assignment>> {
        self.run(async |c| {
            let rows = rows(
                &*c,
                "SELECT household, group_id, worker_id FROM assignments WHERE household = ANY($1)",
                &[&households],
            )
            .await?;
            rows.iter()
                .map(|r| {
                    Ok((
                        r.try_get(0)?,
                        Assignment {
                            group_id: r.try_get(1)?,
                            worker_id: r.try_get(2)?,
                        },
                    ))
                })
                .collect()
        })
    }

    fn standings(&self, households: &[Uuid]) -> Result<HashMap<Uuid, Standing>> {
        self.run(async |c| {
            let rows = rows(&*c, "SELECT a.household, a.group_id, a.worker_id, k.survivor, s.household, s.group_id, s.worker_id
                     FROM assignments a
                     LEFT JOIN links k ON k.retired = a.household
                     LEFT JOIN assignments s ON s.household = k.survivor
                     WHERE a.household = ANY($1)",
                    &[&households],
                )
                .await?;
            rows.iter()
                .map(|r| {
                    let household: Uuid = r.try_get(0)?;
                    let own = Assignment {
                        group_id: r.try_get(1)?,
                        worker_id: r.try_get(2)?,
                    };
                    let survivor: Option<Uuid> = r.try_get(3)?;
                    let held: Option<Uuid> = r.try_get(4)?;
                    let merged_into = match survivor {
                        None => None,
                        Some(id) => Some((
                            id,
                            match held {
                                None => None,
                                Some(_) => Some(Assignment {
                                    group_id: r.try_get(5)?,
                                    worker_id: r.try_get(6)?,
                                }),
                            },
                        )),
                    };
                    Ok((household, Standing { own, merged_into }))
                })
                .collect()
        })
    }

    fn known_hashes(&self, household: Uuid, hashes: &[Hash]) -> Result<HashSet<Hash>> {
        let wanted: Vec<&[u8]> = hashes.iter().map(|h| h.as_slice()).collect();
        self.run(async |c| {
            let rows = rows(
                &*c,
                "SELECT hash FROM changes WHERE hash = ANY($1) AND household = $2",
                &[&wanted, &household],
            )
            .await?;
            rows.iter()
                .map(|r| {
                    hash_of(r.try_get::<_, &[u8]>(0)?, || {
                        "a stored change's hash".into()
                    })
                })
                .collect()
        })
    }

    fn store_pushes(&self, pushes: &[PushWrite]) -> Result<Vec<Result<Vec<u64>>>> {
        self.run(async |c| {
            let mut tx = c.transaction().await?;
            let mut log = LogWriter::new(self.commit_ordered);
            // First: every check below must see the writers before this one.
            log.lock(&tx).await?;
            let now = Utc::now();
            let mut results = Vec::with_capacity(pushes.len());
            for push in pushes {
                let numbered = log.next;
                let savepoint = tx.savepoint("push").await?;
                match store_push(&savepoint, &mut log, push, now).await {
                    Ok(seqs) => {
                        savepoint.commit().await?;
                        results.push(Ok(seqs));
                    }
                    // A refusal of this push's content: it alone is rolled back, and its
                    // numbers are handed to the next push, so the log has no gaps.
                    Err(PgError::Storage(refused)) => {
                        savepoint.rollback().await?;
                        log.next = numbered;
                        results.push(Err(refused));
                    }
                    // PostgreSQL failed: the group fails as a whole.
                    Err(failed) => return Err(failed),
                }
            }
            log.finish(&tx).await?;
            self.before_commit();
            tx.commit().await?;
            Ok(results)
        })
    }

    fn national_id_households(&self, national_id: &str) -> Result<HashMap<Uuid, Assignment>> {
        self.run(async |c| {
            let rows = rows(
                &*c,
                "SELECT n.household, a.group_id, a.worker_id FROM national_ids n
                     LEFT JOIN assignments a ON a.household = n.household
                     WHERE n.national_id = $1",
                &[&national_id],
            )
            .await?;
            rows.iter()
                .map(|r| {
                    Ok((
                        r.try_get(0)?,
                        Assignment {
                            group_id: r.try_get(1)?,
                            worker_id: r.try_get(2)?,
                        },
                    ))
                })
                .collect()
        })
    }

    fn charge_lookup(
        &self,
        device: Uuid,
        limit: LookupLimit,
        now: DateTime<Utc>,
    ) -> Result<Option<DateTime<Utc>>> {
        self.run(async |c| {
            let tx = c.transaction().await?;
            // The device's row lock: parallel lookups by one device count one after another.
            exec(
                &tx,
                "SELECT 1 FROM devices WHERE id = $1 FOR UPDATE",
                &[&device],
            )
            .await?;
            let now_ms = now.timestamp_millis();
            let hour_ago = now_ms - 3_600_000;
            exec(
                &tx,
                "DELETE FROM lookups WHERE device_id = $1 AND at <= $2",
                &[&device, &hour_ago],
            )
            .await?;
            let r = one(
                &tx,
                "SELECT count(*), min(at) FROM lookups WHERE device_id = $1",
                &[&device],
            )
            .await?;
            let (count, oldest): (i64, Option<i64>) = (r.try_get(0)?, r.try_get(1)?);
            if count >= i64::from(limit.per_hour) {
                let frees = oldest.unwrap_or(now_ms) + 3_600_000;
                return Ok(Some(
                    DateTime::from_timestamp_millis(frees)
                        .unwrap_or(now + chrono::Duration::hours(1)),
                ));
            }
            exec(
                &tx,
                "INSERT INTO lookups (device_id, at) VALUES ($1, $2)",
                &[&device, &now_ms],
            )
            .await?;
            tx.commit().await?;
            Ok(None)
        })
    }

    fn log_after(&self, scope: &Scope, device: Uuid, after: u64, limit: usize) -> Result<LogPage> {
        let visible = visible_to(scope, 4);
        self.run(async |c| {
            // One snapshot for the head and the entries.
            let (tx, head) = snapshot_read(c, self.commit_ordered).await?;
            let Some((clause, args)) = visible else {
                return Ok(LogPage {
                    head,
                    entries: vec![],
                });
            };
            let sql = format!(
                "SELECT l.seq, l.kind, l.household,
                        CASE WHEN c.device_id = $2 THEN NULL ELSE c.bytes END
                 FROM log l
                 JOIN assignments a ON a.household = l.household
                 {VISIBILITY_JOINS}
                 LEFT JOIN changes c ON c.seq = l.seq
                 WHERE l.seq > $1 AND {clause} ORDER BY l.seq LIMIT $3"
            );
            let after = i64::try_from(after).unwrap_or(i64::MAX);
            let limit = i64::try_from(limit).unwrap_or(i64::MAX);
            let stmt = tx.prepare_cached(&sql).await?;
            let rows = tx
                .query(&stmt, &params(&[&after, &device, &limit], &args))
                .await?;
            let mut entries = Vec::with_capacity(rows.len());
            for r in rows {
                let seq: i64 = r.try_get(0)?;
                let seq = stored_count(seq, || "a log entry's sequence number".into())?;
                let kind: &str = r.try_get(1)?;
                let household: Uuid = r.try_get(2)?;
                entries.push(match (kind, r.try_get::<_, Option<Vec<u8>>>(3)?) {
                    ("change", Some(bytes)) => LogEntry::Change {
                        seq,
                        household,
                        bytes,
                    },
                    ("change", None) => LogEntry::Own { seq },
                    _ => LogEntry::Entered { seq, household },
                });
            }
            tx.commit().await?;
            Ok(LogPage { head, entries })
        })
    }

    fn history_through(&self, household: Uuid, through: u64) -> Result<Vec<(u64, Vec<u8>)>> {
        let through = i64::try_from(through).unwrap_or(i64::MAX);
        self.run(async |c| {
            let stmt = c
                .prepare_cached(
                    "SELECT seq, bytes FROM changes WHERE household = $1 AND seq <= $2 ORDER BY seq",
                )
                .await?;
            let rows = c.query(&stmt, &[&household, &through]).await?;
            numbered_changes(&rows)
        })
    }

    fn history_between(
        &self,
        household: Uuid,
        after: u64,
        through: u64,
    ) -> Result<Vec<(u64, Vec<u8>)>> {
        let after = i64::try_from(after).unwrap_or(i64::MAX);
        let through = i64::try_from(through).unwrap_or(i64::MAX);
        self.run(async |c| {
            let rows = rows(
                &*c,
                "SELECT seq, bytes FROM changes WHERE household = $1 AND seq > $2 AND seq <= $3 ORDER BY seq",
                &[&household, &after, &through],
            )
            .await?;
            numbered_changes(&rows)
        })
    }

    fn changes_after(&self, household: Uuid, after: u64) -> Result<HouseholdDelta> {
        let after = i64::try_from(after).unwrap_or(i64::MAX);
        // One statement, so one snapshot for the head and the changes, in one round trip (a
        // push makes this read for every household it changes). The head's row always comes
        // back, with the household's changes joined to it, if any.
        let head = if self.commit_ordered {
            "SELECT seq FROM log_head WHERE id = 1"
        } else {
            "SELECT coalesce(max(seq), 0) AS seq FROM log"
        };
        let sql = format!(
            "SELECT h.seq, c.seq, c.bytes FROM ({head}) h
             LEFT JOIN changes c ON c.household = $1 AND c.seq > $2
             ORDER BY c.seq"
        );
        self.run(async |c| {
            let rows = rows(&*c, &sql, &[&household, &after]).await?;
            if rows.is_empty() {
                return Err(corrupt("the log's head row is missing".into()));
            }
            let mut head = 0;
            let mut changes = Vec::with_capacity(rows.len());
            for r in &rows {
                head = stored_count(r.try_get(0)?, || "the log's head".into())?;
                if let Some(seq) = r.try_get::<_, Option<i64>>(1)? {
                    let seq = stored_count(seq, || "a change's sequence number".into())?;
                    changes.push((seq, r.try_get(2)?));
                }
            }
            Ok(HouseholdDelta { head, changes })
        })
    }

    fn documents_after(
        &self,
        scope: &Scope,
        after: Option<Uuid>,
        limit: usize,
    ) -> Result<DocumentPage> {
        let visible = visible_to(scope, 3);
        self.run(async |c| {
            // One snapshot for the head and the households, as in a pull.
            let (tx, head) = snapshot_read(c, self.commit_ordered).await?;
            let Some((clause, args)) = visible else {
                return Ok(DocumentPage {
                    head,
                    households: vec![],
                });
            };
            let sql = format!(
                "SELECT h.household, h.last, n.through, n.bytes FROM (
                     SELECT a.household,
                            (SELECT max(c.seq) FROM changes c WHERE c.household = a.household) AS last
                     FROM assignments a
                     {VISIBILITY_JOINS}
                     WHERE a.household > $1 AND {clause}
                 ) h
                 LEFT JOIN snapshots n ON n.household = h.household
                 WHERE h.last IS NOT NULL
                 ORDER BY h.household LIMIT $2"
            );
            let after = after.unwrap_or(Uuid::nil());
            let limit = i64::try_from(limit).unwrap_or(i64::MAX);
            let stmt = tx.prepare_cached(&sql).await?;
            let rows = tx.query(&stmt, &params(&[&after, &limit], &args)).await?;
            let mut households = Vec::with_capacity(rows.len());
            for r in rows {
                let last: i64 = r.try_get(1)?;
                let through: Option<i64> = r.try_get(2)?;
                let cached = match (through, r.try_get::<_, Option<Vec<u8>>>(3)?) {
                    (Some(through), Some(bytes)) => Some(CachedSnapshot {
                        through: stored_count(through, || "a snapshot's sequence number".into())?,
                        bytes,
                    }),
                    _ => None,
                };
                households.push(StoredDocument {
                    household: r.try_get(0)?,
                    last_seq: stored_count(last, || "a change's sequence number".into())?,
                    cached,
                });
            }
            tx.commit().await?;
            Ok(DocumentPage { head, households })
        })
    }

    fn put_snapshots(&self, snapshots: &[(Uuid, CachedSnapshot)]) -> Result<()> {
        if snapshots.is_empty() {
            return Ok(());
        }
        self.run(async |c| {
            let tx = c.transaction().await?;
            // A cache, rebuilt from the changes if lost: not worth waiting for the disk.
            tx.batch_execute("SET LOCAL synchronous_commit = off").await?;
            for (household, snapshot) in snapshots {
                let through = i64::try_from(snapshot.through).unwrap_or(i64::MAX);
                exec(
                    &tx,
                    "INSERT INTO snapshots (household, through, bytes) VALUES ($1, $2, $3)
                     ON CONFLICT (household) DO UPDATE SET through = excluded.through, bytes = excluded.bytes
                     WHERE excluded.through > snapshots.through",
                    &[household, &through, &snapshot.bytes],
                )
                .await?;
            }
            tx.commit().await?;
            Ok(())
        })
    }

    fn household_changes(&self, household: Uuid) -> Result<Vec<Vec<u8>>> {
        self.run(async |c| {
            let rows = rows(
                &*c,
                "SELECT bytes FROM changes WHERE household = $1 ORDER BY seq",
                &[&household],
            )
            .await?;
            rows.iter().map(|r| Ok(r.try_get(0)?)).collect()
        })
    }

    fn charge_push(
        &self,
        device: Uuid,
        amount: PushUsage,
        quota: PushQuota,
        now: DateTime<Utc>,
    ) -> Result<Charge> {
        self.run(async |c| {
            let tx = c.transaction().await?;
            // A count whose loss at a crash costs nothing worth waiting for the disk.
            tx.batch_execute("SET LOCAL synchronous_commit = off").await?;
            // The device's row lock: parallel pushes by one device are charged one at a time.
            exec(&tx, "SELECT 1 FROM devices WHERE id = $1 FOR UPDATE", &[&device])
                .await?;
            let start = quota_window_start(now);
            exec(&tx, "DELETE FROM push_usage WHERE device_id = $1 AND hour < $2",
                &[&device, &start],
            )
            .await?;
            let rows = rows(&tx, "SELECT hour, bytes, changes FROM push_usage WHERE device_id = $1 ORDER BY hour",
                    &[&device],
                )
                .await?;
            let mut hours = Vec::with_capacity(rows.len());
            for r in rows {
                let hour: i64 = r.try_get(0)?;
                let what = |column: &str| format!("device {device}'s push {column} in hour {hour}");
                hours.push((
                    hour,
                    PushUsage {
                        bytes: stored_count(r.try_get(1)?, || what("bytes"))?,
                        changes: stored_count(r.try_get(2)?, || what("changes"))?,
                    },
                ));
            }
            if let Some(refused) = sql::quota_refusal(&hours, amount, quota) {
                return Ok(refused);
            }
            exec(&tx, "INSERT INTO push_usage (device_id, hour, bytes, changes) VALUES ($1, $2, $3, $4)
                 ON CONFLICT (device_id, hour) DO UPDATE SET bytes = push_usage.bytes + EXCLUDED.bytes,
                    changes = push_usage.changes + EXCLUDED.changes",
                &[
                    &device,
                    &quota_hour(now),
                    &sql_count(amount.bytes),
                    &sql_count(amount.changes),
                ],
            )
            .await?;
            tx.commit().await?;
            Ok(Charge::Charged)
        })
    }

    fn refund_push(
        &self,
        device: Uuid,
        amount: PushUsage,
        charged_at: DateTime<Utc>,
    ) -> Result<()> {
        self.run(async |c| {
            let tx = c.transaction().await?;
            tx.batch_execute("SET LOCAL synchronous_commit = off").await?;
            exec(&tx, "UPDATE push_usage SET bytes = greatest(bytes - $1, 0), changes = greatest(changes - $2, 0)
                 WHERE device_id = $3 AND hour = $4",
                &[
                    &sql_count(amount.bytes),
                    &sql_count(amount.changes),
                    &device,
                    &quota_hour(charged_at),
                ],
            )
            .await?;
            tx.commit().await?;
            Ok(())
        })
    }

    fn push_usage(&self, now: DateTime<Utc>) -> Result<HashMap<Uuid, PushUsage>> {
        self.run(async |c| {
            let rows = rows(
                &*c,
                "SELECT device_id, sum(bytes)::BIGINT, sum(changes)::BIGINT FROM push_usage
                     WHERE hour >= $1 GROUP BY device_id",
                &[&quota_window_start(now)],
            )
            .await?;
            rows.iter()
                .map(|r| {
                    let id: Uuid = r.try_get(0)?;
                    let what = |column: &str| format!("device {id}'s push {column}");
                    Ok((
                        id,
                        PushUsage {
                            bytes: stored_count(r.try_get(1)?, || what("bytes"))?,
                            changes: stored_count(r.try_get(2)?, || what("changes"))?,
                        },
                    ))
                })
                .collect()
        })
    }

    fn directory(&self) -> Result<madadkar_schema::wire::Directory> {
        self.run(async |c| {
            // One snapshot: a device or partner added meanwhile shows as a newer version.
            let tx = read_only_snapshot(c).await?;
            let version = version_of(&tx, "directory").await?;
            let rows = rows(
                &tx,
                "SELECT d.id, w.id, w.name, w.group_id, d.revoked_at IS NOT NULL, d.signing_key
                     FROM devices d JOIN workers w ON w.id = d.worker_id ORDER BY d.id",
                &[],
            )
            .await?;
            let devices = rows
                .iter()
                .map(|r| {
                    Ok(madadkar_schema::wire::DirectoryEntry {
                        device_id: r.try_get(0)?,
                        worker_id: r.try_get(1)?,
                        worker_name: r.try_get(2)?,
                        group_id: r.try_get(3)?,
                        revoked: r.try_get(4)?,
                        signing_key: r.try_get(5)?,
                    })
                })
                .collect::<PgResult<Vec<_>>>()?;
            let partners = all_partners(&tx).await?;
            tx.commit().await?;
            Ok(madadkar_schema::wire::Directory {
                version,
                devices,
                partners,
            })
        })
    }

    fn add_partners(&self, batch: &[Partner]) -> Result<()> {
        let batch = partners::validated_all(batch)?;
        self.run(async |c| {
            let tx = c.transaction().await?;
            let now = Utc::now();
            for p in &batch {
                let inserted = exec(
                    &tx,
                    "INSERT INTO partners (code, kind, name, branch, district, active, created_at)
                         VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (code) DO NOTHING",
                    &[
                        &p.code,
                        &p.kind.code(),
                        &p.name,
                        &p.branch,
                        &p.district,
                        &p.active,
                        &now,
                    ],
                )
                .await?;
                if inserted == 0 {
                    return Err(StorageError::Conflict(format!(
                        "partner {} already exists; nothing was added (`partner list` shows it)",
                        p.code
                    ))
                    .into());
                }
            }
            tx.commit().await?;
            Ok(())
        })
    }

    fn set_partner_active(&self, code: &str, active: bool) -> Result<()> {
        self.run(async |c| {
            let tx = c.transaction().await?;
            let now: Option<bool> = opt(
                &tx,
                "SELECT active FROM partners WHERE code = $1 FOR UPDATE",
                &[&code],
            )
            .await?
            .map(|r| r.try_get(0))
            .transpose()?;
            match now {
                None => {
                    return Err(StorageError::NotFound {
                        kind: "partner",
                        id: code.to_string(),
                    }
                    .into());
                }
                Some(now) if now == active => {}
                Some(_) => {
                    exec(
                        &tx,
                        "UPDATE partners SET active = $1 WHERE code = $2",
                        &[&active, &code],
                    )
                    .await?;
                }
            }
            tx.commit().await?;
            Ok(())
        })
    }

    fn partners(&self) -> Result<Vec<Partner>> {
        self.run(async |c| all_partners(&*c).await)
    }

    fn versions(&self) -> Result<Versions> {
        self.run(async |c| {
            let rows = rows(&*c, "SELECT name, version FROM versions", &[]).await?;
            let mut versions = Versions {
                directory: 0,
                scope: 0,
            };
            for r in rows {
                let name: &str = r.try_get(0)?;
                let v = stored_count(r.try_get(1)?, || format!("the {name} version"))?;
                match name {
                    "directory" => versions.directory = v,
                    "scope" => versions.scope = v,
                    _ => {}
                }
            }
            if versions.directory == 0 || versions.scope == 0 {
                return Err(corrupt("the versions table lacks a row".into()));
            }
            Ok(versions)
        })
    }

    fn retire_device(&self, id: Uuid, now: DateTime<Utc>) -> Result<()> {
        self.mark_device(id, "retiring_at", now)
    }

    fn households_in_scope(&self, scope: &Scope) -> Result<Vec<Uuid>> {
        let Some((clause, args)) = visible_to(scope, 1) else {
            return Ok(Vec::new());
        };
        self.run(async |c| {
            let sql = format!(
                "SELECT a.household FROM assignments a {VISIBILITY_JOINS}
                 WHERE {clause} ORDER BY a.household"
            );
            let rows = c.query(&sql, &params(&[], &args)).await?;
            rows.iter().map(|r| Ok(r.try_get(0)?)).collect()
        })
    }

    fn append_audit(&self, events: &[AuditEvent], at: DateTime<Utc>) -> Result<()> {
        if events.is_empty() {
            return Ok(());
        }
        self.run(async |c| {
            let tx = c.transaction().await?;
            audit::append_in(&tx, events, at).await?;
            tx.commit().await?;
            Ok(())
        })
    }

    fn audit_entries(&self, query: &AuditQuery) -> Result<Vec<AuditEntry>> {
        self.run(async |c| audit::entries(&*c, query).await)
    }

    fn audit_rows(&self, after: Option<i64>, limit: usize) -> Result<Vec<AuditRow>> {
        self.run(async |c| audit::rows(&*c, after, limit).await)
    }

    fn enroll_attempt(
        &self,
        source: &str,
        budget: &EnrollBudget,
        now: DateTime<Utc>,
    ) -> Result<Option<EnrollRefusal>> {
        self.run(async |c| enroll_limits::attempt(c, source, budget, now).await)
    }

    fn enroll_failed(
        &self,
        source: &str,
        budget: &EnrollBudget,
        now: DateTime<Utc>,
    ) -> Result<bool> {
        self.run(async |c| enroll_limits::failed(c, source, budget, now).await)
    }

    fn enroll_succeeded(&self, source: &str) -> Result<()> {
        self.run(async |c| {
            exec(
                &*c,
                "DELETE FROM enroll_failures WHERE source = $1",
                &[&source],
            )
            .await?;
            Ok(())
        })
    }
}
