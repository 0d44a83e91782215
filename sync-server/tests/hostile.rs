//! A hostile insider with a valid field-worker device (issue 9): changes that would leave a
//! household no replica can read, chunks that inflate without end, a reused (actor, sequence
//! number), a cursor past the log. Each is pushed as real Automerge changes through the
//! in-process router over a real SQLite file, and must be refused with the documented JSON
//! error naming the household, while honest changes are still stored.

mod common;

use std::sync::Arc;

use automerge::{
    ActorId, AutoCommit, ObjId, ObjType, ROOT, ReadDoc, Value,
    sync::{self, SyncDoc},
    transaction::Transactable,
};
use axum::{
    Router,
    body::Body,
    http::{Method, Request, StatusCode, header},
};
use chrono::Utc;
use madadkar_schema::{
    ChangeMeta, HouseholdDoc, NationalId, NewHousehold, NewMember, Relation,
    wire::{self, DocSyncFrame, ErrorBody, PullBatch, PushResponse, WireChange},
};
use madadkar_server::{
    AppState, Limits, admin,
    storage::{IncomingChange, Storage, StorageError, sqlite::SqliteStorage},
};
use tower::ServiceExt;
use uuid::Uuid;

use common::Device;

/// A national ID whose check digit is wrong (the right one ends in 9).
const BAD_NATIONAL_ID: &str = "0499370898";

struct Server {
    _dir: tempfile::TempDir,
    storage: Arc<SqliteStorage>,
    router: Router,
}

/// A call's status and body.
struct Answer {
    status: StatusCode,
    body: Vec<u8>,
}

impl Answer {
    /// The JSON error body with this status and code, failing the test on anything else.
    fn error(&self, status: StatusCode, code: &str) -> ErrorBody {
        common::expect_error(self.status, &self.body, status, code)
    }

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

impl Server {
    fn new() -> Self {
        let dir = tempfile::tempdir().expect("tempdir");
        let storage =
            Arc::new(SqliteStorage::open(&dir.path().join("server.sqlite3")).expect("storage"));
        admin::add_group(storage.as_ref(), "g1", "one").expect("group");
        let router =
            madadkar_server::router(Arc::new(AppState::new(storage.clone(), Limits::default())));
        Self {
            _dir: dir,
            storage,
            router,
        }
    }

    fn device(&self, role: &str) -> Device {
        common::enrolled_device(self.storage.as_ref(), role, Some("g1"))
    }

    async fn send(
        &self,
        method: Method,
        uri: &str,
        token: &str,
        content_type: &str,
        body: Vec<u8>,
    ) -> Answer {
        let request = Request::builder()
            .method(method)
            .uri(uri)
            .header(header::AUTHORIZATION, format!("Bearer {token}"))
            .header(header::CONTENT_TYPE, content_type)
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

    async fn push(&self, device: &Device, changes: &[WireChange]) -> Answer {
        self.send(
            Method::POST,
            "/v1/push",
            &device.token,
            wire::CHANGES_CONTENT_TYPE,
            wire::encode_push(changes),
        )
        .await
    }

    async fn pull(&self, device: &Device, after: &str) -> Answer {
        self.send(
            Method::GET,
            &format!("/v1/pull?after={after}"),
            &device.token,
            "text/plain",
            vec![],
        )
        .await
    }

    fn stored(&self, household: Uuid) -> usize {
        self.storage
            .household_changes(household)
            .expect("changes")
            .len()
    }
}

impl Device {
    fn meta(&self) -> ChangeMeta {
        ChangeMeta::new(&self.worker_id, "w", &self.id.to_string())
    }

    /// A household registered on this device: the document and its id.
    fn household(&self, head_name: &str) -> (HouseholdDoc, Uuid) {
        self.household_with_id(Uuid::now_v7(), head_name)
    }

    fn household_with_id(&self, id: Uuid, head_name: &str) -> (HouseholdDoc, Uuid) {
        let head = NewMember {
            national_id: Some(NationalId::with_check_digit(11_000_001)),
            ..NewMember::named(head_name, "کریمی", Relation::Head)
        };
        let place = NewHousehold {
            district: "منطقه ۳".into(),
            address: "کوچه یاس".into(),
            ..Default::default()
        };
        let actor = ActorId::from(self.id.as_bytes().as_slice());
        let (doc, _) = HouseholdDoc::create(actor, id, &place, &head, &self.meta(), Utc::now())
            .expect("a household");
        (doc, id)
    }

