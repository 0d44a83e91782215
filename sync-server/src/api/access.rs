//! `GET /v1/households/{id}/access`: a household's access history from the audit log, for the
//! supervisor of the group holding it and for coordinators; and [`record`], which handlers use
//! to write their audit entries.

use std::sync::Arc;

use axum::{Json, extract::State};
use chrono::Utc;
use madadkar_schema::{
    AuditAction, Role,
    audit::{AccessEntry, AccessPage, DEFAULT_ACCESS_PAGE, MAX_ACCESS_PAGE},
    wire::PullBatch,
};
use serde::Deserialize;
use tracing::instrument;
use uuid::Uuid;

use super::{
    AppState, blocking,
    error::{ApiError, ApiResult},
    extract::{ApiPath, ApiQuery, Authenticated},
};
use crate::audit::{self, AuditEntry, AuditEvent, AuditQuery};
use crate::storage::{Principal, Storage, WorkerRecord};

/// Appends a handler's audit entries (none: no write) off the async executor. A failure fails
/// the request: nothing is answered that the audit did not record.
pub(super) async fn record<S: Storage>(
    state: &AppState<S>,
    events: Vec<AuditEvent>,
) -> ApiResult<()> {
    if events.is_empty() {
        return Ok(());
    }
    let storage = state.storage.clone();
    blocking(move || Ok(storage.append_audit(&events, Utc::now())?)).await
}

/// A pull's entries: one per household whose changes the batch carries (none for a no-op pull).
pub(super) async fn pulled<S: Storage>(
    state: &AppState<S>,
    principal: &Principal,
    batch: &PullBatch,
) -> ApiResult<()> {
    let households = batch.changes.iter().map(|c| c.household);
    record(
        state,
        audit::by_device(principal, AuditAction::Pull, households),
    )
    .await
}

/// An enrolment's entry: the new device and its worker.
pub(super) async fn enrolled<S: Storage>(
    state: &AppState<S>,
    device: Uuid,
    worker: &WorkerRecord,
) -> ApiResult<()> {
    record(
        state,
        vec![audit::device_event(AuditAction::Enroll, device, worker)],
    )
    .await
}

#[derive(Debug, Deserialize)]
pub struct AccessQuery {
    before: Option<u64>,
    limit: Option<usize>,
}

fn bad_query(message: String) -> ApiError {
    ApiError::BadRequest {
        code: "malformed_request",
        message,
    }
}

/// Who may read a household's access history: coordinators, and a supervisor whose group holds
/// the household. Field workers and administrators may not, whatever the household.
fn may_read<S: Storage>(storage: &S, principal: &Principal, household: Uuid) -> ApiResult<()> {
    let worker = &principal.worker;
    match worker.role {
        Role::Coordinator => Ok(()),
        Role::Supervisor => {
            let held = storage.assignments(&[household])?.remove(&household);
            let ours =
                worker.group_id.is_some() && held.is_some_and(|a| a.group_id == worker.group_id);
            if ours {
                Ok(())
            } else {
                // Also for a household the server does not know: the answer says nothing of it.
                Err(ApiError::Forbidden {
                    code: "out_of_scope",
                    message: format!("household {household} is outside your scope"),
                })
            }
        }
        Role::Field | Role::Admin => Err(ApiError::Forbidden {
            code: "no_audit_access",
            message: format!(
                "role {} may not read access histories; ask your supervisor",
                worker.role
            ),
        }),
    }
}

fn wire(entry: AuditEntry) -> AccessEntry {
    AccessEntry {
        seq: entry.seq,
        at: entry.at,
        action: entry.action,
        device_id: entry.device_id,
        worker_id: entry.worker_id,
        worker_name: entry.worker_name,
        group_id: entry.group_id,
    }
}

/// A household's access history, one page, newest first.
#[utoipa::path(
    get,
    path = "/v1/households/{id}/access",
    tag = "audit",
    summary = "A household's access history (coordinators; the supervisor of the group holding it)",
    security(("bearer" = [])),
    params(
        ("id" = Uuid, Path, description = "The household"),
        ("before" = Option<u64>, Query, description = "Only entries older than this `seq` (the previous page's `next_before`)"),
        ("limit" = Option<usize>, Query, description = "Entries per page, 1 to 500 (default 100)"),
    ),
    responses((status = 200, description = "One page of the history", body = super::openapi::schemas::AccessPage)),
)]
#[instrument(skip_all, err(Debug), fields(device = %principal.device.id, household = %household))]
pub async fn access<S: Storage>(
    State(state): State<Arc<AppState<S>>>,
    Authenticated(principal): Authenticated,
    ApiPath(household): ApiPath<Uuid>,
    ApiQuery(q): ApiQuery<AccessQuery>,
) -> ApiResult<Json<AccessPage>> {
    let limit = match q.limit {
        None => DEFAULT_ACCESS_PAGE,
        Some(n @ 1..=MAX_ACCESS_PAGE) => n,
        Some(n) => {
            return Err(bad_query(format!(
                "limit={n}: a page holds 1 to {MAX_ACCESS_PAGE} entries"
            )));
        }
    };
    // Sequence numbers are stored as SQLite integers: a larger `before` would wrap.
    if let Some(b) = q.before.filter(|b| i64::try_from(*b).is_err()) {
        return Err(bad_query(format!(
            "before={b}: larger than any sequence number"
        )));
    }
    let storage = state.storage.clone();
    let mut entries = blocking(move || {
        may_read(storage.as_ref(), &principal, household)?;
        let query = AuditQuery {
            household: Some(household),
            device: None,
            before: q.before,
            // One more than asked: whether an older page exists.
            limit: limit + 1,
        };
        Ok(storage.audit_entries(&query)?)
    })
    .await?;
    let next_before = if entries.len() > limit {
        entries.truncate(limit);
        entries.last().map(|e| e.seq)
    } else {
        None
    };
    Ok(Json(AccessPage {
        household,
        entries: entries.into_iter().map(wire).collect(),
        next_before,
    }))
}
