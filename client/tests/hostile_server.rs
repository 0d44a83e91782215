//! A broken or hostile server cannot crash, hang or exhaust the client: small HTTP servers on
//! 127.0.0.1 answer what a hostile one would (a count of four billion changes, "more" without
//! end, a gzip bomb, a cursor that does not move), and plain `http://` to another machine is
//! refused before anything is sent.

mod common;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use common::Replica;
use madadkar_client::StoreError;
use madadkar_client::sync::{MAX_PULL_ROUNDS, check_server_url};
use madadkar_schema::wire::{
    BootstrapBatch, HouseholdSnapshot, MAX_ANSWER_BYTES, PROTOCOL_HEADER, PROTOCOL_VERSION,
    PullBatch,
};
use madadkar_schema::{Field, ValidationError};

/// One scripted answer: status line, extra headers, body.
struct Reply {
    status: &'static str,
    headers: Vec<(&'static str, String)>,
    body: Vec<u8>,
}

impl Reply {
    fn ok(body: Vec<u8>) -> Self {
        Self {
            status: "200 OK",
            headers: vec![],
            body,
        }
    }
}

/// What the server saw: every request's path, in order.
#[derive(Clone, Default)]
struct Seen(Arc<Mutex<Vec<String>>>);

impl Seen {
    fn paths(&self) -> Vec<String> {
        self.0.lock().map(|p| p.clone()).unwrap_or_default()
    }
}

/// Serves every request with `answer(path, n)` (n counts requests from 0), one request per
/// connection; enrols anyone on `/v1/enroll`, and answers a first sync (`/v1/bootstrap`) as a
/// server from before first syncs does (404 `unknown_endpoint`, neither seen nor counted).
/// Returns the base URL and what it saw.
fn hostile(answer: impl Fn(&str, usize) -> Reply + Send + 'static) -> (String, Seen) {
    serve(answer, false)
}

/// [`hostile`], answering first syncs with `answer` too.
fn hostile_first_sync(answer: impl Fn(&str, usize) -> Reply + Send + 'static) -> (String, Seen) {
    serve(answer, true)
}

fn serve(
    answer: impl Fn(&str, usize) -> Reply + Send + 'static,
    first_sync: bool,
) -> (String, Seen) {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let url = format!("http://{}", listener.local_addr().expect("addr"));
    let seen = Seen::default();
    let log = seen.clone();
    let count = AtomicUsize::new(0);
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(stream) = stream else { continue };
            let _ = respond(stream, &answer, &count, &log, first_sync);
        }
    });
    (url, seen)
}

