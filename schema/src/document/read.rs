//! Reading a household document into the domain model. Every field is read as its type says;
//! a value that cannot be read is an error naming where it is, never a silent default.

use std::collections::BTreeMap;

use automerge::{ObjId, ObjType, ReadDoc, ScalarValue, Value, ValueRef};
use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::layout::{Fields, lazy_maps, malformed, parse_uuid, problem};
use super::{HouseholdDoc, Result};
use crate::date::parse_iso_date;
use crate::enums::*;
use crate::error::ValidationError;
use crate::field::Field;
use crate::model::*;
use crate::national_id::NationalId;

impl HouseholdDoc {
    /// The household as the domain model sees it; a field in conflict shows Automerge's
    /// deterministic pick (see [`Self::conflicts`] for the rest).
    pub fn read(&self) -> Result<Household> {
        let doc = &self.doc;
        let fields = |obj: ObjId, what: String| Fields::of(doc, &obj, what);
        let h = fields(Self::collection(doc, "household")?, "household".into());
        let mut members = Vec::new();
        for (id, obj) in self.entities("members")? {
            members.push(read_member(id, fields(obj, format!("member {id}")))?);
        }
        let mut visits = Vec::new();
        for (id, obj) in self.entities("visits")? {
            visits.push(self.read_visit(id, fields(obj, format!("visit {id}")))?);
        }
        visits.sort_by_key(|v| (v.date, v.id));
        let mut referrals = Vec::new();
        for (id, obj) in self.entities("referrals")? {
            referrals.push(self.read_referral(id, fields(obj, format!("referral {id}")))?);
        }
        Ok(Household {
            merged: read_link(&h)?,
            not_duplicates: self.read_decisions()?,
            goals: self.read_goals()?,
            criteria: read_criteria(&h)?,
            status_events: self.read_status_events()?,
            id: self.id()?,
            head_member_id: h.parsed("head_member_id", |v| parse_uuid(Field::HeadMember, v))?,
            district: h.required("district")?,
            address: h.required("address")?,
            phone: h.text("phone")?,
            alt_phone: h.text("alt_phone")?,
            status: h.required_parsed("status", HouseholdStatus::parse)?,
            assigned_group: h.text("assigned_group")?,
            assigned_worker: h.text("assigned_worker")?,
            created_at: h.required_parsed("created_at", |v| parse_time(Field::CreatedAt, v))?,
            created_by: h.required("created_by")?,
            members,
            visits,
            referrals,
        })
    }

    /// Where this household was merged into, if it was (cheaper than [`Self::read`]: only the
    /// household's own map is read). What the server keeps its merge links from.
    pub fn merged_into(&self) -> Result<Option<MergeLink>> {
        let h = Fields::of(
            &self.doc,
            &Self::collection(&self.doc, "household")?,
            "household".into(),
        );
        read_link(&h)
    }

    /// The entities of a collection in id order (UUID v7: creation order).
    fn entities(&self, collection: &str) -> Result<Vec<(Uuid, ObjId)>> {
        let coll = Self::collection(&self.doc, collection)?;
        self.map_entries(&coll, collection)
    }

    fn read_visit(&self, id: Uuid, f: Fields) -> Result<Visit> {
        let mut needs = BTreeMap::new();
        if let Some(obj) = f.objects.get("needs") {
            for item in self.doc.map_range(obj, ..) {
                let domain = NeedDomain::parse(item.key.as_ref())
                    .map_err(|e| malformed(format!("visit {id} needs: {}", problem(&e))))?;
                let score = match item.value.clone().into_value() {
                    Value::Scalar(s) => need_score(&s),
                    Value::Object(_) => None,
                };
                let score = score.ok_or_else(|| {
                    malformed(format!(
                        "visit {id} needs.{domain}: not a whole score 0..=4"
                    ))
                })?;
                needs.insert(domain, score);
            }
        }
        Ok(Visit {
            id,
            date: f.required_parsed("date", |v| parse_iso_date(Field::VisitDate, v))?,
            worker_id: f.required("worker_id")?,
            kind: f.required_parsed("kind", VisitKind::parse)?,
            observations: f.text("observations")?.unwrap_or_default(),
            needs,
            followup_date: f.parsed("followup_date", |v| parse_iso_date(Field::FollowupDate, v))?,
            review: self.read_review(id, &f.obj)?,
        })
    }

