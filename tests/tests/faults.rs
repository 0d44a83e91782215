//! The bounded fault-injection check: one run of each fault kind (server killed during a push
//! and during a pull, writer killed mid-stream, `madadkar sync` killed during a push and during
//! a pull, the answer to a push and to a pull cut mid-stream) with the real server, CLI and
//! proxy processes. `scripts/faults.sh` runs the same harness for many runs.

use std::process::Command;

#[test]
fn one_run_of_each_fault_kind_loses_nothing_and_converges() {
    let runner = env!("CARGO_BIN_EXE_fault_runner");
    // A fixed seed: the same fault points every time, so a failure here reproduces with
    // `fault_runner --runs 7 --seed 4242`.
    let out = Command::new(runner)
        .args(["--runs", "7", "--seed", "4242"])
        .output()
        .expect("start fault_runner");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success(),
        "fault runs failed:\n{stdout}\n{stderr}"
    );
    let runs = stdout.lines().filter(|l| l.starts_with("run ")).count();
    assert_eq!(runs, 7, "{stdout}");
    assert!(
        stdout.contains("| total | 7 |"),
        "no totals row in:\n{stdout}"
    );
    // The harness must actually interrupt things: a run of faults that all land after the
    // operation finished would prove nothing. The writer kill and the two cuts land
    // mid-operation whatever the machine's load; the timed kills usually do.
    let hits = stdout
        .lines()
        .filter(|l| l.starts_with("run ") && l.contains(" hit "))
        .count();
    assert!(
        hits >= 3,
        "only {hits} of 7 faults landed mid-operation:\n{stdout}"
    );
}
