//! Projections: the rows derived from a household document that lists, search and follow-ups
//! read, so that no query has to load documents. Always written in the same transaction as the
//! change they reflect, and rebuildable from the documents.

use madadkar_schema::document::{NewerHousehold, Received};
use madadkar_schema::outcome::plan::graduation;
use madadkar_schema::outcome::{ledger, trend};
use madadkar_schema::{
    Household, HouseholdDoc, HouseholdStatus, ReviewState, StepStatus, iso_date,
    text::normalize_for_search,
};
use rusqlite::{Connection, OptionalExtension, params};
use uuid::Uuid;

use crate::error::Result;

/// Everything the projections hold for one household, in a canonical order so that a stored
/// copy and a freshly derived one compare equal exactly when they agree.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct HouseholdRows {
    pub household: Vec<Option<String>>,
    pub members: Vec<Vec<Option<String>>>,
    pub visits: Vec<Vec<Option<String>>>,
    pub referrals: Vec<Vec<Option<String>>>,
    pub not_duplicates: Vec<Vec<Option<String>>>,
    pub match_keys: Vec<Vec<Option<String>>>,
    pub referral_steps: Vec<Vec<Option<String>>>,
    pub plan_steps: Vec<Vec<Option<String>>>,
    pub status_events: Vec<Vec<Option<String>>>,
    pub search: String,
}

/// Where the household row keeps its redirect (`merged_into`) and its `needs_update` flag.
const NEEDS_UPDATE: usize = 16;
const MERGED_INTO: usize = 18;

fn s(v: impl ToString) -> Option<String> {
    Some(v.to_string())
}

/// The projections of a household as its document says they should be.
pub fn derive(doc: &HouseholdDoc) -> Result<HouseholdRows> {
    let h = doc.read()?;
    let conflicts = doc.conflict_paths()?.len();
    Ok(rows_of(&h, conflicts))
}

/// The projections of a received document: [`derive`] for one of this version, and
/// [`derive_newer`] for one a newer Madadkar wrote.
pub fn derive_received(id: Uuid, doc: &Received) -> Result<HouseholdRows> {
    match doc {
        Received::Current(doc) => derive(doc),
        Received::Newer(doc) => Ok(derive_newer(id, doc)),
    }
}

/// The rows of a household a newer Madadkar wrote, marked `needs_update` so that lists show it
/// read-only with "update the app". They hold what this version can still read of it (its known
/// fields, read with this version's rules: names, national IDs, visits stay searchable); when
/// even that fails, a placeholder that holds only the id (empty texts, no status, no counts),
/// never invented values. Conflicts are not counted: this version could not resolve them.
pub fn derive_newer(id: Uuid, doc: &NewerHousehold) -> HouseholdRows {
    let mut rows = match doc.read_known() {
        Ok(h) if h.id == id => rows_of(&h, 0),
        _ => HouseholdRows {
            household: vec![
                s(id),
                s(""),
                None,
                s(""),
                s(""),
                None,
                s(""),
                None,
                None,
                s(0),
                s(0),
                None,
                None,
                None,
                s(0),
                s(""),
                s(0),
                None,
                None,
                s(0),
                s(0),
                None,
                None,
                s("unknown"),
                s(0),
                s(0),
                s(0),
                None,
            ],
            ..HouseholdRows::default()
        },
    };
    if let Some(flag) = rows.household.get_mut(NEEDS_UPDATE) {
        *flag = s(1);
    }
    rows
}

/// Like [`derive`] after a change made on this replica: such a change has seen every value it
/// overwrites, so it cannot create a conflict, and where the household had none the conflict
/// scan is skipped.
pub fn derive_after_local_change(
    conn: &Connection,
    id: &str,
    doc: &HouseholdDoc,
) -> Result<HouseholdRows> {
    let had_conflicts: Option<i64> = conn
        .prepare_cached("SELECT conflict_count FROM p_households WHERE id = ?")?
        .query_row([id], |r| r.get(0))
        .optional()?;
    if had_conflicts == Some(0) {
        return Ok(rows_of(&doc.read()?, 0));
    }
    derive(doc)
}