    /// The entries of every concurrent copy of a lazily created map (see
    /// [`super::layout::lazy_maps`]), by UUID key, in key order.
    fn lazy_entries(&self, parent: &ObjId, key: &str, what: &str) -> Result<Vec<(Uuid, ObjId)>> {
        let mut out: Vec<(Uuid, ObjId)> = Vec::new();
        for map in lazy_maps(&self.doc, parent, key)? {
            for item in self.doc.map_range(&map, ..) {
                let id = parse_uuid(Field::Id, item.key.as_ref())
                    .map_err(|_| malformed(format!("{what}: a key is not a UUID")))?;
                if !matches!(item.value, ValueRef::Object(ObjType::Map)) {
                    return Err(malformed(format!("{what}.{id} is not a map")));
                }
                if !out.iter().any(|(seen, _)| *seen == id) {
                    out.push((id, item.id()));
                }
            }
        }
        out.sort_by_key(|(id, _)| *id);
        Ok(out)
    }

    fn read_review(&self, visit: Uuid, obj: &ObjId) -> Result<Vec<ReviewEvent>> {
        let what = format!("visit {visit} review");
        let mut events = Vec::new();
        for (id, e) in self.lazy_entries(obj, "review", &what)? {
            let f = Fields::of(&self.doc, &e, format!("{what} {id}"));
            events.push(ReviewEvent {
                id,
                action: f.required_parsed("action", ReviewAction::parse)?,
                worker_id: f.required("worker_id")?,
                at: f.required_parsed("at", |v| parse_time(Field::Date, v))?,
                comment: f.text("comment")?.unwrap_or_default(),
                field: f.parsed("field", Field::parse)?,
            });
        }
        // Event ids are UUID v7 (time ordered); the author's clock breaks no tie they leave.
        events.sort_by_key(|e| (e.at, e.id));
        Ok(events)
    }

    fn read_decisions(&self) -> Result<Vec<NotDuplicate>> {
        let mut out = Vec::new();
        for (other, obj) in
            self.lazy_entries(&automerge::ROOT, "not_duplicates", "not_duplicates")?
        {
            let f = Fields::of(&self.doc, &obj, format!("not_duplicates {other}"));
            let evidence = f.text("evidence")?.unwrap_or_default();
            out.push(NotDuplicate {
                other,
                reason: f.text("reason")?.unwrap_or_default(),
                by: f.required("worker_id")?,
                at: f.required_parsed("at", |v| parse_time(Field::Date, v))?,
                evidence: serde_json::from_str(&evidence).map_err(|_| {
                    malformed(format!(
                        "not_duplicates {other}: evidence is not a JSON list"
                    ))
                })?,
            });
        }
        Ok(out)
    }

    fn read_referral(&self, id: Uuid, f: Fields) -> Result<Referral> {
        let mut history = Vec::new();
        if let Some(obj) = f.objects.get("events") {
            for item in self.doc.map_range(obj, ..) {
                let event_id = parse_uuid(Field::Id, item.key.as_ref())
                    .map_err(|_| malformed(format!("referral {id} events: a key is not a UUID")))?;
                let e = Fields::of(&self.doc, &item.id(), format!("referral event {event_id}"));
                history.push(ReferralEvent {
                    id: event_id,
                    status: e.required_parsed("status", ReferralStatus::from_stored)?,
                    date: e.required_parsed("date", |v| parse_iso_date(Field::StatusDate, v))?,
                    worker_id: e.required("worker_id")?,
                    note: e.text("note")?.unwrap_or_default(),
                    amount: e.parsed("amount", parse_amount)?,
                    reason: e.text("reason")?,
                });
            }
        }
        history.sort_by_key(|e| (e.date, e.id));
        Ok(Referral {
            id,
            kind: f.required_parsed("kind", ReferralKind::parse)?,
            partner: f.text("partner")?,
            target: f.text("target")?.unwrap_or_default(),
            visit_id: f.parsed("visit_id", |v| parse_uuid(Field::ReferralVisit, v))?,
            history,
        })
    }
}

