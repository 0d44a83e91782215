//! Visits and the follow-ups they set.

use madadkar_client::{Followup, VisitText, store::today};
use uuid::Uuid;

use super::{AppState, Result};

/// Records a visit; returns its id (a referral made during it names it).
#[tauri::command]
pub async fn add_visit(
    state: tauri::State<'_, AppState>,
    id: Uuid,
    form: VisitText,
) -> Result<Uuid> {
    let visit = form.to_new(today())?;
    state
        .change(move |store| Ok(store.add_visit(id, &visit)?))
        .await
}

/// Follow-ups due within `within` days of the device's local date, overdue ones included.
#[tauri::command]
pub async fn followups(state: tauri::State<'_, AppState>, within: u32) -> Result<Vec<Followup>> {
    state
        .with_store(move |store| Ok(store.followups(today(), within.min(365))?))
        .await
}
