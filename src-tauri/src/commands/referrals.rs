//! Referrals of a household to a bank, a training centre or a clinic.

use madadkar_client::{ReferralText, store::today};
use uuid::Uuid;

use super::{AppState, Result};

/// Records a referral to a partner of the directory (of the kind the referral goes to; only an
/// `other` referral may name its target in free text instead); returns its id. A malformed
/// visit id is refused, never dropped.
#[tauri::command]
pub async fn add_referral(
    state: tauri::State<'_, AppState>,
    id: Uuid,
    form: ReferralText,
) -> Result<Uuid> {
    let referral = form.to_new(today())?;
    state
        .change(move |store| Ok(store.add_referral(id, &referral)?))
        .await
}
