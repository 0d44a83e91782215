//! Fault injection with real processes: the `madadkar-server` binary, the `madadkar` CLI and
//! `crash_writer` as clients, and `drop_proxy` between them. Each run sets up a fresh server
//! with a field worker (A, who writes) and a supervisor (B, who reads A's households), injects
//! one fault, recovers with ordinary syncs, and checks:
//!
//! - nothing lost: every visit A recorded is on B after recovery, and every change of A's
//!   documents is stored on the server;
//! - nothing duplicated: each visit appears once, each change is stored once, nothing is left
//!   queued;
//! - convergence: A and B hold the same households with the same heads, and both stores pass
//!   `check`.
//!
//! The fault kinds: `server-kill-push` and `server-kill-pull` (SIGKILL to the server while the
//! proxy sees a push or pull in flight), `client-kill-write` (SIGKILL to a writer mid-stream),
//! `client-kill-push` and `client-kill-pull` (SIGKILL to `madadkar sync`), `cut-push` and
//! `cut-pull` (the proxy cuts the answer after a random number of bytes).
//!
//! `fault_runner [--runs N] [--seed S] [--kind KIND]`: N runs (default 105) spread over the kinds
//! in turn; prints one line per run and a table; exits non-zero if any run failed. A run is
//! reproduced with the seed and kind its line prints (`--runs 1 --kind K --seed S`).

use std::collections::{BTreeMap, BTreeSet};
use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc::{Receiver, RecvTimeoutError, channel};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use madadkar_client::Store;
use madadkar_e2e::{Server, bin_dir};
use madadkar_schema::{NationalId, NewHousehold, NewMember, NewVisit, Relation, VisitKind};
use tempfile::TempDir;
use uuid::Uuid;

const KINDS: [&str; 7] = [
    "server-kill-push",
    "server-kill-pull",
    "client-kill-write",
    "client-kill-push",
    "client-kill-pull",
    "cut-push",
    "cut-pull",
];

/// A small deterministic generator (SplitMix64), so a run's seed reproduces it.
#[derive(Debug)]
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A number in `lo..=hi`.
    fn range(&mut self, lo: u64, hi: u64) -> u64 {
        lo + self.next() % (hi - lo + 1)
    }
}

/// What one run did and found.
#[derive(Debug, Default)]
struct Outcome {
    /// Whether the fault interrupted the operation (rather than landing after it finished).
    hit: bool,
    /// What the fault interrupted, for the run's line.
    note: String,
    /// Visits A recorded.
    visits: usize,
    /// Invariants that did not hold.
    failures: Vec<String>,
}

