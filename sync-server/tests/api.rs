//! The HTTP API in process: the router over a real SQLite storage in a temporary directory,
//! called with `tower::ServiceExt::oneshot`. Every error answer must be the JSON error body.

mod common;

use std::sync::Arc;

use axum::{
    Router,
    body::Body,
    http::{Method, Request, StatusCode, header},
};
use madadkar_schema::wire::{
    self, EnrollResponse, ErrorBody, PROTOCOL_HEADER, PROTOCOL_VERSION, PullBatch, PushResponse,
    WireChange,
};
use madadkar_server::{
    AppState, Limits, admin, router,
    storage::{Storage, sqlite::SqliteStorage},
};
use tower::ServiceExt;
use uuid::Uuid;

use common::Device;

struct Api {
    _dir: tempfile::TempDir,
    storage: Arc<SqliteStorage>,
    router: Router,
}

/// A call's status, protocol header and body.
struct Answer {
    status: StatusCode,
    protocol: Option<String>,
    body: Vec<u8>,
}

impl Answer {
    fn expect_error(&self, status: StatusCode, code: &str) -> ErrorBody {
        let error = common::expect_error(self.status, &self.body, status, code);
        assert!(!error.message.is_empty());
        error
    }
}

impl Api {
    fn new() -> Self {
        let dir = tempfile::tempdir().expect("tempdir");
        let storage =
            Arc::new(SqliteStorage::open(&dir.path().join("server.sqlite3")).expect("storage"));
        let router = router(Arc::new(AppState::new(storage.clone(), Limits::default())));
        Self {
            _dir: dir,
            storage,
            router,
        }
    }

    async fn call(&self, request: Request<Body>) -> Answer {
        let response = self
            .router
            .clone()
            .oneshot(request)
            .await
            .expect("infallible");
        let status = response.status();
        let protocol = response
            .headers()
            .get(PROTOCOL_HEADER)
            .map(|v| v.to_str().expect("ascii").to_string());
        let body = axum::body::to_bytes(response.into_body(), usize::MAX)
            .await
            .expect("body")
            .to_vec();
        Answer {
            status,
            protocol,
            body,
        }
    }

    async fn send(
        &self,
        method: Method,
        uri: &str,
        token: Option<&str>,
        content_type: Option<&str>,
        body: Vec<u8>,
    ) -> Answer {
        let mut request = Request::builder().method(method).uri(uri);
        if let Some(token) = token {
            request = request.header(header::AUTHORIZATION, format!("Bearer {token}"));
        }
        if let Some(content_type) = content_type {
            request = request.header(header::CONTENT_TYPE, content_type);
        }
        self.call(request.body(Body::from(body)).expect("request"))
            .await
    }

    async fn get(&self, uri: &str, token: Option<&str>) -> Answer {
        self.send(Method::GET, uri, token, None, vec![]).await
    }

    async fn post_json(&self, uri: &str, body: &serde_json::Value) -> Answer {
        let bytes = serde_json::to_vec(body).expect("json");
        self.send(Method::POST, uri, None, Some("application/json"), bytes)
            .await
    }

    /// Creates a worker of `role` in group `g1` and enrols a device for it.
    async fn enrolled(&self, role: &str) -> Device {
        if self.storage.groups().expect("groups").is_empty() {
            admin::add_group(self.storage.as_ref(), "g1", "one").expect("group");
        }
        let worker =
            admin::add_worker(self.storage.as_ref(), "w", Some("g1"), role).expect("worker");
        let code = admin::issue_enroll_code(self.storage.as_ref(), &worker.id, 1).expect("code");
        let id = Uuid::now_v7();
        let answer = self
            .post_json(
                "/v1/enroll",
                &serde_json::json!({ "code": code.code, "device_id": id, "device_name": "laptop" }),
            )
            .await;
        assert_eq!(answer.status, StatusCode::OK);
        let enrolled: EnrollResponse = serde_json::from_slice(&answer.body).expect("enrolment");
        Device {
            id,
            worker_id: worker.id,
            token: enrolled.token,
        }
    }
}

#[tokio::test]
async fn health_answers_ok_and_names_the_protocol() {
    let api = Api::new();
    let answer = api.get("/v1/health", None).await;
    assert_eq!(answer.status, StatusCode::OK);
    assert_eq!(answer.protocol, Some(PROTOCOL_VERSION.to_string()));
    let body: serde_json::Value = serde_json::from_slice(&answer.body).expect("json");
    assert_eq!(body["status"], "ok");
    assert_eq!(body["protocol"], PROTOCOL_VERSION);
}

#[tokio::test]
async fn enrolling_with_a_bad_code_is_a_json_error() {
    let api = Api::new();
    let answer = api
        .post_json(
            "/v1/enroll",
            &serde_json::json!({ "code": "AAAA-BBBB-CCCC", "device_id": Uuid::now_v7(), "device_name": "laptop" }),
        )
        .await;
    let error = answer.expect_error(StatusCode::BAD_REQUEST, "invalid_code");
    assert!(!error.retry);
    assert_eq!(
        answer.protocol,
        Some(PROTOCOL_VERSION.to_string()),
        "errors name the protocol too"
    );
}

