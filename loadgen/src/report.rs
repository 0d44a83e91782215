//! The runner's results: latencies and failures gathered per simulated device, merged into
//! percentiles, and printed as a markdown table (figure, value, target) and as JSON.

use std::collections::BTreeMap;
use std::time::Duration;

use serde::Serialize;

use crate::http::Failure;

/// What one simulated device (or the whole run, once merged) measured.
#[derive(Debug, Default, Clone)]
pub struct Tally {
    /// Each timed operation that succeeded, in microseconds.
    pub micros: Vec<u64>,
    /// Failures by `Failure::key`.
    pub failures: BTreeMap<String, u64>,
}

impl Tally {
    pub fn ok(&mut self, took: Duration) {
        self.micros
            .push(u64::try_from(took.as_micros()).unwrap_or(u64::MAX));
    }

    pub fn fail(&mut self, failure: &Failure) {
        self.fail_as(failure.key());
    }

    pub fn fail_as(&mut self, key: String) {
        *self.failures.entry(key).or_default() += 1;
    }

    pub fn merge(&mut self, other: Tally) {
        self.micros.extend(other.micros);
        for (k, n) in other.failures {
            *self.failures.entry(k).or_default() += n;
        }
    }

    pub fn errors(&self) -> u64 {
        self.failures.values().sum()
    }

    /// The failures as `"409 duplicate_seq: 3, transport: 1"`, or `"0"`.
    pub fn errors_text(&self) -> String {
        if self.failures.is_empty() {
            return "0".into();
        }
        let by: Vec<String> = self
            .failures
            .iter()
            .map(|(k, n)| format!("{k}: {n}"))
            .collect();
        format!("{} ({})", self.errors(), by.join(", "))
    }

    pub fn summary(&self) -> Summary {
        let mut sorted = self.micros.clone();
        sorted.sort_unstable();
        Summary {
            count: sorted.len() as u64,
            errors: self.errors(),
            failures: self.failures.clone(),
            p50_ms: percentile(&sorted, 0.50),
            p99_ms: percentile(&sorted, 0.99),
            max_ms: sorted.last().map(|m| *m as f64 / 1000.0),
        }
    }
}

/// Nearest-rank percentile of sorted microseconds, in milliseconds.
fn percentile(sorted: &[u64], p: f64) -> Option<f64> {
    if sorted.is_empty() {
        return None;
    }
    let rank = ((p * sorted.len() as f64).ceil() as usize).clamp(1, sorted.len());
    Some(sorted[rank - 1] as f64 / 1000.0)
}

#[derive(Debug, Clone, Serialize)]
pub struct Summary {
    pub count: u64,
    pub errors: u64,
    pub failures: BTreeMap<String, u64>,
    pub p50_ms: Option<f64>,
    pub p99_ms: Option<f64>,
    pub max_ms: Option<f64>,
}

impl Summary {
    pub fn latency_text(&self) -> String {
        let ms = |v: Option<f64>| v.map_or("–".into(), |v| format!("{v:.1} ms"));
        format!("p50 {}, p99 {}", ms(self.p50_ms), ms(self.p99_ms))
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct Row {
    pub figure: String,
    pub value: String,
    pub target: String,
}

impl Row {
    pub fn new(
        figure: impl Into<String>,
        value: impl Into<String>,
        target: impl Into<String>,
    ) -> Self {
        Self {
            figure: figure.into(),
            value: value.into(),
            target: target.into(),
        }
    }
}

/// A run's report: the table and the figures behind it.
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    pub mode: String,
    pub workers: usize,
    pub servers: Vec<String>,
    /// Households seeded in the database the plan describes.
    pub households: u64,
    /// The timed phase's wall time.
    pub seconds: f64,
    /// Timed operations per second over the timed phase.
    pub per_second: f64,
    pub summary: Summary,
    /// Extra latencies (e.g. the push alone in `visit`).
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub parts: BTreeMap<String, Summary>,
    pub notes: Vec<String>,
    pub rows: Vec<Row>,
}

impl Report {
    pub fn markdown(&self) -> String {
        let mut out = String::from("| figure | value | target |\n| --- | --- | --- |\n");
        for r in &self.rows {
            out.push_str(&format!("| {} | {} | {} |\n", r.figure, r.value, r.target));
        }
        for n in &self.notes {
            out.push_str(&format!("\n{n}\n"));
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_are_nearest_rank() {
        let sorted: Vec<u64> = (1..=100).map(|i| i * 1000).collect();
        assert_eq!(percentile(&sorted, 0.5), Some(50.0));
        assert_eq!(percentile(&sorted, 0.99), Some(99.0));
        assert_eq!(percentile(&[7000], 0.99), Some(7.0));
        assert_eq!(percentile(&[], 0.5), None);
    }

    #[test]
    fn failures_are_counted_by_status_and_code() {
        let mut t = Tally::default();
        t.fail(&Failure::Status(409, "duplicate_seq".into()));
        t.fail(&Failure::Status(409, "duplicate_seq".into()));
        t.fail(&Failure::Status(502, String::new()));
        t.fail(&Failure::Transport("reset".into()));
        assert_eq!(t.errors(), 4);
        assert_eq!(
            t.errors_text(),
            "4 (409 duplicate_seq: 2, 502: 1, transport: 1)"
        );
    }
}
