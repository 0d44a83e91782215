//! A household's access history from the server's audit, for supervisors and coordinators.
//! The request is read from the store, then sent without holding the store's lock: the
//! network may be slow and the rest of the app must not wait on it.

use madadkar_schema::audit::AccessEntry;
use uuid::Uuid;

use super::{AppState, ErrorCode, Result, UiError};

/// Whether this worker's role may read access histories (the server decides again).
#[tauri::command]
pub async fn may_read_access_history(state: tauri::State<'_, AppState>) -> Result<bool> {
    state
        .with_store(|store| Ok(store.may_read_access_history()?))
        .await
}

/// The newest entries of a household's access history, newest first.
#[tauri::command]
pub async fn household_access(
    state: tauri::State<'_, AppState>,
    id: Uuid,
) -> Result<Vec<AccessEntry>> {
    let request = state
        .with_store(move |store| Ok(store.access_request(id)?))
        .await?;
    tauri::async_runtime::spawn_blocking(move || Ok(request.fetch()?))
        .await
        .map_err(|e| UiError::new(ErrorCode::Internal, format!("the request failed: {e}")))?
}
