//! Reconciliation on the server (issue 10), through the in-process router over a real SQLite
//! file: reassignment by supervisors and coordinators (`POST /v1/assignments`), the national-ID
//! lookup (`POST /v1/lookup`) and its index, and scopes that follow merges.

mod common;

use std::sync::Arc;

use automerge::ActorId;
use axum::{
    Router,
    body::Body,
    http::{HeaderMap, Method, Request, StatusCode, header},
};
use chrono::Utc;
use madadkar_schema::{
    AuditAction, ChangeMeta, HouseholdDoc, MemberEdit, NationalId, NewHousehold, NewMember,
    Relation,
    wire::{self, AssignResponse, LookupResponse, PullBatch, ScopeList, WireChange},
};
use madadkar_server::{
    AppState, Guards, Limits, admin, router,
    storage::{
        Assignment, LookupLimit, Reassignment, Storage, StorageError, sqlite::SqliteStorage,
    },
};
use serde_json::{Value, json};
use tower::ServiceExt;
use uuid::Uuid;

use common::Device;

/// A server with groups `x` and `y`, on a real SQLite file.
struct World {
    dir: tempfile::TempDir,
    storage: Arc<SqliteStorage>,
    router: Router,
}

/// A call's status, headers and body.
struct Answer {
    status: StatusCode,
    headers: HeaderMap,
    body: Vec<u8>,
}

impl Answer {
    fn json<T: serde::de::DeserializeOwned>(&self) -> T {
        assert_eq!(
            self.status,
            StatusCode::OK,
            "{}",
            String::from_utf8_lossy(&self.body)
        );
        serde_json::from_slice(&self.body).expect("a JSON answer")
    }

    fn error(&self, status: StatusCode, code: &str) -> wire::ErrorBody {
        common::expect_error(self.status, &self.body, status, code)
    }
}

/// A household document made in a test, kept to write more changes to it.
struct Household {
    id: Uuid,
    doc: HouseholdDoc,
}

impl Household {
    /// Writes with `device`'s actor and worker, returning the new changes for a push.
    fn write(
        &mut self,
        device: &Device,
        f: impl FnOnce(&mut HouseholdDoc, &ChangeMeta),
    ) -> Vec<WireChange> {
        let heads = self.doc.heads();
        self.doc.set_actor(actor(device));
        f(&mut self.doc, &meta(device));
        self.doc
            .changes_since(&heads)
            .iter()
            .map(|c| WireChange::new(self.id, 0, c.raw_bytes().to_vec()))
            .collect()
    }

    /// Every change of the document, for a push.
    fn all(&mut self) -> Vec<WireChange> {
        self.doc
            .changes_since(&[])
            .iter()
            .map(|c| WireChange::new(self.id, 0, c.raw_bytes().to_vec()))
            .collect()
    }
}

fn actor(device: &Device) -> ActorId {
    ActorId::from(device.id.as_bytes().as_slice())
}

fn meta(device: &Device) -> ChangeMeta {
    ChangeMeta::new(&device.worker_id, "w", &device.id.to_string())
}

fn nid(seed: u32) -> NationalId {
    NationalId::with_check_digit(seed)
}

impl World {
    fn new() -> Self {
        Self::with_guards(Guards::default())
    }

    fn with_guards(guards: Guards) -> Self {
        let dir = tempfile::tempdir().expect("tempdir");
        let storage = Arc::new(SqliteStorage::open(&dir.path().join("s.sqlite3")).expect("db"));
        admin::add_group(storage.as_ref(), "x", "گروه ایکس").expect("group x");
        admin::add_group(storage.as_ref(), "y", "گروه وای").expect("group y");
        let router = router(Arc::new(AppState::with_guards(
            storage.clone(),
            Limits::default(),
            guards,
        )));
        Self {
            dir,
            storage,
            router,
        }
    }

    /// The same database opened again by a new server (as after a restart).
    fn restarted(&self, guards: Guards) -> Router {
        let storage =
            Arc::new(SqliteStorage::open(&self.dir.path().join("s.sqlite3")).expect("reopen"));
        router(Arc::new(AppState::with_guards(
            storage,
            Limits::default(),
            guards,
        )))
    }

    /// A worker of `role` in `group` with an enrolled device (enrolled in the storage: the
    /// enrolment endpoint and its rate limits are tested elsewhere).
    fn device(&self, role: &str, group: Option<&str>) -> Device {
        common::enrolled_device(self.storage.as_ref(), role, group)
    }

    async fn call_on(
        router: &Router,
        method: Method,
        uri: &str,
        token: &str,
        content_type: Option<&str>,
        body: Vec<u8>,
    ) -> Answer {
        let mut request = Request::builder()
            .method(method)
            .uri(uri)
            .header(header::AUTHORIZATION, format!("Bearer {token}"));
        if let Some(ct) = content_type {
            request = request.header(header::CONTENT_TYPE, ct);
        }
        let response = router
            .clone()
            .oneshot(request.body(Body::from(body)).expect("request"))
            .await
            .expect("infallible");
        let status = response.status();
        let headers = response.headers().clone();
        let body = axum::body::to_bytes(response.into_body(), usize::MAX)
            .await
            .expect("body")
            .to_vec();
        Answer {
            status,
            headers,
            body,
        }
    }

    async fn post_json(&self, uri: &str, device: &Device, body: &Value) -> Answer {
        Self::call_on(
            &self.router,
            Method::POST,
            uri,
            &device.token,
            Some("application/json"),
            serde_json::to_vec(body).expect("json"),
        )
        .await
    }

