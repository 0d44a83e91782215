//! `madadkar-load run`: the timed part, talking HTTP only. Each simulated field worker is a task
//! with its own kept-alive connection, its prepared bearer header and, for the modes that push,
//! its prepared chain of signed visit changes; workers are spread round-robin over the server
//! addresses. Preparation (finding each worker's cursor at the head of the log, fetching the
//! documents, making the changes) is done and untimed before the clock starts.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use chrono::Utc;
use tokio::sync::{Barrier, Semaphore};
use tokio::task::JoinSet;
use uuid::Uuid;

use crate::http::{Conn, Failure};
use crate::plan::{FieldWorker, Plan};
use crate::prepare;
use crate::report::{Report, Row, Summary, Tally};

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Mode {
    /// Each worker repeats a no-op pull at the head of the log as fast as it can.
    Noop,
    /// Each worker pushes one visit then pulls, in a loop (no think time unless `--think-ms`).
    Visit,
    /// All workers start together, each pushes one visit and pulls, once.
    Sync,
    /// A worker pulls when exactly one new change for it is waiting (pushed, untimed, by its
    /// group's supervisor's device); repeated `--repeat` times, one at a time.
    OneChange,
}

impl Mode {
    fn name(self) -> &'static str {
        match self {
            Self::Noop => "noop",
            Self::Visit => "visit",
            Self::Sync => "sync",
            Self::OneChange => "one-change",
        }
    }
}

#[derive(Debug, Clone)]
pub struct RunArgs {
    pub servers: Vec<String>,
    pub plan: PathBuf,
    pub workers: usize,
    pub duration: Duration,
    pub mode: Mode,
    pub think: Duration,
    /// Visits prepared per worker for `visit` (a worker that uses them all stops).
    pub chain: usize,
    /// Pulls timed by `one-change`.
    pub repeat: usize,
    /// Requests under way at once while preparing.
    pub prepare_concurrency: usize,
}

/// A simulated field worker: its connection and its pull cursor.
struct Sim {
    conn: Conn,
    worker: FieldWorker,
    cursor: u64,
}

pub async fn run(args: RunArgs) -> Result<Report> {
    if args.servers.is_empty() {
        bail!("--server names no server");
    }
    if args.workers == 0 {
        bail!("--workers must be at least 1");
    }
    let plan = Arc::new(Plan::read(&args.plan)?);
    if plan.workers.len() < args.workers {
        bail!(
            "the plan has {} field workers, fewer than --workers {}",
            plan.workers.len(),
            args.workers
        );
    }
    let mut sims = Vec::with_capacity(args.workers);
    for (i, worker) in plan.workers.iter().take(args.workers).enumerate() {
        sims.push(Sim {
            conn: Conn::new(&args.servers[i % args.servers.len()], &worker.device)?,
            worker: worker.clone(),
            cursor: plan.head_seq,
        });
    }
    let prepared = Instant::now();
    let report = match args.mode {
        Mode::Noop => noop(&args, &plan, sims).await?,
        Mode::Visit => visit(&args, &plan, sims).await?,
        Mode::Sync => sync(&args, &plan, sims).await?,
        Mode::OneChange => one_change(&args, &plan, sims).await?,
    };
    eprintln!(
        "load: {} with {} workers done ({:.1} s with preparation)",
        args.mode.name(),
        args.workers,
        prepared.elapsed().as_secs_f64()
    );
    Ok(report)
}

/// Runs `f` on every item, at most `limit` at once, and returns the results in order.
async fn bounded<T, R, F, Fut>(items: Vec<T>, limit: usize, f: F) -> Result<Vec<R>>
where
    T: Send + 'static,
    R: Send + 'static,
    F: Fn(T) -> Fut + Send + Sync + 'static,
    Fut: std::future::Future<Output = Result<R>> + Send + 'static,
{
    let gate = Arc::new(Semaphore::new(limit.max(1)));
    let f = Arc::new(f);
    let mut tasks = JoinSet::new();
    let n = items.len();
    for (i, item) in items.into_iter().enumerate() {
        let gate = gate.clone();
        let f = f.clone();
        tasks.spawn(async move {
            let _permit = gate.acquire_owned().await?;
            Ok::<_, anyhow::Error>((i, f(item).await?))
        });
    }
    let mut out: Vec<Option<R>> = (0..n).map(|_| None).collect();
    while let Some(joined) = tasks.join_next().await {
        let (i, r) = joined.context("a preparing task panicked")??;
        out[i] = Some(r);
    }
    out.into_iter()
        .map(|r| r.context("a preparing task gave nothing"))
        .collect()
}

