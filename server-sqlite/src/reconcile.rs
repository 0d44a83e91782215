//! The SQLite side of reconciliation (issue 10): the facts read from each household's document
//! and kept in the transaction that stores its changes (the index of national IDs that answers
//! `POST /v1/lookup`; the merge links that widen scopes: a retired household is visible
//! wherever its survivor is); each device's recent lookups, for their rate limit; the
//! migration step that creates them and the backfill of the facts from the changes stored
//! before it.

use chrono::{DateTime, Utc};
use rusqlite::{Connection, OptionalExtension, params};

use super::{SqlResult, parse_uuid};
use madadkar_server_storage::{HouseholdFacts, LookupLimit};

/// The migration step. Depends on nothing but `INITIAL`'s tables and the device keys' step's
/// `scope_version`, so it may take any place after them when steps of parallel work are
/// merged; it may also run again (`IF NOT EXISTS`), as it does when a test sets the version
/// back to an earlier step.
pub(super) const MIGRATION: &str = r#"
CREATE TABLE IF NOT EXISTS national_ids (
    national_id TEXT NOT NULL,
    household TEXT NOT NULL,
    PRIMARY KEY (national_id, household)
) STRICT, WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS national_ids_by_household ON national_ids (household);
-- One row per lookup in the last hour (Unix milliseconds), per device.
CREATE TABLE IF NOT EXISTS lookups (
    device_id TEXT NOT NULL REFERENCES devices(id),
    at INTEGER NOT NULL
) STRICT;
CREATE INDEX IF NOT EXISTS lookups_by_device ON lookups (device_id, at);
-- A retired household (merged into another) and its survivor, from the retired household's
-- `merged_into`. A link that changes or goes may take the retired household out of a scope.
CREATE TABLE IF NOT EXISTS links (
    retired TEXT PRIMARY KEY,
    survivor TEXT NOT NULL
) STRICT, WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS links_by_survivor ON links (survivor);
CREATE TRIGGER IF NOT EXISTS scope_on_link_update AFTER UPDATE OF survivor ON links
BEGIN UPDATE scope_version SET version = version + 1; END;
CREATE TRIGGER IF NOT EXISTS scope_on_link_delete AFTER DELETE ON links
BEGIN UPDATE scope_version SET version = version + 1; END;
"#;

/// The index of [`MIGRATION`] among the steps, wherever a merge put it.
pub(super) fn step() -> Option<usize> {
    super::MIGRATIONS.iter().position(|m| *m == MIGRATION)
}

/// Replaces the facts of each named household (inside the caller's write transaction, or a
/// savepoint of it). A merge
/// link that appears or points elsewhere is logged as an `assign` entry of the retired
/// household, so that its whole history reaches the survivor's scope on the next pull.
pub(super) fn write_facts(tx: &Connection, facts: &[HouseholdFacts]) -> SqlResult<()> {
    let mut clear = tx.prepare_cached("DELETE FROM national_ids WHERE household = ?")?;
    let mut insert = tx.prepare_cached(
        "INSERT OR IGNORE INTO national_ids (national_id, household) VALUES (?, ?)",
    )?;
    let mut linked = tx.prepare_cached("SELECT survivor FROM links WHERE retired = ?")?;
    let mut link = tx.prepare_cached(
        "INSERT INTO links (retired, survivor) VALUES (?1, ?2)
         ON CONFLICT (retired) DO UPDATE SET survivor = ?2",
    )?;
    let mut unlink = tx.prepare_cached("DELETE FROM links WHERE retired = ?")?;
    let mut log = tx.prepare_cached("INSERT INTO log (kind, household) VALUES ('assign', ?)")?;
    for f in facts {
        let key = f.household.to_string();
        clear.execute([&key])?;
        for id in &f.national_ids {
            insert.execute(params![id, key])?;
        }
        let before: Option<String> = linked.query_row([&key], |r| r.get(0)).optional()?;
        let after = f.merged_into.map(|s| s.to_string());
        if before == after {
            continue;
        }
        match after {
            Some(survivor) => {
                link.execute(params![key, survivor])?;
                log.execute([&key])?;
            }
            None => {
                unlink.execute([&key])?;
            }
        }
    }
    Ok(())
}

/// Fills the facts from the changes stored before the step; run once, by the opening that
/// applies it. A household whose stored changes do not make a readable document is left out
/// (counted in a warning, ids only): the push's checks keep such households from being stored
/// since, and an administrator repairs the older ones.
pub(super) fn backfill(conn: &mut Connection) -> SqlResult<()> {
    let tx = conn.transaction()?;
    let households: Vec<String> = {
        let mut stmt = tx.prepare("SELECT DISTINCT household FROM changes")?;
        stmt.query_map([], |r| r.get(0))?
            .collect::<rusqlite::Result<_>>()?
    };
    let mut unreadable = 0usize;
    {
        let mut changes =
            tx.prepare("SELECT bytes FROM changes WHERE household = ? ORDER BY seq")?;
        for key in &households {
            let household = parse_uuid(key, || "a stored change's household".into())?;
            let stored: Vec<Vec<u8>> = changes
                .query_map([key], |r| r.get(0))?
                .collect::<rusqlite::Result<_>>()?;
            match madadkar_server_storage::facts::from_stored(household, &stored) {
                Ok(facts) => write_facts(&tx, &[facts])?,
                Err(_) => unreadable += 1,
            }
        }
    }
    tx.commit()?;
    if unreadable > 0 {
        tracing::warn!(
            unreadable,
            "households whose stored changes make no readable document were left out of the national ID index and the merge links"
        );
    }
    Ok(())
}

