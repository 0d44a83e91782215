//! `POST /v1/assignments`: a supervisor or a coordinator moves households between workers or
//! groups, as a preview (`dry_run`) or for real, all or nothing. Who may move what where, and
//! the write with its audit entries, are [`crate::reassign`]'s, shared with the administrator's
//! `household assign`.

use std::sync::Arc;

use axum::{Json, extract::State, http::StatusCode};
use chrono::Utc;
use madadkar_schema::wire::{AssignMove, AssignRequest, AssignResponse, Placement};
use tracing::instrument;

use super::{
    AppState, blocking,
    error::{ApiError, ApiResult},
    extract::{ApiJson, Authenticated},
};
use crate::reassign::{self, Mover, ReassignError, Target};
use crate::storage::{Assignment, Storage};

impl From<ReassignError> for ApiError {
    fn from(e: ReassignError) -> Self {
        let message = e.to_string();
        match e {
            ReassignError::Forbidden(message) => Self::Forbidden {
                code: "forbidden",
                message,
            },
            ReassignError::OutOfScope(households) => Self::OutOfScope(households),
            ReassignError::UnknownHouseholds(households) => Self::Households {
                status: StatusCode::BAD_REQUEST,
                code: "not_found",
                message,
                households,
            },
            ReassignError::NoGroup(households) => Self::Households {
                status: StatusCode::BAD_REQUEST,
                code: "invalid",
                message,
                households,
            },
            ReassignError::UnknownGroup(_) | ReassignError::UnknownWorker(_) => Self::BadRequest {
                code: "not_found",
                message,
            },
            ReassignError::NotInGroup { .. } | ReassignError::Count(_) => Self::BadRequest {
                code: "invalid",
                message,
            },
            ReassignError::Storage(e) => e.into(),
        }
    }
}

fn placement(a: Option<&Assignment>) -> Placement {
    a.map(|a| Placement {
        group_id: a.group_id.clone(),
        worker_id: a.worker_id.clone(),
    })
    .unwrap_or_default()
}

#[utoipa::path(
    post,
    path = "/v1/assignments",
    tag = "reconciliation",
    summary = "Moves households between workers (a supervisor, within their group) or groups (a coordinator), as a preview or all or nothing",
    security(("bearer" = [])),
    request_body = super::openapi::schemas::AssignRequest,
    responses((status = 200, description = "What moves (or moved): one entry per household asked for, in order", body = super::openapi::schemas::AssignResponse)),
)]
#[instrument(skip_all, err(Debug), fields(device = %principal.device.id, households = request.households.len(), dry_run = request.dry_run))]
pub async fn assign<S: Storage>(
    State(state): State<Arc<AppState<S>>>,
    Authenticated(principal): Authenticated,
    ApiJson(request): ApiJson<AssignRequest>,
) -> ApiResult<Json<AssignResponse>> {
    let storage = state.storage.clone();
    blocking(move || {
        let mover = Mover::Device(&principal);
        let target = Target {
            group: request.group,
            worker: request.worker,
        };
        let moves = reassign::plan(storage.as_ref(), mover, &request.households, &target)?;
        let moved = moves.iter().filter(|m| reassign::changes(m)).count();
        if !request.dry_run {
            reassign::apply(storage.as_ref(), mover, &moves, Utc::now())?;
        }
        Ok(Json(AssignResponse {
            applied: !request.dry_run,
            unchanged: moves.len() - moved,
            moved,
            moves: moves
                .iter()
                .map(|m| AssignMove {
                    household: m.household,
                    from: placement(m.from.as_ref()),
                    to: placement(Some(&m.to)),
                })
                .collect(),
        }))
    })
    .await
}
