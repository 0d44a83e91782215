//! The domain model: what a household, member, visit and referral hold, the inputs that create
//! or edit them, and the validation those inputs pass before anything is written.

use std::collections::BTreeMap;

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::enums::*;
use crate::error::ValidationError;
use crate::field::{Field, FieldValue};
use crate::national_id::NationalId;
use crate::text::{clean_input, latin_digits};

/// Upper bounds on what one field may hold; they keep documents small and refuse pasted junk.
pub mod limits {
    pub const NAME: usize = 100;
    pub const DISTRICT: usize = 100;
    pub const ADDRESS: usize = 500;
    pub const NOTES: usize = 2_000;
    pub const OBSERVATIONS: usize = 10_000;
    pub const TARGET: usize = 200;
    pub const WORKER_ID: usize = 100;
    /// The highest need score: 0 means no need, 4 a critical one.
    pub const NEED_SCORE_MAX: u8 = 4;
    /// The largest amount a referral may record: 10^15 rials, far above any loan, and exact in
    /// a spreadsheet's and JavaScript's numbers.
    pub const AMOUNT_MAX: i64 = 1_000_000_000_000_000;
}

/// A contracted volunteer or charity organisation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct Group {
    pub id: String,
    pub name: String,
}

/// An organisation households are referred to (a bank branch, a training centre, a clinic):
/// chosen from the committee's directory, never typed, so outcomes can be counted per partner.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct Partner {
    /// A short stable code, e.g. `bank-melli-tehran-12`.
    pub code: String,
    pub kind: PartnerKind,
    /// The organisation, e.g. «بانک ملی».
    pub name: String,
    /// The branch or site, e.g. «شعبهٔ میدان انقلاب».
    pub branch: Option<String>,
    pub district: Option<String>,
    /// A partner the committee stopped working with: kept for old referrals, not offered for
    /// new ones.
    pub active: bool,
}

impl Partner {
    /// The name shown in lists: the organisation and its branch.
    pub fn display_name(&self) -> String {
        match &self.branch {
            Some(b) if !b.is_empty() => format!("{} — {b}", self.name),
            _ => self.name.clone(),
        }
    }
}

/// Who does the work: a field worker, supervisor or coordinator of a group.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct Worker {
    pub id: String,
    pub name: String,
    pub group_id: Option<String>,
}

/// A household as read from its document, with every entity it holds.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct Household {
    pub id: Uuid,
    pub head_member_id: Option<Uuid>,
    pub district: String,
    pub address: String,
    pub phone: Option<String>,
    pub alt_phone: Option<String>,
    pub status: HouseholdStatus,
    pub assigned_group: Option<String>,
    pub assigned_worker: Option<String>,
    pub created_at: DateTime<Utc>,
    pub created_by: String,
    /// Members in the order they were registered.
    pub members: Vec<Member>,
    /// Visits, oldest first.
    pub visits: Vec<Visit>,
    /// Referrals in the order they were made.
    pub referrals: Vec<Referral>,
    /// Set when a supervisor or coordinator merged this household into another (the survivor):
    /// this one is then retired, a redirect to the survivor.
    pub merged: Option<MergeLink>,
    /// Households a supervisor or coordinator decided are not the same family as this one.
    pub not_duplicates: Vec<NotDuplicate>,
    /// The empowerment plan's goals, oldest first (schema version 3).
    pub goals: Vec<Goal>,
    /// When the plan counts as achieved (schema version 3; the defaults when never set).
    pub criteria: GraduationCriteria,
    /// Graduations and re-entries, oldest first (schema version 3).
    pub status_events: Vec<StatusEvent>,
}

/// Where a retired household's record now lives.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct MergeLink {
    pub survivor: Uuid,
    /// The group that handles the survivor (so workers who cannot see it know whom to ask).
    pub survivor_group: Option<String>,
    pub at: DateTime<Utc>,
    /// The worker who merged.
    pub by: String,
}

/// "This household and `other` are not the same family", decided by a person and remembered,
/// with the facts that made the pair look alike at the time (see `matching::evidence`): the
/// pair is proposed again only when a fact not in this list appears.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct NotDuplicate {
    pub other: Uuid,
    pub reason: String,
    pub by: String,
    pub at: DateTime<Utc>,
    pub evidence: Vec<String>,
}

