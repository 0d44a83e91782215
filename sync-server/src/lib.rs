//! Madadkar's sync server as a library: the HTTP API ([`api::router`]), the storage behind it
//! ([`storage::Storage`], with the SQLite backend in [`storage::sqlite`]), settings and the
//! administration commands. The `madadkar-server` binary parses arguments and calls in here;
//! tests drive the router in process.

pub mod admin;
pub mod api;
pub mod audit;
pub mod auth;
pub mod config;
pub mod storage;

use std::sync::Arc;

pub use api::{AppState, Limits, router};

/// Serves the API on `listener` until `shutdown` completes, finishing requests under way.
pub async fn serve<S: storage::Storage>(
    listener: tokio::net::TcpListener,
    storage: Arc<S>,
    limits: Limits,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let state = Arc::new(AppState::new(storage, limits));
    axum::serve(listener, router(state))
        .with_graceful_shutdown(shutdown)
        .await
}