fn main() -> Result<()> {
    let mut runs = 105usize;
    let mut seed: u64 = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(1);
    let mut only: Option<String> = None;
    let mut args = std::env::args().skip(1);
    while let Some(flag) = args.next() {
        let value = args
            .next()
            .with_context(|| format!("{flag} needs a value"))?;
        match flag.as_str() {
            "--runs" => runs = value.parse().context("--runs N")?,
            "--seed" => seed = value.parse().context("--seed S")?,
            "--kind" if KINDS.contains(&value.as_str()) => only = Some(value),
            "--kind" => bail!("unknown kind {value}; one of {KINDS:?}"),
            other => bail!("unknown flag {other}"),
        }
    }
    for binary in ["madadkar-server", "madadkar", "crash_writer", "drop_proxy"] {
        if !bin_dir().join(binary).exists() {
            bail!(
                "{} is missing: cargo build -p madadkar-server -p madadkar-cli -p madadkar-e2e --bins",
                bin_dir().join(binary).display()
            );
        }
    }
    println!("fault_runner: {runs} runs, first seed {seed}");
    let mut table: BTreeMap<&str, (usize, usize, usize)> = BTreeMap::new();
    let started = Instant::now();
    for i in 0..runs {
        let kind = match &only {
            Some(k) => KINDS
                .iter()
                .find(|x| **x == k.as_str())
                .copied()
                .unwrap_or(KINDS[0]),
            None => KINDS[i % KINDS.len()],
        };
        let run_seed = seed.wrapping_add(i as u64);
        let t = Instant::now();
        let outcome = match run(kind, run_seed) {
            Ok(o) => o,
            Err(e) => Outcome {
                failures: vec![format!("harness error: {e:#}")],
                ..Default::default()
            },
        };
        let row = table.entry(kind).or_default();
        row.0 += 1;
        row.1 += usize::from(outcome.hit);
        row.2 += usize::from(!outcome.failures.is_empty());
        println!(
            "run {i:>3} {kind:<18} seed {run_seed} visits {:>3} {:<4} {} ({:.1} s){}",
            outcome.visits,
            if outcome.hit { "hit" } else { "miss" },
            outcome.note,
            t.elapsed().as_secs_f64(),
            if outcome.failures.is_empty() {
                String::new()
            } else {
                format!(" FAILED: {}", outcome.failures.join("; "))
            }
        );
    }
    println!();
    println!("| fault | runs | hit mid-operation | failures |");
    println!("| --- | ---: | ---: | ---: |");
    let mut total = (0, 0, 0);
    for kind in KINDS {
        if let Some((r, h, f)) = table.get(kind) {
            println!("| {kind} | {r} | {h} | {f} |");
            total = (total.0 + r, total.1 + h, total.2 + f);
        }
    }
    println!("| total | {} | {} | {} |", total.0, total.1, total.2);
    println!("({:.0} s)", started.elapsed().as_secs_f64());
    if total.2 > 0 {
        bail!("{} of {} runs failed", total.2, total.0);
    }
    Ok(())
}

/// The parties of one run.
#[derive(Debug)]
struct World {
    server: Server,
    a: TempDir,
    b: TempDir,
    household: Uuid,
    /// Every visit A recorded (returned by `add_visit` or printed by `crash_writer`).
    committed: BTreeSet<Uuid>,
}

impl World {
    fn new() -> Result<Self> {
        let server = Server::start()?;
        server.add_group("g")?;
        let a_worker = server.add_worker("A", Some("g"), "field")?;
        let b_worker = server.add_worker("B", Some("g"), "supervisor")?;
        let a = tempfile::tempdir()?;
        let b = tempfile::tempdir()?;
        let household = {
            let mut store = Store::open(a.path(), &madadkar_e2e::passphrase())?;
            store.init("A", "laptop A", None)?;
            store.enroll(&server.url, &server.enroll_code(&a_worker)?, None)?;
            let head = NewMember {
                national_id: Some(NationalId::with_check_digit(31_000_001)),
                ..NewMember::named("علی", "کریمی", Relation::Head)
            };
            let new = NewHousehold {
                district: "منطقه ۳".into(),
                address: "کوچه یاس".into(),
                ..Default::default()
            };
            store.add_household(&new, &head)?.0
        };
        let mut store = Store::open(b.path(), &madadkar_e2e::passphrase())?;
        store.init("B", "laptop B", None)?;
        store.enroll(&server.url, &server.enroll_code(&b_worker)?, None)?;
        Ok(Self {
            server,
            a,
            b,
            household,
            committed: BTreeSet::new(),
        })
    }

    /// A records `n` visits (in this process: the write is not the fault here).
    fn write(&mut self, n: u64) -> Result<()> {
        let mut store = Store::open(self.a.path(), &madadkar_e2e::passphrase())?;
        let date = chrono::NaiveDate::from_ymd_opt(2025, 10, 1).context("date")?;
        for i in 0..n {
            let id = store.add_visit(
                self.household,
                &NewVisit {
                    date,
                    kind: VisitKind::Home,
                    observations: format!("visit {i}: {}", "گزارش ".repeat(30)),
                    needs: BTreeMap::new(),
                    followup_date: None,
                },
            )?;
            self.committed.insert(id);
        }
        Ok(())
    }

