//! `madadkar-bench`: builds a synthetic province, measures Madadkar against baselines taken in
//! the same run (Automerge's per-document sync, plain SQLite rows) and prints a table; with
//! `--out` it also writes the Markdown report (`docs/benchmarks.md`).
//!
//! Run it in release: `cargo run --release -p madadkar-bench -- --households 23000 --out docs/benchmarks.md`.

use std::io::Write;
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::{Arc, Barrier};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use automerge::{
    AutoCommit,
    sync::{self, SyncDoc},
};
use chrono::{Local, NaiveDate};
use clap::Parser;
use madadkar_client::{ListQuery, SortBy, Store, demo, query};
use madadkar_e2e::{Replica, Server, bin_dir};
use madadkar_schema::{ChangeMeta, NewVisit, VisitKind};
use rusqlite::{Connection, params};

#[derive(Debug, Parser)]
#[command(about = "Province-scale benchmarks of Madadkar")]
struct Args {
    /// Households in the synthetic province.
    #[arg(long, default_value_t = 23_000)]
    households: usize,
    /// Field workers syncing at once in the concurrency test.
    #[arg(long, default_value_t = 200)]
    workers: usize,
    /// Samples per timed operation.
    #[arg(long, default_value_t = 300)]
    samples: usize,
    #[arg(long, default_value_t = 1403)]
    seed: u64,
    /// Write the Markdown report here.
    #[arg(long)]
    out: Option<std::path::PathBuf>,
}

/// One line of the results table.
struct Row {
    figure: String,
    value: String,
    target: String,
    baseline: String,
    ratio: String,
    verdict: &'static str,
}

fn verdict(ok: bool) -> &'static str {
    if ok { "met" } else { "MISSED" }
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

fn percentile(samples: &[f64], p: f64) -> f64 {
    let mut v = samples.to_vec();
    v.sort_by(|a, b| a.total_cmp(b));
    if v.is_empty() {
        return f64::NAN;
    }
    v[((v.len() - 1) as f64 * p).round() as usize]
}

fn median(samples: &[f64]) -> f64 {
    percentile(samples, 0.5)
}

fn time<T>(f: impl FnOnce() -> T) -> (T, Duration) {
    let start = Instant::now();
    let value = f();
    (value, start.elapsed())
}

fn repeat(n: usize, mut f: impl FnMut() -> Result<()>) -> Result<Vec<f64>> {
    let mut out = Vec::with_capacity(n);
    for _ in 0..n {
        let start = Instant::now();
        f()?;
        out.push(ms(start.elapsed()));
    }
    Ok(out)
}

fn kib(bytes: u64) -> String {
    if bytes < 10 * 1024 {
        format!("{bytes} B")
    } else if bytes < 10 * 1024 * 1024 {
        format!("{:.1} KiB", bytes as f64 / 1024.0)
    } else {
        format!("{:.1} MiB", bytes as f64 / 1024.0 / 1024.0)
    }
}

/// Peak resident memory of a process, from /proc (0 when unavailable).
fn peak_rss_kib(pid: u32) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .map(str::to_string)
        })
        .and_then(|l| l.split_whitespace().nth(1).and_then(|n| n.parse().ok()))
        .unwrap_or(0)
}

fn file_size(path: &Path) -> u64 {
    std::fs::metadata(path).map(|m| m.len()).unwrap_or(0)
}

fn machine() -> String {
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("model name"))
                .map(|l| l.split(':').nth(1).unwrap_or("").trim().to_string())
        })
        .unwrap_or_else(|| "unknown CPU".into());
    let cores = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1);
    let mem = std::fs::read_to_string("/proc/meminfo")
        .ok()
        .and_then(|s| {
            s.lines()
                .next()
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|n| n.parse::<u64>().ok())
        })
        .map(|k| format!("{:.0} GiB", k as f64 / 1024.0 / 1024.0))
        .unwrap_or_default();
    format!("{cores} cores ({cpu}), {mem} RAM")
}

