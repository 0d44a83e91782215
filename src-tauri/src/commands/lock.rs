//! The lock screen: the store stays closed until the worker types its passphrase (or, on first
//! run, chooses one), and "lock now" closes it again. The passphrase is derived into a key on a
//! blocking thread (Argon2id takes a noticeable fraction of a second by design).

use std::time::Instant;

use madadkar_client::{Passphrase, Store, StoreError, VaultState, vault::MIN_PASSPHRASE_CHARS};
use zeroize::Zeroizing;

use super::{AppState, ErrorCode, Result, UiError, persian_digits};
use crate::lock::{LockState, LockView, whole_seconds};

impl AppState {
    fn is_unlocked(&self) -> bool {
        self.store.lock().map(|s| s.is_some()).unwrap_or(false)
    }

    /// The lock screen's state now.
    pub fn lock_view(&self) -> LockView {
        let wait = self
            .attempts
            .lock()
            .map(|a| a.wait(Instant::now()))
            .unwrap_or_default();
        LockView {
            state: LockState::of(VaultState::of(&self.dir), self.is_unlocked()),
            min_length: MIN_PASSPHRASE_CHARS as u32,
            wait_seconds: whole_seconds(wait),
        }
    }

    /// Opens the store with `passphrase`, hands the sync thread its own connection and
    /// remembers the store; counts a wrong passphrase and refuses an attempt made too soon.
    /// `choosing` says what the lock screen asked for: a new passphrase (first run) or the
    /// existing one; when the directory turns out otherwise, nothing is opened.
    pub async fn open_store(&self, passphrase: Passphrase, choosing: bool) -> Result<LockView> {
        // The launch's unlock mark starts as the command does (see `launch.rs`).
        let started = Instant::now();
        let view = self.lock_view();
        if view.state == LockState::Unlocked {
            return Ok(view);
        }
        if view.state.chooses_passphrase() != choosing {
            // The directory changed under the lock screen (or the screen is stale): ask again.
            return Err(UiError::new(
                ErrorCode::Locked,
                "the store changed; look at the lock screen again",
            )
            .fa("وضعیت داده‌ها تغییر کرد؛ صفحه را دوباره ببینید."));
        }
        if view.wait_seconds > 0 {
            return Err(too_soon(view.wait_seconds));
        }
        let dir = self.dir.clone();
        let opened = tauri::async_runtime::spawn_blocking(move || {
            let mut store = Store::open(&dir, &passphrase)?;
            // A save never waits for SQLite to fold its log into the database.
            store.checkpoint_in_background()?;
            let for_sync = store.open_another()?;
            Ok::<_, StoreError>((store, for_sync))
        })
        .await
        .map_err(|e| UiError::new(ErrorCode::Internal, format!("unlocking failed: {e}")))?;
        let (store, for_sync) = match opened {
            Ok(pair) => pair,
            Err(StoreError::WrongPassphrase) => {
                let wait = self
                    .attempts
                    .lock()
                    .map(|mut a| a.failed(Instant::now()))
                    .unwrap_or_default();
                let mut e = UiError::from(StoreError::WrongPassphrase);
                if !wait.is_zero() {
                    let secs = whole_seconds(wait);
                    e.message = format!("{}; wait {secs} s before the next try", e.message);
                    e.message_fa = Some(format!(
                        "گذرواژه درست نیست. پس از {} ثانیه دوباره امتحان کنید.",
                        persian_digits(secs)
                    ));
                }
                return Err(e);
            }
            Err(e) => return Err(e.into()),
        };
        if let Ok(mut a) = self.attempts.lock() {
            a.succeeded();
        }
        // Measured for an unlock only: a first run's caseload waits on enrolment, not on this.
        if !choosing {
            self.launch.unlocked(started, Instant::now());
        }
        let mut slot = self.store.lock().map_err(|_| {
            UiError::new(
                ErrorCode::Internal,
                "the store is unavailable; restart the app",
            )
        })?;
        *slot = Some(store);
        drop(slot);
        self.sync.unlocked(for_sync);
        Ok(self.lock_view())
    }

    /// Closes the store: the app's connection and the sync thread's. Waits for a command that
    /// is using the store to finish.
    pub async fn close_store(&self) -> Result<LockView> {
        let store = self.store.clone();
        tauri::async_runtime::spawn_blocking(move || {
            if let Ok(mut s) = store.lock() {
                // Dropping the store closes its connection and wipes its key from memory.
                *s = None;
            }
        })
        .await
        .map_err(|e| UiError::new(ErrorCode::Internal, format!("locking failed: {e}")))?;
        Ok(self.lock_view())
    }
}

fn too_soon(secs: u32) -> UiError {
    UiError::new(
        ErrorCode::TooManyAttempts,
        format!("too many wrong passphrases; wait {secs} s before the next try"),
    )
    .fa(format!(
        "چند بار گذرواژه‌ی نادرست وارد شد. پس از {} ثانیه دوباره امتحان کنید.",
        persian_digits(secs)
    ))
}

/// The passphrase as the window sent it, wiped from memory once read.
fn take(text: String) -> Passphrase {
    let text = Zeroizing::new(text);
    Passphrase::new(&text)
}

#[tauri::command]
pub async fn lock_state(state: tauri::State<'_, AppState>) -> Result<LockView> {
    Ok(state.lock_view())
}

