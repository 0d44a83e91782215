//! Sync as the status bar sees it. Changes of state are pushed as `sync-status` events by the
//! background loop; this command gives the state once, for a window that has just opened.

use super::{AppState, Result};
use crate::background::SyncView;

#[tauri::command]
pub async fn sync_status(state: tauri::State<'_, AppState>) -> Result<SyncView> {
    let mut view = state.sync.view();
    view.pending_changes = state
        .with_store_unleased(|store| Ok(store.pending_changes()?))
        .await?;
    Ok(view)
}

/// Wakes the background loop; what it does shows up as `sync-status` events.
#[tauri::command]
pub async fn sync_now(state: tauri::State<'_, AppState>) -> Result<()> {
    state.sync.wake();
    Ok(())
}

/// Households whose changes from the server could not be applied and were set aside, with the
/// reason: what the worker (and the supervisor) must see to get them repaired.
#[tauri::command]
pub async fn quarantined(
    state: tauri::State<'_, AppState>,
) -> Result<Vec<madadkar_client::QuarantinedHousehold>> {
    state.with_store(|store| Ok(store.quarantined()?)).await
}