fn visit(date: NaiveDate) -> NewVisit {
    NewVisit {
        date,
        kind: VisitKind::Home,
        observations: "بازدید پیگیری؛ وضعیت درآمد بهتر شده است.".into(),
        needs: [
            (madadkar_schema::NeedDomain::Income, 2),
            (madadkar_schema::NeedDomain::Food, 1),
        ]
        .into_iter()
        .collect(),
        followup_date: None,
    }
}

/// Automerge's own per-document sync between two documents: (messages, bytes, round trips).
fn automerge_sync(server: &mut AutoCommit, client: &mut AutoCommit) -> Result<(u64, u64, u64)> {
    let (mut s_state, mut c_state) = (sync::State::new(), sync::State::new());
    let (mut messages, mut bytes, mut rounds) = (0u64, 0u64, 0u64);
    for _ in 0..64 {
        let from_client = client.sync().generate_sync_message(&mut c_state);
        let from_server = server.sync().generate_sync_message(&mut s_state);
        if from_client.is_none() && from_server.is_none() {
            break;
        }
        rounds += 1;
        if let Some(m) = from_client {
            let encoded = m.encode();
            messages += 1;
            bytes += encoded.len() as u64;
            server
                .sync()
                .receive_sync_message(&mut s_state, sync::Message::decode(&encoded)?)?;
        }
        if let Some(m) = from_server {
            let encoded = m.encode();
            messages += 1;
            bytes += encoded.len() as u64;
            client
                .sync()
                .receive_sync_message(&mut c_state, sync::Message::decode(&encoded)?)?;
        }
    }
    Ok((messages, bytes, rounds))
}

