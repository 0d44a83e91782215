//! Outcome reports: the catalogue, the filter bar's choices, running a report and exporting it
//! as CSV or XLSX to the worker's documents folder.

use std::path::PathBuf;

use madadkar_client::report::{
    ReportFilterText, ReportInfo, ReportOptions, Table, catalogue, export,
};
use madadkar_client::store::today;
use serde::Deserialize;
use tauri::Manager;

use super::{AppState, ErrorCode, Result, UiError};

/// The export formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, ts_rs::TS)]
#[serde(rename_all = "snake_case")]
pub enum ExportFormat {
    Csv,
    Xlsx,
}

#[tauri::command]
pub async fn report_list() -> Result<Vec<ReportInfo>> {
    Ok(catalogue())
}

#[tauri::command]
pub async fn report_options(state: tauri::State<'_, AppState>) -> Result<ReportOptions> {
    state.with_store(|store| Ok(store.report_options()?)).await
}

#[tauri::command]
pub async fn run_report(
    state: tauri::State<'_, AppState>,
    code: String,
    filter: ReportFilterText,
) -> Result<Table> {
    state
        .with_store(move |store| {
            let filter = filter.to_filter()?;
            Ok(store.report(&code, &filter, today())?)
        })
        .await
}

/// Runs the report and writes it to the exports folder; answers the file's path. The folder is
/// `$MADADKAR_EXPORT_DIR` when set, else `Madadkar` in the user's documents folder. An export
/// leaves the encrypted store on purpose (to be opened in a spreadsheet): the screen says where.
#[tauri::command]
pub async fn export_report(
    app: tauri::AppHandle,
    state: tauri::State<'_, AppState>,
    code: String,
    filter: ReportFilterText,
    format: ExportFormat,
) -> Result<String> {
    let dir = match std::env::var_os("MADADKAR_EXPORT_DIR") {
        Some(dir) => PathBuf::from(dir),
        None => app
            .path()
            .document_dir()
            .map_err(|e| UiError::new(ErrorCode::Storage, format!("no documents folder: {e}")))?
            .join("Madadkar"),
    };
    state
        .with_store(move |store| {
            let filter = filter.to_filter()?;
            let table = store.report(&code, &filter, today())?;
            let (bytes, extension) = match format {
                ExportFormat::Csv => (export::to_csv(&table), "csv"),
                ExportFormat::Xlsx => (
                    export::to_xlsx(&table)
                        .map_err(|e| UiError::new(ErrorCode::Internal, e.to_string()))?,
                    "xlsx",
                ),
            };
            let storage = |e: std::io::Error| {
                UiError::new(ErrorCode::Storage, format!("{}: {e}", dir.display()))
            };
            std::fs::create_dir_all(&dir).map_err(storage)?;
            let path = dir.join(export::file_name(&table, extension, today()));
            std::fs::write(&path, bytes).map_err(storage)?;
            Ok(path.display().to_string())
        })
        .await
}
