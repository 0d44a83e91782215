//! The access audit: the hash chain over real SQLite storage and what tampering with its rows
//! through raw SQL does to verification; the entries push, pull, per-document sync, enrolment,
//! assignment and revocation write (ids only) through the in-process router; the access history
//! endpoint's scope rules and paging; and the `audit` administration commands of the binary.

mod common;

use std::process::{Command, Output};
use std::sync::Arc;

use axum::{
    Router,
    body::Body,
    http::{Method, Request, StatusCode, header},
};
use chrono::Utc;
use madadkar_schema::{
    AuditAction, ChangeMeta, HouseholdDoc, NationalId, NewHousehold, NewMember, Relation,
    audit::AccessPage,
    wire::{self, DocSyncFrame, EnrollResponse, PullBatch, WireChange},
};
use madadkar_server::{
    AppState, Limits, admin,
    audit::{self, Anchor, AuditEvent, AuditQuery, AuditRow, Break},
    router,
    storage::{Assignment, Storage, sqlite::SqliteStorage},
};
use rusqlite::Connection;
use tower::ServiceExt;
use uuid::Uuid;

use common::Device;

const HEAD_NAME: &str = "غلامرضا";
const HEAD_NATIONAL_ID: u32 = 49_937_089;
const WORKER_NAME: &str = "زهرا رضایی";

/// A storage in a temporary directory and a raw connection to the same file, for tampering.
struct Db {
    _dir: tempfile::TempDir,
    storage: Arc<SqliteStorage>,
    path: std::path::PathBuf,
}

impl Db {
    fn new() -> Self {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("server.sqlite3");
        let storage = Arc::new(SqliteStorage::open(&path).expect("storage"));
        Self {
            _dir: dir,
            storage,
            path,
        }
    }

    /// A raw connection without the append-only triggers: what someone with the file can do.
    fn tamper(&self) -> Connection {
        let raw = Connection::open(&self.path).expect("raw connection");
        raw.execute_batch("DROP TRIGGER audit_no_update; DROP TRIGGER audit_no_delete;")
            .expect("drop the triggers");
        raw
    }

    fn rows(&self) -> Vec<AuditRow> {
        self.storage.audit_rows(None, usize::MAX).expect("rows")
    }

    fn household_entries(&self, household: Uuid) -> Vec<audit::AuditEntry> {
        self.storage
            .audit_entries(&AuditQuery {
                household: Some(household),
                limit: 1000,
                ..Default::default()
            })
            .expect("entries")
    }
}

fn event(action: AuditAction, household: Option<Uuid>) -> AuditEvent {
    AuditEvent {
        action,
        device_id: Some(Uuid::now_v7()),
        worker_id: Some("w1".into()),
        group_id: None,
        household,
    }
}

/// A database holding `n` entries, appended in batches of 1, 2, 3 …
fn chain_of(n: usize) -> Db {
    let db = Db::new();
    let mut written = 0;
    let mut batch = 1;
    while written < n {
        let size = batch.min(n - written);
        let events: Vec<_> = (0..size)
            .map(|_| event(AuditAction::Pull, Some(Uuid::now_v7())))
            .collect();
        db.storage
            .append_audit(&events, Utc::now())
            .expect("append");
        written += size;
        batch += 1;
    }
    db
}

fn broken_at(db: &Db, anchor: Option<Anchor>) -> Option<(i64, Break)> {
    audit::verify(db.storage.as_ref(), anchor)
        .expect("verify")
        .broken
        .map(|b| (b.seq, b.problem))
}

fn head(db: &Db) -> Anchor {
    let report = audit::verify(db.storage.as_ref(), None).expect("verify");
    let (seq, hash) = report.head.expect("a head");
    format!("{seq}:{hash}").parse().expect("an anchor")
}

#[test]
fn each_entry_is_numbered_and_linked_to_the_one_before() {
    let db = chain_of(10);
    let rows = db.rows();
    assert_eq!(
        rows.iter().map(|r| r.seq).collect::<Vec<_>>(),
        (1..=10).collect::<Vec<_>>()
    );
    assert_eq!(rows[0].prev_hash, audit::GENESIS.to_vec());
    for pair in rows.windows(2) {
        assert_eq!(pair[1].prev_hash, pair[0].hash, "entry {}", pair[1].seq);
    }
    for row in &rows {
        assert_eq!(row.hash, audit::row_hash(row).to_vec());
    }
    let report = audit::verify(db.storage.as_ref(), None).expect("verify");
    assert_eq!(report.entries, 10);
    assert_eq!(report.broken, None);
    assert_eq!(
        report.head,
        Some((10, audit::hex(&rows[9].hash))),
        "the head is the last entry"
    );
}

