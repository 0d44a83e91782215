//! The actions that become changes: each public method is one Automerge change carrying a
//! [`ChangeMeta`], and a failed action leaves nothing of itself in the document.

use automerge::{AutoCommit, ObjId, ObjType, ReadDoc, Value, transaction::Transactable};
use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::layout::{COLLECTIONS, lazy_map_for_write, put_opt};
use super::meta::{Action, ChangeMeta, commit_options};
use super::migrate::stored_version;
use super::{HouseholdDoc, Result};
use crate::date::iso_date;
use crate::enums::*;
use crate::error::{DocumentError, ValidationError};
use crate::field::Field;
use crate::model::*;
use crate::national_id::NationalId;

impl HouseholdDoc {
    /// A new household document with its head as the first member. The first change creates every
    /// collection, so later changes from any replica only ever add inside them.
    pub fn create(
        actor: automerge::ActorId,
        id: Uuid,
        household: &NewHousehold,
        head: &NewMember,
        meta: &ChangeMeta,
        now: DateTime<Utc>,
    ) -> Result<(Self, Uuid)> {
        let mut doc = AutoCommit::new().with_actor(actor);
        let head_id = Uuid::now_v7();
        doc.put(automerge::ROOT, "schema_version", stored_version())?;
        doc.put(automerge::ROOT, "kind", "household")?;
        doc.put(automerge::ROOT, "id", id.to_string())?;
        let h = doc.put_object(automerge::ROOT, "household", ObjType::Map)?;
        for name in COLLECTIONS {
            doc.put_object(automerge::ROOT, name, ObjType::Map)?;
        }
        doc.put(&h, "district", household.district.as_str())?;
        doc.put(&h, "address", household.address.as_str())?;
        put_opt(&mut doc, &h, "phone", household.phone.as_deref())?;
        put_opt(&mut doc, &h, "alt_phone", household.alt_phone.as_deref())?;
        doc.put(&h, "status", HouseholdStatus::Active.code())?;
        doc.put(&h, "head_member_id", head_id.to_string())?;
        let assigned_group = household.assigned_group.as_deref();
        put_opt(&mut doc, &h, "assigned_group", assigned_group)?;
        let assigned_worker = household.assigned_worker.as_deref();
        put_opt(&mut doc, &h, "assigned_worker", assigned_worker)?;
        doc.put(&h, "created_at", now.to_rfc3339())?;
        doc.put(&h, "created_by", meta.worker_id.as_str())?;
        let members = Self::collection(&doc, "members")?;
        let m = doc.put_object(&members, head_id.to_string(), ObjType::Map)?;
        write_member(&mut doc, &m, head)?;
        let meta = meta.action(Action::HouseholdCreate, Some(id.to_string()), Vec::new());
        doc.commit_with(commit_options(&meta, now));
        Ok((Self { doc }, head_id))
    }

    /// Runs `write` as one change; if it fails, nothing of it stays in the document.
    pub(super) fn transact<T>(
        &mut self,
        meta: &ChangeMeta,
        now: DateTime<Utc>,
        write: impl FnOnce(&mut AutoCommit) -> Result<T>,
    ) -> Result<T> {
        match write(&mut self.doc) {
            Ok(value) => {
                self.doc.commit_with(commit_options(meta, now));
                Ok(value)
            }
            Err(e) => {
                self.doc.rollback();
                Err(e)
            }
        }
    }

    /// Sets the household's own fields that the edit gives (validated by the caller).
    pub fn edit_household(
        &mut self,
        edit: &HouseholdEdit,
        meta: &ChangeMeta,
        now: DateTime<Utc>,
    ) -> Result<()> {
        if let Some(status) = edit.status {
            let current = self.read()?.status;
            let graduation = |s| s == HouseholdStatus::Graduated;
            if status != current && (graduation(status) || graduation(current)) {
                return Err(DocumentError::NotAllowed(
                    "graduation is confirmed with `graduate` when the plan's criteria hold, and \
                     undone with `reenter`; a status edit does neither"
                        .into(),
                ));
            }
        }
        let h = Self::collection(&self.doc, "household")?;
        let values: [(&str, Option<String>); 7] = [
            ("district", edit.district.clone()),
            ("address", edit.address.clone()),
            ("phone", edit.phone.clone()),
            ("alt_phone", edit.alt_phone.clone()),
            ("status", edit.status.map(|s| s.code().to_string())),
            ("assigned_group", edit.assigned_group.clone()),
            ("assigned_worker", edit.assigned_worker.clone()),
        ];
        let meta = meta.action(Action::HouseholdEdit, None, given_keys(&values));
        self.transact(&meta, now, |tx| put_given(tx, &h, &values))
    }

