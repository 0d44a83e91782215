//! `GET /v1/directory`: every enrolled device's worker (id, name, group), whether it is
//! revoked, and its public signing key. Clients name a change's author from it by the change's
//! actor, never from the name the change carries. It lists staff, not households: any enrolled
//! device may read it.

use std::sync::Arc;

use axum::{Json, extract::State};
use madadkar_schema::wire::Directory;
use tracing::instrument;

use super::{AppState, blocking, error::ApiResult, extract::Authenticated};
use crate::storage::Storage;

/// The directory of devices and its version.
#[utoipa::path(
    get,
    path = "/v1/directory",
    tag = "devices",
    summary = "Who each enrolled device is: its worker, group, revocation and public signing key",
    security(("bearer" = [])),
    responses((status = 200, description = "The directory and its version (the version pull answers name in `madadkar-directory`)", body = super::openapi::schemas::Directory)),
)]
#[instrument(skip_all, err(Debug), fields(device = %principal.device.id))]
pub async fn directory<S: Storage>(
    State(state): State<Arc<AppState<S>>>,
    Authenticated(principal): Authenticated,
) -> ApiResult<Json<Directory>> {
    let storage = state.storage.clone();
    Ok(Json(blocking(move || Ok(storage.directory()?)).await?))
}
