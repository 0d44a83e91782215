//! Case outcomes on this replica: empowerment plans and their progress, graduation (proposed by
//! the criteria, confirmed by a supervisor), the referral ledger with its aging, and the
//! follow-ups they add (overdue plan steps, stalled referrals). Writes go through the store
//! like every other change; lists read the projections.

use chrono::NaiveDate;
use madadkar_schema::outcome::{ledger, plan::graduation, trend};
use madadkar_schema::{
    GraduationCriteria, Household, NewGoal, NewStep, NewVisit, Partner, Referral, ReferralEvent,
    ReferralKind, ReferralStatus, StepUpdate, Trend, iso_date,
};
use rusqlite::Connection;
use serde::Serialize;
use uuid::Uuid;

use crate::error::Result;
use crate::forms::ProgressText;
use crate::partners::{partners, require_partner};
use crate::store::{Store, today};

/// A household's plan as its page shows it: goals with their steps, the criteria and whether
/// they hold (with what is missing, in both languages).
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct PlanView {
    pub goals: Vec<madadkar_schema::Goal>,
    pub goals_met: u32,
    pub criteria: GraduationCriteria,
    /// Graduation is proposed: every criterion holds (and the household is active).
    pub proposed: bool,
    pub unmet_fa: Vec<String>,
    pub unmet_en: Vec<String>,
    /// The highest need score of the last assessed visits, latest first.
    pub recent_highest: Vec<u8>,
    /// Steps still open past their target date.
    pub overdue_steps: Vec<Uuid>,
    /// Partners the steps name, for their display names.
    pub partners: Vec<Partner>,
}

/// One assessment in a household's need history.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct NeedPoint {
    #[cfg_attr(feature = "ts", ts(type = "string"))]
    pub date: NaiveDate,
    pub mean: f64,
    pub highest: u8,
    pub dominant: Option<madadkar_schema::NeedDomain>,
}

/// A household's need scores over time and where they are heading.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct NeedHistory {
    pub points: Vec<NeedPoint>,
    /// Over the year before the latest assessment ([`trend::recent`]).
    pub trend: Trend,
    /// The chart of the scores per domain (a line per domain, a Jalali date axis).
    pub chart: crate::report::Table,
}

/// A referral with its ledger and how long it has sat in its current state.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct LedgerEntry {
    pub referral: Referral,
    /// The directory's entry for its partner, when it names one this replica knows.
    pub partner: Option<Partner>,
    pub days_in_state: i64,
    /// The partner kind's limit for the current state; `None` once finished.
    pub limit_days: Option<u32>,
    pub stalled: bool,
    /// The states the ledger allows next.
    pub next: Vec<ReferralStatus>,
}

/// A referral sat in one state longer than its partner kind allows.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct StalledReferral {
    pub household_id: String,
    pub head_name: String,
    pub assigned_worker: Option<String>,
    pub referral_id: String,
    pub kind: ReferralKind,
    pub partner: Option<String>,
    pub partner_name: Option<String>,
    pub status: ReferralStatus,
    #[cfg_attr(feature = "ts", ts(type = "string"))]
    pub since: NaiveDate,
    pub days: i64,
    #[cfg_attr(feature = "ts", ts(type = "string"))]
    pub stalled_on: NaiveDate,
}

impl Store {
    /// The household and full id of a referral given by its id or a prefix of it.
    pub fn resolve_referral(&self, prefix: &str) -> Result<(Uuid, Uuid)> {
        let id = self.resolve_id("referral", "p_referrals", prefix)?;
        self.owner_in("p_referrals", "referral", id)
    }

    /// The household and full id of a plan step given by its id or a prefix of it.
    pub fn resolve_step(&self, prefix: &str) -> Result<(Uuid, Uuid)> {
        let id = self.resolve_id("step", "p_plan_steps", prefix)?;
        self.owner_in("p_plan_steps", "step", id)
    }

