//! Devices: enrolment with a one-time code, and `whoami` for an enrolled device.

use std::sync::Arc;

use axum::{Json, extract::State};
use chrono::Utc;
use madadkar_schema::wire::{EnrollRequest, EnrollResponse};
use tracing::{info, instrument};

use super::{
    AppState, blocking,
    error::{ApiError, ApiResult},
    extract::{ApiJson, Authenticated},
};
use crate::auth;
use crate::storage::{NewDevice, Storage};

#[instrument(skip_all, err(Debug))]
pub async fn enroll<S: Storage>(
    State(state): State<Arc<AppState<S>>>,
    ApiJson(req): ApiJson<EnrollRequest>,
) -> ApiResult<Json<EnrollResponse>> {
    let limit = madadkar_schema::limits::NAME;
    let device_name = madadkar_schema::clean_text(
        madadkar_schema::Field::DeviceName,
        &req.device_name,
        limit,
        true,
    )
    .map_err(|e| ApiError::BadRequest {
        code: "invalid",
        message: e.to_string(),
    })?;
    let token = auth::new_token().map_err(|e| ApiError::Internal(e.to_string()))?;
    let device = NewDevice {
        id: req.device_id,
        name: device_name,
        token_hash: auth::hash(&token),
        local_worker_id: req.local_worker_id.filter(|w| w.len() <= limit),
    };
    let code_hash = auth::hash(&auth::normalize_code(&req.code));
    let storage = state.storage.clone();
    let worker = blocking(move || Ok(storage.enroll(code_hash, device, Utc::now())?)).await?;
    super::access::enrolled(&state, req.device_id, &worker).await?;
    info!(device = %req.device_id, worker = %worker.id, "device enrolled");
    Ok(Json(EnrollResponse {
        token,
        worker_id: worker.id,
        worker_name: worker.name,
        group_id: worker.group_id,
        role: worker.role,
    }))
}

pub async fn whoami(Authenticated(p): Authenticated) -> Json<serde_json::Value> {
    Json(serde_json::json!({ "worker": p.worker, "device_id": p.device.id }))
}