/// Every projection table with the column naming its household: what removing a household
/// (custody) and rebuilding every projection clear. `p_search` is cleared by its household id
/// too (its rowid follows the household row's).
pub(crate) const TABLES: &[(&str, &str)] = &[
    ("p_households", "id"),
    ("p_members", "household_id"),
    ("p_visits", "household_id"),
    ("p_referrals", "household_id"),
    ("p_search", "household_id"),
    ("p_not_duplicates", "household_id"),
    ("p_match_keys", "household_id"),
    ("p_referral_steps", "household_id"),
    ("p_plan_steps", "household_id"),
    ("p_status_events", "household_id"),
];

/// Which rules derived the stored rows. Bump it when derivation changes (the search text's
/// normalisation above all): a store whose rows an older version derived rebuilds them once
/// when it is opened, so search finds what the new rules find. 2: NFKC folding, joined and
/// split names, domestic phone form.
/// 3: reconciliation (review states, redirects, member names for matching, blocking keys).
/// 4: case outcomes (assessments, referral ledger, plan steps, graduations).
pub const DERIVATION_VERSION: i64 = 4;

/// The day the household's current graduation was confirmed, if it stands graduated.
fn graduated_on(h: &Household) -> Option<String> {
    if h.status != HouseholdStatus::Graduated {
        return None;
    }
    h.status_events
        .iter()
        .rev()
        .find(|e| e.status == HouseholdStatus::Graduated)
        .map(|e| iso_date(e.at.date_naive()))
}