    pub fn add_member(
        &mut self,
        member: &NewMember,
        meta: &ChangeMeta,
        now: DateTime<Utc>,
    ) -> Result<Uuid> {
        self.check_national_id_free(member.national_id.as_ref(), None)?;
        let id = Uuid::now_v7();
        let members = Self::collection(&self.doc, "members")?;
        let meta = meta.action(Action::MemberAdd, Some(id.to_string()), Vec::new());
        self.transact(&meta, now, |tx| {
            let m = tx.put_object(&members, id.to_string(), ObjType::Map)?;
            write_member(tx, &m, member)
        })?;
        Ok(id)
    }

    /// Refuses a national ID another member of this household already holds.
    fn check_national_id_free(&self, nid: Option<&NationalId>, except: Option<Uuid>) -> Result<()> {
        let Some(nid) = nid else { return Ok(()) };
        let household = self.read()?;
        if let Some(other) = household
            .members
            .iter()
            .find(|m| m.national_id.as_ref() == Some(nid) && Some(m.id) != except)
        {
            return Err(ValidationError::Invalid {
                field: Field::NationalId,
                input: nid.to_string(),
                reason: if Some(other.id) == household.head_member_id {
                    "already belongs to the head of this household"
                } else {
                    "already belongs to another member of this household"
                },
            }
            .into());
        }
        Ok(())
    }

    /// Sets the member's fields that the edit gives (validated by the caller).
    pub fn edit_member(
        &mut self,
        id: Uuid,
        edit: &MemberEdit,
        meta: &ChangeMeta,
        now: DateTime<Utc>,
    ) -> Result<()> {
        let m = self.entity("members", "member", id)?;
        self.check_national_id_free(edit.national_id.as_ref(), Some(id))?;
        let code = |c: Option<&'static str>| c.map(str::to_string);
        let values: [(&str, Option<String>); 11] = [
            ("first_name", edit.first_name.clone()),
            ("last_name", edit.last_name.clone()),
            (
                "national_id",
                edit.national_id.as_ref().map(|n| n.to_string()),
            ),
            ("birth_date", edit.birth_date.map(iso_date)),
            ("sex", code(edit.sex.map(Sex::code))),
            ("relation", code(edit.relation.map(Relation::code))),
            ("education", code(edit.education.map(Education::code))),
            ("employment", code(edit.employment.map(Employment::code))),
            ("health_notes", edit.health_notes.clone()),
            ("disability_notes", edit.disability_notes.clone()),
            ("father_name", edit.father_name.clone()),
        ];
        let meta = meta.action(
            Action::MemberEdit,
            Some(id.to_string()),
            given_keys(&values),
        );
        self.transact(&meta, now, |tx| put_given(tx, &m, &values))
    }

    pub fn add_visit(
        &mut self,
        visit: &NewVisit,
        meta: &ChangeMeta,
        now: DateTime<Utc>,
    ) -> Result<Uuid> {
        let id = Uuid::now_v7();
        let visits = Self::collection(&self.doc, "visits")?;
        let action = meta.action(Action::VisitAdd, Some(id.to_string()), Vec::new());
        self.transact(&action, now, |tx| {
            let v = tx.put_object(&visits, id.to_string(), ObjType::Map)?;
            tx.put(&v, "date", iso_date(visit.date))?;
            tx.put(&v, "worker_id", meta.worker_id.as_str())?;
            tx.put(&v, "kind", visit.kind.code())?;
            put_opt(tx, &v, "observations", Some(&visit.observations))?;
            let followup = visit.followup_date.map(iso_date);
            put_opt(tx, &v, "followup_date", followup.as_deref())?;
            let needs = tx.put_object(&v, "needs", ObjType::Map)?;
            for (domain, score) in &visit.needs {
                tx.put(&needs, domain.code(), i64::from(*score))?;
            }
            Ok(())
        })?;
        Ok(id)
    }

