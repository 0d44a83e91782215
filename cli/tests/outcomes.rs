//! `madadkar plan | goal | step | graduate | referrals | report` on a real store: a plan with a
//! step ticked on a visit, a refused graduation with its reasons, a referral moved along its
//! ledger, stalled referrals, and reports exported as CSV and XLSX and read back.

mod common;

use std::path::Path;

use serde_json::Value;

fn ok(dir: &Path, args: &[&str]) -> String {
    let out = common::madadkar(dir, args);
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

fn fails(dir: &Path, args: &[&str]) -> String {
    let out = common::madadkar(dir, args);
    assert!(!out.status.success(), "madadkar {args:?} should fail");
    String::from_utf8(out.stderr).expect("utf-8")
}

#[test]
fn a_plan_a_ledger_a_refused_graduation_and_reports_exported() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let dir = tmp.path();
    ok(
        dir,
        &["init", "--worker", "زهرا رضایی", "--device", "laptop-7"],
    );
    let partners = concat!(env!("CARGO_MANIFEST_DIR"), "/../scripts/demo-partners.json");
    ok(dir, &["partners", "--import", partners]);
    assert!(ok(dir, &["partners"]).contains("bank-melli-enghelab"));
    let h = json(
        dir,
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
        ],
    )["id"]
        .as_str()
        .expect("id")
        .to_string();

    // A plan: one goal, a partner step; a visit ticks it done.
    let goal = json(
        dir,
        &[
            "goal",
            "add",
            &h,
            "--domain",
            "income",
            "--title",
            "درآمد پایدار",
        ],
    );
    let goal = goal["id"].as_str().expect("goal id");
    let step = json(
        dir,
        &[
            "step",
            "add",
            &h,
            &goal[..13],
            "--what",
            "وام اشتغال",
            "--partner",
            "bank-melli-enghelab",
            "--target",
            "1404-06-01",
        ],
    );
    let step = step["id"].as_str().expect("step id");
    let err = fails(
        dir,
        &[
            "step",
            "add",
            &h,
            &goal[..13],
            "--what",
            "x",
            "--partner",
            "no-such-bank",
        ],
    );
    assert!(err.contains("partner directory"), "{err}");
    let visit = json(
        dir,
        &[
            "visit",
            "add",
            &h,
            "--date",
            "1404-05-01",
            "--kind",
            "home",
            "--need",
            "income=3",
        ],
    );
    let visit = visit["id"].as_str().expect("visit id");
    ok(
        dir,
        &[
            "step",
            "update",
            &step[..13],
            "--status",
            "done",
            "--visit",
            &visit[..13],
        ],
    );
    let plan = json(dir, &["plan", "show", &h]);
    assert_eq!(
        plan["goals"][0]["steps"][0]["progress"][0]["visit_id"],
        visit
    );
    assert_eq!(plan["proposed"], false);

    // A field worker's replica: graduation refused, first for the criteria, with the reasons.
    let err = fails(dir, &["graduate", &h]);
    assert!(err.contains("the graduation criteria do not hold"), "{err}");
    assert!(
        err.contains("1 assessed visits, 2 in a row are needed"),
        "{err}"
    );
    assert!(err.contains("ارزیابی"), "the reasons in Persian too: {err}");

    // The ledger: sent → received → approved, then a backwards step refused, then disbursed.
    let referral = json(
        dir,
        &[
            "referral",
            "add",
            &h,
            "--kind",
            "bank_loan",
            "--partner",
            "bank-melli-enghelab",
            "--date",
            "1404-01-10",
        ],
    );
    let r = referral["id"].as_str().expect("referral id");
    ok(
        dir,
        &[
            "referral",
            "update",
            &r[..13],
            "--state",
            "received",
            "--date",
            "1404-01-15",
        ],
    );
    ok(
        dir,
        &[
            "referral",
            "update",
            &r[..13],
            "--state",
            "approved",
            "--date",
            "1404-02-01",
        ],
    );
    let err = fails(
        dir,
        &["referral", "update", &r[..13], "--state", "received"],
    );
    assert!(err.contains("cannot go back"), "{err}");
    let err = fails(
        dir,
        &["referral", "update", &r[..13], "--state", "disbursed"],
    );
    assert!(err.contains("amount"), "an amount is required: {err}");
    let stalled = json(dir, &["referrals", "--stalled"]);
    assert_eq!(
        stalled.as_array().expect("list").len(),
        1,
        "approved months ago, unpaid"
    );
    ok(
        dir,
        &[
            "referral",
            "update",
            &r[..13],
            "--state",
            "disbursed",
            "--amount",
            "۱۵۰٬۰۰۰٬۰۰۰",
            "--date",
            "1404-05-02",
        ],
    );
    assert_eq!(
        json(dir, &["referrals", "--stalled"])
            .as_array()
            .expect("list")
            .len(),
        0
    );
    let ledger = json(dir, &["referrals", &h]);
    let history = &ledger[0]["referral"]["history"];
    assert_eq!(history.as_array().expect("history").len(), 4);
    assert_eq!(history[3]["amount"], 150_000_000);

    // Reports: the catalogue, a table, CSV and XLSX files.
    let list = json(dir, &["report", "list"]);
    assert!(list.as_array().expect("list").len() >= 8);
    let funnel = json(dir, &["report", "referral-funnel"]);
    assert_eq!(
        funnel["rows"][0][5],
        serde_json::json!({"kind": "int", "value": 1}),
        "disbursed"
    );
    let text = ok(dir, &["report", "referral-funnel", "--english"]);
    assert!(
        text.contains("150,000,000") && text.contains("disbursed"),
        "{text}"
    );
    let csv = dir.join("funnel.csv");
    ok(
        dir,
        &[
            "report",
            "referral-funnel",
            "--format",
            "csv",
            "--output",
            csv.to_str().expect("path"),
        ],
    );
    let bytes = std::fs::read(&csv).expect("csv");
    assert!(bytes.starts_with(b"\xEF\xBB\xBF"), "a BOM for Excel");
    assert!(String::from_utf8_lossy(&bytes).contains("150000000"));
    let xlsx = dir.join("cohort.xlsx");
    ok(
        dir,
        &[
            "report",
            "cohort",
            "--cohort",
            &h[..13],
            "--format",
            "xlsx",
            "--output",
            xlsx.to_str().expect("path"),
        ],
    );
    assert!(
        std::fs::read(&xlsx).expect("xlsx").starts_with(b"PK"),
        "a zip (XLSX) file"
    );
    let err = fails(dir, &["report", "referral-funnel", "--format", "pdf"]);
    assert!(err.contains("table, csv or xlsx"), "{err}");
    let err = fails(dir, &["report", "need-trend", "--from", "1404-13-01"]);
    assert!(err.contains("date"), "{err}");
    assert!(ok(dir, &["check"]).contains("ok"));
}
