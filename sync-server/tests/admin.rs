//! The administration commands of the built `madadkar-server` binary, including bad input.

use std::process::{Command, Output};

fn run(dir: &std::path::Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_madadkar-server"))
        .arg("--data-dir")
        .arg(dir)
        .args(args)
        .output()
        .expect("run madadkar-server")
}

fn ok(dir: &std::path::Path, args: &[&str]) -> serde_json::Value {
    let mut all = vec!["--json"];
    all.extend_from_slice(args);
    let out = run(dir, &all);
    assert!(
        out.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("json")
}

fn fails(dir: &std::path::Path, args: &[&str]) -> String {
    let out = run(dir, args);
    assert!(!out.status.success(), "{args:?} should fail");
    String::from_utf8_lossy(&out.stderr).into_owned()
}

#[test]
fn groups_workers_codes_and_devices() {
    let dir = tempfile::tempdir().expect("tempdir");
    let d = dir.path();
    ok(
        d,
        &["group", "add", "jihadi-3", "--name", "گروه جهادی شهید همت"],
    );
    let worker = ok(
        d,
        &[
            "worker",
            "add",
            "زهرا رضایی",
            "--group",
            "jihadi-3",
            "--role",
            "field",
        ],
    );
    let id = worker["id"].as_str().expect("id");
    let code = ok(d, &["enroll-code", id, "--hours", "2"]);
    assert_eq!(code["code"].as_str().expect("code").len(), 14);
    assert_eq!(
        ok(d, &["group", "list"]).as_array().expect("groups").len(),
        1
    );
    assert_eq!(ok(d, &["worker", "list"])[0]["role"], "field");
    assert_eq!(ok(d, &["device", "list"]), serde_json::json!([]));
    let household = uuid::Uuid::now_v7().to_string();
    ok(
        d,
        &[
            "household",
            "assign",
            &household,
            "--group",
            "jihadi-3",
            "--worker",
            id,
        ],
    );
}

#[test]
fn bad_admin_input_is_refused_clearly() {
    let dir = tempfile::tempdir().expect("tempdir");
    let d = dir.path();
    ok(d, &["group", "add", "g1", "--name", "one"]);
    assert!(fails(d, &["group", "add", "g1", "--name", "again"]).contains("already exists"));
    assert!(fails(d, &["group", "add", "bad id!", "--name", "x"]).contains("group id"));
    assert!(
        fails(d, &["worker", "add", "x", "--role", "boss"])
            .contains("field, supervisor, coordinator, admin")
    );
    assert!(fails(d, &["worker", "add", "x", "--role", "field"]).contains("needs --group"));
    assert!(fails(d, &["worker", "add", "x", "--group", "nope"]).contains("group"));
    assert!(fails(d, &["enroll-code", "no-such-worker"]).contains("worker"));
    assert!(
        fails(d, &["device", "revoke", &uuid::Uuid::now_v7().to_string()]).contains("not found")
    );
    let h = uuid::Uuid::now_v7().to_string();
    assert!(fails(d, &["household", "assign", &h, "--group", "nope"]).contains("group"));
    let other = ok(d, &["worker", "add", "y", "--group", "g1"]);
    ok(d, &["group", "add", "g2", "--name", "two"]);
    let wrong = fails(
        d,
        &[
            "household",
            "assign",
            &h,
            "--group",
            "g2",
            "--worker",
            other["id"].as_str().expect("id"),
        ],
    );
    assert!(wrong.contains("not in group"), "{wrong}");
    let settings = d.join("bad.json");
    std::fs::write(&settings, "{\"listen\": 5}").expect("write");
    assert!(
        fails(d, &["--config", settings.to_str().expect("path"), "init"])
            .contains("not a valid settings file")
    );
}
