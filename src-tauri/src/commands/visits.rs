//! Visits and the follow-ups they set.

use madadkar_client::{Followup, ProgressText, VisitText, store::today};
use uuid::Uuid;

use super::{AppState, Result};

/// Records a visit, with the progress on plan steps ticked on it (all kept or none); returns
/// its id (a referral made during it names it).
#[tauri::command]
pub async fn add_visit(
    state: tauri::State<'_, AppState>,
    id: Uuid,
    form: VisitText,
    progress: Option<Vec<ProgressText>>,
) -> Result<Uuid> {
    let visit = form.to_new(today())?;
    let progress = progress.unwrap_or_default();
    state
        .change(move |store| Ok(store.add_visit_with_progress(id, &visit, &progress)?))
        .await
}

/// Follow-ups due within `within` days of the device's local date, overdue ones included.
#[tauri::command]
pub async fn followups(state: tauri::State<'_, AppState>, within: u32) -> Result<Vec<Followup>> {
    state
        .with_store(move |store| Ok(store.followups(today(), within.min(365))?))
        .await
}
