//! The HTTP API under `/v1`: thin handlers over [`Storage`], shared state, and one error type
//! that becomes a status code plus a JSON body with a stable code.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use automerge::{
    AutoCommit, Change,
    sync::{self, SyncDoc},
};
use axum::{
    Json, Router,
    body::Bytes,
    extract::{DefaultBodyLimit, Path, Query, State},
    http::{HeaderMap, HeaderValue, StatusCode, header},
    response::{IntoResponse, Response},
    routing::{get, post},
};
use chrono::Utc;
use madadkar_schema::{
    ChangeMeta, Role,
    wire::{self, Ack, DocSyncFrame, EnrollRequest, EnrollResponse, ErrorBody, PushResponse},
};
use serde::Deserialize;
use tower_http::compression::CompressionLayer;
use tracing::{info, instrument, warn};
use uuid::Uuid;

use crate::auth;
use crate::storage::{
    Assignment, Hash, IncomingChange, NewDevice, Principal, PullLimits, Scope, Storage,
    StorageError,
};

/// How long an idle per-household sync session is kept.
const DOC_SYNC_TTL: Duration = Duration::from_secs(600);

#[derive(Debug, Clone, Copy)]
pub struct Limits {
    pub pull_entries: usize,
    pub pull_bytes: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            pull_entries: 5_000,
            pull_bytes: 4 * 1024 * 1024,
        }
    }
}

pub struct AppState<S> {
    pub storage: Arc<S>,
    pub limits: Limits,
    /// Automerge sync states of the per-household fallback, by (device, household).
    doc_sync: Mutex<HashMap<(Uuid, Uuid), (sync::State, Instant)>>,
}

impl<S> AppState<S> {
    pub fn new(storage: Arc<S>, limits: Limits) -> Self {
        Self {
            storage,
            limits,
            doc_sync: Mutex::new(HashMap::new()),
        }
    }
}

