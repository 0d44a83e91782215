//! Sync end to end: the real `madadkar-server` process on loopback and several client replicas
//! on real SQLite files, through the stories of MISSION.md.

use std::collections::BTreeMap;

use anyhow::Result;
use madadkar_client::StoreError;
use madadkar_e2e::{Replica, Server};
use madadkar_schema::{HouseholdEdit, NewMember, NewVisit, Relation, VisitKind};
use uuid::Uuid;

fn visit(note: &str) -> NewVisit {
    NewVisit {
        date: chrono::NaiveDate::from_ymd_opt(2025, 10, 1).expect("date"),
        kind: VisitKind::Home,
        observations: note.into(),
        needs: BTreeMap::new(),
        followup_date: None,
    }
}

fn phone(p: &str) -> HouseholdEdit {
    HouseholdEdit {
        phone: Some(p.into()),
        ..Default::default()
    }
}

fn server_code(e: &StoreError) -> Option<&str> {
    match e {
        StoreError::Server { code, .. } => Some(code),
        _ => None,
    }
}

#[test]
fn two_workers_edit_offline_and_a_supervisor_resolves_the_conflict() -> Result<()> {
    let server = Server::start()?;
    server.add_group("g1")?;
    let a_id = server.add_worker("worker A", Some("g1"), "field")?;
    let b_id = server.add_worker("worker B", Some("g1"), "field")?;
    let s_id = server.add_worker("supervisor S", Some("g1"), "supervisor")?;
    let mut a = Replica::enrolled(&server, &a_id, "laptop A")?;
    let mut b = Replica::enrolled(&server, &b_id, "laptop B")?;
    let mut s = Replica::enrolled(&server, &s_id, "laptop S")?;

    let h = a.add_household("علی", 11_000_001)?;
    a.store.sync(None)?;
    // Registered by A, the household is A's; the supervisor gives it to the whole group.
    server.admin(&["household", "assign", &h.to_string(), "--group", "g1"])?;
    b.store.sync(None)?;
    assert_eq!(b.store.household_ids()?, vec![h]);

    // Offline, both edit.
    a.store.edit_household(h, &phone("09121111111"))?;
    a.store.add_visit(h, &visit("A's visit"))?;
    b.store.edit_household(h, &phone("09122222222"))?;
    b.store
        .add_member(h, &NewMember::named("زینب", "کریمی", Relation::Spouse))?;
    a.store.sync(None)?;
    b.store.sync(None)?;
    a.store.sync(None)?;
    s.store.sync(None)?;

    for r in [&a, &b, &s] {
        let d = r.store.household(h)?;
        assert_eq!(d.household.visits.len(), 1);
        assert_eq!(d.household.members.len(), 2);
        assert_eq!(d.conflicts.len(), 1);
        let mut who: Vec<(String, String)> = d.conflicts[0]
            .values
            .iter()
            .map(|v| (v.value.clone(), v.worker_name.clone()))
            .collect();
        who.sort();
        assert_eq!(
            who,
            vec![
                ("09121111111".into(), "worker A".into()),
                ("09122222222".into(), "worker B".into())
            ]
        );
    }

    s.store
        .resolve_conflict(h, &"household.phone".parse()?, "09122222222")?;
    s.store.sync(None)?;
    a.store.sync(None)?;
    b.store.sync(None)?;
    let heads: Vec<_> = [&a, &b, &s]
        .iter()
        .map(|r| r.store.document(h).map(|mut d| d.heads()))
        .collect::<Result<_, _>>()?;
    assert!(heads.windows(2).all(|w| w[0] == w[1]), "replicas diverge");
    for r in [&a, &b, &s] {
        let d = r.store.household(h)?;
        assert!(d.conflicts.is_empty());
        assert_eq!(d.household.phone.as_deref(), Some("09122222222"));
        assert_eq!(r.store.projection_rows(h)?, a.store.projection_rows(h)?);
        assert_eq!(r.store.sync_status()?.pending_changes, 0);
    }
    Ok(())
}

