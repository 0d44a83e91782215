//! Poverty monitoring: a household's need level at each assessment, its dominant need, and
//! whether it is improving, stable or worsening between two assessments.

use chrono::NaiveDate;

use crate::enums::{NeedDomain, Trend};
use crate::model::Visit;

/// A change in mean need of at least this much (on the 0–4 scale) counts as improving or
/// worsening; less is stable. Half a point is one domain moving two steps in a four-domain
/// assessment, or two domains one step each: more than a scorer's day-to-day noise.
pub const TREND_STEP: f64 = 0.5;

/// One needs assessment: a visit that scored at least one domain.
#[derive(Debug, Clone, PartialEq)]
pub struct NeedPoint {
    pub date: NaiveDate,
    /// The mean score over the domains assessed.
    pub mean: f64,
    pub highest: u8,
    /// The domain that keeps the household poor (see [`dominant`]).
    pub dominant: Option<NeedDomain>,
}

/// The assessment a visit holds, if it scored any domain.
pub fn point(visit: &Visit) -> Option<NeedPoint> {
    let highest = visit.max_need()?;
    let sum: u32 = visit.needs.values().map(|s| u32::from(*s)).sum();
    Some(NeedPoint {
        date: visit.date,
        mean: f64::from(sum) / visit.needs.len() as f64,
        highest,
        dominant: dominant(visit),
    })
}

/// The domain scored highest; ties go to the domain listed first (income before employment
/// before housing …, the committee's order of what most often keeps a family poor). A visit
/// that scored every domain 0 has no dominant need.
pub fn dominant(visit: &Visit) -> Option<NeedDomain> {
    let highest = visit.max_need().filter(|h| *h > 0)?;
    NeedDomain::ALL
        .iter()
        .copied()
        .find(|d| visit.needs.get(d) == Some(&highest))
}

/// The trend from `start` to `end`: by the change in mean need.
pub fn between(start: &NeedPoint, end: &NeedPoint) -> Trend {
    of_means(start.mean, end.mean)
}

/// The trend from a need level of `start` to one of `end` (means on the 0–4 scale).
pub fn of_means(start: f64, end: f64) -> Trend {
    let delta = end - start;
    if delta <= -TREND_STEP {
        Trend::Improving
    } else if delta >= TREND_STEP {
        Trend::Worsening
    } else {
        Trend::Stable
    }
}

/// The trend over a series of assessments (oldest first): from the first to the last;
/// [`Trend::Unknown`] with fewer than two.
pub fn over(points: &[NeedPoint]) -> Trend {
    match (points.first(), points.last()) {
        (Some(a), Some(b)) if points.len() >= 2 => between(a, b),
        _ => Trend::Unknown,
    }
}

/// The household page's trend: the latest assessment against the earliest one in the year
/// before it, so an old first assessment does not make a household look improved for ever.
pub fn recent(points: &[NeedPoint]) -> Trend {
    let Some(last) = points.last() else {
        return Trend::Unknown;
    };
    let year_before = last.date - chrono::Days::new(365);
    let window: Vec<NeedPoint> = points
        .iter()
        .filter(|p| p.date >= year_before)
        .cloned()
        .collect();
    over(&window)
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;
    use crate::enums::VisitKind;

    fn visit(date: (i32, u32, u32), needs: &[(NeedDomain, u8)]) -> Visit {
        Visit {
            id: uuid::Uuid::now_v7(),
            date: NaiveDate::from_ymd_opt(date.0, date.1, date.2).expect("date"),
            worker_id: "w".into(),
            kind: VisitKind::Home,
            observations: String::new(),
            needs: needs.iter().copied().collect::<BTreeMap<_, _>>(),
            followup_date: None,
            review: Vec::new(),
        }
    }

    #[test]
    fn dominant_need_is_the_highest_with_ties_in_the_committee_order() {
        use NeedDomain::*;
        let v = visit((2025, 1, 1), &[(Housing, 3), (Health, 3), (Food, 1)]);
        assert_eq!(dominant(&v), Some(Housing));
        let v = visit((2025, 1, 1), &[(Health, 2), (Income, 2)]);
        assert_eq!(dominant(&v), Some(Income));
        assert_eq!(dominant(&visit((2025, 1, 1), &[(Food, 0)])), None);
        assert_eq!(point(&visit((2025, 1, 1), &[])), None);
    }

    #[test]
    fn trend_follows_the_change_in_mean_need() {
        use NeedDomain::*;
        // Means: 3.0, then 2.5 (−0.5: improving), 2.75 (−0.25: stable), 3.5 (+0.5: worsening).
        let start = point(&visit((2025, 1, 1), &[(Income, 4), (Housing, 2)])).expect("point");
        let better = point(&visit((2025, 6, 1), &[(Income, 3), (Housing, 2)])).expect("point");
        let same = point(&visit(
            (2025, 6, 1),
            &[(Income, 4), (Housing, 2), (Food, 2), (Health, 3)],
        ))
        .expect("point");
        let worse = point(&visit((2025, 6, 1), &[(Income, 4), (Housing, 3)])).expect("point");
        assert_eq!(between(&start, &better), Trend::Improving);
        assert_eq!(between(&start, &same), Trend::Stable);
        assert_eq!(between(&start, &worse), Trend::Worsening);
        assert_eq!(over(std::slice::from_ref(&start)), Trend::Unknown);
        assert_eq!(over(&[start.clone(), worse.clone()]), Trend::Worsening);
    }

    #[test]
    fn the_household_trend_looks_back_one_year_from_the_latest_assessment() {
        use NeedDomain::*;
        let old = point(&visit((2022, 1, 1), &[(Income, 4)])).expect("point");
        let a = point(&visit((2025, 1, 1), &[(Income, 1)])).expect("point");
        let b = point(&visit((2025, 9, 1), &[(Income, 1)])).expect("point");
        // From 2022 it improved by 3; within the last year it did not change.
        assert_eq!(over(&[old.clone(), a.clone(), b.clone()]), Trend::Improving);
        assert_eq!(recent(&[old, a, b]), Trend::Stable);
    }
}