/// An error answer. `Internal` details are logged, never sent.
#[derive(Debug)]
pub enum ApiError {
    Unauthorized(&'static str),
    Revoked,
    Forbidden { code: &'static str, message: String },
    BadRequest { code: &'static str, message: String },
    MissingDependencies(Vec<Uuid>),
    Internal(String),
}

impl From<StorageError> for ApiError {
    fn from(e: StorageError) -> Self {
        match e {
            StorageError::BadCode => Self::BadRequest {
                code: "invalid_code",
                message: e.to_string(),
            },
            StorageError::Conflict(m) => Self::BadRequest {
                code: "conflict",
                message: m,
            },
            StorageError::NotFound { .. } => Self::BadRequest {
                code: "not_found",
                message: e.to_string(),
            },
            StorageError::Backend(m) => Self::Internal(m),
        }
    }
}

impl From<wire::WireError> for ApiError {
    fn from(e: wire::WireError) -> Self {
        Self::BadRequest {
            code: "malformed_body",
            message: e.to_string(),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let (status, body) = match self {
            Self::Unauthorized(message) => (
                StatusCode::UNAUTHORIZED,
                ErrorBody { code: "unauthorized".into(), message: message.into(), retry: false, households: vec![] },
            ),
            Self::Revoked => (
                StatusCode::FORBIDDEN,
                ErrorBody {
                    code: "device_revoked".into(),
                    message: "this device has been revoked; ask your administrator".into(),
                    retry: false,
                    households: vec![],
                },
            ),
            Self::Forbidden { code, message } => {
                (StatusCode::FORBIDDEN, ErrorBody { code: code.into(), message, retry: false, households: vec![] })
            }
            Self::BadRequest { code, message } => {
                (StatusCode::BAD_REQUEST, ErrorBody { code: code.into(), message, retry: false, households: vec![] })
            }
            Self::MissingDependencies(households) => (
                StatusCode::CONFLICT,
                ErrorBody {
                    code: "missing_dependencies".into(),
                    message: "some changes build on changes the server does not have; sync those households whole".into(),
                    retry: true,
                    households,
                },
            ),
            Self::Internal(detail) => {
                warn!(%detail, "internal error");
                (
                    StatusCode::INTERNAL_SERVER_ERROR,
                    ErrorBody { code: "internal".into(), message: "the server failed; try again later".into(), retry: true, households: vec![] },
                )
            }
        };
        (status, Json(body)).into_response()
    }
}

type ApiResult<T> = Result<T, ApiError>;

/// Runs blocking storage work off the async executor.
async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> ApiResult<T> + Send + 'static,
) -> ApiResult<T> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|e| ApiError::Internal(e.to_string()))?
}

pub fn router<S: Storage>(state: Arc<AppState<S>>) -> Router {
    Router::new()
        .route("/v1/health", get(health))
        .route("/v1/enroll", post(enroll::<S>))
        .route("/v1/whoami", get(whoami::<S>))
        .route("/v1/push", post(push::<S>))
        .route("/v1/pull", get(pull::<S>))
        .route("/v1/households/{id}/sync", post(doc_sync::<S>))
        .layer(DefaultBodyLimit::max(wire::MAX_BODY_BYTES))
        .layer(CompressionLayer::new())
        .with_state(state)
}

async fn health() -> Json<serde_json::Value> {
    Json(serde_json::json!({ "status": "ok", "version": env!("CARGO_PKG_VERSION") }))
}

/// The calling device, from its bearer token; revoked devices are refused here, on every call.
async fn authenticate<S: Storage>(
    state: &AppState<S>,
    headers: &HeaderMap,
) -> ApiResult<Principal> {
    let token = headers
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
    Ok(principal)
}

fn case_scope(principal: &Principal) -> ApiResult<Scope> {
    match Scope::of(&principal.worker) {
        Scope::Nothing => Err(ApiError::Forbidden {
            code: "no_case_access",
            message: format!("role {} has no access to households", principal.worker.role),
        }),
        scope => Ok(scope),
    }
}

#[instrument(skip_all, err(Debug))]
async fn enroll<S: Storage>(
    State(state): State<Arc<AppState<S>>>,
    Json(req): Json<EnrollRequest>,
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
    let token = auth::new_token().map_err(|e| ApiError::Internal(e.to_string()))?;
    let device = NewDevice {
        id: req.device_id,
        name: device_name,
        token_hash: auth::hash(&token),
        local_worker_id: req.local_worker_id.filter(|w| w.len() <= limit),
    };
    let code_hash = auth::hash(&auth::normalize_code(&req.code));
    let storage = state.storage.clone();
    let worker = blocking(move || Ok(storage.enroll(code_hash, device, Utc::now())?)).await?;
    info!(device = %req.device_id, worker = %worker.id, "device enrolled");
    Ok(Json(EnrollResponse {
        token,
        worker_id: worker.id,
        worker_name: worker.name,
        group_id: worker.group_id,
        role: worker.role,
    }))
}

async fn whoami<S: Storage>(
    State(state): State<Arc<AppState<S>>>,
    headers: HeaderMap,
) -> ApiResult<Json<serde_json::Value>> {
    let p = authenticate(&state, &headers).await?;
    Ok(Json(
        serde_json::json!({ "worker": p.worker, "device_id": p.device.id }),
    ))
}

/// A change parsed and checked against its claimed household and author.
struct Checked {
    change: IncomingChange,
    deps: Vec<Hash>,
}

fn bad_change(message: String) -> ApiError {
    ApiError::BadRequest {
        code: "malformed_change",
        message,
    }
}

/// Parses each change and binds it to an enrolled device: one's own changes must name one's
/// own worker; changes relayed from a colleague's device (a USB bundle) must come from a device
/// of one's own group.
fn check_changes<S: Storage>(
    storage: &S,
    principal: &Principal,
    changes: Vec<wire::WireChange>,
) -> ApiResult<Vec<Checked>> {
    let mut authors: HashMap<Uuid, Option<Principal>> = HashMap::new();
    let mut out = Vec::with_capacity(changes.len());
    for (i, wc) in changes.into_iter().enumerate() {
        let change = Change::try_from(wc.bytes.as_slice()).map_err(|e| {
            bad_change(format!(
                "change {} of household {} does not parse: {e}",
                i + 1,
                wc.household
            ))
        })?;
        let actor = Uuid::from_slice(change.actor_id().to_bytes()).map_err(|_| {
            bad_change(format!(
                "change {} has an actor that is not a device id",
                i + 1
            ))
        })?;
        let author = match authors.get(&actor) {
            Some(a) => a.clone(),
            None => {
                let a = if actor == principal.device.id {
                    Some(principal.clone())
                } else {
                    storage.principal_by_device(actor)?
                };
                authors.insert(actor, a.clone());
                a
            }
        };
        let forbid = |message: String| ApiError::Forbidden {
            code: "author_mismatch",
            message,
        };
        let Some(author) = author else {
            return Err(forbid(format!(
                "change {} was made on a device the server does not know",
                i + 1
            )));
        };
        if author.device.id != principal.device.id {
            let same_group = author.worker.group_id.is_some()
                && author.worker.group_id == principal.worker.group_id;
            if !(same_group || principal.worker.role == Role::Coordinator) {
                return Err(forbid(format!(
                    "change {} was made by a device outside your group",
                    i + 1
                )));
            }
        }
        let meta: Option<ChangeMeta> = change.message().and_then(|m| serde_json::from_str(m).ok());
        let worker_ok = meta.as_ref().is_some_and(|m| {
            m.worker_id == author.worker.id
                || Some(&m.worker_id) == author.device.local_worker_id.as_ref()
        });
        if !worker_ok {
            return Err(forbid(format!(
                "change {} names a worker other than its device's",
                i + 1
            )));
        }
        out.push(Checked {
            deps: change.deps().iter().map(|d| d.0).collect(),
            change: IncomingChange {
                household: wc.household,
                hash: change.hash().0,
                bytes: wc.bytes,
                device_id: actor,
            },
        });
    }
    Ok(out)
}

/// Checks scope, authorship and dependencies of a set of changes and stores them, all or
/// nothing. Returns the sequence numbers.
fn accept_changes<S: Storage>(
    storage: &S,
    principal: &Principal,
    changes: Vec<wire::WireChange>,
) -> ApiResult<(Vec<Checked>, Vec<u64>)> {
    let scope = case_scope(principal)?;
    let households: Vec<Uuid> = changes
        .iter()
        .map(|c| c.household)
        .collect::<HashSet<_>>()
        .into_iter()
        .collect();
    let assignments = storage.assignments(&households)?;
    let mut new_households = Vec::new();
    for h in &households {
        match assignments.get(h) {
            Some(a) if scope.contains(a) => {}
            Some(_) => {
                return Err(ApiError::Forbidden {
                    code: "out_of_scope",
                    message: format!("household {h} is outside your scope"),
                });
            }
            None => new_households.push((
                *h,
                Assignment {
                    group_id: principal.worker.group_id.clone(),
                    worker_id: (principal.worker.role == Role::Field)
                        .then(|| principal.worker.id.clone()),
                },
            )),
        }
    }
    let checked = check_changes(storage, principal, changes)?;
    let mut missing = Vec::new();
    for h in &households {
        let in_push: HashSet<Hash> = checked
            .iter()
            .filter(|c| c.change.household == *h)
            .map(|c| c.change.hash)
            .collect();
        let needed: Vec<Hash> = checked
            .iter()
            .filter(|c| c.change.household == *h)
            .flat_map(|c| c.deps.iter().copied())
            .filter(|d| !in_push.contains(d))
            .collect::<HashSet<_>>()
            .into_iter()
            .collect();
        if !needed.is_empty() && storage.known_hashes(*h, &needed)?.len() < needed.len() {
            missing.push(*h);
        }
    }
    if !missing.is_empty() {
        return Err(ApiError::MissingDependencies(missing));
    }
    let incoming: Vec<IncomingChange> = checked.iter().map(|c| c.change.clone()).collect();
    let seqs = storage.store_changes(&incoming, &new_households)?;
    Ok((checked, seqs))
}

#[instrument(skip_all, err(Debug), fields(device, changes))]
async fn push<S: Storage>(
    State(state): State<Arc<AppState<S>>>,
    headers: HeaderMap,
    body: Bytes,
) -> ApiResult<Json<PushResponse>> {
    let principal = authenticate(&state, &headers).await?;
    let changes = wire::decode_push(&body)?;
    tracing::Span::current()
        .record("device", principal.device.id.to_string())
        .record("changes", changes.len());
    let storage = state.storage.clone();
    let (checked, seqs) =
        blocking(move || accept_changes(storage.as_ref(), &principal, changes)).await?;
    let accepted = checked
        .iter()
        .zip(seqs)
        .map(|(c, seq)| Ack {
            hash: automerge::ChangeHash(c.change.hash).to_string(),
            seq,
        })
        .collect();
    Ok(Json(PushResponse { accepted }))
}

#[derive(Debug, Deserialize)]
struct PullQuery {
    #[serde(default)]
    after: u64,
    limit: Option<usize>,
}

#[instrument(skip_all, err(Debug), fields(device, after = q.after))]
async fn pull<S: Storage>(
    State(state): State<Arc<AppState<S>>>,
    headers: HeaderMap,
    Query(q): Query<PullQuery>,
) -> ApiResult<Response> {
    let principal = authenticate(&state, &headers).await?;
    tracing::Span::current().record("device", principal.device.id.to_string());
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
    Ok((
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static(wire::CHANGES_CONTENT_TYPE),
        )],
        batch.encode(),
    )
        .into_response())
}