/// Opens an existing store with its passphrase.
#[tauri::command]
pub async fn unlock(state: tauri::State<'_, AppState>, passphrase: String) -> Result<LockView> {
    state.open_store(take(passphrase), false).await
}

/// First run (or an older, unencrypted store): creates the store's key under a new passphrase,
/// typed twice.
#[tauri::command]
pub async fn choose_passphrase(
    state: tauri::State<'_, AppState>,
    passphrase: String,
    confirm: String,
) -> Result<LockView> {
    let confirm = Zeroizing::new(confirm);
    if passphrase != *confirm {
        return Err(
            UiError::new(ErrorCode::Invalid, "the two passphrases differ")
                .fa("دو گذرواژه یکسان نیست."),
        );
    }
    state.open_store(take(passphrase), true).await
}

/// "Lock now": closes the store until the passphrase is typed again.
#[tauri::command]
pub async fn lock(app: tauri::AppHandle, state: tauri::State<'_, AppState>) -> Result<LockView> {
    state.sync.locked(&crate::notifier(app));
    state.close_store().await
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;
    use crate::lock::FREE_ATTEMPTS;

    const RIGHT: &str = "correct horse battery";

    fn app(dir: &std::path::Path) -> AppState {
        AppState::locked(dir.to_path_buf(), Arc::default())
    }

    fn block<T>(f: impl std::future::Future<Output = T>) -> T {
        tauri::async_runtime::block_on(f)
    }

    #[test]
    fn nothing_reaches_the_store_before_unlocking_and_after_locking() {
        let dir = tempfile::tempdir().expect("tempdir");
        let state = app(dir.path());
        assert_eq!(state.lock_view().state, LockState::FirstRun);
        let locked = block(state.with_store(|s| Ok(s.identity().cloned()))).unwrap_err();
        assert_eq!(locked.code, ErrorCode::Locked);
        assert!(locked.message_fa.is_some());
        // A first run cannot be "unlocked" into a new store by a stray attempt.
        let stray = block(state.open_store(Passphrase::new(RIGHT), false)).unwrap_err();
        assert_eq!(stray.code, ErrorCode::Locked);
        assert!(!state.sync.holds_store());

        let opened = block(state.open_store(Passphrase::new(RIGHT), true)).expect("create");
        assert_eq!(opened.state, LockState::Unlocked);
        assert!(
            state.sync.holds_store(),
            "the sync thread has its connection"
        );
        block(state.with_store(|s| Ok(s.init("w", "d", None)?))).expect("works");

        let notify: crate::background::Notify = Box::new(|_: &crate::background::SyncView| {});
        state.sync.locked(&notify);
        let view = block(state.close_store()).expect("lock");
        assert_eq!(view.state, LockState::Locked);
        assert!(!state.sync.holds_store());
        let locked = block(state.with_store(|s| Ok(s.identity().cloned()))).unwrap_err();
        assert_eq!(locked.code, ErrorCode::Locked);
        block(state.open_store(Passphrase::new(RIGHT), false)).expect("unlock");
        let who = block(state.with_store(|s| Ok(s.identity().cloned()))).expect("identity");
        assert_eq!(who.map(|i| i.worker_name).as_deref(), Some("w"));
    }

    #[test]
    fn wrong_passphrases_are_said_in_persian_and_then_slowed_down() {
        let dir = tempfile::tempdir().expect("tempdir");
        drop(Store::open(dir.path(), &Passphrase::new(RIGHT)).expect("create"));
        let state = app(dir.path());
        assert_eq!(state.lock_view().state, LockState::Locked);
        for i in 0..FREE_ATTEMPTS {
            let e =
                block(state.open_store(Passphrase::new("wrong passphrase"), false)).unwrap_err();
            assert_eq!(e.code, ErrorCode::WrongPassphrase, "try {i}");
            assert_eq!(
                e.message_fa.as_deref(),
                Some("گذرواژه درست نیست. دوباره امتحان کنید.")
            );
            assert_eq!(state.lock_view().wait_seconds, 0);
        }
        let e = block(state.open_store(Passphrase::new("wrong passphrase"), false)).unwrap_err();
        assert_eq!(e.code, ErrorCode::WrongPassphrase);
        assert!(
            e.message_fa
                .as_deref()
                .is_some_and(|m| m.contains("۵ ثانیه")),
            "{e:?}"
        );
        assert_eq!(state.lock_view().wait_seconds, 5);
        // Even the right passphrase waits its turn: it is not tried.
        let e = block(state.open_store(Passphrase::new(RIGHT), false)).unwrap_err();
        assert_eq!(e.code, ErrorCode::TooManyAttempts);
        assert_eq!(state.lock_view().state, LockState::Locked);
    }

    #[test]
    fn a_new_passphrase_must_be_long_enough_and_nothing_is_created_until_it_is() {
        let dir = tempfile::tempdir().expect("tempdir");
        let state = app(dir.path());
        let e = block(state.open_store(Passphrase::new("short"), true)).unwrap_err();
        assert_eq!(e.code, ErrorCode::WeakPassphrase);
        assert_eq!(
            e.message_fa.as_deref(),
            Some("گذرواژه باید دست‌کم ۱۰ نویسه باشد.")
        );
        assert_eq!(
            state.lock_view().state,
            LockState::FirstRun,
            "nothing created"
        );
    }
}
