//! Drafts of the window's forms, kept in the encrypted store rather than the WebView's storage
//! (which is a plain file on disk). The window loads them all once unlocked and saves each
//! change.

use madadkar_client::Draft;

use super::{AppState, Result};

/// Every kept draft.
#[tauri::command]
pub async fn draft_load(state: tauri::State<'_, AppState>) -> Result<Vec<Draft>> {
    state.with_store(|store| Ok(store.drafts()?)).await
}

/// Keeps `value` (the form's fields as JSON) as the draft `key`.
#[tauri::command]
pub async fn draft_save(
    state: tauri::State<'_, AppState>,
    key: String,
    value: String,
) -> Result<()> {
    state
        .with_store(move |store| Ok(store.save_draft(&key, &value)?))
        .await
}

/// Forgets the draft `key` (its form was saved or abandoned).
#[tauri::command]
pub async fn draft_clear(state: tauri::State<'_, AppState>, key: String) -> Result<()> {
    state
        .with_store(move |store| Ok(store.clear_draft(&key)?))
        .await
}
