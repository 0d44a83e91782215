//! Several server instances on one database (issue 13): nothing one instance needs lives in
//! another's memory. Two in-process instances (each its own `SqliteStorage` opened on the same
//! SQLite file, its own `AppState` and router) serve the same devices: a per-household sync
//! begun on one goes on on the other exactly as on one instance, a lockout earned on one
//! holds on the other and after a restart, and a household's document one instance keeps in
//! memory takes in what the other stored.

mod common;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

use automerge::{
    ROOT, ReadDoc,
    sync::{self, SyncDoc},
    transaction::Transactable,
};
use axum::{
    Router,
    body::Body,
    extract::ConnectInfo,
    http::{Method, Request, StatusCode, header},
};
use chrono::Utc;
use madadkar_schema::{
    ChangeMeta, HouseholdDoc, NewHousehold, NewMember, Relation,
    wire::{self, DocSyncFrame, WireChange},
};
use madadkar_server::{
    AppState, Guards, Limits, admin,
    storage::{Storage, sqlite::SqliteStorage},
};
use tower::ServiceExt;
use uuid::Uuid;

use common::Device;

/// One database file and the instances serving it.
struct Cluster {
    _dir: tempfile::TempDir,
    path: PathBuf,
    /// The first instance's storage, for setting up and looking.
    storage: Arc<SqliteStorage>,
    instances: Vec<Router>,
}

impl Cluster {
    /// `n` instances with `guards`, group `g1`.
    fn new(n: usize, guards: Guards) -> Self {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("server.sqlite3");
        let storage = Arc::new(SqliteStorage::open(&path).expect("storage"));
        admin::add_group(storage.as_ref(), "g1", "one").expect("group");
        let mut cluster = Self {
            _dir: dir,
            path,
            storage,
            instances: Vec::new(),
        };
        for _ in 0..n {
            let instance = cluster.instance(guards.clone());
            cluster.instances.push(instance);
        }
        cluster
    }

    /// A new instance on the database: its own connection, state and router (a second
    /// process, or the first one restarted).
    fn instance(&self, guards: Guards) -> Router {
        self.instance_with(Limits::default(), guards).1
    }

    /// [`Cluster::instance`] with `limits`, and its state to look into.
    fn instance_with(
        &self,
        limits: Limits,
        guards: Guards,
    ) -> (Arc<AppState<SqliteStorage>>, Router) {
        let storage = Arc::new(SqliteStorage::open(&self.path).expect("open again"));
        let state = Arc::new(AppState::with_guards(storage, limits, guards));
        (state.clone(), madadkar_server::router(state))
    }

    fn device(&self, role: &str) -> Device {
        common::enrolled_device(self.storage.as_ref(), role, Some("g1"))
    }
}

/// A call's status and body.
struct Answer {
    status: StatusCode,
    body: Vec<u8>,
}

impl Answer {
    fn ok(&self) -> &[u8] {
        assert_eq!(
            self.status,
            StatusCode::OK,
            "{}",
            String::from_utf8_lossy(&self.body)
        );
        &self.body
    }
}

async fn call(router: &Router, request: Request<Body>) -> Answer {
    let response = router.clone().oneshot(request).await.expect("infallible");
    let status = response.status();
    let body = axum::body::to_bytes(response.into_body(), usize::MAX)
        .await
        .expect("body")
        .to_vec();
    Answer { status, body }
}

