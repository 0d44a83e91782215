//! The `madadkar` binary against the real sync server binary: enrolment of a new replica, sync
//! state as a person reads it, and a demo that must not reach a real server by accident.
//!
//! Needs the server built first: `cargo build -p madadkar-server --bins`.

use std::path::Path;

use madadkar_e2e::Server;
use serde_json::Value;

mod common;
use common::madadkar;

fn ok(dir: &Path, args: &[&str]) -> String {
    let out = madadkar(dir, args);
    assert!(
        out.status.success(),
        "madadkar {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("utf-8")
}

fn json(dir: &Path, args: &[&str]) -> Value {
    let mut all = vec!["--json"];
    all.extend_from_slice(args);
    serde_json::from_str(&ok(dir, &all)).expect("JSON output")
}

/// A server with one group and a field worker in it; returns the server and the worker's id.
fn server_with_worker(name: &str) -> (Server, String) {
    let server = Server::start().expect("start the server (cargo build -p madadkar-server)");
    server.add_group("g1").expect("group");
    let worker = server
        .add_worker(name, Some("g1"), "field")
        .expect("worker");
    (server, worker)
}

#[test]
fn enrolling_a_new_replica_sets_it_up_as_the_servers_worker() {
    let (server, worker) = server_with_worker("مریم احمدی");
    let dir = tempfile::tempdir().expect("tempdir");
    let code = server.enroll_code(&worker).expect("code");
    let said = ok(
        dir.path(),
        &[
            "enroll",
            "--server",
            &server.url,
            "--code",
            &code,
            "--device",
            "tablet-3",
        ],
    );
    assert!(said.contains("enrolled as مریم احمدی"), "{said}");

    let status = json(dir.path(), &["status"]);
    assert_eq!(status["identity"]["worker_id"], worker.as_str());
    assert_eq!(status["identity"]["worker_name"], "مریم احمدی");
    assert_eq!(status["identity"]["device_name"], "tablet-3");
    assert_eq!(status["sync"]["enrolled"], true);

    // The new replica works and syncs as that worker.
    ok(
        dir.path(),
        &[
            "household",
            "add",
            "--first",
            "علی",
            "--last",
            "کریمی",
            "--national-id",
            "0499370899",
            "--district",
            "منطقه ۳",
            "--address",
            "کوچه یاس",
            "--group",
            "g1",
        ],
    );
    let synced = json(dir.path(), &["sync"]);
    assert_eq!(synced["pushed"], 1, "the new household: {synced}");
    // Its first sync: pushed first, then the scope's households whole (the one it just sent).
    assert_eq!(synced["documents_received"], 1, "{synced}");
    assert_eq!(synced["first_sync_fallback"], Value::Null, "{synced}");
    let text = ok(dir.path(), &["status"]);
    let last = text
        .lines()
        .find_map(|l| l.strip_prefix("last sync: "))
        .expect("a last sync line");
    assert!(
        last.starts_with("14") && last.len() == "1405-09-03 10:31".len() && !last.contains('T'),
        "a Jalali date and time, not ISO: {last:?}"
    );
    let history = json(dir.path(), &["household", "list"]);
    let id = history["items"][0]["id"].as_str().expect("id");
    assert_eq!(
        json(dir.path(), &["history", id])[0]["worker_id"],
        worker.as_str()
    );
}

#[test]
fn enrolling_a_new_replica_without_a_device_name_uses_the_host_name() {
    let (server, worker) = server_with_worker("رضا");
    let dir = tempfile::tempdir().expect("tempdir");
    let code = server.enroll_code(&worker).expect("code");
    ok(
        dir.path(),
        &["enroll", "--server", &server.url, "--code", &code],
    );
    let device = json(dir.path(), &["status"])["identity"]["device_name"].clone();
    assert!(device.as_str().is_some_and(|d| !d.is_empty()), "{device}");
}

#[test]
fn a_failed_enrolment_leaves_a_new_replica_unset() {
    let (server, _) = server_with_worker("رضا");
    let dir = tempfile::tempdir().expect("tempdir");
    let out = madadkar(
        dir.path(),
        &[
            "enroll",
            "--server",
            &server.url,
            "--code",
            "wrong",
            "--device",
            "x",
        ],
    );
    assert!(!out.status.success());
    let status = json(dir.path(), &["status"]);
    assert_eq!(status["identity"], Value::Null);
    assert_eq!(status["sync"]["enrolled"], false);
}

#[test]
fn demo_refuses_an_enrolled_replica_unless_allowed() {
    let (server, worker) = server_with_worker("مریم احمدی");
    let dir = tempfile::tempdir().expect("tempdir");
    let code = server.enroll_code(&worker).expect("code");
    ok(
        dir.path(),
        &[
            "enroll",
            "--server",
            &server.url,
            "--code",
            &code,
            "--device",
            "d",
        ],
    );

    let refused = madadkar(dir.path(), &["demo", "--households", "3"]);
    assert!(!refused.status.success(), "demo on an enrolled replica");
    let err = String::from_utf8(refused.stderr).expect("utf-8");
    assert!(
        err.contains("--allow-on-enrolled") && err.contains(&server.url),
        "{err}"
    );
    assert_eq!(json(dir.path(), &["household", "list"])["total"], 0);
    assert_eq!(json(dir.path(), &["status"])["sync"]["pending_changes"], 0);

    ok(
        dir.path(),
        &["demo", "--households", "3", "--allow-on-enrolled"],
    );
    assert_eq!(json(dir.path(), &["household", "list"])["total"], 3);
}

#[test]
fn an_initialised_replica_keeps_its_device_and_refuses_another_name() {
    let (server, worker) = server_with_worker("مریم احمدی");
    let dir = tempfile::tempdir().expect("tempdir");
    ok(
        dir.path(),
        &["init", "--worker", "مریم", "--device", "laptop-7"],
    );
    let device_id = json(dir.path(), &["status"])["identity"]["device_id"].clone();
    let code = server.enroll_code(&worker).expect("code");
    let renamed = madadkar(
        dir.path(),
        &[
            "enroll",
            "--server",
            &server.url,
            "--code",
            &code,
            "--device",
            "tablet",
        ],
    );
    assert!(!renamed.status.success(), "a second device name is refused");
    assert!(String::from_utf8_lossy(&renamed.stderr).contains("device name"));
    ok(
        dir.path(),
        &["enroll", "--server", &server.url, "--code", &code],
    );
    let status = json(dir.path(), &["status"]);
    assert_eq!(status["identity"]["device_id"], device_id);
    assert_eq!(status["identity"]["device_name"], "laptop-7");
    assert_eq!(status["identity"]["worker_id"], worker.as_str());
}