    async fn get(&self, uri: &str, device: &Device) -> Answer {
        Self::call_on(&self.router, Method::GET, uri, &device.token, None, vec![]).await
    }

    async fn push(&self, device: &Device, changes: &[WireChange]) -> Answer {
        Self::call_on(
            &self.router,
            Method::POST,
            "/v1/push",
            &device.token,
            Some(wire::CHANGES_CONTENT_TYPE),
            wire::encode_push(changes),
        )
        .await
    }

    async fn push_ok(&self, device: &Device, changes: &[WireChange]) {
        let answer = self.push(device, changes).await;
        assert_eq!(
            answer.status,
            StatusCode::OK,
            "{}",
            String::from_utf8_lossy(&answer.body)
        );
    }

    /// A new household registered on `device` (its head holding `national_id`), pushed, with a
    /// second change (an edit) so that its history is more than its first change.
    async fn registered(&self, device: &Device, national_id: Option<NationalId>) -> Household {
        let id = Uuid::now_v7();
        let head = NewMember {
            national_id,
            ..NewMember::named("a", "b", Relation::Head)
        };
        let (doc, _) = HouseholdDoc::create(
            actor(device),
            id,
            &NewHousehold {
                district: "3".into(),
                address: "a street".into(),
                ..Default::default()
            },
            &head,
            &meta(device),
            Utc::now(),
        )
        .expect("a household");
        let mut household = Household { id, doc };
        let edit = household.write(device, |doc, meta| {
            doc.edit_household(
                &madadkar_schema::HouseholdEdit {
                    address: Some("another street".into()),
                    ..Default::default()
                },
                meta,
                Utc::now(),
            )
            .expect("edit");
        });
        assert_eq!(edit.len(), 1);
        let all = household.all();
        self.push_ok(device, &all).await;
        household
    }

    /// Pulls until nothing more is in scope, from `after`; returns the changes and the cursor.
    async fn pull_from(&self, device: &Device, after: u64) -> (Vec<WireChange>, u64, u64) {
        let mut cursor = after;
        let mut changes = Vec::new();
        loop {
            let answer = self.get(&format!("/v1/pull?after={cursor}"), device).await;
            assert_eq!(
                answer.status,
                StatusCode::OK,
                "{}",
                String::from_utf8_lossy(&answer.body)
            );
            let scope_version = answer.headers[wire::SCOPE_HEADER]
                .to_str()
                .expect("ascii")
                .parse()
                .expect("a version");
            let batch = PullBatch::decode(&answer.body).expect("a batch");
            changes.extend(batch.changes);
            cursor = batch.next_cursor;
            if !batch.more {
                return (changes, cursor, scope_version);
            }
        }
    }

    async fn scope(&self, device: &Device) -> ScopeList {
        self.get("/v1/scope", device).await.json()
    }

    async fn assign(&self, device: &Device, body: Value) -> Answer {
        self.post_json("/v1/assignments", device, &body).await
    }

    async fn lookup(&self, device: &Device, national_id: &str) -> Answer {
        self.post_json("/v1/lookup", device, &json!({ "national_id": national_id }))
            .await
    }

    fn assignment(&self, household: Uuid) -> Assignment {
        self.storage
            .assignments(&[household])
            .expect("assignments")
            .remove(&household)
            .expect("assigned")
    }

    /// The audit entries of `action`, oldest first.
    fn audited(&self, action: AuditAction) -> Vec<madadkar_server::audit::AuditEntry> {
        let mut entries = self
            .storage
            .audit_entries(&madadkar_server::audit::AuditQuery {
                limit: 10_000,
                ..Default::default()
            })
            .expect("audit");
        entries.retain(|e| e.action == action);
        entries.reverse();
        entries
    }
}

/// The households a pull carried changes of, with how many changes each.
fn counts(changes: &[WireChange]) -> std::collections::HashMap<Uuid, usize> {
    let mut out = std::collections::HashMap::new();
    for c in changes {
        *out.entry(c.household).or_default() += 1;
    }
    out
}

fn placed(group: &str, worker: Option<&str>) -> Assignment {
    Assignment {
        group_id: Some(group.into()),
        worker_id: worker.map(Into::into),
    }
}