fn respond(
    stream: TcpStream,
    answer: &impl Fn(&str, usize) -> Reply,
    count: &AtomicUsize,
    log: &Seen,
    first_sync: bool,
) -> std::io::Result<()> {
    let mut reader = BufReader::new(stream);
    let mut request_line = String::new();
    reader.read_line(&mut request_line)?;
    let path = request_line
        .split_whitespace()
        .nth(1)
        .unwrap_or("/")
        .to_string();
    let mut length = 0usize;
    loop {
        let mut line = String::new();
        reader.read_line(&mut line)?;
        if line.trim().is_empty() {
            break;
        }
        if let Some((name, value)) = line.split_once(':')
            && name.eq_ignore_ascii_case("content-length")
        {
            length = value.trim().parse().unwrap_or(0);
        }
    }
    let mut body = vec![0; length];
    reader.read_exact(&mut body)?;
    let reply = if path == "/v1/enroll" {
        let body = serde_json::json!({
            "token": "t", "worker_id": "w1", "worker_name": "زهرا", "group_id": "g1",
            "role": "field"
        });
        Reply::ok(body.to_string().into_bytes())
    } else if !first_sync && path.starts_with("/v1/bootstrap") {
        Reply {
            status: "404 Not Found",
            headers: vec![("content-type", "application/json".into())],
            body: br#"{"code":"unknown_endpoint","message":"no such endpoint","retry":false}"#
                .to_vec(),
        }
    } else {
        if let Ok(mut paths) = log.0.lock() {
            paths.push(path.clone());
        }
        answer(&path, count.fetch_add(1, Ordering::SeqCst))
    };
    let mut head = format!(
        "HTTP/1.1 {}\r\n{PROTOCOL_HEADER}: {PROTOCOL_VERSION}\r\nconnection: close\r\n",
        reply.status
    );
    if !reply.headers.iter().any(|(n, _)| *n == "content-length") {
        head.push_str(&format!("content-length: {}\r\n", reply.body.len()));
    }
    for (name, value) in &reply.headers {
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    head.push_str("\r\n");
    let mut stream = reader.into_inner();
    stream.write_all(head.as_bytes())?;
    stream.write_all(&reply.body)?;
    stream.flush()
}

/// The cursor a pull asked from (`/v1/pull?after=N`).
fn after(path: &str) -> u64 {
    path.split("after=")
        .nth(1)
        .and_then(|rest| rest.split('&').next())
        .and_then(|n| n.parse().ok())
        .unwrap_or(0)
}

fn batch(next_cursor: u64, more: bool) -> Vec<u8> {
    PullBatch {
        next_cursor,
        more,
        changes: vec![],
    }
    .encode()
}

fn enrolled_with(url: &str) -> Replica {
    let mut r = Replica::new("زهرا");
    r.store.enroll(url, "AAAA-BBBB-CCCC", None).expect("enrol");
    r
}

fn protocol_message(e: &StoreError) -> &str {
    match e {
        StoreError::Protocol { message } => message,
        other => panic!("expected a protocol error, got {other:?}"),
    }
}

#[test]
fn an_answer_announcing_four_billion_changes_is_refused_without_reserving_memory() {
    // 18 bytes: a cursor, "more", and a changes frame announcing 2^32 - 1 changes. Reserving
    // room for them would ask for about 200 GB and abort the process.
    let (url, _) = hostile(|_, _| {
        let mut body = 1u64.to_le_bytes().to_vec();
        body.push(0);
        body.extend_from_slice(b"MDKC\x01");
        body.extend_from_slice(&u32::MAX.to_le_bytes());
        Reply::ok(body)
    });
    let mut r = enrolled_with(&url);
    let err = r.store.sync(None).expect_err("a lying count");
    assert!(protocol_message(&err).contains("over the limit"), "{err}");
    assert_eq!(r.store.sync_status().expect("status").cursor, 0);
}

#[test]
fn a_server_announcing_more_without_end_is_left_after_a_bounded_number_of_rounds() {
    // Every batch moves the cursor by one and says more is waiting, as many times as the bound
    // allows; only then does it stop (so that a client without a bound fails this test rather
    // than hang it).
    let (url, seen) = hostile(|path, n| {
        let more = n < MAX_PULL_ROUNDS;
        Reply::ok(batch(after(path) + 1, more))
    });
    let mut r = enrolled_with(&url);
    let report = r.store.sync(None).expect("a bounded pull is no error");
    assert!(report.more_to_pull, "the report says more is waiting");
    // The pulls, and the first sync's one request that this (older) server refused.
    assert_eq!(report.requests, MAX_PULL_ROUNDS + 1);
    let cursor = r.store.sync_status().expect("status").cursor;
    assert_eq!(cursor, MAX_PULL_ROUNDS as u64);
    // The next sync goes on from where this one stopped.
    r.store.sync(None).expect("next sync");
    let paths = seen.paths();
    assert_eq!(
        paths[MAX_PULL_ROUNDS],
        format!("/v1/pull?after={MAX_PULL_ROUNDS}")
    );
}

#[test]
fn a_batch_that_does_not_move_the_cursor_forward_is_a_protocol_error() {
    // Stays put and says "more": asked again, it would answer the same for ever. (It gives up
    // after a while so that a client without the check fails this test, not hangs it.)
    let (url, seen) = hostile(|path, n| Reply::ok(batch(after(path), n < 200)));
    let mut r = enrolled_with(&url);
    let err = r.store.sync(None).expect_err("a cursor that stays put");
    assert!(protocol_message(&err).contains("does not move"), "{err}");
    assert_eq!(seen.paths().len(), 1, "asked once, not again and again");

    // Going backwards: the first sync reaches 10, the second is sent back to 5.
    let (url, _) = hostile(|_, n| Reply::ok(batch(if n == 0 { 10 } else { 5 }, false)));
    let mut r = enrolled_with(&url);
    r.store.sync(None).expect("first sync");
    assert_eq!(r.store.sync_status().expect("status").cursor, 10);
    let err = r.store.sync(None).expect_err("a cursor going back");
    assert!(
        protocol_message(&err).contains("back from 10 to 5"),
        "{err}"
    );
    assert_eq!(r.store.sync_status().expect("status").cursor, 10);

    // An empty batch that stays put is simply "nothing new".
    let (url, _) = hostile(|path, _| Reply::ok(batch(after(path), false)));
    let mut r = enrolled_with(&url);
    r.store.sync(None).expect("nothing new is fine");
}

#[test]
fn a_gzip_bomb_is_refused_within_the_limit() {
    // About a MiB that inflates past the limit: a valid pull header, then zeros.
    let inflated = MAX_ANSWER_BYTES + (1 << 20);
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    let mut header = 1u64.to_le_bytes().to_vec();
    header.push(0);
    encoder.write_all(&header).expect("gzip");
    let zeros = vec![0u8; 1 << 20];
    let mut written = header.len();
    while written < inflated {
        encoder.write_all(&zeros).expect("gzip");
        written += zeros.len();
    }
    let bomb = encoder.finish().expect("gzip");
    assert!(
        bomb.len() * 50 < inflated,
        "{} bytes compressed",
        bomb.len()
    );
    let bomb = Arc::new(bomb);
    let (url, _) = hostile(move |_, _| Reply {
        status: "200 OK",
        headers: vec![("content-encoding", "gzip".into())],
        body: bomb.to_vec(),
    });
    let mut r = enrolled_with(&url);
    let err = r.store.sync(None).expect_err("a bomb");
    let message = protocol_message(&err);
    assert!(
        message.contains("decompressed answer is over the limit"),
        "{message}"
    );
}

#[test]
fn an_answer_announcing_a_body_over_the_limit_is_refused_unread() {
    let (url, _) = hostile(|_, _| Reply {
        status: "200 OK",
        headers: vec![("content-length", (MAX_ANSWER_BYTES as u64 * 4).to_string())],
        body: vec![0; 64],
    });
    let mut r = enrolled_with(&url);
    let err = r.store.sync(None).expect_err("too large");
    assert!(protocol_message(&err).contains("over the limit"), "{err}");
}

#[test]
fn plain_http_to_another_machine_is_refused_before_anything_is_sent() {
    let refused = |e: StoreError| match e {
        StoreError::Invalid(ValidationError::Invalid { field, reason, .. }) => {
            assert_eq!(field, Field::Server);
            assert!(reason.contains("https://"), "{reason}");
        }
        other => panic!("expected the address refused, got {other:?}"),
    };
    let mut fresh = Replica::new("مریم");
    for remote in [
        "http://sync.example.invalid",
        "http://10.0.0.7:8737",
        "http://[2001:db8::1]:8737/",
        "ftp://sync.example.invalid",
    ] {
        refused(
            fresh
                .store
                .enroll(remote, "AAAA-BBBB-CCCC", None)
                .expect_err(remote),
        );
    }
    assert_eq!(fresh.store.sync_status().expect("status").server_url, None);

    // A sync to such an address, given or stored, is refused the same way.
    let (url, seen) = hostile(|path, _| Reply::ok(batch(after(path), false)));
    let mut r = enrolled_with(&url);
    refused(
        r.store
            .sync(Some("http://sync.example.invalid"))
            .expect_err("given"),
    );
    let conn = r.store.connection().expect("open");
    conn.execute(
        "UPDATE meta SET value = 'http://sync.example.invalid:8737' WHERE key = 'server_url'",
        [],
    )
    .expect("update");
    refused(r.store.sync(None).expect_err("stored"));
    assert!(seen.paths().is_empty(), "nothing was sent");

    // https anywhere, plain http to this machine only.
    for fine in [
        "https://sync.example.org",
        "https://10.0.0.7:8737/",
        "http://localhost:8737",
        "http://127.0.0.1:8737",
        "http://127.1.2.3",
        "http://[::1]:8737",
    ] {
        assert!(check_server_url(fine).is_ok(), "{fine}");
    }
}

fn garbage() -> Vec<u8> {
    b"MDKB garbage".to_vec()
}

fn out_of_order() -> Vec<u8> {
    let (a, b) = (uuid::Uuid::now_v7(), uuid::Uuid::now_v7());
    BootstrapBatch {
        head: 3,
        next: None,
        documents: [b, a]
            .into_iter()
            .map(|household| HouseholdSnapshot {
                household,
                through: 1,
                bytes: vec![],
            })
            .collect(),
    }
    .encode()
}

fn stuck() -> Vec<u8> {
    BootstrapBatch {
        head: 3,
        next: Some(uuid::Uuid::nil()),
        documents: vec![],
    }
    .encode()
}

#[test]
fn a_first_sync_answer_the_client_cannot_use_sends_it_down_the_log() {
    // Each time the first sync gives way to pulling the log from its start, which goes on.
    type Answer = fn() -> Vec<u8>;
    let cases: [(Answer, &str); 3] = [
        (garbage, "bad first-sync answer"),
        (out_of_order, "out of order"),
        (stuck, "does not move"),
    ];
    for (answer, why) in cases {
        let (url, seen) = hostile_first_sync(move |path, _| {
            if path.starts_with("/v1/bootstrap") {
                Reply::ok(answer())
            } else {
                Reply::ok(batch(7, false))
            }
        });
        let mut r = enrolled_with(&url);
        let report = r.store.sync(None).expect("the log goes on");
        let reason = report.first_sync_fallback.expect("the first sync gave way");
        assert!(reason.contains(why), "{reason}");
        assert_eq!(r.store.sync_status().expect("status").cursor, 7);
        let paths = seen.paths();
        assert_eq!(paths[0], "/v1/bootstrap");
        assert_eq!(paths[1], "/v1/pull?after=0");
    }
}
