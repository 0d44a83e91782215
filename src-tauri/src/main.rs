//! Madadkar's desktop app: wires the Tauri window to the client library. Commands live in
//! `commands.rs` and only translate; the background sync loop lives in `background.rs`.

#![cfg_attr(not(debug_assertions), windows_subsystem = "windows")]

mod background;
mod commands;

use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use madadkar_client::Store;
use tauri::Manager;

/// Where the replica lives: `$MADADKAR_DATA_DIR`, else the OS's data directory for the app.
fn data_dir(app: &tauri::App) -> PathBuf {
    std::env::var_os("MADADKAR_DATA_DIR")
        .map(PathBuf::from)
        .or_else(|| app.path().app_data_dir().ok())
        .unwrap_or_else(|| PathBuf::from("madadkar-data"))
}

fn main() {
    tauri::Builder::default()
        .setup(|app| {
            let dir = data_dir(app);
            let store = Store::open(&dir)?;
            let sync = Arc::new(background::SyncHandle::default());
            background::spawn(dir, sync.clone());
            app.manage(commands::AppState {
                store: Mutex::new(store),
                sync,
            });
            Ok(())
        })
        .invoke_handler(tauri::generate_handler![
            commands::identity,
            commands::init,
            commands::enroll,
            commands::list_households,
            commands::search_households,
            commands::household,
            commands::history,
            commands::add_household,
            commands::add_member,
            commands::edit_member,
            commands::add_referral,
            commands::add_visit,
            commands::followups,
            commands::sync_status,
            commands::sync_now,
        ])
        .run(tauri::generate_context!())
        .unwrap_or_else(|e| {
            eprintln!("madadkar-desktop: {e}");
            std::process::exit(1);
        });
}
