//! Server hygiene: enrolment rate limits and lockout, per-device push quotas, slow and idle
//! connections dropped (over real TCP connections to a served API), and the OpenAPI
//! description, which must match the committed `docs/openapi.json`
//! (`MADADKAR_WRITE_OPENAPI=1 cargo test -p madadkar-server --test hygiene openapi` rewrites it).

mod common;

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::{
    Router,
    body::Body,
    extract::ConnectInfo,
    http::{Method, Request, StatusCode, header},
};
use chrono::Utc;
use madadkar_schema::wire::{self, ErrorBody, WireChange};
use madadkar_server::{
    AppState, Guards, Limits, admin,
    storage::{PushQuota, Storage, sqlite::SqliteStorage},
};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tower::ServiceExt;
use uuid::Uuid;

use common::Device;

const REGENERATE: &str =
    "MADADKAR_WRITE_OPENAPI=1 cargo test -p madadkar-server --test hygiene openapi";

/// A database in a temporary directory with group `g1`.
struct Server {
    dir: tempfile::TempDir,
    storage: Arc<SqliteStorage>,
}

impl Server {
    fn new() -> Self {
        let dir = tempfile::tempdir().expect("tempdir");
        let storage = Arc::new(SqliteStorage::open(&Self::db(dir.path())).expect("storage"));
        admin::add_group(storage.as_ref(), "g1", "one").expect("group");
        Self { dir, storage }
    }

    /// The database file, where `madadkar-server --data-dir DIR` looks for it.
    fn db(dir: &Path) -> PathBuf {
        dir.join(madadkar_server::config::DATABASE_FILE)
    }

    fn router(&self, guards: Guards) -> Router {
        madadkar_server::router(Arc::new(AppState::with_guards(
            self.storage.clone(),
            Limits::default(),
            guards,
        )))
    }

    /// A one-time enrolment code for a new field worker.
    fn code(&self) -> String {
        let worker =
            admin::add_worker(self.storage.as_ref(), "w", Some("g1"), "field").expect("worker");
        admin::issue_enroll_code(self.storage.as_ref(), &worker.id, 1)
            .expect("code")
            .code
    }

    /// A field worker's enrolled device, made through the storage (not the rate-limited API).
    fn device(&self) -> Device {
        common::enrolled_device(self.storage.as_ref(), "field", Some("g1"))
    }
}

/// A call's status, headers and body.
struct Answer {
    status: StatusCode,
    headers: axum::http::HeaderMap,
    body: Vec<u8>,
}

impl Answer {
    fn error(&self, status: StatusCode, code: &str) -> ErrorBody {
        common::expect_error(self.status, &self.body, status, code)
    }

    /// `Retry-After` in seconds.
    fn retry_after(&self) -> u64 {
        self.headers
            .get(header::RETRY_AFTER)
            .expect("a Retry-After header")
            .to_str()
            .expect("ascii")
            .parse()
            .expect("seconds")
    }
}

