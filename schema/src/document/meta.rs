//! Who made a change and what it did: the JSON message every Madadkar change carries, the
//! typed [`Action`], and change times (Unix seconds, as Automerge defines them).

use automerge::transaction::CommitOptions;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Deserializer, Serialize};

use crate::enums::vocabulary;
use crate::error::ValidationError;
use crate::field::Field;

vocabulary!(
    /// What a change did. `Unknown` stands for an action this version does not know: a newer
    /// Madadkar's, or a change another Automerge client made without a Madadkar message.
    Action, Id {
        HouseholdCreate => "household.create", "ثبت خانوار", "household registered";
        HouseholdEdit => "household.edit", "ویرایش خانوار", "household edited";
        MemberAdd => "member.add", "افزودن عضو", "member added";
        MemberEdit => "member.edit", "ویرایش عضو", "member edited";
        VisitAdd => "visit.add", "ثبت بازدید", "visit recorded";
        ReferralAdd => "referral.add", "ثبت معرفی", "referral made";
        ReferralUpdate => "referral.update", "تغییر وضعیت معرفی", "referral status changed";
        ConflictResolve => "conflict.resolve", "رفع ناسازگاری", "conflict resolved";
        VisitEdit => "visit.edit", "اصلاح بازدید", "visit corrected";
        VisitReview => "visit.review", "بازبینی بازدید", "visit reviewed";
        HouseholdMerge => "household.merge", "ادغام در خانوار دیگر", "merged into another household";
        HouseholdUnmerge => "household.unmerge", "لغو ادغام", "merge undone";
        NotDuplicate => "household.not_duplicate", "ثبت «تکراری نیست»", "marked not a duplicate";
        GoalAdd => "plan.goal_add", "افزودن هدف برنامه", "plan goal added";
        StepAdd => "plan.step_add", "افزودن گام برنامه", "plan step added";
        StepUpdate => "plan.step_update", "پیشرفت گام برنامه", "plan step progress";
        PlanCriteria => "plan.criteria", "معیار توانمندی", "graduation criteria set";
        Graduate => "household.graduate", "تأیید توانمندی", "graduation confirmed";
        Reenter => "household.reenter", "بازگشت به چرخهٔ حمایت", "re-entered support";
        SchemaMigrate => "schema.migrate", "به‌روزرسانی قالب سند", "document layout upgraded";
        Unknown => "unknown", "تغییر ناشناخته (نسخهٔ دیگر)", "change not known to this version";
    }
);

impl Action {
    /// Reads a stored action; one this version does not know is [`Action::Unknown`], shown as
    /// such, so a newer app's history never stops an older one from reading the household.
    fn lenient<'de, D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let code = String::deserialize(d)?;
        Ok(Self::ALL
            .iter()
            .copied()
            .find(|a| a.code() == code)
            .unwrap_or(Self::Unknown))
    }
}

/// Who made a change and what it did; stored as the change's message.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct ChangeMeta {
    pub worker_id: String,
    #[serde(default)]
    pub worker_name: String,
    pub device_id: String,
    #[serde(default = "unknown_action")]
    #[serde(deserialize_with = "Action::lenient")]
    pub action: Action,
    /// The entity it touched, when there is one (an id, or a field path for a resolution).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target: Option<String>,
    /// The document keys it wrote.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub fields: Vec<String>,
}

fn unknown_action() -> Action {
    Action::Unknown
}

impl ChangeMeta {
    pub fn new(worker_id: &str, worker_name: &str, device_id: &str) -> Self {
        Self {
            worker_id: worker_id.into(),
            worker_name: worker_name.into(),
            device_id: device_id.into(),
            action: Action::Unknown,
            target: None,
            fields: Vec::new(),
        }
    }

    pub(super) fn action(
        &self,
        action: Action,
        target: Option<String>,
        fields: Vec<String>,
    ) -> Self {
        Self {
            action,
            target,
            fields,
            ..self.clone()
        }
    }

    /// Reads a change's message; a change without a Madadkar message (another Automerge client's)
    /// reads as made by an unknown worker doing an unknown action.
    pub(super) fn decode(change_message: Option<&str>) -> Self {
        change_message
            .and_then(|m| serde_json::from_str(m).ok())
            .unwrap_or_else(|| Self::new("unknown", "", "unknown"))
    }
}

/// Changes stamped at or past this are in milliseconds: Madadkar before the open-format fix
/// wrote milliseconds, and as seconds this is the year 5138, so the two never overlap.
const FIRST_MILLIS: i64 = 100_000_000_000;

/// A change's time. Automerge's commit time is Unix seconds; Madadkar's early changes carry
/// milliseconds, which are told apart by size. Zero is a change stamped with no time (another
/// client may write none), not the first second of 1970.
pub fn change_time(timestamp: i64) -> Option<DateTime<Utc>> {
    if timestamp == 0 {
        None
    } else if timestamp.abs() >= FIRST_MILLIS {
        DateTime::from_timestamp_millis(timestamp)
    } else {
        DateTime::from_timestamp(timestamp, 0)
    }
}

pub(super) fn commit_options(meta: &ChangeMeta, now: DateTime<Utc>) -> CommitOptions {
    // Serialising a struct of strings cannot fail; an empty message would still read back as
    // an unknown author rather than lose the change.
    let message = serde_json::to_string(meta).unwrap_or_default();
    CommitOptions::default()
        .with_message(message)
        .with_time(now.timestamp())
}
