//! Madadkar's sync server as a library: the HTTP API ([`api::router`]), the storage behind it
//! ([`storage::Storage`], with the SQLite backend in [`storage::sqlite`]), settings and the
//! administration commands. The `madadkar-server` binary parses arguments and calls in here;
//! tests drive the router in process.

pub mod admin;
pub mod api;
pub mod auth;
pub mod bootstrap;
pub mod commit;
pub mod config;
pub mod database;
pub mod documents;
pub mod pull;
pub mod reassign;
pub mod serve;

pub use madadkar_server_storage::{audit, facts, partners};

/// The storage contract and its backends, under one path: the trait and its records from
/// `madadkar-server-storage`, each backend in its own crate.
pub mod storage {
    pub use madadkar_server_postgres as postgres;
    pub use madadkar_server_sqlite as sqlite;
    pub use madadkar_server_storage::*;
}

use std::sync::Arc;

pub use api::{AppState, Guards, Limits, router};

/// Serves the API on `listener` with the default guards until `shutdown` completes, finishing
/// requests under way.
pub async fn serve<S: storage::Storage>(
    listener: tokio::net::TcpListener,
    storage: Arc<S>,
    limits: Limits,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    serve_with(listener, storage, limits, Guards::default(), shutdown).await
}

/// Serves the API on `listener` with `guards` (rate limits, quotas, timeouts) until
/// `shutdown` completes, finishing requests under way.
pub async fn serve_with<S: storage::Storage>(
    listener: tokio::net::TcpListener,
    storage: Arc<S>,
    limits: Limits,
    guards: Guards,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let timeouts = guards.timeouts;
    let state = Arc::new(AppState::with_guards(storage, limits, guards));
    serve::serve_router(listener, router(state), timeouts, shutdown).await
}