impl Household {
    pub fn head(&self) -> Option<&Member> {
        let head = self.head_member_id?;
        self.members.iter().find(|m| m.id == head)
    }

    pub fn member(&self, id: Uuid) -> Option<&Member> {
        self.members.iter().find(|m| m.id == id)
    }

    /// The follow-up still open: the one the latest visit asked for. A later visit closes it.
    pub fn open_followup(&self) -> Option<(Uuid, NaiveDate)> {
        let last = self.visits.last()?;
        last.followup_date.map(|d| (last.id, d))
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct Member {
    pub id: Uuid,
    pub first_name: String,
    pub last_name: String,
    pub national_id: Option<NationalId>,
    pub birth_date: Option<NaiveDate>,
    pub sex: Option<Sex>,
    pub relation: Relation,
    pub education: Option<Education>,
    pub employment: Option<Employment>,
    pub health_notes: String,
    pub disability_notes: String,
    /// The member's father's first name, where known (national ID cards carry it; it tells
    /// apart people who share a name).
    pub father_name: Option<String>,
}

/// One goal of a household's empowerment plan, in one domain, with the steps towards it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct Goal {
    pub id: Uuid,
    pub domain: GoalDomain,
    pub title: String,
    /// Who set the goal, and when.
    pub worker_id: String,
    pub at: DateTime<Utc>,
    /// Steps in the order they were added.
    pub steps: Vec<Step>,
}

impl Goal {
    /// A goal is met when it has steps, none is still open, and at least one was done (a goal
    /// whose every step was dropped is not met: nothing was achieved).
    pub fn is_met(&self) -> bool {
        !self.steps.is_empty()
            && self.steps.iter().all(|s| !s.status().is_open())
            && self.steps.iter().any(|s| s.status() == StepStatus::Done)
    }
}

/// One step of a goal: what is to be done, by whom, by when, and its progress.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct Step {
    pub id: Uuid,
    pub what: String,
    pub owner: StepOwner,
    /// The partner (a code from the directory) when a partner carries it out.
    pub partner: Option<String>,
    pub target_date: Option<NaiveDate>,
    pub worker_id: String,
    pub at: DateTime<Utc>,
    /// Every progress entry, oldest first; the last says where the step stands.
    pub progress: Vec<StepProgress>,
}

impl Step {
    pub fn status(&self) -> StepStatus {
        self.progress
            .last()
            .map(|p| p.status)
            .unwrap_or(StepStatus::Planned)
    }

    /// Open and past its target date.
    pub fn is_overdue(&self, today: NaiveDate) -> bool {
        self.status().is_open() && self.target_date.is_some_and(|d| d < today)
    }
}

/// Progress on a step, usually recorded on a visit (which it then names).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct StepProgress {
    pub id: Uuid,
    pub status: StepStatus,
    pub comment: String,
    pub visit_id: Option<Uuid>,
    pub worker_id: String,
    pub at: DateTime<Utc>,
}

/// When a plan counts as achieved: every goal met, and the highest need score at or below
/// `threshold` on the last `visits` assessed visits in a row.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct GraduationCriteria {
    pub threshold: u8,
    pub visits: u8,
}

impl Default for GraduationCriteria {
    /// The committee's default: need scores at most 1 ("low") on two consecutive visits.
    fn default() -> Self {
        Self {
            threshold: 1,
            visits: 2,
        }
    }
}

/// A household's graduation or re-entry, with who confirmed it and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct StatusEvent {
    pub id: Uuid,
    pub status: HouseholdStatus,
    pub worker_id: String,
    pub at: DateTime<Utc>,
    pub reason: String,
}

/// A new goal of a plan.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewGoal {
    pub domain: GoalDomain,
    pub title: String,
}

impl NewGoal {
    pub fn validated(&self) -> Result<Self, ValidationError> {
        Ok(Self {
            title: clean_text(Field::GoalTitle, &self.title, limits::TARGET, true)?,
            ..self.clone()
        })
    }
}

/// A new step of a goal.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewStep {
    pub what: String,
    pub owner: StepOwner,
    pub partner: Option<String>,
    pub target_date: Option<NaiveDate>,
}