async fn call(router: &Router, request: Request<Body>) -> Answer {
    let response = router.clone().oneshot(request).await.expect("infallible");
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

/// `POST /v1/enroll` with `code`, from `peer` (as served: `ConnectInfo`), optionally through a
/// proxy that names `forwarded_for`.
async fn enroll(
    router: &Router,
    peer: Option<&str>,
    forwarded_for: Option<&str>,
    code: &str,
) -> Answer {
    let body =
        serde_json::json!({ "code": code, "device_id": Uuid::now_v7(), "device_name": "laptop" });
    let mut request = Request::builder()
        .method(Method::POST)
        .uri("/v1/enroll")
        .header(header::CONTENT_TYPE, "application/json");
    if let Some(xff) = forwarded_for {
        request = request.header("x-forwarded-for", xff);
    }
    let mut request = request
        .body(Body::from(serde_json::to_vec(&body).expect("json")))
        .expect("request");
    if let Some(peer) = peer {
        let addr: SocketAddr = peer.parse().expect("address");
        request.extensions_mut().insert(ConnectInfo(addr));
    }
    call(router, request).await
}

fn enroll_guards(per_source: u32, global: u32, failures: u32) -> Guards {
    let mut g = Guards::default();
    g.enroll.per_source_per_minute = per_source;
    g.enroll.global_per_minute = global;
    g.enroll.lockout_failures = failures;
    g
}

#[tokio::test]
async fn enrolment_attempts_from_one_source_are_limited_with_retry_after() {
    let server = Server::new();
    let router = server.router(enroll_guards(3, 1000, 1000));
    for _ in 0..3 {
        enroll(&router, Some("192.0.2.1:5000"), None, "AAAA-BBBB-CCCC")
            .await
            .error(StatusCode::BAD_REQUEST, "invalid_code");
    }
    // Even a good code waits its turn: the limit is on attempts, not on failures.
    let limited = enroll(&router, Some("192.0.2.1:5001"), None, &server.code()).await;
    let error = limited.error(StatusCode::TOO_MANY_REQUESTS, "rate_limited");
    assert!(error.retry);
    // Three in any minute: the next one when the first leaves the minute, a minute after it.
    let wait = limited.retry_after();
    assert!((58..=60).contains(&wait), "{wait}");
    assert_eq!(
        limited.headers[wire::PROTOCOL_HEADER],
        wire::PROTOCOL_VERSION.to_string().as_str()
    );
    // Another source is not held back.
    let other = enroll(&router, Some("192.0.2.2:5000"), None, &server.code()).await;
    assert_eq!(other.status, StatusCode::OK);
}

#[tokio::test]
async fn repeated_wrong_codes_lock_the_source_out() {
    let server = Server::new();
    let router = server.router(enroll_guards(1000, 1000, 5));
    for _ in 0..5 {
        enroll(&router, Some("192.0.2.1:5000"), None, "AAAA-BBBB-CCCC")
            .await
            .error(StatusCode::BAD_REQUEST, "invalid_code");
    }
    let locked = enroll(&router, Some("192.0.2.1:5000"), None, &server.code()).await;
    let error = locked.error(StatusCode::TOO_MANY_REQUESTS, "rate_limited");
    assert!(error.message.contains("wrong"), "{}", error.message);
    // The default lockout: a quarter of an hour.
    let wait = locked.retry_after();
    assert!((14 * 60..=15 * 60).contains(&wait), "{wait}");
    let other = enroll(&router, Some("192.0.2.9:5000"), None, &server.code()).await;
    assert_eq!(other.status, StatusCode::OK);
}

#[tokio::test]
async fn the_global_cap_holds_many_sources_back() {
    let server = Server::new();
    let router = server.router(enroll_guards(1000, 4, 1000));
    for i in 0..4 {
        let peer = format!("198.51.100.{i}:5000");
        enroll(&router, Some(&peer), None, "AAAA-BBBB-CCCC")
            .await
            .error(StatusCode::BAD_REQUEST, "invalid_code");
    }
    let limited = enroll(&router, Some("198.51.100.99:5000"), None, &server.code()).await;
    limited.error(StatusCode::TOO_MANY_REQUESTS, "rate_limited");
    // Four in any minute, from all sources together: the first leaves the minute in 60 s.
    let wait = limited.retry_after();
    assert!((58..=60).contains(&wait), "{wait}");
}

#[tokio::test]
async fn forwarded_for_counts_only_behind_a_trusted_proxy() {
    let server = Server::new();
    let mut guards = enroll_guards(1, 1000, 1000);
    guards.enroll.trusted_proxies = vec!["10.0.0.1".parse().expect("ip")];
    let router = server.router(guards);
    // Through the trusted proxy, two clients are two sources.
    let via = Some("10.0.0.1:40000");
    for client in ["203.0.113.1", "203.0.113.2"] {
        enroll(&router, via, Some(client), "AAAA-BBBB-CCCC")
            .await
            .error(StatusCode::BAD_REQUEST, "invalid_code");
    }
    enroll(&router, via, Some("203.0.113.1"), "AAAA-BBBB-CCCC")
        .await
        .error(StatusCode::TOO_MANY_REQUESTS, "rate_limited");
    // A client that writes the header itself changes nothing.
    let direct = Some("192.0.2.50:1234");
    enroll(&router, direct, Some("203.0.113.77"), "AAAA-BBBB-CCCC")
        .await
        .error(StatusCode::BAD_REQUEST, "invalid_code");
    enroll(&router, direct, Some("203.0.113.78"), "AAAA-BBBB-CCCC")
        .await
        .error(StatusCode::TOO_MANY_REQUESTS, "rate_limited");
}

#[tokio::test]
async fn without_a_peer_address_all_attempts_share_one_bucket() {
    let server = Server::new();
    let router = server.router(enroll_guards(2, 1000, 1000));
    for _ in 0..2 {
        enroll(&router, None, None, "AAAA-BBBB-CCCC")
            .await
            .error(StatusCode::BAD_REQUEST, "invalid_code");
    }
    enroll(&router, None, None, &server.code())
        .await
        .error(StatusCode::TOO_MANY_REQUESTS, "rate_limited");
}

async fn push(router: &Router, device: &Device, changes: &[WireChange]) -> Answer {
    let request = Request::builder()
        .method(Method::POST)
        .uri("/v1/push")
        .header(header::AUTHORIZATION, format!("Bearer {}", device.token))
        .header(header::CONTENT_TYPE, wire::CHANGES_CONTENT_TYPE)
        .body(Body::from(wire::encode_push(changes)))
        .expect("request");
    call(router, request).await
}

#[tokio::test]
async fn a_device_over_its_daily_push_quota_is_refused_until_it_resets() {
    let server = Server::new();
    let guards = Guards {
        push_quota: PushQuota {
            bytes: 64 * 1024 * 1024,
            changes: 3,
        },
        ..Guards::default()
    };
    let router = server.router(guards.clone());
    let device = server.device();
    let first = [device.new_household(), device.new_household()];
    assert_eq!(push(&router, &device, &first).await.status, StatusCode::OK);
    // A push the server refuses costs nothing.
    let mut bad = device.new_household();
    bad.bytes = vec![1, 2, 3];
    push(&router, &device, &[bad])
        .await
        .error(StatusCode::BAD_REQUEST, "malformed_change");
    let over = [device.new_household(), device.new_household()];
    let refused = push(&router, &device, &over).await;
    let error = refused.error(StatusCode::TOO_MANY_REQUESTS, "quota_exceeded");
    assert!(error.retry);
    assert!(
        error.message.contains("fits again at"),
        "the message names when the quota resets: {}",
        error.message
    );
    let wait = refused.retry_after();
    assert!((23 * 3600..=24 * 3600).contains(&wait), "{wait}");
    // Nothing of the refused push was stored; one more change still fits.
    assert_eq!(
        push(&router, &device, &over[..1]).await.status,
        StatusCode::OK
    );
    // The count is in the database: a restarted server still refuses.
    drop(router);
    let reopened = Arc::new(SqliteStorage::open(&Server::db(server.dir.path())).expect("reopen"));
    let router = madadkar_server::router(Arc::new(AppState::with_guards(
        reopened,
        Limits::default(),
        guards,
    )));
    push(&router, &device, &over[1..])
        .await
        .error(StatusCode::TOO_MANY_REQUESTS, "quota_exceeded");
    // Other devices have quotas of their own.
    let colleague = server.device();
    assert_eq!(
        push(&router, &colleague, &[colleague.new_household()])
            .await
            .status,
        StatusCode::OK
    );
}

#[test]
fn the_admin_device_list_shows_push_usage() {
    let server = Server::new();
    let device = server.device();
    let amount = madadkar_server::storage::PushUsage {
        bytes: 3 * 1024 * 1024,
        changes: 42,
    };
    server
        .storage
        .charge_push(device.id, amount, PushQuota::default(), Utc::now())
        .expect("charge");
    let run = |json: bool| {
        let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_madadkar-server"));
        command.arg("--data-dir").arg(server.dir.path());
        if json {
            command.arg("--json");
        }
        let out = command.args(["device", "list"]).output().expect("run");
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).expect("utf-8")
    };
    let text = run(false);
    assert!(
        text.contains("pushed in 24 h: 3.0 MiB of 64.0 MiB, 42 of 20000 changes"),
        "{text}"
    );
    let json: serde_json::Value = serde_json::from_str(&run(true)).expect("json");
    assert_eq!(
        json[0]["pushed_last_24h"],
        serde_json::json!({ "bytes": 3 * 1024 * 1024, "changes": 42 })
    );
    assert_eq!(json[0]["id"], device.id.to_string());
}

