//! Madadkar's desktop app: wires the Tauri window to the client library. Commands live in
//! `commands/` (one file per domain) and only translate; the background sync loop lives in
//! `background.rs` and pushes its state to the window as `sync-status` events.

pub mod background;
pub mod commands;
pub mod launch;
pub mod lock;

use std::path::PathBuf;
use std::sync::Arc;

use tauri::{Emitter, Manager};

/// Where the replica lives: `$MADADKAR_DATA_DIR`, else the OS's data directory for the app.
fn data_dir(app: &tauri::App) -> PathBuf {
    std::env::var_os("MADADKAR_DATA_DIR")
        .map(PathBuf::from)
        .or_else(|| app.path().app_data_dir().ok())
        .unwrap_or_else(|| PathBuf::from("madadkar-data"))
}

/// Tells the window of each new sync state.
pub fn notifier(app: tauri::AppHandle) -> background::Notify {
    Box::new(move |view| {
        // A window that is gone cannot be told; the next state change tries again.
        let _ = app.emit(background::SYNC_EVENT, view);
    })
}

/// Starts background sync and runs the window until it closes. The replica stays closed until
/// the worker unlocks it on the lock screen (`commands::lock`).
pub fn run() {
    tauri::Builder::default()
        .setup(|app| {
            let setup = std::time::Instant::now();
            let dir = data_dir(app);
            let sync = Arc::new(background::SyncHandle::default());
            let notify = notifier(app.handle().clone());
            sync.publish_locked(&notify);
            background::spawn(sync.clone(), notify);
            let state = commands::AppState::locked(dir, sync);
            state.launch.set_up(setup);
            app.manage(state);
            Ok(())
        })
        .invoke_handler(tauri::generate_handler![
            commands::lock::lock_state,
            commands::lock::unlock,
            commands::lock::choose_passphrase,
            commands::lock::lock,
            commands::launch::ui_mark,
            commands::launch::launch_marks,
            commands::drafts::draft_load,
            commands::drafts::draft_save,
            commands::drafts::draft_clear,
            commands::identity::identity,
            commands::identity::init,
            commands::identity::enroll,
            commands::households::list_households,
            commands::households::count_households,
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
            commands::identity::standing,
            commands::review::nav_counts,
            commands::review::review_queue,
            commands::review::approve_visit,
            commands::review::return_visit,
            commands::review::resubmit_visit,
            commands::review::edit_visit,
            commands::review::returned_visits,
            commands::conflicts::conflict_inbox,
            commands::conflicts::resolve_conflict,
            commands::caseloads::caseloads,
            commands::reports::report_list,
            commands::reports::report_options,
            commands::reports::run_report,
            commands::reports::export_report,
            commands::caseloads::assign_households,
            commands::duplicates::duplicate_pairs,
            commands::duplicates::compare_households,
            commands::duplicates::registration_matches,
            commands::duplicates::member_matches,
            commands::duplicates::merge_households,
            commands::duplicates::unmerge_households,
            commands::duplicates::mark_not_duplicate,
            commands::duplicates::lookup_national_id,
            commands::outcomes::plan,
            commands::outcomes::add_goal,
            commands::outcomes::add_step,
            commands::outcomes::update_step,
            commands::outcomes::set_graduation_criteria,
            commands::outcomes::graduate,
            commands::outcomes::reenter,
            commands::outcomes::need_history,
            commands::outcomes::referral_ledger,
            commands::outcomes::update_referral_step,
            commands::outcomes::partners,
            commands::outcomes::stalled_referrals,
        ])
        .run(tauri::generate_context!())
        .unwrap_or_else(|e| {
            eprintln!("madadkar-desktop: {e}");
            std::process::exit(1);
        });
}
