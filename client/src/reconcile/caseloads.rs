//! Each worker's caseload, for the supervisor deciding who takes which household: households,
//! visits this (Jalali) month, overdue follow-ups, visits returned and awaiting review.

use std::collections::BTreeMap;

use chrono::NaiveDate;
use madadkar_schema::date::{from_jalali, iso_date, to_jalali};
use serde::Serialize;

use crate::error::Result;
use crate::store::Store;

/// One worker's caseload; `worker_id: None` is the households assigned to a group as a whole.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Default)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct Caseload {
    pub group_id: Option<String>,
    pub worker_id: Option<String>,
    pub worker_name: Option<String>,
    pub households: i64,
    pub visits_this_month: i64,
    pub overdue_followups: i64,
    pub returned_visits: i64,
    pub awaiting_review: i64,
    /// Households whose latest visit scored a need of 3 or more.
    pub high_need: i64,
}

/// The first day of `today`'s Jalali month.
pub fn month_start(today: NaiveDate) -> NaiveDate {
    let j = to_jalali(today);
    from_jalali(j.year, j.month, 1).unwrap_or(today)
}

impl Store {
    /// Every worker's caseload in scope (by group, then worker), workers known from the
    /// server's directory included even with no households yet. Graduated households have left
    /// the caseload (docs/outcomes.md).
    pub fn caseloads(&self, today: NaiveDate) -> Result<Vec<Caseload>> {
        let mut loads: BTreeMap<(Option<String>, Option<String>), Caseload> = BTreeMap::new();
        let mut stmt = self.conn.prepare_cached(
            "SELECT h.assigned_group, h.assigned_worker, count(*), \
             sum(h.next_followup IS NOT NULL AND h.next_followup < ?1), \
             sum(h.returned_visits), sum(h.awaiting_review), sum(coalesce(h.max_need, 0) >= 3) \
             FROM p_households h \
             WHERE h.needs_update = 0 AND h.status != 'graduated' \
               AND (h.merged_into IS NULL OR NOT EXISTS \
               (SELECT 1 FROM p_households s WHERE s.id = h.merged_into)) \
             GROUP BY h.assigned_group, h.assigned_worker",
        )?;
        let rows = stmt.query_map([iso_date(today)], |r| {
            Ok(Caseload {
                group_id: r.get(0)?,
                worker_id: r.get(1)?,
                households: r.get(2)?,
                overdue_followups: r.get(3)?,
                returned_visits: r.get(4)?,
                awaiting_review: r.get(5)?,
                high_need: r.get(6)?,
                ..Default::default()
            })
        })?;
        for load in rows {
            let load = load?;
            loads.insert((load.group_id.clone(), load.worker_id.clone()), load);
        }
        let mut workers = self.conn.prepare_cached(
            "SELECT group_id, worker_id, max(worker_name) FROM directory \
             WHERE revoked = 0 GROUP BY group_id, worker_id",
        )?;
        let known = workers.query_map([], |r| {
            Ok((
                r.get::<_, Option<String>>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, String>(2)?,
            ))
        })?;
        let mine = self.group()?;
        for worker in known {
            let (group, id, name) = worker?;
            // A supervisor's replica lists its own group's workers; a coordinator's, everyone's.
            if mine.is_some() && self.role()? != madadkar_schema::Role::Coordinator && group != mine
            {
                continue;
            }
            let load = loads.entry((group.clone(), Some(id.clone()))).or_default();
            load.group_id = group;
            load.worker_id = Some(id);
            load.worker_name = Some(name);
        }
        let mut visits = self.conn.prepare_cached(
            "SELECT worker_id, count(*) FROM p_visits WHERE date >= ? GROUP BY worker_id",
        )?;
        let counts: BTreeMap<String, i64> = visits
            .query_map([iso_date(month_start(today))], |r| {
                Ok((r.get(0)?, r.get(1)?))
            })?
            .collect::<Result<_, _>>()?;
        for load in loads.values_mut() {
            if let Some(w) = &load.worker_id {
                load.visits_this_month = counts.get(w).copied().unwrap_or(0);
            }
        }
        Ok(loads.into_values().collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_month_starts_on_the_first_of_the_jalali_month() {
        // 1404-09-03 is 2025-11-24; 1404-09-01 is 2025-11-22.
        let today = NaiveDate::from_ymd_opt(2025, 11, 24).expect("date");
        assert_eq!(
            month_start(today),
            NaiveDate::from_ymd_opt(2025, 11, 22).expect("date")
        );
    }
}
