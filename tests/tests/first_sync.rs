//! A first sync from snapshots against a real server process: a new coordinator's replica
//! receives every household whole (one compact document each, stored with no change rows), ends
//! up with the same households as a replica that pulled the log, and then follows the log from
//! the head the server named; batches resume where they stopped; and a household the server
//! cannot build a document of sends the first sync down the log, where it is set aside alone.
//! Needs the server built first (`cargo build -p madadkar-server --bins`).

mod planting;

use anyhow::Result;
use chrono::Local;
use madadkar_e2e::{Replica, Server};
use madadkar_schema::{NeedDomain, NewVisit, VisitKind};
use uuid::Uuid;

fn visit() -> NewVisit {
    NewVisit {
        date: Local::now().date_naive(),
        kind: VisitKind::Home,
        observations: "بازدید پیگیری".into(),
        needs: [(NeedDomain::Income, 2)].into_iter().collect(),
        followup_date: None,
    }
}

/// A server with a field worker who registered `n` households, each with a visit, and synced.
fn province(n: u32) -> Result<(Server, Replica, Vec<Uuid>)> {
    let server = Server::start()?;
    server.add_group("g1")?;
    let worker = server.add_worker("زهرا", Some("g1"), "field")?;
    let mut field = Replica::enrolled(&server, &worker, "laptop")?;
    let mut ids = Vec::new();
    for i in 0..n {
        let id = field.add_household("مریم", 40_000_000 + i)?;
        field.store.add_visit(id, &visit())?;
        ids.push(id);
    }
    field.store.sync(None)?;
    ids.sort();
    Ok((server, field, ids))
}

fn change_rows(replica: &Replica) -> Result<i64> {
    Ok(replica
        .store
        .connection()?
        .query_row("SELECT count(*) FROM changes", [], |r| r.get(0))?)
}

#[test]
fn a_new_coordinator_receives_every_household_whole_then_follows_the_log() -> Result<()> {
    let (server, mut field, ids) = province(30)?;
    let coordinator = server.add_worker("دفتر استان", None, "coordinator")?;
    let mut c = Replica::enrolled(&server, &coordinator, "office")?;
    let report = c.store.sync(None)?;
    assert_eq!(report.first_sync_fallback, None);
    assert_eq!(report.documents_received, ids.len());
    assert_eq!(
        report.pulled, 0,
        "everything came whole, nothing through the log"
    );
    let mut held = c.store.household_ids()?;
    held.sort();
    assert_eq!(held, ids);
    // Stored whole: no change rows, each household the same document as the worker's.
    assert_eq!(change_rows(&c)?, 0);
    for id in &ids {
        let (mut ours, mut theirs) = (c.store.document(*id)?, field.store.document(*id)?);
        assert_eq!(ours.heads(), theirs.heads());
        assert_eq!(
            serde_json::to_value(ours.read()?)?,
            serde_json::to_value(theirs.read()?)?
        );
        assert_eq!(
            c.store.projection_rows(*id)?,
            field.store.projection_rows(*id)?
        );
    }
    assert!(c.store.check()?.ok());
    // Then the log: a new visit arrives as one change.
    field.store.add_visit(ids[3], &visit())?;
    field.store.sync(None)?;
    let next = c.store.sync(None)?;
    assert_eq!((next.pulled, next.documents_received), (1, 0));
    assert_eq!(
        c.store.document(ids[3])?.heads(),
        field.store.document(ids[3])?.heads()
    );
    // A change both in a snapshot and in the log (a change after the first batch's head) is
    // one the replica has: nothing breaks, nothing doubles.
    assert_eq!(c.store.document(ids[3])?.read()?.visits.len(), 2);
    Ok(())
}

#[test]
fn a_first_sync_comes_in_many_batches_and_resumes_where_it_stopped() -> Result<()> {
    let (mut server, _field, ids) = province(12)?;
    // Batches cut after about one household.
    server.with_settings(&serde_json::json!({ "pull_batch_bytes": 1024 }))?;
    let supervisor = server.add_worker("ناظر", Some("g1"), "supervisor")?;
    let mut s = Replica::enrolled(&server, &supervisor, "office")?;
    let report = s.store.sync(None)?;
    assert!(report.requests >= ids.len(), "{} requests", report.requests);
    assert_eq!(report.documents_received, ids.len());
    let mut held = s.store.household_ids()?;
    held.sort();
    assert_eq!(held, ids);
    // As if the first sync had stopped after the sixth household (the point to resume from is
    // kept with each batch): the next sync asks only for the households after it.
    let conn = s.store.connection()?;
    let head: String = conn.query_row(
        "SELECT value FROM meta WHERE key = 'pull_cursor'",
        [],
        |r| r.get(0),
    )?;
    conn.execute("DELETE FROM meta WHERE key = 'pull_cursor'", [])?;
    conn.execute(
        "INSERT INTO meta (key, value) VALUES ('bootstrap_head', ?), ('bootstrap_after', ?)",
        [head.clone(), ids[5].to_string()],
    )?;
    drop(conn);
    let resumed = s.store.sync(None)?;
    assert_eq!(resumed.documents_received, ids.len() - 6);
    assert_eq!(resumed.households_changed, 0, "they were all here already");
    let cursor: String = s.store.connection()?.query_row(
        "SELECT value FROM meta WHERE key = 'pull_cursor'",
        [],
        |r| r.get(0),
    )?;
    assert_eq!(cursor, head);
    assert!(s.store.check()?.ok());
    Ok(())
}

#[test]
fn a_household_the_server_cannot_build_sends_the_first_sync_down_the_log() -> Result<()> {
    let (server, _field, ids) = province(5)?;
    // A household whose second change is garbage, stored as a server from before content
    // checks would hold it.
    let bad = Uuid::now_v7();
    let mut doc = planting::household(bad, "نرگس", 42_000_001)?;
    let mut changes: Vec<Vec<u8>> = doc
        .changes_since(&[])
        .iter()
        .map(|c| c.raw_bytes().to_vec())
        .collect();
    changes.push(b"not an automerge change".to_vec());
    planting::plant(&server, bad, "g1", &changes)?;
    let coordinator = server.add_worker("دفتر استان", None, "coordinator")?;
    let mut c = Replica::enrolled(&server, &coordinator, "office")?;
    let report = c.store.sync(None)?;
    let reason = report
        .first_sync_fallback
        .expect("the first sync fell back");
    assert!(reason.contains(&bad.to_string()), "{reason}");
    // The log brought the rest; the bad household is set aside with its reason.
    let held = c.store.household_ids()?;
    for id in &ids {
        assert!(held.contains(id));
    }
    assert_eq!(report.quarantined, 1);
    assert_eq!(c.store.quarantined()?[0].household, bad);
    // And the next sync is an ordinary one.
    let again = c.store.sync(None)?;
    assert_eq!(
        (again.documents_received, again.first_sync_fallback),
        (0, None)
    );
    Ok(())
}