#[tokio::test]
async fn a_coordinator_previews_then_moves_households_to_another_group_with_their_history() {
    let w = World::new();
    let fx = w.device("field", Some("x"));
    let sx = w.device("supervisor", Some("x"));
    let fy = w.device("field", Some("y"));
    let sy = w.device("supervisor", Some("y"));
    let coordinator = w.device("coordinator", None);
    let mut docs = Vec::new();
    for _ in 0..3 {
        docs.push(w.registered(&fx, None).await);
    }
    let moved: Vec<Uuid> = docs.iter().map(|d| d.id).collect();
    let stays = w.registered(&fx, None).await.id;
    // Group y's replicas are up to date: their cursors have passed the households' changes.
    let (seen, fy_cursor, version) = w.pull_from(&fy, 0).await;
    assert!(seen.is_empty());
    let (_, sy_cursor, _) = w.pull_from(&sy, 0).await;
    let (seen, sx_cursor, _) = w.pull_from(&sx, 0).await;
    assert_eq!(counts(&seen).len(), 4);
    assert_eq!(w.scope(&sx).await.households.len(), 4);

    let body = json!({ "households": moved, "group": "y", "dry_run": true });
    let preview: AssignResponse = w.assign(&coordinator, body).await.json();
    assert!(!preview.applied);
    assert_eq!((preview.moved, preview.unchanged), (3, 0));
    assert_eq!(
        preview
            .moves
            .iter()
            .map(|m| m.household)
            .collect::<Vec<_>>(),
        moved
    );
    for m in &preview.moves {
        assert_eq!(m.from.group_id.as_deref(), Some("x"));
        assert_eq!(m.from.worker_id.as_deref(), Some(fx.worker_id.as_str()));
        assert_eq!(
            (m.to.group_id.as_deref(), m.to.worker_id.as_deref()),
            (Some("y"), None)
        );
    }
    // The preview changed nothing: not the assignments, not the scope version, not the audit.
    for h in &moved {
        assert_eq!(w.assignment(*h), placed("x", Some(&fx.worker_id)));
    }
    assert_eq!(w.pull_from(&fy, fy_cursor).await.0.len(), 0);
    assert_eq!(w.storage.versions().expect("versions").scope, version);
    assert!(w.audited(AuditAction::Assign).is_empty());

    let body = json!({ "households": moved, "group": "y", "dry_run": false });
    let done: AssignResponse = w.assign(&coordinator, body).await.json();
    assert!(done.applied);
    assert_eq!(done.moved, 3);
    for h in &moved {
        assert_eq!(w.assignment(*h), placed("y", None));
    }
    assert_eq!(w.assignment(stays), placed("x", Some(&fx.worker_id)));

    // Group y's devices receive each household's whole history (two changes each) on their
    // next pull from where they were.
    for (device, cursor) in [(&fy, fy_cursor), (&sy, sy_cursor)] {
        let (pulled, _, new_version) = w.pull_from(device, cursor).await;
        let got = counts(&pulled);
        assert_eq!(got.len(), 3, "{got:?}");
        assert!(moved.iter().all(|h| got.get(h) == Some(&2)), "{got:?}");
        assert_ne!(new_version, version, "the scope version changes");
        let mut listed = w.scope(device).await.households;
        listed.sort();
        let mut expected = moved.clone();
        expected.sort();
        assert_eq!(listed, expected);
    }
    // Group x's devices see a new scope version, and a list without them.
    for device in [&fx, &sx] {
        let (pulled, _, new_version) = w.pull_from(device, sx_cursor).await;
        assert!(pulled.is_empty());
        assert_ne!(new_version, version);
        assert_eq!(w.scope(device).await.households, vec![stays]);
    }
    // ... and may no longer push to them.
    let late = docs[0].write(&fx, |doc, meta| {
        let edit = madadkar_schema::HouseholdEdit {
            phone: Some("09121234567".into()),
            ..Default::default()
        };
        doc.edit_household(&edit, meta, Utc::now()).expect("edit");
    });
    let refused = w.push(&fx, &late).await;
    assert_eq!(
        refused
            .error(StatusCode::FORBIDDEN, "out_of_scope")
            .households,
        vec![moved[0]]
    );

    let entries = w.audited(AuditAction::Assign);
    assert_eq!(entries.len(), 3);
    for (entry, h) in entries.iter().zip(&moved) {
        assert_eq!(entry.household, Some(*h));
        assert_eq!(entry.device_id, Some(coordinator.id));
        assert_eq!(entry.group_id.as_deref(), Some("y"));
        assert_eq!(entry.worker_id, None);
    }

    // Asking again moves nothing and writes nothing.
    let body = json!({ "households": moved, "group": "y", "dry_run": false });
    let again: AssignResponse = w.assign(&coordinator, body).await.json();
    assert_eq!((again.moved, again.unchanged), (0, 3));
    assert_eq!(w.audited(AuditAction::Assign).len(), 3);
}

#[tokio::test]
async fn a_supervisor_moves_households_between_workers_of_their_group_only() {
    let w = World::new();
    let fx = w.device("field", Some("x"));
    let fx2 = w.device("field", Some("x"));
    let sx = w.device("supervisor", Some("x"));
    let fy = w.device("field", Some("y"));
    let h = w.registered(&fx, None).await.id;
    let other = w.registered(&fx, None).await.id;
    let theirs = w.registered(&fy, None).await.id;
    let (_, fx2_cursor, _) = w.pull_from(&fx2, 0).await;

    let body = json!({ "households": [h], "worker": fx2.worker_id, "dry_run": false });
    let done: AssignResponse = w.assign(&sx, body).await.json();
    assert_eq!(done.moved, 1);
    assert_eq!(w.assignment(h), placed("x", Some(&fx2.worker_id)));
    let (pulled, _, _) = w.pull_from(&fx2, fx2_cursor).await;
    assert_eq!(counts(&pulled).get(&h), Some(&2), "its whole history");
    assert_eq!(w.scope(&fx).await.households, vec![other]);
    let entry = w.audited(AuditAction::Assign).remove(0);
    assert_eq!(
        (entry.device_id, entry.worker_id.as_deref()),
        (Some(sx.id), Some(fx2.worker_id.as_str()))
    );

    // To the group as a whole: every field worker of the group sees it.
    let body = json!({ "households": [other], "group": "x", "dry_run": false });
    let done: AssignResponse = w.assign(&sx, body).await.json();
    assert_eq!(done.moves[0].to.worker_id, None);
    assert!(w.scope(&fx2).await.households.contains(&other));

    // Never to another group, nor a household of another group, nor to its workers.
    let body = json!({ "households": [h], "group": "y", "dry_run": true });
    w.assign(&sx, body)
        .await
        .error(StatusCode::FORBIDDEN, "forbidden");
    let body = json!({ "households": [h, theirs], "dry_run": true });
    let refused = w.assign(&sx, body).await;
    let error = refused.error(StatusCode::FORBIDDEN, "out_of_scope");
    assert_eq!(error.households, vec![theirs]);
    let body = json!({ "households": [h], "worker": fy.worker_id, "dry_run": false });
    let error = w
        .assign(&sx, body)
        .await
        .error(StatusCode::BAD_REQUEST, "invalid");
    assert!(
        error.message.contains("not in group x"),
        "{}",
        error.message
    );
    assert_eq!(w.assignment(h), placed("x", Some(&fx2.worker_id)));
    assert_eq!(w.assignment(theirs), placed("y", Some(&fy.worker_id)));
}