#[test]
fn nothing_to_record_writes_nothing_and_unknown_is_never_recorded() {
    let db = chain_of(2);
    db.storage.append_audit(&[], Utc::now()).expect("no-op");
    assert_eq!(db.rows().len(), 2);
    let refused = db
        .storage
        .append_audit(&[event(AuditAction::Unknown, None)], Utc::now());
    assert!(
        refused.is_err(),
        "`unknown` is what a reader makes of a newer action"
    );
    assert_eq!(db.rows().len(), 2, "a refused batch leaves nothing");
}

#[test]
fn the_table_refuses_updates_and_deletes_until_its_triggers_are_dropped() {
    let db = chain_of(3);
    let raw = Connection::open(&db.path).expect("raw");
    let update = raw.execute("UPDATE audit SET action = 'push' WHERE seq = 2", []);
    assert!(
        update.is_err_and(|e| e.to_string().contains("append-only")),
        "UPDATE must be refused"
    );
    let delete = raw.execute("DELETE FROM audit WHERE seq = 2", []);
    assert!(delete.is_err_and(|e| e.to_string().contains("append-only")));
    assert_eq!(broken_at(&db, None), None);
}

#[test]
fn verify_finds_an_edited_entry() {
    let db = chain_of(6);
    db.tamper()
        .execute(
            "UPDATE audit SET household = ?1 WHERE seq = 4",
            [Uuid::now_v7().to_string()],
        )
        .expect("edit");
    assert_eq!(broken_at(&db, None), Some((4, Break::Hash)));

    // The same time written another way is still an edit of the stored entry.
    let db = chain_of(6);
    let at: String = db.rows()[2].at.clone();
    let other = at.replace('Z', "+00:00");
    db.tamper()
        .execute("UPDATE audit SET at = ?1 WHERE seq = 3", [other])
        .expect("edit");
    assert_eq!(broken_at(&db, None), Some((3, Break::Hash)));
}

#[test]
fn verify_finds_a_deleted_entry() {
    let db = chain_of(6);
    db.tamper()
        .execute("DELETE FROM audit WHERE seq = 2", [])
        .expect("delete");
    assert_eq!(broken_at(&db, None), Some((2, Break::Missing)));
}

#[test]
fn verify_finds_reordered_entries() {
    let db = chain_of(6);
    db.tamper()
        .execute_batch(
            "UPDATE audit SET seq = -1 WHERE seq = 3;
             UPDATE audit SET seq = 3 WHERE seq = 4;
             UPDATE audit SET seq = 4 WHERE seq = -1;",
        )
        .expect("swap");
    assert_eq!(broken_at(&db, None), Some((3, Break::PrevHash)));
}

#[test]
fn verify_finds_an_entry_put_before_the_first() {
    let db = chain_of(3);
    db.tamper()
        .execute(
            "INSERT INTO audit SELECT 0, at, action, device_id, worker_id, group_id, household, prev_hash, hash FROM audit WHERE seq = 1",
            [],
        )
        .expect("insert");
    assert_eq!(broken_at(&db, None), Some((0, Break::OutOfOrder)));
}

/// Someone who rewrites an entry and recomputes every hash after it gets a chain that is whole
/// in itself; the head recorded elsewhere before shows it, as it shows a cut-off tail.
#[test]
fn an_anchor_shows_a_rewritten_or_truncated_chain() {
    let db = chain_of(8);
    let anchor = head(&db);
    let raw = db.tamper();
    let mut rows = db.rows();
    rows[4].household = Some(Uuid::now_v7().to_string());
    let mut prev = rows[3].hash.clone();
    for row in &mut rows[4..] {
        row.prev_hash = prev.clone();
        row.hash = audit::row_hash(row).to_vec();
        raw.execute(
            "UPDATE audit SET household = ?1, prev_hash = ?2, hash = ?3 WHERE seq = ?4",
            rusqlite::params![row.household, row.prev_hash, row.hash, row.seq],
        )
        .expect("rewrite");
        prev = row.hash.clone();
    }
    assert_eq!(broken_at(&db, None), None, "whole in itself");
    assert_eq!(broken_at(&db, Some(anchor)), Some((8, Break::Anchor)));

    let db = chain_of(8);
    let anchor = head(&db);
    db.tamper()
        .execute("DELETE FROM audit WHERE seq >= 7", [])
        .expect("truncate");
    assert_eq!(broken_at(&db, None), None);
    assert_eq!(broken_at(&db, Some(anchor)), Some((7, Break::Anchor)));
}