/// A time as the lookups table keeps it.
fn millis(t: DateTime<Utc>) -> i64 {
    t.timestamp_millis()
}

/// See [`madadkar_server_storage::Storage::charge_lookup`].
pub(super) fn charge_lookup(
    c: &mut Connection,
    device: &str,
    limit: LookupLimit,
    now: DateTime<Utc>,
) -> SqlResult<Option<DateTime<Utc>>> {
    let tx = c.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
    let hour_ago = millis(now) - 3_600_000;
    // Lookups that left the hour count for no one any more.
    tx.execute(
        "DELETE FROM lookups WHERE device_id = ? AND at <= ?",
        params![device, hour_ago],
    )?;
    let (count, oldest): (i64, Option<i64>) = tx.query_row(
        "SELECT count(*), min(at) FROM lookups WHERE device_id = ?",
        [device],
        |r| Ok((r.get(0)?, r.get(1)?)),
    )?;
    if count >= i64::from(limit.per_hour) {
        let frees = oldest.unwrap_or(millis(now)) + 3_600_000;
        return Ok(Some(
            DateTime::from_timestamp_millis(frees).unwrap_or(now + chrono::Duration::hours(1)),
        ));
    }
    tx.execute(
        "INSERT INTO lookups (device_id, at) VALUES (?, ?)",
        params![device, millis(now)],
    )?;
    tx.commit()?;
    Ok(None)
}

#[cfg(test)]
mod tests {
    use automerge::ActorId;
    use madadkar_schema::{
        ChangeMeta, HouseholdDoc, NationalId, NewHousehold, NewMember, Relation,
    };
    use uuid::Uuid;

    use super::*;
    use crate::SqliteStorage;
    use madadkar_server_storage::{Assignment, IncomingChange, Storage};

    #[test]
    fn the_index_is_backfilled_from_changes_stored_without_it() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("s.sqlite3");
        let storage = SqliteStorage::open(&path).expect("db");
        let device = Uuid::now_v7();
        let household = Uuid::now_v7();
        let id = NationalId::with_check_digit(123_456_789);
        let (mut doc, _) = HouseholdDoc::create(
            ActorId::from(device.as_bytes().as_slice()),
            household,
            &NewHousehold {
                district: "3".into(),
                address: "a".into(),
                ..Default::default()
            },
            &NewMember {
                national_id: Some(id.clone()),
                ..NewMember::named("a", "b", Relation::Head)
            },
            &ChangeMeta::new("w", "w", &device.to_string()),
            Utc::now(),
        )
        .expect("household");
        // Merged into another household, as a coordinator's replica writes it.
        let survivor = Uuid::now_v7();
        let meta = ChangeMeta::new("w", "w", &device.to_string());
        doc.retire_into(survivor, Some("x"), &meta, Utc::now())
            .expect("merge");
        let changes = doc.changes_since(&[]);
        let assignment = Assignment {
            group_id: Some("x".into()),
            worker_id: None,
        };
        // Stored as a server from before the index stored it: with no facts.
        let incoming: Vec<IncomingChange> = changes
            .iter()
            .map(|change| IncomingChange {
                household,
                hash: change.hash().0,
                bytes: change.raw_bytes().to_vec(),
                device_id: device,
            })
            .collect();
        let survivor_held = (survivor, assignment.clone());
        storage
            .store_changes(
                &incoming,
                &[(household, assignment.clone()), survivor_held],
                &[],
            )
            .expect("store");
        // And a household whose stored bytes make no document: left out, not fatal.
        let junk = IncomingChange {
            household: Uuid::now_v7(),
            hash: [9; 32],
            bytes: vec![1, 2, 3],
            device_id: device,
        };
        storage
            .store_changes(&[junk], &[], &[])
            .expect("store junk");
        assert!(
            storage
                .national_id_households(id.as_str())
                .expect("q")
                .is_empty()
        );
        let mut raw = Connection::open(&path).expect("raw");
        backfill(&mut raw).expect("backfill");
        let found = storage.national_id_households(id.as_str()).expect("q");
        assert_eq!(found.get(&household), Some(&assignment));
        let standing = storage.standings(&[household]).expect("standing");
        assert_eq!(
            standing[&household].merged_into,
            Some((survivor, Some(assignment.clone())))
        );
        // The facts a push stores replace the household's earlier ones.
        let cleared = HouseholdFacts {
            household,
            ..Default::default()
        };
        storage.store_changes(&[], &[], &[cleared]).expect("store");
        assert!(
            storage
                .national_id_households(id.as_str())
                .expect("q")
                .is_empty()
        );
        let standing = storage.standings(&[household]).expect("standing");
        assert_eq!(standing[&household].merged_into, None);
    }

    #[test]
    fn the_step_is_among_the_migrations() {
        assert!(step().is_some());
    }
}
