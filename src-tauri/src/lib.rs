//! Madadkar's desktop app: wires the Tauri window to the client library. Commands live in
//! `commands/` (one file per domain) and only translate; the background sync loop lives in
//! `background.rs` and pushes its state to the window as `sync-status` events.

pub mod background;
pub mod commands;

use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use madadkar_client::Store;
use tauri::{Emitter, Manager};

/// Where the replica lives: `$MADADKAR_DATA_DIR`, else the OS's data directory for the app.
fn data_dir(app: &tauri::App) -> PathBuf {
    std::env::var_os("MADADKAR_DATA_DIR")
        .map(PathBuf::from)
        .or_else(|| app.path().app_data_dir().ok())
        .unwrap_or_else(|| PathBuf::from("madadkar-data"))
}

/// Opens the replica, starts background sync and runs the window until it closes.
pub fn run() {
    tauri::Builder::default()
        .setup(|app| {
            let dir = data_dir(app);
            let store = Store::open(&dir)?;
            let sync = Arc::new(background::SyncHandle::default());
            let handle = app.handle().clone();
            background::spawn(
                dir,
                sync.clone(),
                Box::new(move |view| {
                    // A window that is gone cannot be told; the next state change tries again.
                    let _ = handle.emit(background::SYNC_EVENT, view);
                }),
            );
            app.manage(commands::AppState {
                store: Arc::new(Mutex::new(store)),
                sync,
            });
            Ok(())
        })
        .invoke_handler(tauri::generate_handler![
            commands::identity::identity,
            commands::identity::init,
            commands::identity::enroll,
            commands::households::list_households,
            commands::households::search_households,
            commands::households::household,
            commands::households::history,
            commands::access::may_read_access_history,
            commands::access::household_access,
            commands::households::add_household,
            commands::members::add_member,
            commands::members::edit_member,
            commands::referrals::add_referral,
            commands::visits::add_visit,
            commands::visits::followups,
            commands::sync::sync_status,
            commands::sync::sync_now,
            commands::sync::quarantined,
        ])
        .run(tauri::generate_context!())
        .unwrap_or_else(|e| {
            eprintln!("madadkar-desktop: {e}");
            std::process::exit(1);
        });
}
