//! Each worker's caseload, for the supervisor (and the coordinator, across groups).

use madadkar_client::reconcile::caseloads::Caseload;
use madadkar_client::store::today;
use serde::Serialize;
use uuid::Uuid;

use super::{AppState, Result};

/// Every worker's caseload in scope; visits this month and overdue follow-ups are counted by
/// the device's local date.
#[tauri::command]
pub async fn caseloads(state: tauri::State<'_, AppState>) -> Result<Vec<Caseload>> {
    state
        .with_store(|store| Ok(store.caseloads(today())?))
        .await
}

/// Where a household stands: its group and, when it is one worker's, that worker.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ts_rs::TS)]
pub struct Placement {
    pub group_id: Option<String>,
    pub worker_id: Option<String>,
}

/// One household of a reassignment: where it is and where it goes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ts_rs::TS)]
pub struct Move {
    pub household: Uuid,
    pub from: Placement,
    pub to: Placement,
}

/// The server's answer to a reassignment: the preview (`applied` false, nothing changed) or
/// what it did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ts_rs::TS)]
pub struct Reassignment {
    pub applied: bool,
    pub moves: Vec<Move>,
    /// Households whose placement changes (changed, when applied).
    pub moved: u32,
    /// Households already where they were asked to go.
    pub unchanged: u32,
}