#[tokio::test]
async fn field_workers_and_administrators_may_not_reassign() {
    let w = World::new();
    let fx = w.device("field", Some("x"));
    let admin = w.device("admin", Some("x"));
    let h = w.registered(&fx, None).await.id;
    for device in [&fx, &admin] {
        let body = json!({ "households": [h], "dry_run": true });
        let error = w
            .assign(device, body)
            .await
            .error(StatusCode::FORBIDDEN, "forbidden");
        assert!(
            error.message.contains("may not reassign"),
            "{}",
            error.message
        );
    }
    assert_eq!(w.assignment(h), placed("x", Some(&fx.worker_id)));
    assert!(w.audited(AuditAction::Assign).is_empty());
}

#[tokio::test]
async fn unknown_households_groups_and_workers_are_named_and_nothing_moves() {
    let w = World::new();
    let fx = w.device("field", Some("x"));
    let coordinator = w.device("coordinator", None);
    let h = w.registered(&fx, None).await.id;
    let unknown = Uuid::now_v7();

    let body = json!({ "households": [h, unknown], "group": "y", "dry_run": false });
    let error = w
        .assign(&coordinator, body)
        .await
        .error(StatusCode::BAD_REQUEST, "not_found");
    assert_eq!(error.households, vec![unknown]);
    assert_eq!(
        w.assignment(h),
        placed("x", Some(&fx.worker_id)),
        "all or nothing"
    );

    let body = json!({ "households": [h], "group": "nope", "dry_run": false });
    let error = w
        .assign(&coordinator, body)
        .await
        .error(StatusCode::BAD_REQUEST, "not_found");
    assert!(error.message.contains("\"nope\""), "{}", error.message);
    let body = json!({ "households": [h], "group": "y", "worker": "nobody", "dry_run": false });
    let error = w
        .assign(&coordinator, body)
        .await
        .error(StatusCode::BAD_REQUEST, "not_found");
    assert!(error.message.contains("\"nobody\""), "{}", error.message);
    // A worker of x for a move to y.
    let body = json!({ "households": [h], "group": "y", "worker": fx.worker_id, "dry_run": false });
    w.assign(&coordinator, body)
        .await
        .error(StatusCode::BAD_REQUEST, "invalid");
    let body = json!({ "households": [], "group": "y", "dry_run": false });
    w.assign(&coordinator, body)
        .await
        .error(StatusCode::BAD_REQUEST, "invalid");
    let too_many: Vec<Uuid> = (0..=wire::MAX_ASSIGN_HOUSEHOLDS)
        .map(|_| Uuid::now_v7())
        .collect();
    let body = json!({ "households": too_many, "group": "y", "dry_run": true });
    w.assign(&coordinator, body)
        .await
        .error(StatusCode::BAD_REQUEST, "invalid");
    // `dry_run` is not optional: a client that forgets it does not move anything by accident.
    let body = json!({ "households": [h], "group": "y" });
    w.assign(&coordinator, body)
        .await
        .error(StatusCode::UNPROCESSABLE_ENTITY, "malformed_body");
    assert_eq!(w.assignment(h), placed("x", Some(&fx.worker_id)));
    assert!(w.audited(AuditAction::Assign).is_empty());
}

#[tokio::test]
async fn a_move_decided_on_a_stale_reading_is_refused_whole() {
    let w = World::new();
    let fx = w.device("field", Some("x"));
    let a = w.registered(&fx, None).await.id;
    let b = w.registered(&fx, None).await.id;
    let stale = Reassignment {
        household: b,
        from: Some(placed("y", None)),
        to: placed("y", None),
    };
    let fine = Reassignment {
        household: a,
        from: Some(placed("x", Some(&fx.worker_id))),
        to: placed("y", None),
    };
    let result = w.storage.reassign(&[fine, stale], &[], Utc::now());
    assert!(
        matches!(result, Err(StorageError::Conflict(_))),
        "{result:?}"
    );
    assert_eq!(w.assignment(a), placed("x", Some(&fx.worker_id)));
}