/// Every projected row of one household. Long because it lists each table's columns in the
/// order of its `*_COLUMNS` constant below; splitting it would separate a row from its columns.
pub fn rows_of(h: &Household, conflicts: usize) -> HouseholdRows {
    let head = h.head();
    let head_name = head.map(|m| m.full_name()).unwrap_or_default();
    let points: Vec<trend::NeedPoint> = h.visits.iter().filter_map(trend::point).collect();
    let last_visit = h.visits.last();
    let household = vec![
        s(h.id),
        s(&head_name),
        head.and_then(|m| m.national_id.as_ref())
            .map(|n| n.to_string()),
        s(&h.district),
        s(&h.address),
        h.phone.clone(),
        s(h.status.code()),
        h.assigned_group.clone(),
        h.assigned_worker.clone(),
        s(h.members.len()),
        s(h.visits.len()),
        last_visit.map(|v| iso_date(v.date)),
        h.open_followup().map(|(_, d)| iso_date(d)),
        last_visit.and_then(|v| v.max_need()).map(|n| n.to_string()),
        s(conflicts),
        s(normalize_for_search(&head_name)),
        // needs_update: 1 only for a household a newer Madadkar wrote (`derive_newer`).
        s(0),
        h.alt_phone.clone(),
        h.merged.as_ref().map(|m| m.survivor.to_string()),
        s(h.visits
            .iter()
            .filter(|v| v.review_state() == ReviewState::Awaiting)
            .count()),
        s(h.visits
            .iter()
            .filter(|v| v.review_state() == ReviewState::Returned)
            .count()),
        s(iso_date(h.created_at.date_naive())),
        h.visits
            .iter()
            .rev()
            .find_map(trend::point)
            .and_then(|p| p.dominant)
            .map(|d| d.code().to_string()),
        s(trend::recent(&points).code()),
        s(h.goals.len()),
        s(h.goals.iter().filter(|g| g.is_met()).count()),
        s(u8::from(graduation(h).holds())),
        graduated_on(h),
    ];
    let members = h
        .members
        .iter()
        .map(|m| {
            vec![
                s(m.id),
                s(h.id),
                s(m.full_name()),
                m.national_id.as_ref().map(|n| n.to_string()),
                m.birth_date.map(iso_date),
                s(m.relation.code()),
                s(&m.first_name),
                s(&m.last_name),
                m.father_name.clone(),
                m.sex.map(|x| x.code().to_string()),
            ]
        })
        .collect();
    let visits = h
        .visits
        .iter()
        .map(|v| {
            vec![
                s(v.id),
                s(h.id),
                s(iso_date(v.date)),
                s(&v.worker_id),
                s(v.kind.code()),
                v.followup_date.map(iso_date),
                v.max_need().map(|n| n.to_string()),
                s(v.review_state().code()),
                (!v.needs.is_empty()).then(|| {
                    v.needs
                        .values()
                        .map(|n| u32::from(*n))
                        .sum::<u32>()
                        .to_string()
                }),
                (!v.needs.is_empty()).then(|| v.needs.len().to_string()),
                trend::dominant(v).map(|d| d.code().to_string()),
            ]
        })
        .collect();
    let referrals = h
        .referrals
        .iter()
        .filter_map(|r| {
            let status = r.status()?;
            let first = r.history.first()?;
            let aging = ledger::aging(r, status.date)?;
            Some(vec![
                s(r.id),
                s(h.id),
                s(r.kind.code()),
                s(&r.target),
                s(status.status.code()),
                s(iso_date(status.date)),
                r.partner.clone(),
                s(iso_date(first.date)),
                s(&first.worker_id),
                r.history
                    .iter()
                    .rev()
                    .find_map(|e| e.amount)
                    .map(|a| a.to_string()),
                aging.due().map(iso_date),
            ])
        })
        .collect();
    let mut words = vec![h.district.clone(), h.address.clone()];
    words.extend(h.phone.iter().chain(h.alt_phone.iter()).cloned());
    for m in &h.members {
        words.push(m.full_name());
        words.extend(m.national_id.as_ref().map(|n| n.to_string()));
    }
    let not_duplicates = h
        .not_duplicates
        .iter()
        .map(|d| {
            vec![
                s(format!("{}:{}", h.id, d.other)),
                s(h.id),
                s(d.other),
                serde_json::to_string(&d.evidence).ok(),
            ]
        })
        .collect();
    let mut keys: Vec<String> = crate::reconcile::duplicates::match_keys(h);
    keys.sort();
    keys.dedup();
    let match_keys = keys
        .into_iter()
        .map(|k| vec![s(format!("{}|{k}", h.id)), s(h.id), s(k)])
        .collect();
    let referral_steps = h
        .referrals
        .iter()
        .flat_map(|r| {
            r.history.iter().enumerate().map(move |(i, e)| {
                let next = r.history.get(i + 1);
                vec![
                    s(e.id),
                    s(r.id),
                    s(h.id),
                    s(e.status.code()),
                    s(iso_date(e.date)),
                    next.map(|n| (n.date - e.date).num_days().max(0).to_string()),
                    e.amount.map(|a| a.to_string()),
                ]
            })
        })
        .collect();
    let plan_steps = h
        .goals
        .iter()
        .flat_map(|g| {
            g.steps.iter().map(move |st| {
                let status = st.status();
                let done_on = (status == StepStatus::Done)
                    .then(|| st.progress.last().map(|p| iso_date(p.at.date_naive())))
                    .flatten();
                vec![
                    s(st.id),
                    s(h.id),
                    s(g.id),
                    s(g.domain.code()),
                    s(u8::from(g.is_met())),
                    s(status.code()),
                    s(st.owner.code()),
                    st.partner.clone(),
                    st.target_date.map(iso_date),
                    done_on,
                ]
            })
        })
        .collect();
    let status_events = h
        .status_events
        .iter()
        .map(|e| {
            vec![
                s(e.id),
                s(h.id),
                s(e.status.code()),
                s(iso_date(e.at.date_naive())),
            ]
        })
        .collect();
    HouseholdRows {
        household,
        members,
        visits,
        referrals,
        not_duplicates,
        match_keys,
        referral_steps,
        plan_steps,
        status_events,
        search: normalize_for_search(&words.join(" | ")),
    }
}

