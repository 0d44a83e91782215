//! The fields a worker can see or type, each with its code, Persian and English label, and the
//! one validation every way of setting it goes through (forms, the CLI, resolving a conflict).

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use crate::date::{iso_date, parse_date};
use crate::enums::*;
use crate::error::ValidationError;
use crate::model::{clean_notes, clean_phone, clean_text, limits};
use crate::national_id::NationalId;
use crate::text::latin_digits;

vocabulary!(
    /// A field of a household, member, visit or referral, or of a form around them. Errors name
    /// it, conflicts point at it, and the desktop app labels it from here.
    Field, Id {
        District => "district", "منطقه", "district";
        Address => "address", "نشانی", "address";
        Phone => "phone", "تلفن", "phone";
        AltPhone => "alt_phone", "تلفن دوم", "alt phone";
        Status => "status", "وضعیت خانوار", "status";
        AssignedGroup => "assigned_group", "گروه مسئول", "assigned group";
        AssignedWorker => "assigned_worker", "مددکار مسئول", "assigned worker";
        HeadMember => "head_member_id", "سرپرست خانوار", "head of household";
        CreatedAt => "created_at", "زمان ثبت", "registered at";
        CreatedBy => "created_by", "ثبت‌کننده", "registered by";
        FirstName => "first_name", "نام", "first name";
        LastName => "last_name", "نام خانوادگی", "last name";
        NationalId => "national_id", "کد ملی", "national ID";
        HeadNationalId => "head_national_id", "کد ملی سرپرست خانوار", "national ID of the head of household";
        BirthDate => "birth_date", "تاریخ تولد", "birth date";
        Sex => "sex", "جنسیت", "sex";
        Relation => "relation", "نسبت با سرپرست خانوار", "relation";
        Education => "education", "تحصیلات", "education";
        Employment => "employment", "وضعیت شغلی", "employment";
        HealthNotes => "health_notes", "یادداشت سلامت", "health notes";
        DisabilityNotes => "disability_notes", "یادداشت معلولیت", "disability notes";
        FatherName => "father_name", "نام پدر", "father's name";
        MergedInto => "merged_into", "ادغام‌شده در خانوار", "merged into";
        MergedGroup => "merged_group", "گروه خانوار جایگزین", "group of the surviving household";
        MergedAt => "merged_at", "زمان ادغام", "merged at";
        MergedBy => "merged_by", "ادغام‌کننده", "merged by";
        ReviewAction => "review_action", "اقدام بازبینی", "review action";
        ReviewField => "review_field", "فیلد مورد نظر", "field commented on";
        Comment => "comment", "توضیح", "comment";
        Reason => "reason", "دلیل", "reason";
        Evidence => "evidence", "شواهد شباهت", "evidence";
        Household => "household", "خانوار", "household";
        VisitDate => "visit_date", "تاریخ بازدید", "visit date";
        VisitKind => "visit_kind", "نوع بازدید", "visit kind";
        VisitWorker => "visit_worker", "مددکار بازدیدکننده", "visiting worker";
        Observations => "observations", "مشاهدات", "observations";
        FollowupDate => "followup_date", "تاریخ پیگیری", "follow-up date";
        Need => "need", "نیاز", "need";
        NeedDomain => "need_domain", "حوزهٔ نیاز", "need domain";
        NeedScore => "need_score", "امتیاز نیاز", "need score";
        ReferralKind => "referral_kind", "نوع معرفی", "referral kind";
        Target => "target", "مقصد معرفی", "target";
        ReferralVisit => "referral_visit", "بازدید مرتبط", "visit of the referral";
        ReferralDate => "referral_date", "تاریخ معرفی", "referral date";
        ReferralStatus => "referral_status", "وضعیت معرفی", "referral status";
        StatusDate => "status_date", "تاریخ وضعیت", "status date";
        StatusWorker => "status_worker", "ثبت‌کنندهٔ وضعیت", "worker who set the status";
        Note => "note", "یادداشت", "note";
        Partner => "partner", "شریک", "partner";
        Amount => "amount", "مبلغ (ریال)", "amount (rials)";
        Goal => "goal", "هدف", "goal";
        GoalDomain => "goal_domain", "حوزهٔ هدف", "goal domain";
        GoalTitle => "goal_title", "عنوان هدف", "goal title";
        Step => "step", "گام", "step";
        StepWhat => "step_what", "شرح گام", "what the step is";
        StepOwner => "step_owner", "انجام‌دهندهٔ گام", "step owner";
        StepStatus => "step_status", "وضعیت گام", "step status";
        TargetDate => "target_date", "تاریخ هدف", "target date";
        GraduationThreshold => "graduation_threshold", "سقف نیاز برای توانمندی", "need threshold for graduation";
        GraduationVisits => "graduation_visits", "تعداد بازدیدهای پیاپی", "consecutive visits for graduation";
        Visit => "visit", "بازدید", "visit";
        Report => "report", "گزارش", "report";
        Format => "format", "قالب خروجی", "output format";
        DateFrom => "date_from", "از تاریخ", "from date";
        DateTo => "date_to", "تا تاریخ", "to date";
        Cohort => "cohort", "گروه هدف (کوهورت)", "cohort";
        WorkerName => "worker_name", "نام مددکار", "worker name";
        WorkerId => "worker_id", "شناسهٔ مددکار", "worker id";
        DeviceName => "device_name", "نام دستگاه", "device name";
        Server => "server", "نشانی سرور", "server";
        Role => "role", "نقش", "role";
        Id => "id", "شناسه", "id";
        Date => "date", "تاریخ", "date";
        Sort => "sort", "ترتیب", "sort";
    }
);