    /// Writes on `doc` with `write` as one change of this device (with its worker's metadata,
    /// as the server checks), returning the change as it would be pushed for `household`.
    fn edit(
        &self,
        doc: &mut HouseholdDoc,
        household: Uuid,
        write: impl FnOnce(&mut AutoCommit),
    ) -> WireChange {
        let heads = doc.heads();
        write(doc.automerge());
        let message = serde_json::to_string(&self.meta()).expect("meta");
        doc.automerge()
            .commit_with(automerge::transaction::CommitOptions::default().with_message(message));
        let mut changes = doc.changes_since(&heads);
        assert_eq!(changes.len(), 1);
        wire_change(household, changes[0].bytes().to_vec())
    }
}

fn wire_change(household: Uuid, bytes: Vec<u8>) -> WireChange {
    WireChange {
        household,
        seq: 0,
        bytes,
        signature: None,
    }
}

/// Every change of a document, as pushed for `household`.
fn all_changes(doc: &mut HouseholdDoc, household: Uuid) -> Vec<WireChange> {
    doc.changes_since(&[])
        .iter_mut()
        .map(|c| wire_change(household, c.bytes().to_vec()))
        .collect()
}

/// The object at `key` of `obj`.
fn child(doc: &AutoCommit, obj: &ObjId, key: &str) -> ObjId {
    match doc.get(obj, key).expect("get") {
        Some((Value::Object(_), id)) => id,
        other => panic!("{key}: {other:?}"),
    }
}

/// The head member's map.
fn head_member(doc: &AutoCommit) -> ObjId {
    let members = child(doc, &ROOT, "members");
    doc.map_range(&members, ..)
        .next()
        .map(|item| item.id())
        .expect("a member")
}

/// A registered household, pushed and stored: the document, its id and the device.
async fn registered(server: &Server) -> (Device, HouseholdDoc, Uuid) {
    let device = server.device("field");
    let (mut doc, id) = device.household("علی");
    server.push(&device, &all_changes(&mut doc, id)).await.ok();
    (device, doc, id)
}

/// Pushes one hostile edit of a registered household, expecting `status` and `code` naming
/// that household, and that nothing more was stored for it. Returns the error's message.
async fn refused_edit(
    write: impl FnOnce(&mut AutoCommit),
    status: StatusCode,
    code: &str,
) -> String {
    let server = Server::new();
    let (device, mut doc, id) = registered(&server).await;
    let before = server.stored(id);
    let change = device.edit(&mut doc, id, write);
    let error = server.push(&device, &[change]).await.error(status, code);
    assert_eq!(error.households, vec![id]);
    assert!(error.message.contains(&id.to_string()), "{}", error.message);
    assert_eq!(
        server.stored(id),
        before,
        "nothing of the refused push is stored"
    );
    error.message
}

#[tokio::test]
async fn an_invalid_national_id_inside_a_member_is_refused_without_repeating_it() {
    let message = refused_edit(
        |doc| {
            let member = head_member(doc);
            doc.put(&member, "national_id", BAD_NATIONAL_ID)
                .expect("put");
        },
        StatusCode::UNPROCESSABLE_ENTITY,
        "invalid_document",
    )
    .await;
    assert!(message.contains("national"), "{message}");
    assert!(
        !message.contains(BAD_NATIONAL_ID),
        "the value is repeated: {message}"
    );
}

#[tokio::test]
async fn a_deleted_members_map_is_refused() {
    let message = refused_edit(
        |doc| doc.delete(ROOT, "members").expect("delete"),
        StatusCode::UNPROCESSABLE_ENTITY,
        "invalid_document",
    )
    .await;
    assert!(message.contains("members"), "{message}");
}

#[tokio::test]
async fn a_schema_version_newer_than_the_server_knows_is_refused_as_too_new() {
    let message = refused_edit(
        |doc| doc.put(ROOT, "schema_version", 99).expect("put"),
        StatusCode::UNPROCESSABLE_ENTITY,
        "schema_too_new",
    )
    .await;
    assert!(message.contains("99"), "{message}");
}

#[tokio::test]
async fn maps_nested_100_000_deep_are_refused_without_overflowing_the_stack() {
    let message = refused_edit(
        |doc| {
            let mut at = head_member(doc);
            for _ in 0..100_000 {
                at = doc.put_object(&at, "x", ObjType::Map).expect("nest");
            }
        },
        StatusCode::UNPROCESSABLE_ENTITY,
        "invalid_document",
    )
    .await;
    assert!(message.contains("nesting"), "{message}");
}

#[tokio::test]
async fn a_change_rewriting_the_id_is_refused() {
    refused_edit(
        |doc| {
            doc.put(ROOT, "id", Uuid::now_v7().to_string())
                .expect("put")
        },
        StatusCode::UNPROCESSABLE_ENTITY,
        "invalid_document",
    )
    .await;
}

#[tokio::test]
async fn a_document_whose_id_is_another_households_is_refused() {
    let server = Server::new();
    let device = server.device("field");
    let (mut doc, id) = device.household("علی");
    let other = Uuid::now_v7();
    let mut changes = all_changes(&mut doc, id);
    for c in &mut changes {
        c.household = other;
    }
    let error = server
        .push(&device, &changes)
        .await
        .error(StatusCode::UNPROCESSABLE_ENTITY, "invalid_document");
    assert_eq!(error.households, vec![other]);
    assert_eq!(server.stored(other), 0);
    assert_eq!(server.stored(id), 0);
}

/// A raw deflate stream (fixed Huffman codes) of one zero byte then `matches` copies of the
/// 258 bytes before (distance 1): 13 bits that inflate to 258 zeros each, the bomb's trick.
fn deflate_bomb(matches: usize) -> Vec<u8> {
    struct Bits {
        out: Vec<u8>,
        used: u32,
    }
    impl Bits {
        /// Deflate packs bits from the least significant; Huffman codes go most significant
        /// bit first.
        fn code(&mut self, code: u32, len: u32) {
            for i in (0..len).rev() {
                self.bit((code >> i) & 1);
            }
        }
        fn bit(&mut self, bit: u32) {
            if self.used.is_multiple_of(8) {
                self.out.push(0);
            }
            if bit == 1 {
                *self.out.last_mut().expect("a byte") |= 1 << (self.used % 8);
            }
            self.used += 1;
        }
    }
    let mut bits = Bits {
        out: Vec::new(),
        used: 0,
    };
    bits.bit(1); // the final block
    bits.bit(1); // fixed Huffman codes (type 01, least significant bit first)
    bits.bit(0);
    bits.code(0b0011_0000, 8); // literal 0
    for _ in 0..matches {
        bits.code(0b1100_0101, 8); // length 258 (symbol 285, no extra bits)
        bits.code(0, 5); // distance 1 (code 0, no extra bits)
    }
    bits.code(0, 7); // end of block
    bits.out
}

#[tokio::test]
async fn a_compressed_chunk_of_a_megabyte_inflating_past_the_bound_is_refused() {
    let server = Server::new();
    let (device, _, id) = registered(&server).await;
    // ~1 MB of deflate that inflates to ~160 MB: far past the bound of one change.
    let body = deflate_bomb(600_000);
    let mut chunk = vec![0x85, 0x6f, 0x4a, 0x83, 0, 0, 0, 0, 2];
    let mut len = body.len() as u64;
    while len >= 0x80 {
        chunk.push((len as u8 & 0x7f) | 0x80);
        len >>= 7;
    }
    chunk.push(len as u8);
    chunk.extend_from_slice(&body);
    assert!(chunk.len() > 950_000 && chunk.len() <= wire::MAX_CHANGE_BYTES);
    let before = server.stored(id);
    let error = server
        .push(&device, &[wire_change(id, chunk)])
        .await
        .error(StatusCode::BAD_REQUEST, "malformed_change");
    assert!(error.message.contains("inflates"), "{}", error.message);
    assert_eq!(error.households, vec![id]);
    assert_eq!(server.stored(id), before);
}

#[tokio::test]
async fn a_second_change_with_an_actor_and_seq_already_held_is_refused() {
    let server = Server::new();
    let device = server.device("field");
    let (mut doc, id) = device.household("علی");
    let first = all_changes(&mut doc, id);
    let stored: PushResponse =
        serde_json::from_slice(server.push(&device, &first).await.ok()).expect("answer");
    // The same change again is a no-op that answers the same sequence number.
    let again: PushResponse =
        serde_json::from_slice(server.push(&device, &first).await.ok()).expect("answer");
    assert_eq!(again.accepted, stored.accepted);
    // Another first change of the same household by the same device: actor and seq 1 again.
    let (mut forged, _) = device.household_with_id(id, "حسن");
    let forged = all_changes(&mut forged, id);
    assert_ne!(forged[0].bytes, first[0].bytes);
    let error = server
        .push(&device, &forged)
        .await
        .error(StatusCode::CONFLICT, "duplicate_seq");
    assert_eq!(error.households, vec![id]);
    assert_eq!(server.stored(id), 1);
    // Both in one push of a new household: refused too.
    let (mut a, other) = device.household("رضا");
    let (mut b, _) = device.household_with_id(other, "مریم");
    let mut both = all_changes(&mut a, other);
    both.extend(all_changes(&mut b, other));
    server
        .push(&device, &both)
        .await
        .error(StatusCode::CONFLICT, "duplicate_seq");
    assert_eq!(server.stored(other), 0);
}

/// The storage refuses the reuse on its own too, inside its write transaction: two pushes
/// checked at the same time cannot both store.
#[test]
fn the_storage_refuses_a_reused_actor_and_seq_itself() {
    let dir = tempfile::tempdir().expect("tempdir");
    let storage = SqliteStorage::open(&dir.path().join("s.sqlite3")).expect("storage");
    let device = Device {
        id: Uuid::now_v7(),
        worker_id: "w".into(),
        token: String::new(),
    };
    let (mut a, id) = device.household("علی");
    let (mut b, _) = device.household_with_id(id, "حسن");
    let incoming = |doc: &mut HouseholdDoc| {
        let change = doc.changes_since(&[]).remove(0);
        IncomingChange {
            household: id,
            hash: change.hash().0,
            bytes: change.raw_bytes().to_vec(),
            device_id: device.id,
        }
    };
    let (a, b) = (incoming(&mut a), incoming(&mut b));
    let new = [(id, Default::default())];
    let seqs = storage
        .store_changes(std::slice::from_ref(&a), &new, &[])
        .expect("stored");
    assert_eq!(
        storage
            .store_changes(std::slice::from_ref(&a), &[], &[])
            .expect("again"),
        seqs
    );
    assert!(matches!(
        storage.store_changes(&[b], &[], &[]),
        Err(StorageError::DuplicateSeq { household }) if household == id
    ));
    // Another household may hold the same (actor, seq): sequence numbers count per document.
    let (mut c, other) = device.household("رضا");
    let change = c.changes_since(&[]).remove(0);
    storage
        .store_changes(
            &[IncomingChange {
                household: other,
                hash: change.hash().0,
                bytes: change.raw_bytes().to_vec(),
                device_id: device.id,
            }],
            &[(other, Default::default())],
            &[],
        )
        .expect("another household");
}

#[tokio::test]
async fn a_refused_household_is_named_and_the_push_stores_nothing_until_it_is_set_aside() {
    let server = Server::new();
    let device = server.device("field");
    let (mut good, good_id) = device.household("علی");
    let (mut bad, bad_id) = device.household("حسن");
    let mut changes = all_changes(&mut good, good_id);
    changes.extend(all_changes(&mut bad, bad_id));
    changes.push(device.edit(&mut bad, bad_id, |doc| {
        let member = head_member(doc);
        doc.put(&member, "national_id", BAD_NATIONAL_ID)
            .expect("put");
    }));
    let error = server
        .push(&device, &changes)
        .await
        .error(StatusCode::UNPROCESSABLE_ENTITY, "invalid_document");
    // The push is all or nothing; the error names the household whose changes to set aside.
    assert_eq!(error.households, vec![bad_id]);
    assert_eq!((server.stored(good_id), server.stored(bad_id)), (0, 0));
    let rest: Vec<WireChange> = changes
        .into_iter()
        .filter(|c| !error.households.contains(&c.household))
        .collect();
    server.push(&device, &rest).await.ok();
    assert_eq!(server.stored(good_id), 1);
    // The supervisor pulls the valid household.
    let supervisor = server.device("supervisor");
    let batch = PullBatch::decode(server.pull(&supervisor, "0").await.ok()).expect("batch");
    assert!(batch.changes.iter().all(|c| c.household == good_id));
    assert_eq!(batch.changes.len(), 1);
}

#[tokio::test]
async fn a_cursor_of_2_63_or_more_is_a_json_400_not_a_wrap() {
    let server = Server::new();
    let (device, _, _) = registered(&server).await;
    let supervisor = server.device("supervisor");
    for after in ["9223372036854775808", &u64::MAX.to_string()] {
        let error = server
            .pull(&supervisor, after)
            .await
            .error(StatusCode::BAD_REQUEST, "malformed_request");
        assert!(error.message.contains("cursor"), "{}", error.message);
    }
    // The largest cursor is answered: nothing after it.
    let batch =
        PullBatch::decode(server.pull(&device, &i64::MAX.to_string()).await.ok()).expect("batch");
    assert!(batch.changes.is_empty());
    // Beyond u64 is the query's own JSON rejection.
    server
        .pull(&device, "18446744073709551616")
        .await
        .error(StatusCode::BAD_REQUEST, "malformed_request");
}

/// One round of the per-household sync fallback: sends `message` with the server's `state`.
async fn sync_round(
    server: &Server,
    device: &Device,
    household: Uuid,
    state: Vec<u8>,
    message: Vec<u8>,
) -> Answer {
    server
        .send(
            Method::POST,
            &format!("/v1/households/{household}/sync"),
            &device.token,
            "application/octet-stream",
            DocSyncFrame { state, message }.encode(),
        )
        .await
}

/// Runs the fallback from `doc` until neither side has anything to say; the last answer.
async fn sync_whole(
    server: &Server,
    device: &Device,
    household: Uuid,
    doc: &mut AutoCommit,
) -> Answer {
    let mut ours = sync::State::new();
    let mut marker = Vec::new();
    for _ in 0..20 {
        let message = doc
            .sync()
            .generate_sync_message(&mut ours)
            .map(|m| m.encode())
            .unwrap_or_default();
        let answer = sync_round(server, device, household, marker, message.clone()).await;
        if answer.status != StatusCode::OK {
            return answer;
        }
        let frame = DocSyncFrame::decode(&answer.body).expect("frame");
        marker = frame.state;
        if !frame.message.is_empty() {
            let theirs = sync::Message::decode(&frame.message).expect("message");
            doc.sync()
                .receive_sync_message(&mut ours, theirs)
                .expect("receive");
        }
        if message.is_empty() && frame.message.is_empty() {
            return answer;
        }
    }
    panic!("the fallback did not settle in 20 rounds");
}

#[tokio::test]
async fn the_per_household_fallback_stores_honest_changes_and_refuses_hostile_ones() {
    let server = Server::new();
    let (device, mut doc, id) = registered(&server).await;
    // Honest edits, many (so that Automerge would rather send the whole document).
    for i in 0..5 {
        device.edit(&mut doc, id, |d| {
            let household = child(d, &ROOT, "household");
            d.put(&household, "address", format!("کوچه {i}"))
                .expect("put");
        });
    }
    sync_whole(&server, &device, id, doc.automerge()).await.ok();
    assert_eq!(server.stored(id), 6);
    // A hostile edit through the fallback is refused like a push.
    device.edit(&mut doc, id, |d| d.delete(ROOT, "members").expect("delete"));
    let error = sync_whole(&server, &device, id, doc.automerge())
        .await
        .error(StatusCode::UNPROCESSABLE_ENTITY, "invalid_document");
    assert_eq!(error.households, vec![id]);
    assert_eq!(server.stored(id), 6);
}

#[tokio::test]
async fn a_whole_document_sent_through_the_fallback_is_refused_unread() {
    let server = Server::new();
    let device = server.device("field");
    let (mut doc, id) = device.household("علی");
    // A message of the second version carrying the whole document as one chunk.
    let message = sync::Message {
        heads: doc.heads(),
        need: vec![],
        have: vec![],
        changes: doc.save().into(),
        flags: None,
        version: sync::MessageVersion::V2,
    };
    let error = sync_round(&server, &device, id, vec![], message.encode())
        .await
        .error(StatusCode::BAD_REQUEST, "malformed_change");
    assert_eq!(error.households, vec![id]);
    assert_eq!(server.stored(id), 0);
}

#[tokio::test]
async fn hostile_requests_get_the_json_error_shape() {
    let server = Server::new();
    let device = server.device("field");
    let household = Uuid::now_v7();
    let cases: Vec<(Method, String, StatusCode, &str)> = vec![
        (
            Method::GET,
            "/v1/pull?after=-1".into(),
            StatusCode::BAD_REQUEST,
            "malformed_request",
        ),
        (
            Method::GET,
            "/v1/pull?limit=many".into(),
            StatusCode::BAD_REQUEST,
            "malformed_request",
        ),
        (
            Method::GET,
            format!("/v1/households/{household}/access?limit=x"),
            StatusCode::BAD_REQUEST,
            "malformed_request",
        ),
        (
            Method::GET,
            "/v1/households/%FF/access".into(),
            StatusCode::BAD_REQUEST,
            "malformed_request",
        ),
        (
            Method::POST,
            "/v1/households/not-a-uuid/sync".into(),
            StatusCode::BAD_REQUEST,
            "malformed_request",
        ),
    ];
    for (method, uri, status, code) in cases {
        let answer = server
            .send(method.clone(), &uri, &device.token, "text/plain", vec![])
            .await;
        answer.error(status, code);
    }
}
