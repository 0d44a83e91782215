//! Many field workers syncing at once against one server: each records a visit, then all push
//! and pull together.

use std::sync::{Arc, Barrier};
use std::time::Instant;

use anyhow::Result;
use chrono::NaiveDate;
use madadkar_e2e::Replica;

use crate::province::{Province, visit};
use crate::report::{Row, verdict};
use crate::stats::{ms, percentile};

/// First national ID seed of the simulated workers' households (clear of the province's).
const NID_SEED: u32 = 500_000_000;

/// Enrolls `workers` field workers in a group of their own, each with one synced household, then
/// times their syncs started together.
pub fn run(province: &Province, workers: usize) -> Result<Row> {
    let server = &province.server;
    server.add_group("sim")?;
    let mut sims = Vec::new();
    for i in 0..workers {
        let w = server.add_worker(&format!("مددکار {i}"), Some("sim"), "field")?;
        let mut r = Replica::enrolled(server, &w, &format!("sim {i}"))?;
        r.add_household("علی", NID_SEED + i as u32)?;
        r.store.sync(None)?;
        sims.push(r);
    }
    let results = sync_together(sims, province.today);
    let errors = results.iter().filter(|(_, ok)| !ok).count();
    let latencies: Vec<f64> = results
        .iter()
        .filter(|(_, ok)| *ok)
        .map(|(t, _)| *t)
        .collect();
    let (c50, c99) = (percentile(&latencies, 0.5), percentile(&latencies, 0.99));
    Ok(Row {
        figure: format!(
            "{workers} workers syncing at once (push a visit + pull), one server, this machine"
        ),
        value: format!("p50 {c50:.0} ms, p99 {c99:.0} ms, {errors} errors"),
        target: "p99 < 250 ms, no errors".into(),
        baseline: String::new(),
        ratio: String::new(),
        verdict: verdict(c99 < 250.0 && errors == 0),
    })
}

/// One thread per replica: add a visit, wait for the others, sync. Each gives (ms, succeeded).
fn sync_together(sims: Vec<Replica>, today: NaiveDate) -> Vec<(f64, bool)> {
    let barrier = Arc::new(Barrier::new(sims.len()));
    let handles: Vec<_> = sims
        .into_iter()
        .map(|mut r| {
            let barrier = barrier.clone();
            std::thread::spawn(move || -> (f64, bool) {
                let h = r
                    .store
                    .household_ids()
                    .ok()
                    .and_then(|v| v.first().copied());
                let Some(h) = h else { return (0.0, false) };
                if r.store.add_visit(h, &visit(today)).is_err() {
                    return (0.0, false);
                }
                barrier.wait();
                let start = Instant::now();
                let ok = r.store.sync(None).is_ok();
                (ms(start.elapsed()), ok)
            })
        })
        .collect();
    handles
        .into_iter()
        .map(|h| h.join().unwrap_or((0.0, false)))
        .collect()
}
