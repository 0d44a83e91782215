//! Forms as typed: the text a worker gives the CLI or the desktop app for a caseload filter, a new
//! household, a visit or a referral, turned into the library's typed values in one place, so
//! both front ends accept and refuse the same input with the same [`ValidationError`]s.
//!
//! Each form is a struct of optional text (`None` where a field was not given; `serde(default)`
//! so a front end may leave fields out). Empty text counts as not given for optional fields.
//! Members are parsed by [`madadkar_schema::MemberText`].

use chrono::NaiveDate;
use madadkar_schema::field::parse_score;
use madadkar_schema::{
    Field, GoalDomain, HouseholdStatus, MemberText, NationalId, NewGoal, NewHousehold, NewMember,
    NewReferral, NewStep, NewVisit, ReferralKind, ReferralStatus, ReferralUpdate, Relation,
    StepOwner, StepStatus, StepUpdate, ValidationError, VisitEdit, VisitKind, given, parse_date,
    parse_need,
};
use serde::Deserialize;
use uuid::Uuid;

use crate::query::{ListQuery, SortBy};

/// The date typed into `field`, or `today` when none was given.
fn date_or(
    field: Field,
    text: &Option<String>,
    today: NaiveDate,
) -> Result<NaiveDate, ValidationError> {
    given(text).map_or(Ok(today), |d| parse_date(field, d))
}

/// Filters and order of the caseload list, as a filter bar or `madadkar household list` gives
/// them. Paging (limit, offset) is the caller's: it is not typed by a worker.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS), ts(optional_fields))]
#[serde(default)]
pub struct ListText {
    pub district: Option<String>,
    /// A household status code or its Persian label.
    pub status: Option<String>,
    pub worker: Option<String>,
    /// Only households of this group (a coordinator's filter).
    pub group: Option<String>,
    /// Only households whose follow-up is before today.
    pub overdue: bool,
    /// Only households whose latest visit scored at least this need (0–4, any digits).
    pub min_need: Option<String>,
    /// Only households with fields in conflict.
    pub conflicted: bool,
    /// `name`, `district`, `last-visit`, `followup` or `need`; by name when not given.
    pub sort: Option<String>,
}

impl ListText {
    /// The query for these filters; `today` decides what is overdue (the device's local date).
    /// The page is the first `limit` households: set `offset` on the result for later pages.
    pub fn to_query(&self, today: NaiveDate, limit: usize) -> Result<ListQuery, ValidationError> {
        let min_need = given(&self.min_need).map(parse_score).transpose()?;
        let sort = match given(&self.sort) {
            None => SortBy::default(),
            Some(s) => SortBy::parse(s).ok_or_else(|| ValidationError::NotOneOf {
                field: Field::Sort,
                input: s.to_string(),
                allowed: "name, district, last-visit, followup, need".into(),
            })?,
        };
        Ok(ListQuery {
            district: given(&self.district).map(Into::into),
            status: given(&self.status)
                .map(HouseholdStatus::parse)
                .transpose()?
                .map(|s| s.code().to_string()),
            assigned_worker: given(&self.worker).map(Into::into),
            assigned_group: given(&self.group).map(Into::into),
            overdue_on: self.overdue.then_some(today),
            min_need,
            conflicted: self.conflicted,
            sort,
            limit,
            offset: 0,
        })
    }
}

/// A new household and its head, as the registration form or `madadkar household add` gives
/// them. The head's national ID is required.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS), ts(optional_fields))]
#[serde(default)]
pub struct HouseholdText {
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    pub national_id: Option<String>,
    pub birth_date: Option<String>,
    pub sex: Option<String>,
    pub district: Option<String>,
    pub address: Option<String>,
    pub phone: Option<String>,
    pub alt_phone: Option<String>,
    pub group: Option<String>,
    pub worker: Option<String>,
    /// The head's father's first name, where known.
    pub father_name: Option<String>,
}

impl HouseholdText {
    /// The household and its head. District, address and names are checked by the store's
    /// validation when it is saved; here only what must be parsed is.
    pub fn to_new(&self) -> Result<(NewHousehold, NewMember), ValidationError> {
        // The national ID first: it is the mistake a worker most often makes, and the form shows
        // it next to its field even when the rest is not typed yet.
        let national_id = NationalId::parse(given(&self.national_id).unwrap_or_default())?;
        let head = MemberText {
            first_name: self.first_name.clone(),
            last_name: self.last_name.clone(),
            birth_date: self.birth_date.clone(),
            sex: self.sex.clone(),
            relation: Some(Relation::Head.code().into()),
            father_name: self.father_name.clone(),
            ..Default::default()
        }
        .to_new()?;
        let household = NewHousehold {
            district: self.district.clone().unwrap_or_default(),
            address: self.address.clone().unwrap_or_default(),
            phone: given(&self.phone).map(Into::into),
            alt_phone: given(&self.alt_phone).map(Into::into),
            assigned_group: given(&self.group).map(Into::into),
            assigned_worker: given(&self.worker).map(Into::into),
        };
        Ok((
            household,
            NewMember {
                national_id: Some(national_id),
                ..head
            },
        ))
    }
}