#[tokio::test]
async fn a_national_id_registered_by_one_group_is_found_from_another_as_groups_only() {
    let w = World::new();
    let fx = w.device("field", Some("x"));
    let fy = w.device("field", Some("y"));
    let sy = w.device("supervisor", Some("y"));
    let coordinator = w.device("coordinator", None);
    let head_id = nid(123_456_789);
    let mut household = w.registered(&fx, Some(head_id.clone())).await;

    for device in [&fy, &sy, &coordinator, &fx] {
        let answer = w.lookup(device, head_id.as_str()).await;
        let raw: Value = answer.json();
        assert_eq!(
            raw,
            json!({ "registered": [ { "group_id": "x", "group_name": "گروه ایکس" } ] }),
            "groups only, nothing about the household"
        );
    }
    // Persian digits and dashes are the same ID.
    let persian: String = head_id
        .as_str()
        .chars()
        .map(|c| char::from_u32(c as u32 - '0' as u32 + '۰' as u32).expect("digit"))
        .collect();
    let found: LookupResponse = w.lookup(&fy, &persian).await.json();
    assert_eq!(found.registered.len(), 1);

    // A member added later is found; a national ID corrected away is no longer.
    let spouse_id = nid(223_456_789);
    let changes = household.write(&fx, |doc, meta| {
        let spouse = NewMember {
            national_id: Some(spouse_id.clone()),
            ..NewMember::named("c", "b", Relation::Spouse)
        };
        doc.add_member(&spouse, meta, Utc::now()).expect("member");
    });
    w.push_ok(&fx, &changes).await;
    let found: LookupResponse = w.lookup(&fy, spouse_id.as_str()).await.json();
    assert_eq!(found.registered.len(), 1);
    let head = household
        .doc
        .read()
        .expect("read")
        .head_member_id
        .expect("head");
    let corrected = nid(323_456_789);
    let changes = household.write(&fx, |doc, meta| {
        let edit = MemberEdit {
            national_id: Some(corrected.clone()),
            ..Default::default()
        };
        doc.edit_member(head, &edit, meta, Utc::now())
            .expect("edit");
    });
    w.push_ok(&fx, &changes).await;
    let gone: LookupResponse = w.lookup(&fy, head_id.as_str()).await.json();
    assert!(gone.registered.is_empty());
    let found: LookupResponse = w.lookup(&fy, corrected.as_str()).await.json();
    assert_eq!(found.registered[0].group_id, "x");

    // A household of y with the same ID: both groups, each once.
    w.registered(&fy, Some(corrected.clone())).await;
    w.registered(&fy, Some(corrected.clone())).await;
    let found: LookupResponse = w.lookup(&sy, corrected.as_str()).await.json();
    let groups: Vec<&str> = found
        .registered
        .iter()
        .map(|g| g.group_id.as_str())
        .collect();
    assert_eq!(groups, ["x", "y"]);

    let unknown: LookupResponse = w.lookup(&fy, nid(987_654_321).as_str()).await.json();
    assert!(unknown.registered.is_empty());

    // An ID that is none is refused, and the refusal does not repeat it.
    let digits = head_id.as_str();
    let last = (digits.as_bytes()[9] - b'0' + 1) % 10;
    let wrong_check = format!("{}{last}", &digits[..9]);
    for input in ["12345", "abc", "1111111111", wrong_check.as_str()] {
        let error = w
            .lookup(&fy, input)
            .await
            .error(StatusCode::BAD_REQUEST, "invalid");
        assert!(!error.message.contains(input), "{}", error.message);
    }

    // Audited: the device and the households found, never the national ID.
    let entries = w.audited(AuditAction::Lookup);
    assert!(
        entries
            .iter()
            .any(|e| e.device_id == Some(fy.id) && e.household == Some(household.id))
    );
    assert!(
        entries
            .iter()
            .any(|e| e.device_id == Some(fy.id) && e.household.is_none())
    );
    let rows = w.storage.audit_rows(None, 100_000).expect("rows");
    let text = format!("{rows:?}");
    for id in [&head_id, &spouse_id, &corrected] {
        assert!(!text.contains(id.as_str()), "the audit holds a national ID");
    }
}

#[tokio::test]
async fn administrators_devices_may_not_look_up() {
    let w = World::new();
    let admin = w.device("admin", Some("x"));
    w.lookup(&admin, nid(123_456_789).as_str())
        .await
        .error(StatusCode::FORBIDDEN, "no_case_access");
}

#[tokio::test]
async fn lookups_over_the_hourly_limit_are_refused_with_retry_after_even_after_a_restart() {
    let guards = Guards {
        lookup: LookupLimit { per_hour: 3 },
        ..Guards::default()
    };
    let w = World::with_guards(guards.clone());
    let fy = w.device("field", Some("y"));
    let other = w.device("field", Some("y"));
    let id = nid(123_456_789);
    for _ in 0..3 {
        let _: LookupResponse = w.lookup(&fy, id.as_str()).await.json();
    }
    let refused = w.lookup(&fy, id.as_str()).await;
    refused.error(StatusCode::TOO_MANY_REQUESTS, "rate_limited");
    let wait: u64 = refused.headers[header::RETRY_AFTER]
        .to_str()
        .expect("ascii")
        .parse()
        .expect("seconds");
    assert!((3_590..=3_600).contains(&wait), "{wait}");
    // Another device has its own count; a restart keeps this one's.
    let _: LookupResponse = w.lookup(&other, id.as_str()).await.json();
    let restarted = w.restarted(guards);
    let again = World::call_on(
        &restarted,
        Method::POST,
        "/v1/lookup",
        &fy.token,
        Some("application/json"),
        serde_json::to_vec(&json!({ "national_id": id.as_str() })).expect("json"),
    )
    .await;
    again.error(StatusCode::TOO_MANY_REQUESTS, "rate_limited");
    // Refused lookups are not audited as lookups.
    let by_fy = w
        .audited(AuditAction::Lookup)
        .into_iter()
        .filter(|e| e.device_id == Some(fy.id))
        .count();
    assert_eq!(by_fy, 3);
}

/// Merges `retired` into `survivor` on `device`'s replica: the retired household's redirect.
fn merge(
    retired: &mut Household,
    survivor: &Household,
    group: &str,
    device: &Device,
) -> Vec<WireChange> {
    let survivor = survivor.id;
    retired.write(device, |doc, meta| {
        doc.retire_into(survivor, Some(group), meta, Utc::now())
            .expect("merge");
    })
}

