//! The closed vocabularies of the domain (kinds, statuses, relations): each value has a stable
//! code for storage and the CLI, and a Persian and an English label for display. The desktop
//! app's labels are generated from here (`vocabularies()`), so no label is copied by hand.

use serde::{Deserialize, Serialize};

use crate::error::ValidationError;
use crate::field::Field;

/// One value of a vocabulary as the front ends show it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct Term {
    pub code: &'static str,
    pub fa: &'static str,
    pub en: &'static str,
}

/// Implemented by every vocabulary: its values with their codes and labels.
pub trait Vocabulary: Sized + Copy + 'static {
    /// The vocabulary's name in generated code and error messages (`relation`, `field`, …).
    const NAME: &'static str;
    const ALL: &'static [Self];
    fn code(self) -> &'static str;
    fn label_fa(self) -> &'static str;
    fn label_en(self) -> &'static str;

    fn terms() -> Vec<Term> {
        Self::ALL
            .iter()
            .map(|v| Term {
                code: v.code(),
                fa: v.label_fa(),
                en: v.label_en(),
            })
            .collect()
    }
}

/// Declares a vocabulary: `Name, FieldItIsEnteredIn { Variant => "code", "فارسی", "english"; … }`.
macro_rules! vocabulary {
    ($(#[$meta:meta])* $name:ident, $field:ident {
        $($variant:ident => $code:literal, $fa:literal, $en:literal;)+
    }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[cfg_attr(feature = "ts", derive(ts_rs::TS))]
        pub enum $name { $(#[serde(rename = $code)] $variant,)+ }

        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant,)+];

            /// The stable code stored in documents and accepted by the CLI.
            pub fn code(self) -> &'static str {
                match self { $($name::$variant => $code,)+ }
            }

            /// The Persian name shown to workers.
            pub fn label_fa(self) -> &'static str {
                match self { $($name::$variant => $fa,)+ }
            }

            /// The English name, for the English interface and messages.
            pub fn label_en(self) -> &'static str {
                match self { $($name::$variant => $en,)+ }
            }

            /// Parses a code (case-insensitive, `-` or `_`) or the Persian label.
            pub fn parse(input: &str) -> Result<Self, ValidationError> {
                let wanted = input.trim().to_lowercase().replace('-', "_");
                Self::ALL
                    .iter()
                    .copied()
                    .find(|v| v.code() == wanted || v.label_fa() == input.trim())
                    .ok_or_else(|| ValidationError::NotOneOf {
                        field: Field::$field,
                        input: input.to_string(),
                        allowed: Self::ALL.iter().map(|v| v.code()).collect::<Vec<_>>().join(", "),
                    })
            }
        }

        impl $crate::enums::Vocabulary for $name {
            const NAME: &'static str = stringify!($name);
            const ALL: &'static [Self] = $name::ALL;
            fn code(self) -> &'static str { $name::code(self) }
            fn label_fa(self) -> &'static str { $name::label_fa(self) }
            fn label_en(self) -> &'static str { $name::label_en(self) }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.code())
            }
        }

        impl std::str::FromStr for $name {
            type Err = ValidationError;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                Self::parse(s)
            }
        }
    };
}
pub(crate) use vocabulary;

vocabulary!(
    /// Sex as recorded on the national ID card.
    Sex, Sex {
        Female => "female", "زن", "female";
        Male => "male", "مرد", "male";
    }
);

vocabulary!(
    /// How a member is related to the head of household.
    Relation, Relation {
        Head => "head", "سرپرست خانوار", "head of household";
        Spouse => "spouse", "همسر", "spouse";
        Child => "child", "فرزند", "child";
        Parent => "parent", "والد", "parent";
        Sibling => "sibling", "خواهر/برادر", "sibling";
        Grandchild => "grandchild", "نوه", "grandchild";
        Other => "other", "سایر", "other";
    }
);

vocabulary!(
    /// Highest education reached.
    Education, Education {
        None => "none", "بی‌سواد", "no schooling";
        Literacy => "literacy", "نهضت", "literacy course";
        Primary => "primary", "ابتدایی", "primary";
        Secondary => "secondary", "متوسطه", "secondary";
        Diploma => "diploma", "دیپلم", "diploma";
        University => "university", "دانشگاهی", "university";
    }
);

vocabulary!(
    /// Work situation of a member.
    Employment, Employment {
        Employed => "employed", "شاغل", "employed";
        Seasonal => "seasonal", "کار فصلی", "seasonal work";
        Unemployed => "unemployed", "بیکار", "unemployed";
        Unable => "unable", "از کار افتاده", "unable to work";
        Homemaker => "homemaker", "خانه‌دار", "homemaker";
        Student => "student", "محصل", "student";
        Retired => "retired", "بازنشسته", "retired";
        Child => "child", "خردسال", "young child";
    }
);