const HOUSEHOLD_COLUMNS: &str = "id, head_name, head_national_id, district, address, phone, status, \
     assigned_group, assigned_worker, member_count, visit_count, last_visit, next_followup, \
     max_need, conflict_count, sort_name, needs_update, alt_phone, merged_into, awaiting_review, \
     returned_visits, created_on, dominant_need, trend, plan_goals, plan_goals_met, \
     graduation_proposed, graduated_on";
const MEMBER_COLUMNS: &str = "id, household_id, full_name, national_id, birth_date, relation, \
     first_name, last_name, father_name, sex";
const VISIT_COLUMNS: &str = "id, household_id, date, worker_id, kind, followup_date, max_need, \
     review_state, need_sum, need_count, dominant_need";
const NOT_DUPLICATE_COLUMNS: &str = "id, household_id, other_id, evidence";
const MATCH_KEY_COLUMNS: &str = "id, household_id, key";
const REFERRAL_COLUMNS: &str = "id, household_id, kind, target, status, status_date, partner, \
     sent_on, worker_id, amount, stalls_on";
const REFERRAL_STEP_COLUMNS: &str = "id, referral_id, household_id, status, date, days, amount";
const PLAN_STEP_COLUMNS: &str = "id, household_id, goal_id, domain, goal_met, status, owner, \
     partner, target_date, done_on";
const STATUS_EVENT_COLUMNS: &str = "id, household_id, status, on_date";

fn placeholders(n: usize) -> String {
    vec!["?"; n].join(", ")
}

/// Brings a household's projections to `rows`, touching only the rows that differ: adding a
/// visit inserts one visit row and updates the household row, and leaves the search index alone.
pub fn write(conn: &Connection, id: &str, rows: &HouseholdRows) -> Result<()> {
    let old = read(conn, id)?.unwrap_or_default();
    write_household(conn, id, &old, rows)?;
    for (table, columns, old_rows, new_rows) in [
        ("p_members", MEMBER_COLUMNS, &old.members, &rows.members),
        ("p_visits", VISIT_COLUMNS, &old.visits, &rows.visits),
        (
            "p_referrals",
            REFERRAL_COLUMNS,
            &old.referrals,
            &rows.referrals,
        ),
        (
            "p_not_duplicates",
            NOT_DUPLICATE_COLUMNS,
            &old.not_duplicates,
            &rows.not_duplicates,
        ),
        (
            "p_match_keys",
            MATCH_KEY_COLUMNS,
            &old.match_keys,
            &rows.match_keys,
        ),
        (
            "p_referral_steps",
            REFERRAL_STEP_COLUMNS,
            &old.referral_steps,
            &rows.referral_steps,
        ),
        (
            "p_plan_steps",
            PLAN_STEP_COLUMNS,
            &old.plan_steps,
            &rows.plan_steps,
        ),
        (
            "p_status_events",
            STATUS_EVENT_COLUMNS,
            &old.status_events,
            &rows.status_events,
        ),
    ] {
        for gone in old_rows.iter().filter(|r| !new_rows.contains(r)) {
            conn.prepare_cached(&format!("DELETE FROM {table} WHERE id = ?"))?
                .execute([&gone[0]])?;
        }
        for added in new_rows.iter().filter(|r| !old_rows.contains(r)) {
            insert(conn, table, columns, added)?;
        }
    }
    // A survivor shows what the households merged into it hold: whenever a household's
    // redirect changes, or a household that others point at changes, its survivor's row is
    // derived again from the composition (see `reconcile::compose`).
    let link = |r: &HouseholdRows| r.household.get(MERGED_INTO).cloned().flatten();
    let mut survivors: Vec<String> = [link(&old), link(rows)].into_iter().flatten().collect();
    survivors.dedup();
    for survivor in survivors {
        crate::reconcile::compose::refresh_survivor(conn, &survivor)?;
    }
    if crate::reconcile::compose::has_absorbed(conn, id)? {
        crate::reconcile::compose::refresh_survivor(conn, id)?;
    }
    Ok(())
}

fn insert(conn: &Connection, table: &str, columns: &str, values: &[Option<String>]) -> Result<()> {
    let sql = format!(
        "INSERT INTO {table} ({columns}) VALUES ({})",
        placeholders(values.len())
    );
    conn.prepare_cached(&sql)?
        .execute(rusqlite::params_from_iter(values.iter()))?;
    Ok(())
}