/// Empowerment plans and graduation (schema version 3).
impl HouseholdDoc {
    fn read_goals(&self) -> Result<Vec<Goal>> {
        let mut goals = Vec::new();
        for (id, obj) in self.lazy_entries(&automerge::ROOT, "goals", "goals")? {
            let f = Fields::of(&self.doc, &obj, format!("goal {id}"));
            let mut steps = Vec::new();
            if let Some(steps_obj) = f.objects.get("steps") {
                for (step_id, step_obj) in
                    self.map_entries(steps_obj, &format!("goal {id} steps"))?
                {
                    steps.push(self.read_step(step_id, &step_obj)?);
                }
            }
            goals.push(Goal {
                id,
                domain: f.required_parsed("domain", GoalDomain::parse)?,
                title: f.required("title")?,
                worker_id: f.required("worker_id")?,
                at: f.required_parsed("at", |v| parse_time(Field::Date, v))?,
                steps,
            });
        }
        Ok(goals)
    }

    fn read_step(&self, id: Uuid, obj: &ObjId) -> Result<Step> {
        let f = Fields::of(&self.doc, obj, format!("step {id}"));
        let mut progress = Vec::new();
        if let Some(p) = f.objects.get("progress") {
            for (pid, pobj) in self.map_entries(p, &format!("step {id} progress"))? {
                let e = Fields::of(&self.doc, &pobj, format!("step {id} progress {pid}"));
                progress.push(StepProgress {
                    id: pid,
                    status: e.required_parsed("status", StepStatus::parse)?,
                    comment: e.text("comment")?.unwrap_or_default(),
                    visit_id: e.parsed("visit_id", |v| parse_uuid(Field::Visit, v))?,
                    worker_id: e.required("worker_id")?,
                    at: e.required_parsed("at", |v| parse_time(Field::Date, v))?,
                });
            }
        }
        // Entry ids are UUID v7 (time ordered); the author's clock breaks no tie they leave.
        progress.sort_by_key(|p| (p.at, p.id));
        Ok(Step {
            id,
            what: f.required("what")?,
            owner: f.required_parsed("owner", StepOwner::parse)?,
            partner: f.text("partner")?,
            target_date: f.parsed("target_date", |v| parse_iso_date(Field::TargetDate, v))?,
            worker_id: f.required("worker_id")?,
            at: f.required_parsed("at", |v| parse_time(Field::Date, v))?,
            progress,
        })
    }

    fn read_status_events(&self) -> Result<Vec<StatusEvent>> {
        let mut out = Vec::new();
        for (id, obj) in self.lazy_entries(&automerge::ROOT, "status_events", "status_events")? {
            let f = Fields::of(&self.doc, &obj, format!("status_events {id}"));
            out.push(StatusEvent {
                id,
                status: f.required_parsed("status", HouseholdStatus::parse)?,
                worker_id: f.required("worker_id")?,
                at: f.required_parsed("at", |v| parse_time(Field::Date, v))?,
                reason: f.text("reason")?.unwrap_or_default(),
            });
        }
        out.sort_by_key(|e| (e.at, e.id));
        Ok(out)
    }

