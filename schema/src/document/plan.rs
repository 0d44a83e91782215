//! Empowerment plans and graduation (schema version 3): goals, their steps and progress, the
//! graduation criteria, and confirming or undoing a graduation. Each public method is one change.

use automerge::{AutoCommit, ObjId, ObjType, ReadDoc, Value, transaction::Transactable};
use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::layout::{lazy_map_for_write, lazy_maps, malformed, put_opt};
use super::meta::{Action, ChangeMeta};
use super::{HouseholdDoc, Result};
use crate::date::iso_date;
use crate::enums::*;
use crate::error::{DocumentError, ValidationError};
use crate::field::Field;
use crate::model::*;
use crate::outcome::plan::graduation;

impl HouseholdDoc {
    /// Adds a goal to the household's plan (the plan exists once it has a goal).
    pub fn add_goal(
        &mut self,
        goal: &NewGoal,
        meta: &ChangeMeta,
        now: DateTime<Utc>,
    ) -> Result<Uuid> {
        let goal = goal.validated()?;
        self.require_open_plan()?;
        let id = Uuid::now_v7();
        let action = meta.action(Action::GoalAdd, Some(id.to_string()), Vec::new());
        self.transact(&action, now, |tx| {
            let goals = lazy_map_for_write(tx, &automerge::ROOT, "goals")?;
            let g = tx.put_object(&goals, id.to_string(), ObjType::Map)?;
            tx.put(&g, "domain", goal.domain.code())?;
            tx.put(&g, "title", goal.title.as_str())?;
            tx.put(&g, "worker_id", meta.worker_id.as_str())?;
            tx.put(&g, "at", now.to_rfc3339())?;
            tx.put_object(&g, "steps", ObjType::Map)?;
            Ok(())
        })?;
        Ok(id)
    }

    /// Adds a step to a goal. A partner named here must be checked against the directory by the
    /// caller (the document does not hold the directory).
    pub fn add_step(
        &mut self,
        goal: Uuid,
        step: &NewStep,
        meta: &ChangeMeta,
        now: DateTime<Utc>,
    ) -> Result<Uuid> {
        let step = step.validated()?;
        self.require_open_plan()?;
        let g = self.goal_obj(goal)?;
        let steps = match self.doc.get(&g, "steps")? {
            Some((Value::Object(ObjType::Map), obj)) => obj,
            _ => return Err(malformed(format!("goal {goal} has no steps map"))),
        };
        let id = Uuid::now_v7();
        let action = meta.action(Action::StepAdd, Some(id.to_string()), Vec::new());
        self.transact(&action, now, |tx| {
            let s = tx.put_object(&steps, id.to_string(), ObjType::Map)?;
            tx.put(&s, "what", step.what.as_str())?;
            tx.put(&s, "owner", step.owner.code())?;
            put_opt(tx, &s, "partner", step.partner.as_deref())?;
            put_opt(
                tx,
                &s,
                "target_date",
                step.target_date.map(iso_date).as_deref(),
            )?;
            tx.put(&s, "worker_id", meta.worker_id.as_str())?;
            tx.put(&s, "at", now.to_rfc3339())?;
            tx.put_object(&s, "progress", ObjType::Map)?;
            Ok(())
        })?;
        Ok(id)
    }

    /// Records progress on a step (a new status and a comment), usually on a visit, which must
    /// then be one of this household's. Progress entries sit side by side, so two workers who
    /// record progress offline both keep theirs; the latest says where the step stands.
    pub fn update_step(
        &mut self,
        step: Uuid,
        update: &StepUpdate,
        meta: &ChangeMeta,
        now: DateTime<Utc>,
    ) -> Result<()> {
        let update = update.validated()?;
        if let Some(visit) = update.visit_id {
            self.entity("visits", "visit", visit)?;
        }
        let s = self.step_obj(step)?;
        let progress = match self.doc.get(&s, "progress")? {
            Some((Value::Object(ObjType::Map), obj)) => obj,
            _ => return Err(malformed(format!("step {step} has no progress map"))),
        };
        let action = meta.action(
            Action::StepUpdate,
            Some(step.to_string()),
            vec![update.status.code().into()],
        );
        self.transact(&action, now, |tx| {
            let p = tx.put_object(&progress, Uuid::now_v7().to_string(), ObjType::Map)?;
            tx.put(&p, "status", update.status.code())?;
            put_opt(tx, &p, "comment", Some(&update.comment))?;
            put_opt(
                tx,
                &p,
                "visit_id",
                update.visit_id.map(|v| v.to_string()).as_deref(),
            )?;
            tx.put(&p, "worker_id", meta.worker_id.as_str())?;
            tx.put(&p, "at", now.to_rfc3339())?;
            Ok(())
        })
    }

