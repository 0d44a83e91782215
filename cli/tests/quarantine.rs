//! `madadkar quarantine`: a household whose pulled changes cannot be applied is listed with the
//! reason after a sync that went on without it. The server is a small scripted one on
//! 127.0.0.1 that sends one change that is no Automerge change.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::path::Path;

use madadkar_schema::wire::{PROTOCOL_HEADER, PROTOCOL_VERSION, PullBatch, WireChange};
use serde_json::Value;
use uuid::Uuid;

mod common;
use common::madadkar;

/// Enrols anyone; every pull answers one junk change for `household`, then nothing new.
fn server(household: Uuid) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let url = format!("http://{}", listener.local_addr().expect("addr"));
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(stream) = stream else { continue };
            let mut reader = BufReader::new(stream);
            let mut line = String::new();
            let _ = reader.read_line(&mut line);
            let path = line.split_whitespace().nth(1).unwrap_or("/").to_string();
            let mut length = 0;
            loop {
                let mut header = String::new();
                if reader.read_line(&mut header).is_err() || header.trim().is_empty() {
                    break;
                }
                if let Some((name, value)) = header.split_once(':')
                    && name.eq_ignore_ascii_case("content-length")
                {
                    length = value.trim().parse().unwrap_or(0);
                }
            }
            let mut body = vec![0; length];
            let _ = reader.read_exact(&mut body);
            let answer = if path == "/v1/enroll" {
                serde_json::json!({
                    "token": "t", "worker_id": "w1", "worker_name": "زهرا",
                    "group_id": "g1", "role": "supervisor"
                })
                .to_string()
                .into_bytes()
            } else if path == "/v1/pull?after=0" {
                PullBatch {
                    next_cursor: 1,
                    more: false,
                    changes: vec![WireChange {
                        household,
                        seq: 1,
                        bytes: b"not a change".to_vec(),
                    }],
                }
                .encode()
            } else {
                PullBatch {
                    next_cursor: 1,
                    more: false,
                    changes: vec![],
                }
                .encode()
            };
            let mut stream = reader.into_inner();
            let _ = write!(
                stream,
                "HTTP/1.1 200 OK\r\n{PROTOCOL_HEADER}: {PROTOCOL_VERSION}\r\ncontent-length: {}\r\nconnection: close\r\n\r\n",
                answer.len()
            );
            let _ = stream.write_all(&answer);
        }
    });
    url
}

fn ok(dir: &Path, args: &[&str]) -> String {
    let out = madadkar(dir, args);
    assert!(
        out.status.success(),
        "madadkar {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("utf-8")
}

#[test]
fn a_household_set_aside_by_sync_is_listed_with_its_reason() {
    let household = Uuid::now_v7();
    let url = server(household);
    let dir = tempfile::tempdir().expect("tempdir");
    ok(
        dir.path(),
        &["init", "--worker", "زهرا", "--device", "laptop-7"],
    );
    assert!(ok(dir.path(), &["quarantine"]).contains("no household is set aside"));
    ok(
        dir.path(),
        &["enroll", "--server", &url, "--code", "AAAA-BBBB-CCCC"],
    );

    let said = ok(dir.path(), &["sync"]);
    assert!(said.contains("1 households could not be applied"), "{said}");
    let listed: Value =
        serde_json::from_str(&ok(dir.path(), &["--json", "quarantine"])).expect("JSON");
    let items = listed.as_array().expect("a list");
    assert_eq!(items.len(), 1);
    assert_eq!(items[0]["household"], household.to_string());
    assert_eq!(items[0]["changes"], 1);
    assert_eq!(items[0]["has_local_copy"], false);
    assert!(
        items[0]["reason"]
            .as_str()
            .is_some_and(|r| r.contains("not an Automerge change")),
        "{listed}"
    );
    let text = ok(dir.path(), &["quarantine"]);
    assert!(text.contains(&household.to_string()), "{text}");
    assert!(text.contains("never applied on this replica"), "{text}");
}