/// A field's value after validation: what to store, or that an optional field is cleared.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FieldValue {
    Text(String),
    Score(u8),
    Clear,
}

impl FieldValue {
    /// The text to store, `""` for a cleared field (how edits spell "clear").
    pub fn into_text(self) -> String {
        match self {
            Self::Text(t) => t,
            Self::Score(s) => s.to_string(),
            Self::Clear => String::new(),
        }
    }
}

impl Field {
    /// Whether a worker may leave this field empty once it exists.
    pub fn is_required(self) -> bool {
        matches!(
            self,
            Self::District
                | Self::Address
                | Self::Status
                | Self::FirstName
                | Self::LastName
                | Self::Relation
                | Self::VisitDate
                | Self::VisitKind
                | Self::ReferralKind
                | Self::Target
                | Self::NeedScore
        )
    }

    /// The one validation of a value typed for this field: editing a household or member and
    /// resolving a conflict both go through it, so they accept and refuse the same things.
    /// Empty input clears an optional field and is refused for a required one; `None` means the
    /// field cannot be set by hand (ids, authors, times).
    pub fn validate(
        self,
        input: &str,
        today: NaiveDate,
    ) -> Option<Result<FieldValue, ValidationError>> {
        let rule = self.rule()?;
        if input.trim().is_empty() {
            return Some(if self.is_required() {
                Err(ValidationError::Required { field: self })
            } else {
                Ok(FieldValue::Clear)
            });
        }
        Some(rule.apply(self, input, today))
    }

    /// How a value typed for this field is checked; `None` for fields nobody sets by hand.
    fn rule(self) -> Option<Rule> {
        Some(match self {
            Self::District => Rule::Text(limits::DISTRICT),
            Self::AssignedGroup | Self::AssignedWorker => Rule::Text(limits::WORKER_ID),
            Self::Address => Rule::Text(limits::ADDRESS),
            Self::FirstName | Self::LastName => Rule::Text(limits::NAME),
            Self::FatherName => Rule::Text(limits::NAME),
            Self::Target => Rule::Text(limits::TARGET),
            Self::HealthNotes | Self::DisabilityNotes => Rule::Notes(limits::NOTES),
            Self::Observations => Rule::Notes(limits::OBSERVATIONS),
            Self::Phone | Self::AltPhone => Rule::Phone,
            Self::NationalId => Rule::NationalId,
            Self::BirthDate | Self::VisitDate => Rule::PastDate,
            Self::FollowupDate => Rule::Date,
            Self::NeedScore => Rule::Score,
            Self::Status => Rule::Code(|v| HouseholdStatus::parse(v).map(HouseholdStatus::code)),
            Self::Sex => Rule::Code(|v| Sex::parse(v).map(Sex::code)),
            Self::Relation => Rule::Code(|v| Relation::parse(v).map(Relation::code)),
            Self::Education => Rule::Code(|v| Education::parse(v).map(Education::code)),
            Self::Employment => Rule::Code(|v| Employment::parse(v).map(Employment::code)),
            Self::VisitKind => Rule::Code(|v| VisitKind::parse(v).map(VisitKind::code)),
            Self::ReferralKind => Rule::Code(|v| ReferralKind::parse(v).map(ReferralKind::code)),
            _ => return None,
        })
    }
}