/// A visit as the visit form or `madadkar visit add` gives it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS), ts(optional_fields))]
#[serde(default)]
pub struct VisitText {
    /// Jalali or ISO; today when not given.
    pub date: Option<String>,
    /// `home`, `phone` or `office` (or the Persian label).
    pub kind: Option<String>,
    pub observations: Option<String>,
    /// `domain=score` each, e.g. `income=3` or `درآمد=۳`.
    pub needs: Vec<String>,
    pub followup: Option<String>,
}

impl VisitText {
    pub fn to_new(&self, today: NaiveDate) -> Result<NewVisit, ValidationError> {
        Ok(NewVisit {
            date: date_or(Field::VisitDate, &self.date, today)?,
            kind: VisitKind::parse(given(&self.kind).ok_or(ValidationError::Required {
                field: Field::VisitKind,
            })?)?,
            observations: self.observations.clone().unwrap_or_default(),
            needs: self
                .needs
                .iter()
                .map(|n| parse_need(n))
                .collect::<Result<_, _>>()?,
            followup_date: given(&self.followup)
                .map(|d| parse_date(Field::FollowupDate, d))
                .transpose()?,
        })
    }

    /// A correction of a visit: each field given changes; `needs` empty leaves the scores as
    /// they are; a `followup` given empty clears the follow-up.
    pub fn to_edit(&self) -> Result<VisitEdit, ValidationError> {
        Ok(VisitEdit {
            date: given(&self.date)
                .map(|d| parse_date(Field::VisitDate, d))
                .transpose()?,
            kind: given(&self.kind).map(VisitKind::parse).transpose()?,
            observations: self.observations.clone(),
            needs: if self.needs.is_empty() {
                None
            } else {
                Some(
                    self.needs
                        .iter()
                        .map(|n| parse_need(n))
                        .collect::<Result<_, _>>()?,
                )
            },
            followup_date: match &self.followup {
                None => None,
                Some(text) if text.trim().is_empty() => Some(None),
                Some(text) => Some(Some(parse_date(Field::FollowupDate, text)?)),
            },
        })
    }
}

/// A referral as the visit form or `madadkar referral add` gives it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS), ts(optional_fields))]
#[serde(default)]
pub struct ReferralText {
    /// `bank_loan`, `job_training`, `health` or `other` (or the Persian label).
    pub kind: Option<String>,
    /// The partner's code in the directory (`madadkar partners`).
    pub partner: Option<String>,
    /// Free text: only for an `other` referral to somewhere not in the directory.
    pub target: Option<String>,
    /// The full id of the visit the referral was made in, if any.
    pub visit_id: Option<String>,
    /// Jalali or ISO; today when not given.
    pub date: Option<String>,
    pub note: Option<String>,
}

impl ReferralText {
    pub fn to_new(&self, today: NaiveDate) -> Result<NewReferral, ValidationError> {
        let visit_id = given(&self.visit_id)
            .map(|v| {
                Uuid::parse_str(v).map_err(|_| ValidationError::Invalid {
                    field: Field::ReferralVisit,
                    input: v.to_string(),
                    reason: "is not a visit id",
                })
            })
            .transpose()?;
        Ok(NewReferral {
            kind: ReferralKind::parse(given(&self.kind).ok_or(ValidationError::Required {
                field: Field::ReferralKind,
            })?)?,
            partner: given(&self.partner).map(str::to_string),
            target: self.target.clone().unwrap_or_default(),
            visit_id,
            date: date_or(Field::ReferralDate, &self.date, today)?,
            note: self.note.clone().unwrap_or_default(),
        })
    }
}

/// A referral's next step in its ledger, as `madadkar referral update` or the ledger's form
/// gives it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS), ts(optional_fields))]
#[serde(default)]
pub struct ReferralStepText {
    /// `received`, `approved`, `disbursed`, `refused` or `withdrawn` (or the Persian label).
    pub status: Option<String>,
    /// Jalali or ISO; today when not given.
    pub date: Option<String>,
    pub note: Option<String>,
    /// Rials, in any digits, with or without thousands separators; only for `disbursed`.
    pub amount: Option<String>,
    /// Only for `refused`.
    pub reason: Option<String>,
}

