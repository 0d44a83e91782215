//! Each worker's caseload, for the supervisor (and the coordinator, across groups), and
//! reassigning households between workers and groups through the server.

use madadkar_client::reconcile::caseloads::Caseload;
use madadkar_client::remote::Target;
use madadkar_client::store::today;
use madadkar_schema::wire;
use serde::Serialize;
use uuid::Uuid;

use super::{AppState, ErrorCode, Result, UiError};

/// Every worker's caseload in scope; visits this month and overdue follow-ups are counted by
/// the device's local date.
#[tauri::command]
pub async fn caseloads(state: tauri::State<'_, AppState>) -> Result<Vec<Caseload>> {
    state
        .with_store(|store| Ok(store.caseloads(today())?))
        .await
}

/// Where a household stands: its group and, when it is one worker's, that worker.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ts_rs::TS)]
pub struct Placement {
    pub group_id: Option<String>,
    pub worker_id: Option<String>,
}

/// One household of a reassignment: where it is and where it goes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ts_rs::TS)]
pub struct Move {
    pub household: Uuid,
    pub from: Placement,
    pub to: Placement,
}

/// The server's answer to a reassignment: the preview (`applied` false, nothing changed) or
/// what it did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ts_rs::TS)]
pub struct Reassignment {
    pub applied: bool,
    pub moves: Vec<Move>,
    /// Households whose placement changes (changed, when applied).
    pub moved: u32,
    /// Households already where they were asked to go.
    pub unchanged: u32,
}

impl From<wire::Placement> for Placement {
    fn from(p: wire::Placement) -> Self {
        Self {
            group_id: p.group_id,
            worker_id: p.worker_id,
        }
    }
}

impl From<wire::AssignResponse> for Reassignment {
    fn from(a: wire::AssignResponse) -> Self {
        Self {
            applied: a.applied,
            moves: a
                .moves
                .into_iter()
                .map(|m| Move {
                    household: m.household,
                    from: m.from.into(),
                    to: m.to.into(),
                })
                .collect(),
            moved: u32::try_from(a.moved).unwrap_or(u32::MAX),
            unchanged: u32::try_from(a.unchanged).unwrap_or(u32::MAX),
        }
    }
}

/// Moves `households` to `group` (none: the group each is in) and `worker` (none: the group as
/// a whole) through the server, which checks the caller's role and scope, logs the move and
/// sends each household's whole history to its new scope. With `dry_run` only says what would
/// move. The request is read from the store, then sent without holding the store's lock (the
/// network may be slow); an applied move is then written into the households held here, so the
/// lists agree with the server before the next pull.
#[tauri::command]
pub async fn assign_households(
    state: tauri::State<'_, AppState>,
    households: Vec<Uuid>,
    group: Option<String>,
    worker: Option<String>,
    dry_run: bool,
) -> Result<Reassignment> {
    let target = Target {
        group: group.filter(|g| !g.trim().is_empty()),
        worker: worker.filter(|w| !w.trim().is_empty()),
    };
    let request = state
        .with_store(move |store| Ok(store.assign_request(&households, &target, dry_run)?))
        .await?;
    let answer = tauri::async_runtime::spawn_blocking(move || request.run())
        .await
        .map_err(|e| UiError::new(ErrorCode::Internal, format!("the request failed: {e}")))??;
    if answer.applied {
        let written = answer.clone();
        state
            .change(move |store| Ok(store.record_assignment(&written)?))
            .await?;
    }
    Ok(answer.into())
}