/// The API served on a loopback port with `timeouts` (everything else default); the server
/// stops when the returned sender is dropped.
async fn served(
    timeouts: madadkar_server::serve::Timeouts,
) -> (SocketAddr, Server, tokio::sync::oneshot::Sender<()>) {
    let server = Server::new();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("address");
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let guards = Guards {
        timeouts,
        ..Guards::default()
    };
    tokio::spawn(madadkar_server::serve_with(
        listener,
        server.storage.clone(),
        Limits::default(),
        guards,
        async {
            let _ = stopped.await;
        },
    ));
    (addr, server, stop)
}

fn timeouts(
    header: u64,
    body: u64,
    request: u64,
    keep_alive: u64,
) -> madadkar_server::serve::Timeouts {
    madadkar_server::serve::Timeouts {
        header: Duration::from_millis(header),
        body: Duration::from_millis(body),
        request: Duration::from_millis(request),
        keep_alive: Duration::from_millis(keep_alive),
    }
}

/// Reads until the server closes the connection (or `within` passes: then panics), returning
/// what it sent and how long the close took.
async fn read_until_closed(stream: &mut TcpStream, within: Duration) -> (Vec<u8>, Duration) {
    let start = Instant::now();
    let mut received = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        match tokio::time::timeout_at((start + within).into(), stream.read(&mut buf)).await {
            Err(_) => panic!(
                "the server kept the connection open for {within:?} (received {:?})",
                String::from_utf8_lossy(&received)
            ),
            Ok(Ok(0)) | Ok(Err(_)) => return (received, start.elapsed()),
            Ok(Ok(n)) => received.extend_from_slice(&buf[..n]),
        }
    }
}