vocabulary!(
    /// Where a household stands with the committee.
    HouseholdStatus, Status {
        Active => "active", "فعال", "active";
        Suspended => "suspended", "معلق", "suspended";
        Graduated => "graduated", "توانمند شده", "graduated";
        Closed => "closed", "بسته", "closed";
    }
);

vocabulary!(
    /// How a visit took place.
    VisitKind, VisitKind {
        Home => "home", "بازدید منزل", "home visit";
        Phone => "phone", "تلفنی", "phone call";
        Office => "office", "حضوری در دفتر", "at the office";
    }
);

vocabulary!(
    /// The areas a needs assessment scores.
    NeedDomain, NeedDomain {
        Income => "income", "درآمد", "income";
        Employment => "employment", "اشتغال", "employment";
        Housing => "housing", "مسکن", "housing";
        Health => "health", "سلامت", "health";
        Education => "education", "آموزش", "education";
        Food => "food", "تغذیه", "food";
    }
);

vocabulary!(
    /// Where a household is referred.
    ReferralKind, ReferralKind {
        BankLoan => "bank_loan", "وام بانکی", "bank loan";
        JobTraining => "job_training", "آموزش شغلی", "job training";
        Health => "health", "سلامت", "health";
        Other => "other", "سایر", "other";
    }
);

vocabulary!(
    /// The ledger of a referral: sent → received → approved → disbursed, or refused or
    /// withdrawn on the way (see [`crate::outcome::ledger`]). Banks that approve a loan but do
    /// not pay it out stay `approved`, and aging makes them visible.
    ReferralStatus, ReferralStatus {
        Sent => "sent", "ارسال شده", "sent";
        Received => "received", "دریافت شده توسط شریک", "received by the partner";
        Approved => "approved", "تأیید شده", "approved";
        Disbursed => "disbursed", "پرداخت یا ارائه شده", "disbursed or served";
        Refused => "refused", "رد شده", "refused";
        Withdrawn => "withdrawn", "منصرف شده", "withdrawn";
    }
);

impl ReferralStatus {
    /// Reads a status as stored: the codes of schema versions 1 and 2 (`referred`, `accepted`,
    /// `rejected`, `completed`, `cancelled`) are the same states under older names.
    pub fn from_stored(code: &str) -> Result<Self, ValidationError> {
        Ok(match code {
            "referred" => Self::Sent,
            "accepted" => Self::Approved,
            "rejected" => Self::Refused,
            "completed" => Self::Disbursed,
            "cancelled" => Self::Withdrawn,
            other => Self::parse(other)?,
        })
    }

    /// Whether nothing can follow this status.
    pub fn is_final(self) -> bool {
        matches!(self, Self::Disbursed | Self::Refused | Self::Withdrawn)
    }
}

vocabulary!(
    /// What kind of organisation a referral goes to; aging limits are set per kind.
    PartnerKind, Partner {
        Bank => "bank", "بانک", "bank";
        TrainingCentre => "training_centre", "مرکز آموزش مهارت", "training centre";
        Clinic => "clinic", "مرکز درمانی", "clinic";
        Other => "other", "سایر شرکا", "other partner";
    }
);

impl ReferralKind {
    /// The kind of partner a referral of this kind goes to.
    pub fn partner_kind(self) -> PartnerKind {
        match self {
            Self::BankLoan => PartnerKind::Bank,
            Self::JobTraining => PartnerKind::TrainingCentre,
            Self::Health => PartnerKind::Clinic,
            Self::Other => PartnerKind::Other,
        }
    }
}

vocabulary!(
    /// The area an empowerment plan's goal works on: the need domains, and skills.
    GoalDomain, GoalDomain {
        Income => "income", "درآمد", "income";
        Employment => "employment", "اشتغال", "employment";
        Housing => "housing", "مسکن", "housing";
        Health => "health", "سلامت", "health";
        Education => "education", "آموزش", "education";
        Food => "food", "تغذیه", "food";
        Skills => "skills", "مهارت", "skills";
    }
);

vocabulary!(
    /// Where a plan step stands; its latest progress entry says it.
    StepStatus, StepStatus {
        Planned => "planned", "برنامه‌ریزی شده", "planned";
        InProgress => "in_progress", "در حال انجام", "in progress";
        Done => "done", "انجام شد", "done";
        Dropped => "dropped", "کنار گذاشته شد", "dropped";
    }
);