/// Automerge's own per-document sync, for a household whose changes the change log cannot
/// place (their dependencies are missing on one side). One round per request; the server keeps
/// the sync state between rounds.
#[instrument(skip_all, err(Debug), fields(device, household = %household))]
async fn doc_sync<S: Storage>(
    State(state): State<Arc<AppState<S>>>,
    headers: HeaderMap,
    Path(household): Path<Uuid>,
    body: Bytes,
) -> ApiResult<Response> {
    let principal = authenticate(&state, &headers).await?;
    let scope = case_scope(&principal)?;
    let frame = DocSyncFrame::decode(&body)?;
    let key = (principal.device.id, household);
    let mut sync_state = {
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
        let assignment = storage.assignments(&[household])?.remove(&household);
        if assignment.as_ref().is_some_and(|a| !scope.contains(a)) {
            return Err(ApiError::Forbidden {
                code: "out_of_scope",
                message: format!("household {household} is outside your scope"),
            });
        }
        let mut doc = AutoCommit::new();
        let stored = storage
            .household_changes(household)?
            .iter()
            .map(|b| Change::try_from(b.as_slice()))
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| ApiError::Internal(e.to_string()))?;
        doc.apply_changes(stored)
            .map_err(|e| ApiError::Internal(e.to_string()))?;
        if !frame.message.is_empty() {
            let before = doc.get_heads();
            let message = sync::Message::decode(&frame.message)
                .map_err(|e| bad_change(format!("sync message: {e}")))?;
            doc.sync()
                .receive_sync_message(&mut sync_state, message)
                .map_err(|e| bad_change(format!("sync message: {e}")))?;
            let new: Vec<wire::WireChange> = doc
                .get_changes(&before)
                .into_iter()
                .map(|c| wire::WireChange {
                    household,
                    seq: 0,
                    bytes: c.raw_bytes().to_vec(),
                })
                .collect();
            if !new.is_empty() && doc.get_missing_deps(&[]).is_empty() {
                accept_changes(storage.as_ref(), &principal, new)?;
            }
        }
        let reply = doc
            .sync()
            .generate_sync_message(&mut sync_state)
            .map(|m| m.encode())
            .unwrap_or_default();
        Ok((
            DocSyncFrame {
                state: vec![1],
                message: reply,
            },
            sync_state,
        ))
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
