//! Each stored change's (actor, sequence number), so that a second change reusing one the server
//! holds for another change of the same household is refused: every replica that pulled both
//! would fail on "duplicate seq" for good. A migration step of its own, the backfill of rows
//! stored before it, and the check a store runs inside its write transaction.

use rusqlite::{Connection, OptionalExtension, params};
use uuid::Uuid;

use super::SqlResult;
use madadkar_server_storage::{Hash, StorageError};

/// The migration step. Depends on nothing but `INITIAL`'s `changes`, so it may take any place
/// after it when steps of parallel work are merged. The columns stay NULL for bytes that do
/// not parse as a change (nothing the API stores; only hand-planted rows).
pub(super) const MIGRATION: &str = r#"
ALTER TABLE changes ADD COLUMN actor BLOB;
ALTER TABLE changes ADD COLUMN actor_seq INTEGER;
CREATE INDEX changes_by_actor_seq ON changes (household, actor, actor_seq);
"#;

/// The index of [`MIGRATION`] among the steps, wherever a merge put it.
pub(super) fn step() -> Option<usize> {
    super::MIGRATIONS.iter().position(|m| *m == MIGRATION)
}

/// Fills the columns of rows stored before the migration step; run once, by the opening that
/// applies the step.
pub(super) fn backfill(conn: &mut Connection) -> SqlResult<()> {
    let tx = conn.transaction()?;
    {
        let mut rows = tx.prepare("SELECT seq, bytes FROM changes WHERE actor IS NULL")?;
        let mut update = tx.prepare("UPDATE changes SET actor = ?, actor_seq = ? WHERE seq = ?")?;
        let pending = rows
            .query_map([], |r| Ok((r.get::<_, i64>(0)?, r.get::<_, Vec<u8>>(1)?)))?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        for (seq, bytes) in pending {
            if let Some((actor, actor_seq)) = madadkar_server_storage::sql::actor_seq(&bytes) {
                update.execute(params![actor, actor_seq, seq])?;
            }
        }
    }
    tx.commit()?;
    Ok(())
}

/// Refuses a change whose (actor, sequence number) the household already holds under another
/// hash. Run inside the store's write transaction (in the push's savepoint), so two pushes
/// racing cannot both pass, nor two pushes of one group.
pub(super) fn check_unique(
    tx: &Connection,
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

#[cfg(test)]
mod tests {
    use automerge::{AutoCommit, transaction::Transactable};

    use crate::SqliteStorage;
    use madadkar_server_storage::{IncomingChange, Storage, StorageError};
    use uuid::Uuid;

    fn change(household: Uuid, value: &str) -> IncomingChange {
        let mut doc = AutoCommit::new();
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

    /// A database from before the step (the columns dropped, the version set back), opened
    /// again: the step runs and fills the columns of the rows stored before it, so a reuse of
    /// an old change's (actor, seq) is refused too. Bytes that are no change stay NULL and do
    /// not stop the opening.
    #[test]
    fn rows_stored_before_the_step_are_filled_in_on_open() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("server.sqlite3");
        let household = Uuid::now_v7();
        let first = change(household, "a");
        let junk = IncomingChange {
            hash: [9; 32],
            bytes: b"not a change".to_vec(),
            ..change(household, "b")
        };
        {
            let storage = SqliteStorage::open(&path).expect("open");
            storage
                .store_changes(
                    &[first.clone(), junk],
                    &[(household, Default::default())],
                    &[],
                )
                .expect("store");
        }
        let raw = rusqlite::Connection::open(&path).expect("raw");
        let before = super::step().expect("the step is listed");
        raw.execute_batch(&format!(
            "DROP INDEX changes_by_actor_seq; ALTER TABLE changes DROP COLUMN actor;
             ALTER TABLE changes DROP COLUMN actor_seq; PRAGMA user_version = {before};"
        ))
        .expect("back to before the step");
        drop(raw);
        let storage = SqliteStorage::open(&path).expect("reopen");
        // The same actor and seq 1 with another value: another change of that actor, seq 1.
        let mut other = AutoCommit::new().with_actor(
            automerge::Change::try_from(first.bytes.as_slice())
                .expect("change")
                .actor_id()
                .clone(),
        );
        other.put(automerge::ROOT, "x", "c").expect("put");
        other.commit();
        let reuse = other.get_changes(&[]).remove(0);
        let reuse = IncomingChange {
            household,
            hash: reuse.hash().0,
            bytes: reuse.raw_bytes().to_vec(),
            device_id: first.device_id,
        };
        assert!(matches!(
            storage.store_changes(&[reuse], &[], &[]),
            Err(StorageError::DuplicateSeq { .. })
        ));
        let raw = rusqlite::Connection::open(&path).expect("raw");
        let unfilled: i64 = raw
            .query_row(
                "SELECT count(*) FROM changes WHERE actor IS NULL",
                [],
                |r| r.get(0),
            )
            .expect("count");
        assert_eq!(unfilled, 1, "only the bytes that are no change");
    }
}