fn main() -> Result<()> {
    let args = Args::parse();
    let n = args.households.max(20);
    let pilot = if n >= 2_000 { 200 } else { (n / 4).max(5) };
    let groups = ((n - pilot) / 2_000).clamp(1, 10);
    let today = Local::now().date_naive();
    let work = tempfile::tempdir()?;
    let mut rows: Vec<Row> = Vec::new();
    eprintln!("bench: {n} households ({pilot} in the pilot group, the rest in {groups} groups)");

    let server = Server::start()?;
    server.add_group("pilot")?;
    let coordinator_id = server.add_worker("دفتر استان", None, "coordinator")?;

    // Seed the province: each group's supervisor registers its households and pushes them.
    let (_, seeding) = time(|| -> Result<()> {
        let mut rng = demo::Rng::new(args.seed);
        let mut shares = vec![("pilot".to_string(), pilot)];
        for g in 0..groups {
            let share = (n - pilot) / groups + usize::from(g < (n - pilot) % groups);
            shares.push((format!("g{g}"), share));
        }
        for (group, share) in shares {
            if group != "pilot" {
                server.add_group(&group)?;
            }
            let supervisor =
                server.add_worker(&format!("سرپرست {group}"), Some(&group), "supervisor")?;
            let mut replica = Replica::enrolled(&server, &supervisor, &format!("{group} office"))?;
            let identity = replica.store.identity().cloned().context("identity")?;
            let meta = ChangeMeta::new(
                &identity.worker_id,
                &identity.worker_name,
                &identity.device_id.to_string(),
            );
            let mut done = 0;
            while done < share {
                let chunk = (share - done).min(250);
                let docs = (0..chunk)
                    .map(|_| {
                        demo::household(
                            &mut rng,
                            &meta,
                            identity.device_id,
                            today,
                            demo::Shape::PROVINCE,
                            (Some(&group), None),
                        )
                    })
                    .collect::<Result<Vec<_>, _>>()?;
                replica.store.merge_documents(docs)?;
                done += chunk;
            }
            replica.store.sync(None)?;
            eprintln!("bench: seeded group {group} ({share} households)");
        }
        Ok(())
    });
    eprintln!("bench: province seeded in {:.1} s", seeding.as_secs_f64());

    // First full sync of the province to a new coordinator replica, as a child process.
    let coordinator_dir = work.path().join("coordinator");
    {
        let mut store = Store::open(&coordinator_dir)?;
        store.init("coordinator", "office desktop", None)?;
        store.enroll(&server.url, &server.enroll_code(&coordinator_id)?, None)?;
    }
    let start = Instant::now();
    let mut child = Command::new(bin_dir().join("madadkar"))
        .arg("--data-dir")
        .arg(&coordinator_dir)
        .args(["--json", "sync"])
        .stdout(Stdio::piped())
        .spawn()
        .context("running madadkar sync")?;
    let pid = child.id();
    let mut client_peak = 0;
    while child.try_wait()?.is_none() {
        client_peak = client_peak.max(peak_rss_kib(pid));
        std::thread::sleep(Duration::from_millis(20));
    }
    let first_sync = start.elapsed();
    let output = child.wait_with_output()?;
    if !output.status.success() {
        bail!("first sync failed");
    }
    let report: serde_json::Value = serde_json::from_slice(&output.stdout)?;
    let first_bytes = report["bytes_received"].as_u64().unwrap_or(0);
    let first_requests = report["requests"].as_u64().unwrap_or(0);
    let server_peak = server.pid().map(peak_rss_kib).unwrap_or(0);
    eprintln!(
        "bench: first full sync {:.1} s, {}",
        first_sync.as_secs_f64(),
        kib(first_bytes)
    );

    let mut coordinator = Store::open(&coordinator_dir)?;
    let ids = coordinator.household_ids()?;
    if ids.len() != n {
        bail!("the coordinator has {} households, expected {n}", ids.len());
    }

    // Baselines over the same documents: compressed changes, plain JSON, Automerge's own sync.
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    let mut json_bytes = 0u64;
    let (mut am_first, mut am_noop) = ((0u64, 0u64, 0u64), (0u64, 0u64, 0u64));
    let (mut am_first_time, mut am_noop_time) = (Duration::ZERO, Duration::ZERO);
    for id in &ids {
        let mut doc = coordinator.document(*id)?;
        for change in doc.changes_since(&[]) {
            gz.write_all(change.raw_bytes())?;
        }
        json_bytes += serde_json::to_vec(&doc.read()?)?.len() as u64;
        let server_doc = doc.automerge();
        let mut client_doc = AutoCommit::new();
        let start = Instant::now();
        let first = automerge_sync(server_doc, &mut client_doc)?;
        am_first_time += start.elapsed();
        let start = Instant::now();
        let noop = automerge_sync(server_doc, &mut client_doc)?;
        am_noop_time += start.elapsed();
        am_first = (
            am_first.0 + first.0,
            am_first.1 + first.1,
            am_first.2 + first.2,
        );
        am_noop = (am_noop.0 + noop.0, am_noop.1 + noop.1, am_noop.2 + noop.2);
    }
    let compressed = gz.finish()?.len() as u64;
    let first_ratio = first_bytes as f64 / compressed as f64;
    rows.push(Row {
        figure: format!("first full sync of {n} households to a new coordinator: time"),
        value: format!(
            "{:.1} s ({first_requests} requests)",
            first_sync.as_secs_f64()
        ),
        target: "< 60 s".into(),
        baseline: format!(
            "Automerge per-document sync: {:.1} s CPU, {} round trips",
            am_first_time.as_secs_f64(),
            am_first.2
        ),
        ratio: format!(
            "{:.2}× time, {:.4}× round trips",
            first_sync.as_secs_f64() / am_first_time.as_secs_f64(),
            first_requests as f64 / am_first.2 as f64
        ),
        verdict: verdict(first_sync < Duration::from_secs(60)),
    });
    rows.push(Row {
        figure: "first full sync: bytes on the wire".into(),
        value: kib(first_bytes),
        target: "≤ 1.5× compressed changes".into(),
        baseline: format!(
            "changes gzipped in one stream: {}; Automerge sync: {}",
            kib(compressed),
            kib(am_first.1)
        ),
        ratio: format!(
            "{first_ratio:.2}× compressed; {:.2}× Automerge",
            first_bytes as f64 / am_first.1 as f64
        ),
        verdict: verdict(first_ratio <= 1.5),
    });

    // No-op sync with 23,000 (coordinator) and 200 (pilot field worker) households in scope.
    let field_id = server.add_worker("مددکار پایلوت", Some("pilot"), "field")?;
    let mut field = Replica::enrolled(&server, &field_id, "pilot laptop")?;
    field.store.sync(None)?;
    let field_households = field.store.household_ids()?.len();
    for (label, store, scope) in [
        ("coordinator", &mut coordinator, n),
        ("field worker", &mut field.store, field_households),
    ] {
        let mut times = Vec::new();
        let mut last = None;
        for _ in 0..7 {
            let (report, took) = time(|| store.sync(None));
            times.push(ms(took));
            last = Some(report?);
        }
        let r = last.context("no sync ran")?;
        let wire = r.bytes_sent + r.bytes_received;
        let (base_msgs, base_bytes) = if scope == n {
            (am_noop.0, am_noop.1)
        } else {
            let share = scope as f64 / n as f64;
            (
                (am_noop.0 as f64 * share) as u64,
                (am_noop.1 as f64 * share) as u64,
            )
        };
        rows.push(Row {
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
        });
    }

    // Incremental sync of one new visit: the field worker pushes it, the coordinator pulls it.
    let pilot_household = field.store.household_ids()?[0];
    field.store.add_visit(pilot_household, &visit(today))?;
    let up = field.store.sync(None)?;
    let down = coordinator.sync(None)?;
    let up_bytes = up.bytes_sent + up.bytes_received;
    let down_bytes = down.bytes_sent + down.bytes_received;
    rows.push(Row {
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
    });

    // A household with 50 visits, then copies of the projections as plain rows.
    let big = {
        let identity = coordinator.identity().cloned().context("identity")?;
        let meta = ChangeMeta::new(
            &identity.worker_id,
            &identity.worker_name,
            &identity.device_id.to_string(),
        );
        let mut rng = demo::Rng::new(args.seed + 1);
        let shape = demo::Shape {
            extra_members: (4, 5),
            visits: (50, 51),
            span_days: 730,
        };
        let doc = demo::household(
            &mut rng,
            &meta,
            identity.device_id,
            today,
            shape,
            (Some("pilot"), None),
        )?;
        let id = doc.id()?;
        coordinator.merge_documents(vec![doc])?;
        id
    };
    let plain_path = work.path().join("plain.sqlite3");
    {
        let conn = Connection::open(coordinator.path())?;
        conn.execute("VACUUM INTO ?", [plain_path.to_string_lossy()])?;
        let plain = Connection::open(&plain_path)?;
        plain.execute_batch(
            "DROP TABLE changes; DROP TABLE outbox; DROP TABLE documents; VACUUM;",
        )?;
    }
    let plain = Connection::open(&plain_path)?;
    plain.pragma_update(None, "journal_mode", "WAL")?;
    plain.pragma_update(None, "synchronous", "FULL")?;

    // Writes: a visit through the document store vs a plain row insert.
    let mut rng = demo::Rng::new(args.seed + 2);
    // As a worker does it: the household is open (its page was shown), then the visit is saved.
    let mut ours = Vec::with_capacity(args.samples);
    for _ in 0..args.samples {
        let h = ids[rng.below(ids.len() as u64) as usize];
        coordinator.household(h)?;
        let (result, took) = time(|| coordinator.add_visit(h, &visit(today)));
        result?;
        ours.push(ms(took));
    }
    // Cold: a household nobody opened, so its document is loaded inside the write.
    let cold = repeat(args.samples, || {
        let h = ids[rng.below(ids.len() as u64) as usize];
        coordinator.add_visit(h, &visit(today))?;
        Ok(())
    })?;
    plain.execute_batch(
        "CREATE TABLE plain_visits (id TEXT PRIMARY KEY, household_id TEXT NOT NULL, date TEXT NOT NULL, worker_id TEXT, kind TEXT, observations TEXT, needs TEXT, followup_date TEXT);
         CREATE INDEX plain_visits_household ON plain_visits (household_id, date);",
    )?;
    let mut plain_mut = Connection::open(&plain_path)?;
    plain_mut.pragma_update(None, "synchronous", "FULL")?;
    let plain_writes = repeat(args.samples, || {
        let h = ids[rng.below(ids.len() as u64) as usize];
        let tx = plain_mut.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        tx.execute(
            "INSERT INTO plain_visits VALUES (?, ?, ?, ?, 'home', ?, '{\"income\":2,\"food\":1}', NULL)",
            params![uuid::Uuid::now_v7().to_string(), h.to_string(), today.to_string(), "w", "بازدید پیگیری"],
        )?;
        tx.execute(
            "UPDATE p_households SET visit_count = visit_count + 1, last_visit = ? WHERE id = ?",
            params![today.to_string(), h.to_string()],
        )?;
        tx.commit()?;
        Ok(())
    })?;
    let (p50, p99) = (percentile(&ours, 0.5), percentile(&ours, 0.99));
    let (b50, b99) = (
        percentile(&plain_writes, 0.5),
        percentile(&plain_writes, 0.99),
    );
    let (k50, k99) = (percentile(&cold, 0.5), percentile(&cold, 0.99));
    rows.push(Row {
        figure: format!("add a visit to a household not opened before ({n} in the store)"),
        value: format!("p50 {k50:.2} ms, p99 {k99:.2} ms"),
        target: "report".into(),
        baseline: format!("plain row insert: p50 {b50:.2} ms, p99 {b99:.2} ms"),
        ratio: format!("{:.2}× p50, {:.2}× p99", k50 / b50, k99 / b99),
        verdict: "report",
    });
    rows.push(Row {
        figure: format!("add a visit to the open household ({n} in the store)"),
        value: format!("p50 {p50:.2} ms, p99 {p99:.2} ms"),
        target: "p99 < 10 ms; ≤ 2.5× plain rows".into(),
        baseline: format!("plain row insert: p50 {b50:.2} ms, p99 {b99:.2} ms"),
        ratio: format!("{:.2}× p50, {:.2}× p99", p50 / b50, p99 / b99),
        verdict: verdict(p99 < 10.0 && p50 / b50 <= 2.5),
    });

    // Reads from the projections vs the same queries on plain rows.
    let list_query = ListQuery {
        district: Some("منطقه ۳".into()),
        status: Some("active".into()),
        sort: SortBy::Need,
        limit: 50,
        ..Default::default()
    };
    let reads = 50;
    let list_ours = repeat(reads, || Ok(coordinator.list(&list_query).map(|_| ())?))?;
    let list_plain = repeat(reads, || Ok(query::list(&plain, &list_query).map(|_| ())?))?;
    let (lo, lp) = (median(&list_ours), median(&list_plain));
    rows.push(Row {
        figure: format!("first page of the caseload, filtered and sorted, {n} households"),
        value: format!("{lo:.2} ms"),
        target: "< 20 ms; ≤ 1.2× plain rows".into(),
        baseline: format!("plain rows: {lp:.2} ms"),
        ratio: format!("{:.2}×", lo / lp),
        verdict: verdict(lo < 20.0 && lo / lp <= 1.2),
    });
    let terms = ["ریم", "محمدرض", "علي", "نیک‌نا", "زهرا كاظمي"];
    let mut t = 0;
    let search_ours = repeat(reads, || {
        t += 1;
        Ok(coordinator.search(terms[t % terms.len()], 50).map(|_| ())?)
    })?;
    let search_plain = repeat(reads, || {
        t += 1;
        Ok(query::search(&plain, terms[t % terms.len()], 50).map(|_| ())?)
    })?;
    let (so, sp) = (median(&search_ours), median(&search_plain));
    rows.push(Row {
        figure: "search by part of a name (normalised Persian)".into(),
        value: format!("{so:.2} ms"),
        target: "< 50 ms; ≤ 1.2× plain rows".into(),
        baseline: format!("plain rows: {sp:.2} ms"),
        ratio: format!("{:.2}×", so / sp),
        verdict: verdict(so < 50.0 && so / sp <= 1.2),
    });
    let open_ours = repeat(reads, || Ok(coordinator.household(big).map(|_| ())?))?;
    let open_plain = repeat(reads, || {
        let key = big.to_string();
        plain.query_row(
            "SELECT * FROM p_households WHERE id = ?",
            [&key],
            |_| Ok(()),
        )?;
        let mut stmt =
            plain.prepare_cached("SELECT * FROM p_visits WHERE household_id = ? ORDER BY date")?;
        let count = stmt.query_map([&key], |_| Ok(()))?.count();
        if count < 50 {
            bail!("plain copy lacks the visits");
        }
        Ok(())
    })?;
    let (oo, op) = (median(&open_ours), median(&open_plain));
    rows.push(Row {
        figure: "open a household with 50 visits (load its document)".into(),
        value: format!("{oo:.2} ms"),
        target: "< 10 ms".into(),
        baseline: format!("plain rows (household + visit rows): {op:.3} ms"),
        ratio: format!("{:.1}×", oo / op),
        verdict: verdict(oo < 10.0),
    });

    // Many workers syncing at once.
    server.add_group("sim")?;
    let mut sims = Vec::new();
    for i in 0..args.workers {
        let w = server.add_worker(&format!("مددکار {i}"), Some("sim"), "field")?;
        let mut r = Replica::enrolled(&server, &w, &format!("sim {i}"))?;
        r.add_household("علی", 500_000_000 + i as u32)?;
        r.store.sync(None)?;
        sims.push(r);
    }
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
    let results: Vec<(f64, bool)> = handles
        .into_iter()
        .map(|h| h.join().unwrap_or((0.0, false)))
        .collect();
    let errors = results.iter().filter(|(_, ok)| !ok).count();
    let latencies: Vec<f64> = results
        .iter()
        .filter(|(_, ok)| *ok)
        .map(|(t, _)| *t)
        .collect();
    let (c50, c99) = (percentile(&latencies, 0.5), percentile(&latencies, 0.99));
    rows.push(Row {
        figure: format!(
            "{} workers syncing at once (push a visit + pull), one server, this machine",
            args.workers
        ),
        value: format!("p50 {c50:.0} ms, p99 {c99:.0} ms, {errors} errors"),
        target: "p99 < 250 ms, no errors".into(),
        baseline: String::new(),
        ratio: String::new(),
        verdict: verdict(c99 < 250.0 && errors == 0),
    });

    // Memory and disk.
    let conn = Connection::open(coordinator.path())?;
    conn.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()))?;
    let store_bytes = file_size(coordinator.path());
    rows.push(Row {
        figure: "peak memory during the first full sync".into(),
        value: format!(
            "client {} , server {}",
            kib(client_peak * 1024),
            kib(server_peak * 1024)
        ),
        target: "report".into(),
        baseline: String::new(),
        ratio: String::new(),
        verdict: "report",
    });
    rows.push(Row {
        figure: "coordinator's store on disk vs the same data as plain JSON".into(),
        value: kib(store_bytes),
        target: "report".into(),
        baseline: format!("JSON: {}", kib(json_bytes)),
        ratio: format!("{:.2}×", store_bytes as f64 / json_bytes as f64),
        verdict: "report",
    });

    let mut table = String::from(
        "| figure | measured | target | baseline (same run) | ratio | |\n| --- | --- | --- | --- | --- | --- |\n",
    );
    for r in &rows {
        table.push_str(&format!(
            "| {} | {} | {} | {} | {} | {} |\n",
            r.figure, r.value, r.target, r.baseline, r.ratio, r.verdict
        ));
    }
    println!("{table}");
    if let Some(out) = &args.out {
        let report = format!(
            "# Benchmarks\n\nMeasured by `madadkar-bench` (release build) on {} with {n} households \
             (seed {}, {} samples per write, {reads} per read, {} concurrent workers), {}.\n\
             Seeding the province (generating and pushing it) took {:.0} s. Medians unless a percentile is named; \
             the machine is shared and noisy, so read ratios rather than absolute times.\n\n{table}\n",
            machine(),
            args.seed,
            args.samples,
            args.workers,
            madadkar_schema::date::iso_date(chrono::Utc::now().date_naive()),
            seeding.as_secs_f64(),
        );
        std::fs::write(out, report)?;
    }
    Ok(())
}
