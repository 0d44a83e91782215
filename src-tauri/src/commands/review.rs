//! The review of visits: the supervisor's queue (approve, or return with a comment on the visit
//! or one of its fields) and the worker's side (returned visits as tasks, correct, resubmit).

use madadkar_client::reconcile::review::{ReturnedVisit, ReviewItem, ReviewQuery};
use madadkar_client::{Page, VisitText};
use madadkar_schema::{Field, ReviewState};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::{AppState, Result};

/// The most visits one call lists.
const MAX_PAGE: usize = 500;

/// Which visits the review queue lists, as its filter bar gives them.
#[derive(Debug, Clone, Default, Deserialize, ts_rs::TS)]
#[ts(optional_fields)]
#[serde(default)]
pub struct ReviewFilter {
    /// Awaiting review unless given.
    pub state: Option<ReviewState>,
    pub group: Option<String>,
    /// Visits by this worker (their id) only.
    pub worker: Option<String>,
}

#[tauri::command]
pub async fn review_queue(
    state: tauri::State<'_, AppState>,
    filter: ReviewFilter,
    limit: usize,
    offset: usize,
) -> Result<Page<ReviewItem>> {
    let query = ReviewQuery {
        state: filter.state,
        // An empty filter box is no filter.
        group: filter.group.filter(|g| !g.trim().is_empty()),
        worker: filter.worker.filter(|w| !w.trim().is_empty()),
        limit: limit.clamp(1, MAX_PAGE),
        offset,
    };
    state
        .with_store(move |store| Ok(store.review_queue(&query)?))
        .await
}

#[tauri::command]
pub async fn approve_visit(
    state: tauri::State<'_, AppState>,
    visit: Uuid,
    comment: String,
) -> Result<()> {
    state
        .change(move |store| Ok(store.approve_visit(visit, &comment)?))
        .await
}

/// Returns a visit to its worker; the comment is required, `field` points at one of the
/// visit's fields.
#[tauri::command]
pub async fn return_visit(
    state: tauri::State<'_, AppState>,
    visit: Uuid,
    comment: String,
    field: Option<Field>,
) -> Result<()> {
    state
        .change(move |store| Ok(store.return_visit(visit, &comment, field)?))
        .await
}

#[tauri::command]
pub async fn resubmit_visit(
    state: tauri::State<'_, AppState>,
    visit: Uuid,
    comment: String,
) -> Result<()> {
    state
        .change(move |store| Ok(store.resubmit_visit(visit, &comment)?))
        .await
}

/// Corrects a visit: each field given changes (see `VisitText::to_edit`). An approved visit
/// goes back to review.
#[tauri::command]
pub async fn edit_visit(
    state: tauri::State<'_, AppState>,
    visit: Uuid,
    form: VisitText,
) -> Result<()> {
    let edit = form.to_edit()?;
    state
        .change(move |store| Ok(store.edit_visit(visit, &edit)?))
        .await
}

/// Visits returned for correction, with the supervisor's comment: this worker's own, or
/// everyone's in scope when `everyone`.
#[tauri::command]
pub async fn returned_visits(
    state: tauri::State<'_, AppState>,
    everyone: bool,
) -> Result<Vec<ReturnedVisit>> {
    state
        .with_store(move |store| Ok(store.returned_visits(everyone)?))
        .await
}

/// The counts beside the navigation: conflicts in scope, visits awaiting review, this worker's
/// returned visits.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, ts_rs::TS)]
pub struct NavCounts {
    pub conflicts: i64,
    pub awaiting_review: i64,
    pub returned: i64,
}

#[tauri::command]
pub async fn nav_counts(state: tauri::State<'_, AppState>) -> Result<NavCounts> {
    state
        .with_store(|store| {
            let awaiting = store.review_queue(&ReviewQuery {
                limit: 1,
                ..Default::default()
            })?;
            let me = store.identity().map(|i| i.worker_id.clone());
            let returned = match me {
                Some(worker) => {
                    store
                        .review_queue(&ReviewQuery {
                            state: Some(ReviewState::Returned),
                            worker: Some(worker),
                            limit: 1,
                            ..Default::default()
                        })?
                        .total
                }
                None => 0,
            };
            Ok(NavCounts {
                conflicts: store.conflict_count()?,
                awaiting_review: awaiting.total,
                returned,
            })
        })
        .await
}
