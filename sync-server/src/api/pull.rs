//! `GET /v1/pull`: the next batch of the log after the caller's cursor, within its scope.

use std::sync::Arc;

use axum::{
    extract::State,
    http::{HeaderValue, header},
    response::{IntoResponse, Response},
};
use madadkar_schema::wire;
use serde::Deserialize;
use tracing::instrument;

use super::{
    AppState, blocking, case_scope,
    error::ApiResult,
    extract::{ApiQuery, Authenticated},
};
use crate::storage::{PullLimits, Storage};

#[derive(Debug, Deserialize)]
pub struct PullQuery {
    #[serde(default)]
    after: u64,
    limit: Option<usize>,
}

#[instrument(skip_all, err(Debug), fields(device = %principal.device.id, after = q.after))]
pub async fn pull<S: Storage>(
    State(state): State<Arc<AppState<S>>>,
    Authenticated(principal): Authenticated,
    ApiQuery(q): ApiQuery<PullQuery>,
) -> ApiResult<Response> {
    let scope = case_scope(&principal)?;
    let limits = PullLimits {
        max_entries: q
            .limit
            .unwrap_or(state.limits.pull_entries)
            .clamp(1, state.limits.pull_entries),
        max_bytes: state.limits.pull_bytes,
    };
    let storage = state.storage.clone();
    let device = principal.device.id;
    let batch = blocking(move || Ok(storage.pull(&scope, device, q.after, limits)?)).await?;
    super::access::pulled(&state, &principal, &batch).await?;
    Ok((
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static(wire::CHANGES_CONTENT_TYPE),
        )],
        batch.encode(),
    )
        .into_response())
}