#[test]
fn a_reassigned_household_moves_with_its_history_and_stops_reaching_the_old_group() -> Result<()> {
    let server = Server::start()?;
    server.add_group("x")?;
    server.add_group("y")?;
    let x_id = server.add_worker("X1", Some("x"), "field")?;
    let y_id = server.add_worker("Y1", Some("y"), "field")?;
    let mut x = Replica::enrolled(&server, &x_id, "x laptop")?;
    let mut y = Replica::enrolled(&server, &y_id, "y laptop")?;
    let h = x.add_household("حسن", 12_000_001)?;
    let kept = x.add_household("رضا", 12_000_002)?;
    for i in 0..5 {
        x.store.add_visit(h, &visit(&format!("visit {i}")))?;
    }
    x.store.sync(None)?;
    y.store.sync(None)?;
    assert!(y.store.household_ids()?.is_empty(), "y sees nothing of x");

    server.admin(&["household", "assign", &h.to_string(), "--group", "y"])?;
    let report = y.store.sync(None)?;
    assert_eq!(
        y.store.household_ids()?,
        vec![h],
        "only the reassigned household"
    );
    assert_eq!(
        y.store.household(h)?.household.visits.len(),
        5,
        "with its whole history"
    );
    assert_eq!(y.store.history(h)?.len(), 6);
    // The pull, and the new list of its scope (an assignment changed).
    assert_eq!(report.requests, 2);

    y.store.add_visit(h, &visit("Y's visit"))?;
    y.store.sync(None)?;
    let report = x.store.sync(None)?;
    // X's laptop no longer holds it (nothing of X's was waiting to be sent); its other
    // household is untouched.
    assert_eq!(report.removed_from_scope, 1);
    assert!(matches!(
        x.store.household(h),
        Err(StoreError::NotFound { .. })
    ));
    assert!(x.store.household_ids()?.contains(&kept));
    y.store.sync(None)?;
    assert_eq!(y.store.household(h)?.household.visits.len(), 6);
    Ok(())
}

#[test]
fn a_revoked_device_is_refused_and_gets_no_data() -> Result<()> {
    let server = Server::start()?;
    server.add_group("g")?;
    let w = server.add_worker("W", Some("g"), "field")?;
    let mut lost = Replica::enrolled(&server, &w, "lost laptop")?;
    let mut other = Replica::enrolled(&server, &w, "new laptop")?;
    other.add_household("مریم", 13_000_001)?;
    other.store.sync(None)?;
    lost.store.sync(None)?;
    let device = lost
        .store
        .identity()
        .map(|i| i.device_id.to_string())
        .unwrap_or_default();
    server.admin(&["device", "revoke", &device])?;

    other.add_household("کاظم", 13_000_002)?;
    other.store.sync(None)?;
    let token = lost.token()?;
    // The lost laptop, making contact, is told it is revoked and erases what it held.
    let err = lost.store.sync(None).unwrap_err();
    assert!(
        matches!(err, StoreError::Erased { reason: "revoked" }),
        "{err}"
    );
    assert!(lost.store.household_ids()?.is_empty(), "nothing is kept");

    let http = reqwest::blocking::Client::new();
    let response = http
        .get(format!("{}/v1/pull?after=0", server.url))
        .bearer_auth(&token)
        .send()?;
    assert_eq!(response.status().as_u16(), 403);
    let body = response.text()?;
    assert!(
        body.contains("device_revoked") && !body.contains("کاظم"),
        "{body}"
    );
    let anonymous = http.get(format!("{}/v1/pull?after=0", server.url)).send()?;
    assert_eq!(anonymous.status().as_u16(), 401);
    let forged = http
        .get(format!("{}/v1/pull?after=0", server.url))
        .bearer_auth("0".repeat(64))
        .send()?;
    assert_eq!(forged.status().as_u16(), 401);
    Ok(())
}

#[test]
fn workers_cannot_pull_or_push_another_groups_households() -> Result<()> {
    let server = Server::start()?;
    server.add_group("a")?;
    server.add_group("b")?;
    let a_id = server.add_worker("A1", Some("a"), "field")?;
    let b_id = server.add_worker("B1", Some("b"), "field")?;
    let c_id = server.add_worker("coordinator", None, "coordinator")?;
    let admin_id = server.add_worker("admin", None, "admin")?;
    let mut a = Replica::enrolled(&server, &a_id, "a laptop")?;
    let mut b = Replica::enrolled(&server, &b_id, "b laptop")?;
    let mut c = Replica::enrolled(&server, &c_id, "office")?;
    let hb = b.add_household("زهرا", 14_000_001)?;
    b.store.sync(None)?;
    a.store.sync(None)?;
    assert!(
        a.store.household_ids()?.is_empty(),
        "A pulls nothing of group b"
    );

    // A gets B's household on a USB stick, edits it and tries to push the edit.
    let bundle = b.path().join("b.bundle");
    b.store
        .export_bundle(&bundle, &madadkar_e2e::bundle_passphrase())?;
    a.store
        .import_bundle(&bundle, &madadkar_e2e::bundle_passphrase())?;
    a.store.edit_household(hb, &phone("09129999999"))?;
    // Refused by the server: the edit is held back on A's laptop (kept, reported), and the
    // rest of A's sync goes on.
    let report = a.store.sync(None)?;
    assert_eq!(report.kept_out_of_scope, vec![hb]);
    // A's edit and the bundle's change under it stay queued.
    assert_eq!(a.store.sync_status()?.pending_changes, 2);
    c.store.sync(None)?;
    assert_eq!(
        c.store.household(hb)?.household.phone.as_deref(),
        Some("09120000000"),
        "A's edit was not stored"
    );

    let mut admin = Replica::enrolled(&server, &admin_id, "admin laptop")?;
    let err = admin.store.sync(None).unwrap_err();
    assert_eq!(server_code(&err), Some("no_case_access"), "{err}");
    Ok(())
}