/// Brings every worker's cursor to the head of the log (untimed; the plan's `head_seq` lets
/// the first pull skip the seeded log).
async fn to_head(sims: Vec<Sim>, limit: usize) -> Result<Vec<Sim>> {
    bounded(sims, limit, |mut sim: Sim| async move {
        sim.cursor = sim.conn.catch_up(sim.cursor).await?.0;
        Ok(sim)
    })
    .await
}

/// Each worker's chain of `n` visits on its first household, made from the document the server
/// holds now.
async fn chains(sims: Vec<Sim>, n: usize, limit: usize) -> Result<Vec<(Sim, Vec<Vec<u8>>)>> {
    let today = Utc::now().date_naive();
    bounded(sims, limit, move |sim: Sim| async move {
        let household = sim.worker.households[0];
        let doc = prepare::fetch_document(&sim.conn, household).await?;
        let device = sim.worker.device.clone();
        let bodies = tokio::task::spawn_blocking(move || {
            prepare::visit_chain(doc, household, &device, n, today)
        })
        .await
        .context("making a chain panicked")??;
        Ok((sim, bodies))
    })
    .await
}

/// Prints when a timed phase begins or ends, in seconds since the epoch, so that a profiler
/// recording the server with the wall clock (`perf record -k CLOCK_REALTIME`) can keep to it
/// (`perf report --time FROM,TO`).
fn mark(what: &str) {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0.0, |d| d.as_secs_f64());
    eprintln!("load: {what} at {now:.6}");
}

/// Waits out the tasks of a timed phase and merges what they measured.
async fn gather(mut tasks: JoinSet<(Tally, Tally)>) -> Result<(Tally, Tally)> {
    let mut whole = Tally::default();
    let mut part = Tally::default();
    while let Some(joined) = tasks.join_next().await {
        let (w, p) = joined.context("a load task panicked")?;
        whole.merge(w);
        part.merge(p);
    }
    Ok((whole, part))
}