#[tokio::test]
async fn slowloris_half_a_header_is_cut_at_the_header_timeout() {
    let (addr, _server, _stop) = served(timeouts(500, 30_000, 60_000, 30_000)).await;
    let mut stream = TcpStream::connect(addr).await.expect("connect");
    stream
        .write_all(b"GET /v1/health HTTP/1.1\r\nHost: x\r\nX-Slow: ")
        .await
        .expect("write");
    let (received, took) = read_until_closed(&mut stream, Duration::from_secs(5)).await;
    assert!(
        received.is_empty(),
        "{:?}",
        String::from_utf8_lossy(&received)
    );
    assert!(took >= Duration::from_millis(400), "{took:?}");
}

#[tokio::test]
async fn a_header_sent_a_byte_at_a_time_is_cut_too() {
    let (addr, _server, _stop) = served(timeouts(800, 30_000, 60_000, 30_000)).await;
    let mut stream = TcpStream::connect(addr).await.expect("connect");
    let start = Instant::now();
    // Each byte arrives well within the timeout; the head as a whole does not.
    for byte in b"GET /v1/health HTTP/1.1\r\nHost: xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx" {
        if stream.write_all(&[*byte]).await.is_err() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
        if start.elapsed() > Duration::from_secs(5) {
            panic!("still writing after 5 s");
        }
    }
    let (_, took) = read_until_closed(&mut stream, Duration::from_secs(5)).await;
    assert!(start.elapsed() < Duration::from_secs(3), "{took:?}");
}

#[tokio::test]
async fn an_idle_connection_is_closed_and_a_kept_alive_one_after_its_timeout() {
    let (addr, _server, _stop) = served(timeouts(500, 30_000, 60_000, 1_000)).await;
    // A connection that never sends anything: the header timeout.
    let mut silent = TcpStream::connect(addr).await.expect("connect");
    let (_, took) = read_until_closed(&mut silent, Duration::from_secs(5)).await;
    assert!(took < Duration::from_secs(2), "{took:?}");
    // A kept-alive connection after an answer: the keep-alive timeout, not the header one.
    let mut kept = TcpStream::connect(addr).await.expect("connect");
    kept.write_all(b"GET /v1/health HTTP/1.1\r\nHost: x\r\n\r\n")
        .await
        .expect("write");
    let mut buf = [0u8; 4096];
    let n = kept.read(&mut buf).await.expect("read");
    assert!(
        buf[..n].starts_with(b"HTTP/1.1 200"),
        "{:?}",
        String::from_utf8_lossy(&buf[..n])
    );
    let (_, took) = read_until_closed(&mut kept, Duration::from_secs(5)).await;
    assert!(
        took >= Duration::from_millis(800) && took < Duration::from_secs(3),
        "{took:?}"
    );
}

/// Sends a POST whose body trickles a byte every 100 ms, and returns the answer and when the
/// connection closed.
async fn trickle_post(addr: SocketAddr) -> (String, Duration) {
    let mut stream = TcpStream::connect(addr).await.expect("connect");
    stream
        .write_all(
            b"POST /v1/enroll HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 1000000\r\n\r\n{",
        )
        .await
        .expect("write");
    let start = Instant::now();
    let (reader, mut writer) = stream.into_split();
    let trickle = tokio::spawn(async move {
        while writer.write_all(b" ").await.is_ok() {
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    });
    let mut reader = reader;
    let mut received = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        match tokio::time::timeout(Duration::from_secs(10), reader.read(&mut buf)).await {
            Err(_) => panic!("a trickled body kept the connection open for 10 s"),
            Ok(Ok(0)) | Ok(Err(_)) => break,
            Ok(Ok(n)) => received.extend_from_slice(&buf[..n]),
        }
    }
    trickle.abort();
    (
        String::from_utf8_lossy(&received).into_owned(),
        start.elapsed(),
    )
}

