//! The launch's timing marks (see `launch.rs`): the window reports what it painted, and the
//! end-to-end test and the launch bench read the marks and the document-load count back.

use std::time::Instant;

use super::{AppState, Result};
use crate::launch::{LaunchMarks, UiMark};

/// The window reached `what`: its script began, or it painted a screen (reported from a frame
/// after the render, so it is a paint).
#[tauri::command]
pub async fn ui_mark(state: tauri::State<'_, AppState>, what: UiMark) -> Result<()> {
    state.launch.ui(what, Instant::now());
    Ok(())
}

/// The launch's marks so far and the count of document-loading commands.
#[tauri::command]
pub async fn launch_marks(state: tauri::State<'_, AppState>) -> Result<LaunchMarks> {
    Ok(state.launch.marks())
}