impl ReferralStepText {
    pub fn to_update(&self, today: NaiveDate) -> Result<ReferralUpdate, ValidationError> {
        Ok(ReferralUpdate {
            status: ReferralStatus::parse(given(&self.status).ok_or(
                ValidationError::Required {
                    field: Field::ReferralStatus,
                },
            )?)?,
            date: date_or(Field::StatusDate, &self.date, today)?,
            note: self.note.clone().unwrap_or_default(),
            amount: given(&self.amount).map(parse_amount).transpose()?,
            reason: given(&self.reason).map(str::to_string),
        })
    }
}

/// An amount of rials as typed: Persian, Arabic-Indic or Latin digits, thousands separators
/// (`,` `٬` `،` and spaces) allowed; anything else refused, never read as a partial number.
pub fn parse_amount(input: &str) -> Result<i64, ValidationError> {
    let digits: String = madadkar_schema::text::latin_digits(input)
        .chars()
        .filter(|c| !matches!(c, ',' | '٬' | '،' | ' ' | '\u{202f}'))
        .collect();
    let invalid = |reason| ValidationError::Invalid {
        field: Field::Amount,
        input: input.to_string(),
        reason,
    };
    if digits.is_empty() || !digits.chars().all(|c| c.is_ascii_digit()) {
        return Err(invalid("is not a whole number of rials"));
    }
    let amount: i64 = digits.parse().map_err(|_| invalid("is too large"))?;
    if !(1..=madadkar_schema::limits::AMOUNT_MAX).contains(&amount) {
        return Err(ValidationError::OutOfRange {
            field: Field::Amount,
            value: amount,
            min: 1,
            max: madadkar_schema::limits::AMOUNT_MAX,
        });
    }
    Ok(amount)
}

/// A new goal of a plan, as typed.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS), ts(optional_fields))]
#[serde(default)]
pub struct GoalText {
    /// `income`, `employment`, `housing`, `health`, `education`, `food` or `skills`.
    pub domain: Option<String>,
    pub title: Option<String>,
}

impl GoalText {
    pub fn to_new(&self) -> Result<NewGoal, ValidationError> {
        NewGoal {
            domain: GoalDomain::parse(given(&self.domain).ok_or(ValidationError::Required {
                field: Field::GoalDomain,
            })?)?,
            title: self.title.clone().unwrap_or_default(),
        }
        .validated()
    }
}

/// A new step of a goal, as typed.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS), ts(optional_fields))]
#[serde(default)]
pub struct StepText {
    pub what: Option<String>,
    /// `worker`, `partner` or `household`; `partner` when a partner is given, else `worker`.
    pub owner: Option<String>,
    /// The partner's code in the directory, when a partner carries it out.
    pub partner: Option<String>,
    /// Jalali or ISO.
    pub target_date: Option<String>,
}

impl StepText {
    pub fn to_new(&self) -> Result<NewStep, ValidationError> {
        let partner = given(&self.partner).map(str::to_string);
        let owner = match given(&self.owner) {
            Some(o) => StepOwner::parse(o)?,
            None if partner.is_some() => StepOwner::Partner,
            None => StepOwner::Worker,
        };
        NewStep {
            what: self.what.clone().unwrap_or_default(),
            owner,
            partner,
            target_date: given(&self.target_date)
                .map(|d| parse_date(Field::TargetDate, d))
                .transpose()?,
        }
        .validated()
    }
}

/// Progress on a step, as typed (on a visit's form, or `madadkar step update`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS), ts(optional_fields))]
#[serde(default)]
pub struct ProgressText {
    /// The step's full id.
    pub step: Option<String>,
    /// `planned`, `in_progress`, `done` or `dropped`.
    pub status: Option<String>,
    pub comment: Option<String>,
}

