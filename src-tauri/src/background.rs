//! Background sync: a thread with its own connection to the replica syncs whenever the app has
//! work queued or every half minute, and publishes its state for the status bar.

use std::path::PathBuf;
use std::sync::{Arc, Condvar, Mutex};
use std::time::Duration;

use madadkar_client::Store;
use serde::Serialize;

const INTERVAL: Duration = Duration::from_secs(30);

/// What the status bar shows.
#[derive(Debug, Clone, Default, Serialize)]
pub struct SyncView {
    /// `offline` (no server or unreachable), `syncing`, `synced`, `error` or `local` (not enrolled).
    pub state: String,
    pub pending_changes: i64,
    pub last_sync_at: Option<String>,
    pub last_error: Option<String>,
}

#[derive(Debug, Default)]
pub struct SyncHandle {
    pub view: Mutex<SyncView>,
    wake: Mutex<bool>,
    signal: Condvar,
}

impl SyncHandle {
    /// Asks the loop to sync now rather than at its next turn.
    pub fn wake(&self) {
        if let Ok(mut w) = self.wake.lock() {
            *w = true;
            self.signal.notify_one();
        }
    }

    fn wait(&self) {
        if let Ok(guard) = self.wake.lock()
            && let Ok((mut woken, _)) = self.signal.wait_timeout_while(guard, INTERVAL, |w| !*w)
        {
            *woken = false;
        }
    }

    fn publish(&self, view: SyncView) {
        if let Ok(mut v) = self.view.lock() {
            *v = view;
        }
    }
}

pub fn spawn(dir: PathBuf, handle: Arc<SyncHandle>) {
    std::thread::spawn(move || {
        let mut store = match Store::open(&dir) {
            Ok(s) => s,
            Err(e) => {
                handle.publish(SyncView {
                    state: "error".into(),
                    last_error: Some(e.to_string()),
                    ..Default::default()
                });
                return;
            }
        };
        loop {
            run_once(&mut store, &handle);
            handle.wait();
        }
    });
}

fn run_once(store: &mut Store, handle: &SyncHandle) {
    let Ok(status) = store.sync_status() else {
        return;
    };
    if !status.enrolled {
        handle.publish(SyncView {
            state: "local".into(),
            pending_changes: status.pending_changes,
            ..Default::default()
        });
        return;
    }
    handle.publish(SyncView {
        state: "syncing".into(),
        pending_changes: status.pending_changes,
        last_sync_at: status.last_sync_at.clone(),
        last_error: None,
    });
    let result = store.sync(None);
    let status = store.sync_status().unwrap_or(status);
    let state = match &result {
        Ok(_) => "synced",
        Err(e) if e.is_retryable() => "offline",
        Err(_) => "error",
    };
    handle.publish(SyncView {
        state: state.into(),
        pending_changes: status.pending_changes,
        last_sync_at: status.last_sync_at,
        last_error: result.err().map(|e| e.to_string()),
    });
}
