//! What the SQL backends share beyond their dialects: the one condition of who sees which
//! household ([`Scope::sees`] as SQL), the push quota's hours and its decision over the hours a
//! backend read, and the (actor, sequence number) a stored change is indexed by, so that both
//! backends answer alike by construction.

use chrono::{DateTime, Utc};
use madadkar_schema::change::parse_change;

use crate::{Charge, PushQuota, PushUsage, QUOTA_WINDOW_HOURS, Scope};

/// The joins [`visible_to`]'s condition reads, after a household's own assignment `a`: its
/// merge link `k` and its survivor's assignment `s` (NULL when it was not merged, or the
/// survivor is not on the server).
pub const VISIBILITY_JOINS: &str = "LEFT JOIN links k ON k.retired = a.household
     LEFT JOIN assignments s ON s.household = k.survivor";

/// The SQL condition that a household is visible to `scope`: the SQL form of [`Scope::sees`],
/// over its own assignment `a` and its survivor's `s` (see [`VISIBILITY_JOINS`]), with the
/// scope's parameters numbered from `first` in the backend's placeholder style
/// (`placeholder(n)`: `?n` for SQLite, `$n` for PostgreSQL); `None` for a scope that holds none.
pub fn visible_to(
    scope: &Scope,
    first: usize,
    placeholder: impl Fn(usize) -> String,
) -> Option<(String, Vec<String>)> {
    let (g, w) = (placeholder(first), placeholder(first + 1));
    let assigned_in = |t: &str| match scope {
        Scope::Everything => "TRUE".to_string(),
        Scope::Group(_) => format!("{t}.group_id = {g}"),
        Scope::GroupWorker { .. } => {
            format!("({t}.group_id = {g} AND ({t}.worker_id IS NULL OR {t}.worker_id = {w}))")
        }
        Scope::Nothing => "FALSE".to_string(),
    };
    let args = match scope {
        Scope::Everything => vec![],
        Scope::Group(g) => vec![g.clone()],
        Scope::GroupWorker { group, worker } => vec![group.clone(), worker.clone()],
        Scope::Nothing => return None,
    };
    // `s.household IS NOT NULL`: a link to a survivor the server does not hold adds no one
    // (the coordinator's TRUE would otherwise match it).
    let clause = format!(
        "({} OR (s.household IS NOT NULL AND {}))",
        assigned_in("a"),
        assigned_in("s")
    );
    Some((clause, args))
}

/// Whether a push of `amount` fits `quota` given a device's usage in the window's hours (Unix
/// hours, oldest first); `None` when it does, else the refusal: the window's usage, and the
/// earliest moment enough old hours have left the window for it (`None`: it never fits, being
/// over quota alone).
pub fn quota_refusal(
    hours: &[(i64, PushUsage)],
    amount: PushUsage,
    quota: PushQuota,
) -> Option<Charge> {
    let usage = hours
        .iter()
        .fold(PushUsage::default(), |sum, (_, u)| PushUsage {
            bytes: sum.bytes.saturating_add(u.bytes),
            changes: sum.changes.saturating_add(u.changes),
        });
    let fits = |u: PushUsage| {
        u.bytes.saturating_add(amount.bytes) <= quota.bytes
            && u.changes.saturating_add(amount.changes) <= quota.changes
    };
    if fits(usage) {
        return None;
    }
    let mut left = usage;
    let mut resets_at: Option<DateTime<Utc>> = None;
    if fits(PushUsage::default()) {
        for (hour, u) in hours {
            left.bytes = left.bytes.saturating_sub(u.bytes);
            left.changes = left.changes.saturating_sub(u.changes);
            if fits(left) {
                resets_at = DateTime::from_timestamp((hour + QUOTA_WINDOW_HOURS) * 3600, 0);
                break;
            }
        }
    }
    Some(Charge::Refused { usage, resets_at })
}

/// The push quota's hour bucket of a time (Unix time in whole hours).
pub fn quota_hour(t: DateTime<Utc>) -> i64 {
    t.timestamp().div_euclid(3600)
}

/// The first hour bucket inside the rolling window that ends in `now`'s bucket.
pub fn quota_window_start(now: DateTime<Utc>) -> i64 {
    quota_hour(now) - (QUOTA_WINDOW_HOURS - 1)
}

/// A counter to SQL's signed 64-bit integers; beyond `i64::MAX` (never, for bytes or changes)
/// it saturates rather than wraps negative.
pub fn sql_count(n: u64) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

/// A change's actor and sequence number, read from its bytes within the bounds of any
/// received change; `None` for bytes that are no change. Automerge sequence numbers are
/// counted per actor and per document, so the pair is unique only within one household.
pub fn actor_seq(bytes: &[u8]) -> Option<(Vec<u8>, i64)> {
    let change = parse_change(bytes).ok()?;
    let seq = i64::try_from(change.seq()).ok()?;
    Some((change.actor_id().to_bytes().to_vec(), seq))
}