impl StepStatus {
    /// Whether the step still asks for work (and can be overdue).
    pub fn is_open(self) -> bool {
        matches!(self, Self::Planned | Self::InProgress)
    }
}

vocabulary!(
    /// Who carries out a plan step.
    StepOwner, StepOwner {
        Worker => "worker", "مددکار", "the worker";
        Partner => "partner", "شریک (بانک، مرکز آموزش، درمانگاه)", "a partner";
        Household => "household", "خود خانوار", "the household";
    }
);

vocabulary!(
    /// Whether a household's need is going down, up or neither (see [`crate::outcome::trend`]).
    Trend, Need {
        Improving => "improving", "رو به بهبود", "improving";
        Stable => "stable", "بدون تغییر", "stable";
        Worsening => "worsening", "رو به وخامت", "worsening";
        Unknown => "unknown", "دادهٔ کافی نیست", "not enough assessments";
    }
);

vocabulary!(
    /// What a supervisor (or the worker) did to a visit in its review; a visit's state is what
    /// its latest review event says (see [`crate::Visit::review_state`]).
    ReviewAction, ReviewAction {
        Approved => "approved", "تأیید شد", "approved";
        Returned => "returned", "برگشت برای اصلاح", "returned for correction";
        Resubmitted => "resubmitted", "اصلاح و ارسال دوباره", "corrected and resubmitted";
        Reopened => "reopened", "ویرایش پس از تأیید", "edited after approval";
    }
);

vocabulary!(
    /// Where a visit stands in review. A visit nobody reviewed yet awaits review once synced.
    ReviewState, ReviewAction {
        Awaiting => "awaiting", "در انتظار بازبینی", "awaiting review";
        Approved => "approved", "تأییدشده", "approved";
        Returned => "returned", "برگشت‌خورده", "returned";
    }
);

vocabulary!(
    /// What a worker may see and do; the server enforces it on every pull and push.
    Role, Role {
        Field => "field", "مددکار", "field worker";
        Supervisor => "supervisor", "سرپرست گروه", "group supervisor";
        Coordinator => "coordinator", "هماهنگ‌کننده استان", "provincial coordinator";
        Admin => "admin", "مدیر سامانه", "administrator";
    }
);

/// Every vocabulary with its terms, keyed by type name: what the desktop app's generated
/// `vocabulary.ts` holds, so its labels and choices never drift from the library's.
pub fn vocabularies() -> Vec<(&'static str, Vec<Term>)> {
    fn entry<V: Vocabulary>() -> (&'static str, Vec<Term>) {
        (V::NAME, V::terms())
    }
    vec![
        entry::<Sex>(),
        entry::<Relation>(),
        entry::<Education>(),
        entry::<Employment>(),
        entry::<HouseholdStatus>(),
        entry::<VisitKind>(),
        entry::<NeedDomain>(),
        entry::<ReferralKind>(),
        entry::<ReferralStatus>(),
        entry::<PartnerKind>(),
        entry::<GoalDomain>(),
        entry::<StepStatus>(),
        entry::<StepOwner>(),
        entry::<Trend>(),
        entry::<Role>(),
        entry::<ReviewAction>(),
        entry::<ReviewState>(),
        entry::<Field>(),
        entry::<crate::document::Action>(),
        entry::<crate::audit::AuditAction>(),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_round_trip_and_persian_labels_parse() {
        for k in ReferralKind::ALL {
            assert_eq!(ReferralKind::parse(k.code()), Ok(*k));
            assert_eq!(ReferralKind::parse(k.label_fa()), Ok(*k));
        }
        assert_eq!(ReferralKind::parse("Bank-Loan"), Ok(ReferralKind::BankLoan));
    }

    #[test]
    fn unknown_values_list_what_is_allowed() {
        let err = VisitKind::parse("email").unwrap_err().to_string();
        assert!(err.contains("home, phone, office"), "{err}");
    }

    #[test]
    fn head_of_household_and_group_supervisor_read_differently() {
        assert_ne!(Relation::Head.label_fa(), Role::Supervisor.label_fa());
        assert_ne!(Relation::Head.label_en(), Role::Supervisor.label_en());
    }

    #[test]
    fn no_vocabulary_repeats_a_code_or_a_label() {
        for (name, terms) in vocabularies() {
            for (i, a) in terms.iter().enumerate() {
                for b in &terms[i + 1..] {
                    assert_ne!(a.code, b.code, "{name}");
                    assert_ne!(a.fa, b.fa, "{name}: {}", a.code);
                    assert_ne!(a.en, b.en, "{name}: {}", a.code);
                }
            }
        }
    }
}
