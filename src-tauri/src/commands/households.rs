//! The caseload: listing, searching and reading households, and registering a new one.

use madadkar_client::query::ListPage;
use madadkar_client::{HouseholdDetails, HouseholdSummary, HouseholdText, ListText, store::today};
use std::time::Instant;

use madadkar_schema::ChangeInfo;
use uuid::Uuid;

use super::{AppState, Result};

/// The most rows one call returns; the list fetches pages as they scroll into view.
const MAX_PAGE: usize = 500;

/// A page of the caseload and whether more follow; not how many there are in all, which a page
/// scrolled into view does not need and which reads every household ([`count_households`]).
#[tauri::command]
pub async fn list_households(
    state: tauri::State<'_, AppState>,
    filters: ListText,
    limit: usize,
    offset: usize,
) -> Result<ListPage> {
    // "Overdue" is judged against the device's local date, as a worker reads the calendar.
    let mut query = filters.to_query(today(), limit.clamp(1, MAX_PAGE))?;
    query.offset = offset;
    // Projections only, never a document: this is what scrolling calls, page after page.
    let (started, page) = state
        .with_store(move |store| {
            let started = Instant::now();
            Ok((started, store.list_page(&query)?))
        })
        .await?;
    state.launch.listed(started, Instant::now());
    Ok(page)
}

/// How many households the caseload's filters match: asked for once per filter, after the
/// first page is on the screen.
#[tauri::command]
pub async fn count_households(state: tauri::State<'_, AppState>, filters: ListText) -> Result<i64> {
    let query = filters.to_query(today(), 1)?;
    state
        .with_store(move |store| Ok(store.count(&query)?))
        .await
}

#[tauri::command]
pub async fn search_households(
    state: tauri::State<'_, AppState>,
    text: String,
    limit: usize,
) -> Result<Vec<HouseholdSummary>> {
    state
        .with_store(move |store| Ok(store.search(&text, limit.clamp(1, MAX_PAGE))?))
        .await
}

#[tauri::command]
pub async fn household(state: tauri::State<'_, AppState>, id: Uuid) -> Result<HouseholdDetails> {
    state
        .with_document(move |store| Ok(store.household(id)?))
        .await
}

#[tauri::command]
pub async fn history(state: tauri::State<'_, AppState>, id: Uuid) -> Result<Vec<ChangeInfo>> {
    state
        .with_document(move |store| Ok(store.history(id)?))
        .await
}

/// Registers a household with its head; returns the new household's id.
#[tauri::command]
pub async fn add_household(state: tauri::State<'_, AppState>, form: HouseholdText) -> Result<Uuid> {
    let (household, head) = form.to_new()?;
    state
        .change(move |store| Ok(store.add_household(&household, &head)?.0))
        .await
}