/// Undoes the merge of `retired` on `device`'s replica.
fn unmerge(retired: &mut Household, device: &Device) -> Vec<WireChange> {
    retired.write(device, |doc, meta| {
        doc.unretire(meta, Utc::now()).expect("unmerge");
    })
}

fn edit_address(household: &mut Household, device: &Device, address: &str) -> Vec<WireChange> {
    household.write(device, |doc, meta| {
        let edit = madadkar_schema::HouseholdEdit {
            address: Some(address.into()),
            ..Default::default()
        };
        doc.edit_household(&edit, meta, Utc::now()).expect("edit");
    })
}

fn sorted(mut households: Vec<Uuid>) -> Vec<Uuid> {
    households.sort();
    households
}

#[tokio::test]
async fn a_merge_brings_the_retired_household_to_the_survivors_scope_and_an_undo_takes_it_back() {
    let w = World::new();
    let fx = w.device("field", Some("x"));
    let sx = w.device("supervisor", Some("x"));
    let fy = w.device("field", Some("y"));
    let sy = w.device("supervisor", Some("y"));
    let coordinator = w.device("coordinator", None);
    let a = w.registered(&fx, None).await;
    let mut b = w.registered(&fy, None).await;
    let mut cursors = std::collections::HashMap::new();
    for device in [&fx, &sx, &fy, &sy] {
        cursors.insert(device.id, w.pull_from(device, 0).await.1);
    }
    let (_, _, version) = w.pull_from(&fx, cursors[&fx.id]).await;

    let merged = merge(&mut b, &a, "x", &coordinator);
    w.push_ok(&coordinator, &merged).await;
    let entries = w.audited(AuditAction::Merge);
    let merged_ids: Vec<_> = entries.iter().map(|e| (e.household, e.device_id)).collect();
    assert_eq!(
        merged_ids,
        [
            (Some(b.id), Some(coordinator.id)),
            (Some(a.id), Some(coordinator.id))
        ]
    );

    // Group x's devices receive B's whole history: its two changes and the merge.
    for device in [&fx, &sx] {
        let (pulled, cursor, _) = w.pull_from(device, cursors[&device.id]).await;
        cursors.insert(device.id, cursor);
        let got = counts(&pulled);
        assert_eq!(got.get(&b.id), Some(&3), "{got:?}");
        assert_eq!(got.get(&a.id), None);
        assert_eq!(w.scope(device).await.households, sorted(vec![a.id, b.id]));
    }
    // Group y's devices keep B and get the redirect (with B's history again, as any scope
    // holding a household does when a log entry brings it somewhere; replicas ignore changes
    // they hold), and do not receive A.
    for device in [&fy, &sy] {
        let (pulled, cursor, _) = w.pull_from(device, cursors[&device.id]).await;
        cursors.insert(device.id, cursor);
        assert_eq!(counts(&pulled).keys().collect::<Vec<_>>(), [&b.id]);
        let redirect = merged[0].bytes.clone();
        assert!(pulled.iter().any(|c| c.bytes == redirect));
        assert_eq!(w.scope(device).await.households, vec![b.id]);
    }
    // Adding B to x's scope takes nothing from any scope: the version stays.
    assert_eq!(w.pull_from(&fx, cursors[&fx.id]).await.2, version);

    // A worker of y who has not heard of the merge writes to B: it reaches x's devices.
    let late = edit_address(&mut b, &fy, "written offline");
    w.push_ok(&fy, &late).await;
    for device in [&fx, &sx] {
        let (pulled, cursor, _) = w.pull_from(device, cursors[&device.id]).await;
        cursors.insert(device.id, cursor);
        assert_eq!(counts(&pulled), [(b.id, 1)].into_iter().collect());
    }
    // x's devices may write to B too, and use the per-household sync on it; y's may not on A.
    let theirs = edit_address(&mut b, &fx, "seen from x");
    w.push_ok(&fx, &theirs).await;
    let frame = wire::DocSyncFrame {
        state: vec![],
        message: vec![],
    };
    let synced = World::call_on(
        &w.router,
        Method::POST,
        &format!("/v1/households/{}/sync", b.id),
        &fx.token,
        None,
        frame.encode(),
    )
    .await;
    assert_eq!(synced.status, StatusCode::OK);
    let refused = World::call_on(
        &w.router,
        Method::POST,
        &format!("/v1/households/{}/sync", a.id),
        &fy.token,
        None,
        frame.encode(),
    )
    .await;
    refused.error(StatusCode::FORBIDDEN, "out_of_scope");

    // The undo: B leaves x's scope (a new scope version), stays in y's.
    let undone = unmerge(&mut b, &coordinator);
    w.push_ok(&coordinator, &undone).await;
    let entries = w.audited(AuditAction::Unmerge);
    assert_eq!(
        entries.iter().map(|e| e.household).collect::<Vec<_>>(),
        [Some(b.id), Some(a.id)]
    );
    for device in [&fx, &sx] {
        let (_, cursor, new_version) = w.pull_from(device, cursors[&device.id]).await;
        cursors.insert(device.id, cursor);
        assert_ne!(new_version, version, "B may have left the scope");
        assert_eq!(w.scope(device).await.households, vec![a.id]);
    }
    assert_eq!(w.scope(&fy).await.households, vec![b.id]);
    let after = edit_address(&mut b, &fy, "after the undo");
    w.push_ok(&fy, &after).await;
    let (pulled, _, _) = w.pull_from(&fx, cursors[&fx.id]).await;
    assert!(pulled.is_empty(), "B's later work stays in y");
    let stale = edit_address(&mut b, &fx, "too late");
    w.push(&fx, &stale)
        .await
        .error(StatusCode::FORBIDDEN, "out_of_scope");
}

