//! The server's access audit as the sync API shows it: the closed vocabulary of what a device or
//! an administrator did to a household ([`AuditAction`]) and one page of a household's access
//! history (`GET /v1/households/{id}/access`, see `docs/sync-protocol.md`). Ids only: an entry
//! never carries a household's content, and the one name it carries is the worker's, taken from
//! the server's worker records.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Deserializer, Serialize};
use uuid::Uuid;

use crate::enums::vocabulary;
use crate::error::ValidationError;
use crate::field::Field;

vocabulary!(
    /// What an audit entry records. `lookup` is written by the national-ID lookup at
    /// registration, `merge` and `unmerge` by a household merge and its undo, `retire` by device
    /// retirement. `Unknown` is what this version reads for an action of a newer server; the
    /// server never records it.
    AuditAction, Id {
        Enroll => "enroll", "ثبت دستگاه", "device enrolled";
        Push => "push", "ارسال تغییرات", "changes sent";
        Pull => "pull", "دریافت پرونده", "household received";
        Lookup => "lookup", "استعلام", "looked up";
        Assign => "assign", "واگذاری", "assigned";
        Merge => "merge", "ادغام", "merged";
        Revoke => "revoke", "ابطال دستگاه", "device revoked";
        Retire => "retire", "کنارگذاری دستگاه", "device retired";
        Unmerge => "unmerge", "لغو ادغام", "merge undone";
        Unknown => "unknown", "دسترسی ناشناخته (نسخهٔ دیگر)", "access not known to this version";
    }
);

impl AuditAction {
    /// The actions the server records: every one but [`AuditAction::Unknown`].
    pub fn is_recordable(self) -> bool {
        self != Self::Unknown
    }

    /// Reads an action from the network; one this version does not know is
    /// [`AuditAction::Unknown`], so a newer server's entries never hide the rest of a history.
    fn lenient<'de, D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let code = String::deserialize(d)?;
        Ok(Self::ALL
            .iter()
            .copied()
            .find(|a| a.code() == code)
            .unwrap_or(Self::Unknown))
    }
}

/// The most entries one page of an access history holds, and how many when none is asked.
pub const MAX_ACCESS_PAGE: usize = 500;
pub const DEFAULT_ACCESS_PAGE: usize = 100;

/// One entry of a household's access history: when, what, and which device and worker.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct AccessEntry {
    /// The entry's place in the server's audit chain; pages go back with `before=seq`.
    pub seq: u64,
    pub at: DateTime<Utc>,
    #[serde(deserialize_with = "AuditAction::lenient")]
    pub action: AuditAction,
    /// The device that acted; `None` for the server's administration command line.
    pub device_id: Option<Uuid>,
    /// The worker of that device; for `assign`, the worker given the household (`None`: the
    /// group as a whole).
    pub worker_id: Option<String>,
    /// The worker's name from the server's worker records (never from a change's metadata).
    pub worker_name: Option<String>,
    /// For `assign`, the group given the household.
    pub group_id: Option<String>,
}

/// One page of a household's access history, newest first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct AccessPage {
    pub household: Uuid,
    pub entries: Vec<AccessEntry>,
    /// The `before` that asks for the next (older) page; `None` when this page is the last.
    pub next_before: Option<u64>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_action_of_a_newer_server_reads_as_unknown_not_as_an_error() {
        let json = serde_json::json!({
            "seq": 7, "at": "2026-11-23T08:00:00Z", "action": "teleport",
            "device_id": null, "worker_id": null, "worker_name": null, "group_id": null,
        });
        let entry: AccessEntry = serde_json::from_value(json).expect("an entry");
        assert_eq!(entry.action, AuditAction::Unknown);
        assert!(!entry.action.is_recordable());
    }

    #[test]
    fn actions_keep_their_codes() {
        let codes: Vec<&str> = AuditAction::ALL.iter().map(|a| a.code()).collect();
        assert_eq!(
            codes,
            [
                "enroll", "push", "pull", "lookup", "assign", "merge", "revoke", "retire",
                "unmerge", "unknown"
            ]
        );
        let entry = AccessEntry {
            seq: 1,
            at: DateTime::UNIX_EPOCH,
            action: AuditAction::Pull,
            device_id: None,
            worker_id: None,
            worker_name: None,
            group_id: None,
        };
        let json = serde_json::to_value(&entry).expect("json");
        assert_eq!(json["action"], "pull");
        assert_eq!(
            serde_json::from_value::<AccessEntry>(json).expect("back"),
            entry
        );
    }
}
