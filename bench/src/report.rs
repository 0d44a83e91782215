//! The results: one row per figure, its verdict and units, the printed table and the Markdown
//! report (`docs/benchmarks.md`).

use std::path::Path;
use std::time::Duration;

use anyhow::Result;

use crate::args::Args;
use crate::local_phase::READS;

/// One line of the results table.
pub struct Row {
    pub figure: String,
    pub value: String,
    pub target: String,
    pub baseline: String,
    pub ratio: String,
    pub verdict: &'static str,
}

pub fn verdict(ok: bool) -> &'static str {
    if ok { "met" } else { "MISSED" }
}

/// A byte count in the unit that keeps it readable.
pub fn kib(bytes: u64) -> String {
    if bytes < 10 * 1024 {
        format!("{bytes} B")
    } else if bytes < 10 * 1024 * 1024 {
        format!("{:.1} KiB", bytes as f64 / 1024.0)
    } else {
        format!("{:.1} MiB", bytes as f64 / 1024.0 / 1024.0)
    }
}

/// The results as a Markdown table (printed, and the body of the report).
pub fn table(rows: &[Row]) -> String {
    let mut table = String::from(
        "| figure | measured | target | baseline (same run) | ratio | |\n| --- | --- | --- | --- | --- | --- |\n",
    );
    for r in rows {
        table.push_str(&format!(
            "| {} | {} | {} | {} | {} | {} |\n",
            r.figure, r.value, r.target, r.baseline, r.ratio, r.verdict
        ));
    }
    table
}

/// Writes the Markdown report: how and where it was measured, then the table.
pub fn write_markdown(
    out: &Path,
    args: &Args,
    households: usize,
    seeding: Duration,
    table: &str,
) -> Result<()> {
    let report = format!(
        "# Benchmarks\n\nMeasured by `madadkar-bench` (release build) on {} with {households} households \
         (seed {}, {} samples per write, {READS} per read, {} concurrent workers), {}.\n\
         Seeding the province (generating and pushing it) took {:.0} s. Medians unless a percentile is named; \
         the machine is shared and noisy, so read ratios rather than absolute times.\n\n{table}\n",
        machine(),
        args.seed,
        args.samples,
        args.workers,
        madadkar_schema::iso_date(chrono::Utc::now().date_naive()),
        seeding.as_secs_f64(),
    );
    std::fs::write(out, report)?;
    Ok(())
}

/// The machine the figures were measured on: cores, CPU model, memory.
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
