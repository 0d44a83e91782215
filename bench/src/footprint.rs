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

/// Households the snapshot dictionary is trained on, and its size.
const DICTIONARY_SAMPLES: usize = 3_000;
const DICTIONARY_BYTES: usize = 64 * 1024;

/// Trains the dictionary stored snapshots are compressed with on households generated as the
/// demo and the benchmark generate them (their keys, enumerations and shape are what the
/// dictionary captures; names and notes vary), and writes it to `out`.
pub fn train_dictionary(out: &Path, seed: u64) -> Result<()> {
    let work = tempfile::tempdir()?;
    let today = chrono::Local::now().date_naive();
    let mut store = Store::open(work.path(), &madadkar_e2e::passphrase())?;
    store.init("trainer", "trainer", None)?;
    madadkar_client::demo::generate_with(
        &mut store,
        DICTIONARY_SAMPLES,
        seed,
        today,
        madadkar_client::demo::Shape::PROVINCE,
    )?;
    let mut samples = Vec::new();
    for id in store.household_ids()? {
        samples.push(store.document(id)?.save_nocompress());
    }
    let dictionary = dictionary_from(&samples)?;
    std::fs::write(out, &dictionary)?;
    eprintln!(
        "bench: trained a {} dictionary on {} households",
        kib(dictionary.len() as u64),
        samples.len()
    );
    Ok(())
}

/// A zstd dictionary of the size the app's is, trained on saved documents.
fn dictionary_from(samples: &[Vec<u8>]) -> Result<Vec<u8>> {
    Ok(zstd::dict::from_samples(samples, DICTIONARY_BYTES)?)
}

/// The store's bytes by table (each with its indexes), largest first, from SQLite's `dbstat`.
pub fn breakdown(coordinator: &Store) -> Result<String> {
    let conn = coordinator.connection()?;
    let mut stmt = conn.prepare(
        "SELECT coalesce(m.tbl_name, s.name) || CASE WHEN m.type = 'index' THEN ' · ' || s.name ELSE '' END, sum(s.pgsize) AS bytes \
         FROM dbstat s LEFT JOIN sqlite_schema m ON m.name = s.name \
         GROUP BY 1 ORDER BY bytes DESC",
    )?;
    let rows = stmt.query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)?)))?;
    let mut out = String::from("| table (with its indexes) | bytes |\n| --- | --- |\n");
    for row in rows {
        let (name, bytes) = row?;
        out.push_str(&format!("| {name} | {} |\n", kib(bytes as u64)));
    }
    let (changes, change_bytes, visits): (i64, i64, i64) = conn.query_row(
        "SELECT (SELECT count(*) FROM changes), (SELECT coalesce(sum(length(bytes)), 0) FROM changes), \
         (SELECT count(*) FROM p_visits)",
        [],
        |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
    )?;
    // Each document saved compressed (Automerge's own) and uncompressed, once.
    let (mut saved, mut plains) = (Vec::new(), Vec::new());
    for id in coordinator.household_ids()? {
        let mut doc = coordinator.document(id)?;
        saved.extend(doc.save());
        plains.push(doc.save_nocompress());
    }
    let (mut each1, mut each3) = (0usize, 0usize);
    for p in &plains {
        each1 += zstd::bulk::compress(p, 1)?.len();
        each3 += zstd::bulk::compress(p, 3)?.len();
    }
    // A dictionary trained on this store's first 500 documents, as the built-in one is trained.
    let dict = dictionary_from(&plains[..plains.len().min(500)])?;
    let mut c = zstd::bulk::Compressor::with_dictionary(3, &dict)?;
    let mut with_dict = 0usize;
    for p in &plains {
        with_dict += c.compress(p)?.len();
    }
    out.push_str(&format!(
        "each uncompressed alone: zstd 1 {}, zstd 3 {}; with a 64 KiB dictionary {} ({} docs)\n",
        kib(each1 as u64),
        kib(each3 as u64),
        kib(with_dict as u64),
        plains.len()
    ));
    let plain = plains.concat();
    for level in [3, 9, 19] {
        out.push_str(&format!(
            "zstd {level}: saved {} -> {}; uncompressed {} -> {}\n",
            kib(saved.len() as u64),
            kib(zstd::bulk::compress(&saved, level)?.len() as u64),
            kib(plain.len() as u64),
            kib(zstd::bulk::compress(&plain, level)?.len() as u64),
        ));
    }
    out.push_str(&format!(
        "\n{changes} changes stored apart ({}), {visits} visits\n",
        kib(change_bytes as u64)
    ));
    Ok(out)
}
