//! Duplicate households: detection over a generated province (time, candidates, planted
//! duplicates found), the registration check (one new household scored against what its
//! blocking keys find) and precision and recall per band on labelled pairs. Pure computation
//! (no store, no server), so `--matching` runs these rows alone in a few seconds.

use std::collections::{HashMap, HashSet};

use anyhow::{Result, ensure};
use madadkar_schema::matching::labelled::{self, LabelledPair};
use madadkar_schema::matching::{
    Band, MatchRecord, Population, block_keys, detect_with_stats, match_one, score_pair,
};
use uuid::Uuid;

use crate::report::{Row, verdict};
use crate::stats::{median, ms, percentile, time};

/// Share of the generated province registered twice (by two groups).
const DUPLICATE_SHARE: f32 = 0.03;
/// Detection runs; the median is reported.
const DETECT_RUNS: usize = 3;
/// New households checked at registration.
const CHECKS: usize = 200;

/// The rows, and the per-variation table printed after the main one.
pub struct Matching {
    pub rows: Vec<Row>,
    pub variations: String,
}

pub fn run(households: usize, seed: u64, pairs: usize) -> Result<Matching> {
    ensure!(households >= 100, "--households must be at least 100");
    ensure!(pairs >= 100, "--pairs must be at least 100");
    let province = labelled::province(seed, households, DUPLICATE_SHARE);
    let mut rows = vec![detection_row(&province)?];
    rows.push(registration_row(&province.records, seed)?);
    let (quality_rows, variations) = quality_rows(seed, pairs);
    rows.extend(quality_rows);
    Ok(Matching { rows, variations })
}

/// Population statistics plus detection, timed together (what a coordinator's replica does),
/// median of [`DETECT_RUNS`].
fn detection_row(province: &labelled::Province) -> Result<Row> {
    let records = &province.records;
    let n = records.len();
    let mut times = Vec::new();
    let mut last = None;
    for _ in 0..DETECT_RUNS {
        let (result, took) = time(|| {
            let pop = Population::of(records);
            detect_with_stats(records, &pop)
        });
        times.push(ms(took));
        last = Some(result);
    }
    let Some((candidates, stats)) = last else {
        anyhow::bail!("detection never ran");
    };
    let found: HashSet<(Uuid, Uuid)> = candidates.iter().map(|c| (c.a, c.b)).collect();
    let planted = province.duplicates.len();
    let hits = province
        .duplicates
        .iter()
        .filter(|d| found.contains(d))
        .count();
    let likely = candidates
        .iter()
        .filter(|c| c.score.band == Some(Band::Likely))
        .count();
    let took = median(&times);
    let all_pairs = n as u64 * (n as u64 - 1) / 2;
    Ok(Row {
        figure: format!(
            "duplicate detection over {n} households ({:.0} % registered twice)",
            DUPLICATE_SHARE * 100.0
        ),
        value: format!(
            "{took:.0} ms: {} candidates ({likely} likely), {hits} of {planted} planted duplicates found; {} pairs scored",
            candidates.len(),
            stats.pairs_compared
        ),
        target: "< 2 s".into(),
        baseline: format!("all pairs: {all_pairs} to score"),
        ratio: format!(
            "{:.3} % of all pairs",
            stats.pairs_compared as f64 * 100.0 / all_pairs as f64
        ),
        verdict: verdict(took < 2_000.0),
    })
}

/// A new household scored against the households its blocking keys find in an index (what the
/// store's registration check does; the index itself is built once and not timed). Half the
/// new households are re-registrations of existing ones, half are new families.
fn registration_row(records: &[MatchRecord], seed: u64) -> Result<Row> {
    let pop = Population::of(records);
    let mut index: HashMap<String, Vec<usize>> = HashMap::new();
    for (i, r) in records.iter().enumerate() {
        for key in block_keys(r) {
            index.entry(key.as_str().to_string()).or_default().push(i);
        }
    }
    let fresh = labelled::population(seed ^ 0x5eed, CHECKS, 0.0);
    let mut times = Vec::with_capacity(CHECKS);
    let mut warned = 0;
    for (k, new_family) in fresh.into_iter().enumerate() {
        let mut new = if k % 2 == 0 {
            records[(k * 7919) % records.len()].clone()
        } else {
            new_family
        };
        new.household = Uuid::from_u128(u128::MAX - k as u128);
        let (candidates, took) = time(|| {
            let mut found: Vec<usize> = block_keys(&new)
                .iter()
                .filter_map(|key| index.get(key.as_str()))
                .flatten()
                .copied()
                .collect();
            found.sort_unstable();
            found.dedup();
            let others: Vec<MatchRecord> = found.iter().map(|i| records[*i].clone()).collect();
            match_one(&new, &others, &pop)
        });
        times.push(ms(took));
        if candidates.iter().any(|c| c.score.band.is_some()) {
            warned += 1;
        }
    }
    // The baseline: the same check scoring every household instead of the key's candidates.
    let new = &records[0];
    let (_, all) = time(|| {
        records
            .iter()
            .skip(1)
            .filter(|r| score_pair(new, r, &pop).band.is_some())
            .count()
    });
    let (p50, p95) = (median(&times), percentile(&times, 0.95));
    Ok(Row {
        figure: format!(
            "registration check: a new household against its block candidates among {}",
            records.len()
        ),
        value: format!(
            "p50 {p50:.2} ms, p95 {p95:.2} ms ({warned} of {CHECKS} warned; half were re-registrations)"
        ),
        target: "< 50 ms".into(),
        baseline: format!(
            "scoring all {} households: {:.0} ms",
            records.len(),
            ms(all)
        ),
        ratio: format!("{:.0}× faster", ms(all) / p50.max(0.001)),
        verdict: verdict(p95 < 50.0),
    })
}

/// Precision and recall per band on labelled pairs, as detection would propose them.
fn quality_rows(seed: u64, n: usize) -> (Vec<Row>, String) {
    let pairs: Vec<LabelledPair> = labelled::labelled_pairs(seed, n);
    let records: Vec<MatchRecord> = pairs
        .iter()
        .flat_map(|p| [p.a.clone(), p.b.clone()])
        .collect();
    let q = labelled::evaluate(&pairs, &Population::of(&records));
    let duplicates = pairs.iter().filter(|p| p.duplicate).count();
    let about = format!(
        "{n} labelled pairs ({duplicates} duplicates, {} variations)",
        q.per_variation.len()
    );
    let row = |figure: String, value: f64, target: &str, ok: Option<bool>| Row {
        figure,
        value: format!("{value:.3}"),
        target: target.into(),
        baseline: String::new(),
        ratio: String::new(),
        verdict: ok.map_or("", verdict),
    };
    let rows = vec![
        row(
            format!("likely band: precision, {about}"),
            q.likely.precision(),
            "≥ 0.98",
            Some(q.likely.precision() >= 0.98),
        ),
        row(
            "likely + possible bands: recall".into(),
            q.any_band.recall(),
            "≥ 0.95",
            Some(q.any_band.recall() >= 0.95),
        ),
        row(
            "likely band: recall (no adjudication needed)".into(),
            q.likely.recall(),
            "",
            None,
        ),
        row(
            "likely + possible bands: precision (the review queue's share of true duplicates)"
                .into(),
            q.any_band.precision(),
            "",
            None,
        ),
    ];
    (rows, q.variation_table())
}