impl ProgressText {
    /// The step and its update, recorded on `visit` when given.
    pub fn to_update(&self, visit: Option<Uuid>) -> Result<(Uuid, StepUpdate), ValidationError> {
        let step = given(&self.step).ok_or(ValidationError::Required { field: Field::Step })?;
        let step = Uuid::parse_str(step).map_err(|_| ValidationError::Invalid {
            field: Field::Step,
            input: step.to_string(),
            reason: "is not a step id",
        })?;
        let update = StepUpdate {
            status: StepStatus::parse(given(&self.status).ok_or(ValidationError::Required {
                field: Field::StepStatus,
            })?)?,
            comment: self.comment.clone().unwrap_or_default(),
            visit_id: visit,
        }
        .validated()?;
        Ok((step, update))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn today() -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 11, 23).expect("valid date")
    }

    fn text(s: &str) -> Option<String> {
        Some(s.to_string())
    }

    #[test]
    fn list_filters_parse_in_any_digits_and_refuse_unknown_sorts() {
        let q = ListText {
            status: text("فعال"),
            min_need: text("۳"),
            overdue: true,
            sort: text("last-visit"),
            district: text("  "),
            ..Default::default()
        }
        .to_query(today(), 100)
        .expect("valid");
        assert_eq!(q.status.as_deref(), Some("active"));
        assert_eq!(q.min_need, Some(3));
        assert_eq!(q.overdue_on, Some(today()));
        assert_eq!(q.sort, SortBy::LastVisit);
        assert_eq!(q.district, None, "blank text is no filter");
        assert_eq!(q.limit, 100);

        let bad_sort = ListText {
            sort: text("age"),
            ..Default::default()
        };
        assert!(matches!(
            bad_sort.to_query(today(), 10),
            Err(ValidationError::NotOneOf { .. })
        ));
        let bad_need = ListText {
            min_need: text("9"),
            ..Default::default()
        };
        assert!(matches!(
            bad_need.to_query(today(), 10),
            Err(ValidationError::OutOfRange { value: 9, .. })
        ));
    }

    #[test]
    fn a_household_needs_its_heads_national_id_checked_first() {
        let only_wrong_id = HouseholdText {
            national_id: text("0499370898"),
            ..Default::default()
        };
        let err = only_wrong_id.to_new().unwrap_err();
        assert!(matches!(err, ValidationError::NationalId { .. }), "{err}");
        let no_id = HouseholdText {
            first_name: text("علی"),
            last_name: text("کریمی"),
            ..Default::default()
        };
        assert!(matches!(
            no_id.to_new(),
            Err(ValidationError::NationalId { .. })
        ));
    }

    #[test]
    fn a_household_form_gives_the_household_and_its_head() {
        let (household, head) = HouseholdText {
            first_name: text("علی"),
            last_name: text("کریمی"),
            national_id: text("۰۴۹۹۳۷۰۸۹۹"),
            birth_date: text("۱۳۵۵/۰۴/۱۰"),
            sex: text("male"),
            district: text("منطقه ۳"),
            address: text("کوچه یاس"),
            phone: text(""),
            ..Default::default()
        }
        .to_new()
        .expect("valid");
        assert_eq!(head.relation, Relation::Head);
        assert_eq!(
            head.national_id.as_ref().map(NationalId::as_str),
            Some("0499370899")
        );
        assert!(head.birth_date.is_some());
        assert_eq!(household.district, "منطقه ۳");
        assert_eq!(household.phone, None, "an empty phone is no phone");
    }

    #[test]
    fn a_visit_form_parses_needs_and_dates() {
        let visit = VisitText {
            date: text("1404-08-15"),
            kind: text("home"),
            needs: vec!["income=4".into(), "مسکن=۳".into()],
            followup: text("۱۴۰۴/۰۸/۲۰"),
            ..Default::default()
        }
        .to_new(today())
        .expect("valid");
        assert_eq!(visit.needs.len(), 2);
        assert!(visit.followup_date > Some(visit.date));
        let undated = VisitText {
            kind: text("phone"),
            ..Default::default()
        };
        assert_eq!(undated.to_new(today()).expect("valid").date, today());
        let bad = VisitText {
            kind: text("home"),
            followup: text("1404-13-01"),
            ..Default::default()
        };
        assert_eq!(
            bad.to_new(today()).unwrap_err().field(),
            Some(Field::FollowupDate)
        );
    }

    #[test]
    fn a_malformed_visit_id_is_refused_not_dropped() {
        let form = ReferralText {
            kind: text("bank_loan"),
            target: text("بانک ملی"),
            visit_id: text("not-a-uuid"),
            ..Default::default()
        };
        let err = form.to_new(today()).unwrap_err();
        assert!(
            matches!(err, ValidationError::Invalid { ref input, .. } if input == "not-a-uuid"),
            "{err}"
        );
        let id = Uuid::now_v7();
        let ok = ReferralText {
            visit_id: Some(id.to_string()),
            ..form
        };
        assert_eq!(ok.to_new(today()).expect("valid").visit_id, Some(id));
    }
}
