//! Members of a household: adding and editing them.

use madadkar_schema::MemberText;
use uuid::Uuid;

use super::{AppState, Result};

/// Adds a member; returns the new member's id.
#[tauri::command]
pub async fn add_member(
    state: tauri::State<'_, AppState>,
    id: Uuid,
    form: MemberText,
) -> Result<Uuid> {
    let member = form.to_new()?;
    state
        .change(move |store| Ok(store.add_member(id, &member)?))
        .await
}

#[tauri::command]
pub async fn edit_member(
    state: tauri::State<'_, AppState>,
    id: Uuid,
    member: Uuid,
    form: MemberText,
) -> Result<()> {
    let edit = form.to_edit()?;
    state
        .change(move |store| Ok(store.edit_member(id, member, &edit)?))
        .await
}