    fn owner_in(&self, table: &str, kind: &'static str, id: Uuid) -> Result<(Uuid, Uuid)> {
        use rusqlite::OptionalExtension;
        let household: Option<String> = self
            .conn
            .prepare_cached(&format!("SELECT household_id FROM {table} WHERE id = ?"))?
            .query_row([id.to_string()], |r| r.get(0))
            .optional()?;
        let household = household
            .and_then(|h| Uuid::parse_str(&h).ok())
            .ok_or_else(|| crate::StoreError::NotFound {
                kind,
                id: id.to_string(),
            })?;
        Ok((household, id))
    }

    /// Adds a goal to a household's plan.
    pub fn add_goal(&mut self, household: Uuid, goal: &NewGoal) -> Result<Uuid> {
        let goal = goal.validated()?;
        let household = self.follow_redirect(household)?;
        self.write(household, |doc, meta, now| {
            Ok(doc.add_goal(&goal, meta, now)?)
        })
    }

    /// Adds a step to a goal; a partner it names must be an active one of the directory.
    pub fn add_step(&mut self, household: Uuid, goal: Uuid, step: &NewStep) -> Result<Uuid> {
        let step = step.validated()?;
        if let Some(code) = &step.partner {
            require_partner(&self.conn, code, None)?;
        }
        let household = self.follow_redirect(household)?;
        // A goal of a household merged into this one lives in that household's document.
        let owner = self.owner_of(household, goal)?;
        self.write(owner, |doc, meta, now| {
            Ok(doc.add_step(goal, &step, meta, now)?)
        })
    }

    /// Records progress on a step.
    pub fn update_step(&mut self, household: Uuid, step: Uuid, update: &StepUpdate) -> Result<()> {
        let update = update.validated()?;
        let household = self.follow_redirect(household)?;
        let owner = self.owner_of(household, step)?;
        if let Some(visit) = update.visit_id
            && self.owner_of(household, visit)? != owner
        {
            // The progress names a visit of the other document: kept without the link rather
            // than refused (the document checks its visits).
            let update = madadkar_schema::StepUpdate {
                visit_id: None,
                ..update
            };
            return self.write(owner, |doc, meta, now| {
                Ok(doc.update_step(step, &update, meta, now)?)
            });
        }
        self.write(owner, |doc, meta, now| {
            Ok(doc.update_step(step, &update, meta, now)?)
        })
    }

    /// Records a visit and the progress on plan steps ticked on it, in one transaction: either
    /// all of it is kept or none.
    pub fn add_visit_with_progress(
        &mut self,
        household: Uuid,
        visit: &NewVisit,
        progress: &[ProgressText],
    ) -> Result<Uuid> {
        let visit = visit.validated(today())?;
        // Checked before anything is written; the visit id is filled in below.
        let mut ticks = Vec::new();
        for p in progress {
            ticks.push(p.to_update(None)?);
        }
        let household = self.follow_redirect(household)?;
        // A step of a household merged into this one lives in that household's document: its
        // progress is written there, in the same transaction, without the visit link (the
        // visit is this document's).
        let mut documents = vec![household];
        let mut owned = Vec::new();
        for (step, update) in ticks {
            let owner = self.owner_of(household, step)?;
            if !documents.contains(&owner) {
                documents.push(owner);
            }
            owned.push((owner, step, update));
        }
        let mut visit_id = None;
        self.write_each(&documents, |id, doc, meta, now| {
            if id == household {
                visit_id = Some(doc.add_visit(&visit, meta, now)?);
            }
            for (owner, step, update) in &owned {
                if *owner != id {
                    continue;
                }
                let update = madadkar_schema::StepUpdate {
                    visit_id: if id == household { visit_id } else { None },
                    ..update.clone()
                };
                doc.update_step(*step, &update, meta, now)?;
            }
            Ok(())
        })?;
        visit_id.ok_or_else(|| crate::StoreError::NotFound {
            kind: "household",
            id: household.to_string(),
        })
    }

