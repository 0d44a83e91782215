//! Sync across the province: the first full sync to a new coordinator (in a child process, as a
//! worker runs it), no-op syncs with the whole province and a pilot group in scope, and the
//! incremental sync of one new visit, each against Automerge's per-document sync.

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use madadkar_client::Store;
use madadkar_e2e::{Replica, bin_dir};
use uuid::Uuid;

use crate::baseline::Baselines;
use crate::footprint::{peak_rss_kib, wait_watching_peak};
use crate::province::{Province, visit};
use crate::report::{Row, kib, verdict};
use crate::stats::{median, ms, time};

/// No-op syncs timed per replica (the median is reported).
const NOOP_RUNS: usize = 7;

/// What the first full sync cost.
pub struct FirstSync {
    pub took: Duration,
    pub bytes: u64,
    pub requests: u64,
    /// Peak resident memory of the syncing client, in KiB.
    pub client_peak_kib: u64,
    /// Peak resident memory of the server so far, in KiB.
    pub server_peak_kib: u64,
}

/// Enrolls a coordinator replica in `dir`, runs its first full sync with the `madadkar` CLI and
/// returns the synced store with its households, checked to be the whole province.
pub fn first_sync(province: &Province, dir: &Path) -> Result<(Store, Vec<Uuid>, FirstSync)> {
    let server = &province.server;
    {
        let mut store = Store::open(dir, &madadkar_e2e::passphrase())?;
        store.init("coordinator", "office desktop", None)?;
        store.enroll(
            &server.url,
            &server.enroll_code(&province.coordinator_id)?,
            None,
        )?;
    }
    let start = Instant::now();
    let child = Command::new(bin_dir().join("madadkar"))
        .arg("--data-dir")
        .arg(dir)
        .args(["--json", "sync"])
        .env("MADADKAR_PASSPHRASE", madadkar_e2e::PASSPHRASE)
        .stdout(Stdio::piped())
        .spawn()
        .context("running madadkar sync")?;
    let (output, took, client_peak_kib) = wait_watching_peak(child, start)?;
    if !output.status.success() {
        bail!("first sync failed");
    }
    let report: serde_json::Value = serde_json::from_slice(&output.stdout)?;
    let first = FirstSync {
        took,
        bytes: report["bytes_received"].as_u64().unwrap_or(0),
        requests: report["requests"].as_u64().unwrap_or(0),
        client_peak_kib,
        server_peak_kib: server.pid().map(peak_rss_kib).unwrap_or(0),
    };
    eprintln!(
        "bench: first full sync {:.1} s, {}",
        took.as_secs_f64(),
        kib(first.bytes)
    );

    let coordinator = Store::open(dir, &madadkar_e2e::passphrase())?;
    let n = province.households;
    let ids = coordinator.household_ids()?;
    if ids.len() != n {
        bail!("the coordinator has {} households, expected {n}", ids.len());
    }
    Ok((coordinator, ids, first))
}

/// The first full sync's time (to a laptop after the server cached every household's snapshot,
/// and to the first laptop, for which it built them) and bytes, against the baselines.
pub fn first_sync_rows(
    households: usize,
    cold: &FirstSync,
    warm: &FirstSync,
    base: &Baselines,
) -> [Row; 3] {
    // Issue 12: at most 0.85× the bytes of issue 11's first sync, which sent 1.08× the changes
    // gzipped in one stream.
    const BYTES_TARGET: f64 = 0.85 * 1.08;
    let automerge = base.first_time.as_secs_f64();
    let time_row = |figure: String, sync: &FirstSync, target: &str, verdict: &'static str| Row {
        figure,
        value: format!(
            "{:.1} s ({} requests)",
            sync.took.as_secs_f64(),
            sync.requests
        ),
        target: target.into(),
        baseline: format!(
            "Automerge per-document sync: {automerge:.1} s CPU, {} round trips",
            base.first.rounds
        ),
        ratio: format!(
            "{:.2}× time, {:.4}× round trips",
            sync.took.as_secs_f64() / automerge,
            sync.requests as f64 / base.first.rounds as f64
        ),
        verdict,
    };
    let bytes_ratio = warm.bytes as f64 / base.compressed as f64;
    [
        time_row(
            format!("first full sync of {households} households to a new coordinator: time"),
            warm,
            "≤ 1.0× Automerge's sync CPU",
            verdict(warm.took <= base.first_time),
        ),
        time_row(
            "first full sync, the server building every snapshot (after an upgrade)".into(),
            cold,
            "report",
            "report",
        ),
        Row {
            figure: "first full sync: bytes on the wire".into(),
            value: kib(warm.bytes),
            target: format!("≤ {BYTES_TARGET:.2}× compressed changes"),
            baseline: format!(
                "changes gzipped in one stream: {}; Automerge sync: {}",
                kib(base.compressed),
                kib(base.first.bytes)
            ),
            ratio: format!(
                "{bytes_ratio:.2}× compressed; {:.2}× Automerge",
                warm.bytes as f64 / base.first.bytes as f64
            ),
            verdict: verdict(bytes_ratio <= BYTES_TARGET),
        },
    ]
}

