//! The PostgreSQL side of the enrolment rate limits (`Storage::enroll_attempt`,
//! `enroll_failed`): sliding windows counted in tables every instance shares, under one
//! advisory lock so that two instances cannot both take the last attempt of a budget.

use chrono::{DateTime, Utc};
use deadpool_postgres::GenericClient;
use madadkar_server_storage::{ENROLL_WINDOW, EnrollBudget, EnrollRefusal};

use super::PgResult;
use crate::schema::ENROLL_LOCK;

fn span(d: std::time::Duration) -> i64 {
    i64::try_from(d.as_millis()).unwrap_or(i64::MAX)
}

fn at(ms: i64) -> DateTime<Utc> {
    DateTime::from_timestamp_millis(ms).unwrap_or(DateTime::<Utc>::MAX_UTC)
}

/// When the window holding `budget` attempts (of `source`, or of everyone) has room again:
/// the `budget`-th most recent attempt leaves it; `None` while there is room.
async fn full_until(
    c: &impl GenericClient,
    source: Option<&str>,
    budget: u32,
    window_start: i64,
) -> PgResult<Option<DateTime<Utc>>> {
    let nth = i64::from(budget.max(1)) - 1;
    let row = match source {
        Some(s) => {
            c.query_opt(
                "SELECT at FROM enroll_attempts WHERE at > $1 AND source = $2
                 ORDER BY at DESC LIMIT 1 OFFSET $3",
                &[&window_start, &s, &nth],
            )
            .await?
        }
        None => {
            c.query_opt(
                "SELECT at FROM enroll_attempts WHERE at > $1 ORDER BY at DESC LIMIT 1 OFFSET $2",
                &[&window_start, &nth],
            )
            .await?
        }
    };
    Ok(row
        .map(|r| r.try_get::<_, i64>(0))
        .transpose()?
        .map(|t| at(t.saturating_add(span(ENROLL_WINDOW)))))
}

pub(super) async fn attempt(
    c: &mut deadpool_postgres::Client,
    source: &str,
    budget: &EnrollBudget,
    now: DateTime<Utc>,
) -> PgResult<Option<EnrollRefusal>> {
    let tx = c.transaction().await?;
    tx.execute("SELECT pg_advisory_xact_lock($1)", &[&ENROLL_LOCK])
        .await?;
    let now_ms = now.timestamp_millis();
    let window_start = now_ms.saturating_sub(span(ENROLL_WINDOW));
    tx.execute(
        "DELETE FROM enroll_attempts WHERE at <= $1",
        &[&window_start],
    )
    .await?;
    tx.execute(
        "DELETE FROM enroll_failures WHERE at <= $1",
        &[&now_ms.saturating_sub(span(budget.lockout))],
    )
    .await?;
    tx.execute("DELETE FROM enroll_lockouts WHERE until <= $1", &[&now_ms])
        .await?;
    let locked: Option<i64> = tx
        .query_opt(
            "SELECT until FROM enroll_lockouts WHERE source = $1",
            &[&source],
        )
        .await?
        .map(|r| r.try_get(0))
        .transpose()?;
    let refusal = if let Some(until) = locked {
        Some(EnrollRefusal::LockedOut { until: at(until) })
    } else if let Some(until) = full_until(
        &tx,
        Some(source),
        budget.per_source_per_minute,
        window_start,
    )
    .await?
    {
        Some(EnrollRefusal::SourceRate { until })
    } else {
        full_until(&tx, None, budget.global_per_minute, window_start)
            .await?
            .map(|until| EnrollRefusal::Global { until })
    };
    if refusal.is_none() {
        tx.execute(
            "INSERT INTO enroll_attempts (source, at) VALUES ($1, $2)",
            &[&source, &now_ms],
        )
        .await?;
    }
    tx.commit().await?;
    Ok(refusal)
}

pub(super) async fn failed(
    c: &mut deadpool_postgres::Client,
    source: &str,
    budget: &EnrollBudget,
    now: DateTime<Utc>,
) -> PgResult<bool> {
    let tx = c.transaction().await?;
    tx.execute("SELECT pg_advisory_xact_lock($1)", &[&ENROLL_LOCK])
        .await?;
    let now_ms = now.timestamp_millis();
    tx.execute(
        "INSERT INTO enroll_failures (source, at) VALUES ($1, $2)",
        &[&source, &now_ms],
    )
    .await?;
    let recent: i64 = tx
        .query_one(
            "SELECT count(*) FROM enroll_failures WHERE source = $1 AND at > $2",
            &[&source, &now_ms.saturating_sub(span(budget.lockout))],
        )
        .await?
        .try_get(0)?;
    let locked = recent >= i64::from(budget.lockout_failures.max(1));
    if locked {
        tx.execute(
            "INSERT INTO enroll_lockouts (source, until) VALUES ($1, $2)
             ON CONFLICT (source) DO UPDATE SET until = greatest(enroll_lockouts.until, EXCLUDED.until)",
            &[&source, &now_ms.saturating_add(span(budget.lockout))],
        )
        .await?;
        tx.execute("DELETE FROM enroll_failures WHERE source = $1", &[&source])
            .await?;
    }
    tx.commit().await?;
    Ok(locked)
}