    /// Sets a household's graduation criteria (a supervisor's or coordinator's decision).
    pub fn set_graduation_criteria(
        &mut self,
        household: Uuid,
        criteria: GraduationCriteria,
    ) -> Result<()> {
        self.require_supervisor("set graduation criteria")?;
        let household = self.follow_redirect(household)?;
        self.write(household, |doc, meta, now| {
            Ok(doc.set_criteria(criteria, meta, now)?)
        })
    }

    /// Confirms a household's graduation: a supervisor's or coordinator's act, refused with
    /// every unmet criterion named unless the plan's criteria hold.
    pub fn graduate(&mut self, household: Uuid, reason: &str) -> Result<()> {
        self.require_supervisor("confirm a graduation")?;
        let household = self.follow_redirect(household)?;
        self.write(household, |doc, meta, now| {
            Ok(doc.graduate(reason, meta, now)?)
        })
    }

    /// Brings a graduated household back into support, its history kept.
    pub fn reenter(&mut self, household: Uuid, reason: &str) -> Result<()> {
        self.require_supervisor("bring a household back into support")?;
        let household = self.follow_redirect(household)?;
        self.write(household, |doc, meta, now| {
            Ok(doc.reenter(reason, meta, now)?)
        })
    }

    /// The household as its page shows it (composed with the households merged into it), without
    /// what only the page's conflicts need (their scan and their authors' names): what the
    /// outcome views read.
    pub fn shown_household(&self, household: Uuid) -> Result<Household> {
        let shown = self.follow_redirect(household)?;
        match self.composed(shown)? {
            Some(composition) => Ok(composition.household),
            None => self.with_document(shown, |doc| Ok(doc.read()?)),
        }
    }

    /// A household's plan and whether graduation is proposed.
    pub fn plan(&self, household: Uuid) -> Result<PlanView> {
        let h = self.shown_household(household)?;
        plan_view(&self.conn, &h, today())
    }

    /// A household's need scores over time.
    pub fn need_history(&self, household: Uuid) -> Result<NeedHistory> {
        let h = self.shown_household(household)?;
        Ok(need_history(&h))
    }

    /// A household's referrals with their ledgers and aging, on `today`.
    pub fn referral_ledger(&self, household: Uuid, today: NaiveDate) -> Result<Vec<LedgerEntry>> {
        let h = self.shown_household(household)?;
        let directory = partners(&self.conn)?;
        Ok(h.referrals
            .iter()
            .map(|r| ledger_entry(r, &directory, today))
            .collect())
    }

    /// Referrals stalled on `today` (sat in a state longer than their partner kind allows),
    /// longest first, from the projections.
    pub fn stalled_referrals(&self, today: NaiveDate) -> Result<Vec<StalledReferral>> {
        stalled_referrals(&self.conn, today)
    }
}

pub(crate) fn plan_view(conn: &Connection, h: &Household, today: NaiveDate) -> Result<PlanView> {
    let check = graduation(h);
    let named: Vec<&str> = h
        .goals
        .iter()
        .flat_map(|g| g.steps.iter().filter_map(|s| s.partner.as_deref()))
        .collect();
    let directory = partners(conn)?;
    Ok(PlanView {
        goals_met: check.goals_met as u32,
        criteria: check.criteria,
        proposed: check.holds(),
        unmet_fa: check.unmet_fa(),
        unmet_en: check.unmet_en(),
        recent_highest: check.recent_highest.clone(),
        overdue_steps: h
            .goals
            .iter()
            .flat_map(|g| g.steps.iter())
            .filter(|s| s.is_overdue(today))
            .map(|s| s.id)
            .collect(),
        partners: directory
            .into_iter()
            .filter(|p| named.contains(&p.code.as_str()))
            .collect(),
        goals: h.goals.clone(),
    })
}

