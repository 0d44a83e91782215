//! Each worker's caseload, for the supervisor (and the coordinator, across groups).

use madadkar_client::reconcile::caseloads::Caseload;
use madadkar_client::store::today;

use super::{AppState, Result};

/// Every worker's caseload in scope; visits this month and overdue follow-ups are counted by
/// the device's local date.
#[tauri::command]
pub async fn caseloads(state: tauri::State<'_, AppState>) -> Result<Vec<Caseload>> {
    state
        .with_store(|store| Ok(store.caseloads(today())?))
        .await
}
