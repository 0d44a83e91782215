//! The closed vocabularies of the domain (kinds, statuses, relations), each with a stable code
//! for storage and a Persian label for display.

use serde::{Deserialize, Serialize};

use crate::error::ValidationError;

macro_rules! vocabulary {
    ($(#[$meta:meta])* $name:ident, $field:literal {
        $($variant:ident => $code:literal, $label:literal;)+
    }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(rename_all = "snake_case")]
        pub enum $name { $($variant,)+ }

        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant,)+];

            /// The stable code stored in documents and accepted by the CLI.
            pub fn code(self) -> &'static str {
                match self { $($name::$variant => $code,)+ }
            }

            /// The Persian name shown to workers.
            pub fn label_fa(self) -> &'static str {
                match self { $($name::$variant => $label,)+ }
            }

            /// Parses a code (case-insensitive, `-` or `_`) or the Persian label.
            pub fn parse(input: &str) -> Result<Self, ValidationError> {
                let wanted = input.trim().to_lowercase().replace('-', "_");
                Self::ALL
                    .iter()
                    .copied()
                    .find(|v| v.code() == wanted || v.label_fa() == input.trim())
                    .ok_or_else(|| ValidationError::NotOneOf {
                        field: $field,
                        input: input.to_string(),
                        allowed: Self::ALL.iter().map(|v| v.code()).collect::<Vec<_>>().join(", "),
                    })
            }
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

vocabulary!(
    /// Sex as recorded on the national ID card.
    Sex, "sex" {
        Female => "female", "زن";
        Male => "male", "مرد";
    }
);

vocabulary!(
    /// How a member is related to the head of household.
    Relation, "relation" {
        Head => "head", "سرپرست";
        Spouse => "spouse", "همسر";
        Child => "child", "فرزند";
        Parent => "parent", "والد";
        Sibling => "sibling", "خواهر/برادر";
        Grandchild => "grandchild", "نوه";
        Other => "other", "سایر";
    }
);

vocabulary!(
    /// Highest education reached.
    Education, "education" {
        None => "none", "بی‌سواد";
        Literacy => "literacy", "نهضت";
        Primary => "primary", "ابتدایی";
        Secondary => "secondary", "متوسطه";
        Diploma => "diploma", "دیپلم";
        University => "university", "دانشگاهی";
    }
);

vocabulary!(
    /// Work situation of a member.
    Employment, "employment" {
        Employed => "employed", "شاغل";
        Seasonal => "seasonal", "کار فصلی";
        Unemployed => "unemployed", "بیکار";
        Unable => "unable", "از کار افتاده";
        Homemaker => "homemaker", "خانه‌دار";
        Student => "student", "محصل";
        Retired => "retired", "بازنشسته";
        Child => "child", "خردسال";
    }
);

vocabulary!(
    /// Where a household stands with the committee.
    HouseholdStatus, "status" {
        Active => "active", "فعال";
        Suspended => "suspended", "معلق";
        Graduated => "graduated", "توانمند شده";
        Closed => "closed", "بسته";
    }
);

vocabulary!(
    /// How a visit took place.
    VisitKind, "visit kind" {
        Home => "home", "بازدید منزل";
        Phone => "phone", "تلفنی";
        Office => "office", "حضوری در دفتر";
    }
);

vocabulary!(
    /// The areas a needs assessment scores.
    NeedDomain, "need domain" {
        Income => "income", "درآمد";
        Employment => "employment", "اشتغال";
        Housing => "housing", "مسکن";
        Health => "health", "سلامت";
        Education => "education", "آموزش";
        Food => "food", "تغذیه";
    }
);

vocabulary!(
    /// Where a household is referred.
    ReferralKind, "referral kind" {
        BankLoan => "bank_loan", "وام بانکی";
        JobTraining => "job_training", "آموزش شغلی";
        Health => "health", "سلامت";
        Other => "other", "سایر";
    }
);

vocabulary!(
    /// The life of a referral; banks that approve a loan but do not pay it out stay `accepted`.
    ReferralStatus, "referral status" {
        Referred => "referred", "معرفی شده";
        Accepted => "accepted", "پذیرفته شده";
        Rejected => "rejected", "رد شده";
        Completed => "completed", "انجام شده";
        Cancelled => "cancelled", "لغو شده";
    }
);

vocabulary!(
    /// What a worker may see and do; the server enforces it on every pull and push.
    Role, "role" {
        Field => "field", "مددکار";
        Supervisor => "supervisor", "سرپرست";
        Coordinator => "coordinator", "هماهنگ‌کننده استان";
        Admin => "admin", "مدیر سامانه";
    }
);

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
}