pub(crate) fn need_history(h: &Household) -> NeedHistory {
    use crate::report::{ChartHint, ChartKind, Column, ColumnKind, Table, table::Cell};
    let points: Vec<trend::NeedPoint> = h.visits.iter().filter_map(trend::point).collect();
    let domains = madadkar_schema::NeedDomain::ALL;
    let mut columns = vec![Column::new(
        "date",
        "تاریخ بازدید",
        "visit date",
        ColumnKind::Date,
    )];
    columns.extend(
        domains
            .iter()
            .map(|d| Column::new(d.code(), d.label_fa(), d.label_en(), ColumnKind::Int)),
    );
    let rows = h
        .visits
        .iter()
        .filter(|v| !v.needs.is_empty())
        .map(|v| {
            let mut row = vec![Cell::Date(v.date)];
            row.extend(domains.iter().map(|d| {
                v.needs
                    .get(d)
                    .map_or(Cell::Empty, |s| Cell::Int(i64::from(*s)))
            }));
            row
        })
        .collect();
    NeedHistory {
        trend: trend::recent(&points),
        points: points
            .into_iter()
            .map(|p| NeedPoint {
                date: p.date,
                mean: p.mean,
                highest: p.highest,
                dominant: p.dominant,
            })
            .collect(),
        chart: Table {
            report: "need-history".into(),
            title_fa: "امتیاز نیازها در طول زمان".into(),
            title_en: "Need scores over time".into(),
            columns,
            rows,
            filters: Vec::new(),
            chart: Some(ChartHint {
                kind: ChartKind::Line,
                label_column: 0,
                series_columns: (1..=domains.len()).collect(),
            }),
        },
    }
}

fn ledger_entry(r: &Referral, directory: &[Partner], today: NaiveDate) -> LedgerEntry {
    let aging = ledger::aging(r, today);
    let current = r.status().map(|e: &ReferralEvent| e.status);
    LedgerEntry {
        partner: r
            .partner
            .as_ref()
            .and_then(|code| directory.iter().find(|p| &p.code == code).cloned()),
        days_in_state: aging.map_or(0, |a| a.days),
        limit_days: aging.and_then(|a| a.limit),
        stalled: aging.is_some_and(|a| a.stalled()),
        next: current.map_or(Vec::new(), |from| {
            ReferralStatus::ALL
                .iter()
                .copied()
                .filter(|to| ledger::allowed(from, *to).is_ok())
                .collect()
        }),
        referral: r.clone(),
    }
}

pub(crate) fn stalled_referrals(
    conn: &Connection,
    today: NaiveDate,
) -> Result<Vec<StalledReferral>> {
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT h.id, h.head_name, h.assigned_worker, r.id, r.kind, r.partner, \
                p.name || coalesce(' — ' || p.branch, ''), r.status, r.status_date, r.stalls_on \
         FROM p_referrals r {} \
         LEFT JOIN partners p ON p.code = r.partner \
         WHERE r.stalls_on IS NOT NULL AND r.stalls_on < ? \
         ORDER BY r.stalls_on, r.id",
        crate::query::shown_under("r")
    ))?;
    let rows = stmt
        .query_map([iso_date(today)], |row| {
            Ok((
                row.get::<_, String>(0)?,
                row.get::<_, String>(1)?,
                row.get::<_, Option<String>>(2)?,
                row.get::<_, String>(3)?,
                row.get::<_, String>(4)?,
                row.get::<_, Option<String>>(5)?,
                row.get::<_, Option<String>>(6)?,
                row.get::<_, String>(7)?,
                row.get::<_, String>(8)?,
                row.get::<_, String>(9)?,
            ))
        })?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    let mut out = Vec::new();
    for (household_id, head_name, worker, id, kind, partner, name, status, since, stalls) in rows {
        let since = madadkar_schema::parse_iso_date(madadkar_schema::Field::StatusDate, &since)?;
        out.push(StalledReferral {
            household_id,
            head_name,
            assigned_worker: worker,
            referral_id: id,
            kind: ReferralKind::parse(&kind)?,
            partner,
            partner_name: name,
            status: ReferralStatus::parse(&status)?,
            since,
            days: (today - since).num_days(),
            stalled_on: madadkar_schema::parse_iso_date(
                madadkar_schema::Field::StatusDate,
                &stalls,
            )?,
        });
    }
    Ok(out)
}
