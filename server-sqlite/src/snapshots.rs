//! The SQLite side of first syncs from snapshots (issue 12): the cache of each household's
//! whole document, the page of a scope's households with their last change and cached
//! snapshot, and the changes a stale snapshot lacks.

use rusqlite::{Connection, params};
use uuid::Uuid;

use super::{SqlResult, log_head, parse_uuid, visible_to};
use madadkar_server_storage::sql::VISIBILITY_JOINS;
use madadkar_server_storage::{CachedSnapshot, DocumentPage, Scope, StoredDocument};

/// The migration step. Depends on nothing at all (the cache names households, which live in
/// the changes), so it may take any place when steps of parallel work are merged, and may run
/// again (`IF NOT EXISTS`).
pub(super) const MIGRATION: &str = r#"
-- A cache: each household's whole document, saved by Automerge, holding its changes up to
-- `through`. Rebuilt from the changes whenever it is missing or behind.
CREATE TABLE IF NOT EXISTS snapshots (
    household TEXT PRIMARY KEY,
    through INTEGER NOT NULL,
    bytes BLOB NOT NULL
) STRICT;
"#;

pub(super) fn documents_after(
    c: &mut Connection,
    scope: &Scope,
    after: Option<Uuid>,
    limit: usize,
) -> SqlResult<DocumentPage> {
    let tx = c.transaction()?;
    let head = log_head(&tx)?;
    let Some((clause, args)) = visible_to(scope, 3) else {
        return Ok(DocumentPage {
            head,
            households: vec![],
        });
    };
    let sql = format!(
        "SELECT a.household,
                (SELECT max(c.seq) FROM changes c WHERE c.household = a.household) AS last,
                n.through, n.bytes
         FROM assignments a
         {VISIBILITY_JOINS}
         LEFT JOIN snapshots n ON n.household = a.household
         WHERE a.household > ?1 AND {clause} AND last IS NOT NULL
         ORDER BY a.household LIMIT ?2"
    );
    // Every UUID sorts above the empty string, as its text sorts as its bytes do.
    let after = after.map(|h| h.to_string()).unwrap_or_default();
    let limit = limit.min(i64::MAX as usize) as i64;
    let mut params: Vec<&dyn rusqlite::ToSql> = vec![&after, &limit];
    for a in &args {
        params.push(a);
    }
    let mut stmt = tx.prepare_cached(&sql)?;
    let mut rows = stmt.query(params.as_slice())?;
    let mut households = Vec::new();
    while let Some(row) = rows.next()? {
        let household = parse_uuid(&row.get::<_, String>(0)?, || {
            "an assignment's household".into()
        })?;
        let last: i64 = row.get(1)?;
        let cached = match (
            row.get::<_, Option<i64>>(2)?,
            row.get::<_, Option<Vec<u8>>>(3)?,
        ) {
            (Some(through), Some(bytes)) => Some(CachedSnapshot {
                through: through as u64,
                bytes,
            }),
            _ => None,
        };
        households.push(StoredDocument {
            household,
            last_seq: last as u64,
            cached,
        });
    }
    Ok(DocumentPage { head, households })
}

pub(super) fn history_between(
    c: &Connection,
    household: Uuid,
    after: u64,
    through: u64,
) -> SqlResult<Vec<(u64, Vec<u8>)>> {
    let mut stmt = c.prepare_cached(
        "SELECT seq, bytes FROM changes WHERE household = ? AND seq > ? AND seq <= ? ORDER BY seq",
    )?;
    let (after, through) = (
        after.min(i64::MAX as u64) as i64,
        through.min(i64::MAX as u64) as i64,
    );
    let rows = stmt.query_map(params![household.to_string(), after, through], |r| {
        Ok((r.get::<_, i64>(0)? as u64, r.get::<_, Vec<u8>>(1)?))
    })?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

pub(super) fn put_snapshots(
    c: &mut Connection,
    snapshots: &[(Uuid, CachedSnapshot)],
) -> SqlResult<()> {
    let tx = c.transaction()?;
    {
        let mut put = tx.prepare_cached(
            "INSERT INTO snapshots (household, through, bytes) VALUES (?, ?, ?)
             ON CONFLICT (household) DO UPDATE SET through = excluded.through, bytes = excluded.bytes
             WHERE excluded.through > snapshots.through",
        )?;
        for (household, snapshot) in snapshots {
            let through = snapshot.through.min(i64::MAX as u64) as i64;
            put.execute(params![household.to_string(), through, snapshot.bytes])?;
        }
    }
    Ok(tx.commit()?)
}
