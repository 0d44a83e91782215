//! What the quarantine and mixed-version tests plant on a real server: household documents made
//! outside any replica (hostile, broken, or of a newer layout) and their changes, stored straight
//! into the server's SQLite storage through its `Storage` trait, as a server from before content
//! validation (or a newer server) would hold them.

#![allow(dead_code)]

use anyhow::Result;
use automerge::{AutoCommit, Change, ReadDoc};
use chrono::Utc;
use madadkar_e2e::Server;
use madadkar_schema::document::device_actor;
use madadkar_schema::{ChangeMeta, HouseholdDoc, NationalId, NewHousehold, NewMember, Relation};
use madadkar_server::config::DATABASE_FILE;
use madadkar_server::storage::sqlite::SqliteStorage;
use madadkar_server::storage::{Assignment, IncomingChange, Storage};
use uuid::Uuid;

/// Stores `changes` for `household` on the server, the household assigned to `group`.
pub fn plant(server: &Server, household: Uuid, group: &str, changes: &[Vec<u8>]) -> Result<()> {
    let storage = SqliteStorage::open(&server.dir.path().join(DATABASE_FILE))?;
    let device = Uuid::now_v7();
    let incoming: Vec<IncomingChange> = changes
        .iter()
        .map(|bytes| IncomingChange {
            household,
            // Bytes that do not parse have no Automerge hash; any unique one does here.
            hash: Change::try_from(bytes.as_slice())
                .map(|c| c.hash().0)
                .unwrap_or_else(|_| {
                    let mut h = [0u8; 32];
                    h[..16].copy_from_slice(Uuid::now_v7().as_bytes());
                    h
                }),
            bytes: bytes.clone(),
            device_id: device,
        })
        .collect();
    let assignment = Assignment {
        group_id: Some(group.into()),
        worker_id: None,
    };
    storage.store_changes(&incoming, &[(household, assignment)], &[])?;
    Ok(())
}

/// A household document made on a device of its own, registered with `id` inside.
pub fn household(id: Uuid, first: &str, nid_seed: u32) -> Result<HouseholdDoc> {
    let head = NewMember {
        national_id: Some(NationalId::with_check_digit(nid_seed)),
        ..NewMember::named(first, "کریمی", Relation::Head)
    };
    let new = NewHousehold {
        district: "منطقه ۳".into(),
        address: "کوچه یاس".into(),
        ..Default::default()
    };
    let meta = ChangeMeta::new("planted", "planted", "planted-device");
    let actor = device_actor(Uuid::now_v7());
    Ok(HouseholdDoc::create(actor, id, &new, &head, &meta, Utc::now())?.0)
}

/// Every change of a document, as bytes, in causal order.
pub fn change_bytes(doc: &mut AutoCommit) -> Vec<Vec<u8>> {
    doc.get_changes(&[])
        .iter()
        .map(|c| c.raw_bytes().to_vec())
        .collect()
}

/// The object id at `key` of the root map.
pub fn root_map(doc: &AutoCommit, key: &str) -> Result<automerge::ObjId> {
    match doc.get(automerge::ROOT, key)? {
        Some((_, obj)) => Ok(obj),
        None => anyhow::bail!("no {key} map"),
    }
}

/// A household's document as a replica stores it (snapshot plus changes), without any check:
/// what the replica holds, whatever its version.
pub fn stored_document(store: &madadkar_client::Store, id: Uuid) -> Result<AutoCommit> {
    Ok(store.raw_document(id)?)
}

/// Stores one change of a household the server already holds, straight into its tables, as a
/// server from before the (actor, sequence number) check would have stored it.
pub fn plant_raw(server: &Server, household: Uuid, bytes: &[u8]) -> Result<()> {
    let conn = rusqlite::Connection::open(server.dir.path().join(DATABASE_FILE))?;
    // Bytes that do not parse have no Automerge hash; any unique one does here.
    let hash = Change::try_from(bytes)
        .map(|c| c.hash().0)
        .unwrap_or_else(|_| {
            let mut h = [0u8; 32];
            h[..16].copy_from_slice(Uuid::now_v7().as_bytes());
            h
        });
    conn.execute(
        "INSERT INTO log (kind, household) VALUES ('change', ?)",
        [household.to_string()],
    )?;
    let seq = conn.last_insert_rowid();
    conn.execute(
        "INSERT INTO changes (seq, household, hash, bytes, device_id, received_at)
         VALUES (?, ?, ?, ?, ?, '2026-01-01T00:00:00+00:00')",
        rusqlite::params![
            seq,
            household.to_string(),
            hash.as_slice(),
            bytes,
            Uuid::now_v7().to_string()
        ],
    )?;
    Ok(())
}