#[test]
fn a_pull_of_23000_households_is_one_batch() {
    let db = chain_of(1);
    let events: Vec<_> = (0..23_000)
        .map(|_| event(AuditAction::Pull, Some(Uuid::now_v7())))
        .collect();
    let started = std::time::Instant::now();
    db.storage
        .append_audit(&events, Utc::now())
        .expect("append");
    let took = started.elapsed();
    // Debug build, this machine: well under a second. One transaction per entry (an fsync
    // each) would take minutes; the bound only catches that.
    assert!(took.as_secs() < 60, "23,000 entries took {took:?}");
    eprintln!("23,000 audit entries appended in {took:?}");
    let report = audit::verify(db.storage.as_ref(), None).expect("verify");
    assert_eq!((report.entries, report.broken), (23_001, None));
}

// ---------------------------------------------------------------------------------------------
// Through the API.

struct Api {
    db: Db,
    router: Router,
}

struct Answer {
    status: StatusCode,
    body: Vec<u8>,
}

impl Answer {
    fn expect_error(&self, status: StatusCode, code: &str) {
        common::expect_error(self.status, &self.body, status, code);
    }

    fn page(&self) -> AccessPage {
        assert_eq!(
            self.status,
            StatusCode::OK,
            "{}",
            String::from_utf8_lossy(&self.body)
        );
        serde_json::from_slice(&self.body).expect("an access page")
    }
}

impl Api {
    fn new() -> Self {
        let db = Db::new();
        let router = router(Arc::new(AppState::new(
            db.storage.clone(),
            Limits::default(),
        )));
        for g in ["g1", "g2"] {
            admin::add_group(db.storage.as_ref(), g, "a group").expect("group");
        }
        Self { db, router }
    }

    async fn send(&self, method: Method, uri: &str, token: &str, body: Vec<u8>) -> Answer {
        let request = Request::builder()
            .method(method)
            .uri(uri)
            .header(header::AUTHORIZATION, format!("Bearer {token}"))
            .header(header::CONTENT_TYPE, wire::CHANGES_CONTENT_TYPE)
            .body(Body::from(body))
            .expect("request");
        let response = self.router.clone().oneshot(request).await.expect("answer");
        let status = response.status();
        let body = axum::body::to_bytes(response.into_body(), usize::MAX)
            .await
            .expect("body")
            .to_vec();
        Answer { status, body }
    }

    async fn get(&self, uri: &str, token: &str) -> Answer {
        self.send(Method::GET, uri, token, vec![]).await
    }

    /// A worker of `role` in `group`, with a device enrolled through the API.
    async fn enrolled(&self, role: &str, group: Option<&str>) -> Device {
        let storage = self.db.storage.as_ref();
        let worker = admin::add_worker(storage, WORKER_NAME, group, role).expect("worker");
        let code = admin::issue_enroll_code(storage, &worker.id, 1).expect("code");
        let id = Uuid::now_v7();
        let body =
            serde_json::json!({ "code": code.code, "device_id": id, "device_name": "laptop" });
        let request = Request::builder()
            .method(Method::POST)
            .uri("/v1/enroll")
            .header(header::CONTENT_TYPE, "application/json")
            .body(Body::from(body.to_string()))
            .expect("request");
        let response = self.router.clone().oneshot(request).await.expect("answer");
        assert_eq!(response.status(), StatusCode::OK);
        let bytes = axum::body::to_bytes(response.into_body(), usize::MAX)
            .await
            .expect("body");
        let enrolled: EnrollResponse = serde_json::from_slice(&bytes).expect("enrolment");
        Device {
            id,
            worker_id: worker.id,
            token: enrolled.token,
        }
    }