    /// Sets when the plan counts as achieved.
    pub fn set_criteria(
        &mut self,
        criteria: GraduationCriteria,
        meta: &ChangeMeta,
        now: DateTime<Utc>,
    ) -> Result<()> {
        if criteria.threshold > limits::NEED_SCORE_MAX {
            return Err(ValidationError::OutOfRange {
                field: Field::GraduationThreshold,
                value: i64::from(criteria.threshold),
                min: 0,
                max: i64::from(limits::NEED_SCORE_MAX),
            }
            .into());
        }
        if !(1..=GRADUATION_VISITS_MAX).contains(&criteria.visits) {
            return Err(ValidationError::OutOfRange {
                field: Field::GraduationVisits,
                value: i64::from(criteria.visits),
                min: 1,
                max: i64::from(GRADUATION_VISITS_MAX),
            }
            .into());
        }
        let h = Self::collection(&self.doc, "household")?;
        let fields = vec!["graduation_threshold".into(), "graduation_visits".into()];
        let action = meta.action(Action::PlanCriteria, None, fields);
        self.transact(&action, now, |tx| {
            tx.put(&h, "graduation_threshold", i64::from(criteria.threshold))?;
            tx.put(&h, "graduation_visits", i64::from(criteria.visits))?;
            Ok(())
        })
    }

    /// Confirms the household's graduation: refused, with every unmet criterion named, unless
    /// the plan's criteria hold. Who may confirm is the store's and the server's rule (a
    /// supervisor or coordinator).
    pub fn graduate(&mut self, reason: &str, meta: &ChangeMeta, now: DateTime<Utc>) -> Result<()> {
        let household = self.read()?;
        let check = graduation(&household);
        if !check.holds() {
            return Err(DocumentError::NotAllowed(format!(
                "the graduation criteria do not hold: {}",
                check.unmet_en().join("; ")
            )));
        }
        self.write_status(
            HouseholdStatus::Graduated,
            Action::Graduate,
            reason,
            meta,
            now,
        )
    }

    /// Brings a graduated household back into support (a job lost, an illness): its plan and
    /// history stay, and a new graduation needs the criteria to hold again.
    pub fn reenter(&mut self, reason: &str, meta: &ChangeMeta, now: DateTime<Utc>) -> Result<()> {
        if self.read()?.status != HouseholdStatus::Graduated {
            return Err(DocumentError::NotAllowed(
                "only a graduated household re-enters support".into(),
            ));
        }
        let reason = clean_notes(Field::Reason, reason, limits::NOTES)?;
        if reason.is_empty() {
            return Err(ValidationError::Required {
                field: Field::Reason,
            }
            .into());
        }
        self.write_status(HouseholdStatus::Active, Action::Reenter, &reason, meta, now)
    }

    fn write_status(
        &mut self,
        status: HouseholdStatus,
        action: Action,
        reason: &str,
        meta: &ChangeMeta,
        now: DateTime<Utc>,
    ) -> Result<()> {
        let reason = clean_notes(Field::Reason, reason, limits::NOTES)?;
        let h = Self::collection(&self.doc, "household")?;
        let action = meta.action(action, None, vec!["status".into()]);
        self.transact(&action, now, |tx| {
            tx.put(&h, "status", status.code())?;
            write_status_event(tx, status, &reason, &meta.worker_id, now)
        })
    }

    /// A graduated or closed household's plan is finished: goals and steps are added once it
    /// re-enters.
    fn require_open_plan(&self) -> Result<()> {
        let status = self.read()?.status;
        if matches!(status, HouseholdStatus::Graduated | HouseholdStatus::Closed) {
            return Err(DocumentError::NotAllowed(format!(
                "the household is {}; its plan changes once it re-enters support",
                status.label_en()
            )));
        }
        Ok(())
    }

    /// The map of a goal, in whichever concurrent copy of `goals` holds it.
    fn goal_obj(&self, goal: Uuid) -> Result<ObjId> {
        for goals in lazy_maps(&self.doc, &automerge::ROOT, "goals")? {
            if let Some((Value::Object(ObjType::Map), obj)) =
                self.doc.get(&goals, goal.to_string())?
            {
                return Ok(obj);
            }
        }
        Err(DocumentError::NotFound {
            kind: "goal",
            id: goal.to_string(),
        })
    }

    /// The map of a step, in whichever goal holds it.
    fn step_obj(&self, step: Uuid) -> Result<ObjId> {
        for goals in lazy_maps(&self.doc, &automerge::ROOT, "goals")? {
            for item in self.doc.map_range(&goals, ..) {
                if let Some((Value::Object(ObjType::Map), steps)) =
                    self.doc.get(item.id(), "steps")?
                    && let Some((Value::Object(ObjType::Map), obj)) =
                        self.doc.get(&steps, step.to_string())?
                {
                    return Ok(obj);
                }
            }
        }
        Err(DocumentError::NotFound {
            kind: "step",
            id: step.to_string(),
        })
    }
}

fn write_status_event(
    tx: &mut AutoCommit,
    status: HouseholdStatus,
    reason: &str,
    worker_id: &str,
    now: DateTime<Utc>,
) -> Result<()> {
    let events = lazy_map_for_write(tx, &automerge::ROOT, "status_events")?;
    let e = tx.put_object(&events, Uuid::now_v7().to_string(), ObjType::Map)?;
    tx.put(&e, "status", status.code())?;
    tx.put(&e, "worker_id", worker_id)?;
    tx.put(&e, "at", now.to_rfc3339())?;
    put_opt(tx, &e, "reason", Some(reason))?;
    Ok(())
}