/// The JSON error body at the end of a raw HTTP answer.
fn raw_error(answer: &str) -> ErrorBody {
    let body = answer.split("\r\n\r\n").nth(1).unwrap_or_default();
    serde_json::from_str(body).unwrap_or_else(|e| panic!("{answer:?}: {e}"))
}

#[tokio::test]
async fn a_trickled_body_is_cut_at_the_body_timeout_with_a_json_408() {
    let (addr, _server, _stop) = served(timeouts(5_000, 1_000, 30_000, 30_000)).await;
    let (answer, took) = trickle_post(addr).await;
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer:?}");
    assert!(
        answer.to_ascii_lowercase().contains("connection: close"),
        "{answer:?}"
    );
    let error = raw_error(&answer);
    assert_eq!(error.code, "body_timeout");
    assert!(error.retry);
    assert!(took < Duration::from_secs(4), "{took:?}");
}

#[tokio::test]
async fn a_request_over_the_request_timeout_is_answered_503_and_closed() {
    let (addr, _server, _stop) = served(timeouts(5_000, 30_000, 1_000, 30_000)).await;
    let (answer, took) = trickle_post(addr).await;
    assert!(answer.starts_with("HTTP/1.1 503"), "{answer:?}");
    assert_eq!(raw_error(&answer).code, "request_timeout");
    assert!(took < Duration::from_secs(4), "{took:?}");
}

#[tokio::test]
async fn served_requests_still_work_and_carry_the_peer_address() {
    let (addr, server, _stop) = served(timeouts(5_000, 5_000, 5_000, 5_000)).await;
    let code = server.code();
    let body =
        serde_json::json!({ "code": code, "device_id": Uuid::now_v7(), "device_name": "laptop" })
            .to_string();
    let mut stream = TcpStream::connect(addr).await.expect("connect");
    let request = format!(
        "POST /v1/enroll HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    stream.write_all(request.as_bytes()).await.expect("write");
    let (answer, _) = read_until_closed(&mut stream, Duration::from_secs(5)).await;
    let answer = String::from_utf8_lossy(&answer);
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer:?}");
}

fn committed_openapi() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../docs/openapi.json")
}

#[test]
fn openapi_is_committed() {
    let generated = madadkar_server::api::openapi::json();
    let path = committed_openapi();
    if std::env::var_os("MADADKAR_WRITE_OPENAPI").is_some_and(|v| v == "1") {
        std::fs::write(&path, generated).expect("write docs/openapi.json");
        return;
    }
    let committed = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("{}: {e}; run {REGENERATE}", path.display()));
    assert!(
        committed == generated,
        "docs/openapi.json differs from the API's description; run {REGENERATE} and commit it"
    );
}

#[tokio::test]
async fn openapi_is_served_and_names_only_routes_that_exist() {
    let server = Server::new();
    let router = server.router(Guards::default());
    let request = Request::get("/v1/openapi.json")
        .body(Body::empty())
        .expect("request");
    let answer = call(&router, request).await;
    assert_eq!(answer.status, StatusCode::OK);
    assert_eq!(
        answer.body,
        madadkar_server::api::openapi::json().as_bytes()
    );
    assert_eq!(answer.headers[header::CONTENT_TYPE], "application/json");
    // Each described operation reaches a handler (not the unknown-route or wrong-method answer).
    for (method, path) in madadkar_server::api::openapi::operations_described() {
        let uri = path.replace("{id}", &Uuid::now_v7().to_string());
        let method = match method {
            "get" => Method::GET,
            "post" => Method::POST,
            other => panic!("{other} {path}: the API has only GET and POST"),
        };
        let request = Request::builder()
            .method(method.clone())
            .uri(&uri)
            .body(Body::empty())
            .expect("request");
        let answer = call(&router, request).await;
        assert!(
            answer.status != StatusCode::NOT_FOUND
                && answer.status != StatusCode::METHOD_NOT_ALLOWED,
            "{method} {uri}: {}",
            answer.status
        );
    }
}
