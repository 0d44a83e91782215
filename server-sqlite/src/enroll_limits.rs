//! The SQLite side of the enrolment rate limits (issue 13): the attempts, wrong codes and
//! lockouts of each source, in tables every server instance on the database shares and a
//! restart keeps; the migration step that creates them, and the three calls of
//! [`madadkar_server_storage::Storage`] that read and write them, each one transaction.

use chrono::{DateTime, Utc};
use rusqlite::{Connection, OptionalExtension, TransactionBehavior, params};

use super::SqlResult;
use madadkar_server_storage::{ENROLL_WINDOW, EnrollBudget, EnrollRefusal};

/// The migration step. Depends on no other table, so it may take any place among the steps
/// when steps of parallel work are merged (`IF NOT EXISTS`: it may run again too).
///
/// Times are Unix milliseconds. Each table only holds what still counts, pruned by every
/// attempt: attempts for a minute (the global budget admits at most that many a minute, so
/// at most that many rows), wrong codes for the lockout window (at most the attempts of that
/// window), lockouts until they end.
pub(super) const MIGRATION: &str = r#"
-- Enrolment attempts the limits let through, by source (an address, or 'unknown').
CREATE TABLE IF NOT EXISTS enroll_attempts (
    source TEXT NOT NULL,
    at INTEGER NOT NULL
) STRICT;
CREATE INDEX IF NOT EXISTS enroll_attempts_by_source ON enroll_attempts (source, at);
CREATE INDEX IF NOT EXISTS enroll_attempts_by_time ON enroll_attempts (at);
-- Wrong codes, by source, until the lockout window has passed or a code works.
CREATE TABLE IF NOT EXISTS enroll_failures (
    source TEXT NOT NULL,
    at INTEGER NOT NULL
) STRICT;
CREATE INDEX IF NOT EXISTS enroll_failures_by_source ON enroll_failures (source, at);
CREATE INDEX IF NOT EXISTS enroll_failures_by_time ON enroll_failures (at);
-- Sources locked out after too many wrong codes, until when.
CREATE TABLE IF NOT EXISTS enroll_lockouts (
    source TEXT PRIMARY KEY,
    until INTEGER NOT NULL
) STRICT, WITHOUT ROWID;
"#;

fn millis(t: DateTime<Utc>) -> i64 {
    t.timestamp_millis()
}

/// A duration in milliseconds, saturating (a lockout of ages is a lockout).
fn span(d: std::time::Duration) -> i64 {
    i64::try_from(d.as_millis()).unwrap_or(i64::MAX)
}

/// A stored time back; one out of chrono's range (a planted row) reads as the latest time
/// there is, so it refuses rather than lets through.
fn at(ms: i64) -> DateTime<Utc> {
    DateTime::from_timestamp_millis(ms).unwrap_or(DateTime::<Utc>::MAX_UTC)
}

/// When the attempts in `table` matching `filter` (parameters `?2`…) drop below `budget` in
/// the window ending at `now` (`?1` is the window's start), if they are at `budget` or more
/// now: when the `budget`-th most recent leaves the window.
fn full_until(
    c: &Connection,
    filter: &str,
    source: Option<&str>,
    budget: u32,
    window_start: i64,
) -> SqlResult<Option<DateTime<Utc>>> {
    // A budget of 0 would refuse everything for ever; the settings refuse it, and here it
    // reads as 1 like the old limiter did.
    let nth = i64::from(budget.max(1)) - 1;
    let sql = format!(
        "SELECT at FROM enroll_attempts WHERE at > ?1 {filter} ORDER BY at DESC LIMIT 1 OFFSET {nth}"
    );
    let mut stmt = c.prepare_cached(&sql)?;
    let found: Option<i64> = match source {
        Some(s) => stmt.query_row(params![window_start, s], |r| r.get(0)),
        None => stmt.query_row(params![window_start], |r| r.get(0)),
    }
    .optional()?;
    Ok(found.map(|t| at(t.saturating_add(span(ENROLL_WINDOW)))))
}

/// See [`madadkar_server_storage::Storage::enroll_attempt`].
pub(super) fn attempt(
    c: &mut Connection,
    source: &str,
    budget: &EnrollBudget,
    now: DateTime<Utc>,
) -> SqlResult<Option<EnrollRefusal>> {
    let tx = c.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let now_ms = millis(now);
    let window_start = now_ms.saturating_sub(span(ENROLL_WINDOW));
    // What no longer counts, for every source: keeps the tables bounded.
    tx.execute("DELETE FROM enroll_attempts WHERE at <= ?", [window_start])?;
    tx.execute(
        "DELETE FROM enroll_failures WHERE at <= ?",
        [now_ms.saturating_sub(span(budget.lockout))],
    )?;
    tx.execute("DELETE FROM enroll_lockouts WHERE until <= ?", [now_ms])?;
    let locked: Option<i64> = tx
        .query_row(
            "SELECT until FROM enroll_lockouts WHERE source = ?",
            [source],
            |r| r.get(0),
        )
        .optional()?;
    let refusal = if let Some(until) = locked {
        Some(EnrollRefusal::LockedOut { until: at(until) })
    } else if let Some(until) = full_until(
        &tx,
        "AND source = ?2",
        Some(source),
        budget.per_source_per_minute,
        window_start,
    )? {
        Some(EnrollRefusal::SourceRate { until })
    } else {
        full_until(&tx, "", None, budget.global_per_minute, window_start)?
            .map(|until| EnrollRefusal::Global { until })
    };
    if refusal.is_none() {
        tx.execute(
            "INSERT INTO enroll_attempts (source, at) VALUES (?, ?)",
            params![source, now_ms],
        )?;
    }
    // The pruning is kept even when refused.
    tx.commit()?;
    Ok(refusal)
}

