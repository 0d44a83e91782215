//! Case outcomes: a household's empowerment plan (goals, steps, progress), graduation (proposed
//! by the plan's criteria, confirmed by a supervisor or coordinator) and re-entry, its need
//! history, the referral ledger with its aging, the partner directory referrals and steps choose
//! from, and the referrals stalled across the replica.

use madadkar_client::outcome::{LedgerEntry, NeedHistory, PlanView, StalledReferral};
use madadkar_client::store::today;
use madadkar_client::{GoalText, ProgressText, ReferralStepText, StepText, StoreError};
use madadkar_schema::{
    DocumentError, Field, GraduationCriteria, Partner, ValidationError, text::latin_digits,
};
use uuid::Uuid;

use super::{AppState, Result, UiError};

/// A household's plan: goals with their steps, the graduation criteria and whether they hold
/// (with what is missing, in Persian and English), overdue steps and the partners they name.
#[tauri::command]
pub async fn plan(state: tauri::State<'_, AppState>, household: Uuid) -> Result<PlanView> {
    state
        .with_document(move |store| Ok(store.plan(household)?))
        .await
}

/// Adds a goal to a household's plan; returns its id.
#[tauri::command]
pub async fn add_goal(
    state: tauri::State<'_, AppState>,
    household: Uuid,
    goal: GoalText,
) -> Result<Uuid> {
    let goal = goal.to_new()?;
    state
        .change(move |store| Ok(store.add_goal(household, &goal)?))
        .await
}

/// Adds a step to a goal; a partner it names must be an active one of the directory. Returns
/// the step's id.
#[tauri::command]
pub async fn add_step(
    state: tauri::State<'_, AppState>,
    household: Uuid,
    goal: Uuid,
    step: StepText,
) -> Result<Uuid> {
    let step = step.to_new()?;
    state
        .change(move |store| Ok(store.add_step(household, goal, &step)?))
        .await
}

/// Records progress on a step outside a visit. The form's `step` is ignored: the step is the
/// one named by the command, so a form cannot update another step than the one it shows.
#[tauri::command]
pub async fn update_step(
    state: tauri::State<'_, AppState>,
    household: Uuid,
    step: Uuid,
    progress: ProgressText,
) -> Result<()> {
    let (_, update) = ProgressText {
        step: Some(step.to_string()),
        ..progress
    }
    .to_update(None)?;
    state
        .change(move |store| Ok(store.update_step(household, step, &update)?))
        .await
}

/// A small whole number as typed (any digits) for one of the graduation criteria.
fn criterion(field: Field, input: &str) -> std::result::Result<u8, ValidationError> {
    let digits = latin_digits(input.trim());
    if digits.is_empty() {
        return Err(ValidationError::Required { field });
    }
    digits.parse().map_err(|_| ValidationError::Invalid {
        field,
        input: input.to_string(),
        reason: "is not a whole number",
    })
}

/// Sets a household's graduation criteria (a supervisor's or coordinator's decision): the
/// highest need score allowed, and on how many assessed visits in a row. Both as typed, in any
/// digits; the store checks their ranges.
#[tauri::command]
pub async fn set_graduation_criteria(
    state: tauri::State<'_, AppState>,
    household: Uuid,
    threshold: String,
    visits: String,
) -> Result<()> {
    let criteria = GraduationCriteria {
        threshold: criterion(Field::GraduationThreshold, &threshold)?,
        visits: criterion(Field::GraduationVisits, &visits)?,
    };
    state
        .change(move |store| Ok(store.set_graduation_criteria(household, criteria)?))
        .await
}

/// Confirms a household's graduation. When the criteria do not hold the store refuses in
/// English; the refusal then says in Persian which criteria are unmet, read from the plan.
#[tauri::command]
pub async fn graduate(
    state: tauri::State<'_, AppState>,
    household: Uuid,
    reason: String,
) -> Result<()> {
    state
        .change(move |store| match store.graduate(household, &reason) {
            Ok(()) => Ok(()),
            Err(e @ StoreError::Document(DocumentError::NotAllowed(_))) => {
                let unmet = store
                    .plan(household)
                    .map(|p| p.unmet_fa)
                    .unwrap_or_default();
                Err(refused_graduation(UiError::from(e), &unmet))
            }
            Err(e) => Err(e.into()),
        })
        .await
}