    pub fn add_referral(
        &mut self,
        referral: &NewReferral,
        meta: &ChangeMeta,
        now: DateTime<Utc>,
    ) -> Result<Uuid> {
        if let Some(visit) = referral.visit_id {
            self.entity("visits", "visit", visit)?;
        }
        let id = Uuid::now_v7();
        let referrals = Self::collection(&self.doc, "referrals")?;
        let action = meta.action(Action::ReferralAdd, Some(id.to_string()), Vec::new());
        self.transact(&action, now, |tx| {
            let r = tx.put_object(&referrals, id.to_string(), ObjType::Map)?;
            tx.put(&r, "kind", referral.kind.code())?;
            put_opt(tx, &r, "partner", referral.partner.as_deref())?;
            put_opt(tx, &r, "target", Some(referral.target.as_str()))?;
            let visit_id = referral.visit_id.map(|v| v.to_string());
            put_opt(tx, &r, "visit_id", visit_id.as_deref())?;
            let events = tx.put_object(&r, "events", ObjType::Map)?;
            let update = ReferralUpdate {
                status: ReferralStatus::Sent,
                date: referral.date,
                note: referral.note.clone(),
                amount: None,
                reason: None,
            };
            write_event(tx, &events, &update, &meta.worker_id)
        })?;
        Ok(id)
    }

    /// Records a referral's next step in its ledger as an event beside the earlier ones. A
    /// step the ledger does not allow from where the referral stands is refused (see
    /// [`crate::outcome::ledger::check_transition`]), as is one dated before the step it follows.
    pub fn update_referral(
        &mut self,
        id: Uuid,
        update: &ReferralUpdate,
        meta: &ChangeMeta,
        now: DateTime<Utc>,
    ) -> Result<()> {
        let r = self.entity("referrals", "referral", id)?;
        let current = self
            .read()?
            .referrals
            .into_iter()
            .find(|x| x.id == id)
            .ok_or(DocumentError::NotFound {
                kind: "referral",
                id: id.to_string(),
            })?;
        crate::outcome::ledger::check_transition(&current, update)?;
        let events = match self.doc.get(&r, "events")? {
            Some((Value::Object(ObjType::Map), obj)) => obj,
            _ => return Err(super::layout::malformed("referral has no events map")),
        };
        let fields = vec!["status".into()];
        let action = meta.action(Action::ReferralUpdate, Some(id.to_string()), fields);
        self.transact(&action, now, |tx| {
            write_event(tx, &events, update, &meta.worker_id)
        })
    }
}

/// Reconciliation: merging, review and "not a duplicate" (schema version 2).
impl HouseholdDoc {
    /// Retires this household into `survivor`: it becomes a redirect to it. Nothing is copied
    /// or deleted; every replica that shows the survivor composes it with the households that
    /// point at it (see `docs/reconciliation.md`), so work written here later, by a worker who
    /// has not heard of the merge yet, still shows in the survivor, once.
    pub fn retire_into(
        &mut self,
        survivor: Uuid,
        survivor_group: Option<&str>,
        meta: &ChangeMeta,
        now: DateTime<Utc>,
    ) -> Result<()> {
        if survivor == self.id()? {
            return Err(DocumentError::NotAllowed(
                "a household cannot be merged into itself".into(),
            ));
        }
        if let Some(link) = self.read()?.merged {
            return Err(DocumentError::NotAllowed(format!(
                "this household is already merged into {}",
                link.survivor
            )));
        }
        let h = Self::collection(&self.doc, "household")?;
        let meta = meta.action(
            Action::HouseholdMerge,
            Some(survivor.to_string()),
            vec!["merged_into".into()],
        );
        self.transact(&meta, now, |tx| {
            tx.put(&h, "merged_into", survivor.to_string())?;
            put_opt(tx, &h, "merged_group", survivor_group)?;
            tx.put(&h, "merged_at", now.to_rfc3339())?;
            tx.put(&h, "merged_by", meta.worker_id.as_str())?;
            Ok(())
        })
    }

    /// Undoes [`Self::retire_into`]: the household stands on its own again with everything it
    /// held and everything written to it since.
    pub fn unretire(&mut self, meta: &ChangeMeta, now: DateTime<Utc>) -> Result<Uuid> {
        let Some(link) = self.read()?.merged else {
            return Err(DocumentError::NotAllowed(
                "this household is not merged into another".into(),
            ));
        };
        let h = Self::collection(&self.doc, "household")?;
        let meta = meta.action(
            Action::HouseholdUnmerge,
            Some(link.survivor.to_string()),
            vec!["merged_into".into()],
        );
        self.transact(&meta, now, |tx| {
            for key in ["merged_into", "merged_group", "merged_at", "merged_by"] {
                put_opt(tx, &h, key, None)?;
            }
            Ok(())
        })?;
        Ok(link.survivor)
    }

