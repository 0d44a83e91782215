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
