//! Group commit of concurrent pushes (issue 13): pushes that arrive while a transaction is
//! being written go together in the next one, each all or nothing on its own. Driven through
//! the in-process router over a real SQLite file, with real household documents.

mod common;

use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::time::Duration;

use automerge::{ROOT, ReadDoc, transaction::Transactable};
use axum::{
    Router,
    body::Body,
    http::{Method, Request, StatusCode, header},
};
use chrono::Utc;
use madadkar_schema::{
    AuditAction, ChangeMeta, HouseholdDoc, NewHousehold, NewMember, Relation,
    wire::{self, PullBatch, PushResponse, WireChange},
};
use madadkar_server::{
    AppState, Limits, admin,
    audit::AuditQuery,
    storage::{Storage, sqlite::SqliteStorage},
};
use tower::ServiceExt;
use uuid::Uuid;

use common::Device;

struct Server {
    _dir: tempfile::TempDir,
    storage: Arc<SqliteStorage>,
    state: Arc<AppState<SqliteStorage>>,
    router: Router,
}

/// A call's status and body.
struct Answer {
    status: StatusCode,
    body: Vec<u8>,
}

impl Answer {
    fn accepted(&self) -> PushResponse {
        assert_eq!(
            self.status,
            StatusCode::OK,
            "{}",
            String::from_utf8_lossy(&self.body)
        );
        serde_json::from_slice(&self.body).expect("a push answer")
    }
}

impl Server {
    fn new() -> Self {
        let dir = tempfile::tempdir().expect("tempdir");
        let storage =
            Arc::new(SqliteStorage::open(&dir.path().join("server.sqlite3")).expect("storage"));
        admin::add_group(storage.as_ref(), "g1", "one").expect("group");
        let state = Arc::new(AppState::new(storage.clone(), Limits::default()));
        let router = madadkar_server::router(state.clone());
        Self {
            _dir: dir,
            storage,
            state,
            router,
        }
    }

    fn device(&self, role: &str) -> Device {
        common::enrolled_device(self.storage.as_ref(), role, Some("g1"))
    }

    async fn send(&self, device: &Device, method: Method, uri: &str, body: Vec<u8>) -> Answer {
        let request = Request::builder()
            .method(method)
            .uri(uri)
            .header(header::AUTHORIZATION, format!("Bearer {}", device.token))
            .header(header::CONTENT_TYPE, wire::CHANGES_CONTENT_TYPE)
            .body(Body::from(body))
            .expect("request");
        let response = self
            .router
            .clone()
            .oneshot(request)
            .await
            .expect("infallible");
        let status = response.status();
        let body = axum::body::to_bytes(response.into_body(), usize::MAX)
            .await
            .expect("body")
            .to_vec();
        Answer { status, body }
    }

    /// Pushes `changes` on a task of its own, so that pushes run concurrently.
    fn push(
        self: &Arc<Self>,
        device: &Device,
        changes: Vec<WireChange>,
    ) -> tokio::task::JoinHandle<Answer> {
        let (server, device) = (self.clone(), copy(device));
        tokio::spawn(async move {
            server
                .send(
                    &device,
                    Method::POST,
                    "/v1/push",
                    wire::encode_push(&changes),
                )
                .await
        })
    }