/// Keeps a worker whose connection fails from spinning: failures are counted, not hammered.
async fn after_failure(f: &Failure) {
    if matches!(f, Failure::Transport(_)) {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

fn households_label(plan: &Plan) -> String {
    format!("{} households", thousands(plan.households))
}

fn thousands(n: u64) -> String {
    let s = n.to_string();
    let mut out = String::new();
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

fn report(
    args: &RunArgs,
    plan: &Plan,
    seconds: f64,
    whole: &Tally,
    rows: Vec<Row>,
    notes: Vec<String>,
) -> Report {
    let summary = whole.summary();
    Report {
        mode: args.mode.name().into(),
        workers: args.workers,
        servers: args.servers.clone(),
        households: plan.households,
        seconds,
        per_second: summary.count as f64 / seconds.max(1e-9),
        summary,
        parts: BTreeMap::new(),
        notes,
        rows,
    }
}

async fn noop(args: &RunArgs, plan: &Plan, sims: Vec<Sim>) -> Result<Report> {
    let sims = to_head(sims, args.prepare_concurrency).await?;
    let start = Instant::now();
    mark("timed phase begins");
    let deadline = start + args.duration;
    let mut tasks = JoinSet::new();
    for sim in sims {
        tasks.spawn(async move {
            let mut tally = Tally::default();
            let mut cursor = sim.cursor;
            while Instant::now() < deadline {
                let t = Instant::now();
                match sim.conn.pull(cursor).await {
                    Ok(answer) => {
                        tally.ok(t.elapsed());
                        match answer.batch() {
                            Ok(b) => cursor = cursor.max(b.next_cursor),
                            Err(_) => tally.fail_as("bad answer".into()),
                        }
                    }
                    Err(f) => {
                        tally.fail(&f);
                        after_failure(&f).await;
                    }
                }
            }
            (tally, Tally::default())
        });
    }
    let (whole, _) = gather(tasks).await?;
    mark("timed phase ends");
    let seconds = start.elapsed().as_secs_f64();
    let s = whole.summary();
    let rate = s.count as f64 / seconds;
    let rows = vec![
        Row::new(
            format!(
                "no-op pulls per second, {} workers, {}",
                args.workers,
                households_label(plan)
            ),
            format!("{rate:.0}/s ({} pulls in {seconds:.1} s)", s.count),
            "≥ 2,000/s (SQLite)",
        ),
        Row::new(
            "no-op pull latency",
            s.latency_text(),
            "same at 23,000 and 1,000,000 households (≤ 1.2×)",
        ),
        Row::new("errors (non-2xx or no answer)", whole.errors_text(), "0"),
    ];
    Ok(report(args, plan, seconds, &whole, rows, vec![]))
}

async fn visit(args: &RunArgs, plan: &Plan, sims: Vec<Sim>) -> Result<Report> {
    if args.chain == 0 {
        bail!("--chain must be at least 1");
    }
    let prepared = chains(sims, args.chain, args.prepare_concurrency).await?;
    let (sims, bodies): (Vec<Sim>, Vec<Vec<Vec<u8>>>) = prepared.into_iter().unzip();
    let sims = to_head(sims, args.prepare_concurrency).await?;
    let start = Instant::now();
    mark("timed phase begins");
    let deadline = start + args.duration;
    let think = args.think;
    let mut tasks = JoinSet::new();
    let exhausted = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    for (sim, bodies) in sims.into_iter().zip(bodies) {
        let exhausted = exhausted.clone();
        tasks.spawn(async move {
            let mut whole = Tally::default();
            let mut push_only = Tally::default();
            let mut cursor = sim.cursor;
            let total = bodies.len();
            let mut used = 0;
            let mut stopped = false;
            for body in bodies {
                if Instant::now() >= deadline {
                    break;
                }
                used += 1;
                let t = Instant::now();
                if let Err(f) = sim.conn.push(body).await {
                    // The rest of the chain depends on this change: stop rather than send
                    // changes the server must refuse.
                    whole.fail(&f);
                    stopped = true;
                    break;
                }
                push_only.ok(t.elapsed());
                match sim.conn.pull(cursor).await {
                    Ok(answer) => {
                        whole.ok(t.elapsed());
                        match answer.batch() {
                            Ok(b) => cursor = cursor.max(b.next_cursor),
                            Err(_) => whole.fail_as("bad answer".into()),
                        }
                    }
                    Err(f) => {
                        whole.fail(&f);
                        after_failure(&f).await;
                    }
                }
                if !think.is_zero() {
                    tokio::time::sleep(think).await;
                }
            }
            if !stopped && used == total && Instant::now() < deadline {
                exhausted.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            }
            (whole, push_only)
        });
    }
    let (whole, push_only) = gather(tasks).await?;
    mark("timed phase ends");
    let seconds = start.elapsed().as_secs_f64();
    let s = whole.summary();
    let p = push_only.summary();
    let rate = p.count as f64 / seconds;
    let pace = if think.is_zero() {
        "as fast as possible (no think time)".to_string()
    } else {
        format!("{} ms think time", think.as_millis())
    };
    let mut notes = Vec::new();
    let ran_out = exhausted.load(std::sync::atomic::Ordering::Relaxed);
    if ran_out > 0 {
        notes.push(format!(
            "{ran_out} workers used their whole chain of {} visits before the end: raise --chain",
            args.chain
        ));
    }
    let rows = vec![
        Row::new(
            format!(
                "visit pushes per second (push + pull per loop, {pace}), {} workers, {}",
                args.workers,
                households_label(plan)
            ),
            format!("{rate:.0}/s ({} pushes in {seconds:.1} s)", p.count),
            "report",
        ),
        Row::new("push + pull latency", s.latency_text(), "report"),
        Row::new("push latency", p.latency_text(), "report"),
        Row::new("errors (non-2xx or no answer)", whole.errors_text(), "0"),
    ];
    let mut r = report(args, plan, seconds, &whole, rows, notes);
    r.per_second = rate;
    r.parts.insert("push".into(), p);
    Ok(r)
}

async fn sync(args: &RunArgs, plan: &Plan, sims: Vec<Sim>) -> Result<Report> {
    let prepared = chains(sims, 1, args.prepare_concurrency).await?;
    let (sims, bodies): (Vec<Sim>, Vec<Vec<Vec<u8>>>) = prepared.into_iter().unzip();
    let sims = to_head(sims, args.prepare_concurrency).await?;
    let barrier = Arc::new(Barrier::new(sims.len() + 1));
    let mut tasks = JoinSet::new();
    for (sim, mut bodies) in sims.into_iter().zip(bodies) {
        let barrier = barrier.clone();
        tasks.spawn(async move {
            let mut tally = Tally::default();
            let body = bodies.pop();
            barrier.wait().await;
            let Some(body) = body else {
                tally.fail_as("nothing prepared".into());
                return (tally, Tally::default());
            };
            let t = Instant::now();
            match sim.conn.push(body).await {
                Err(f) => tally.fail(&f),
                Ok(_) => match sim.conn.pull(sim.cursor).await {
                    Ok(_) => tally.ok(t.elapsed()),
                    Err(f) => tally.fail(&f),
                },
            }
            (tally, Tally::default())
        });
    }
    barrier.wait().await;
    let start = Instant::now();
    mark("timed phase begins");
    let (whole, _) = gather(tasks).await?;
    mark("timed phase ends");
    let seconds = start.elapsed().as_secs_f64();
    let s = whole.summary();
    let target = if args.workers <= 200 {
        "p99 < 250 ms, 0 errors"
    } else {
        "report"
    };
    let rows = vec![
        Row::new(
            format!(
                "{} workers at once, each pushes a visit and pulls, {}",
                args.workers,
                households_label(plan)
            ),
            s.latency_text(),
            target,
        ),
        Row::new(
            "all of them done after",
            format!("{:.0} ms", seconds * 1000.0),
            "report",
        ),
        Row::new("errors (non-2xx or no answer)", whole.errors_text(), "0"),
    ];
    Ok(report(args, plan, seconds, &whole, rows, vec![]))
}

async fn one_change(args: &RunArgs, plan: &Plan, sims: Vec<Sim>) -> Result<Report> {
    if args.repeat == 0 {
        bail!("--repeat must be at least 1");
    }
    let n = sims.len();
    let per_worker = args.repeat.div_ceil(n);
    let today = Utc::now().date_naive();
    // Each worker's group supervisor, on the next server address (with two instances the
    // change is pushed to one and pulled from the other), prepares its visits on the worker's
    // first household.
    let mut jobs = Vec::with_capacity(n);
    for (i, sim) in sims.into_iter().enumerate() {
        let supervisor = plan.supervisor_of(&sim.worker.group)?.clone();
        let conn = Conn::new(&args.servers[(i + 1) % args.servers.len()], &supervisor)?;
        jobs.push((sim, supervisor, conn));
    }
    let prepared = bounded(
        jobs,
        args.prepare_concurrency,
        move |(sim, supervisor, conn)| async move {
            let household: Uuid = sim.worker.households[0];
            let doc = prepare::fetch_document(&conn, household).await?;
            let bodies = tokio::task::spawn_blocking(move || {
                prepare::visit_chain(doc, household, &supervisor, per_worker, today)
            })
            .await
            .context("making a chain panicked")??;
            Ok((sim, conn, bodies))
        },
    )
    .await?;
    let mut workers = Vec::with_capacity(n);
    let mut supervisors = Vec::with_capacity(n);
    for (sim, conn, bodies) in prepared {
        workers.push(sim);
        supervisors.push((conn, bodies.into_iter()));
    }
    let mut workers = to_head(workers, args.prepare_concurrency).await?;
    let mut tally = Tally::default();
    let mut timed = Duration::ZERO;
    for r in 0..args.repeat {
        let w = r % n;
        let sim = &mut workers[w];
        // Untimed: the cursor at the head again (nothing else is expected), then the one change.
        sim.cursor = sim.conn.catch_up(sim.cursor).await?.0;
        let (conn, bodies) = &mut supervisors[w];
        let body = bodies.next().context("a supervisor's chain ran out")?;
        if let Err(f) = conn.push(body).await {
            tally.fail_as(format!("supervisor's push: {}", f.key()));
            continue;
        }
        let t = Instant::now();
        let answer = sim.conn.pull(sim.cursor).await;
        let took = t.elapsed();
        match answer.map(|a| a.batch()) {
            Err(f) => tally.fail(&f),
            Ok(Err(_)) => tally.fail_as("bad answer".into()),
            Ok(Ok(batch)) if batch.changes.len() != 1 => {
                tally.fail_as(format!("{} changes, not one", batch.changes.len()));
                sim.cursor = batch.next_cursor;
            }
            Ok(Ok(batch)) => {
                tally.ok(took);
                timed += took;
                sim.cursor = batch.next_cursor;
            }
        }
    }
    let s: Summary = tally.summary();
    let rows = vec![
        Row::new(
            format!(
                "a worker's pull of one new change ({} pulls one at a time over {n} workers), {}",
                args.repeat,
                households_label(plan)
            ),
            s.latency_text(),
            "same at 23,000 and 1,000,000 households (≤ 1.2×)",
        ),
        Row::new("errors", tally.errors_text(), "0"),
    ];
    Ok(report(
        args,
        plan,
        timed.as_secs_f64(),
        &tally,
        rows,
        vec![],
    ))
}