impl NewStep {
    pub fn validated(&self) -> Result<Self, ValidationError> {
        let partner = self
            .partner
            .as_deref()
            .map(|p| clean_text(Field::Partner, p, limits::WORKER_ID, true))
            .transpose()?;
        if self.owner == StepOwner::Partner && partner.is_none() {
            return Err(ValidationError::Required {
                field: Field::Partner,
            });
        }
        if self.owner != StepOwner::Partner && partner.is_some() {
            return Err(ValidationError::Invalid {
                field: Field::Partner,
                input: partner.unwrap_or_default(),
                reason: "is only given when a partner carries out the step",
            });
        }
        Ok(Self {
            what: clean_text(Field::StepWhat, &self.what, limits::TARGET, true)?,
            partner,
            ..self.clone()
        })
    }
}

/// Progress on a step: its new status, a comment, and the visit it was recorded on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StepUpdate {
    pub status: StepStatus,
    pub comment: String,
    pub visit_id: Option<Uuid>,
}

impl StepUpdate {
    pub fn validated(&self) -> Result<Self, ValidationError> {
        Ok(Self {
            comment: clean_notes(Field::Comment, &self.comment, limits::NOTES)?,
            ..self.clone()
        })
    }
}

impl Member {
    pub fn full_name(&self) -> String {
        format!("{} {}", self.first_name, self.last_name)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct Visit {
    pub id: Uuid,
    pub date: NaiveDate,
    pub worker_id: String,
    pub kind: VisitKind,
    pub observations: String,
    /// Need per domain, 0 (none) to 4 (critical); domains not assessed are absent.
    pub needs: BTreeMap<NeedDomain, u8>,
    pub followup_date: Option<NaiveDate>,
    /// Its review: every approval, return, resubmission and reopening, oldest first.
    pub review: Vec<ReviewEvent>,
}

impl Visit {
    pub fn max_need(&self) -> Option<u8> {
        self.needs.values().copied().max()
    }

    /// Where the visit stands in review: what its latest review event says; awaiting review
    /// when nobody reviewed it yet, or after a resubmission or an edit after approval.
    pub fn review_state(&self) -> ReviewState {
        match self.review.last().map(|e| e.action) {
            Some(ReviewAction::Approved) => ReviewState::Approved,
            Some(ReviewAction::Returned) => ReviewState::Returned,
            Some(ReviewAction::Resubmitted | ReviewAction::Reopened) | None => {
                ReviewState::Awaiting
            }
        }
    }

    /// The comment of the latest return, when the visit stands returned.
    pub fn open_return(&self) -> Option<&ReviewEvent> {
        self.review
            .last()
            .filter(|e| e.action == ReviewAction::Returned)
    }
}

/// One step of a visit's review, kept in the household document so that it reaches an offline
/// laptop like any other change.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct ReviewEvent {
    pub id: Uuid,
    pub action: ReviewAction,
    pub worker_id: String,
    pub at: DateTime<Utc>,
    pub comment: String,
    /// The visit field the comment is about, when it is about one.
    pub field: Option<Field>,
}

/// The visit fields a return may point at and a correction may change.
pub const VISIT_REVIEW_FIELDS: [Field; 5] = [
    Field::VisitDate,
    Field::VisitKind,
    Field::Observations,
    Field::Need,
    Field::FollowupDate,
];

/// A correction of a visit; `None` leaves a field as it is. `followup_date: Some(None)` clears
/// the follow-up.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct VisitEdit {
    pub date: Option<NaiveDate>,
    pub kind: Option<VisitKind>,
    pub observations: Option<String>,
    pub needs: Option<BTreeMap<NeedDomain, u8>>,
    pub followup_date: Option<Option<NaiveDate>>,
}

impl VisitEdit {
    pub fn is_empty(&self) -> bool {
        *self == Self::default()
    }

