//! Each stored change's (actor, sequence number), so that a second change reusing one the server
//! holds for another change of the same household is refused: every replica that pulled both
//! would fail on "duplicate seq" for good. A migration step of its own, the backfill of rows
//! stored before it, and the check a store runs inside its write transaction.

use madadkar_schema::change::parse_change;
use rusqlite::{Connection, OptionalExtension, Transaction, params};
use uuid::Uuid;

use super::SqlResult;
use crate::storage::{Hash, StorageError};

/// The migration step. Depends on nothing but `INITIAL`'s `changes`, so it may take any place
/// after it when steps of parallel work are merged. The columns stay NULL for bytes that do
/// not parse as a change (nothing the API stores; only hand-planted rows).
pub(super) const MIGRATION: &str = r#"
ALTER TABLE changes ADD COLUMN actor BLOB;
ALTER TABLE changes ADD COLUMN actor_seq INTEGER;
CREATE INDEX changes_by_actor_seq ON changes (household, actor, actor_seq);
"#;

/// A change's actor and sequence number, read from its bytes within the bounds of any
/// received change; `None` for bytes that are no change. Automerge sequence numbers are
/// counted per actor and per document, so the pair is unique only within one household.
pub(super) fn of(bytes: &[u8]) -> Option<(Vec<u8>, i64)> {
    let change = parse_change(bytes).ok()?;
    let seq = i64::try_from(change.seq()).ok()?;
    Some((change.actor_id().to_bytes().to_vec(), seq))
}

/// Fills the columns of rows stored before the migration step. Runs at every open, touching
/// only rows still NULL (after the first run: none, or the few that are no change).
pub(super) fn backfill(conn: &mut Connection) -> SqlResult<()> {
    let tx = conn.transaction()?;
    {
        let mut rows = tx.prepare("SELECT seq, bytes FROM changes WHERE actor IS NULL")?;
        let mut update = tx.prepare("UPDATE changes SET actor = ?, actor_seq = ? WHERE seq = ?")?;
        let pending = rows
            .query_map([], |r| Ok((r.get::<_, i64>(0)?, r.get::<_, Vec<u8>>(1)?)))?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        for (seq, bytes) in pending {
            if let Some((actor, actor_seq)) = of(&bytes) {
                update.execute(params![actor, actor_seq, seq])?;
            }
        }
    }
    tx.commit()?;
    Ok(())
}

/// Refuses a change whose (actor, sequence number) the household already holds under another
/// hash. Run inside the store's write transaction, so two pushes racing cannot both pass.
pub(super) fn check_unique(
    tx: &Transaction<'_>,
    household: Uuid,
    hash: &Hash,
    actor_seq: Option<&(Vec<u8>, i64)>,
) -> SqlResult<()> {
    let Some((actor, seq)) = actor_seq else {
        return Ok(());
    };
    let mut held = tx.prepare_cached(
        "SELECT hash FROM changes WHERE household = ? AND actor = ? AND actor_seq = ? LIMIT 1",
    )?;
    let other: Option<Vec<u8>> = held
        .query_row(params![household.to_string(), actor, seq], |r| r.get(0))
        .optional()?;
    match other {
        Some(other) if other.as_slice() != hash.as_slice() => {
            Err(StorageError::DuplicateSeq { household }.into())
        }
        _ => Ok(()),
    }
}