    /// Registers a household on `device` (a real household document, with a head's name and
    /// national ID) and pushes it; returns its id.
    async fn push_new_household(&self, device: &Device) -> Uuid {
        let household = Uuid::now_v7();
        let head = NewMember {
            national_id: Some(NationalId::with_check_digit(HEAD_NATIONAL_ID)),
            ..NewMember::named(HEAD_NAME, "کریمی", Relation::Head)
        };
        let place = NewHousehold {
            district: "منطقه ۳".into(),
            address: "کوچه یاس، پلاک ۴".into(),
            phone: Some("09121234567".into()),
            ..Default::default()
        };
        let meta = ChangeMeta::new(&device.worker_id, WORKER_NAME, &device.id.to_string());
        let actor = automerge::ActorId::from(device.id.as_bytes().as_slice());
        let (mut doc, _) = HouseholdDoc::create(actor, household, &place, &head, &meta, Utc::now())
            .expect("a household");
        let changes: Vec<WireChange> = doc
            .changes_since(&[])
            .into_iter()
            .map(|c| WireChange {
                household,
                seq: 0,
                bytes: c.raw_bytes().to_vec(),
                signature: None,
            })
            .collect();
        let answer = self
            .send(
                Method::POST,
                "/v1/push",
                &device.token,
                wire::encode_push(&changes),
            )
            .await;
        assert_eq!(
            answer.status,
            StatusCode::OK,
            "{}",
            String::from_utf8_lossy(&answer.body)
        );
        household
    }

    fn actions(&self, household: Uuid) -> Vec<(AuditAction, Option<Uuid>)> {
        let mut entries = self.db.household_entries(household);
        entries.reverse();
        entries.iter().map(|e| (e.action, e.device_id)).collect()
    }
}

#[tokio::test]
async fn push_pull_sync_assign_and_revoke_write_entries_with_ids_only() {
    let api = Api::new();
    let field = api.enrolled("field", Some("g1")).await;
    let supervisor = api.enrolled("supervisor", Some("g1")).await;
    let h = api.push_new_household(&field).await;
    assert_eq!(api.actions(h), vec![(AuditAction::Push, Some(field.id))]);

    let pulled = api.get("/v1/pull?after=0", &supervisor.token).await;
    assert_eq!(pulled.status, StatusCode::OK);
    let batch = PullBatch::decode(&pulled.body).expect("batch");
    assert_eq!(batch.changes.len(), 1);
    assert_eq!(api.actions(h)[1], (AuditAction::Pull, Some(supervisor.id)));

    // A no-op pull (and the author's own pull, which carries nothing) writes nothing.
    let before = api.db.rows().len();
    let cursor = batch.next_cursor;
    let noop = api
        .get(&format!("/v1/pull?after={cursor}"), &supervisor.token)
        .await;
    assert_eq!(noop.status, StatusCode::OK);
    let own = api.get("/v1/pull?after=0", &field.token).await;
    assert_eq!(own.status, StatusCode::OK);
    assert_eq!(api.db.rows().len(), before, "no-op pulls write no entry");

    // A round of the per-household fallback reads the household: a pull.
    let frame = DocSyncFrame {
        state: vec![],
        message: vec![],
    };
    let synced = api
        .send(
            Method::POST,
            &format!("/v1/households/{h}/sync"),
            &supervisor.token,
            frame.encode(),
        )
        .await;
    assert_eq!(synced.status, StatusCode::OK);
    assert_eq!(api.actions(h)[2], (AuditAction::Pull, Some(supervisor.id)));

    let assignment = Assignment {
        group_id: Some("g2".into()),
        worker_id: None,
    };
    admin::assign(api.db.storage.as_ref(), h, &assignment).expect("assign");
    let last = api.db.household_entries(h).remove(0);
    assert_eq!(
        (last.action, last.device_id, last.group_id.as_deref()),
        (AuditAction::Assign, None, Some("g2"))
    );

    admin::revoke_device(api.db.storage.as_ref(), field.id, Utc::now()).expect("revoke");
    let by_device = api
        .db
        .storage
        .audit_entries(&AuditQuery {
            device: Some(field.id),
            limit: 10,
            ..Default::default()
        })
        .expect("entries");
    let actions: Vec<AuditAction> = by_device.iter().map(|e| e.action).collect();
    assert_eq!(
        actions,
        [AuditAction::Revoke, AuditAction::Push, AuditAction::Enroll]
    );
    assert!(
        by_device
            .iter()
            .all(|e| e.worker_id == Some(field.worker_id.clone()))
    );

    // Ids only: no name or national ID in any column of any entry.
    let nid = NationalId::with_check_digit(HEAD_NATIONAL_ID).to_string();
    let raw = Connection::open(&api.db.path).expect("raw");
    let mut stmt = raw
        .prepare("SELECT seq, at, action, device_id, worker_id, group_id, household, hex(prev_hash), hex(hash) FROM audit")
        .expect("select");
    let rows: Vec<String> = stmt
        .query_map([], |r| {
            let mut text = String::new();
            for i in 0..9 {
                let value: rusqlite::types::Value = r.get(i)?;
                text.push_str(&format!("{value:?} "));
            }
            Ok(text)
        })
        .expect("query")
        .collect::<Result<_, _>>()
        .expect("rows");
    assert!(rows.len() >= 7, "{rows:?}");
    for row in &rows {
        for secret in [
            HEAD_NAME,
            "کریمی",
            nid.as_str(),
            WORKER_NAME,
            "09121234567",
            "laptop",
        ] {
            assert!(!row.contains(secret), "{secret:?} in the audit: {row}");
        }
    }
    assert_eq!(broken_at(&api.db, None), None);
}