    /// Checks the correction as a new visit would be checked, against the visit it corrects.
    pub fn validated(&self, visit: &Visit, today: NaiveDate) -> Result<Self, ValidationError> {
        let merged = NewVisit {
            date: self.date.unwrap_or(visit.date),
            kind: self.kind.unwrap_or(visit.kind),
            observations: self
                .observations
                .clone()
                .unwrap_or_else(|| visit.observations.clone()),
            needs: self.needs.clone().unwrap_or_else(|| visit.needs.clone()),
            followup_date: self.followup_date.unwrap_or(visit.followup_date),
        }
        .validated(today)?;
        Ok(Self {
            observations: self.observations.as_ref().map(|_| merged.observations),
            ..self.clone()
        })
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct Referral {
    pub id: Uuid,
    pub kind: ReferralKind,
    /// The partner's code in the directory (schema version 3); older referrals name their
    /// target in free text only.
    pub partner: Option<String>,
    /// Free text: the partner's name as typed (before version 3), or where an `other`
    /// referral goes.
    pub target: String,
    pub visit_id: Option<Uuid>,
    /// Every status the referral went through, oldest first; the last is the current one.
    pub history: Vec<ReferralEvent>,
}

impl Referral {
    pub fn status(&self) -> Option<&ReferralEvent> {
        self.history.last()
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct ReferralEvent {
    pub id: Uuid,
    pub status: ReferralStatus,
    pub date: NaiveDate,
    pub worker_id: String,
    pub note: String,
    /// The amount paid out, in rials (on `disbursed`).
    #[cfg_attr(feature = "ts", ts(type = "number | null"))]
    pub amount: Option<i64>,
    /// Why the partner refused (on `refused`).
    pub reason: Option<String>,
}

/// A new household together with its head, who is its first member.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct NewHousehold {
    pub district: String,
    pub address: String,
    pub phone: Option<String>,
    pub alt_phone: Option<String>,
    pub assigned_group: Option<String>,
    pub assigned_worker: Option<String>,
}

/// Changes to a household's own fields; `None` leaves a field as it is, `Some("")` clears an
/// optional one.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct HouseholdEdit {
    pub district: Option<String>,
    pub address: Option<String>,
    pub phone: Option<String>,
    pub alt_phone: Option<String>,
    pub status: Option<HouseholdStatus>,
    pub assigned_group: Option<String>,
    pub assigned_worker: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewMember {
    pub first_name: String,
    pub last_name: String,
    pub national_id: Option<NationalId>,
    pub birth_date: Option<NaiveDate>,
    pub sex: Option<Sex>,
    pub relation: Relation,
    pub education: Option<Education>,
    pub employment: Option<Employment>,
    pub health_notes: String,
    pub disability_notes: String,
    pub father_name: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct MemberEdit {
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    pub national_id: Option<NationalId>,
    pub birth_date: Option<NaiveDate>,
    pub sex: Option<Sex>,
    pub relation: Option<Relation>,
    pub education: Option<Education>,
    pub employment: Option<Employment>,
    pub health_notes: Option<String>,
    pub disability_notes: Option<String>,
    pub father_name: Option<String>,
}

/// A member as typed into a form or on the command line: text, `None` where a field was not
/// given. The CLI and the desktop app both turn it into [`NewMember`] or [`MemberEdit`] here.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(default)]
pub struct MemberText {
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    pub national_id: Option<String>,
    pub birth_date: Option<String>,
    pub sex: Option<String>,
    pub relation: Option<String>,
    pub education: Option<String>,
    pub employment: Option<String>,
    pub health_notes: Option<String>,
    pub disability_notes: Option<String>,
    pub father_name: Option<String>,
}

impl MemberText {
    /// The changes these fields ask for. Coded fields left empty count as not given; names and
    /// notes are kept as typed (an empty name is then refused by validation).
    pub fn to_edit(&self) -> Result<MemberEdit, ValidationError> {
        fn parsed<T>(
            value: &Option<String>,
            parse: impl Fn(&str) -> Result<T, ValidationError>,
        ) -> Result<Option<T>, ValidationError> {
            given(value).map(parse).transpose()
        }
        Ok(MemberEdit {
            first_name: self.first_name.clone(),
            last_name: self.last_name.clone(),
            national_id: parsed(&self.national_id, NationalId::parse)?,
            birth_date: parsed(&self.birth_date, |d| {
                crate::date::parse_date(Field::BirthDate, d)
            })?,
            sex: parsed(&self.sex, Sex::parse)?,
            relation: parsed(&self.relation, Relation::parse)?,
            education: parsed(&self.education, Education::parse)?,
            employment: parsed(&self.employment, Employment::parse)?,
            health_notes: self.health_notes.clone(),
            disability_notes: self.disability_notes.clone(),
            father_name: self.father_name.clone(),
        })
    }

    /// A new member: first name, last name and relation are required.
    pub fn to_new(&self) -> Result<NewMember, ValidationError> {
        let edit = self.to_edit()?;
        let name = |v: &Option<String>, field| v.clone().ok_or(ValidationError::Required { field });
        Ok(NewMember {
            first_name: name(&self.first_name, Field::FirstName)?,
            last_name: name(&self.last_name, Field::LastName)?,
            national_id: edit.national_id,
            birth_date: edit.birth_date,
            sex: edit.sex,
            relation: edit.relation.ok_or(ValidationError::Required {
                field: Field::Relation,
            })?,
            education: edit.education,
            employment: edit.employment,
            health_notes: edit.health_notes.unwrap_or_default(),
            disability_notes: edit.disability_notes.unwrap_or_default(),
            father_name: given(&edit.father_name).map(str::to_string),
        })
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewVisit {
    pub date: NaiveDate,
    pub kind: VisitKind,
    pub observations: String,
    pub needs: BTreeMap<NeedDomain, u8>,
    pub followup_date: Option<NaiveDate>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewReferral {
    pub kind: ReferralKind,
    pub partner: Option<String>,
    pub target: String,
    pub visit_id: Option<Uuid>,
    pub date: NaiveDate,
    pub note: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReferralUpdate {
    pub status: ReferralStatus,
    pub date: NaiveDate,
    pub note: String,
    pub amount: Option<i64>,
    pub reason: Option<String>,
}

/// Cleans a text field and checks its length; `required` refuses an empty result.
pub fn clean_text(
    field: Field,
    input: &str,
    max: usize,
    required: bool,
) -> Result<String, ValidationError> {
    let cleaned = clean_input(input);
    let len = cleaned.chars().count();
    if required && len == 0 {
        return Err(ValidationError::Required { field });
    }
    if len > max {
        return Err(ValidationError::TooLong { field, len, max });
    }
    Ok(cleaned)
}

/// Multi-line notes keep their line breaks; only the ends are trimmed.
pub fn clean_notes(field: Field, input: &str, max: usize) -> Result<String, ValidationError> {
    let cleaned = input.trim().replace("\r\n", "\n");
    let len = cleaned.chars().count();
    if len > max {
        return Err(ValidationError::TooLong { field, len, max });
    }
    Ok(cleaned)
}

/// A phone number: digits in any script, optional leading `+`, spaces and dashes dropped.
pub fn clean_phone(field: Field, input: &str) -> Result<String, ValidationError> {
    let latin = latin_digits(input.trim());
    let mut out = String::new();
    for (i, c) in latin.chars().enumerate() {
        match c {
            '0'..='9' => out.push(c),
            '+' if i == 0 => out.push(c),
            ' ' | '-' | '(' | ')' => {}
            _ => {
                return Err(ValidationError::Invalid {
                    field,
                    input: input.to_string(),
                    reason: "may only hold digits, spaces, dashes and a leading +",
                });
            }
        }
    }
    let digits = out.chars().filter(char::is_ascii_digit).count();
    if !(4..=15).contains(&digits) {
        return Err(ValidationError::Invalid {
            field,
            input: input.to_string(),
            reason: "must have 4 to 15 digits",
        });
    }
    Ok(out)
}

/// Text as typed into an optional field: trimmed, `None` when nothing is left. Every front end
/// reads "empty" as "not given" through this.
pub fn given(text: &Option<String>) -> Option<&str> {
    text.as_deref().map(str::trim).filter(|t| !t.is_empty())
}

pub(crate) fn check_not_future(
    field: Field,
    date: NaiveDate,
    today: NaiveDate,
) -> Result<(), ValidationError> {
    if date > today {
        return Err(ValidationError::FutureDate {
            field,
            date: crate::date::format_jalali(date),
        });
    }
    Ok(())
}

/// One typed value through the field table ([`Field::validate`]).
fn checked(field: Field, input: &str, today: NaiveDate) -> Result<FieldValue, ValidationError> {
    field.validate(input, today).unwrap_or_else(|| {
        Err(ValidationError::Invalid {
            field,
            input: input.to_string(),
            reason: "cannot be set by hand",
        })
    })
}

/// An edit's optional value through the field table: `None` stays `None`, a cleared optional
/// field becomes `Some("")` (how edits spell "clear").
fn edit_value(
    field: Field,
    value: &Option<String>,
    today: NaiveDate,
) -> Result<Option<String>, ValidationError> {
    value
        .as_deref()
        .map(|v| checked(field, v, today).map(FieldValue::into_text))
        .transpose()
}

/// A new record's optional value: empty means not given.
fn new_value(
    field: Field,
    value: &Option<String>,
    today: NaiveDate,
) -> Result<Option<String>, ValidationError> {
    given(value)
        .map(|v| checked(field, v, today).map(FieldValue::into_text))
        .transpose()
}

impl NewHousehold {
    /// Cleans every field and refuses what cannot be stored.
    pub fn validated(&self, today: NaiveDate) -> Result<Self, ValidationError> {
        Ok(Self {
            district: checked(Field::District, &self.district, today)?.into_text(),
            address: checked(Field::Address, &self.address, today)?.into_text(),
            phone: new_value(Field::Phone, &self.phone, today)?,
            alt_phone: new_value(Field::AltPhone, &self.alt_phone, today)?,
            assigned_group: new_value(Field::AssignedGroup, &self.assigned_group, today)?,
            assigned_worker: new_value(Field::AssignedWorker, &self.assigned_worker, today)?,
        })
    }
}

impl HouseholdEdit {
    /// Cleans every given field; `Some("")` clears an optional field and is refused for a
    /// required one, exactly as resolving a conflict on that field would.
    pub fn validated(&self, today: NaiveDate) -> Result<Self, ValidationError> {
        Ok(Self {
            district: edit_value(Field::District, &self.district, today)?,
            address: edit_value(Field::Address, &self.address, today)?,
            phone: edit_value(Field::Phone, &self.phone, today)?,
            alt_phone: edit_value(Field::AltPhone, &self.alt_phone, today)?,
            status: self.status,
            assigned_group: edit_value(Field::AssignedGroup, &self.assigned_group, today)?,
            assigned_worker: edit_value(Field::AssignedWorker, &self.assigned_worker, today)?,
        })
    }

    pub fn is_empty(&self) -> bool {
        *self == Self::default()
    }
}

impl NewMember {
    /// A member with only the required fields; the rest can be filled in later.
    pub fn named(first_name: &str, last_name: &str, relation: Relation) -> Self {
        Self {
            first_name: first_name.into(),
            last_name: last_name.into(),
            national_id: None,
            birth_date: None,
            sex: None,
            relation,
            education: None,
            employment: None,
            health_notes: String::new(),
            disability_notes: String::new(),
            father_name: None,
        }
    }

    pub fn validated(&self, today: NaiveDate) -> Result<Self, ValidationError> {
        if let Some(born) = self.birth_date {
            check_not_future(Field::BirthDate, born, today)?;
        }
        Ok(Self {
            first_name: checked(Field::FirstName, &self.first_name, today)?.into_text(),
            last_name: checked(Field::LastName, &self.last_name, today)?.into_text(),
            health_notes: checked(Field::HealthNotes, &self.health_notes, today)?.into_text(),
            disability_notes: checked(Field::DisabilityNotes, &self.disability_notes, today)?
                .into_text(),
            father_name: new_value(Field::FatherName, &self.father_name, today)?,
            ..self.clone()
        })
    }
}

impl MemberEdit {
    pub fn validated(&self, today: NaiveDate) -> Result<Self, ValidationError> {
        if let Some(born) = self.birth_date {
            check_not_future(Field::BirthDate, born, today)?;
        }
        Ok(Self {
            first_name: edit_value(Field::FirstName, &self.first_name, today)?,
            last_name: edit_value(Field::LastName, &self.last_name, today)?,
            health_notes: edit_value(Field::HealthNotes, &self.health_notes, today)?,
            disability_notes: edit_value(Field::DisabilityNotes, &self.disability_notes, today)?,
            father_name: edit_value(Field::FatherName, &self.father_name, today)?,
            ..self.clone()
        })
    }

    pub fn is_empty(&self) -> bool {
        *self == Self::default()
    }
}

impl NewVisit {
    pub fn validated(&self, today: NaiveDate) -> Result<Self, ValidationError> {
        check_not_future(Field::VisitDate, self.date, today)?;
        if let Some(f) = self.followup_date
            && f < self.date
        {
            return Err(ValidationError::Invalid {
                field: Field::FollowupDate,
                input: crate::date::format_jalali(f),
                reason: "is before the visit date",
            });
        }
        for score in self.needs.values() {
            if *score > limits::NEED_SCORE_MAX {
                return Err(ValidationError::OutOfRange {
                    field: Field::NeedScore,
                    value: i64::from(*score),
                    min: 0,
                    max: i64::from(limits::NEED_SCORE_MAX),
                });
            }
        }
        Ok(Self {
            observations: clean_notes(
                Field::Observations,
                &self.observations,
                limits::OBSERVATIONS,
            )?,
            ..self.clone()
        })
    }
}

impl NewReferral {
    /// A referral names a partner chosen from the directory (checked by the store, which holds
    /// the directory); only an `other` referral may name its target in free text instead.
    pub fn validated(&self, today: NaiveDate) -> Result<Self, ValidationError> {
        check_not_future(Field::ReferralDate, self.date, today)?;
        let partner = self
            .partner
            .as_deref()
            .map(|p| clean_text(Field::Partner, p, limits::WORKER_ID, true))
            .transpose()?;
        let target = clean_text(Field::Target, &self.target, limits::TARGET, false)?;
        if partner.is_none() && (self.kind != ReferralKind::Other || target.is_empty()) {
            return Err(ValidationError::Required {
                field: Field::Partner,
            });
        }
        Ok(Self {
            partner,
            target,
            note: clean_notes(Field::Note, &self.note, limits::NOTES)?,
            ..self.clone()
        })
    }
}

impl ReferralUpdate {
    /// Checks what a step needs on its own: an amount above zero for `disbursed` (and only
    /// there), a reason for `refused`. Whether the referral may move there at all is the
    /// ledger's rule ([`crate::outcome::ledger::check_transition`]).
    pub fn validated(&self, today: NaiveDate) -> Result<Self, ValidationError> {
        check_not_future(Field::StatusDate, self.date, today)?;
        match (self.status, self.amount) {
            (ReferralStatus::Disbursed, None) => {
                return Err(ValidationError::Required {
                    field: Field::Amount,
                });
            }
            (ReferralStatus::Disbursed, Some(a)) if a <= 0 || a > limits::AMOUNT_MAX => {
                return Err(ValidationError::OutOfRange {
                    field: Field::Amount,
                    value: a,
                    min: 1,
                    max: limits::AMOUNT_MAX,
                });
            }
            (ReferralStatus::Disbursed, Some(_)) | (_, None) => {}
            (_, Some(a)) => {
                return Err(ValidationError::Invalid {
                    field: Field::Amount,
                    input: a.to_string(),
                    reason: "is only recorded when the referral is disbursed",
                });
            }
        }
        let reason = self
            .reason
            .as_deref()
            .map(|r| clean_notes(Field::Reason, r, limits::NOTES))
            .transpose()?
            .filter(|r| !r.is_empty());
        if self.status == ReferralStatus::Refused && reason.is_none() {
            return Err(ValidationError::Required {
                field: Field::Reason,
            });
        }
        if self.status != ReferralStatus::Refused && reason.is_some() {
            return Err(ValidationError::Invalid {
                field: Field::Reason,
                input: String::new(),
                reason: "is only recorded when the referral is refused",
            });
        }
        Ok(Self {
            note: clean_notes(Field::Note, &self.note, limits::NOTES)?,
            reason,
            ..self.clone()
        })
    }
}

/// The most consecutive visits graduation criteria may ask for.
pub const GRADUATION_VISITS_MAX: u8 = 12;

/// A number of consecutive visits for graduation criteria, in any digits: 1 to
/// [`GRADUATION_VISITS_MAX`].
pub fn parse_graduation_visits(input: &str) -> Result<u8, ValidationError> {
    let n: i64 = latin_digits(input.trim())
        .parse()
        .map_err(|_| ValidationError::Invalid {
            field: Field::GraduationVisits,
            input: input.to_string(),
            reason: "is not a whole number",
        })?;
    let max = i64::from(GRADUATION_VISITS_MAX);
    if !(1..=max).contains(&n) {
        return Err(ValidationError::OutOfRange {
            field: Field::GraduationVisits,
            value: n,
            min: 1,
            max,
        });
    }
    Ok(n as u8)
}

/// Parses `domain=score` (e.g. `income=3`, `درآمد=۳`) as typed on the command line.
pub fn parse_need(input: &str) -> Result<(NeedDomain, u8), ValidationError> {
    let (domain, score) = input.split_once('=').ok_or(ValidationError::Invalid {
        field: Field::Need,
        input: input.to_string(),
        reason: "must look like domain=score, e.g. income=3",
    })?;
    Ok((
        NeedDomain::parse(domain)?,
        crate::field::parse_score(score)?,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn today() -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 11, 23).expect("valid date")
    }

    #[test]
    fn household_requires_district_and_address() {
        let err = NewHousehold::default().validated(today()).unwrap_err();
        assert_eq!(
            err,
            ValidationError::Required {
                field: Field::District
            }
        );
        let h = NewHousehold {
            district: " منطقه  ۳ ".into(),
            address: "كوچه ياس".into(),
            phone: Some("۰۹۱۲ ۱۲۳ ۴۵۶۷".into()),
            ..Default::default()
        };
        let v = h.validated(today()).expect("valid");
        assert_eq!(v.district, "منطقه ۳");
        assert_eq!(v.address, "کوچه یاس");
        assert_eq!(v.phone.as_deref(), Some("09121234567"));
    }

    #[test]
    fn long_fields_are_refused_with_their_length() {
        let m = NewMember::named(&"ا".repeat(101), "x", Relation::Head);
        assert_eq!(
            m.validated(today()).unwrap_err(),
            ValidationError::TooLong {
                field: Field::FirstName,
                len: 101,
                max: 100
            }
        );
    }

    #[test]
    fn phones_must_be_digits() {
        assert!(clean_phone(Field::Phone, "call me").is_err());
        assert!(clean_phone(Field::Phone, "12").is_err());
        assert_eq!(
            clean_phone(Field::Phone, "+98 21-1234"),
            Ok("+98211234".into())
        );
    }

    #[test]
    fn visits_cannot_be_in_the_future_or_follow_up_before_they_happen() {
        let visit = NewVisit {
            date: today(),
            kind: VisitKind::Home,
            observations: String::new(),
            needs: BTreeMap::new(),
            followup_date: today().pred_opt(),
        };
        assert!(
            visit
                .validated(today())
                .unwrap_err()
                .to_string()
                .contains("before the visit")
        );
        let future = NewVisit {
            date: today().succ_opt().unwrap_or(today()),
            followup_date: None,
            ..visit
        };
        assert!(matches!(
            future.validated(today()),
            Err(ValidationError::FutureDate { .. })
        ));
    }

    #[test]
    fn member_text_parses_once_for_every_front_end() {
        let text = MemberText {
            first_name: Some("مریم".into()),
            last_name: Some("کریمی".into()),
            national_id: Some("۰۰۱۰۰۰۰۰۱۱".into()),
            birth_date: Some("1365/02/10".into()),
            sex: Some("".into()),
            relation: Some("همسر".into()),
            ..Default::default()
        };
        let member = text.to_new().expect("valid");
        assert_eq!(member.relation, Relation::Spouse);
        assert_eq!(member.sex, None, "an empty choice is no choice");
        assert_eq!(
            member.national_id.map(|n| n.to_string()),
            Some("0010000011".into())
        );
        let no_relation = MemberText {
            relation: None,
            ..text.clone()
        };
        assert_eq!(
            no_relation.to_new(),
            Err(ValidationError::Required {
                field: Field::Relation
            })
        );
        let bad_id = MemberText {
            national_id: Some("123".into()),
            ..text
        };
        assert!(matches!(
            bad_id.to_edit(),
            Err(ValidationError::NationalId { .. })
        ));
    }

    #[test]
    fn need_scores_parse_in_any_digits_and_stay_in_range() {
        assert_eq!(parse_need("income=3"), Ok((NeedDomain::Income, 3)));
        assert_eq!(parse_need("تغذیه=۴"), Ok((NeedDomain::Food, 4)));
        assert!(matches!(
            parse_need("food=5"),
            Err(ValidationError::OutOfRange { .. })
        ));
        assert!(parse_need("food").is_err());
        assert!(parse_need("wealth=1").is_err());
    }
}
