//! Households registered twice: the inbox of candidate pairs, the side-by-side comparison,
//! merging one into another (the survivor), undoing a merge, "not a duplicate" with a reason,
//! and the checks at registration (this replica's households, and the server's lookup).

use madadkar_client::HouseholdText;
use madadkar_client::reconcile::duplicates::{
    Comparison, DuplicatePair, PairBand, RegistrationMatch,
};
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
    let band = band_of(band.as_deref())?;
    state
        .with_store(move |store| Ok(store.duplicate_pairs(band)?))
        .await
}

/// The band the inbox's filter names: none for all; an unknown code is refused, never read as
/// "all".
fn band_of(code: Option<&str>) -> Result<Option<PairBand>> {
    match code.map(str::trim) {
        None | Some("") => Ok(None),
        Some(code) => PairBand::parse(code).map(Some).ok_or_else(|| {
            UiError::new(
                ErrorCode::Invalid,
                format!("band: {code:?} is not one of likely, possible"),
            )
        }),
    }
}

/// Two households side by side, with the matcher's score, band and reasons for the pair.
#[tauri::command]
pub async fn compare_households(
    state: tauri::State<'_, AppState>,
    a: Uuid,
    b: Uuid,
) -> Result<Comparison> {
    state
        .with_document(move |store| Ok(store.compare_households(a, b)?))
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
        .with_document(move |store| Ok(store.member_matches(household, &form)?))
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_band_filter_is_one_band_all_or_refused() {
        assert_eq!(band_of(None).expect("all"), None);
        assert_eq!(band_of(Some("")).expect("all"), None);
        assert_eq!(
            band_of(Some("likely")).expect("likely"),
            Some(PairBand::Likely)
        );
        assert_eq!(
            band_of(Some("possible")).expect("possible"),
            Some(PairBand::Possible)
        );
        let refused = band_of(Some("certain")).expect_err("unknown band");
        assert_eq!(refused.code, ErrorCode::Invalid);
        assert!(refused.message.contains("certain"));
    }
}