#[test]
fn no_op_sync_is_one_small_request() -> Result<()> {
    let server = Server::start()?;
    server.add_group("g")?;
    let w = server.add_worker("W", Some("g"), "field")?;
    let mut a = Replica::enrolled(&server, &w, "a")?;
    madadkar_client::demo::generate(&mut a.store, 30, 7, chrono::Local::now().date_naive())?;
    a.store.sync(None)?;
    let report = a.store.sync(None)?;
    assert_eq!(report.requests, 1);
    assert_eq!(report.bytes_sent, 0);
    assert!(report.bytes_received < 2048, "{report:?}");
    assert_eq!(report.pulled, 0);
    Ok(())
}

#[test]
fn malformed_pushes_are_refused_and_nothing_is_stored() -> Result<()> {
    let server = Server::start()?;
    server.add_group("g")?;
    let w = server.add_worker("W", Some("g"), "field")?;
    let a = Replica::enrolled(&server, &w, "a")?;
    let http = reqwest::blocking::Client::new();
    let push = |body: Vec<u8>| -> Result<(u16, String)> {
        let r = http
            .post(format!("{}/v1/push", server.url))
            .bearer_auth(a.token()?)
            .body(body)
            .send()?;
        Ok((r.status().as_u16(), r.text()?))
    };
    let junk = madadkar_schema::wire::encode_push(&[madadkar_schema::wire::WireChange {
        household: Uuid::now_v7(),
        seq: 0,
        bytes: b"not an automerge change".to_vec(),
        signature: None,
    }]);
    let (status, body) = push(junk)?;
    assert_eq!(status, 400);
    assert!(body.contains("malformed_change"), "{body}");
    let (status, body) = push(b"garbage".to_vec())?;
    assert_eq!(status, 400);
    assert!(body.contains("malformed_body"), "{body}");
    let (status, _) = push(vec![0u8; madadkar_schema::wire::MAX_BODY_BYTES + 1])?;
    assert_eq!(status, 413);
    let stored: i64 = server
        .database()?
        .query_row("SELECT count(*) FROM changes", [], |r| r.get(0))?;
    assert_eq!(stored, 0);
    Ok(())
}

