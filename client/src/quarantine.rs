//! Households set aside by sync: pulled changes that could not be applied (a change that does not
//! parse, one Automerge refuses, a document of the wrong shape or carrying another household's
//! id) are kept exactly as received, with the reason, so that the cursor moves on and everything
//! else syncs. A household's earlier good state stays on the replica, usable, meanwhile.
//!
//! A later pull that brings changes for a quarantined household tries all of them again (kept
//! and new) and lifts the quarantine once they apply, for example when a missing dependency has
//! arrived. Reasons name what failed (ids, counts, field names), never a value.

use chrono::{DateTime, Utc};
use rusqlite::{Connection, OptionalExtension, params, types::Type};
use serde::Serialize;
use uuid::Uuid;

use crate::error::Result;
use crate::store::Store;

/// A household whose pulled changes are set aside.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct QuarantinedHousehold {
    pub household: Uuid,
    /// Why its changes do not apply (the last attempt's reason).
    pub reason: String,
    pub quarantined_at: DateTime<Utc>,
    pub last_attempt_at: DateTime<Utc>,
    /// The changes kept, as received, and their size in bytes.
    pub changes: i64,
    pub bytes: i64,
    /// Whether an earlier state of the household is on this replica (shown and usable
    /// meanwhile); `false` when the household never applied here.
    pub has_local_copy: bool,
}

/// One change as it arrived: the server's sequence number (`None` for one received through the
/// per-household sync) and its bytes.
pub(crate) type Arrived<'a> = (Option<u64>, &'a [u8]);

/// One kept change: the server's sequence number (`None` for one received through the
/// per-household sync) and its bytes as received.
pub(crate) type Kept = (Option<u64>, Vec<u8>);

/// The changes kept for `household`, in the order received; `None` when it is not quarantined.
pub(crate) fn kept(conn: &Connection, household: Uuid) -> Result<Option<Vec<Kept>>> {
    let key = household.to_string();
    let quarantined = conn
        .prepare_cached("SELECT 1 FROM quarantine WHERE household = ?")?
        .query_row([&key], |_| Ok(()))
        .optional()?;
    if quarantined.is_none() {
        return Ok(None);
    }
    let mut stmt = conn.prepare_cached(
        "SELECT server_seq, bytes FROM quarantine_changes WHERE household = ? ORDER BY id",
    )?;
    let rows = stmt
        .query_map([&key], |r| {
            Ok((
                r.get::<_, Option<i64>>(0)?.map(|s| s as u64),
                r.get::<_, Vec<u8>>(1)?,
            ))
        })?
        .collect::<Result<Vec<_>, _>>()?;
    Ok(Some(rows))
}

/// Sets `household` aside (or keeps it aside) with `reason`, adding `changes` to those kept.
/// A change already kept (same server sequence number, or the same bytes when it has none) is
/// kept once.
pub(crate) fn keep(
    conn: &Connection,
    household: Uuid,
    reason: &str,
    changes: &[Arrived<'_>],
    now: DateTime<Utc>,
) -> Result<()> {
    let key = household.to_string();
    conn.prepare_cached(
        "INSERT INTO quarantine (household, reason, quarantined_at, last_attempt_at) \
         VALUES (?1, ?2, ?3, ?3) \
         ON CONFLICT (household) DO UPDATE SET reason = ?2, last_attempt_at = ?3",
    )?
    .execute(params![key, reason, now.to_rfc3339()])?;
    let mut by_seq = conn.prepare_cached(
        "INSERT OR IGNORE INTO quarantine_changes (household, server_seq, bytes) VALUES (?, ?, ?)",
    )?;
    let mut unsequenced = conn.prepare_cached(
        "INSERT INTO quarantine_changes (household, server_seq, bytes) SELECT ?1, NULL, ?2 \
         WHERE NOT EXISTS (SELECT 1 FROM quarantine_changes \
                           WHERE household = ?1 AND server_seq IS NULL AND bytes = ?2)",
    )?;
    for (seq, bytes) in changes {
        match seq {
            // Sequence numbers are far below 2^63; one that is not is kept without it.
            Some(seq) if i64::try_from(*seq).is_ok() => {
                by_seq.execute(params![key, *seq as i64, bytes])?;
            }
            _ => {
                unsequenced.execute(params![key, bytes])?;
            }
        }
    }
    Ok(())
}

/// Lifts the quarantine of `household`: its kept changes have now been applied.
pub(crate) fn lift(conn: &Connection, household: Uuid) -> Result<()> {
    conn.prepare_cached("DELETE FROM quarantine WHERE household = ?")?
        .execute([household.to_string()])?;
    Ok(())
}

fn time_column(row: &rusqlite::Row<'_>, i: usize) -> rusqlite::Result<DateTime<Utc>> {
    let text: String = row.get(i)?;
    DateTime::parse_from_rfc3339(&text)
        .map(|t| t.with_timezone(&Utc))
        .map_err(|e| rusqlite::Error::FromSqlConversionFailure(i, Type::Text, Box::new(e)))
}

impl Store {
    /// The households whose pulled changes are set aside, oldest first, with the reason.
    pub fn quarantined(&self) -> Result<Vec<QuarantinedHousehold>> {
        let mut stmt = self.conn.prepare(
            "SELECT q.household, q.reason, q.quarantined_at, q.last_attempt_at, \
                    (SELECT count(*) FROM quarantine_changes c WHERE c.household = q.household), \
                    (SELECT coalesce(sum(length(c.bytes)), 0) FROM quarantine_changes c \
                     WHERE c.household = q.household), \
                    EXISTS (SELECT 1 FROM documents d WHERE d.id = q.household) \
             FROM quarantine q ORDER BY q.quarantined_at, q.household",
        )?;
        let rows = stmt
            .query_map([], |r| {
                let id: String = r.get(0)?;
                let household = Uuid::parse_str(&id).map_err(|e| {
                    rusqlite::Error::FromSqlConversionFailure(0, Type::Text, Box::new(e))
                })?;
                Ok(QuarantinedHousehold {
                    household,
                    reason: r.get(1)?,
                    quarantined_at: time_column(r, 2)?,
                    last_attempt_at: time_column(r, 3)?,
                    changes: r.get(4)?,
                    bytes: r.get(5)?,
                    has_local_copy: r.get(6)?,
                })
            })?
            .collect::<Result<Vec<_>, _>>()?;
        Ok(rows)
    }
}
