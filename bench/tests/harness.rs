//! The benchmark harness runs end to end on a tiny province and writes its report. (The figures
//! themselves are not checked here: benchmarks are not timed tests.)

use std::process::Command;

#[test]
fn harness_runs_on_a_tiny_province_and_writes_the_report() {
    let dir = tempfile::tempdir().expect("tempdir");
    let report = dir.path().join("benchmarks.md");
    let out = Command::new(env!("CARGO_BIN_EXE_madadkar-bench"))
        .args([
            "--households",
            "40",
            "--workers",
            "3",
            "--samples",
            "5",
            "--out",
        ])
        .arg(&report)
        .output()
        .expect("run madadkar-bench");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let table = String::from_utf8(out.stdout).expect("utf-8");
    for figure in [
        "first full sync of 40 households",
        "no-op sync, 40 households in scope (coordinator)",
        "incremental sync of one new visit",
        "add a visit to the open household",
        "search by part of a name",
        "open a household with 50 visits",
        "duplicate detection over 40 households (coordinator)",
        "duplicate check at registration",
        "likely band: precision",
        "likely + possible bands: recall",
        "3 workers syncing at once",
        "Automerge per-document",
        "plain row insert",
    ] {
        assert!(table.contains(figure), "missing {figure:?} in\n{table}");
    }
    let written = std::fs::read_to_string(&report).expect("report written");
    assert!(written.starts_with("# Benchmarks") && written.contains("| figure |"));
}
