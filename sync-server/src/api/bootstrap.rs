//! `GET /v1/bootstrap`: a first sync's next batch of whole household documents, within the
//! caller's scope.

use std::sync::Arc;

use axum::{
    extract::State,
    http::{HeaderValue, header},
    response::{IntoResponse, Response},
};
use madadkar_schema::AuditAction;
use serde::Deserialize;
use tracing::instrument;
use uuid::Uuid;

use super::{
    AppState, blocking, case_scope,
    error::{ApiError, ApiResult},
    extract::{ApiQuery, Authenticated},
};
use crate::bootstrap::BootstrapLimits;
use crate::storage::{Storage, audit};

/// The content type of a first-sync batch.
pub const BOOTSTRAP_CONTENT_TYPE: &str = "application/x-madadkar-documents";

#[derive(Debug, Deserialize)]
pub struct BootstrapQuery {
    /// The `next` of the last batch applied; absent to start.
    after: Option<Uuid>,
    /// The `head` of the first batch; absent on the first.
    head: Option<u64>,
}

#[utoipa::path(get, path = "/v1/bootstrap", tag = "sync", summary = "A first sync's next batch of whole household documents, within the caller's scope", security(("bearer" = [])), params(("after" = Option<String>, Query, format = Uuid, description = "The `next` of the last batch applied; absent to start"), ("head" = Option<u64>, Query, minimum = 0, maximum = 9223372036854775807_i64, description = "The `head` the first batch answered; absent on the first")), responses((status = 200, description = "The next batch, little-endian: `\"MDKB\" u8:1 u64:head u8:has_next [uuid:16 next] u32:count { uuid:16 household, u64:through, u32:len, len bytes of one saved Automerge document }*`. Ask again with `after=next` while there is one; then pull the log from `head`. Compressed (zstd or gzip) when asked.", content_type = "application/x-madadkar-documents", body = inline(super::openapi::schemas::Binary))))]
#[instrument(skip_all, err(Debug), fields(device = %principal.device.id))]
pub async fn bootstrap<S: Storage>(
    State(state): State<Arc<AppState<S>>>,
    Authenticated(principal): Authenticated,
    ApiQuery(q): ApiQuery<BootstrapQuery>,
) -> ApiResult<Response> {
    if let Some(head) = q.head
        && i64::try_from(head).is_err()
    {
        return Err(ApiError::BadRequest {
            code: "malformed_request",
            message: format!("head = {head} is beyond the largest cursor, {}", i64::MAX),
        });
    }
    super::pull::refuse_retired(&principal)?;
    let scope = case_scope(&principal)?;
    let limits = BootstrapLimits {
        max_households: state.limits.bootstrap_households,
        max_bytes: state.limits.pull_bytes,
    };
    let storage = state.storage.clone();
    let batch = blocking(move || {
        Ok(crate::bootstrap::bootstrap(
            &*storage, &scope, q.after, q.head, limits,
        )?)
    })
    .await?;
    let households = batch.documents.iter().map(|d| d.household);
    super::access::record(
        &state,
        audit::by_device(&principal, AuditAction::Pull, households),
    )
    .await?;
    Ok((
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static(BOOTSTRAP_CONTENT_TYPE),
        )],
        batch.encode(),
    )
        .into_response())
}
