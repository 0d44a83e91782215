//! Who this replica is: the first-run naming of worker and device, and enrolment with a server.

use madadkar_client::Identity;
use madadkar_schema::Role;
use serde::Serialize;

use super::{AppState, Result};

#[tauri::command]
pub async fn identity(state: tauri::State<'_, AppState>) -> Result<Option<Identity>> {
    state
        .with_store_unleased(|store| Ok(store.identity().cloned()))
        .await
}

#[tauri::command]
pub async fn init(
    state: tauri::State<'_, AppState>,
    worker: String,
    device: String,
) -> Result<Identity> {
    state
        .change(move |store| Ok(store.init(&worker, &device, None)?))
        .await
}

/// Enrols with a server (an HTTP request, on the blocking thread); returns the worker's name as
/// the server knows it.
#[tauri::command]
pub async fn enroll(
    state: tauri::State<'_, AppState>,
    server: String,
    code: String,
) -> Result<String> {
    state
        .change(move |store| Ok(store.enroll(&server, &code, None)?.worker_name))
        .await
}

/// The role and group the server gave this replica at enrolment: the window's navigation
/// follows it (a field worker's caseload; a supervisor's review, conflicts, caseloads and
/// duplicates; a coordinator's, across groups). The store and the server check again on every
/// action.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ts_rs::TS)]
pub struct Standing {
    pub role: Role,
    pub group: Option<String>,
}

#[tauri::command]
pub async fn standing(state: tauri::State<'_, AppState>) -> Result<Standing> {
    state
        .with_store_unleased(|store| {
            Ok(Standing {
                role: store.role()?,
                group: store.group()?,
            })
        })
        .await
}