    /// How many changes the server has stored.
    fn stored_changes(&self) -> Result<i64> {
        Ok(self
            .server
            .database()?
            .query_row("SELECT COUNT(*) FROM changes", [], |r| r.get(0))?)
    }

    /// How many visits of the household a replica holds (none if it lacks the household).
    fn visits_on(&self, dir: &Path) -> Result<usize> {
        let store = Store::open(dir, &madadkar_e2e::passphrase())?;
        if !store.household_ids()?.contains(&self.household) {
            return Ok(0);
        }
        Ok(store.household(self.household)?.household.visits.len())
    }

    /// A sync in this process, straight to the server.
    fn sync(&self, dir: &Path) -> Result<()> {
        let mut store = Store::open(dir, &madadkar_e2e::passphrase())?;
        store
            .sync(Some(&self.server.url))
            .with_context(|| format!("recovery sync of {}", dir.display()))?;
        Ok(())
    }

    /// `madadkar sync` as its own process, through `url`.
    fn spawn_sync(&self, dir: &Path, url: &str) -> Result<Child> {
        Ok(Command::new(bin_dir().join("madadkar"))
            .env("MADADKAR_PASSPHRASE", madadkar_e2e::PASSPHRASE)
            .arg("--data-dir")
            .arg(dir)
            .args(["sync", "--server", url])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()?)
    }

    /// Recovery (A, B, A sync straight to the server) and the invariants.
    fn recover_and_check(&self) -> Result<Vec<String>> {
        let mut failures = Vec::new();
        self.sync(self.a.path())?;
        self.sync(self.b.path())?;
        self.sync(self.a.path())?;
        let a = Store::open(self.a.path(), &madadkar_e2e::passphrase())?;
        let b = Store::open(self.b.path(), &madadkar_e2e::passphrase())?;

        // Nothing lost, nothing duplicated: A's visits, on B, once each.
        let visits_b: Vec<Uuid> = b
            .household(self.household)?
            .household
            .visits
            .iter()
            .map(|v| v.id)
            .collect();
        let once: BTreeSet<Uuid> = visits_b.iter().copied().collect();
        if once.len() != visits_b.len() {
            failures.push(format!(
                "duplicated visits on B: {} listed, {} distinct",
                visits_b.len(),
                once.len()
            ));
        }
        let lost: Vec<_> = self.committed.difference(&once).collect();
        if !lost.is_empty() {
            failures.push(format!("{} recorded visits missing on B", lost.len()));
        }
        let visits_a = a.household(self.household)?.household.visits.len();
        if visits_a != visits_b.len() {
            failures.push(format!("A lists {visits_a} visits, B {}", visits_b.len()));
        }

        // Every change of A's document is on the server, once.
        let mut doc = a.document(self.household)?;
        let hashes: Vec<[u8; 32]> = doc
            .automerge()
            .get_changes(&[])
            .iter()
            .map(|c| c.hash().0)
            .collect();
        let db = self.server.database()?;
        let mut stmt = db.prepare("SELECT COUNT(*) FROM changes WHERE hash = ?1")?;
        let mut missing = 0;
        for hash in &hashes {
            let n: i64 = stmt.query_row([&hash[..]], |r| r.get(0))?;
            match n {
                0 => missing += 1,
                1 => {}
                n => failures.push(format!("a change stored {n} times")),
            }
        }
        if missing > 0 {
            failures.push(format!(
                "{missing} of A's {} changes not on the server",
                hashes.len()
            ));
        }
        let (log, stored): (i64, i64) = db.query_row(
            "SELECT (SELECT COUNT(*) FROM log WHERE kind = 'change'), (SELECT COUNT(*) FROM changes)",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )?;
        if log != stored {
            failures.push(format!("log has {log} change entries for {stored} changes"));
        }

        // Convergence.
        for (name, store) in [("A", &a), ("B", &b)] {
            let pending = store.sync_status()?.pending_changes;
            if pending != 0 {
                failures.push(format!("{name} still has {pending} changes queued"));
            }
            let report = store.check()?;
            if !report.ok() {
                failures.push(format!("{name} check: {:?}", report.problems));
            }
        }
        let ids = a.household_ids()?;
        if ids != b.household_ids()? {
            failures.push("A and B hold different households".into());
        }
        for id in ids {
            if a.document(id)?.heads() != b.document(id)?.heads() {
                failures.push(format!("household {id}: heads differ between A and B"));
            }
        }
        Ok(failures)
    }
}

