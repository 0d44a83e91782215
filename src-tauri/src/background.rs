//! Background sync: a thread with its own connection to the replica syncs whenever the app has
//! work queued or every half minute, and pushes every change of its state to the window. It is
//! handed its connection when the worker unlocks the store, and gives it up when the app locks.

use std::sync::{Arc, Condvar, Mutex};
use std::time::Duration;

use madadkar_client::{Store, StoreError, SyncReport};
use serde::Serialize;

const INTERVAL: Duration = Duration::from_secs(30);

/// The event the window listens to; its payload is a [`SyncView`].
pub const SYNC_EVENT: &str = "sync-status";

/// Where sync stands, as the status bar names it.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, ts_rs::TS)]
#[serde(rename_all = "snake_case")]
pub enum SyncState {
    /// Not enrolled with a server: the work stays on this device.
    #[default]
    Local,
    /// The server cannot be reached (or asked to come back later); work is kept for later.
    Offline,
    Syncing,
    Synced,
    /// The server refused or answered something this app cannot read; retrying will not help.
    Error,
    /// The store is locked: nothing syncs until the worker unlocks it.
    Locked,
}

impl SyncState {
    /// The state a finished sync leaves: only a failure that may pass by itself is "offline".
    pub fn after(result: &Result<SyncReport, StoreError>) -> Self {
        match result {
            Ok(_) => Self::Synced,
            Err(e) if e.is_retryable() => Self::Offline,
            Err(_) => Self::Error,
        }
    }
}

/// What the status bar shows.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, ts_rs::TS)]
pub struct SyncView {
    pub state: SyncState,
    pub pending_changes: i64,
    pub last_sync_at: Option<String>,
    pub last_error: Option<String>,
    /// Households whose changes the server refused in the last sync (kept, tried again next
    /// time) or that left this device's scope with work still waiting: the rest synced.
    pub held_back: usize,
}

/// Tells the window about a new state.
pub type Notify = Box<dyn Fn(&SyncView) + Send + Sync>;

/// What the app shares with the sync thread: the latest state, a way to wake it, and the
/// connection it syncs with while the store is unlocked.
#[derive(Debug, Default)]
pub struct SyncHandle {
    view: Mutex<SyncView>,
    wake: Mutex<bool>,
    signal: Condvar,
    slot: Mutex<Slot>,
}

/// The sync thread's connection, and a count of hand-overs and locks: a connection taken for a
/// round before the app locked is dropped after the round instead of being put back.
#[derive(Debug, Default)]
struct Slot {
    store: Option<Store>,
    generation: u64,
}

impl SyncHandle {
    /// Gives the sync thread its connection (the store was unlocked) and wakes it.
    pub fn unlocked(&self, store: Store) {
        if let Ok(mut slot) = self.slot.lock() {
            slot.store = Some(store);
            slot.generation += 1;
        }
        self.wake();
    }

    /// Takes the connection away (the app locked). A round under way finishes with it and then
    /// drops it.
    pub fn locked(&self, notify: &Notify) {
        if let Ok(mut slot) = self.slot.lock() {
            slot.store = None;
            slot.generation += 1;
        }
        self.publish_locked(notify);
    }

    /// Tells the window that nothing syncs while the store is locked.
    pub fn publish_locked(&self, notify: &Notify) {
        self.publish(
            SyncView {
                state: SyncState::Locked,
                ..Default::default()
            },
            notify,
        );
    }

    /// Whether the thread holds (or is using) a connection: false once the app locked and the
    /// round under way, if any, finished.
    pub fn holds_store(&self) -> bool {
        self.slot.lock().map(|s| s.store.is_some()).unwrap_or(false)
    }

    fn take(&self) -> Option<(u64, Store)> {
        let mut slot = self.slot.lock().ok()?;
        let store = slot.store.take()?;
        Some((slot.generation, store))
    }

    fn put_back(&self, generation: u64, store: Store) {
        if let Ok(mut slot) = self.slot.lock()
            && slot.generation == generation
            && slot.store.is_none()
        {
            slot.store = Some(store);
        }
        // Otherwise the app locked (or unlocked again) meanwhile: this connection is dropped.
    }

    /// Asks the loop to sync now rather than at its next turn.
    pub fn wake(&self) {
        if let Ok(mut w) = self.wake.lock() {
            *w = true;
            self.signal.notify_one();
        }
    }

    /// The state last published.
    pub fn view(&self) -> SyncView {
        self.view.lock().map(|v| v.clone()).unwrap_or_default()
    }

    fn wait(&self) {
        if let Ok(guard) = self.wake.lock()
            && let Ok((mut woken, _)) = self.signal.wait_timeout_while(guard, INTERVAL, |w| !*w)
        {
            *woken = false;
        }
    }

