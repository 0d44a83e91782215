//! `madadkar-load`: measures the sync server from a separate process. `seed` writes a synthetic
//! province straight into the server's storage and a plan of its devices; `run` drives a running
//! server over HTTP with prepared, authenticated requests and prints what it measured.

mod backend;
mod http;
mod plan;
mod prepare;
mod report;
mod run;
mod seed;
mod synth;

use std::path::PathBuf;
use std::time::Duration;

use anyhow::{Context, Result};
use clap::{Parser, Subcommand};

#[derive(Debug, Parser)]
#[command(
    name = "madadkar-load",
    version,
    about = "Load generator for Madadkar's sync server"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Seed the server's storage directly (stop the server first, or seed a fresh database) and
    /// write the plan `run` reads.
    Seed {
        /// The server's database: its SQLite file (`DATA_DIR/madadkar-server.sqlite3`).
        #[arg(long, alias = "database")]
        db: String,
        #[arg(long)]
        households: u64,
        /// Field workers (each gets one enrolled device).
        #[arg(long)]
        workers: usize,
        /// Groups, each with a supervisor (default: one per 20 field workers).
        #[arg(long)]
        groups: Option<usize>,
        /// Members of each household besides its head (at most 7).
        #[arg(long, default_value_t = 3)]
        members: usize,
        /// Seed of the synthetic names and national IDs.
        #[arg(long, default_value_t = 1403)]
        seed: u64,
        /// Households stored per transaction.
        #[arg(long, default_value_t = 1000)]
        batch: usize,
        /// Threads generating documents (default: the machine's cores).
        #[arg(long)]
        threads: Option<usize>,
        /// Make every household through the document API (about 20× slower) instead of
        /// copying one made that way with each household's text, ids and author put in.
        #[arg(long)]
        no_template: bool,
        /// Where to write the plan (device tokens: kept readable by its owner only).
        #[arg(long)]
        plan: PathBuf,
        /// Also write the seeding's figures here as JSON.
        #[arg(long)]
        json: Option<PathBuf>,
    },
    /// Drive running servers over HTTP and print the figures.
    Run {
        /// The server's address; several, comma-separated, share the workers round-robin.
        #[arg(long, value_delimiter = ',', required = true)]
        server: Vec<String>,
        #[arg(long)]
        plan: PathBuf,
        /// Simulated field workers (the plan's first N).
        #[arg(long)]
        workers: usize,
        #[arg(long, value_enum)]
        mode: run::Mode,
        /// Seconds of the timed phase (`noop`, `visit`).
        #[arg(long, default_value_t = 10.0)]
        duration: f64,
        /// Pause between a worker's loops in `visit` (0: as fast as possible).
        #[arg(long, default_value_t = 0)]
        think_ms: u64,
        /// Visits prepared per worker for `visit`.
        #[arg(long, default_value_t = 64)]
        chain: usize,
        /// Pulls timed by `one-change`.
        #[arg(long, default_value_t = 200)]
        repeat: usize,
        /// Requests under way at once while preparing (untimed).
        #[arg(long, default_value_t = 32)]
        prepare_concurrency: usize,
        /// Runtime threads of this process.
        #[arg(long, default_value_t = 2)]
        threads: usize,
        /// Also write the report here as JSON.
        #[arg(long)]
        json: Option<PathBuf>,
    },
}

fn write_json(path: &std::path::Path, value: &impl serde::Serialize) -> Result<()> {
    std::fs::write(path, serde_json::to_vec_pretty(value)?)
        .with_context(|| format!("writing {}", path.display()))
}

fn main() -> Result<()> {
    match Cli::parse().command {
        Command::Seed {
            db,
            households,
            workers,
            groups,
            members,
            seed,
            batch,
            threads,
            no_template,
            plan,
            json,
        } => {
            let threads = threads.unwrap_or_else(|| {
                std::thread::available_parallelism().map_or(2, std::num::NonZeroUsize::get)
            });
            let report = seed::seed(&seed::SeedArgs {
                db,
                households,
                workers,
                groups,
                members,
                seed,
                batch,
                threads,
                no_template,
                plan,
            })?;
            println!(
                "| figure | value |\n| --- | --- |\n| households seeded | {} ({} changes) |\n| field workers / groups / devices | {} / {} / {} |\n| enrolment | {:.1} s |\n| households | {:.1} s, {:.0} households/s |\n| database | {} |",
                report.households,
                report.changes,
                report.field_workers,
                report.groups,
                report.devices,
                report.enrol_secs,
                report.households_secs,
                report.households_per_sec,
                report
                    .database_bytes
                    .map_or("–".into(), |b| format!("{:.1} MiB", b as f64 / 1048576.0)),
            );
            if let Some(path) = json {
                write_json(&path, &report)?;
            }
        }
        Command::Run {
            server,
            plan,
            workers,
            mode,
            duration,
            think_ms,
            chain,
            repeat,
            prepare_concurrency,
            threads,
            json,
        } => {
            if !(duration.is_finite() && duration > 0.0) {
                anyhow::bail!("--duration must be a positive number of seconds");
            }
            let args = run::RunArgs {
                servers: server,
                plan,
                workers,
                duration: Duration::from_secs_f64(duration),
                mode,
                think: Duration::from_millis(think_ms),
                chain,
                repeat,
                prepare_concurrency,
            };
            let runtime = tokio::runtime::Builder::new_multi_thread()
                .worker_threads(threads.max(1))
                .enable_all()
                .build()
                .context("starting the runtime")?;
            let report = runtime.block_on(run::run(args))?;
            println!("{}", report.markdown());
            if let Some(path) = json {
                write_json(&path, &report)?;
            }
        }
    }
    Ok(())
}