/// The kinds of check a settable field's value goes through.
#[derive(Clone, Copy)]
enum Rule {
    /// One-line text of at most this many characters.
    Text(usize),
    /// Multi-line notes of at most this many characters.
    Notes(usize),
    Phone,
    NationalId,
    /// A date not after today.
    PastDate,
    Date,
    Score,
    /// A vocabulary's code (or Persian label), stored as the code.
    Code(fn(&str) -> Result<&'static str, ValidationError>),
}

impl Rule {
    fn apply(
        self,
        field: Field,
        input: &str,
        today: NaiveDate,
    ) -> Result<FieldValue, ValidationError> {
        Ok(match self {
            Self::Text(max) => FieldValue::Text(clean_text(field, input, max, true)?),
            Self::Notes(max) => FieldValue::Text(clean_notes(field, input, max)?),
            Self::Phone => FieldValue::Text(clean_phone(field, input)?),
            Self::NationalId => FieldValue::Text(NationalId::parse(input)?.to_string()),
            Self::PastDate => {
                let date = parse_date(field, input)?;
                crate::model::check_not_future(field, date, today)?;
                FieldValue::Text(iso_date(date))
            }
            Self::Date => FieldValue::Text(iso_date(parse_date(field, input)?)),
            Self::Score => FieldValue::Score(parse_score(input)?),
            Self::Code(parse) => FieldValue::Text(parse(input)?.into()),
        })
    }
}

/// A need score typed in any digits: a whole number from 0 to [`limits::NEED_SCORE_MAX`].
pub fn parse_score(input: &str) -> Result<u8, ValidationError> {
    let score: i64 = latin_digits(input.trim())
        .parse()
        .map_err(|_| ValidationError::Invalid {
            field: Field::NeedScore,
            input: input.to_string(),
            reason: "is not a whole number",
        })?;
    let max = i64::from(limits::NEED_SCORE_MAX);
    if !(0..=max).contains(&score) {
        return Err(ValidationError::OutOfRange {
            field: Field::NeedScore,
            value: score,
            min: 0,
            max,
        });
    }
    Ok(score as u8)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn today() -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 11, 23).expect("valid date")
    }

    #[test]
    fn optional_fields_clear_and_required_ones_refuse_empty() {
        for field in [
            Field::Phone,
            Field::AssignedGroup,
            Field::NationalId,
            Field::Sex,
        ] {
            assert_eq!(
                field.validate("  ", today()),
                Some(Ok(FieldValue::Clear)),
                "{field}"
            );
        }
        for field in [
            Field::District,
            Field::FirstName,
            Field::Relation,
            Field::Status,
        ] {
            assert_eq!(
                field.validate("", today()),
                Some(Err(ValidationError::Required { field })),
                "{field}"
            );
        }
        assert_eq!(Field::CreatedBy.validate("x", today()), None);
        assert_eq!(Field::CreatedBy.validate("", today()), None);
    }

    #[test]
    fn values_are_cleaned_as_their_form_would() {
        let phone = Field::Phone.validate("۰۹۱۲ ۱۲۳ ۴۵۶۷", today());
        assert_eq!(phone, Some(Ok(FieldValue::Text("09121234567".into()))));
        let born = Field::BirthDate.validate("1365/02/10", today());
        assert_eq!(born, Some(Ok(FieldValue::Text("1986-04-30".into()))));
        assert!(matches!(
            Field::BirthDate.validate("1410/01/01", today()),
            Some(Err(ValidationError::FutureDate { .. }))
        ));
        assert_eq!(
            Field::NeedScore.validate("۳", today()),
            Some(Ok(FieldValue::Score(3)))
        );
        assert!(matches!(
            Field::NeedScore.validate("2.5", today()),
            Some(Err(ValidationError::Invalid { .. }))
        ));
    }

    #[test]
    fn every_field_has_distinct_persian_and_english_labels() {
        for f in Field::ALL {
            assert!(!f.label_fa().is_empty() && !f.label_en().is_empty());
            assert!(
                f.label_fa()
                    .chars()
                    .any(|c| ('\u{0600}'..='\u{06FF}').contains(&c))
            );
        }
    }
}
