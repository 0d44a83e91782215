//! A household's history: every change in causal order, with who made it, when and what.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::HouseholdDoc;
use super::meta::{ChangeMeta, change_time};

/// One entry of a household's history.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct ChangeInfo {
    pub hash: String,
    /// When the author's clock says the change was made; `None` when the change carries no
    /// usable time (another client may write none).
    pub time: Option<DateTime<Utc>>,
    #[serde(flatten)]
    pub meta: ChangeMeta,
}

impl HouseholdDoc {
    /// Every change in the document in causal order (a change never precedes one it builds
    /// on, whatever the authors' clocks said): who, when, what.
    pub fn history(&mut self) -> Vec<ChangeInfo> {
        self.doc
            .get_changes(&[])
            .into_iter()
            .map(|c| ChangeInfo {
                hash: c.hash().to_string(),
                time: change_time(c.timestamp()),
                meta: ChangeMeta::decode(c.message()),
            })
            .collect()
    }
}
