//! Outcome reports at province scale: every report of the catalogue on the coordinator's
//! replica (median of a few runs, the slowest run too) and the largest report exported to XLSX,
//! against one full scan of the visits' projection measured in the same run (the least any
//! report over the visits can cost). `--reports` runs these rows alone on a store generated
//! locally (no server).

use anyhow::Result;
use chrono::NaiveDate;
use madadkar_client::Store;
use madadkar_client::report::{ReportFilter, catalogue, export};

use crate::report::{Row, verdict};
use crate::stats::{median, ms, time};

/// Runs per report; the median and the slowest are reported.
const RUNS: usize = 5;

pub fn rows(store: &Store, today: NaiveDate) -> Result<Vec<Row>> {
    let scan = (0..RUNS)
        .map(|_| {
            let (n, d) = time(|| store.scan_visits_for_bench());
            n.map(|_| ms(d))
        })
        .collect::<Result<Vec<f64>, _>>()?;
    let base = median(&scan);
    let mut rows = Vec::new();
    let mut largest = (0usize, String::new());
    let filter = ReportFilter::default();
    for info in catalogue() {
        let mut samples = Vec::new();
        let mut size = 0;
        for _ in 0..RUNS {
            let (table, d) = time(|| store.report(&info.code, &filter, today));
            size = table?.rows.len();
            samples.push(ms(d));
        }
        if size > largest.0 {
            largest = (size, info.code.clone());
        }
        let mid = median(&samples);
        let worst = samples.iter().copied().fold(0.0, f64::max);
        rows.push(Row {
            figure: format!(
                "report `{}` ({size} rows), coordinator's replica",
                info.code
            ),
            value: format!("{mid:.0} ms (slowest {worst:.0} ms)"),
            target: "< 500 ms".into(),
            baseline: format!("visits projection scan {base:.0} ms"),
            ratio: format!("{:.1}×", mid / base.max(0.001)),
            verdict: verdict(worst < 500.0),
        });
    }
    let table = store.report(&largest.1, &filter, today)?;
    let (bytes, d) = time(|| export::to_xlsx(&table));
    let bytes = bytes?;
    let csv = time(|| export::to_csv(&table)).1;
    rows.push(Row {
        figure: format!(
            "export of the largest report (`{}`, {} rows) to XLSX",
            largest.1, largest.0
        ),
        value: format!("{:.0} ms ({} KiB)", ms(d), bytes.len() / 1024),
        target: "< 5 s".into(),
        baseline: format!("same table to CSV {:.0} ms", ms(csv)),
        ratio: format!("{:.1}×", ms(d) / ms(csv).max(0.001)),
        verdict: verdict(ms(d) < 5_000.0),
    });
    Ok(rows)
}
