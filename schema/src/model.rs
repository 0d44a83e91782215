//! The domain model: what a household, member, visit and referral hold, the inputs that create
//! or edit them, and the validation those inputs pass before anything is written.

use std::collections::BTreeMap;

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::enums::*;
use crate::error::ValidationError;
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
}

/// A contracted volunteer or charity organisation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Group {
    pub id: String,
    pub name: String,
}

/// Who does the work: a field worker, supervisor or coordinator of a group.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Worker {
    pub id: String,
    pub name: String,
    pub group_id: Option<String>,
}

/// A household as read from its document, with every entity it holds.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
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
}

impl Member {
    pub fn full_name(&self) -> String {
        format!("{} {}", self.first_name, self.last_name)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Visit {
    pub id: Uuid,
    pub date: NaiveDate,
    pub worker_id: String,
    pub kind: VisitKind,
    pub observations: String,
    /// Need per domain, 0 (none) to 4 (critical); domains not assessed are absent.
    pub needs: BTreeMap<NeedDomain, u8>,
    pub followup_date: Option<NaiveDate>,
}

impl Visit {
    pub fn max_need(&self) -> Option<u8> {
        self.needs.values().copied().max()
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Referral {
    pub id: Uuid,
    pub kind: ReferralKind,
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
pub struct ReferralEvent {
    pub id: Uuid,
    pub status: ReferralStatus,
    pub date: NaiveDate,
    pub worker_id: String,
    pub note: String,
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
}

/// A member as typed into a form or on the command line: text, `None` where a field was not
/// given. The CLI and the desktop app both turn it into [`NewMember`] or [`MemberEdit`] here.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
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
}

impl MemberText {
    /// The changes these fields ask for. Coded fields left empty count as not given; names and
    /// notes are kept as typed (an empty name is then refused by validation).
    pub fn to_edit(&self) -> Result<MemberEdit, ValidationError> {
        fn parsed<T>(
            value: &Option<String>,
            parse: impl Fn(&str) -> Result<T, ValidationError>,
        ) -> Result<Option<T>, ValidationError> {
            value
                .as_deref()
                .map(str::trim)
                .filter(|v| !v.is_empty())
                .map(parse)
                .transpose()
        }
        Ok(MemberEdit {
            first_name: self.first_name.clone(),
            last_name: self.last_name.clone(),
            national_id: parsed(&self.national_id, NationalId::parse)?,
            birth_date: parsed(&self.birth_date, |d| {
                crate::date::parse_date("birth date", d)
            })?,
            sex: parsed(&self.sex, Sex::parse)?,
            relation: parsed(&self.relation, Relation::parse)?,
            education: parsed(&self.education, Education::parse)?,
            employment: parsed(&self.employment, Employment::parse)?,
            health_notes: self.health_notes.clone(),
            disability_notes: self.disability_notes.clone(),
        })
    }

    /// A new member: first name, last name and relation are required.
    pub fn to_new(&self) -> Result<NewMember, ValidationError> {
        let edit = self.to_edit()?;
        let name = |v: &Option<String>, field| v.clone().ok_or(ValidationError::Required { field });
        Ok(NewMember {
            first_name: name(&self.first_name, "first name")?,
            last_name: name(&self.last_name, "last name")?,
            national_id: edit.national_id,
            birth_date: edit.birth_date,
            sex: edit.sex,
            relation: edit
                .relation
                .ok_or(ValidationError::Required { field: "relation" })?,
            education: edit.education,
            employment: edit.employment,
            health_notes: edit.health_notes.unwrap_or_default(),
            disability_notes: edit.disability_notes.unwrap_or_default(),
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
}

/// Cleans a text field and checks its length; `required` refuses an empty result.
pub fn clean_text(
    field: &'static str,
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
pub fn clean_notes(
    field: &'static str,
    input: &str,
    max: usize,
) -> Result<String, ValidationError> {
    let cleaned = input.trim().replace("\r\n", "\n");
    let len = cleaned.chars().count();
    if len > max {
        return Err(ValidationError::TooLong { field, len, max });
    }
    Ok(cleaned)
}

/// A phone number: digits in any script, optional leading `+`, spaces and dashes dropped.
pub fn clean_phone(field: &'static str, input: &str) -> Result<String, ValidationError> {
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

fn optional(value: Option<&str>) -> Option<&str> {
    value.map(str::trim).filter(|v| !v.is_empty())
}

fn check_not_future(
    field: &'static str,
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

impl NewHousehold {
    /// Cleans every field and refuses what cannot be stored.
    pub fn validated(&self) -> Result<Self, ValidationError> {
        Ok(Self {
            district: clean_text("district", &self.district, limits::DISTRICT, true)?,
            address: clean_text("address", &self.address, limits::ADDRESS, true)?,
            phone: optional(self.phone.as_deref())
                .map(|p| clean_phone("phone", p))
                .transpose()?,
            alt_phone: optional(self.alt_phone.as_deref())
                .map(|p| clean_phone("alt phone", p))
                .transpose()?,
            assigned_group: optional(self.assigned_group.as_deref())
                .map(|g| clean_text("group", g, limits::WORKER_ID, true))
                .transpose()?,
            assigned_worker: optional(self.assigned_worker.as_deref())
                .map(|w| clean_text("worker", w, limits::WORKER_ID, true))
                .transpose()?,
        })
    }
}

impl HouseholdEdit {
    pub fn validated(&self) -> Result<Self, ValidationError> {
        let phone = |field, v: &Option<String>| -> Result<Option<String>, ValidationError> {
            match v.as_deref().map(str::trim) {
                None => Ok(None),
                Some("") => Ok(Some(String::new())),
                Some(p) => clean_phone(field, p).map(Some),
            }
        };
        let id = |field, v: &Option<String>| {
            v.as_deref()
                .map(|v| clean_text(field, v, limits::WORKER_ID, false))
                .transpose()
        };
        Ok(Self {
            district: self
                .district
                .as_deref()
                .map(|d| clean_text("district", d, limits::DISTRICT, true))
                .transpose()?,
            address: self
                .address
                .as_deref()
                .map(|a| clean_text("address", a, limits::ADDRESS, true))
                .transpose()?,
            phone: phone("phone", &self.phone)?,
            alt_phone: phone("alt phone", &self.alt_phone)?,
            status: self.status,
            assigned_group: id("group", &self.assigned_group)?,
            assigned_worker: id("worker", &self.assigned_worker)?,
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
        }
    }

    pub fn validated(&self, today: NaiveDate) -> Result<Self, ValidationError> {
        if let Some(born) = self.birth_date {
            check_not_future("birth date", born, today)?;
        }
        Ok(Self {
            first_name: clean_text("first name", &self.first_name, limits::NAME, true)?,
            last_name: clean_text("last name", &self.last_name, limits::NAME, true)?,
            health_notes: clean_notes("health notes", &self.health_notes, limits::NOTES)?,
            disability_notes: clean_notes(
                "disability notes",
                &self.disability_notes,
                limits::NOTES,
            )?,
            ..self.clone()
        })
    }
}

impl MemberEdit {
    pub fn validated(&self, today: NaiveDate) -> Result<Self, ValidationError> {
        if let Some(born) = self.birth_date {
            check_not_future("birth date", born, today)?;
        }
        let name = |field, v: &Option<String>| {
            v.as_deref()
                .map(|v| clean_text(field, v, limits::NAME, true))
                .transpose()
        };
        let notes = |field, v: &Option<String>| {
            v.as_deref()
                .map(|v| clean_notes(field, v, limits::NOTES))
                .transpose()
        };
        Ok(Self {
            first_name: name("first name", &self.first_name)?,
            last_name: name("last name", &self.last_name)?,
            health_notes: notes("health notes", &self.health_notes)?,
            disability_notes: notes("disability notes", &self.disability_notes)?,
            ..self.clone()
        })
    }

    pub fn is_empty(&self) -> bool {
        *self == Self::default()
    }
}

impl NewVisit {
    pub fn validated(&self, today: NaiveDate) -> Result<Self, ValidationError> {
        check_not_future("visit date", self.date, today)?;
        if let Some(f) = self.followup_date
            && f < self.date
        {
            return Err(ValidationError::Invalid {
                field: "follow-up date",
                input: crate::date::format_jalali(f),
                reason: "is before the visit date",
            });
        }
        for score in self.needs.values() {
            if *score > limits::NEED_SCORE_MAX {
                return Err(ValidationError::OutOfRange {
                    field: "need score",
                    value: i64::from(*score),
                    min: 0,
                    max: i64::from(limits::NEED_SCORE_MAX),
                });
            }
        }
        Ok(Self {
            observations: clean_notes("observations", &self.observations, limits::OBSERVATIONS)?,
            ..self.clone()
        })
    }
}

impl NewReferral {
    pub fn validated(&self, today: NaiveDate) -> Result<Self, ValidationError> {
        check_not_future("referral date", self.date, today)?;
        Ok(Self {
            target: clean_text("target", &self.target, limits::TARGET, true)?,
            note: clean_notes("note", &self.note, limits::NOTES)?,
            ..self.clone()
        })
    }
}

impl ReferralUpdate {
    pub fn validated(&self, today: NaiveDate) -> Result<Self, ValidationError> {
        check_not_future("status date", self.date, today)?;
        Ok(Self {
            note: clean_notes("note", &self.note, limits::NOTES)?,
            ..self.clone()
        })
    }
}

/// Parses `domain=score` (e.g. `income=3`, `درآمد=۳`) as typed on the command line.
pub fn parse_need(input: &str) -> Result<(NeedDomain, u8), ValidationError> {
    let (domain, score) = input.split_once('=').ok_or(ValidationError::Invalid {
        field: "need",
        input: input.to_string(),
        reason: "must look like domain=score, e.g. income=3",
    })?;
    let domain = NeedDomain::parse(domain)?;
    let score: i64 = latin_digits(score.trim())
        .parse()
        .map_err(|_| ValidationError::Invalid {
            field: "need score",
            input: score.to_string(),
            reason: "is not a number",
        })?;
    let max = i64::from(limits::NEED_SCORE_MAX);
    if !(0..=max).contains(&score) {
        return Err(ValidationError::OutOfRange {
            field: "need score",
            value: score,
            min: 0,
            max,
        });
    }
    Ok((domain, score as u8))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn today() -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 11, 23).expect("valid date")
    }

    #[test]
    fn household_requires_district_and_address() {
        let err = NewHousehold::default().validated().unwrap_err();
        assert_eq!(err, ValidationError::Required { field: "district" });
        let h = NewHousehold {
            district: " منطقه  ۳ ".into(),
            address: "كوچه ياس".into(),
            phone: Some("۰۹۱۲ ۱۲۳ ۴۵۶۷".into()),
            ..Default::default()
        };
        let v = h.validated().expect("valid");
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
                field: "first name",
                len: 101,
                max: 100
            }
        );
    }

    #[test]
    fn phones_must_be_digits() {
        assert!(clean_phone("phone", "call me").is_err());
        assert!(clean_phone("phone", "12").is_err());
        assert_eq!(clean_phone("phone", "+98 21-1234"), Ok("+98211234".into()));
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
            national_id: Some("۰۰۱۰۰۰۰۰۰۳".into()),
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
            Some("0010000003".into())
        );
        let no_relation = MemberText {
            relation: None,
            ..text.clone()
        };
        assert_eq!(
            no_relation.to_new(),
            Err(ValidationError::Required { field: "relation" })
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