/// See [`madadkar_server_storage::Storage::enroll_failed`].
pub(super) fn failed(
    c: &mut Connection,
    source: &str,
    budget: &EnrollBudget,
    now: DateTime<Utc>,
) -> SqlResult<bool> {
    let tx = c.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let now_ms = millis(now);
    tx.execute(
        "INSERT INTO enroll_failures (source, at) VALUES (?, ?)",
        params![source, now_ms],
    )?;
    let recent: i64 = tx.query_row(
        "SELECT count(*) FROM enroll_failures WHERE source = ? AND at > ?",
        params![source, now_ms.saturating_sub(span(budget.lockout))],
        |r| r.get(0),
    )?;
    let locked = recent >= i64::from(budget.lockout_failures.max(1));
    if locked {
        tx.execute(
            "INSERT INTO enroll_lockouts (source, until) VALUES (?1, ?2)
             ON CONFLICT (source) DO UPDATE SET until = max(until, ?2)",
            params![source, now_ms.saturating_add(span(budget.lockout))],
        )?;
        tx.execute("DELETE FROM enroll_failures WHERE source = ?", [source])?;
    }
    tx.commit()?;
    Ok(locked)
}

/// See [`madadkar_server_storage::Storage::enroll_succeeded`].
pub(super) fn succeeded(c: &mut Connection, source: &str) -> SqlResult<()> {
    c.execute("DELETE FROM enroll_failures WHERE source = ?", [source])?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;
    use crate::SqliteStorage;
    use madadkar_server_storage::Storage;

    fn budget() -> EnrollBudget {
        EnrollBudget {
            per_source_per_minute: 3,
            global_per_minute: 5,
            lockout_failures: 2,
            lockout: Duration::from_secs(600),
        }
    }

    fn t(seconds: i64) -> DateTime<Utc> {
        DateTime::from_timestamp(1_800_000_000 + seconds, 0).expect("time")
    }

    fn rows(path: &std::path::Path, table: &str) -> i64 {
        let c = Connection::open(path).expect("raw");
        c.query_row(&format!("SELECT count(*) FROM {table}"), [], |r| r.get(0))
            .expect("count")
    }

    /// The tables keep only what still counts: a day of attempts from ever new addresses
    /// leaves at most the global budget's rows, and wrong codes leave with their window.
    #[test]
    fn what_no_longer_counts_is_forgotten() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("s.sqlite3");
        let storage = SqliteStorage::open(&path).expect("open");
        let b = budget();
        for i in 0..2_000 {
            let source = format!("10.0.{}.{}", i / 250, i % 250);
            let now = t(i * 7);
            if storage
                .enroll_attempt(&source, &b, now)
                .expect("attempt")
                .is_none()
                && i % 3 == 0
            {
                storage.enroll_failed(&source, &b, now).expect("failed");
            }
        }
        assert!(rows(&path, "enroll_attempts") <= i64::from(b.global_per_minute));
        // Ten minutes of wrong codes, one every 21 s at most.
        assert!(rows(&path, "enroll_failures") <= 600 / 21 + 1);
        storage
            .enroll_attempt("10.9.9.9", &b, t(2_000 * 7 + 601))
            .expect("attempt");
        assert_eq!(rows(&path, "enroll_failures"), 0);
        assert_eq!(rows(&path, "enroll_lockouts"), 0);
    }

    #[test]
    fn a_lockout_lasts_its_time_from_the_wrong_code_that_earned_it() {
        let dir = tempfile::tempdir().expect("tempdir");
        let storage = SqliteStorage::open(&dir.path().join("s.sqlite3")).expect("open");
        let b = budget();
        assert!(!storage.enroll_failed("a", &b, t(0)).expect("failed"));
        assert!(storage.enroll_failed("a", &b, t(100)).expect("failed"));
        assert_eq!(
            storage.enroll_attempt("a", &b, t(200)).expect("attempt"),
            Some(EnrollRefusal::LockedOut { until: t(700) })
        );
        assert_eq!(
            storage.enroll_attempt("a", &b, t(700)).expect("attempt"),
            None
        );
        // The wrong codes that earned it are spent: one more does not lock again.
        assert!(!storage.enroll_failed("a", &b, t(701)).expect("failed"));
        // Wrong codes further apart than the window never add up.
        assert!(!storage.enroll_failed("b", &b, t(0)).expect("failed"));
        assert!(!storage.enroll_failed("b", &b, t(601)).expect("failed"));
        // A code that works forgives the wrong ones before it.
        storage.enroll_succeeded("b").expect("succeeded");
        assert!(!storage.enroll_failed("b", &b, t(602)).expect("failed"));
    }
}
