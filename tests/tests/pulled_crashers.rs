//! Changes that made Automerge panic under the fuzzer (`fuzz/regressions/parse_change/`),
//! pulled by a real replica from the real server: the replica must not crash. Each is planted
//! in the server's storage after the household it builds on (the fuzzer's base household), and
//! a supervisor's replica syncs: the sync finishes, the household is either taken in or set
//! aside with the reason, and a second, untouched household arrives either way. Needs the
//! server built first (`cargo build -p madadkar-server --bins`).

mod planting;

use std::path::Path;

use anyhow::{Context, Result};
use madadkar_e2e::{Replica, Server};
use madadkar_schema::HouseholdDoc;
use planting::plant;

#[test]
fn a_change_that_made_automerge_panic_is_refused_by_a_pulling_replica() -> Result<()> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let mut base =
        HouseholdDoc::load(&std::fs::read(root.join("fuzz/seeds/household.automerge"))?)?;
    let household = base.id()?;
    let base_changes: Vec<Vec<u8>> = base
        .changes_since(&[])
        .iter()
        .map(|c| c.raw_bytes().to_vec())
        .collect();
    let mut crashers: Vec<_> = std::fs::read_dir(root.join("fuzz/regressions/parse_change"))?
        .filter_map(Result::ok)
        .map(|e| e.path())
        .collect();
    crashers.sort();
    assert!(!crashers.is_empty(), "no parse_change regressions");

    for crasher in crashers {
        let server = Server::start()?;
        server.add_group("g1")?;
        let a = server.add_worker("worker A", Some("g1"), "field")?;
        let s = server.add_worker("supervisor S", Some("g1"), "supervisor")?;
        let mut a = Replica::enrolled(&server, &a, "laptop A")?;
        let mut s = Replica::enrolled(&server, &s, "laptop S")?;
        let other = a.add_household("علی", 41_000_001)?;
        a.store.sync(None)?;
        server.admin(&["household", "assign", &other.to_string(), "--group", "g1"])?;

        plant(&server, household, "g1", &base_changes)?;
        s.store.sync(None)?;
        assert!(s.store.household_ids()?.contains(&household));
        // Today's server refuses it; one from before its checks stored it.
        planting::plant_raw(
            &server,
            household,
            &std::fs::read(&crasher).with_context(|| crasher.display().to_string())?,
        )?;
        // Before the fix, this panicked inside Automerge and took the process down (and would
        // again on every sync).
        s.store
            .sync(None)
            .with_context(|| format!("sync after planting {}", crasher.display()))?;
        assert!(s.store.household_ids()?.contains(&other));
        // Whatever was taken in reads without panicking.
        for id in s.store.household_ids()? {
            let _ = s.store.household(id);
            let _ = s.store.history(id);
        }
        assert!(s.store.check()?.ok(), "{}", crasher.display());
    }
    Ok(())
}