/// A refused graduation, with the unmet criteria in Persian when there are some.
fn refused_graduation(error: UiError, unmet_fa: &[String]) -> UiError {
    if unmet_fa.is_empty() {
        return error;
    }
    error.fa(format!(
        "شرایط توانمندی هنوز فراهم نیست: {}",
        unmet_fa.join("؛ ")
    ))
}

/// Brings a graduated household back into support, its history kept.
#[tauri::command]
pub async fn reenter(
    state: tauri::State<'_, AppState>,
    household: Uuid,
    reason: String,
) -> Result<()> {
    state
        .change(move |store| Ok(store.reenter(household, &reason)?))
        .await
}

/// A household's need scores over time, its trend and the chart of them.
#[tauri::command]
pub async fn need_history(
    state: tauri::State<'_, AppState>,
    household: Uuid,
) -> Result<NeedHistory> {
    state
        .with_document(move |store| Ok(store.need_history(household)?))
        .await
}

/// A household's referrals with their ledgers, aging by the device's local date, and the states
/// each may move to next.
#[tauri::command]
pub async fn referral_ledger(
    state: tauri::State<'_, AppState>,
    household: Uuid,
) -> Result<Vec<LedgerEntry>> {
    state
        .with_document(move |store| Ok(store.referral_ledger(household, today())?))
        .await
}

/// Records a referral's next step in its ledger (received, approved, disbursed with an amount,
/// refused with a reason, withdrawn); a move the ledger does not allow is refused.
#[tauri::command]
pub async fn update_referral_step(
    state: tauri::State<'_, AppState>,
    household: Uuid,
    referral: Uuid,
    step: ReferralStepText,
) -> Result<()> {
    let update = step.to_update(today())?;
    state
        .change(move |store| Ok(store.update_referral(household, referral, &update)?))
        .await
}

/// The partner directory (banks, training centres, clinics), as last synced.
#[tauri::command]
pub async fn partners(state: tauri::State<'_, AppState>) -> Result<Vec<Partner>> {
    state.with_store(|store| Ok(store.partners()?)).await
}

/// Referrals in scope sat in one state longer than their partner kind allows, by the device's
/// local date, longest first.
#[tauri::command]
pub async fn stalled_referrals(state: tauri::State<'_, AppState>) -> Result<Vec<StalledReferral>> {
    state
        .with_store(|store| Ok(store.stalled_referrals(today())?))
        .await
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::commands::ErrorCode;

    #[test]
    fn criteria_are_read_in_any_digits_and_refused_by_field() {
        assert_eq!(criterion(Field::GraduationThreshold, " ۱ "), Ok(1));
        assert_eq!(criterion(Field::GraduationVisits, "3"), Ok(3));
        assert_eq!(
            criterion(Field::GraduationVisits, ""),
            Err(ValidationError::Required {
                field: Field::GraduationVisits
            })
        );
        let e: UiError = criterion(Field::GraduationThreshold, "یک")
            .unwrap_err()
            .into();
        assert_eq!(e.field, Some(Field::GraduationThreshold));
        let big: UiError = criterion(Field::GraduationVisits, "300")
            .unwrap_err()
            .into();
        assert_eq!(
            big.code,
            ErrorCode::Invalid,
            "300 does not fit, never wraps"
        );
    }

    #[test]
    fn a_refused_graduation_names_the_unmet_criteria_in_persian() {
        let refused: UiError = StoreError::Document(DocumentError::NotAllowed(
            "graduation needs every goal met".into(),
        ))
        .into();
        let unmet = vec!["هدف «درآمد ثابت» هنوز باز است".to_string()];
        let shown = refused_graduation(refused, &unmet);
        assert_eq!(shown.code, ErrorCode::NotAllowed);
        assert!(
            shown.message.contains("goal"),
            "the English message is kept"
        );
        assert!(
            shown
                .message_fa
                .is_some_and(|m| m.contains("درآمد ثابت") && m.contains("توانمندی"))
        );
    }
}
