//! End to end: `madadkar-load seed` fills a small database in a temporary directory, the real
//! `madadkar-server` binary serves it on a free loopback port, and `madadkar-load run` drives it
//! in every mode for about a second. Each mode must count something and fail nothing, and every
//! visit the runs report as pushed must then be on the server: a coordinator's device pulls the
//! log after the seeded part and finds exactly those visits, on the seeded households.
//!
//! Needs the server's binary built beside this test's (`cargo build -p madadkar-server`; CI
//! builds every binary first).

use std::collections::HashSet;
use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

use madadkar_schema::{Action, ChangeMeta, wire::PullBatch};
use serde_json::Value;
use uuid::Uuid;

/// The workspace's built binaries (`target/<profile>`), found from this test's executable
/// (`target/<profile>/deps/<test>`), as `tests/src/lib.rs` finds them.
fn bin_dir() -> PathBuf {
    let exe = std::env::current_exe().unwrap_or_default();
    let deps = exe.parent().map(PathBuf::from).unwrap_or_default();
    if deps.ends_with("deps") {
        deps.parent().map(PathBuf::from).unwrap_or(deps)
    } else {
        deps
    }
}

/// The real server on `data_dir`, killed when dropped.
struct Server {
    child: Child,
    url: String,
}

impl Server {
    fn start(data_dir: &Path) -> Self {
        let binary = bin_dir().join("madadkar-server");
        assert!(
            binary.exists(),
            "{} is missing: build it first (cargo build -p madadkar-server)",
            binary.display()
        );
        let mut child = Command::new(&binary)
            .arg("--data-dir")
            .arg(data_dir)
            .args(["serve", "--listen", "127.0.0.1:0"])
            .env("MADADKAR_LOG", "warn")
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("starting madadkar-server");
        let mut line = String::new();
        BufReader::new(child.stdout.take().expect("stdout"))
            .read_line(&mut line)
            .expect("the server's first line");
        let url = line
            .trim()
            .strip_prefix("listening on ")
            .unwrap_or_else(|| panic!("the server did not start: {line:?}"))
            .to_string();
        Self { child, url }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn load(args: &[&str]) -> String {
    let out = Command::new(env!("CARGO_BIN_EXE_madadkar-load"))
        .args(args)
        .output()
        .expect("running madadkar-load");
    assert!(
        out.status.success(),
        "madadkar-load {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn read_json(path: &Path) -> Value {
    serde_json::from_slice(&std::fs::read(path).expect("the report")).expect("JSON")
}

/// Every change after `after` that `token`'s device may see, pulled batch by batch.
fn pull_all(url: &str, token: &str, mut after: u64) -> Vec<(Uuid, Vec<u8>)> {
    let client = reqwest::blocking::Client::new();
    let mut out = Vec::new();
    loop {
        let mut response = client
            .get(format!("{url}/v1/pull?after={after}"))
            .bearer_auth(token)
            .send()
            .expect("a pull");
        assert!(response.status().is_success(), "{}", response.status());
        let mut body = Vec::new();
        response.read_to_end(&mut body).expect("the answer");
        let batch = PullBatch::decode(&body).expect("a batch");
        out.extend(batch.changes.into_iter().map(|c| (c.household, c.bytes)));
        after = batch.next_cursor;
        if !batch.more {
            return out;
        }
    }
}

#[test]
fn every_mode_runs_against_a_real_server_and_its_visits_are_stored() {
    let dir = tempfile::tempdir().expect("temp dir");
    let data = dir.path().join("server");
    let db = data.join("madadkar-server.sqlite3");
    let plan_path = dir.path().join("plan.json");
    let seeded = dir.path().join("seed.json");
    load(&[
        "seed",
        "--db",
        db.to_str().expect("a UTF-8 path"),
        "--households",
        "50",
        "--workers",
        "5",
        "--plan",
        plan_path.to_str().expect("a UTF-8 path"),
        "--json",
        seeded.to_str().expect("a UTF-8 path"),
    ]);
    let seed = read_json(&seeded);
    assert_eq!(seed["households"], 50);
    assert_eq!(seed["changes"], 200, "the head and three members each");
    let plan = read_json(&plan_path);
    let head_seq = plan["head_seq"].as_u64().expect("head_seq");
    let households: HashSet<Uuid> = plan["workers"]
        .as_array()
        .expect("workers")
        .iter()
        .flat_map(|w| w["households"].as_array().expect("households").clone())
        .map(|h| h.as_str().expect("an id").parse().expect("a UUID"))
        .collect();
    assert_eq!(households.len(), 50);

    let server = Server::start(&data);
    let mut pushed = 0u64;
    for mode in ["noop", "visit", "sync", "one-change"] {
        let report_path = dir.path().join(format!("{mode}.json"));
        let table = load(&[
            "run",
            "--server",
            &server.url,
            "--plan",
            plan_path.to_str().expect("a UTF-8 path"),
            "--workers",
            "5",
            "--mode",
            mode,
            "--duration",
            "1",
            "--repeat",
            "10",
            "--json",
            report_path.to_str().expect("a UTF-8 path"),
        ]);
        assert!(table.starts_with("| figure | value | target |"), "{table}");
        let report = read_json(&report_path);
        let count = report["summary"]["count"].as_u64().expect("count");
        assert!(count > 0, "{mode}: nothing was timed: {report}");
        assert_eq!(report["summary"]["errors"], 0, "{mode}: {report}");
        match mode {
            "visit" => pushed += report["parts"]["push"]["count"].as_u64().expect("pushes"),
            "sync" => {
                assert_eq!(count, 5, "every worker synced once");
                pushed += count;
            }
            "one-change" => {
                assert_eq!(count, 10);
                pushed += count;
            }
            _ => {}
        }
    }

    // The province office sees every household: after the seeded log, exactly the visits the
    // runs pushed, each on a seeded household.
    let token = plan["coordinator"]["token"].as_str().expect("token");
    let after_seed = pull_all(&server.url, token, head_seq);
    assert_eq!(after_seed.len() as u64, pushed);
    for (household, bytes) in &after_seed {
        assert!(households.contains(household));
        let change = madadkar_schema::change::parse_change(bytes).expect("a change");
        let meta: ChangeMeta =
            serde_json::from_str(change.message().expect("a message")).expect("its meta");
        assert_eq!(meta.action, Action::VisitAdd);
    }
    // The first worker's household grew by the visits pushed on it.
    let first: Uuid = plan["workers"][0]["households"][0]
        .as_str()
        .expect("an id")
        .parse()
        .expect("a UUID");
    assert!(after_seed.iter().any(|(h, _)| *h == first));
}