async fn post(router: &Router, device: &Device, uri: &str, kind: &str, body: Vec<u8>) -> Answer {
    let request = Request::builder()
        .method(Method::POST)
        .uri(uri)
        .header(header::AUTHORIZATION, format!("Bearer {}", device.token))
        .header(header::CONTENT_TYPE, kind)
        .body(Body::from(body))
        .expect("request");
    call(router, request).await
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

/// Sets the household's address on `doc` as one change of `device`, as the app writes it.
fn set_address(device: &Device, doc: &mut automerge::AutoCommit, address: &str) {
    let place = match doc.get(ROOT, "household").expect("get") {
        Some((automerge::Value::Object(_), id)) => id,
        other => panic!("household: {other:?}"),
    };
    doc.put(&place, "address", address).expect("put");
    let message = serde_json::to_string(&meta(device)).expect("meta");
    doc.commit_with(automerge::transaction::CommitOptions::default().with_message(message));
}

fn wire_changes(
    doc: &mut HouseholdDoc,
    household: Uuid,
    since: &[automerge::ChangeHash],
) -> Vec<WireChange> {
    doc.changes_since(since)
        .iter_mut()
        .map(|c| WireChange::new(household, 0, c.bytes().to_vec()))
        .collect()
}

/// Whether the client and the server said something in one round of the fallback.
type Round = (bool, bool);

/// The per-household fallback between a replica whose change the server lacks and a server
/// holding a colleague's change the replica lacks, round `i` sent to instance `at(i)`.
/// Returns what each round carried, and checks that both sides end with both changes.
async fn fallback(cluster: &Cluster, at: impl Fn(usize) -> usize) -> Vec<Round> {
    let field = cluster.device("field");
    let supervisor = cluster.device("supervisor");
    let (mut doc, id) = household(&field);
    let first = &cluster.instances[0];
    let push = |device: &Device, changes: Vec<WireChange>| {
        let device = Device {
            id: device.id,
            worker_id: device.worker_id.clone(),
            token: device.token.clone(),
        };
        async move {
            post(
                first,
                &device,
                "/v1/push",
                wire::CHANGES_CONTENT_TYPE,
                wire::encode_push(&changes),
            )
            .await
            .ok();
        }
    };
    push(&field, wire_changes(&mut doc, id, &[])).await;
    let base = doc.heads();
    // The supervisor's change, on a copy of the household, reaches the server.
    let mut theirs = doc.automerge().fork().with_actor(automerge::ActorId::from(
        supervisor.id.as_bytes().as_slice(),
    ));
    set_address(&supervisor, &mut theirs, "the supervisor's street");
    let mut theirs = HouseholdDoc::from_automerge(theirs).expect("document");
    push(&supervisor, wire_changes(&mut theirs, id, &base)).await;
    // The field worker's own change, which the server lacks.
    set_address(&field, doc.automerge(), "the worker's street");
    let mut ours = sync::State::new();
    let mut marker = Vec::new();
    let mut rounds = Vec::new();
    for i in 0..20 {
        let message = doc
            .automerge()
            .sync()
            .generate_sync_message(&mut ours)
            .map(|m| m.encode())
            .unwrap_or_default();
        let frame = DocSyncFrame {
            state: marker,
            message: message.clone(),
        };
        let answer = post(
            &cluster.instances[at(i)],
            &field,
            &format!("/v1/households/{id}/sync"),
            "application/octet-stream",
            frame.encode(),
        )
        .await;
        let reply = DocSyncFrame::decode(answer.ok()).expect("frame");
        marker = reply.state;
        rounds.push((!message.is_empty(), !reply.message.is_empty()));
        if !reply.message.is_empty() {
            let m = sync::Message::decode(&reply.message).expect("message");
            doc.automerge()
                .sync()
                .receive_sync_message(&mut ours, m)
                .expect("receive");
        }
        if message.is_empty() && reply.message.is_empty() {
            break;
        }
    }
    // Both sides hold both changes: the replica the supervisor's, the server the worker's.
    assert_eq!(
        cluster.storage.household_changes(id).expect("stored").len(),
        3
    );
    assert_eq!(doc.automerge().get_changes(&[]).len(), 3);
    rounds
}

/// A session begun on one instance goes on on another, round for round as on one instance:
/// the server's sync state travels in the marker, not in the memory of the instance that
/// began it. (With sessions in memory, the second instance started afresh and answered a
/// round that ends the session on one instance, so the session ran longer.)
#[tokio::test]
async fn a_per_household_sync_begun_on_one_instance_finishes_on_another() {
    let one = fallback(&Cluster::new(1, Guards::default()), |_| 0).await;
    let two = fallback(&Cluster::new(2, Guards::default()), |i| i % 2).await;
    assert_eq!(two, one);
    // The replica sends its change and receives the colleague's; the server answers, then both
    // sides are done.
    assert_eq!(one, vec![(true, true), (true, true), (false, false)]);
}

/// `POST /v1/enroll` with `code` from `peer`.
async fn enroll(router: &Router, peer: &str, code: &str) -> Answer {
    let body =
        serde_json::json!({ "code": code, "device_id": Uuid::now_v7(), "device_name": "laptop" });
    let mut request = Request::builder()
        .method(Method::POST)
        .uri("/v1/enroll")
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::from(serde_json::to_vec(&body).expect("json")))
        .expect("request");
    let addr: SocketAddr = peer.parse().expect("address");
    request.extensions_mut().insert(ConnectInfo(addr));
    call(router, request).await
}

