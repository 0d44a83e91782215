//! Households registered twice: the inbox of candidate pairs, the side-by-side comparison,
//! merging one into another (the survivor), undoing a merge, "not a duplicate" with a reason,
//! and the checks at registration (this replica's households, and the server's lookup).

use madadkar_client::reconcile::duplicates::{
    Comparison, DuplicatePair, PairBand, RegistrationMatch,
};
use madadkar_client::HouseholdText;
use madadkar_schema::MemberText;
use serde::Serialize;
use uuid::Uuid;

use super::{AppState, ErrorCode, Result, UiError};

/// Candidate pairs over every household this replica holds (a supervisor's group, a
/// coordinator's province), ranked by score; `band` (`likely` or `possible`) keeps one band.
/// (`PairBand` is not deserialisable, so the code is parsed here; an unknown one is refused.)
#[tauri::command]
pub async fn duplicate_pairs(
    state: tauri::State<'_, AppState>,
    band: Option<String>,
) -> Result<Vec<DuplicatePair>> {
    let band = match band.as_deref() {
        None | Some("") => None,
        Some(code) => Some(PairBand::parse(code).ok_or_else(|| {
            UiError::new(
                ErrorCode::Invalid,
                format!("band: {code:?} is not one of likely, possible"),
            )
        })?),
    };
    state
        .with_store(move |store| Ok(store.duplicate_pairs(band)?))
        .await
}

/// Two households side by side, with the matcher's score, band and reasons for the pair.
#[tauri::command]
pub async fn compare_households(
    state: tauri::State<'_, AppState>,
    a: Uuid,
    b: Uuid,
) -> Result<Comparison> {
    state
        .with_store(move |store| Ok(store.compare_households(a, b)?))
        .await
}

/// Households this replica holds that a registration form looks like (checked before saving).
#[tauri::command]
pub async fn registration_matches(
    state: tauri::State<'_, AppState>,
    form: HouseholdText,
) -> Result<Vec<RegistrationMatch>> {
    state
        .with_store(move |store| Ok(store.registration_matches(&form)?))
        .await
}

/// Other households holding someone like a new member of `household`.
#[tauri::command]
pub async fn member_matches(
    state: tauri::State<'_, AppState>,
    household: Uuid,
    form: MemberText,
) -> Result<Vec<RegistrationMatch>> {
    state
        .with_store(move |store| Ok(store.member_matches(household, &form)?))
        .await
}

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
