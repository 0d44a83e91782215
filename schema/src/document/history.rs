//! A household's history: every change in causal order, with who made it, when and what.

use automerge::Change;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::HouseholdDoc;
use super::layout::actor_device;
use super::meta::{ChangeMeta, change_time};

/// One entry of a household's history.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct ChangeInfo {
    pub hash: String,
    /// When the author's clock says the change was made; `None` when the change carries no
    /// usable time (another client may write none).
    pub time: Option<DateTime<Utc>>,
    /// `meta.device_id` is the change's actor, the device that really made it (what the server
    /// ties to an enrolled device), not the id the change's message claims; `meta.worker_id`
    /// and `meta.worker_name` are what the change claims until a replica checks them against
    /// the server's directory of devices and sets `verified`.
    #[serde(flatten)]
    pub meta: ChangeMeta,
    /// Whether the author's names come from the server's records (or this device itself).
    #[serde(default)]
    pub verified: bool,
}

impl HouseholdDoc {
    /// Every change in the document in causal order (a change never precedes one it builds
    /// on, whatever the authors' clocks said): who, when, what.
    pub fn history(&mut self) -> Vec<ChangeInfo> {
        list(&self.doc.get_changes(&[]))
    }
}

/// The history entries of `changes`, in the order given.
pub(super) fn list<'a>(changes: impl IntoIterator<Item = &'a Change>) -> Vec<ChangeInfo> {
    changes
        .into_iter()
        .map(|c| ChangeInfo {
            hash: c.hash().to_string(),
            time: change_time(c.timestamp()),
            meta: ChangeMeta {
                device_id: actor_device(c.actor_id()),
                ..ChangeMeta::decode(c.message())
            },
            verified: false,
        })
        .collect()
}
