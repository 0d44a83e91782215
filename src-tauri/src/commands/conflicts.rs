//! The conflicts inbox: every field holding concurrent values in scope, and resolving one by
//! choosing a value or typing a new one (validated like any edit).

use madadkar_client::reconcile::inbox::{ConflictFilter, InboxEntry};
use madadkar_schema::{Field, FieldPath};
use serde::Deserialize;
use uuid::Uuid;

use super::{AppState, Result};

/// The inbox's filter bar.
#[derive(Debug, Clone, Default, Deserialize, ts_rs::TS)]
#[ts(optional_fields)]
#[serde(default)]
pub struct InboxFilter {
    pub group: Option<String>,
    /// A worker's id: conflicts where they wrote a value, or in households assigned to them.
    pub worker: Option<String>,
    pub field: Option<Field>,
}

#[tauri::command]
pub async fn conflict_inbox(
    state: tauri::State<'_, AppState>,
    filter: InboxFilter,
) -> Result<Vec<InboxEntry>> {
    let filter = ConflictFilter {
        group: filter.group.filter(|g| !g.trim().is_empty()),
        worker: filter.worker.filter(|w| !w.trim().is_empty()),
        field: filter.field,
    };
    state
        .with_store(move |store| Ok(store.conflict_inbox(&filter)?))
        .await
}

/// Settles the field at `path` of `household` to `value` (one of the values in conflict, or a
/// new one); a value refused by validation comes back at its field.
#[tauri::command]
pub async fn resolve_conflict(
    state: tauri::State<'_, AppState>,
    household: Uuid,
    path: FieldPath,
    value: String,
) -> Result<()> {
    state
        .change(move |store| Ok(store.resolve_conflict(household, &path, &value)?))
        .await
}
