//! The built `madadkar` binary end to end on real data directories, including bad input, which
//! must exit non-zero with a clear message and write nothing.

use std::path::Path;
use std::process::Output;

use serde_json::Value;

mod common;

struct Cli {
    dir: tempfile::TempDir,
}

impl Cli {
    fn new() -> Self {
        let cli = Self {
            dir: tempfile::tempdir().expect("tempdir"),
        };
        cli.ok(&["init", "--worker", "زهرا رضایی", "--device", "laptop-7"]);
        cli
    }

    /// The demo's partner directory (`scripts/demo-partners.json`), for `partners --import`.
    fn demo_partners(&self) -> String {
        concat!(env!("CARGO_MANIFEST_DIR"), "/../scripts/demo-partners.json").to_string()
    }

    fn run(&self, args: &[&str]) -> Output {
        self.run_in(self.dir.path(), args)
    }

    fn run_in(&self, dir: &Path, args: &[&str]) -> Output {
        common::madadkar(dir, args)
    }

    fn ok(&self, args: &[&str]) -> String {
        let out = self.run(args);
        assert!(
            out.status.success(),
            "madadkar {args:?} failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).expect("utf-8")
    }

    fn json(&self, args: &[&str]) -> Value {
        let mut all = vec!["--json"];
        all.extend_from_slice(args);
        serde_json::from_str(&self.ok(&all)).expect("JSON output")
    }

    /// Runs a command that must fail; returns its error message.
    fn fails(&self, args: &[&str]) -> String {
        let out = self.run(args);
        assert!(!out.status.success(), "madadkar {args:?} should fail");
        String::from_utf8(out.stderr).expect("utf-8")
    }

    fn add_household(&self, first: &str, last: &str, nid: &str) -> String {
        let v = self.json(&[
            "household",
            "add",
            "--first",
            first,
            "--last",
            last,
            "--national-id",
            nid,
            "--district",
            "منطقه ۳",
            "--address",
            "کوچه یاس، پلاک ۴",
            "--phone",
            "۰۹۱۲۱۲۳۴۵۶۷",
        ]);
        v["id"].as_str().expect("id").to_string()
    }

    /// The database file's bytes (the WAL is folded in first), to prove nothing was written.
    fn snapshot(&self) -> String {
        let show = self.ok(&["--json", "household", "list", "--limit", "1000"]);
        let history: Vec<String> = serde_json::from_str::<Value>(&show).expect("json")["items"]
            .as_array()
            .expect("items")
            .iter()
            .map(|h| self.ok(&["--json", "history", h["id"].as_str().expect("id")]))
            .collect();
        format!("{show}{}", history.join(""))
    }
}

// A story test: long because each command uses what the one before it printed.
#[test]
fn register_visit_and_show_as_json() {
    let cli = Cli::new();
    let h = cli.add_household("علی", "کریمی", "0499370899");
    cli.ok(&[
        "member",
        "add",
        &h,
        "--first",
        "مریم",
        "--last",
        "کریمی",
        "--relation",
        "spouse",
        "--national-id",
        "0010000011",
        "--birth-date",
        "1365-02-10",
    ]);
    cli.ok(&[
        "member",
        "add",
        &h,
        "--first",
        "حسین",
        "--last",
        "کریمی",
        "--relation",
        "child",
        "--birth-date",
        "2012-05-01",
    ]);
    cli.ok(&[
        "member",
        "add",
        &h,
        "--first",
        "فاطمه",
        "--last",
        "کریمی",
        "--relation",
        "فرزند",
        "--national-id",
        "0000000140",
    ]);
    let visit = cli.json(&[
        "visit",
        "add",
        &h[..8],
        "--date",
        "1404-07-01",
        "--kind",
        "home",
        "--observations",
        "اجاره سه ماه عقب افتاده",
        "--need",
        "income=4",
        "--need",
        "مسکن=۳",
        "--followup",
        "1404-07-20",
    ]);
    let visit_id = visit["id"].as_str().expect("visit id");
    cli.ok(&["partners", "--import", &cli.demo_partners()]);
    let referral = cli.json(&[
        "referral",
        "add",
        &h,
        "--kind",
        "bank_loan",
        "--partner",
        "bank-melli-enghelab",
        "--visit",
        &visit_id[..13],
        "--date",
        "1404-07-01",
    ]);
    cli.ok(&[
        "referral",
        "update",
        &referral["id"].as_str().expect("id")[..13],
        "--state",
        "approved",
        "--date",
        "1404-07-10",
    ]);

    let shown = cli.json(&["household", "show", &h]);
    assert_eq!(shown["id"], h.as_str());
    assert_eq!(shown["members"].as_array().expect("members").len(), 4);
    assert_eq!(shown["visits"].as_array().expect("visits").len(), 1);
    assert_eq!(
        shown["visits"][0]["date"], "2025-09-23",
        "1404-07-01 is 23 September 2025"
    );
    assert_eq!(shown["visits"][0]["needs"]["housing"], 3);
    assert_eq!(
        shown["phone"], "09121234567",
        "Persian digits stored as Latin"
    );
    assert_eq!(
        shown["referrals"][0]["history"]
            .as_array()
            .expect("history")
            .len(),
        2
    );
    assert_eq!(shown["conflicts"], Value::Array(vec![]));

    let text = cli.ok(&["household", "show", &h]);
    assert!(
        text.contains("1404-07-01") && text.contains("مریم کریمی"),
        "{text}"
    );
    let history = cli.json(&["history", &h]);
    assert_eq!(history.as_array().expect("history").len(), 7);
    assert_eq!(history[0]["action"], "household.create");
    assert_eq!(history[0]["worker_name"], "زهرا رضایی");
    assert!(cli.ok(&["check"]).contains("ok"));
}

#[test]
fn search_finds_arabic_spellings_and_list_filters() {
    let cli = Cli::new();
    let h = cli.add_household("علی", "کریمی", "0499370899");
    cli.add_household("کاظم", "یزدانی", "0010000011");
    let found = cli.json(&["household", "search", "علي", "كريمي"]);
    assert_eq!(found.as_array().expect("array").len(), 1);
    assert_eq!(found[0]["id"], h.as_str());
    let by_phone = cli.json(&["household", "search", "1234567"]);
    assert_eq!(by_phone.as_array().expect("array").len(), 2);
    cli.ok(&[
        "household",
        "edit",
        &h,
        "--district",
        "نعمت‌آباد",
        "--status",
        "suspended",
    ]);
    let listed = cli.json(&["household", "list", "--district", "نعمت‌آباد"]);
    assert_eq!(listed["total"], 1);
    let suspended = cli.json(&["household", "list", "--status", "suspended"]);
    assert_eq!(suspended["items"][0]["id"], h.as_str());
}

#[test]
fn followups_show_due_and_overdue() {
    let cli = Cli::new();
    let h = cli.add_household("علی", "کریمی", "0499370899");
    cli.ok(&[
        "visit",
        "add",
        &h,
        "--date",
        "2025-01-01",
        "--followup",
        "2025-01-10",
    ]);
    let f = cli.json(&["followups", "--today", "2025-01-15"]);
    assert_eq!(f[0]["overdue"], true);
    assert_eq!(f[0]["days_left"], -5);
    let none = cli.json(&["followups", "--today", "2024-12-01", "--within", "3"]);
    assert_eq!(none, Value::Array(vec![]));
}

// One case per refused input; long because each is a command line and its expected message.
#[test]
fn bad_input_fails_clearly_and_writes_nothing() {
    let cli = Cli::new();
    let h = cli.add_household("علی", "کریمی", "0499370899");
    let before = cli.snapshot();
    let cases: Vec<(Vec<&str>, &str)> = vec![
        (
            vec![
                "household",
                "add",
                "--first",
                "a",
                "--last",
                "b",
                "--national-id",
                "0499370898",
                "--district",
                "d",
                "--address",
                "x",
            ],
            "check digit",
        ),
        (
            vec![
                "household",
                "add",
                "--first",
                "a",
                "--last",
                "b",
                "--national-id",
                "12345",
                "--district",
                "d",
                "--address",
                "x",
            ],
            "10 digits",
        ),
        (
            vec![
                "household",
                "add",
                "--first",
                "a",
                "--last",
                "b",
                "--national-id",
                "0010000011",
                "--district",
                " ",
                "--address",
                "x",
            ],
            "district: required",
        ),
        (
            vec!["visit", "add", &h, "--date", "1403-13-01"],
            "not a valid Jalali date",
        ),
        (
            vec!["visit", "add", &h, "--date", "yesterday"],
            "not a date",
        ),
        (
            vec![
                "visit",
                "add",
                &h,
                "--date",
                "2025-01-01",
                "--need",
                "income=7",
            ],
            "out of range",
        ),
        (
            vec!["visit", "add", &h, "--kind", "email"],
            "home, phone, office",
        ),
        (
            vec![
                "visit",
                "add",
                "0000dead-0000-7000-8000-000000000000",
                "--date",
                "2025-01-01",
            ],
            "no household",
        ),
        (
            vec!["visit", "add", "zzzz", "--date", "2025-01-01"],
            "no household",
        ),
        (
            vec![
                "member",
                "add",
                &h,
                "--first",
                "x",
                "--last",
                "y",
                "--relation",
                "child",
                "--national-id",
                "0499370899",
            ],
            "head of this household",
        ),
        (
            vec!["member", "add", &h, "--first", "x", "--last", "y"],
            "--relation is required",
        ),
        (vec!["household", "edit", &h, "--phone", "call me"], "phone"),
        (
            vec!["conflicts", "resolve", &h, "household.phone", "--pick", "1"],
            "no conflicting values",
        ),
        (
            vec!["referral", "update", "0123", "--state", "approved"],
            "no referral",
        ),
    ];
    for (args, expected) in cases {
        let err = cli.fails(&args);
        assert!(
            err.contains(expected),
            "madadkar {args:?}: expected {expected:?} in {err:?}"
        );
    }
    let bundle = cli.dir.path().join("junk.bundle");
    std::fs::write(&bundle, b"MADADKAR-BUNDLE\n\x01\x05\x00\x00\x00garbage").expect("write");
    let err = cli.fails(&["bundle", "import", bundle.to_str().expect("path")]);
    assert!(err.contains("bundle"), "{err}");
    assert_eq!(cli.snapshot(), before, "a failed command changed the store");
    assert!(cli.ok(&["check"]).contains("ok"));
}

#[test]
fn commands_before_init_say_what_to_do() {
    let dir = tempfile::tempdir().expect("tempdir");
    let cli = Cli { dir };
    let err = cli.fails(&[
        "household",
        "add",
        "--first",
        "a",
        "--last",
        "b",
        "--national-id",
        "0499370899",
        "--district",
        "d",
        "--address",
        "x",
    ]);
    assert!(err.contains("madadkar init"), "{err}");
}

#[test]
fn two_replicas_exchange_bundles_and_resolve_a_conflict() {
    let a = Cli::new();
    let b = Cli::new();
    let h = a.add_household("علی", "کریمی", "0499370899");
    let to_b = a.dir.path().join("a.bundle");
    a.ok(&["bundle", "export", to_b.to_str().expect("path")]);
    let imported = b.json(&["bundle", "import", to_b.to_str().expect("path")]);
    assert_eq!(imported["households_new"], 1);

    a.ok(&["household", "edit", &h, "--phone", "09121111111"]);
    b.ok(&["household", "edit", &h, "--phone", "09122222222"]);
    let to_a = b.dir.path().join("b.bundle");
    b.ok(&["bundle", "export", to_a.to_str().expect("path")]);
    a.ok(&["bundle", "import", to_a.to_str().expect("path")]);

    let conflicts = a.json(&["conflicts"]);
    assert_eq!(conflicts[0]["household_id"], h.as_str());
    let values = conflicts[0]["conflicts"][0]["values"]
        .as_array()
        .expect("values");
    assert_eq!(values.len(), 2);
    assert!(
        values
            .iter()
            .all(|v| v["worker_name"] == "زهرا رضایی" && v["time"].is_string())
    );
    let shown = a.json(&["household", "show", &h]);
    assert_eq!(shown["conflicts"][0]["path"], "household.phone");

    let pick = values
        .iter()
        .position(|v| v["value"] == "09122222222")
        .expect("B's value")
        + 1;
    a.ok(&[
        "conflicts",
        "resolve",
        &h,
        "household.phone",
        "--pick",
        &pick.to_string(),
    ]);
    assert_eq!(a.json(&["conflicts"]), Value::Array(vec![]));
    a.ok(&["bundle", "export", to_b.to_str().expect("path")]);
    b.ok(&["bundle", "import", to_b.to_str().expect("path")]);
    let on_b = b.json(&["household", "show", &h]);
    assert_eq!(on_b["phone"], "09122222222");
    assert_eq!(on_b["conflicts"], Value::Array(vec![]));
}

#[test]
fn rebuild_index_and_demo() {
    let cli = Cli::new();
    cli.ok(&["demo", "--households", "12"]);
    assert_eq!(cli.json(&["household", "list"])["total"], 12);
    assert!(cli.ok(&["rebuild-index"]).contains("12 households"));
    assert!(cli.ok(&["compact"]).contains("compacted"));
    assert!(cli.ok(&["check"]).contains("ok"));
}

#[test]
fn status_shows_the_last_sync_as_a_jalali_local_time() {
    let cli = Cli::new();
    common::connection(cli.dir.path())
        .execute(
            "INSERT INTO meta (key, value) VALUES ('last_sync_at', ?)",
            ["2026-11-24T07:01:27.794525594+00:00"],
        )
        .expect("record a sync time");
    // Tehran's offset, +03:30 all year, as a POSIX TZ rule so no time zone database is needed.
    let out = common::command(cli.dir.path())
        .arg("status")
        .env("TZ", "<+0330>-03:30")
        .output()
        .expect("run madadkar");
    let text = String::from_utf8(out.stdout).expect("utf-8");
    assert!(
        text.contains("last sync: 1405-09-03 10:31\n"),
        "3 Azar 1405, 10:31 in Tehran: {text}"
    );
    let json = cli.json(&["status"]);
    assert_eq!(
        json["sync"]["last_sync_at"], "2026-11-24T07:01:27.794525594+00:00",
        "JSON keeps the ISO time"
    );
}

#[test]
fn demo_on_a_replica_that_was_never_enrolled_needs_no_flag() {
    let dir = tempfile::tempdir().expect("tempdir");
    let cli = Cli { dir };
    cli.ok(&["demo", "--households", "2"]);
    assert_eq!(cli.json(&["household", "list"])["total"], 2);
}
