//! Devices: enrolment with a one-time code (under the rate limits of [`super::ratelimit`]),
//! and `whoami` for an enrolled device.

use std::sync::Arc;

use axum::{
    Json,
    extract::{FromRequestParts, State},
    http::request::Parts,
    response::{IntoResponse, Response},
};
use chrono::Utc;
use madadkar_schema::wire::{EnrollRequest, EnrollResponse};
use tracing::{info, instrument, warn};

use super::{
    AppState, blocking,
    error::{ApiError, ApiResult},
    extract::{ApiJson, Authenticated},
    openapi::schemas,
    ratelimit::Source,
};
use crate::auth;
use crate::storage::{NewDevice, Storage, StorageError};

/// An enrolment attempt the rate limits let through, and where it came from. Taken before the
/// body is read, so junk bodies count as attempts too.
#[derive(Debug)]
pub struct Attempt(Source);

impl<S: Storage> FromRequestParts<Arc<AppState<S>>> for Attempt {
    /// A [`super::ratelimit::Refusal`] (`429`), or the storage's failure (`500`).
    type Rejection = Response;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &Arc<AppState<S>>,
    ) -> Result<Self, Response> {
        let source = Source::of(parts, &state.enroll_limiter.limits().trusted_proxies);
        let state = state.clone();
        let taken = blocking(move || {
            Ok(state
                .enroll_limiter
                .attempt(state.storage.as_ref(), source, Utc::now())?)
        })
        .await;
        match taken {
            Ok(Ok(())) => Ok(Self(source)),
            Ok(Err(refusal)) => Err(refusal.into_response()),
            Err(e) => Err(e.into_response()),
        }
    }
}

/// Exchanges a one-time enrolment code for a device token.
#[utoipa::path(
    post,
    path = "/v1/enroll",
    tag = "devices",
    request_body = schemas::EnrollRequest,
    responses((status = 200, description = "Enrolled: the device token, shown once, and the worker", body = schemas::EnrollResponse)),
)]
#[instrument(skip_all, err(Debug))]
pub async fn enroll<S: Storage>(
    State(state): State<Arc<AppState<S>>>,
    Attempt(source): Attempt,
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
    let signing_key = match &req.signing_key {
        None => None,
        Some(text) => Some(
            madadkar_schema::authorship::parse_public_key(text)
                .map(|k| madadkar_schema::authorship::hex(&k))
                .ok_or_else(|| ApiError::BadRequest {
                    code: "invalid",
                    message: "signing_key is not a hex Ed25519 public key".into(),
                })?,
        ),
    };
    let token = auth::new_token().map_err(|e| ApiError::Internal(e.to_string()))?;
    let device = NewDevice {
        id: req.device_id,
        name: device_name,
        token_hash: auth::hash(&token),
        local_worker_id: req.local_worker_id.filter(|w| w.len() <= limit),
        signing_key,
    };
    let code_hash = auth::hash(&auth::normalize_code(&req.code));
    let shared = state.clone();
    let worker = blocking(move || {
        let (storage, limiter) = (shared.storage.as_ref(), &shared.enroll_limiter);
        match storage.enroll(code_hash, device, Utc::now()) {
            Ok(worker) => {
                // The device is enrolled and its code spent: failing to forgive the source's
                // earlier wrong codes must not lose the token it is owed.
                if let Err(e) = limiter.succeeded(storage, source) {
                    warn!(error = %e, "forgetting an enrolment source's wrong codes failed");
                }
                Ok(worker)
            }
            Err(e) => {
                if matches!(e, StorageError::BadCode) {
                    limiter.failed(storage, source, Utc::now())?;
                }
                Err(e.into())
            }
        }
    })
    .await?;
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

/// The calling device and its worker.
#[utoipa::path(
    get,
    path = "/v1/whoami",
    tag = "devices",
    security(("bearer" = [])),
    responses((status = 200, description = "The device's worker and id", body = schemas::Whoami)),
)]
pub async fn whoami(Authenticated(p): Authenticated) -> Json<serde_json::Value> {
    Json(serde_json::json!({ "worker": p.worker, "device_id": p.device.id }))
}
