//! The commands the web front end may call. Each one translates arguments into the client
//! library's types, calls it, and turns errors into `{code, field, message}` for the UI.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, MutexGuard};

use madadkar_client::{
    Followup, HouseholdDetails, HouseholdSummary, Identity, ListQuery, Page, SortBy, Store,
    StoreError, store::today,
};
use madadkar_schema::{
    ChangeInfo, HouseholdStatus, MemberText, NationalId, NeedDomain, NewHousehold, NewMember,
    NewReferral, NewVisit, ReferralKind, Relation, Sex, ValidationError, VisitKind, parse_date,
};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::background::{SyncHandle, SyncView};

pub struct AppState {
    pub store: Mutex<Store>,
    pub sync: Arc<SyncHandle>,
}

/// An error as the UI shows it: a stable code, the form field it belongs to, and a message.
#[derive(Debug, Serialize, PartialEq, Eq)]
pub struct UiError {
    pub code: &'static str,
    pub field: Option<madadkar_schema::Field>,
    pub message: String,
    /// The message in Persian where there is one (validation), for the Persian interface.
    pub message_fa: Option<String>,
}

impl UiError {
    fn new(code: &'static str, message: impl ToString) -> Self {
        Self {
            code,
            field: None,
            message: message.to_string(),
            message_fa: None,
        }
    }
}

impl From<ValidationError> for UiError {
    fn from(e: ValidationError) -> Self {
        Self {
            code: "invalid",
            field: e.field(),
            message: e.to_string(),
            message_fa: Some(e.message_fa()),
        }
    }
}

impl From<StoreError> for UiError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::Invalid(v) => v.into(),
            StoreError::Document(madadkar_schema::DocumentError::Invalid(v)) => v.into(),
            StoreError::NotFound { .. } => Self::new("not_found", e),
            StoreError::NotInitialised => Self::new("not_initialised", e),
            StoreError::Network { .. } => Self::new("offline", e),
            StoreError::Server { .. } => Self::new("server", e),
            other => Self::new("internal", other),
        }
    }
}

type Result<T> = std::result::Result<T, UiError>;

fn store(state: &AppState) -> Result<MutexGuard<'_, Store>> {
    state
        .store
        .lock()
        .map_err(|_| UiError::new("internal", "the store is unavailable; restart the app"))
}

fn household_id(text: &str) -> Result<Uuid> {
    Uuid::parse_str(text).map_err(|_| UiError::new("not_found", format!("no household {text:?}")))
}

fn optional(text: &Option<String>) -> Option<&str> {
    text.as_deref().map(str::trim).filter(|t| !t.is_empty())
}

#[tauri::command]
pub fn identity(state: tauri::State<'_, AppState>) -> Result<Option<Identity>> {
    Ok(store(&state)?.identity().cloned())
}

#[tauri::command]
pub fn init(state: tauri::State<'_, AppState>, worker: String, device: String) -> Result<Identity> {
    let identity = store(&state)?.init(&worker, &device, None)?;
    state.sync.wake();
    Ok(identity)
}

#[tauri::command]
pub fn enroll(state: tauri::State<'_, AppState>, server: String, code: String) -> Result<String> {
    let enrolled = store(&state)?.enroll(&server, &code, None)?;
    state.sync.wake();
    Ok(enrolled.worker_name)
}

#[derive(Debug, Deserialize)]
pub struct ListArgs {
    pub district: Option<String>,
    pub status: Option<String>,
    pub worker: Option<String>,
    #[serde(default)]
    pub overdue: bool,
    pub min_need: Option<u8>,
    #[serde(default)]
    pub conflicted: bool,
    pub sort: Option<String>,
    pub limit: usize,
    pub offset: usize,
}

#[tauri::command]
pub fn list_households(
    state: tauri::State<'_, AppState>,
    query: ListArgs,
) -> Result<Page<HouseholdSummary>> {
    let q = ListQuery {
        district: optional(&query.district).map(Into::into),
        status: optional(&query.status)
            .map(HouseholdStatus::parse)
            .transpose()?
            .map(|s| s.code().to_string()),
        assigned_worker: optional(&query.worker).map(Into::into),
        overdue_on: query.overdue.then(today),
        min_need: query.min_need,
        conflicted: query.conflicted,
        sort: query
            .sort
            .as_deref()
            .and_then(SortBy::parse)
            .unwrap_or_default(),
        limit: query.limit.clamp(1, 500),
        offset: query.offset,
    };
    Ok(store(&state)?.list(&q)?)
}

#[tauri::command]
pub fn search_households(
    state: tauri::State<'_, AppState>,
    text: String,
    limit: usize,
) -> Result<Vec<HouseholdSummary>> {
    Ok(store(&state)?.search(&text, limit.clamp(1, 500))?)
}

#[tauri::command]
pub fn household(state: tauri::State<'_, AppState>, id: String) -> Result<HouseholdDetails> {
    Ok(store(&state)?.household(household_id(&id)?)?)
}

#[tauri::command]
pub fn history(state: tauri::State<'_, AppState>, id: String) -> Result<Vec<ChangeInfo>> {
    Ok(store(&state)?.history(household_id(&id)?)?)
}