    /// Waits until `n` pushes wait for the (held) writer.
    async fn queued(&self, n: u64) {
        for _ in 0..2_000 {
            if self.state.committer.stats().queued >= n {
                return;
            }
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        panic!(
            "{n} pushes never queued: {:?}",
            self.state.committer.stats()
        );
    }

    /// Every change a coordinator pulls, by hash: its sequence number.
    async fn pulled(&self, coordinator: &Device) -> HashMap<String, u64> {
        let answer = self
            .send(coordinator, Method::GET, "/v1/pull?after=0", vec![])
            .await;
        assert_eq!(answer.status, StatusCode::OK);
        let batch = PullBatch::decode(&answer.body).expect("batch");
        assert!(!batch.more);
        batch
            .changes
            .iter()
            .map(|c| {
                let change = automerge::Change::try_from(c.bytes.as_slice()).expect("change");
                (change.hash().to_string(), c.seq)
            })
            .collect()
    }
}

fn copy(device: &Device) -> Device {
    Device {
        id: device.id,
        worker_id: device.worker_id.clone(),
        token: device.token.clone(),
    }
}

fn meta(device: &Device) -> ChangeMeta {
    ChangeMeta::new(&device.worker_id, "w", &device.id.to_string())
}

/// A household registered on `device`: its document and id.
fn household(device: &Device) -> (HouseholdDoc, Uuid) {
    let id = Uuid::now_v7();
    let (doc, _) = HouseholdDoc::create(
        automerge::ActorId::from(device.id.as_bytes().as_slice()),
        id,
        &NewHousehold {
            district: "3".into(),
            address: "a street".into(),
            ..Default::default()
        },
        &NewMember::named("a", "b", Relation::Head),
        &meta(device),
        Utc::now(),
    )
    .expect("a household");
    (doc, id)
}

/// The changes of `doc` since `heads`, as pushed for `household`.
fn changes(
    doc: &mut HouseholdDoc,
    household: Uuid,
    heads: &[automerge::ChangeHash],
) -> Vec<WireChange> {
    doc.changes_since(heads)
        .iter_mut()
        .map(|c| WireChange::new(household, 0, c.bytes().to_vec()))
        .collect()
}

/// Sets the household's address on `doc` as one change of `device`.
fn set_address(device: &Device, doc: &mut automerge::AutoCommit, address: &str) {
    let place = match doc.get(ROOT, "household").expect("get") {
        Some((automerge::Value::Object(_), id)) => id,
        other => panic!("household: {other:?}"),
    };
    doc.put(&place, "address", address).expect("put");
    let message = serde_json::to_string(&meta(device)).expect("meta");
    doc.commit_with(automerge::transaction::CommitOptions::default().with_message(message));
}

/// Forty pushes from four devices at once: all land, each change's sequence number in its
/// push's answer is the one pulls give it, the numbers are 1 to 40 with none twice, and they
/// were written in fewer transactions than pushes (those arriving while the writer was held
/// went together).
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_pushes_all_land_in_fewer_transactions_with_right_sequence_numbers() {
    let server = Arc::new(Server::new());
    let devices: Vec<Device> = (0..4).map(|_| server.device("field")).collect();
    let coordinator = server.device("coordinator");
    let before = server.state.committer.stats();
    let mut pushes = Vec::new();
    {
        let _held = server.state.committer.hold();
        for i in 0..40 {
            let device = &devices[i % devices.len()];
            let (mut doc, id) = household(device);
            pushes.push(server.push(device, changes(&mut doc, id, &[])));
        }
        server.queued(40).await;
    }
    let mut acked = HashMap::new();
    for push in pushes {
        let answer = push.await.expect("task").accepted();
        assert_eq!(answer.accepted.len(), 1);
        for ack in answer.accepted {
            assert!(acked.insert(ack.hash, ack.seq).is_none());
        }
    }
    let seqs: HashSet<u64> = acked.values().copied().collect();
    assert_eq!(seqs, (1..=40).collect());
    assert_eq!(server.pulled(&coordinator).await, acked);
    let after = server.state.committer.stats();
    let transactions = after.transactions - before.transactions;
    assert_eq!(after.pushes - before.pushes, 40);
    assert!(
        transactions < 40,
        "40 pushes took {transactions} transactions"
    );
    assert!(after.largest_group >= 2, "{after:?}");
    assert_eq!(after.queued, 0);

    // Without holding the writer, pushes racing each other land as well.
    let more: Vec<_> = (0..20)
        .map(|i| {
            let device = &devices[i % devices.len()];
            let (mut doc, id) = household(device);
            server.push(device, changes(&mut doc, id, &[]))
        })
        .collect();
    for push in more {
        let answer = push.await.expect("task").accepted();
        for ack in answer.accepted {
            assert!(acked.insert(ack.hash, ack.seq).is_none());
        }
    }
    assert_eq!(server.pulled(&coordinator).await, acked);
    let seqs: HashSet<u64> = acked.values().copied().collect();
    assert_eq!(seqs, (1..=60).collect());
}

/// Two pushes of one group reuse one (actor, sequence number) for different changes: each was
/// valid against what was stored when it was checked, so only the write transaction sees the
/// clash. The later one is refused `409 duplicate_seq` on its own, as if it came after the
/// other alone, and leaves nothing (not even its audit entry); the rest of the group lands.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_push_refused_inside_a_group_fails_alone() {
    let server = Arc::new(Server::new());
    let field = server.device("field");
    let others = server.device("field");
    let (mut doc, id) = household(&field);
    let first = changes(&mut doc, id, &[]);
    server.push(&field, first).await.expect("task").accepted();
    let base = doc.heads();
    // Two edits of the same stored household by the same device: both its second change.
    let actor = automerge::ActorId::from(field.id.as_bytes().as_slice());
    let mut fork =
        HouseholdDoc::from_automerge(doc.automerge().fork().with_actor(actor)).expect("fork");
    set_address(&field, doc.automerge(), "one street");
    set_address(&field, fork.automerge(), "another street");
    let one = changes(&mut doc, id, &base);
    let another = changes(&mut fork, id, &base);
    assert_ne!(one[0].bytes, another[0].bytes);

    let before = server.state.committer.stats();
    let (winner, loser, bystanders) = {
        let _held = server.state.committer.hold();
        let winner = server.push(&field, one);
        server.queued(1).await;
        let loser = server.push(&field, another);
        let bystanders: Vec<_> = (0..5)
            .map(|_| {
                let (mut d, h) = household(&others);
                server.push(&others, changes(&mut d, h, &[]))
            })
            .collect();
        server.queued(7).await;
        (winner, loser, bystanders)
    };
    let won = winner.await.expect("task").accepted();
    let lost = loser.await.expect("task");
    let error = common::expect_error(
        lost.status,
        &lost.body,
        StatusCode::CONFLICT,
        "duplicate_seq",
    );
    assert_eq!(error.households, vec![id]);
    for push in bystanders {
        assert_eq!(push.await.expect("task").accepted().accepted.len(), 1);
    }
    let after = server.state.committer.stats();
    assert_eq!(after.transactions - before.transactions, 1, "{after:?}");
    assert_eq!(after.largest_group, 7);

    // The household holds the first change and the winner's, nothing of the loser's.
    let stored = server.storage.household_changes(id).expect("stored");
    assert_eq!(stored.len(), 2);
    let won_hash = &won.accepted[0].hash;
    let stored_hash = automerge::Change::try_from(stored[1].as_slice())
        .expect("change")
        .hash()
        .to_string();
    assert_eq!(&stored_hash, won_hash);
    // Its audit: the first push and the winner's, the refused one none.
    let pushes = server
        .storage
        .audit_entries(&AuditQuery {
            household: Some(id),
            limit: 100,
            ..Default::default()
        })
        .expect("audit")
        .into_iter()
        .filter(|e| e.action == AuditAction::Push)
        .count();
    assert_eq!(pushes, 2);
}
