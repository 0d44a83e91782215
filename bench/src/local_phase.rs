//! Local work on the coordinator's store against the same data as plain SQLite rows: adding a
//! visit, the first page of the caseload, searching by name and opening a household.

use std::path::Path;

use anyhow::{Context, Result, bail};
use chrono::NaiveDate;
use madadkar_client::forms::HouseholdText;
use madadkar_client::{ListQuery, SortBy, Store, demo, query};
use madadkar_schema::{ChangeMeta, NationalId};
use rusqlite::{Connection, params};
use uuid::Uuid;

use crate::province::{Province, visit};
use crate::report::{Row, verdict};
use crate::stats::{median, ms, percentile, repeat, time};

/// Samples per timed read.
pub const READS: usize = 50;

/// Visits in the household opened by the read benchmark.
const BIG_VISITS: u64 = 50;

/// Search terms, cycled: parts of names, with Arabic and Persian letters and a zero-width joiner.
const TERMS: [&str; 5] = ["ریم", "محمدرض", "علي", "نیک‌نا", "زهرا كاظمي"];

/// Adds a household with 50 visits to the coordinator, copies its projections as plain rows in
/// `work`, then measures writes and reads on both: the write rows, then the read rows.
pub fn run(
    province: &Province,
    coordinator: &mut Store,
    ids: &[Uuid],
    work: &Path,
    seed: u64,
    samples: usize,
) -> Result<Vec<Row>> {
    let today = province.today;
    let big = add_big_household(coordinator, seed + 1, today)?;
    let plain_path = work.join("plain.sqlite3");
    let plain = plain_copy(coordinator, &plain_path)?;
    let mut rng = demo::Rng::new(seed + 2);
    // As the desktop app does while unlocked: checkpoints on a thread of their own.
    coordinator.checkpoint_in_background()?;
    eprintln!("bench: timing writes");
    let writes = Writes::measure(
        coordinator,
        &plain,
        &plain_path,
        ids,
        &mut rng,
        today,
        samples,
    )?;
    let mut rows = Vec::from(writes.rows(province.households));
    rows.push(list_row(coordinator, &plain, province.households)?);
    rows.push(search_row(coordinator, &plain)?);
    rows.push(open_row(coordinator, &plain, big)?);
    rows.extend(duplicate_rows(coordinator, province.households)?);
    Ok(rows)
}

/// The duplicates inbox over every household of the coordinator's replica (its population
/// statistics built from scratch, as after a sync), and the check a registration form runs:
/// half the samples the head of a household already held (a hit), half a new family.
fn duplicate_rows(coordinator: &Store, households: usize) -> Result<Vec<Row>> {
    let (pairs, took) = time(|| coordinator.duplicate_pairs(None));
    let (pairs, detect_ms) = (pairs?.len(), ms(took));
    let page = coordinator.list(&ListQuery {
        limit: READS,
        ..Default::default()
    })?;
    let texts: Vec<HouseholdText> = page
        .items
        .iter()
        .enumerate()
        .map(|(i, h)| {
            let (first, last) = h.head_name.split_once(' ').unwrap_or((&h.head_name, "x"));
            let nid = if i % 2 == 0 {
                h.head_national_id.clone()
            } else {
                Some(NationalId::with_check_digit(900_000_000 + i as u32).to_string())
            };
            HouseholdText {
                first_name: Some(first.into()),
                last_name: Some(last.into()),
                national_id: nid,
                district: Some(h.district.clone()),
                address: Some(h.address.clone()),
                phone: h.phone.clone(),
                ..Default::default()
            }
        })
        .collect();
    let mut i = 0;
    let mut hits = 0;
    let checks = repeat(texts.len(), || {
        let found = coordinator.registration_matches(&texts[i % texts.len()])?;
        if i % 2 == 0 && !found.is_empty() {
            hits += 1;
        }
        i += 1;
        Ok(())
    })?;
    let (p50, p99) = (median(&checks), percentile(&checks, 0.99));
    Ok(vec![
        Row {
            figure: format!("duplicate detection over {households} households (coordinator)"),
            value: format!("{:.0} ms", detect_ms),
            target: "< 2 s".into(),
            baseline: format!("{pairs} candidate pairs"),
            ratio: "-".into(),
            verdict: verdict(detect_ms < 2_000.0),
        },
        Row {
            figure: "duplicate check at registration, p50 / p99".into(),
            value: format!("{p50:.2} / {p99:.2} ms"),
            target: "< 50 ms".into(),
            baseline: format!("{hits} of {} known heads found", texts.len().div_ceil(2)),
            ratio: "-".into(),
            verdict: verdict(p99 < 50.0),
        },
    ])
}

