//! The HTTP API under `/v1`: the router, the state shared by the handlers, and the helpers they
//! share. Each endpoint lives in a module of its own; see `docs/sync-protocol.md`.

mod access;
mod assign;
mod bootstrap;
mod deadline;
mod directory;
mod doc_sync;
mod enroll;
pub mod error;
pub mod extract;
mod lookup;
pub mod openapi;
mod pull;
mod push;
mod quota;
pub mod ratelimit;
mod validate;

use std::sync::Arc;

use axum::{
    Json, Router,
    extract::DefaultBodyLimit,
    http::HeaderValue,
    middleware,
    response::Response,
    routing::{get, post},
};
use madadkar_schema::wire;
use tower_http::compression::CompressionLayer;

pub use error::{ApiError, ApiResult};

use crate::commit::Committer;
use crate::documents::DocumentCache;
use crate::serve::Timeouts;
use crate::storage::{LookupLimit, Principal, PushQuota, Scope, Storage};
use ratelimit::{EnrollLimiter, EnrollLimits};

/// Limits on what one pull sends, from the settings.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    pub pull_entries: usize,
    /// Bytes of changes (or, in a first sync, of documents) after which a batch is cut.
    pub pull_bytes: usize,
    /// Households per first-sync batch (`GET /v1/bootstrap`).
    pub bootstrap_households: usize,
    /// Estimated bytes of households' documents kept in memory between pushes
    /// ([`crate::documents`]); 0 keeps none.
    pub document_cache_bytes: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            pull_entries: 5_000,
            pull_bytes: 4 * 1024 * 1024,
            bootstrap_households: 2_000,
            document_cache_bytes: crate::documents::DEFAULT_BUDGET_BYTES,
        }
    }
}

/// The server's defences against abuse and slow clients, from the settings: enrolment rate
/// limits, per-device push quotas, the per-device lookup limit and timeouts.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Guards {
    pub enroll: EnrollLimits,
    pub push_quota: PushQuota,
    pub timeouts: Timeouts,
    pub lease: Lease,
    pub lookup: LookupLimit,
}

/// How long a device may go without syncing before its app locks itself (the lease each pull
/// answer grants, in `madadkar-lease-until`). Set by the administrator (`lease_days`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Lease {
    pub days: u32,
}

impl Default for Lease {
    fn default() -> Self {
        Self { days: 30 }
    }
}

/// What every handler shares: the storage, the limits, the committer that stores pushes and
/// the documents kept between pushes. Nothing in it is state another server instance on the
/// same database would need: the enrolment limits count in the database, the per-household
/// sync keeps its session in the marker its client sends back (`doc_sync`), and each kept
/// document is brought up to date from the database whenever it is used.
#[derive(Debug)]
pub struct AppState<S> {
    pub storage: Arc<S>,
    pub limits: Limits,
    pub push_quota: PushQuota,
    pub timeouts: Timeouts,
    pub lease: Lease,
    pub lookup: LookupLimit,
    enroll_limiter: EnrollLimiter,
    /// Stores checked pushes, grouping those that arrive together into one transaction.
    pub committer: Committer,
    /// Households' stored documents kept between pushes.
    pub documents: DocumentCache,
}

impl<S: Storage> AppState<S> {
    /// The state with the default guards.
    pub fn new(storage: Arc<S>, limits: Limits) -> Self {
        Self::with_guards(storage, limits, Guards::default())
    }

    /// The state with `guards`; starts the committer's writer thread.
    pub fn with_guards(storage: Arc<S>, limits: Limits, guards: Guards) -> Self {
        Self {
            committer: Committer::start(storage.clone()),
            documents: DocumentCache::new(limits.document_cache_bytes),
            storage,
            limits,
            push_quota: guards.push_quota,
            timeouts: guards.timeouts,
            lease: guards.lease,
            lookup: guards.lookup,
            enroll_limiter: EnrollLimiter::new(guards.enroll),
        }
    }
}

/// The whole API, ready to serve or to call in process. Requests should carry the peer's
/// address as `ConnectInfo<SocketAddr>` (as [`crate::serve::serve_router`] gives it) for the
/// enrolment rate limits; without it they all count as one unknown source.
pub fn router<S: Storage>(state: Arc<AppState<S>>) -> Router {
    let quota = || middleware::from_fn_with_state(state.clone(), quota::push_quota::<S>);
    Router::new()
        .route("/v1/health", get(health))
        .route("/v1/openapi.json", get(openapi::openapi_json))
        .route("/v1/enroll", post(enroll::enroll::<S>))
        .route("/v1/whoami", get(enroll::whoami))
        .route("/v1/directory", get(directory::directory::<S>))
        .route("/v1/scope", get(directory::scope::<S>))
        .route("/v1/push", post(push::push::<S>).route_layer(quota()))
        .route("/v1/pull", get(pull::pull::<S>))
        .route("/v1/bootstrap", get(bootstrap::bootstrap::<S>))
        .route(
            "/v1/households/{id}/sync",
            post(doc_sync::doc_sync::<S>).route_layer(quota()),
        )
        .route("/v1/households/{id}/access", get(access::access::<S>))
        .route("/v1/assignments", post(assign::assign::<S>))
        .route("/v1/lookup", post(lookup::lookup::<S>))
        .fallback(error::unknown_endpoint)
        .method_not_allowed_fallback(error::method_not_allowed)
        .layer(DefaultBodyLimit::max(wire::MAX_BODY_BYTES))
        .layer(middleware::from_fn_with_state(
            state.clone(),
            deadline::deadlines::<S>,
        ))
        .layer(middleware::map_response(protocol_header))
        .layer(CompressionLayer::new())
        .with_state(state)
}

/// Every answer, errors included, names the protocol version the server speaks, so a client
/// of another version can say so instead of failing on bodies it cannot read.
async fn protocol_header(mut response: Response) -> Response {
    response.headers_mut().insert(
        wire::PROTOCOL_HEADER,
        HeaderValue::from(wire::PROTOCOL_VERSION),
    );
    response
}

/// Whether the server is up, and the versions it runs.
#[utoipa::path(
    get,
    path = "/v1/health",
    tag = "server",
    responses((status = 200, description = "The server is up", body = openapi::schemas::Health)),
)]
async fn health() -> Json<serde_json::Value> {
    Json(serde_json::json!({
        "status": "ok",
        "version": env!("CARGO_PKG_VERSION"),
        "protocol": wire::PROTOCOL_VERSION,
    }))
}

/// Runs blocking storage work off the async executor.
async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> ApiResult<T> + Send + 'static,
) -> ApiResult<T> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|e| ApiError::Internal(e.to_string()))?
}

/// The households the caller may read and write; administrators have none.
fn case_scope(principal: &Principal) -> ApiResult<Scope> {
    match Scope::of(&principal.worker) {
        Scope::Nothing => Err(ApiError::Forbidden {
            code: "no_case_access",
            message: format!("role {} has no access to households", principal.worker.role),
        }),
        scope => Ok(scope),
    }
}