    /// The entries of a map keyed by UUID (a collection, or one created with its parent), in key
    /// order; a key that is not a UUID or an entry that is not a map is an error naming `what`.
    fn map_entries(&self, obj: &ObjId, what: &str) -> Result<Vec<(Uuid, ObjId)>> {
        let mut out = Vec::new();
        for item in self.doc.map_range(obj, ..) {
            let id = parse_uuid(Field::Id, item.key.as_ref())
                .map_err(|_| malformed(format!("{what}: a key is not a UUID")))?;
            match item.value {
                ValueRef::Object(ObjType::Map) => out.push((id, item.id())),
                _ => return Err(malformed(format!("{what}.{id} is not a map"))),
            }
        }
        out.sort_by_key(|(id, _)| *id);
        Ok(out)
    }
}

/// A referral's amount as stored: a whole number of rials, above zero, within
/// [`limits::AMOUNT_MAX`].
fn parse_amount(v: &str) -> Result<i64, ValidationError> {
    let amount: i64 = v.parse().map_err(|_| ValidationError::Invalid {
        field: Field::Amount,
        input: v.to_string(),
        reason: "is not a whole number of rials",
    })?;
    if !(1..=limits::AMOUNT_MAX).contains(&amount) {
        return Err(ValidationError::OutOfRange {
            field: Field::Amount,
            value: amount,
            min: 1,
            max: limits::AMOUNT_MAX,
        });
    }
    Ok(amount)
}

/// The plan's graduation criteria as stored on the household; the defaults when never set.
fn read_criteria(h: &Fields) -> Result<GraduationCriteria> {
    let defaults = GraduationCriteria::default();
    let threshold = h.parsed("graduation_threshold", crate::field::parse_score)?;
    let visits = h.parsed("graduation_visits", |v| {
        crate::model::parse_graduation_visits(v)
    })?;
    Ok(GraduationCriteria {
        threshold: threshold.unwrap_or(defaults.threshold),
        visits: visits.unwrap_or(defaults.visits),
    })
}

/// A need score as stored: a whole number 0..=4. Another client's JavaScript number arrives as
/// a float; a whole one is accepted, a fractional one refused (never truncated).
fn need_score(value: &ScalarValue) -> Option<u8> {
    let score = match value {
        ScalarValue::Int(i) => *i,
        ScalarValue::Uint(u) => i64::try_from(*u).ok()?,
        ScalarValue::F64(f) if f.fract() == 0.0 && f.is_finite() => *f as i64,
        _ => return None,
    };
    (0..=i64::from(limits::NEED_SCORE_MAX))
        .contains(&score)
        .then_some(score as u8)
}

fn parse_time(field: Field, v: &str) -> Result<DateTime<Utc>, ValidationError> {
    DateTime::parse_from_rfc3339(v)
        .map(|t| t.with_timezone(&Utc))
        .map_err(|_| ValidationError::Invalid {
            field,
            input: v.to_string(),
            reason: "is not an RFC 3339 time",
        })
}

fn read_link(h: &Fields) -> Result<Option<MergeLink>> {
    Ok(
        match h.parsed("merged_into", |v| parse_uuid(Field::MergedInto, v))? {
            Some(survivor) => Some(MergeLink {
                survivor,
                survivor_group: h.text("merged_group")?,
                at: h.required_parsed("merged_at", |v| parse_time(Field::MergedAt, v))?,
                by: h.required("merged_by")?,
            }),
            None => None,
        },
    )
}

fn read_member(id: Uuid, f: Fields) -> Result<Member> {
    Ok(Member {
        id,
        first_name: f.required("first_name")?,
        last_name: f.required("last_name")?,
        national_id: f.parsed("national_id", NationalId::parse)?,
        birth_date: f.parsed("birth_date", |v| parse_iso_date(Field::BirthDate, v))?,
        sex: f.parsed("sex", Sex::parse)?,
        relation: f.required_parsed("relation", Relation::parse)?,
        education: f.parsed("education", Education::parse)?,
        employment: f.parsed("employment", Employment::parse)?,
        health_notes: f.text("health_notes")?.unwrap_or_default(),
        disability_notes: f.text("disability_notes")?.unwrap_or_default(),
        father_name: f.text("father_name")?,
    })
}