/// A field worker of the pilot group on their own laptop, synced.
pub fn pilot_field_worker(province: &Province) -> Result<Replica> {
    let server = &province.server;
    let field_id = server.add_worker("مددکار پایلوت", Some("pilot"), "field")?;
    let mut field = Replica::enrolled(server, &field_id, "pilot laptop")?;
    field.store.sync(None)?;
    Ok(field)
}

/// No-op syncs with the whole province (coordinator) and the pilot group (field worker) in scope.
pub fn noop_rows(
    households: usize,
    coordinator: &mut Store,
    field: &mut Store,
    base: &Baselines,
) -> Result<Vec<Row>> {
    let field_households = field.household_ids()?.len();
    let mut rows = Vec::new();
    for (label, store, scope) in [
        ("coordinator", coordinator, households),
        ("field worker", field, field_households),
    ] {
        rows.push(noop_row(label, store, scope, households, base)?);
    }
    Ok(rows)
}

fn noop_row(
    label: &str,
    store: &mut Store,
    scope: usize,
    households: usize,
    base: &Baselines,
) -> Result<Row> {
    let mut times = Vec::new();
    let mut last = None;
    for _ in 0..NOOP_RUNS {
        let (report, took) = time(|| store.sync(None));
        times.push(ms(took));
        last = Some(report?);
    }
    let r = last.context("no sync ran")?;
    let wire = r.bytes_sent + r.bytes_received;
    // Automerge syncs per document, so its cost scales with the households in scope.
    let (base_msgs, base_bytes) = if scope == households {
        (base.noop.messages, base.noop.bytes)
    } else {
        let share = scope as f64 / households as f64;
        (
            (base.noop.messages as f64 * share) as u64,
            (base.noop.bytes as f64 * share) as u64,
        )
    };
    Ok(Row {
        figure: format!("no-op sync, {scope} households in scope ({label})"),
        value: format!(
            "{} request, {} body, {:.1} ms",
            r.requests,
            kib(wire),
            median(&times)
        ),
        target: "1 request, < 2 KB, independent of scope".into(),
        baseline: format!(
            "Automerge per-document: {base_msgs} messages, {}",
            kib(base_bytes)
        ),
        ratio: format!(
            "{:.5}× bytes, {:.5}× messages",
            wire.max(1) as f64 / base_bytes.max(1) as f64,
            r.requests as f64 / base_msgs.max(1) as f64
        ),
        verdict: verdict(r.requests == 1 && wire < 2048),
    })
}

/// Incremental sync of one new visit: the field worker pushes it, the coordinator pulls it.
pub fn incremental_row(
    province: &Province,
    field: &mut Store,
    coordinator: &mut Store,
) -> Result<Row> {
    let pilot_household = *field
        .household_ids()?
        .first()
        .context("the pilot field worker has no household")?;
    field.add_visit(pilot_household, &visit(province.today))?;
    let up = field.sync(None)?;
    let down = coordinator.sync(None)?;
    let up_bytes = up.bytes_sent + up.bytes_received;
    let down_bytes = down.bytes_sent + down.bytes_received;
    Ok(Row {
        figure: "incremental sync of one new visit".into(),
        value: format!(
            "{} requests (push + pull), {} up; coordinator: {} request, {} down",
            up.requests,
            kib(up_bytes),
            down.requests,
            kib(down_bytes)
        ),
        target: "1 push + 1 pull, < 10 KB".into(),
        baseline: String::new(),
        ratio: String::new(),
        verdict: verdict(
            up.requests == 2 && down.pulled == 1 && up_bytes < 10_240 && down_bytes < 10_240,
        ),
    })
}