#[tokio::test]
async fn access_history_is_for_the_holding_groups_supervisor_and_coordinators() {
    let api = Api::new();
    let field = api.enrolled("field", Some("g1")).await;
    let supervisor = api.enrolled("supervisor", Some("g1")).await;
    let other = api.enrolled("supervisor", Some("g2")).await;
    let coordinator = api.enrolled("coordinator", None).await;
    let h = api.push_new_household(&field).await;
    let uri = format!("/v1/households/{h}/access");

    let page = api.get(&uri, &supervisor.token).await.page();
    assert_eq!(page.household, h);
    assert_eq!(page.entries.len(), 1);
    let entry = &page.entries[0];
    assert_eq!(entry.action, AuditAction::Push);
    assert_eq!(entry.device_id, Some(field.id));
    assert_eq!(entry.worker_id.as_deref(), Some(field.worker_id.as_str()));
    assert_eq!(
        entry.worker_name.as_deref(),
        Some(WORKER_NAME),
        "the name comes from the worker records"
    );
    assert_eq!(page.next_before, None);
    assert_eq!(
        api.get(&uri, &coordinator.token).await.page().entries.len(),
        1
    );

    api.get(&uri, &other.token)
        .await
        .expect_error(StatusCode::FORBIDDEN, "out_of_scope");
    api.get(&uri, &field.token)
        .await
        .expect_error(StatusCode::FORBIDDEN, "no_audit_access");
    let unknown = format!("/v1/households/{}/access", Uuid::now_v7());
    api.get(&unknown, &supervisor.token)
        .await
        .expect_error(StatusCode::FORBIDDEN, "out_of_scope");
    assert!(
        api.get(&unknown, &coordinator.token)
            .await
            .page()
            .entries
            .is_empty()
    );

    // Moved to the other group, the history follows the household, not the old supervisor.
    let to_g2 = Assignment {
        group_id: Some("g2".into()),
        worker_id: None,
    };
    admin::assign(api.db.storage.as_ref(), h, &to_g2).expect("assign");
    api.get(&uri, &supervisor.token)
        .await
        .expect_error(StatusCode::FORBIDDEN, "out_of_scope");
    let page = api.get(&uri, &other.token).await.page();
    assert_eq!(page.entries[0].action, AuditAction::Assign);
    assert_eq!(page.entries[0].group_id.as_deref(), Some("g2"));

    let admin_worker = api.enrolled("admin", None).await;
    api.get(&uri, &admin_worker.token)
        .await
        .expect_error(StatusCode::FORBIDDEN, "no_audit_access");
    api.get(&uri, &"0".repeat(64))
        .await
        .expect_error(StatusCode::UNAUTHORIZED, "unauthorized");
}

