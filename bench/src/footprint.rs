//! Memory and disk: peak resident memory of the processes taking part in the first sync, and
//! the size of the coordinator's store against the same data as plain JSON.

use std::path::Path;
use std::process::{Child, Output};
use std::time::{Duration, Instant};

use anyhow::Result;
use madadkar_client::Store;

use crate::report::{Row, kib};

/// How often a child's peak memory is read while it runs.
const POLL: Duration = Duration::from_millis(20);

/// Peak resident memory of a process, from /proc (0 when unavailable).
pub fn peak_rss_kib(pid: u32) -> u64 {
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

/// Waits for a spawned child, reading its peak memory as it runs: (output, time from `start`
/// until it exited, peak memory in KiB).
pub fn wait_watching_peak(mut child: Child, start: Instant) -> Result<(Output, Duration, u64)> {
    let pid = child.id();
    let mut peak = 0;
    while child.try_wait()?.is_none() {
        peak = peak.max(peak_rss_kib(pid));
        std::thread::sleep(POLL);
    }
    let took = start.elapsed();
    Ok((child.wait_with_output()?, took, peak))
}

fn file_size(path: &Path) -> u64 {
    std::fs::metadata(path).map(|m| m.len()).unwrap_or(0)
}

/// The memory row (peaks measured during the first sync, in KiB) and the disk row.
pub fn rows(
    coordinator: &Store,
    client_peak_kib: u64,
    server_peak_kib: u64,
    json_bytes: u64,
) -> Result<[Row; 2]> {
    // Fold the write-ahead log into the database so the file holds the whole store.
    let conn = coordinator.connection()?;
    conn.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()))?;
    let store_bytes = file_size(coordinator.path());
    Ok([
        Row {
            figure: "peak memory during the first full sync".into(),
            value: format!(
                "client {} , server {}",
                kib(client_peak_kib * 1024),
                kib(server_peak_kib * 1024)
            ),
            target: "report".into(),
            baseline: String::new(),
            ratio: String::new(),
            verdict: "report",
        },
        Row {
            figure: "coordinator's store on disk vs the same data as plain JSON".into(),
            value: kib(store_bytes),
            target: "report".into(),
            baseline: format!("JSON: {}", kib(json_bytes)),
            ratio: format!("{:.2}×", store_bytes as f64 / json_bytes as f64),
            verdict: "report",
        },
    ])
}
