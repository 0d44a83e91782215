//! Households registered twice: merging one into another (the survivor), undoing a merge, and
//! "not a duplicate" with a reason.

use serde::Serialize;
use uuid::Uuid;

use super::{AppState, Result};

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