#[tokio::test]
async fn access_history_pages_newest_first() {
    let api = Api::new();
    let coordinator = api.enrolled("coordinator", None).await;
    let h = Uuid::now_v7();
    for _ in 0..25 {
        let events = [
            event(AuditAction::Pull, Some(h)),
            event(AuditAction::Pull, None),
        ];
        api.db
            .storage
            .append_audit(&events, Utc::now())
            .expect("append");
    }
    let mut seen = Vec::new();
    let mut uri = format!("/v1/households/{h}/access?limit=10");
    loop {
        let page = api.get(&uri, &coordinator.token).await.page();
        assert!(page.entries.len() <= 10);
        seen.extend(page.entries.iter().map(|e| e.seq));
        match page.next_before {
            Some(b) => uri = format!("/v1/households/{h}/access?limit=10&before={b}"),
            None => break,
        }
    }
    assert_eq!(seen.len(), 25);
    assert!(
        seen.windows(2).all(|w| w[0] > w[1]),
        "newest first: {seen:?}"
    );
    let default = api
        .get(&format!("/v1/households/{h}/access"), &coordinator.token)
        .await
        .page();
    assert_eq!(default.entries.len(), 25);

    for bad in [
        "limit=0",
        "limit=501",
        "before=abc",
        "before=9223372036854775808",
        "limit=-1",
    ] {
        api.get(
            &format!("/v1/households/{h}/access?{bad}"),
            &coordinator.token,
        )
        .await
        .expect_error(StatusCode::BAD_REQUEST, "malformed_request");
    }
    api.get("/v1/households/not-a-uuid/access", &coordinator.token)
        .await
        .expect_error(StatusCode::BAD_REQUEST, "malformed_request");
}

// ---------------------------------------------------------------------------------------------
// The administration commands.

fn run(dir: &std::path::Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_madadkar-server"))
        .arg("--data-dir")
        .arg(dir)
        .args(args)
        .output()
        .expect("run madadkar-server")
}

fn json(out: &Output) -> serde_json::Value {
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "{e}: {} / {}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )
    })
}

#[test]
fn admin_audit_list_and_verify() {
    let dir = tempfile::tempdir().expect("tempdir");
    let d = dir.path();
    assert!(
        run(d, &["group", "add", "g1", "--name", "one"])
            .status
            .success()
    );
    let worker = json(&run(d, &["--json", "worker", "add", "w", "--group", "g1"]));
    let worker = worker["id"].as_str().expect("id");
    let h = Uuid::now_v7().to_string();
    let other = Uuid::now_v7().to_string();
    for household in [&h, &other, &h] {
        let out = run(
            d,
            &[
                "household",
                "assign",
                household,
                "--group",
                "g1",
                "--worker",
                worker,
            ],
        );
        assert!(out.status.success());
    }

    let listed = json(&run(d, &["--json", "audit", "list", "--household", &h]));
    let listed = listed.as_array().expect("entries");
    let seqs: Vec<u64> = listed
        .iter()
        .map(|e| e["seq"].as_u64().expect("seq"))
        .collect();
    assert_eq!(seqs, [3, 1], "this household's entries, newest first");
    assert_eq!(listed[0]["action"], "assign");
    assert_eq!(listed[0]["worker_id"], worker);
    assert_eq!(listed[0]["group_id"], "g1");
    let text = run(d, &["audit", "list", "--limit", "1"]);
    let text = String::from_utf8_lossy(&text.stdout).into_owned();
    assert!(text.starts_with("3  ") && text.contains("assign"), "{text}");
    assert!(!run(d, &["audit", "list", "--limit", "0"]).status.success());

    let good = run(d, &["--json", "audit", "verify"]);
    assert!(good.status.success());
    let good = json(&good);
    assert_eq!(
        (good["entries"].as_u64(), &good["broken"]),
        (Some(3), &serde_json::Value::Null)
    );
    let head = good["head"].as_array().expect("head");
    let anchor = format!("{}:{}", head[0], head[1].as_str().expect("hash"));
    assert!(
        run(d, &["audit", "verify", "--anchor", &anchor])
            .status
            .success()
    );
    assert!(
        !run(d, &["audit", "verify", "--anchor", "3:abc"])
            .status
            .success()
    );

    let raw = Connection::open(d.join("madadkar-server.sqlite3")).expect("raw");
    raw.execute_batch(
        "DROP TRIGGER audit_no_update; UPDATE audit SET group_id = 'g9' WHERE seq = 2;",
    )
    .expect("tamper");
    let bad = run(d, &["--json", "audit", "verify"]);
    assert!(!bad.status.success(), "a broken chain fails the command");
    let bad = json(&bad);
    assert_eq!(bad["broken"]["seq"], 2);
    assert_eq!(bad["broken"]["problem"], "hash");
    let text = run(d, &["audit", "verify"]);
    assert!(String::from_utf8_lossy(&text.stdout).contains("BROKEN at entry 2"));
    assert!(String::from_utf8_lossy(&text.stderr).contains("broken at entry 2"));
}
