//! The PostgreSQL side of the access audit (`madadkar_server_storage::audit`): appending to the
//! hash chain under the chain head's lock, and reading entries back.

use chrono::{DateTime, Utc};
use deadpool_postgres::GenericClient;
use madadkar_schema::AuditAction;
use madadkar_server_storage::StorageError;
use madadkar_server_storage::audit::{AuditEntry, AuditEvent, AuditQuery, AuditRow, GENESIS};
use tokio_postgres::Row;

use super::{PgResult, corrupt, exec, opt};

const ROW_COLUMNS: &str =
    "seq, at, action, device_id, worker_id, group_id, household, prev_hash, hash";

/// Appends `events` after the last stored entry inside the caller's transaction. The chain
/// head's row lock, held until that transaction ends, keeps two instances (or an administration
/// command) from building on the same last entry.
pub(super) async fn append_in(
    tx: &impl GenericClient,
    events: &[AuditEvent],
    at: DateTime<Utc>,
) -> PgResult<()> {
    if events.is_empty() {
        return Ok(());
    }
    if let Some(e) = events.iter().find(|e| !e.action.is_recordable()) {
        return Err(StorageError::Backend(format!(
            "the audit log does not record the action {:?}",
            e.action.code()
        ))
        .into());
    }
    exec(tx, "SELECT 1 FROM audit_head WHERE id = 1 FOR UPDATE", &[]).await?;
    let last = opt(
        tx,
        "SELECT seq, hash FROM audit ORDER BY seq DESC LIMIT 1",
        &[],
    )
    .await?;
    let (mut seq, mut prev) = match last {
        Some(r) => (r.try_get::<_, i64>(0)?, r.try_get::<_, Vec<u8>>(1)?),
        None => (0, GENESIS.to_vec()),
    };
    let insert = tx
        .prepare_cached(&format!(
            "INSERT INTO audit ({ROW_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)"
        ))
        .await?;
    for event in events {
        seq = seq.checked_add(1).ok_or_else(|| {
            corrupt("the audit log's last sequence number is the largest there is".into())
        })?;
        let row = AuditRow::sealed(seq, at, event, &prev);
        tx.execute(
            &insert,
            &[
                &row.seq,
                &row.at,
                &row.action,
                &row.device_id,
                &row.worker_id,
                &row.group_id,
                &row.household,
                &row.prev_hash,
                &row.hash,
            ],
        )
        .await?;
        prev = row.hash;
    }
    Ok(())
}

fn stored_row(r: &Row) -> PgResult<AuditRow> {
    Ok(AuditRow {
        seq: r.try_get(0)?,
        at: r.try_get(1)?,
        action: r.try_get(2)?,
        device_id: r.try_get(3)?,
        worker_id: r.try_get(4)?,
        group_id: r.try_get(5)?,
        household: r.try_get(6)?,
        prev_hash: r.try_get(7)?,
        hash: r.try_get(8)?,
    })
}

pub(super) async fn rows(
    c: &impl GenericClient,
    after: Option<i64>,
    limit: usize,
) -> PgResult<Vec<AuditRow>> {
    let limit = i64::try_from(limit).unwrap_or(i64::MAX);
    let rows = super::rows(
        c,
        &format!("SELECT {ROW_COLUMNS} FROM audit WHERE seq > $1 ORDER BY seq LIMIT $2"),
        &[&after.unwrap_or(i64::MIN), &limit],
    )
    .await?;
    rows.iter().map(stored_row).collect()
}

/// A listed entry, typed; a value that cannot be what it claims is an error naming the entry.
fn listed(r: &Row) -> PgResult<AuditEntry> {
    let seq: i64 = r.try_get(0)?;
    let what = |column: &str| format!("audit entry {seq}'s {column}");
    let action: String = r.try_get(2)?;
    let action = AuditAction::ALL
        .iter()
        .copied()
        .find(|a| a.code() == action && a.is_recordable())
        .ok_or_else(|| corrupt(format!("{} {action:?} is not an action", what("action"))))?;
    let uuid = |at: usize, column: &str| -> PgResult<Option<uuid::Uuid>> {
        r.try_get::<_, Option<String>>(at)?
            .map(|s| {
                uuid::Uuid::parse_str(&s)
                    .map_err(|e| corrupt(format!("{} {s:?} is not a UUID: {e}", what(column))))
            })
            .transpose()
    };
    let at: String = r.try_get(1)?;
    Ok(AuditEntry {
        seq: u64::try_from(seq)
            .map_err(|_| corrupt(format!("audit entry {seq} has a negative number")))?,
        at: DateTime::parse_from_rfc3339(&at)
            .map(|t| t.with_timezone(&Utc))
            .map_err(|e| corrupt(format!("{} {at:?} is not a time: {e}", what("time"))))?,
        action,
        device_id: uuid(3, "device_id")?,
        worker_id: r.try_get(4)?,
        group_id: r.try_get(5)?,
        household: uuid(6, "household")?,
        worker_name: r.try_get(7)?,
    })
}

pub(super) async fn entries(
    c: &impl GenericClient,
    query: &AuditQuery,
) -> PgResult<Vec<AuditEntry>> {
    let before = query
        .before
        .map_or(i64::MAX, |b| i64::try_from(b).unwrap_or(i64::MAX));
    let household = query.household.map(|h| h.to_string());
    let device = query.device.map(|d| d.to_string());
    let limit = i64::try_from(query.limit).unwrap_or(i64::MAX);
    // Conditions only when asked for, so the household or device index is used.
    let mut conditions = vec!["a.seq < $1"];
    if household.is_some() {
        conditions.push("a.household = $2");
    } else {
        conditions.push("$2::TEXT IS NULL");
    }
    if device.is_some() {
        conditions.push("a.device_id = $3");
    } else {
        conditions.push("$3::TEXT IS NULL");
    }
    let sql = format!(
        "SELECT a.seq, a.at, a.action, a.device_id, a.worker_id, a.group_id, a.household, w.name
         FROM audit a LEFT JOIN workers w ON w.id = a.worker_id
         WHERE {} ORDER BY a.seq DESC LIMIT $4",
        conditions.join(" AND ")
    );
    let rows = c
        .query(&sql, &[&before, &household, &device, &limit])
        .await?;
    rows.iter().map(listed).collect()
}