    /// Remembers that this household and `other` are not the same family.
    pub fn mark_not_duplicate(
        &mut self,
        other: Uuid,
        reason: &str,
        evidence: &[String],
        meta: &ChangeMeta,
        now: DateTime<Utc>,
    ) -> Result<()> {
        let reason = clean_notes(Field::Reason, reason, limits::NOTES)?;
        if reason.is_empty() {
            return Err(ValidationError::Required {
                field: Field::Reason,
            }
            .into());
        }
        let evidence = serde_json::to_string(evidence)
            .map_err(|e| DocumentError::Malformed(format!("evidence: {e}")))?;
        let action = meta.action(Action::NotDuplicate, Some(other.to_string()), Vec::new());
        self.transact(&action, now, |tx| {
            let decisions = lazy_map_for_write(tx, &automerge::ROOT, "not_duplicates")?;
            let d = tx.put_object(&decisions, other.to_string(), ObjType::Map)?;
            tx.put(&d, "reason", reason.as_str())?;
            tx.put(&d, "worker_id", meta.worker_id.as_str())?;
            tx.put(&d, "at", now.to_rfc3339())?;
            tx.put(&d, "evidence", evidence.as_str())?;
            Ok(())
        })
    }

    /// Records a review step on a visit: a supervisor approves or returns it (with a comment,
    /// optionally on one field), the worker resubmits it. A step the visit's state does not
    /// allow is refused (approving an approved visit, resubmitting one not returned).
    pub fn review_visit(
        &mut self,
        visit: Uuid,
        action: ReviewAction,
        comment: &str,
        field: Option<Field>,
        meta: &ChangeMeta,
        now: DateTime<Utc>,
    ) -> Result<()> {
        let v = self.entity("visits", "visit", visit)?;
        let current = self
            .read()?
            .visits
            .into_iter()
            .find(|x| x.id == visit)
            .ok_or(DocumentError::NotFound {
                kind: "visit",
                id: visit.to_string(),
            })?;
        let state = current.review_state();
        let allowed = match action {
            ReviewAction::Approved | ReviewAction::Returned => state == ReviewState::Awaiting,
            ReviewAction::Resubmitted => state == ReviewState::Returned,
            // Written by an edit after approval, never asked for on its own.
            ReviewAction::Reopened => false,
        };
        if !allowed {
            return Err(DocumentError::NotAllowed(format!(
                "a visit that is {} cannot be {}",
                state.label_en(),
                action.label_en()
            )));
        }
        if let Some(f) = field
            && !VISIT_REVIEW_FIELDS.contains(&f)
        {
            return Err(ValidationError::Invalid {
                field: Field::ReviewField,
                input: f.code().into(),
                reason: "is not a field of a visit",
            }
            .into());
        }
        let comment = clean_notes(Field::Comment, comment, limits::NOTES)?;
        if action == ReviewAction::Returned && comment.is_empty() {
            return Err(ValidationError::Required {
                field: Field::Comment,
            }
            .into());
        }
        let meta = meta.action(
            Action::VisitReview,
            Some(visit.to_string()),
            vec![action.code().into()],
        );
        self.transact(&meta, now, |tx| {
            write_review(tx, &v, action, &comment, field, &meta.worker_id, now)
        })
    }