    /// Keeps the new state and tells the window, only when it differs from the last one: the
    /// loop republishes the same state every half minute when nothing happens.
    pub fn publish(&self, view: SyncView, notify: &Notify) {
        let Ok(mut current) = self.view.lock() else {
            return;
        };
        if *current != view {
            *current = view.clone();
            drop(current);
            notify(&view);
        }
    }
}

/// Starts the sync thread. It syncs only while it holds a connection ([`SyncHandle::unlocked`]).
pub fn spawn(handle: Arc<SyncHandle>, notify: Notify) {
    std::thread::spawn(move || {
        loop {
            if let Some((generation, mut store)) = handle.take() {
                run_once(&mut store, &handle, &notify);
                handle.put_back(generation, store);
                if !handle.holds_store() {
                    // Locked during the round: what the round published no longer holds.
                    handle.publish_locked(&notify);
                }
            }
            handle.wait();
        }
    });
}

fn run_once(store: &mut Store, handle: &SyncHandle, notify: &Notify) {
    let status = match store.sync_status() {
        Ok(status) => status,
        Err(e) => {
            let view = SyncView {
                state: SyncState::Error,
                last_error: Some(e.to_string()),
                ..handle.view()
            };
            return handle.publish(view, notify);
        }
    };
    if !status.enrolled {
        let view = SyncView {
            state: SyncState::Local,
            pending_changes: status.pending_changes,
            ..Default::default()
        };
        return handle.publish(view, notify);
    }
    let syncing = SyncView {
        state: SyncState::Syncing,
        pending_changes: status.pending_changes,
        last_sync_at: status.last_sync_at.clone(),
        last_error: None,
        ..handle.view()
    };
    handle.publish(syncing, notify);
    let result = store.sync(None);
    let status = store.sync_status().unwrap_or(status);
    let held_back = result
        .as_ref()
        .map(|r| r.refused.len() + r.kept_out_of_scope.len())
        .unwrap_or_default();
    let done = SyncView {
        state: SyncState::after(&result),
        pending_changes: status.pending_changes,
        last_sync_at: status.last_sync_at,
        last_error: result.err().map(|e| e.to_string()),
        held_back,
    };
    handle.publish(done, notify);
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};

    use super::*;

    #[test]
    fn the_window_hears_of_each_change_once() {
        let heard = Arc::new(AtomicUsize::new(0));
        let counter = heard.clone();
        let notify: Notify = Box::new(move |_| {
            counter.fetch_add(1, Ordering::SeqCst);
        });
        let handle = SyncHandle::default();
        let offline = SyncView {
            state: SyncState::Offline,
            pending_changes: 2,
            ..Default::default()
        };
        handle.publish(offline.clone(), &notify);
        handle.publish(offline.clone(), &notify);
        assert_eq!(
            heard.load(Ordering::SeqCst),
            1,
            "the same state again is not news"
        );
        handle.publish(
            SyncView {
                pending_changes: 3,
                ..offline
            },
            &notify,
        );
        assert_eq!(
            heard.load(Ordering::SeqCst),
            2,
            "one more pending change is"
        );
        assert_eq!(handle.view().pending_changes, 3);
    }

    #[test]
    fn a_connection_taken_for_a_round_is_dropped_when_the_app_locked_meanwhile() {
        let dir = tempfile::tempdir().expect("tempdir");
        let passphrase = madadkar_client::Passphrase::new("test passphrase");
        let store = Store::open(dir.path(), &passphrase).expect("store");
        let notify: Notify = Box::new(|_: &SyncView| {});
        let handle = SyncHandle::default();
        handle.unlocked(store.open_another().expect("another"));
        let (generation, taken) = handle.take().expect("a connection to sync with");
        handle.put_back(generation, taken);
        assert!(handle.holds_store(), "put back while unlocked");

        let (generation, taken) = handle.take().expect("taken again");
        handle.locked(&notify);
        handle.put_back(generation, taken);
        assert!(
            !handle.holds_store(),
            "dropped: the app locked during the round"
        );
        assert_eq!(handle.view().state, SyncState::Locked);
        assert!(handle.take().is_none());
    }

    #[test]
    fn only_a_passing_failure_reads_as_offline() {
        let network = Err(StoreError::Network {
            message: "refused".into(),
        });
        assert_eq!(SyncState::after(&network), SyncState::Offline);
        let refused = Err(StoreError::Server {
            status: 400,
            code: "bad_request".into(),
            message: "unknown protocol version".into(),
            retry: false,
            households: vec![],
        });
        assert_eq!(SyncState::after(&refused), SyncState::Error);
        assert_eq!(
            SyncState::after(&Ok(SyncReport::default())),
            SyncState::Synced
        );
    }

    #[test]
    fn states_reach_the_window_as_snake_case_codes() {
        let json = serde_json::to_value(SyncView {
            state: SyncState::Offline,
            pending_changes: 1,
            ..Default::default()
        })
        .expect("json");
        assert_eq!(json["state"], "offline");
        assert_eq!(json["pending_changes"], 1);
    }
}