/// A running `drop_proxy` and the lines it prints.
#[derive(Debug)]
struct Proxy {
    child: Child,
    url: String,
    lines: Receiver<String>,
}

impl Proxy {
    fn start(upstream: &str, cut: Option<(&str, u64)>) -> Result<Self> {
        let mut command = Command::new(bin_dir().join("drop_proxy"));
        command.arg(upstream);
        if let Some((path, bytes)) = cut {
            command
                .args(["--cut-path", path])
                .args(["--cut-after", &bytes.to_string()]);
        }
        let mut child = command.stdout(Stdio::piped()).spawn()?;
        let stdout = child.stdout.take().context("proxy stdout")?;
        let mut reader = BufReader::new(stdout);
        let mut first = String::new();
        reader.read_line(&mut first)?;
        let Some(url) = first.trim().strip_prefix("listening on ") else {
            bail!("proxy did not start: {first:?}");
        };
        let (tx, lines) = channel();
        std::thread::spawn(move || {
            for line in reader.lines().map_while(Result::ok) {
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        Ok(Self {
            child,
            url: url.to_string(),
            lines,
        })
    }

    /// Waits for a line starting with `prefix` (while `alive` holds), returning whether it came.
    fn wait_for(&self, prefix: &str, mut alive: impl FnMut() -> bool) -> bool {
        let deadline = Instant::now() + Duration::from_secs(30);
        while Instant::now() < deadline {
            match self.lines.recv_timeout(Duration::from_millis(5)) {
                Ok(line) if line.starts_with(prefix) => return true,
                Ok(_) => {}
                Err(RecvTimeoutError::Timeout) if alive() => {}
                Err(_) => return false,
            }
        }
        false
    }

    /// Whether any line so far starts with `prefix`.
    fn saw(&self, prefix: &str) -> bool {
        self.lines.try_iter().any(|l| l.starts_with(prefix))
    }
}

impl Drop for Proxy {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Whether a child is still running.
fn running(child: &mut Child) -> bool {
    matches!(child.try_wait(), Ok(None))
}

fn run(kind: &str, seed: u64) -> Result<Outcome> {
    let mut rng = Rng(seed);
    let mut world = World::new()?;
    let mut outcome = Outcome::default();
    match kind {
        "server-kill-push" | "client-kill-push" => {
            world.write(rng.range(20, 120))?;
            let proxy = Proxy::start(&world.server.url, None)?;
            let mut sync = world.spawn_sync(world.a.path(), &proxy.url)?;
            let seen = proxy.wait_for("request 0 POST /v1/push", || running(&mut sync));
            // Measured on a loaded 2-core machine: the server has stored a push of this size
            // 10 to 35 ms after its head arrives, so kills land before, during and after.
            let delay = rng.range(0, 40);
            std::thread::sleep(Duration::from_millis(delay));
            let finished = !running(&mut sync);
            let target = if kind == "server-kill-push" {
                world.server.kill();
                "server"
            } else {
                let _ = sync.kill();
                "client"
            };
            let status = sync.wait()?;
            outcome.hit = seen && !status.success();
            outcome.note = format!(
                "{target} killed {delay} ms into the push{}",
                if finished { " (sync had finished)" } else { "" }
            );
            if kind == "server-kill-push" {
                world.server.restart()?;
            }
            let stored = world.stored_changes()?;
            outcome
                .note
                .push_str(&format!(", server held {stored} changes"));
        }
        "server-kill-pull" | "client-kill-pull" => {
            world.write(rng.range(20, 120))?;
            world.sync(world.a.path())?;
            let proxy = Proxy::start(&world.server.url, None)?;
            let mut sync = world.spawn_sync(world.b.path(), &proxy.url)?;
            let seen = proxy.wait_for("request 0 GET /v1/pull", || running(&mut sync));
            // The client's part of a pull (applying and storing the batch) comes after the
            // answer, so the client is killed over a longer span.
            let delay = if kind == "server-kill-pull" {
                rng.range(0, 15)
            } else {
                rng.range(0, 80)
            };
            std::thread::sleep(Duration::from_millis(delay));
            let finished = !running(&mut sync);
            let target = if kind == "server-kill-pull" {
                world.server.kill();
                "server"
            } else {
                let _ = sync.kill();
                "client"
            };
            let status = sync.wait()?;
            outcome.hit = seen && !status.success();
            outcome.note = format!(
                "{target} killed {delay} ms into the pull{}",
                if finished { " (sync had finished)" } else { "" }
            );
            if kind == "server-kill-pull" {
                world.server.restart()?;
            }
            let held = world.visits_on(world.b.path())?;
            outcome.note.push_str(&format!(", B held {held} visits"));
        }
        "client-kill-write" => {
            let kill_after = rng.range(1, 60);
            let mut writer = Command::new(bin_dir().join("crash_writer"))
                .env("MADADKAR_PASSPHRASE", madadkar_e2e::PASSPHRASE)
                .arg(world.a.path())
                .arg(world.household.to_string())
                .stdout(Stdio::piped())
                .spawn()?;
            let stdout = writer.stdout.take().context("writer stdout")?;
            let mut lines = BufReader::new(stdout).lines();
            let mut seen = 0;
            for line in lines.by_ref() {
                if let Some(id) = line?.strip_prefix("committed ") {
                    world.committed.insert(Uuid::parse_str(id)?);
                    seen += 1;
                }
                if seen >= kill_after {
                    break;
                }
            }
            let _ = writer.kill();
            // What it printed before dying was committed too.
            for line in lines.map_while(Result::ok) {
                if let Some(id) = line.strip_prefix("committed ") {
                    world.committed.insert(Uuid::parse_str(id)?);
                }
            }
            outcome.hit = !writer.wait()?.success();
            outcome.note = format!("writer killed after {kill_after} visits");
        }
        "cut-push" | "cut-pull" => {
            let n = rng.range(20, 120);
            world.write(n)?;
            // Cut points within the answer: a push answer is over 40 bytes per change, a
            // (compressed) pull answer about 100 bytes per visit, each after a head of ~200.
            let (path, bytes) = if kind == "cut-push" {
                ("/v1/push", rng.range(0, 200 + 40 * n))
            } else {
                world.sync(world.a.path())?;
                ("/v1/pull", rng.range(0, 200 + 90 * n))
            };
            let proxy = Proxy::start(&world.server.url, Some((path, bytes)))?;
            let dir = if kind == "cut-push" {
                world.a.path()
            } else {
                world.b.path()
            };
            let result = Store::open(dir, &madadkar_e2e::passphrase())?.sync(Some(&proxy.url));
            let cut = proxy.saw("cut ");
            outcome.hit = cut && result.is_err();
            outcome.note = match &result {
                Err(e) if e.is_retryable() => format!("cut after {bytes} B: retryable error"),
                Err(e) => {
                    // A broken connection must read as a network failure (retried), never as
                    // a server that speaks another protocol.
                    outcome.failures.push(format!(
                        "cut after {bytes} B gave a non-retryable error: {e}"
                    ));
                    format!("cut after {bytes} B: NOT retryable")
                }
                Ok(_) if cut => format!("cut after {bytes} B but the sync succeeded"),
                Ok(_) => format!("answer shorter than {bytes} B: not cut"),
            };
        }
        other => bail!("unknown kind {other}"),
    }
    outcome.visits = world.committed.len();
    let failures = world.recover_and_check()?;
    outcome.failures.extend(failures);
    Ok(outcome)
}
