//! `POST /v1/lookup`: whether a national ID is registered, and in which groups, so that a
//! family another group already supports is caught at registration. It answers group ids and
//! names only, never a household, a name or anything else about the family. Asked by any
//! enrolled field worker, supervisor or coordinator; limited per device (setting
//! `lookups_per_hour`, counted in the database) and audited: one `lookup` entry per household
//! found (one without a household when none is), holding the device and the household, never
//! the national ID.

use std::collections::BTreeMap;
use std::sync::Arc;

use axum::{Json, extract::State};
use chrono::Utc;
use madadkar_schema::{
    AuditAction, NationalId, ValidationError,
    wire::{LookupRequest, LookupResponse, RegisteredGroup},
};
use tracing::instrument;

use super::{
    AppState, blocking, case_scope,
    error::{ApiError, ApiResult},
    extract::{ApiJson, Authenticated},
};
use crate::audit::{self, AuditEvent};
use crate::storage::Storage;

/// The national ID asked about, or why it is none. The message names the problem, never the
/// digits: errors are logged.
fn national_id(input: &str) -> ApiResult<NationalId> {
    NationalId::parse(input).map_err(|e| {
        let problem = match e {
            ValidationError::NationalId { problem, .. } => problem.en(),
            _ => "is not a national ID".into(),
        };
        ApiError::BadRequest {
            code: "invalid",
            message: format!("national_id {problem}"),
        }
    })
}

#[utoipa::path(
    post,
    path = "/v1/lookup",
    tag = "reconciliation",
    summary = "Which groups registered a household with a member holding this national ID (groups only; rate-limited per device, audited)",
    security(("bearer" = [])),
    request_body = super::openapi::schemas::LookupRequest,
    responses((status = 200, description = "The groups holding such a household, by id; empty when none does. Households in no group (registered by a coordinator) are not listed.", body = super::openapi::schemas::LookupResponse)),
)]
#[instrument(skip_all, err(Debug), fields(device = %principal.device.id))]
pub async fn lookup<S: Storage>(
    State(state): State<Arc<AppState<S>>>,
    Authenticated(principal): Authenticated,
    ApiJson(request): ApiJson<LookupRequest>,
) -> ApiResult<Json<LookupResponse>> {
    case_scope(&principal)?;
    let national_id = national_id(&request.national_id)?;
    let storage = state.storage.clone();
    let limit = state.lookup;
    blocking(move || {
        let now = Utc::now();
        if let Some(frees) = storage.charge_lookup(principal.device.id, limit, now)? {
            return Err(ApiError::TooManyRequests {
                code: "rate_limited",
                message: format!(
                    "this device may look up {} national IDs an hour; try again later",
                    limit.per_hour
                ),
                retry_after: (frees - now).to_std().ok(),
            });
        }
        let found = storage.national_id_households(national_id.as_str())?;
        let mut households: Vec<_> = found.keys().copied().collect();
        households.sort();
        let mut events = audit::by_device(&principal, AuditAction::Lookup, households);
        if events.is_empty() {
            events.push(AuditEvent {
                action: AuditAction::Lookup,
                device_id: Some(principal.device.id),
                worker_id: Some(principal.worker.id.clone()),
                group_id: None,
                household: None,
            });
        }
        // Recorded before answering: nothing is told that the audit did not record.
        storage.append_audit(&events, now)?;
        let names: BTreeMap<String, String> = storage
            .groups()?
            .into_iter()
            .map(|g| (g.id, g.name))
            .collect();
        let mut groups: Vec<String> = found.into_values().filter_map(|a| a.group_id).collect();
        groups.sort();
        groups.dedup();
        let registered = groups
            .into_iter()
            .map(|g| match names.get(&g) {
                Some(name) => Ok(RegisteredGroup {
                    group_name: name.clone(),
                    group_id: g,
                }),
                // Never happens through the API (groups are checked when households move).
                None => Err(ApiError::Internal(format!(
                    "a household's group {g:?} is not among the groups"
                ))),
            })
            .collect::<ApiResult<_>>()?;
        Ok(Json(LookupResponse { registered }))
    })
    .await
}
