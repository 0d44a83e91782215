//! `GET /v1/directory` and `GET /v1/scope`: what a device needs besides changes. The directory
//! is every enrolled device's worker (id, name, group), whether it is
//! revoked, and its public signing key. Clients name a change's author from it by the change's
//! actor, never from the name the change carries. It lists staff, not households: any enrolled
//! device may read it.

use std::sync::Arc;

use axum::{Json, extract::State};
use madadkar_schema::wire::{Directory, ScopeList};
use tracing::instrument;

use super::{AppState, blocking, case_scope, error::ApiResult, extract::Authenticated};
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

/// Every household in the caller's scope, and the version of the scope lists: a device removes
/// the households it holds that are no longer listed (reassigned elsewhere).
#[utoipa::path(
    get,
    path = "/v1/scope",
    tag = "sync",
    summary = "The ids of every household in the caller's scope (fetched when pull answers name a new `madadkar-scope` version)",
    security(("bearer" = [])),
    responses((status = 200, description = "The scope's households", body = super::openapi::schemas::ScopeList)),
)]
#[instrument(skip_all, err(Debug), fields(device = %principal.device.id))]
pub async fn scope<S: Storage>(
    State(state): State<Arc<AppState<S>>>,
    Authenticated(principal): Authenticated,
) -> ApiResult<Json<ScopeList>> {
    let scope = case_scope(&principal)?;
    let storage = state.storage.clone();
    Ok(Json(
        blocking(move || {
            // The version first: a reassignment between the two reads shows as a newer version
            // on the next pull, never as a list that looks current.
            let version = storage.versions()?.scope;
            let households = storage.households_in_scope(&scope)?;
            Ok(ScopeList {
                version,
                households,
            })
        })
        .await?,
    ))
}
