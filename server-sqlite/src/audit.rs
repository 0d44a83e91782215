//! The SQLite side of the access audit: its table (a migration step of its own), appending a
//! batch of entries to the chain in one transaction, and reading entries back.

use chrono::{DateTime, Utc};
use madadkar_schema::AuditAction;
use rusqlite::{Connection, OptionalExtension, Row, TransactionBehavior, params};

use super::{SqlResult, corrupt, parse_time, parse_uuid};
use madadkar_server_storage::StorageError;
use madadkar_server_storage::audit::{AuditEntry, AuditEvent, AuditQuery, AuditRow, GENESIS};

/// The audit's migration step. Plain text columns hold ids only. The triggers make the table
/// append-only for the server itself and for a casual `sqlite3` session; someone who drops
/// them can change rows, and the hash chain then shows where.
pub(super) const MIGRATION: &str = r#"
CREATE TABLE audit (
    seq INTEGER PRIMARY KEY,
    at TEXT NOT NULL,
    action TEXT NOT NULL,
    device_id TEXT,
    worker_id TEXT,
    group_id TEXT,
    household TEXT,
    prev_hash BLOB NOT NULL,
    hash BLOB NOT NULL
) STRICT;
CREATE INDEX audit_by_household ON audit (household, seq);
CREATE INDEX audit_by_device ON audit (device_id, seq);
CREATE TRIGGER audit_no_update BEFORE UPDATE ON audit
    BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
CREATE TRIGGER audit_no_delete BEFORE DELETE ON audit
    BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
"#;

const ROW_COLUMNS: &str =
    "seq, at, action, device_id, worker_id, group_id, household, prev_hash, hash";

/// Appends `events` after the last stored entry, in one immediate transaction: the server and
/// an administration command in another process never both build on the same last entry.
pub(super) fn append(
    c: &mut Connection,
    events: &[AuditEvent],
    at: DateTime<Utc>,
) -> SqlResult<()> {
    let tx = c.transaction_with_behavior(TransactionBehavior::Immediate)?;
    append_in(&tx, events, at)?;
    tx.commit()?;
    Ok(())
}

/// Appends `events` inside a write transaction the caller holds (begun `IMMEDIATE`, so no other
/// writer builds on the same last entry; a savepoint inside one will do), for entries that must
/// be stored with what they record or not at all.
pub(super) fn append_in(
    tx: &Connection,
    events: &[AuditEvent],
    at: DateTime<Utc>,
) -> SqlResult<()> {
    if let Some(e) = events.iter().find(|e| !e.action.is_recordable()) {
        return Err(StorageError::Backend(format!(
            "the audit log does not record the action {:?}",
            e.action.code()
        ))
        .into());
    }
    let last: Option<(i64, Vec<u8>)> = tx
        .query_row(
            "SELECT seq, hash FROM audit ORDER BY seq DESC LIMIT 1",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .optional()?;
    let (mut seq, mut prev) = last.unwrap_or((0, GENESIS.to_vec()));
    {
        let mut insert = tx.prepare_cached(&format!(
            "INSERT INTO audit ({ROW_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)"
        ))?;
        for event in events {
            seq = seq.checked_add(1).ok_or_else(|| {
                corrupt("the audit log's last sequence number is the largest there is".into())
            })?;
            let row = AuditRow::sealed(seq, at, event, &prev);
            insert.execute(params![
                row.seq,
                row.at,
                row.action,
                row.device_id,
                row.worker_id,
                row.group_id,
                row.household,
                row.prev_hash,
                row.hash
            ])?;
            prev = row.hash;
        }
    }
    Ok(())
}

fn stored_row(r: &Row<'_>) -> rusqlite::Result<AuditRow> {
    Ok(AuditRow {
        seq: r.get(0)?,
        at: r.get(1)?,
        action: r.get(2)?,
        device_id: r.get(3)?,
        worker_id: r.get(4)?,
        group_id: r.get(5)?,
        household: r.get(6)?,
        prev_hash: r.get(7)?,
        hash: r.get(8)?,
    })
}

pub(super) fn rows(
    c: &mut Connection,
    after: Option<i64>,
    limit: usize,
) -> SqlResult<Vec<AuditRow>> {
    let limit = i64::try_from(limit).unwrap_or(i64::MAX);
    let mut stmt = c.prepare_cached(&format!(
        "SELECT {ROW_COLUMNS} FROM audit WHERE seq > ? ORDER BY seq LIMIT ?"
    ))?;
    let rows = stmt.query_map(params![after.unwrap_or(i64::MIN), limit], stored_row)?;
    // `seq > i64::MIN` leaves out a row numbered i64::MIN; the walk then reports the first
    // entry it does see as out of order or missing, so such a row cannot hide a break.
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

/// A listed entry, typed; a value that cannot be what it claims is an error naming the entry.
fn listed(r: &Row<'_>) -> SqlResult<AuditEntry> {
    let seq: i64 = r.get(0)?;
    let what = |column: &str| format!("audit entry {seq}'s {column}");
    let action: String = r.get(2)?;
    let action = AuditAction::ALL
        .iter()
        .copied()
        .find(|a| a.code() == action && a.is_recordable())
        .ok_or_else(|| corrupt(format!("{} {action:?} is not an action", what("action"))))?;
    let uuid = |at: usize, column: &str| -> SqlResult<Option<uuid::Uuid>> {
        r.get::<_, Option<String>>(at)?
            .map(|s| parse_uuid(&s, || what(column)))
            .transpose()
    };
    Ok(AuditEntry {
        seq: u64::try_from(seq)
            .map_err(|_| corrupt(format!("audit entry {seq} has a negative number")))?,
        at: parse_time(&r.get::<_, String>(1)?, || what("time"))?,
        action,
        device_id: uuid(3, "device_id")?,
        worker_id: r.get(4)?,
        group_id: r.get(5)?,
        household: uuid(6, "household")?,
        worker_name: r.get(7)?,
    })
}

pub(super) fn entries(c: &mut Connection, query: &AuditQuery) -> SqlResult<Vec<AuditEntry>> {
    // Conditions are added only when asked for, so SQLite can use the household or device index.
    let mut conditions = vec!["a.seq < ?1"];
    let before = query
        .before
        .map_or(i64::MAX, |b| i64::try_from(b).unwrap_or(i64::MAX));
    let household = query.household.map(|h| h.to_string());
    let device = query.device.map(|d| d.to_string());
    if household.is_some() {
        conditions.push("a.household = ?2");
    }
    if device.is_some() {
        conditions.push("a.device_id = ?3");
    }
    let sql = format!(
        "SELECT a.seq, a.at, a.action, a.device_id, a.worker_id, a.group_id, a.household, w.name
         FROM audit a LEFT JOIN workers w ON w.id = a.worker_id
         WHERE {} ORDER BY a.seq DESC LIMIT ?4",
        conditions.join(" AND ")
    );
    let limit = i64::try_from(query.limit).unwrap_or(i64::MAX);
    let mut stmt = c.prepare_cached(&sql)?;
    let rows = stmt.query_and_then(params![before, household, device, limit], listed)?;
    rows.collect()
}
