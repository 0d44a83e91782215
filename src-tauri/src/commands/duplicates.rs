//! Households registered twice: merging one into another (the survivor), undoing a merge, and
//! "not a duplicate" with a reason.

use serde::Serialize;
use uuid::Uuid;

use super::{AppState, ErrorCode, Result, UiError};

/// Merges `other` into `survivor`: `other` becomes a redirect to it on every replica.
#[tauri::command]
pub async fn merge_households(
    state: tauri::State<'_, AppState>,
    survivor: Uuid,
    other: Uuid,
) -> Result<()> {
    state
        .change(move |store| Ok(store.merge_households(survivor, other)?))
        .await
}

/// Undoes a merge (coordinators): both households stand on their own again.
#[tauri::command]
pub async fn unmerge_households(
    state: tauri::State<'_, AppState>,
    survivor: Uuid,
    other: Uuid,
) -> Result<()> {
    state
        .change(move |store| Ok(store.unmerge_households(survivor, other)?))
        .await
}

/// Remembers that `a` and `b` are two families, with the reason.
#[tauri::command]
pub async fn mark_not_duplicate(
    state: tauri::State<'_, AppState>,
    a: Uuid,
    b: Uuid,
    reason: String,
) -> Result<()> {
    state
        .change(move |store| Ok(store.mark_not_duplicate(a, b, &reason)?))
        .await
}

/// A group that registered a national ID, as the server's lookup names it (nothing else: no
/// household, no person).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ts_rs::TS)]
pub struct RegisteredGroup {
    pub group_id: String,
    pub group_name: String,
}

/// Which groups registered `national_id`, asked of the server at registration (a family already
/// supported by another group is caught at the door). Only "registered in group G" comes back,
/// never personal data; an unreachable server is `offline`, and the form falls back to the
/// replica's own check. Sent without holding the store's lock.
#[tauri::command]
pub async fn lookup_national_id(
    state: tauri::State<'_, AppState>,
    national_id: String,
) -> Result<Vec<RegisteredGroup>> {
    let request = state
        .with_store(move |store| Ok(store.lookup_request(&national_id)?))
        .await?;
    let groups = tauri::async_runtime::spawn_blocking(move || request.run())
        .await
        .map_err(|e| UiError::new(ErrorCode::Internal, format!("the request failed: {e}")))??;
    Ok(groups
        .into_iter()
        .map(|g| RegisteredGroup {
            group_id: g.group_id,
            group_name: g.group_name,
        })
        .collect())
}