    /// Corrects a visit (validated by the caller against the visit). An approved visit is
    /// locked against silent edits: correcting it writes a `reopened` step in the same change,
    /// which puts it back in review.
    pub fn edit_visit(
        &mut self,
        visit: Uuid,
        edit: &VisitEdit,
        meta: &ChangeMeta,
        now: DateTime<Utc>,
    ) -> Result<()> {
        let v = self.entity("visits", "visit", visit)?;
        let approved = self
            .read()?
            .visits
            .iter()
            .any(|x| x.id == visit && x.review_state() == ReviewState::Approved);
        let values: [(&str, Option<String>); 4] = [
            ("date", edit.date.map(iso_date)),
            ("kind", edit.kind.map(|k| k.code().to_string())),
            ("observations", edit.observations.clone()),
            (
                "followup_date",
                edit.followup_date
                    .map(|d| d.map(iso_date).unwrap_or_default()),
            ),
        ];
        let mut fields = given_keys(&values);
        if edit.needs.is_some() {
            fields.push("needs".into());
        }
        let action = meta.action(Action::VisitEdit, Some(visit.to_string()), fields);
        self.transact(&action, now, |tx| {
            put_given(tx, &v, &values)?;
            if let Some(needs) = &edit.needs {
                let map = match tx.get(&v, "needs")? {
                    Some((Value::Object(ObjType::Map), id)) => id,
                    _ => tx.put_object(&v, "needs", ObjType::Map)?,
                };
                let old: Vec<String> = tx.keys(&map).collect();
                for key in old {
                    let keep = needs.keys().any(|d| d.code() == key);
                    if !keep {
                        tx.delete(&map, key.as_str())?;
                    }
                }
                for (domain, score) in needs {
                    tx.put(&map, domain.code(), i64::from(*score))?;
                }
            }
            if approved {
                write_review(
                    tx,
                    &v,
                    ReviewAction::Reopened,
                    "",
                    None,
                    &meta.worker_id,
                    now,
                )?;
            }
            Ok(())
        })
    }
}

fn write_review(
    tx: &mut AutoCommit,
    visit: &ObjId,
    action: ReviewAction,
    comment: &str,
    field: Option<Field>,
    worker_id: &str,
    now: DateTime<Utc>,
) -> Result<()> {
    let review = lazy_map_for_write(tx, visit, "review")?;
    let e = tx.put_object(&review, Uuid::now_v7().to_string(), ObjType::Map)?;
    tx.put(&e, "action", action.code())?;
    tx.put(&e, "worker_id", worker_id)?;
    tx.put(&e, "at", now.to_rfc3339())?;
    put_opt(tx, &e, "comment", Some(comment))?;
    put_opt(tx, &e, "field", field.map(Field::code))?;
    Ok(())
}

/// The keys an edit gives a value for (what its change message lists).
fn given_keys(values: &[(&str, Option<String>)]) -> Vec<String> {
    values
        .iter()
        .filter(|(_, v)| v.is_some())
        .map(|(k, _)| k.to_string())
        .collect()
}

/// Writes the values an edit gives; `Some("")` deletes an optional key.
pub(super) fn put_given(
    tx: &mut AutoCommit,
    obj: &ObjId,
    values: &[(&str, Option<String>)],
) -> Result<()> {
    for (key, value) in values {
        if let Some(v) = value {
            put_opt(tx, obj, key, Some(v))?;
        }
    }
    Ok(())
}

fn write_member(tx: &mut AutoCommit, m: &ObjId, member: &NewMember) -> Result<()> {
    tx.put(m, "first_name", member.first_name.as_str())?;
    tx.put(m, "last_name", member.last_name.as_str())?;
    let nid = member.national_id.as_ref().map(NationalId::as_str);
    put_opt(tx, m, "national_id", nid)?;
    put_opt(
        tx,
        m,
        "birth_date",
        member.birth_date.map(iso_date).as_deref(),
    )?;
    put_opt(tx, m, "sex", member.sex.map(Sex::code))?;
    tx.put(m, "relation", member.relation.code())?;
    put_opt(tx, m, "education", member.education.map(Education::code))?;
    put_opt(tx, m, "employment", member.employment.map(Employment::code))?;
    put_opt(tx, m, "health_notes", Some(&member.health_notes))?;
    put_opt(tx, m, "disability_notes", Some(&member.disability_notes))?;
    put_opt(tx, m, "father_name", member.father_name.as_deref())?;
    Ok(())
}

pub(super) fn write_event(
    tx: &mut AutoCommit,
    events: &ObjId,
    update: &ReferralUpdate,
    worker_id: &str,
) -> Result<()> {
    let e = tx.put_object(events, Uuid::now_v7().to_string(), ObjType::Map)?;
    tx.put(&e, "status", update.status.code())?;
    tx.put(&e, "date", iso_date(update.date))?;
    tx.put(&e, "worker_id", worker_id)?;
    put_opt(tx, &e, "note", Some(&update.note))?;
    if let Some(amount) = update.amount {
        tx.put(&e, "amount", amount)?;
    }
    put_opt(tx, &e, "reason", update.reason.as_deref())?;
    Ok(())
}
