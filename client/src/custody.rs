//! What keeps a lost or handed-back laptop from keeping the register: the lease (past the date
//! the server last granted, the app locks until it syncs), erasure when the server says the
//! device is revoked (lost) or retired (handed back, after its pending work is pushed), and
//! the removal of households that left the device's scope. See `docs/security.md`.

use chrono::{DateTime, Utc};
use rusqlite::{Connection, OptionalExtension, TransactionBehavior, params};
use serde::Serialize;
use uuid::Uuid;

use crate::error::{Result, StoreError};
use crate::store::Store;

/// The time leases are checked against (the clock of this machine).
pub fn now() -> DateTime<Utc> {
    Utc::now()
}

/// Where this device's lease stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum Lease {
    /// Never synced with a server (an offline-only replica, or before the first sync): no lease
    /// to run out.
    None,
    Valid {
        until: DateTime<Utc>,
    },
    Expired {
        since: DateTime<Utc>,
    },
}

/// What the last scope check removed or kept.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct ScopeReport {
    /// Households that left this device's scope and were removed from it.
    pub removed: usize,
    /// Households that left the scope but hold work not yet sent: kept until it is.
    pub kept_with_pending_work: Vec<Uuid>,
}

impl Store {
    /// The lease the server last granted, at `now`.
    pub fn lease(&self, now: DateTime<Utc>) -> Result<Lease> {
        let Some(text) = self.meta_value("lease_until")? else {
            return Ok(Lease::None);
        };
        // A stored lease that does not parse is treated as run out, never as no lease.
        let until = DateTime::parse_from_rfc3339(&text)
            .map(|t| t.with_timezone(&Utc))
            .unwrap_or(DateTime::<Utc>::MIN_UTC);
        Ok(if now <= until {
            Lease::Valid { until }
        } else {
            Lease::Expired { since: until }
        })
    }

    /// Refuses to go on when the lease has run out: the caller shows the household data only
    /// after a sync renews it.
    pub fn require_lease(&self, now: DateTime<Utc>) -> Result<()> {
        match self.lease(now)? {
            Lease::Expired { since } => Err(StoreError::LeaseExpired { since }),
            Lease::None | Lease::Valid { .. } => Ok(()),
        }
    }

    pub(crate) fn set_lease(&self, until: DateTime<Utc>) -> Result<()> {
        self.set_meta("lease_until", Some(&until.to_rfc3339()))
    }

    /// Erases the store when the server says this device is revoked or retired: every
    /// household, change, queued change, draft, token and key is deleted in place (SQLite's
    /// secure delete overwrites freed pages, then a vacuum), then the store's files are
    /// destroyed, the key file first (crypto-shredding: without it nothing left on the disk can
    /// be decrypted). This connection goes on reading the emptied store until it is closed, so
    /// the app can say what happened; the next start finds no store and begins afresh.
    pub(crate) fn erase(&mut self) -> Result<()> {
        let conn = &mut self.conn;
        conn.pragma_update(None, "secure_delete", true)?;
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        // Every table is emptied, so the order of the deletions does not matter.
        tx.pragma_update(None, "defer_foreign_keys", true)?;
        let tables: Vec<String> = tx
            .prepare(
                "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' \
                 AND name NOT LIKE 'p_search_%'",
            )?
            .query_map([], |r| r.get(0))?
            .collect::<std::result::Result<_, _>>()?;
        for table in &tables {
            tx.execute(&format!("DELETE FROM \"{table}\""), [])?;
        }
        // The store remembers only that it was erased, so the app can say so.
        tx.execute(
            "INSERT INTO meta (key, value) VALUES ('erased_at', ?)",
            [Utc::now().to_rfc3339()],
        )?;
        tx.commit()?;
        // The vacuum rewrites the file without the freed pages; the checkpoint empties the
        // write-ahead log, which still held the old pages.
        conn.execute_batch("VACUUM; PRAGMA wal_checkpoint(TRUNCATE);")?;
        self.identity = None;
        self.forget_cached_documents();
        Store::destroy(self.data_dir())
    }

    /// When the store was erased on the server's word, if it was.
    pub fn erased_at(&self) -> Result<Option<String>> {
        self.meta_value("erased_at")
    }

    /// Removes the households not in `in_scope` (the server's list of this device's scope),
    /// except those with work not yet sent, which are kept and reported.
    pub(crate) fn remove_out_of_scope(&mut self, in_scope: &[Uuid]) -> Result<ScopeReport> {
        let keep: std::collections::HashSet<Uuid> = in_scope.iter().copied().collect();
        let mut report = ScopeReport::default();
        let held = self.household_ids()?;
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        for id in held.into_iter().filter(|id| !keep.contains(id)) {
            let pending: i64 = tx.query_row(
                "SELECT count(*) FROM outbox WHERE doc_id = ?",
                [id.to_string()],
                |r| r.get(0),
            )?;
            if pending > 0 {
                report.kept_with_pending_work.push(id);
                continue;
            }
            remove_household(&tx, id)?;
            report.removed += 1;
        }
        tx.commit()?;
        self.forget_cached_documents();
        Ok(report)
    }
}

/// Deletes one household and everything derived from it. A survivor it was merged into shows
/// only what is left.
fn remove_household(tx: &Connection, id: Uuid) -> Result<()> {
    let id = id.to_string();
    let survivor: Option<String> = tx
        .query_row(
            "SELECT merged_into FROM p_households WHERE id = ?",
            [&id],
            |r| r.get(0),
        )
        .optional()?
        .flatten();
    // The search row goes first: it is found through the household row.
    let mut sql = vec![
        "DELETE FROM changes WHERE doc_id = ?1".to_string(),
        "DELETE FROM documents WHERE id = ?1".to_string(),
    ];
    let mut tables: Vec<&(&str, &str)> = crate::projection::TABLES.iter().collect();
    tables.sort_by_key(|(table, _)| *table != "p_search");
    sql.extend(
        tables
            .into_iter()
            .map(|(table, key)| format!("DELETE FROM {table} WHERE {key} = ?1")),
    );
    sql.push("DELETE FROM quarantine_changes WHERE household = ?1".into());
    sql.push("DELETE FROM quarantine WHERE household = ?1".into());
    for statement in sql {
        tx.execute(&statement, params![id])?;
    }
    if let Some(survivor) = survivor {
        crate::reconcile::compose::refresh_survivor(tx, &survivor)?;
    }
    Ok(())
}
