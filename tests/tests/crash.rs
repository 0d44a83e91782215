//! A writer killed with SIGKILL mid-stream loses nothing it reported as committed, and the
//! store it leaves behind passes `check`.

use std::collections::BTreeSet;
use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};

use madadkar_client::Store;
use madadkar_schema::{NationalId, NewHousehold, NewMember, Relation};

#[test]
fn sigkill_during_writes_loses_no_committed_visit() {
    let dir = tempfile::tempdir().expect("tempdir");
    let household = {
        let mut store = Store::open(dir.path(), &madadkar_e2e::passphrase()).expect("open");
        store.init("worker", "laptop", None).expect("init");
        let head = NewMember {
            national_id: Some(NationalId::with_check_digit(12_345_678)),
            ..NewMember::named("علی", "کریمی", Relation::Head)
        };
        let h = NewHousehold {
            district: "منطقه ۳".into(),
            address: "کوچه یاس".into(),
            ..Default::default()
        };
        store.add_household(&h, &head).expect("add").0
    };
    let writer = madadkar_e2e::bin_dir().join("crash_writer");
    let mut committed = BTreeSet::new();
    // Kill after different numbers of commits so the kill lands in different places, including
    // around the compaction that runs every 32 changes.
    for (round, kill_after) in [7usize, 61, 3, 90].into_iter().enumerate() {
        let mut child = Command::new(&writer)
            .arg(dir.path())
            .arg(household.to_string())
            .env("MADADKAR_PASSPHRASE", madadkar_e2e::PASSPHRASE)
            .stdout(Stdio::piped())
            .spawn()
            .expect("spawn crash_writer");
        let stdout = child.stdout.take().expect("stdout");
        let mut lines = BufReader::new(stdout).lines();
        let mut seen = 0;
        for line in lines.by_ref() {
            let line = line.expect("line");
            if let Some(id) = line.strip_prefix("committed ") {
                committed.insert(id.to_string());
                seen += 1;
            }
            if seen >= kill_after {
                break;
            }
        }
        child.kill().expect("SIGKILL");
        // Lines printed before the kill but not yet read were committed too.
        for line in lines.map_while(Result::ok) {
            if let Some(id) = line.strip_prefix("committed ") {
                committed.insert(id.to_string());
            }
        }
        let status = child.wait().expect("wait");
        assert!(
            !status.success(),
            "round {round}: writer should have been killed"
        );

        let store =
            Store::open(dir.path(), &madadkar_e2e::passphrase()).expect("reopen after kill");
        let visits: BTreeSet<String> = store
            .household(household)
            .expect("household")
            .household
            .visits
            .iter()
            .map(|v| v.id.to_string())
            .collect();
        let lost: Vec<_> = committed.difference(&visits).collect();
        assert!(
            lost.is_empty(),
            "round {round}: committed visits lost: {lost:?}"
        );
        let report = store.check().expect("check");
        assert!(report.ok(), "round {round}: {:?}", report.problems);
    }
    assert!(committed.len() >= 7 + 61 + 3 + 90);
}
