//! `GET /v1/pull`: the next batch of the log after the caller's cursor, within its scope.

use std::sync::Arc;

use axum::{
    extract::State,
    http::{HeaderValue, header},
    response::{IntoResponse, Response},
};
use chrono::Utc;
use madadkar_schema::wire;
use serde::Deserialize;
use tracing::instrument;

use super::{
    AppState, blocking, case_scope,
    error::{ApiError, ApiResult},
    extract::{ApiQuery, Authenticated},
};
use crate::pull::PullLimits;
use crate::storage::Storage;

#[derive(Debug, Deserialize)]
pub struct PullQuery {
    #[serde(default)]
    after: u64,
    limit: Option<usize>,
}

#[utoipa::path(get, path = "/v1/pull", tag = "sync", summary = "The next batch of the change log after the cursor, within the caller's scope", security(("bearer" = [])), params(("after" = Option<u64>, Query, minimum = 0, maximum = 9223372036854775807_i64, description = "The cursor: the `next_cursor` of the last batch applied, 0 (the default) to start"), ("limit" = Option<u64>, Query, minimum = 0, maximum = 18446744073709551615_u64, description = "At most this many log entries (clamped to 1 ..= the server's batch size)")), responses((status = 200, description = "The next batch, little-endian: `u64:next_cursor u8:more` then a changes frame `\"MDKC\" u8:1 u32:count { uuid:16 household, u64:seq, u32:len, len bytes of one Automerge change }*`. `more` = 1: pull again from `next_cursor`. Gzip when asked.", content_type = "application/x-madadkar-changes", body = inline(super::openapi::schemas::Binary))))]
#[instrument(skip_all, err(Debug), fields(device = %principal.device.id, after = q.after))]
pub async fn pull<S: Storage>(
    State(state): State<Arc<AppState<S>>>,
    Authenticated(principal): Authenticated,
    ApiQuery(q): ApiQuery<PullQuery>,
) -> ApiResult<Response> {
    // The log's sequence numbers are SQLite integers: a cursor past them would wrap negative
    // and send the whole scope again.
    if i64::try_from(q.after).is_err() {
        return Err(ApiError::BadRequest {
            code: "malformed_request",
            message: format!(
                "after = {} is beyond the largest cursor, {}",
                q.after,
                i64::MAX
            ),
        });
    }
    let scope = case_scope(&principal)?;
    let limits = PullLimits {
        max_entries: q
            .limit
            .unwrap_or(state.limits.pull_entries)
            .clamp(1, state.limits.pull_entries),
        max_bytes: state.limits.pull_bytes,
    };
    // Its pending work was taken by the push before this pull; now it erases itself.
    refuse_retired(&principal)?;
    let storage = state.storage.clone();
    let device = principal.device.id;
    let (batch, versions) = blocking(move || {
        Ok((
            crate::pull::pull(&*storage, &scope, device, q.after, limits)?,
            storage.versions()?,
        ))
    })
    .await?;
    let lease_until = Utc::now() + chrono::Duration::days(i64::from(state.lease.days));
    super::access::pulled(&state, &principal, &batch).await?;
    Ok((
        [
            (
                header::CONTENT_TYPE,
                HeaderValue::from_static(wire::CHANGES_CONTENT_TYPE),
            ),
            // Clients fetch the directory only when this differs from theirs.
            (
                header::HeaderName::from_static(wire::DIRECTORY_HEADER),
                HeaderValue::from(versions.directory),
            ),
            (
                header::HeaderName::from_static(wire::SCOPE_HEADER),
                HeaderValue::from(versions.scope),
            ),
            // Every sync renews the lease; a device that stops syncing locks itself.
            (
                header::HeaderName::from_static(wire::LEASE_HEADER),
                HeaderValue::try_from(
                    lease_until.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
                )
                .map_err(|e| ApiError::Internal(e.to_string()))?,
            ),
        ],
        batch.encode(),
    )
        .into_response())
}

/// A retired device reads nothing more: the answer tells it to erase itself.
pub(super) fn refuse_retired(principal: &crate::storage::Principal) -> ApiResult<()> {
    if principal.device.retiring_at.is_some() {
        return Err(ApiError::Forbidden {
            code: "device_retired",
            message: "this device has been retired; its data is to be erased".into(),
        });
    }
    Ok(())
}
