//! `POST /v1/households/{id}/sync`: Automerge's own per-document sync, for a household whose
//! changes the change log cannot place (their dependencies are missing on one side). One round
//! per request; the server keeps the sync state between rounds.

use std::sync::Arc;
use std::time::{Duration, Instant};

use automerge::sync::{self, SyncDoc};
use axum::{
    extract::State,
    http::{HeaderValue, header},
    response::{IntoResponse, Response},
};
use madadkar_schema::wire::{DocSyncFrame, WireChange};
use tracing::instrument;
use uuid::Uuid;

use super::{
    AppState, blocking, case_scope,
    error::{ApiError, ApiResult},
    extract::{ApiPath, Authenticated, Body},
    push::accept_changes,
};
use crate::storage::{Principal, Scope, Storage};

/// How long an idle per-household sync session is kept.
const DOC_SYNC_TTL: Duration = Duration::from_secs(600);

#[utoipa::path(post, path = "/v1/households/{id}/sync", tag = "sync", summary = "One round of Automerge's per-document sync for a household the change log cannot place", security(("bearer" = [])), params(("id" = uuid::Uuid, Path, description = "The household")), request_body(description = "One round of Automerge's per-document sync, little-endian: `u32:len state, u32:len message`. `state` is the opaque marker the server last returned (empty to start); `message` an Automerge sync message (empty when the client has nothing to say).", content((inline(super::openapi::schemas::Binary) = "application/octet-stream"))), responses((status = 200, description = "The server's round, in the same format as the request: its marker and its sync message (empty when it has nothing to send)", content_type = "application/octet-stream", body = inline(super::openapi::schemas::Binary))))]
#[instrument(skip_all, err(Debug), fields(device = %principal.device.id, household = %household))]
pub async fn doc_sync<S: Storage>(
    State(state): State<Arc<AppState<S>>>,
    Authenticated(principal): Authenticated,
    ApiPath(household): ApiPath<Uuid>,
    Body(body): Body,
) -> ApiResult<Response> {
    let scope = case_scope(&principal)?;
    let frame = DocSyncFrame::decode(&body)?;
    let key = (principal.device.id, household);
    let sync_state = {
        let mut sessions = state
            .doc_sync
            .lock()
            .map_err(|_| ApiError::Internal("sync sessions poisoned".into()))?;
        sessions.retain(|_, (_, at)| at.elapsed() < DOC_SYNC_TTL);
        if frame.state.is_empty() {
            None
        } else {
            sessions.remove(&key).map(|(s, _)| s)
        }
    }
    .unwrap_or_default();
    let storage = state.storage.clone();
    let (reply, sync_state) = blocking(move || {
        sync_round(
            storage.as_ref(),
            &principal,
            &scope,
            household,
            frame,
            sync_state,
        )
    })
    .await?;
    if let Ok(mut sessions) = state.doc_sync.lock() {
        sessions.insert(key, (sync_state, Instant::now()));
    }
    Ok((
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/octet-stream"),
        )],
        reply.encode(),
    )
        .into_response())
}

/// One round: rebuilds the household from the stored changes, takes in the client's message
/// (storing what it brings, through the same checks as a push, the document it makes
/// included) and answers with ours.
fn sync_round<S: Storage>(
    storage: &S,
    principal: &Principal,
    scope: &Scope,
    household: Uuid,
    frame: DocSyncFrame,
    mut sync_state: sync::State,
) -> ApiResult<(DocSyncFrame, sync::State)> {
    let standing = storage.standings(&[household])?.remove(&household);
    if standing.as_ref().is_some_and(|s| !scope.sees(s)) {
        return Err(ApiError::Forbidden {
            code: "out_of_scope",
            message: format!("household {household} is outside your scope"),
        });
    }
    crate::audit::synced(storage, principal, household)?;
    let stored = storage
        .household_changes(household)?
        .iter()
        .filter_map(|b| madadkar_schema::change::parse_change(b).ok())
        .collect::<Vec<_>>();
    let mut doc = crate::facts::stored_document(household, stored);
    if !frame.message.is_empty() {
        let before = doc.get_heads();
        let bad_message =
            |e: &dyn std::fmt::Display| ApiError::malformed_change(format!("sync message: {e}"));
        let message = sync::Message::decode(&frame.message).map_err(|e| bad_message(&e))?;
        // Automerge would take the chunks in unbounded; each must pass a pushed change's bounds.
        super::validate::parse_chunks(household, message.changes.iter())?;
        // Automerge panics on some malformed input: a panic is a refusal, not a crash.
        madadkar_schema::document::untrusted("the sync message", || {
            doc.sync().receive_sync_message(&mut sync_state, message)
        })
        .map_err(|e| bad_message(&e))?
        .map_err(|e| bad_message(&e))?;
        let new: Vec<WireChange> = doc
            .get_changes(&before)
            .into_iter()
            .map(|c| WireChange {
                household,
                seq: 0,
                bytes: c.raw_bytes().to_vec(),
                signature: None,
            })
            .collect();
        if !new.is_empty() && doc.get_missing_deps(&[]).is_empty() {
            accept_changes(storage, principal, new)?;
        }
    }
    // Without the flags the client takes the server for a peer of the first message version
    // and never answers with a whole document, which `validate::parse_chunks` refuses.
    let reply = doc
        .sync()
        .generate_sync_message(&mut sync_state)
        .map(|mut m| {
            m.flags = None;
            m.encode()
        })
        .unwrap_or_default();
    Ok((
        DocSyncFrame {
            state: vec![1],
            message: reply,
        },
        sync_state,
    ))
}