#[tokio::test]
async fn households_merged_into_a_survivor_follow_it_when_it_is_reassigned() {
    let w = World::new();
    admin::add_group(w.storage.as_ref(), "z", "گروه زد").expect("group z");
    let fx = w.device("field", Some("x"));
    let fy = w.device("field", Some("y"));
    let fz = w.device("field", Some("z"));
    let coordinator = w.device("coordinator", None);
    let a = w.registered(&fx, None).await;
    let mut b = w.registered(&fy, None).await;
    let merged = merge(&mut b, &a, "x", &coordinator);
    w.push_ok(&coordinator, &merged).await;
    let (_, z_cursor, _) = w.pull_from(&fz, 0).await;

    let body = json!({ "households": [a.id], "group": "z", "dry_run": false });
    let _: AssignResponse = w.assign(&coordinator, body).await.json();
    let (pulled, _, _) = w.pull_from(&fz, z_cursor).await;
    let got = counts(&pulled);
    assert_eq!(
        (got.get(&a.id), got.get(&b.id)),
        (Some(&2), Some(&3)),
        "{got:?}"
    );
    assert_eq!(w.scope(&fz).await.households, sorted(vec![a.id, b.id]));
    assert!(w.scope(&fx).await.households.is_empty());
    assert_eq!(w.scope(&fy).await.households, vec![b.id]);
}

#[tokio::test]
async fn only_coordinators_and_supervisors_within_their_group_may_merge_or_undo() {
    let w = World::new();
    let fx = w.device("field", Some("x"));
    let sx = w.device("supervisor", Some("x"));
    let fy = w.device("field", Some("y"));
    let coordinator = w.device("coordinator", None);
    let mut a = w.registered(&fx, None).await;
    let mut c = w.registered(&fx, None).await;
    let b = w.registered(&fy, None).await;
    let version = w.storage.versions().expect("versions").scope;

    // A field worker may not, even within their own caseload; nothing is stored.
    let mut attempt = Household {
        id: c.id,
        doc: HouseholdDoc::load(&c.doc.save()).expect("a copy"),
    };
    let merged = merge(&mut attempt, &a, "x", &fx);
    let error = w
        .push(&fx, &merged)
        .await
        .error(StatusCode::FORBIDDEN, "merge_forbidden");
    assert_eq!(error.households, vec![c.id]);
    let (pulled, _, _) = w.pull_from(&sx, 0).await;
    assert_eq!(
        counts(&pulled).get(&c.id),
        Some(&2),
        "the merge was not stored"
    );
    assert!(w.audited(AuditAction::Merge).is_empty());

    // A supervisor may not merge a household of their group into another group's.
    let mut a_copy = Household {
        id: a.id,
        doc: HouseholdDoc::load(&a.doc.save()).expect("a copy"),
    };
    let across = merge(&mut a_copy, &b, "y", &sx);
    let error = w
        .push(&sx, &across)
        .await
        .error(StatusCode::FORBIDDEN, "merge_forbidden");
    assert_eq!(error.households, vec![a.id]);

    // Within the group they may, and undo it.
    let merged = merge(&mut c, &a, "x", &sx);
    w.push_ok(&sx, &merged).await;
    let undone = unmerge(&mut c, &sx);
    w.push_ok(&sx, &undone).await;
    assert_eq!(w.audited(AuditAction::Unmerge).len(), 2);
    assert_ne!(w.storage.versions().expect("versions").scope, version);

    // A field worker may not undo a merge either.
    let merged = merge(&mut c, &a, "x", &coordinator);
    w.push_ok(&coordinator, &merged).await;
    let undone = unmerge(&mut c, &fx);
    w.push(&fx, &undone)
        .await
        .error(StatusCode::FORBIDDEN, "merge_forbidden");

    // Into a household the server does not hold: refused as a document it will not store.
    let ghost = Household {
        id: Uuid::now_v7(),
        doc: HouseholdDoc::load(&a.doc.save()).expect("a copy"),
    };
    let mut d = w.registered(&fx, None).await;
    let dangling = merge(&mut d, &ghost, "x", &coordinator);
    let error = w
        .push(&coordinator, &dangling)
        .await
        .error(StatusCode::UNPROCESSABLE_ENTITY, "invalid_document");
    assert_eq!(error.households, vec![d.id]);
}