/// Wrong codes counted on one instance lock the source out on the other, and on an instance
/// started afterwards (a restart); other sources are not held back.
#[tokio::test]
async fn a_lockout_earned_on_one_instance_holds_on_another_and_after_a_restart() {
    let mut guards = Guards::default();
    guards.enroll.lockout_failures = 3;
    let cluster = Cluster::new(2, guards.clone());
    let code = || {
        let worker =
            admin::add_worker(cluster.storage.as_ref(), "w", Some("g1"), "field").expect("worker");
        admin::issue_enroll_code(cluster.storage.as_ref(), &worker.id, 1)
            .expect("code")
            .code
    };
    let guesser = "192.0.2.1:5000";
    for i in 0..3 {
        let answer = enroll(&cluster.instances[i % 2], guesser, "AAAA-BBBB-CCCC").await;
        common::expect_error(
            answer.status,
            &answer.body,
            StatusCode::BAD_REQUEST,
            "invalid_code",
        );
    }
    let restarted = cluster.instance(guards);
    for router in [&cluster.instances[0], &cluster.instances[1], &restarted] {
        let answer = enroll(router, guesser, &code()).await;
        let error = common::expect_error(
            answer.status,
            &answer.body,
            StatusCode::TOO_MANY_REQUESTS,
            "rate_limited",
        );
        assert!(error.message.contains("wrong"), "{}", error.message);
    }
    enroll(&cluster.instances[1], "192.0.2.9:5000", &code())
        .await
        .ok();
}

/// `changes` pushed through `router`.
async fn push(router: &Router, device: &Device, changes: &[WireChange]) -> Answer {
    post(
        router,
        device,
        "/v1/push",
        wire::CHANGES_CONTENT_TYPE,
        wire::encode_push(changes),
    )
    .await
}

/// Each instance keeps the household documents its pushes checked
/// (`madadkar_server::documents`). A push that finds one kept brings it up to date with what
/// the other instance stored meanwhile: a change building on that is accepted, what the
/// instance holds is what is stored, and a change reusing an author's sequence number is
/// still refused.
#[tokio::test]
async fn a_document_kept_by_one_instance_takes_in_what_another_stored() {
    let cluster = Cluster::new(0, Guards::default());
    let (kept_by, a) = cluster.instance_with(Limits::default(), Guards::default());
    let (_, b) = cluster.instance_with(Limits::default(), Guards::default());
    let field = cluster.device("field");
    let (mut doc, id) = household(&field);
    push(&a, &field, &wire_changes(&mut doc, id, &[]))
        .await
        .ok();
    let edit = |doc: &mut HouseholdDoc, address: &str| {
        let heads = doc.heads();
        set_address(&field, doc.automerge(), address);
        wire_changes(doc, id, &heads)
    };
    push(&a, &field, &edit(&mut doc, "one")).await.ok();
    push(&b, &field, &edit(&mut doc, "two")).await.ok();
    let before_three = doc.automerge().clone();
    push(&a, &field, &edit(&mut doc, "three")).await.ok();
    let stats = kept_by.documents.stats();
    // A new household has nothing stored to keep; the push of "one" built its document from
    // storage and kept it; the push of "three" found it kept and took in the changes stored
    // since: `a`'s own "one" and the "two" that `b` stored.
    assert_eq!((stats.misses, stats.hits), (2, 1), "{stats:?}");
    assert_eq!(stats.changes_applied, 2, "{stats:?}");
    let held = kept_by
        .documents
        .read(cluster.storage.as_ref(), id)
        .expect("read");
    assert_eq!(
        held.clone().get_heads(),
        doc.heads(),
        "the kept document is what is stored"
    );
    assert_eq!(
        cluster.storage.household_changes(id).expect("stored").len(),
        4
    );
    // The device's fourth change again, with other content: refused against the kept
    // document as against one built from storage.
    let mut forged =
        before_three.with_actor(automerge::ActorId::from(field.id.as_bytes().as_slice()));
    set_address(&field, &mut forged, "forged");
    let bytes = forged
        .get_last_local_change()
        .expect("a change")
        .raw_bytes()
        .to_vec();
    let answer = push(&a, &field, &[WireChange::new(id, 0, bytes)]).await;
    let error = common::expect_error(
        answer.status,
        &answer.body,
        StatusCode::CONFLICT,
        "duplicate_seq",
    );
    assert_eq!(error.households, vec![id]);
}

/// With no memory for documents, every push builds its households' documents from storage
/// and nothing is kept; pushes are checked and stored the same.
#[tokio::test]
async fn with_no_document_cache_pushes_build_from_storage() {
    let cluster = Cluster::new(0, Guards::default());
    let limits = Limits {
        document_cache_bytes: 0,
        ..Limits::default()
    };
    let (state, a) = cluster.instance_with(limits, Guards::default());
    let field = cluster.device("field");
    let (mut doc, id) = household(&field);
    push(&a, &field, &wire_changes(&mut doc, id, &[]))
        .await
        .ok();
    let heads = doc.heads();
    set_address(&field, doc.automerge(), "one");
    push(&a, &field, &wire_changes(&mut doc, id, &heads))
        .await
        .ok();
    let stats = state.documents.stats();
    assert_eq!(
        (stats.misses, stats.hits, stats.held),
        (2, 0, 0),
        "{stats:?}"
    );
    assert_eq!(
        cluster.storage.household_changes(id).expect("stored").len(),
        2
    );
}
