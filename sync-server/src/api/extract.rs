//! Extractors: who is calling ([`Authenticated`]), and wrappers over axum's own extractors
//! whose rejections become the API's JSON error instead of axum's plain text.

use std::sync::Arc;

use axum::{
    Json,
    body::Bytes,
    extract::{FromRequest, FromRequestParts, Path, Query, Request},
    http::{header, request::Parts},
};
use chrono::Utc;
use serde::de::DeserializeOwned;

use super::{AppState, blocking};
use crate::api::error::ApiError;
use crate::auth;
use crate::storage::{Principal, Storage};

/// The calling device and its worker, from the bearer token. Looked up on every request (once:
/// the push quota's layer hands on what it looked up), so a revocation takes effect on the
/// device's very next call.
#[derive(Debug, Clone)]
pub struct Authenticated(pub Principal);

impl<S: Storage> FromRequestParts<Arc<AppState<S>>> for Authenticated {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &Arc<AppState<S>>,
    ) -> Result<Self, ApiError> {
        // Already looked up for this request by the push quota's layer (not revoked then).
        if let Some(known) = parts.extensions.remove::<Self>() {
            return Ok(known);
        }
        let token = parts
            .headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .ok_or(ApiError::Unauthorized("missing bearer token"))?;
        let token_hash = auth::hash(token);
        let storage = state.storage.clone();
        let principal = blocking(move || Ok(storage.principal_by_token(token_hash, Utc::now())?))
            .await?
            .ok_or(ApiError::Unauthorized(
                "unknown device token; enrol this device again",
            ))?;
        if principal.device.revoked_at.is_some() {
            return Err(ApiError::Revoked);
        }
        Ok(Self(principal))
    }
}

/// A JSON body; a body that does not parse is `400`/`422 malformed_body` as JSON.
#[derive(Debug)]
pub struct ApiJson<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for ApiJson<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, ApiError> {
        Json::<T>::from_request(req, state)
            .await
            .map(|Json(value)| Self(value))
            .map_err(|r| ApiError::rejected(r.status(), "malformed_body", r.body_text()))
    }
}

/// A raw body (a binary frame); over the size limit it is `413 too_large` as JSON.
#[derive(Debug)]
pub struct Body(pub Bytes);

impl<S: Send + Sync> FromRequest<S> for Body {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, ApiError> {
        Bytes::from_request(req, state)
            .await
            .map(Self)
            .map_err(|r| ApiError::rejected(r.status(), "malformed_body", r.body_text()))
    }
}

/// A query string; one that does not parse is `400 malformed_request` as JSON.
#[derive(Debug)]
pub struct ApiQuery<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequestParts<S> for ApiQuery<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        Query::<T>::from_request_parts(parts, state)
            .await
            .map(|Query(value)| Self(value))
            .map_err(|r| ApiError::rejected(r.status(), "malformed_request", r.body_text()))
    }
}

/// Path parameters; one that does not parse (a household id that is no UUID) is
/// `400 malformed_request` as JSON.
#[derive(Debug)]
pub struct ApiPath<T>(pub T);

impl<T: DeserializeOwned + Send, S: Send + Sync> FromRequestParts<S> for ApiPath<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        Path::<T>::from_request_parts(parts, state)
            .await
            .map(|Path(value)| Self(value))
            .map_err(|r| ApiError::rejected(r.status(), "malformed_request", r.body_text()))
    }
}
