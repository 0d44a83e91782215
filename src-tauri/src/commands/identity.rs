//! Who this replica is: the first-run naming of worker and device, and enrolment with a server.

use madadkar_client::Identity;

use super::{AppState, Result};

#[tauri::command]
pub async fn identity(state: tauri::State<'_, AppState>) -> Result<Option<Identity>> {
    state
        .with_store_unleased(|store| Ok(store.identity().cloned()))
        .await
}

#[tauri::command]
pub async fn init(
    state: tauri::State<'_, AppState>,
    worker: String,
    device: String,
) -> Result<Identity> {
    state
        .change(move |store| Ok(store.init(&worker, &device, None)?))
        .await
}

/// Enrols with a server (an HTTP request, on the blocking thread); returns the worker's name as
/// the server knows it.
#[tauri::command]
pub async fn enroll(
    state: tauri::State<'_, AppState>,
    server: String,
    code: String,
) -> Result<String> {
    state
        .change(move |store| Ok(store.enroll(&server, &code, None)?.worker_name))
        .await
}