// A story test: long because each step (interrupt, resume, check) builds on the previous one.
#[test]
fn an_interrupted_push_and_pull_complete_later_without_loss_or_duplicates() -> Result<()> {
    let mut server = Server::start()?;
    server.add_group("g")?;
    let w = server.add_worker("W", Some("g"), "field")?;
    let c = server.add_worker("C", None, "coordinator")?;
    let mut a = Replica::enrolled(&server, &w, "a")?;
    madadkar_client::demo::generate(&mut a.store, 400, 3, chrono::Local::now().date_naive())?;
    let total = a.store.sync_status()?.pending_changes;
    assert!(total > 2_000, "a push of several batches ({total} changes)");

    // Kill the server as soon as the first batch is stored: the push is cut in the middle.
    let handle = {
        let path = a.path().to_path_buf();
        std::thread::spawn(move || -> Result<bool, StoreError> {
            let mut store = madadkar_client::Store::open(&path, &madadkar_e2e::passphrase())?;
            Ok(store.sync(None).is_err())
        })
    };
    let db = server.dir.path().join("madadkar-server.sqlite3");
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    loop {
        let stored: i64 = rusqlite::Connection::open(&db)?.query_row(
            "SELECT count(*) FROM changes",
            [],
            |r| r.get(0),
        )?;
        if stored > 0 || std::time::Instant::now() > deadline {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(5));
    }
    server.kill();
    assert!(
        handle
            .join()
            .map_err(|_| anyhow::anyhow!("sync thread panicked"))??,
        "the push was interrupted"
    );
    let left = a.store.sync_status()?.pending_changes;
    assert!(left > 0, "the push was cut short");
    let stored: i64 = server
        .database()?
        .query_row("SELECT count(*) FROM changes", [], |r| r.get(0))?;
    assert!(
        stored > 0 && stored < total,
        "the server holds part of the push ({stored} of {total})"
    );

    // Small batches, so that the coordinator's first sync below comes in many.
    server.with_settings(&serde_json::json!({
        "pull_batch_changes": 100,
        "pull_batch_bytes": 4096
    }))?;
    let report = a.store.sync(Some(&server.url))?;
    assert_eq!(report.pushed as i64, left);
    let stored: i64 = server
        .database()?
        .query_row("SELECT count(*) FROM changes", [], |r| r.get(0))?;
    assert_eq!(stored, total, "every change stored once");

    // A coordinator's first sync (whole documents, batch by batch), cut after a few batches,
    // then resumed.
    let mut coordinator = Replica::enrolled(&server, &c, "office")?;
    let url = server.url.clone();
    let handle = {
        let path = coordinator.path().to_path_buf();
        std::thread::spawn(move || -> Result<bool, StoreError> {
            let mut store = madadkar_client::Store::open(&path, &madadkar_e2e::passphrase())?;
            Ok(store.sync(Some(&url)).is_err())
        })
    };
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    loop {
        // A fresh connection each time (no passphrase derivation: the key is reused). A batch
        // applied leaves the point to resume from.
        let resumes: i64 = coordinator.store.connection()?.query_row(
            "SELECT count(*) FROM meta WHERE key = 'bootstrap_after'",
            [],
            |r| r.get(0),
        )?;
        if resumes > 0 || std::time::Instant::now() > deadline {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(5));
    }
    server.kill();
    assert!(
        handle
            .join()
            .map_err(|_| anyhow::anyhow!("sync thread panicked"))??,
        "the first sync was interrupted"
    );
    let partial = coordinator.store.household_ids()?.len();
    assert!(
        partial < 400,
        "only part arrived before the kill ({partial})"
    );
    server.restart()?;
    coordinator.store.sync(Some(&server.url))?;
    assert_eq!(coordinator.store.household_ids()?.len(), 400);
    let conn = coordinator.store.connection()?;
    let (rows, distinct): (i64, i64) = conn.query_row(
        "SELECT count(*), count(DISTINCT hash) FROM changes",
        [],
        |r| Ok((r.get(0)?, r.get(1)?)),
    )?;
    assert_eq!(rows, distinct, "no change stored twice");
    let history_total: usize = coordinator
        .store
        .household_ids()?
        .iter()
        .map(|h| coordinator.store.history(*h).map(|v| v.len()).unwrap_or(0))
        .sum();
    assert_eq!(history_total as i64, total);
    assert!(coordinator.store.check()?.ok());
    Ok(())
}

#[test]
fn changes_the_server_lost_are_recovered_by_per_household_sync() -> Result<()> {
    let mut server = Server::start()?;
    server.add_group("g")?;
    let w = server.add_worker("W", Some("g"), "field")?;
    let c = server.add_worker("C", None, "coordinator")?;
    let mut a = Replica::enrolled(&server, &w, "a")?;
    let h = a.add_household("علی", 15_000_001)?;
    for i in 0..3 {
        a.store.add_visit(h, &visit(&format!("visit {i}")))?;
    }
    a.store.sync(None)?;

    // The server is restored from a backup that lacks the last two visits.
    server.kill();
    {
        let db = rusqlite::Connection::open(server.dir.path().join("madadkar-server.sqlite3"))?;
        db.execute_batch(
            "DELETE FROM changes WHERE seq IN (SELECT seq FROM changes ORDER BY seq DESC LIMIT 2);
             DELETE FROM log WHERE kind = 'change' AND seq NOT IN (SELECT seq FROM changes);",
        )?;
    }
    server.restart()?;
    a.store.add_visit(h, &visit("after the restore"))?;
    let report = a.store.sync(Some(&server.url))?;
    assert_eq!(report.resynced_households, vec![h]);

    let mut coordinator = Replica::enrolled(&server, &c, "office")?;
    coordinator.store.sync(None)?;
    assert_eq!(coordinator.store.household(h)?.household.visits.len(), 4);
    assert_eq!(
        coordinator.store.document(h)?.heads(),
        a.store.document(h)?.heads()
    );
    Ok(())
}