/// What the form sends; fields left empty arrive empty and are validated like any other.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct HouseholdForm {
    pub first_name: String,
    pub last_name: String,
    pub national_id: String,
    pub birth_date: Option<String>,
    pub sex: Option<String>,
    pub district: String,
    pub address: String,
    pub phone: Option<String>,
}

#[tauri::command]
pub fn add_household(state: tauri::State<'_, AppState>, form: HouseholdForm) -> Result<String> {
    let head = NewMember {
        national_id: Some(NationalId::parse(&form.national_id)?),
        birth_date: optional(&form.birth_date)
            .map(|d| parse_date(madadkar_schema::Field::BirthDate, d))
            .transpose()?,
        sex: optional(&form.sex).map(Sex::parse).transpose()?,
        ..NewMember::named(&form.first_name, &form.last_name, Relation::Head)
    };
    let household = NewHousehold {
        district: form.district,
        address: form.address,
        phone: form.phone,
        ..Default::default()
    };
    let (id, _) = store(&state)?.add_household(&household, &head)?;
    state.sync.wake();
    Ok(id.to_string())
}

#[tauri::command]
pub fn add_member(
    state: tauri::State<'_, AppState>,
    id: String,
    form: MemberText,
) -> Result<String> {
    let member = form.to_new()?;
    let member_id = store(&state)?.add_member(household_id(&id)?, &member)?;
    state.sync.wake();
    Ok(member_id.to_string())
}

#[tauri::command]
pub fn edit_member(
    state: tauri::State<'_, AppState>,
    id: String,
    member: String,
    form: MemberText,
) -> Result<()> {
    let edit = form.to_edit()?;
    let member =
        Uuid::parse_str(&member).map_err(|_| UiError::new("not_found", "no such member"))?;
    store(&state)?.edit_member(household_id(&id)?, member, &edit)?;
    state.sync.wake();
    Ok(())
}

/// A referral made during a visit.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct ReferralForm {
    pub kind: String,
    pub target: String,
    pub visit_id: Option<String>,
    pub date: String,
    pub note: String,
}

#[tauri::command]
pub fn add_referral(
    state: tauri::State<'_, AppState>,
    id: String,
    form: ReferralForm,
) -> Result<String> {
    let referral = NewReferral {
        kind: ReferralKind::parse(&form.kind)?,
        target: form.target,
        visit_id: optional(&form.visit_id).and_then(|v| Uuid::parse_str(v).ok()),
        date: parse_date(madadkar_schema::Field::ReferralDate, &form.date)?,
        note: form.note,
    };
    let referral_id = store(&state)?.add_referral(household_id(&id)?, &referral)?;
    state.sync.wake();
    Ok(referral_id.to_string())
}

#[derive(Debug, Deserialize)]
pub struct VisitForm {
    pub date: String,
    pub kind: String,
    #[serde(default)]
    pub observations: String,
    #[serde(default)]
    pub needs: BTreeMap<String, u8>,
    pub followup: Option<String>,
}

#[tauri::command]
pub fn add_visit(state: tauri::State<'_, AppState>, id: String, form: VisitForm) -> Result<String> {
    let mut needs = BTreeMap::new();
    for (domain, score) in &form.needs {
        needs.insert(NeedDomain::parse(domain)?, *score);
    }
    let visit = NewVisit {
        date: parse_date(madadkar_schema::Field::VisitDate, &form.date)?,
        kind: VisitKind::parse(&form.kind)?,
        observations: form.observations,
        needs,
        followup_date: optional(&form.followup)
            .map(|d| parse_date(madadkar_schema::Field::FollowupDate, d))
            .transpose()?,
    };
    let visit_id = store(&state)?.add_visit(household_id(&id)?, &visit)?;
    state.sync.wake();
    Ok(visit_id.to_string())
}

#[tauri::command]
pub fn followups(state: tauri::State<'_, AppState>, within: u32) -> Result<Vec<Followup>> {
    Ok(store(&state)?.followups(today(), within.min(365))?)
}

#[tauri::command]
pub fn sync_status(state: tauri::State<'_, AppState>) -> Result<SyncView> {
    let mut view = state
        .sync
        .view
        .lock()
        .map(|v| v.clone())
        .unwrap_or_default();
    view.pending_changes = store(&state)?.pending_changes()?;
    Ok(view)
}

#[tauri::command]
pub fn sync_now(state: tauri::State<'_, AppState>) {
    state.sync.wake();
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn validation_errors_name_their_field_for_the_form() {
        let e: UiError = StoreError::Invalid(ValidationError::Required {
            field: madadkar_schema::Field::District,
        })
        .into();
        assert_eq!(e.field, Some(madadkar_schema::Field::District));
        assert_eq!(e.code, "invalid");
        let json = serde_json::to_value(&e).expect("json");
        assert_eq!(json["field"], "district");
        assert_eq!(json["message"], "district: required");
        assert_eq!(json["message_fa"], "منطقه را وارد کنید.");
        let nid: UiError = NationalId::parse("123").unwrap_err().into();
        assert_eq!(nid.field, Some(madadkar_schema::Field::NationalId));
    }

    #[test]
    fn offline_is_its_own_code() {
        let e: UiError = StoreError::Network {
            message: "refused".into(),
        }
        .into();
        assert_eq!(e.code, "offline");
    }
}
