//! How sync failures are told apart, against small HTTP servers on 127.0.0.1: only a server
//! that cannot be reached is `Network` ("offline", retried); a server that answers garbage or
//! speaks another protocol version is an error of its own that waiting does not cure.

mod common;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};

use common::Replica;
use madadkar_client::StoreError;
use madadkar_schema::wire::{PROTOCOL_HEADER, PROTOCOL_VERSION};

/// One scripted answer: status line, protocol version header (if any), body.
struct Answer {
    status: &'static str,
    protocol: Option<String>,
    body: Vec<u8>,
}

/// Serves every request with `answer(path)` from a thread, one request per connection; returns
/// the base URL.
fn fake_server(answer: impl Fn(&str) -> Answer + Send + 'static) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let url = format!("http://{}", listener.local_addr().expect("addr"));
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(stream) = stream else { continue };
            let _ = respond(stream, &answer);
        }
    });
    url
}

fn respond(stream: TcpStream, answer: &impl Fn(&str) -> Answer) -> std::io::Result<()> {
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
    let a = answer(&path);
    let mut out = format!(
        "HTTP/1.1 {}\r\ncontent-length: {}\r\nconnection: close\r\n",
        a.status,
        a.body.len()
    );
    if let Some(version) = a.protocol {
        out.push_str(&format!("{PROTOCOL_HEADER}: {version}\r\n"));
    }
    out.push_str("\r\n");
    let mut stream = reader.into_inner();
    stream.write_all(out.as_bytes())?;
    stream.write_all(&a.body)?;
    stream.flush()
}

fn ours() -> Option<String> {
    Some(PROTOCOL_VERSION.to_string())
}

/// A server of our version that enrols anyone and answers `garbage` everywhere else.
fn enrolling_server() -> String {
    fake_server(|path| {
        if path == "/v1/enroll" {
            let body = serde_json::json!({
                "token": "t", "worker_id": "w1", "worker_name": "زهرا", "group_id": "g1",
                "role": "field"
            });
            Answer {
                status: "200 OK",
                protocol: ours(),
                body: body.to_string().into_bytes(),
            }
        } else {
            Answer {
                status: "200 OK",
                protocol: ours(),
                body: b"<html>garbage</html>".to_vec(),
            }
        }
    })
}

fn enrolled() -> (Replica, String) {
    let mut r = Replica::new("زهرا");
    let url = enrolling_server();
    r.store.enroll(&url, "AAAA-BBBB-CCCC", None).expect("enrol");
    (r, url)
}

#[test]
fn a_garbage_answer_is_a_protocol_error_not_offline() {
    let (mut r, _url) = enrolled();
    let err = r.store.sync(None).expect_err("garbage cannot sync");
    assert!(matches!(err, StoreError::Protocol { .. }), "{err:?}");
    assert!(!err.is_retryable());
    let status = r.store.sync_status().expect("status");
    assert_eq!(status.last_error, Some(err.to_string()));
}

#[test]
fn a_server_of_another_protocol_version_is_a_version_error() {
    let newer = fake_server(|_| Answer {
        status: "404 Not Found",
        protocol: Some("2".into()),
        body: br#"{"code":"unknown_endpoint","message":"no /v1 here","retry":false}"#.to_vec(),
    });
    let (mut r, _url) = enrolled();
    let err = r.store.sync(Some(&newer)).expect_err("another version");
    match &err {
        StoreError::ServerVersion { server, client } => {
            assert_eq!((server.as_str(), *client), ("2", PROTOCOL_VERSION));
        }
        other => panic!("expected a version error, got {other:?}"),
    }
    assert!(!err.is_retryable());

    // Enrolment with such a server says the same, even on a success status.
    let newer_ok = fake_server(|_| Answer {
        status: "200 OK",
        protocol: Some("2".into()),
        body: b"{}".to_vec(),
    });
    let mut fresh = Replica::new("مریم");
    let err = fresh
        .store
        .enroll(&newer_ok, "AAAA-BBBB-CCCC", None)
        .expect_err("another version");
    assert!(matches!(err, StoreError::ServerVersion { .. }), "{err:?}");
}

#[test]
fn a_closed_port_is_a_network_error() {
    let closed = {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
        format!("http://{}", listener.local_addr().expect("addr"))
    };
    let (mut r, _url) = enrolled();
    let err = r.store.sync(Some(&closed)).expect_err("nobody listens");
    assert!(matches!(err, StoreError::Network { .. }), "{err:?}");
    assert!(err.is_retryable());
}

/// A server that reads the request and answers `raw` bytes, then hangs up.
fn raw_server(raw: &'static [u8]) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let url = format!("http://{}", listener.local_addr().expect("addr"));
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            let mut buf = [0u8; 4096];
            let _ = stream.read(&mut buf);
            let _ = stream.write_all(raw);
        }
    });
    url
}

#[test]
fn an_answer_that_is_not_http_is_a_protocol_error() {
    let (mut r, _url) = enrolled();
    let ssh = raw_server(b"SSH-2.0-OpenSSH_9.6\r\n");
    let err = r.store.sync(Some(&ssh)).expect_err("not HTTP");
    assert!(matches!(err, StoreError::Protocol { .. }), "{err:?}");
    assert!(!err.is_retryable());
}

#[test]
fn a_connection_cut_mid_answer_is_a_network_error() {
    let (mut r, _url) = enrolled();
    let hangs_up = raw_server(b"");
    let err = r.store.sync(Some(&hangs_up)).expect_err("no answer");
    assert!(matches!(err, StoreError::Network { .. }), "{err:?}");
    let cut = raw_server(b"HTTP/1.1 200 OK\r\ncontent-length: 100\r\n\r\nabc");
    let err = r.store.sync(Some(&cut)).expect_err("cut short");
    assert!(matches!(err, StoreError::Network { .. }), "{err:?}");
    assert!(err.is_retryable());
}