/// Brings a household's own row and its search text from `old` to `rows`.
pub(crate) fn write_household(
    conn: &Connection,
    id: &str,
    old: &HouseholdRows,
    rows: &HouseholdRows,
) -> Result<()> {
    if old.household.is_empty() {
        insert(conn, "p_households", HOUSEHOLD_COLUMNS, &rows.household)?;
    } else if old.household != rows.household {
        // An update keeps the row's rowid, which the search row shares.
        let assignments: Vec<String> = HOUSEHOLD_COLUMNS
            .split(',')
            .enumerate()
            .skip(1)
            .map(|(i, c)| format!("{} = ?{}", c.trim(), i + 1))
            .collect();
        let sql = format!(
            "UPDATE p_households SET {} WHERE id = ?1",
            assignments.join(", ")
        );
        conn.prepare_cached(&sql)?
            .execute(rusqlite::params_from_iter(rows.household.iter()))?;
    }
    if old.household.is_empty() || old.search != rows.search {
        conn.prepare_cached(
            "DELETE FROM p_search WHERE rowid = (SELECT rowid FROM p_households WHERE id = ?)",
        )?
        .execute([id])?;
        // The search row shares the household row's rowid: FTS5 finds rows fast only by rowid.
        conn.prepare_cached(
            "INSERT INTO p_search (rowid, household_id, body) \
             SELECT rowid, id, ? FROM p_households WHERE id = ?",
        )?
        .execute(params![rows.search, id])?;
    }
    Ok(())
}

/// The projections stored for a household, in the same canonical form as [`derive`].
pub fn read(conn: &Connection, id: &str) -> Result<Option<HouseholdRows>> {
    let select =
        |table: &str, columns: &str, key: &str, order: &str| -> Result<Vec<Vec<Option<String>>>> {
            let n = columns.split(',').count();
            let sql = format!(
                "SELECT {} FROM {table} WHERE {key} = ? ORDER BY {order}",
                columns
                    .split(',')
                    .map(|c| format!("CAST({} AS TEXT)", c.trim()))
                    .collect::<Vec<_>>()
                    .join(", ")
            );
            let mut stmt = conn.prepare_cached(&sql)?;
            let rows = stmt.query_map([id], |row| (0..n).map(|i| row.get(i)).collect())?;
            Ok(rows.collect::<Result<_, _>>()?)
        };
    let Some(household) = select("p_households", HOUSEHOLD_COLUMNS, "id", "id")?.pop() else {
        return Ok(None);
    };
    let search: String = conn
        .prepare_cached(
            "SELECT s.body FROM p_search s JOIN p_households h ON s.rowid = h.rowid WHERE h.id = ? \
             AND s.household_id = h.id",
        )?
        .query_row([id], |r| r.get(0))
        .optional()?
        .unwrap_or_default();
    Ok(Some(HouseholdRows {
        household,
        members: select("p_members", MEMBER_COLUMNS, "household_id", "id")?,
        visits: select("p_visits", VISIT_COLUMNS, "household_id", "date, id")?,
        referrals: select("p_referrals", REFERRAL_COLUMNS, "household_id", "id")?,
        not_duplicates: select(
            "p_not_duplicates",
            NOT_DUPLICATE_COLUMNS,
            "household_id",
            "id",
        )?,
        match_keys: select("p_match_keys", MATCH_KEY_COLUMNS, "household_id", "id")?,
        referral_steps: select(
            "p_referral_steps",
            REFERRAL_STEP_COLUMNS,
            "household_id",
            "referral_id, date, id",
        )?,
        plan_steps: select(
            "p_plan_steps",
            PLAN_STEP_COLUMNS,
            "household_id",
            "goal_id, id",
        )?,
        status_events: select(
            "p_status_events",
            STATUS_EVENT_COLUMNS,
            "household_id",
            "on_date, id",
        )?,
        search,
    }))
}