#[tokio::test]
async fn only_supervisors_and_coordinators_approve_or_return_visits() {
    let w = World::new();
    let fx = w.device("field", Some("x"));
    let sx = w.device("supervisor", Some("x"));
    let mut h = w.registered(&fx, None).await;
    let mut visit = None;
    let added = h.write(&fx, |doc, meta| {
        let new = madadkar_schema::NewVisit {
            date: chrono::NaiveDate::from_ymd_opt(2025, 10, 1).expect("date"),
            kind: madadkar_schema::VisitKind::Home,
            observations: String::new(),
            needs: Default::default(),
            followup_date: None,
        };
        visit = Some(doc.add_visit(&new, meta, Utc::now()).expect("visit"));
    });
    w.push_ok(&fx, &added).await;
    let visit = visit.expect("a visit");
    let step = |h: &mut Household, device: &Device, action| {
        h.write(device, |doc, meta| {
            doc.review_visit(visit, action, "نظر", None, meta, Utc::now())
                .expect("review step");
        })
    };

    // A field worker's own approval is refused, and not stored.
    let mut forged = Household {
        id: h.id,
        doc: HouseholdDoc::load(&h.doc.save()).expect("a copy"),
    };
    let approval = step(&mut forged, &fx, madadkar_schema::ReviewAction::Approved);
    let error = w
        .push(&fx, &approval)
        .await
        .error(StatusCode::FORBIDDEN, "review_forbidden");
    assert_eq!(error.households, vec![h.id]);

    // The supervisor returns it; the worker resubmits (a worker's step), the supervisor
    // approves.
    let returned = step(&mut h, &sx, madadkar_schema::ReviewAction::Returned);
    w.push_ok(&sx, &returned).await;
    let resubmitted = step(&mut h, &fx, madadkar_schema::ReviewAction::Resubmitted);
    w.push_ok(&fx, &resubmitted).await;
    let approved = step(&mut h, &sx, madadkar_schema::ReviewAction::Approved);
    w.push_ok(&sx, &approved).await;
}

#[tokio::test]
async fn only_supervisors_and_coordinators_confirm_a_graduation() {
    let w = World::new();
    let fx = w.device("field", Some("x"));
    let sx = w.device("supervisor", Some("x"));
    let mut h = w.registered(&fx, None).await;
    // A plan whose goal is met and two low assessments: the criteria hold.
    let planned = h.write(&fx, |doc, meta| {
        let goal = madadkar_schema::NewGoal {
            domain: madadkar_schema::GoalDomain::Income,
            title: "درآمد".into(),
        };
        let goal = doc.add_goal(&goal, meta, Utc::now()).expect("goal");
        let step = madadkar_schema::NewStep {
            what: "کارگاه".into(),
            owner: madadkar_schema::StepOwner::Household,
            partner: None,
            target_date: None,
        };
        let step = doc.add_step(goal, &step, meta, Utc::now()).expect("step");
        let done = madadkar_schema::StepUpdate {
            status: madadkar_schema::StepStatus::Done,
            comment: String::new(),
            visit_id: None,
        };
        doc.update_step(step, &done, meta, Utc::now())
            .expect("done");
        for day in [1, 20] {
            let visit = madadkar_schema::NewVisit {
                date: chrono::NaiveDate::from_ymd_opt(2025, 10, day).expect("date"),
                kind: madadkar_schema::VisitKind::Home,
                observations: String::new(),
                needs: [(madadkar_schema::NeedDomain::Income, 1)]
                    .into_iter()
                    .collect(),
                followup_date: None,
            };
            doc.add_visit(&visit, meta, Utc::now()).expect("visit");
        }
    });
    w.push_ok(&fx, &planned).await;

    // The field worker's own confirmation is refused and not stored.
    let mut forged = Household {
        id: h.id,
        doc: HouseholdDoc::load(&h.doc.save()).expect("a copy"),
    };
    let graduation = forged.write(&fx, |doc, meta| {
        doc.graduate("", meta, Utc::now())
            .expect("the criteria hold");
    });
    let error = w
        .push(&fx, &graduation)
        .await
        .error(StatusCode::FORBIDDEN, "graduation_forbidden");
    assert_eq!(error.households, vec![h.id]);

    // The supervisor's is accepted, and so is the field worker's later visit.
    let confirmed = h.write(&sx, |doc, meta| {
        doc.graduate("درآمد پایدار", meta, Utc::now())
            .expect("graduated");
    });
    w.push_ok(&sx, &confirmed).await;
}

#[tokio::test]
async fn a_field_worker_cannot_graduate_by_editing_the_status_or_loosen_the_criteria() {
    let w = World::new();
    let fx = w.device("field", Some("x"));
    let sx = w.device("supervisor", Some("x"));
    let mut h = w.registered(&fx, None).await;
    let mut forged = Household {
        id: h.id,
        doc: HouseholdDoc::load(&h.doc.save()).expect("a copy"),
    };
    // Written straight into the document, as another client could: the status alone.
    let status = forged.write(&fx, |doc, meta| {
        let message = serde_json::to_string(meta).expect("meta");
        let raw = doc.automerge();
        let household = match automerge::ReadDoc::get(raw, automerge::ROOT, "household") {
            Ok(Some((_, obj))) => obj,
            _ => panic!("no household map"),
        };
        automerge::transaction::Transactable::put(raw, &household, "status", "graduated")
            .expect("put");
        raw.commit_with(automerge::transaction::CommitOptions::default().with_message(message));
    });
    w.push(&fx, &status)
        .await
        .error(StatusCode::FORBIDDEN, "graduation_forbidden");
    // Looser criteria from a field worker: refused; from the supervisor: accepted.
    let mut forged = Household {
        id: h.id,
        doc: HouseholdDoc::load(&h.doc.save()).expect("a copy"),
    };
    let loose = madadkar_schema::GraduationCriteria {
        threshold: 4,
        visits: 1,
    };
    let criteria = forged.write(&fx, |doc, meta| {
        doc.set_criteria(loose, meta, Utc::now()).expect("criteria");
    });
    w.push(&fx, &criteria)
        .await
        .error(StatusCode::FORBIDDEN, "graduation_forbidden");
    let criteria = h.write(&sx, |doc, meta| {
        doc.set_criteria(loose, meta, Utc::now()).expect("criteria");
    });
    w.push_ok(&sx, &criteria).await;
}