#[tokio::test]
async fn a_request_without_or_with_an_unknown_token_is_401_json() {
    let api = Api::new();
    api.get("/v1/pull?after=0", None)
        .await
        .expect_error(StatusCode::UNAUTHORIZED, "unauthorized");
    api.get("/v1/whoami", Some(&"0".repeat(64)))
        .await
        .expect_error(StatusCode::UNAUTHORIZED, "unauthorized");
    api.send(Method::POST, "/v1/push", None, None, wire::encode_push(&[]))
        .await
        .expect_error(StatusCode::UNAUTHORIZED, "unauthorized");
}

#[tokio::test]
async fn a_revoked_device_is_refused_on_its_next_request() {
    let api = Api::new();
    let device = api.enrolled("field").await;
    assert_eq!(
        api.get("/v1/whoami", Some(&device.token)).await.status,
        StatusCode::OK
    );
    api.storage
        .revoke_device(device.id, chrono::Utc::now())
        .expect("revoke");
    api.get("/v1/whoami", Some(&device.token))
        .await
        .expect_error(StatusCode::FORBIDDEN, "device_revoked");
    api.get("/v1/pull?after=0", Some(&device.token))
        .await
        .expect_error(StatusCode::FORBIDDEN, "device_revoked");
}

// One case per malformed body; long because each case is a request and its expected answer.
#[tokio::test]
async fn malformed_json_bodies_are_json_errors() {
    let api = Api::new();
    let syntax = api
        .send(
            Method::POST,
            "/v1/enroll",
            None,
            Some("application/json"),
            b"{not json".to_vec(),
        )
        .await;
    syntax.expect_error(StatusCode::BAD_REQUEST, "malformed_body");
    api.post_json("/v1/enroll", &serde_json::json!({ "code": 5 }))
        .await
        .expect_error(StatusCode::UNPROCESSABLE_ENTITY, "malformed_body");
    api.send(Method::POST, "/v1/enroll", None, None, b"{}".to_vec())
        .await
        .expect_error(StatusCode::UNSUPPORTED_MEDIA_TYPE, "wrong_content_type");
}

#[tokio::test]
async fn malformed_queries_paths_and_frames_are_json_errors() {
    let api = Api::new();
    let device = api.enrolled("field").await;
    let token = Some(device.token.as_str());
    api.get("/v1/pull?after=yesterday", token)
        .await
        .expect_error(StatusCode::BAD_REQUEST, "malformed_request");
    api.send(
        Method::POST,
        "/v1/households/not-a-uuid/sync",
        token,
        None,
        vec![],
    )
    .await
    .expect_error(StatusCode::BAD_REQUEST, "malformed_request");
    api.send(Method::POST, "/v1/push", token, None, b"JUNK".to_vec())
        .await
        .expect_error(StatusCode::BAD_REQUEST, "malformed_body");
}

#[tokio::test]
async fn a_body_over_the_limit_is_413_json() {
    let api = Api::new();
    let device = api.enrolled("field").await;
    let huge = vec![0u8; wire::MAX_BODY_BYTES + 1];
    api.send(Method::POST, "/v1/push", Some(&device.token), None, huge)
        .await
        .expect_error(StatusCode::PAYLOAD_TOO_LARGE, "too_large");
}

#[tokio::test]
async fn unknown_routes_and_methods_are_json_errors() {
    let api = Api::new();
    let answer = api.get("/v2/pull", None).await;
    answer.expect_error(StatusCode::NOT_FOUND, "unknown_endpoint");
    assert_eq!(answer.protocol, Some(PROTOCOL_VERSION.to_string()));
    api.get("/v1/push", None)
        .await
        .expect_error(StatusCode::METHOD_NOT_ALLOWED, "method_not_allowed");
}

#[tokio::test]
async fn a_pushed_change_reaches_the_supervisor_but_not_back_its_author() {
    let api = Api::new();
    let field = api.enrolled("field").await;
    let supervisor = api.enrolled("supervisor").await;
    let change = field.new_household();
    let pushed = api
        .send(
            Method::POST,
            "/v1/push",
            Some(&field.token),
            Some(wire::CHANGES_CONTENT_TYPE),
            wire::encode_push(std::slice::from_ref(&change)),
        )
        .await;
    assert_eq!(
        pushed.status,
        StatusCode::OK,
        "{}",
        String::from_utf8_lossy(&pushed.body)
    );
    let response: PushResponse = serde_json::from_slice(&pushed.body).expect("push answer");
    assert_eq!(response.accepted.len(), 1);
    let seq = response.accepted[0].seq;

    let pulled = api.get("/v1/pull?after=0", Some(&supervisor.token)).await;
    assert_eq!(pulled.status, StatusCode::OK);
    let batch = PullBatch::decode(&pulled.body).expect("pull body");
    assert_eq!(batch.changes, vec![WireChange { seq, ..change }]);
    assert!(!batch.more);

    let own = api.get("/v1/pull?after=0", Some(&field.token)).await;
    let own = PullBatch::decode(&own.body).expect("pull body");
    assert!(own.changes.is_empty(), "the author has its own change");
    assert_eq!(own.next_cursor, batch.next_cursor);
}