/// A household with 50 visits over two years, recorded by the coordinator.
fn add_big_household(coordinator: &mut Store, seed: u64, today: NaiveDate) -> Result<Uuid> {
    let identity = coordinator.identity().cloned().context("identity")?;
    let meta = ChangeMeta::new(
        &identity.worker_id,
        &identity.worker_name,
        &identity.device_id.to_string(),
    );
    let mut rng = demo::Rng::new(seed);
    let shape = demo::Shape {
        extra_members: (4, 5),
        visits: (BIG_VISITS, BIG_VISITS + 1),
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
    Ok(id)
}

/// A copy of the store's projections only (no documents, changes or outbox) at `path`, opened
/// with the same durability and the same encryption as the store (an ATTACH without a KEY
/// takes the main database's key), so the baseline pays for SQLCipher as the store does.
fn plain_copy(coordinator: &Store, path: &Path) -> Result<Connection> {
    {
        let conn = coordinator.connection()?;
        conn.execute("ATTACH DATABASE ? AS copy", [path.to_string_lossy()])?;
        conn.query_row("SELECT sqlcipher_export('copy')", [], |_| Ok(()))?;
        conn.execute("DETACH DATABASE copy", [])?;
        let plain = coordinator.keyed_connection(path)?;
        plain.execute_batch(
            "DROP TABLE changes; DROP TABLE outbox; DROP TABLE documents; VACUUM;",
        )?;
    }
    let plain = coordinator.keyed_connection(path)?;
    // The store's own pragmas (client/src/sql.rs `configure`).
    plain.pragma_update(None, "cache_size", -32_768)?;
    plain.pragma_update(None, "journal_mode", "WAL")?;
    plain.pragma_update(None, "synchronous", "FULL")?;
    Ok(plain)
}

/// Times of adding a visit, in milliseconds.
struct Writes {
    /// To the household the worker has open.
    open: Vec<f64>,
    /// To a household nobody opened, so its document is loaded inside the write.
    cold: Vec<f64>,
    /// A plain row insert and household update in one transaction.
    plain: Vec<f64>,
}

impl Writes {
    fn measure(
        coordinator: &mut Store,
        plain: &Connection,
        plain_path: &Path,
        ids: &[Uuid],
        rng: &mut demo::Rng,
        today: NaiveDate,
        samples: usize,
    ) -> Result<Self> {
        let mut pick = || ids[rng.below(ids.len() as u64) as usize];
        // As a worker does it: the household is open (its page was shown), then the visit is saved.
        let mut open = Vec::with_capacity(samples);
        for _ in 0..samples {
            let h = pick();
            coordinator.household(h)?;
            let (result, took) = time(|| coordinator.add_visit(h, &visit(today)));
            result?;
            open.push(ms(took));
        }
        let cold = repeat(samples, || {
            coordinator.add_visit(pick(), &visit(today))?;
            Ok(())
        })?;
        let writer = coordinator.keyed_connection(plain_path)?;
        let plain = plain_writes(plain, writer, &mut pick, today, samples)?;
        Ok(Self { open, cold, plain })
    }

    /// The cold write's row, then the open household's.
    fn rows(&self, households: usize) -> [Row; 2] {
        let (p50, p99) = (percentile(&self.open, 0.5), percentile(&self.open, 0.99));
        let (b50, b99) = (percentile(&self.plain, 0.5), percentile(&self.plain, 0.99));
        let (k50, k99) = (percentile(&self.cold, 0.5), percentile(&self.cold, 0.99));
        [
            Row {
                figure: format!(
                    "add a visit to a household not opened before ({households} in the store)"
                ),
                value: format!("p50 {k50:.2} ms, p99 {k99:.2} ms"),
                target: "report".into(),
                baseline: format!("plain row insert: p50 {b50:.2} ms, p99 {b99:.2} ms"),
                ratio: format!("{:.2}× p50, {:.2}× p99", k50 / b50, k99 / b99),
                verdict: "report",
            },
            Row {
                figure: format!("add a visit to the open household ({households} in the store)"),
                value: format!("p50 {p50:.2} ms, p99 {p99:.2} ms"),
                target: "p99 ≤ 3× plain rows, p50 ≤ 2×".into(),
                baseline: format!("plain row insert: p50 {b50:.2} ms, p99 {b99:.2} ms"),
                ratio: format!("{:.2}× p50, {:.2}× p99", p50 / b50, p99 / b99),
                verdict: verdict(p99 / b99 <= 3.0 && p50 / b50 <= 2.0),
            },
        ]
    }
}

/// The baseline write: a visit row inserted and its household's counters updated, durably.
fn plain_writes(
    plain: &Connection,
    mut conn: Connection,
    pick: &mut impl FnMut() -> Uuid,
    today: NaiveDate,
    samples: usize,
) -> Result<Vec<f64>> {
    plain.execute_batch(
        "CREATE TABLE plain_visits (id TEXT PRIMARY KEY, household_id TEXT NOT NULL, date TEXT NOT NULL, worker_id TEXT, kind TEXT, observations TEXT, needs TEXT, followup_date TEXT);
         CREATE INDEX plain_visits_household ON plain_visits (household_id, date);",
    )?;
    conn.pragma_update(None, "synchronous", "FULL")?;
    repeat(samples, || {
        let h = pick();
        let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        tx.execute(
            "INSERT INTO plain_visits VALUES (?, ?, ?, ?, 'home', ?, '{\"income\":2,\"food\":1}', NULL)",
            params![Uuid::now_v7().to_string(), h.to_string(), today.to_string(), "w", "بازدید پیگیری"],
        )?;
        tx.execute(
            "UPDATE p_households SET visit_count = visit_count + 1, last_visit = ? WHERE id = ?",
            params![today.to_string(), h.to_string()],
        )?;
        tx.commit()?;
        Ok(())
    })
}

/// The first page of the caseload, filtered and sorted.
fn list_row(coordinator: &Store, plain: &Connection, households: usize) -> Result<Row> {
    let list_query = ListQuery {
        district: Some("منطقه ۳".into()),
        status: Some("active".into()),
        sort: SortBy::Need,
        limit: 50,
        ..Default::default()
    };
    let list_ours = repeat(READS, || Ok(coordinator.list(&list_query).map(|_| ())?))?;
    let list_plain = repeat(READS, || Ok(query::list(plain, &list_query).map(|_| ())?))?;
    let (lo, lp) = (median(&list_ours), median(&list_plain));
    Ok(Row {
        figure: format!("first page of the caseload, filtered and sorted, {households} households"),
        value: format!("{lo:.2} ms"),
        target: "< 20 ms; ≤ 1.2× plain rows".into(),
        baseline: format!("plain rows: {lp:.2} ms"),
        ratio: format!("{:.2}×", lo / lp),
        verdict: verdict(lo < 20.0 && lo / lp <= 1.2),
    })
}

/// Search by part of a name.
fn search_row(coordinator: &Store, plain: &Connection) -> Result<Row> {
    let mut t = 0;
    let search_ours = repeat(READS, || {
        t += 1;
        Ok(coordinator.search(TERMS[t % TERMS.len()], 50).map(|_| ())?)
    })?;
    let search_plain = repeat(READS, || {
        t += 1;
        Ok(query::search(plain, TERMS[t % TERMS.len()], 50).map(|_| ())?)
    })?;
    let (so, sp) = (median(&search_ours), median(&search_plain));
    Ok(Row {
        figure: "search by part of a name (normalised Persian)".into(),
        value: format!("{so:.2} ms"),
        target: "< 50 ms; ≤ 1.2× plain rows".into(),
        baseline: format!("plain rows: {sp:.2} ms"),
        ratio: format!("{:.2}×", so / sp),
        verdict: verdict(so < 50.0 && so / sp <= 1.2),
    })
}

/// Opening the household with 50 visits: loading its document vs reading its rows.
fn open_row(coordinator: &Store, plain: &Connection, big: Uuid) -> Result<Row> {
    let open_ours = repeat(READS, || Ok(coordinator.household(big).map(|_| ())?))?;
    let open_plain = repeat(READS, || {
        let key = big.to_string();
        plain.query_row(
            "SELECT * FROM p_households WHERE id = ?",
            [&key],
            |_| Ok(()),
        )?;
        let mut stmt =
            plain.prepare_cached("SELECT * FROM p_visits WHERE household_id = ? ORDER BY date")?;
        let count = stmt.query_map([&key], |_| Ok(()))?.count();
        if (count as u64) < BIG_VISITS {
            bail!("plain copy lacks the visits");
        }
        Ok(())
    })?;
    let (oo, op) = (median(&open_ours), median(&open_plain));
    Ok(Row {
        figure: "open a household with 50 visits (load its document)".into(),
        value: format!("{oo:.2} ms"),
        target: "< 10 ms".into(),
        baseline: format!("plain rows (household + visit rows): {op:.3} ms"),
        ratio: format!("{:.1}×", oo / op),
        verdict: verdict(oo < 10.0),
    })
}
