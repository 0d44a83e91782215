//! The commands the web front end may call, one file per domain. Each command is `async` (a
//! command without it runs on the window's thread) and a thin forward to the client library:
//! store work runs on a blocking thread that holds the store's lock, and errors come back as
//! [`UiError`] for the form that asked.
//!
//! The store is closed until the worker unlocks it (`lock`); every command that reads or writes
//! it fails with [`ErrorCode::Locked`] until then.

pub mod access;
pub mod caseloads;
pub mod conflicts;
pub mod drafts;
pub mod duplicates;
pub mod households;
pub mod identity;
pub mod launch;
pub mod lock;
pub mod members;
pub mod outcomes;
pub mod referrals;
pub mod reports;
pub mod review;
pub mod sync;
pub mod visits;

use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use madadkar_client::{Store, StoreError};
use madadkar_schema::{DocumentError, Field, ValidationError};
use serde::Serialize;

use crate::background::SyncHandle;
use crate::launch::Launch;
use crate::lock::Attempts;

/// What every command can reach: the replica (once unlocked) and the background sync loop.
#[derive(Debug)]
pub struct AppState {
    /// The data directory the replica lives in.
    pub dir: PathBuf,
    /// The replica: `None` while locked. A SQLite connection may move between threads but not
    /// be shared, hence the mutex; the `Arc` lets a blocking task hold it while the command
    /// awaits.
    pub store: Arc<Mutex<Option<Store>>>,
    pub sync: Arc<SyncHandle>,
    /// Wrong passphrases typed so far, which slow the next attempts down.
    pub attempts: Arc<Mutex<Attempts>>,
    /// The launch's timing marks and the count of commands that opened a document.
    pub launch: Arc<Launch>,
}

impl AppState {
    /// A locked app over the replica in `dir`.
    pub fn locked(dir: PathBuf, sync: Arc<SyncHandle>) -> Self {
        Self {
            dir,
            store: Arc::default(),
            sync,
            attempts: Arc::default(),
            launch: Arc::default(),
        }
    }

    /// Runs `work` with the store on a blocking thread, off the window's thread and the async
    /// runtime's workers: an fsync or an enrolment's HTTP request must not freeze the window.
    /// Household data stays locked once the device's lease has run out: only sync, identity
    /// and enrolment (which use [`Self::with_store_unleased`]) work until a sync renews it.
    pub async fn with_store<T, F>(&self, work: F) -> Result<T>
    where
        T: Send + 'static,
        F: FnOnce(&mut Store) -> Result<T> + Send + 'static,
    {
        self.with_store_unleased(move |store| {
            store.require_lease(madadkar_client::custody::now())?;
            work(store)
        })
        .await
    }

    /// [`Self::with_store`] without the lease check, for what must work on a locked laptop.
    pub async fn with_store_unleased<T, F>(&self, work: F) -> Result<T>
    where
        T: Send + 'static,
        F: FnOnce(&mut Store) -> Result<T> + Send + 'static,
    {
        let store = self.store.clone();
        tauri::async_runtime::spawn_blocking(move || {
            let mut store = store.lock().map_err(|_| {
                UiError::new(
                    ErrorCode::Internal,
                    "the store is unavailable; restart the app",
                )
            })?;
            match store.as_mut() {
                Some(store) => work(store),
                None => Err(UiError::locked()),
            }
        })
        .await
        .map_err(|e| UiError::new(ErrorCode::Internal, format!("the store's task failed: {e}")))?
    }

    /// [`Self::with_store`] for work that opens a household's document (rather than reading
    /// the projections the caseload lists): counted, so that a test can tell that scrolling the
    /// caseload opens none.
    pub async fn with_document<T, F>(&self, work: F) -> Result<T>
    where
        T: Send + 'static,
        F: FnOnce(&mut Store) -> Result<T> + Send + 'static,
    {
        self.launch.document_loaded();
        self.with_store(work).await
    }

    /// Like [`with_store`](Self::with_store) for work that changes the replica: wakes the sync
    /// loop once the change is saved, so it reaches the server without waiting for its turn.
    /// A change opens a document (or makes one), so it counts as [`Self::with_document`] does.
    pub async fn change<T, F>(&self, work: F) -> Result<T>
    where
        T: Send + 'static,
        F: FnOnce(&mut Store) -> Result<T> + Send + 'static,
    {
        let done = self.with_document(work).await?;
        self.sync.wake();
        Ok(done)
    }
}

/// What kind of failure the UI is looking at; it decides how the UI reacts (a message next to a
/// field, "offline, your work is kept", "update the app", …).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ts_rs::TS)]
#[serde(rename_all = "snake_case")]
pub enum ErrorCode {
    /// Input refused by validation; `field` says which.
    Invalid,
    NotFound,
    NotInitialised,
    AlreadyInitialised,
    NotEnrolled,
    /// The server cannot be reached; the work is kept and syncs later.
    Offline,
    /// The server answered with a refusal.
    Server,
    /// The server answered something this version cannot read (`StoreError::Protocol`): not
    /// "offline", retrying will not help.
    Protocol,
    /// The server speaks another protocol version (`StoreError::ServerVersion`): one of the
    /// two needs updating.
    ServerVersion,
    /// The local database or its files failed.
    Storage,
    /// A household document cannot be read or written.
    Document,
    /// The database was written by a newer Madadkar.
    TooNew,
    /// The device's lease has run out: household data stays locked until it syncs.
    LeaseExpired,
    /// The server revoked or retired this device and its data was erased.
    Erased,
    Bundle,
    /// The store is locked: unlock it with the passphrase first.
    Locked,
    /// This worker's role does not allow the action (a field worker merging, a supervisor
    /// undoing a merge); the server would refuse it too.
    NotPermitted,
    /// The action does not fit the record as it stands (approving a visit already approved,
    /// merging into a household that is itself merged).
    NotAllowed,
    /// The passphrase does not open the store.
    WrongPassphrase,
    /// Too many wrong passphrases in a row: wait before the next try.
    TooManyAttempts,
    /// A new passphrase is too short.
    WeakPassphrase,
    /// The store's key file is missing, damaged or not this store's: the data cannot be read.
    KeyFile,
    Internal,
}

/// An error as the UI shows it: a stable code, the form field it belongs to, and a message.
#[derive(Debug, Serialize, PartialEq, Eq, ts_rs::TS)]
pub struct UiError {
    pub code: ErrorCode,
    /// The form field to show the error next to, as its code (`national_id`, `visit_date`, …).
    pub field: Option<Field>,
    pub message: String,
    /// The message in Persian where there is one (validation), for the Persian interface.
    pub message_fa: Option<String>,
}

impl UiError {
    pub fn new(code: ErrorCode, message: impl ToString) -> Self {
        Self {
            code,
            field: None,
            message: message.to_string(),
            message_fa: None,
        }
    }

    /// With the message in Persian too.
    pub fn fa(mut self, message_fa: impl ToString) -> Self {
        self.message_fa = Some(message_fa.to_string());
        self
    }

    pub fn locked() -> Self {
        Self::new(ErrorCode::Locked, "the store is locked; unlock it first")
            .fa("داده‌ها قفل است؛ اول با گذرواژه باز کنید.")
    }
}

impl From<ValidationError> for UiError {
    fn from(e: ValidationError) -> Self {
        Self {
            code: ErrorCode::Invalid,
            field: e.field(),
            message: e.to_string(),
            message_fa: Some(e.message_fa()),
        }
    }
}

impl From<StoreError> for UiError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::Invalid(v) | StoreError::Document(DocumentError::Invalid(v)) => v.into(),
            // What locks or empties the laptop is said in the worker's language.
            StoreError::LeaseExpired { .. } => Self {
                message_fa: Some(
                    "این لپ‌تاپ از پایان مهلتش همگام نشده است؛ برای باز شدن پرونده‌ها با سرور همگام کنید".into(),
                ),
                ..Self::new(ErrorCode::LeaseExpired, e)
            },
            StoreError::Erased { .. } => Self {
                message_fa: Some(
                    "سرور این دستگاه را باطل یا کنار گذاشته است؛ داده‌های آن از این لپ‌تاپ پاک شد".into(),
                ),
                ..Self::new(ErrorCode::Erased, e)
            },
            StoreError::NotPermitted { needs, .. } => {
                let fa = if needs.contains("supervisor") {
                    "این کار فقط از سرپرست گروه یا هماهنگ‌کنندهٔ استان برمی‌آید."
                } else {
                    "این کار فقط از هماهنگ‌کنندهٔ استان برمی‌آید."
                };
                Self::new(ErrorCode::NotPermitted, &e).fa(fa)
            }
            // The server's refusals a supervisor's screens meet: a move outside the caller's
            // role or scope, too many lookups.
            StoreError::Server { status: 403, .. } => Self::new(ErrorCode::Server, &e)
                .fa("سرور این کار را با نقش یا حوزهٔ شما نپذیرفت."),
            StoreError::Server { status: 429, .. } => Self::new(ErrorCode::Server, &e)
                .fa("درخواست‌ها بیش از اندازه بود؛ کمی بعد دوباره امتحان کنید."),
            StoreError::Document(DocumentError::NotAllowed(_)) => Self::new(ErrorCode::NotAllowed, &e)
                .fa("این کار با وضعیت کنونی پرونده جور نیست؛ صفحه را دوباره ببینید."),
            StoreError::WrongPassphrase => Self::new(ErrorCode::WrongPassphrase, &e)
                .fa("گذرواژه درست نیست. دوباره امتحان کنید."),
            StoreError::PassphraseTooShort { min } => Self::new(ErrorCode::WeakPassphrase, &e)
                .fa(format!("گذرواژه باید دست‌کم {} نویسه باشد.", persian_digits(min))),
            StoreError::KeyFileMissing { .. }
            | StoreError::KeyFile { .. }
            | StoreError::KeyMismatch => Self::new(ErrorCode::KeyFile, &e).fa(
                "پرونده‌ی کلید این داده‌ها گم شده یا آسیب دیده است؛ بدون آن داده‌ها خوانده نمی‌شوند. با پشتیبانی تماس بگیرید.",
            ),
            other => Self::new(code_of(&other), other),
        }
    }
}

/// The code of each kind of store error. Every variant is named (no catch-all): a new kind of
/// store error must be given its code here, so that a protocol or decode failure can never pass
/// for "offline".
fn code_of(e: &StoreError) -> ErrorCode {
    match e {
        StoreError::Invalid(_) => ErrorCode::Invalid,
        StoreError::Document(DocumentError::Invalid(_)) => ErrorCode::Invalid,
        StoreError::Document(DocumentError::NotFound { .. }) => ErrorCode::NotFound,
        StoreError::Document(DocumentError::TooNew { .. }) => ErrorCode::TooNew,
        StoreError::Document(DocumentError::NotAllowed(_)) => ErrorCode::NotAllowed,
        StoreError::Document(_) => ErrorCode::Document,
        StoreError::Sqlite(_) | StoreError::Io { .. } => ErrorCode::Storage,
        StoreError::NotFound { .. } | StoreError::Ambiguous { .. } => ErrorCode::NotFound,
        StoreError::NotInitialised => ErrorCode::NotInitialised,
        StoreError::AlreadyInitialised { .. } => ErrorCode::AlreadyInitialised,
        StoreError::NotEnrolled => ErrorCode::NotEnrolled,
        StoreError::Network { .. } => ErrorCode::Offline,
        StoreError::Server { .. } => ErrorCode::Server,
        StoreError::StoreTooNew { .. } => ErrorCode::TooNew,
        StoreError::Bundle(_) | StoreError::WrongBundlePassphrase => ErrorCode::Bundle,
        StoreError::WrongPassphrase => ErrorCode::WrongPassphrase,
        StoreError::PassphraseTooShort { .. } => ErrorCode::WeakPassphrase,
        StoreError::KeyFile { .. }
        | StoreError::KeyFileMissing { .. }
        | StoreError::KeyMismatch => ErrorCode::KeyFile,
        // A draft key or size the app itself got wrong.
        StoreError::Draft(_) => ErrorCode::Internal,
        StoreError::Protocol { .. } => ErrorCode::Protocol,
        StoreError::ServerVersion { .. } => ErrorCode::ServerVersion,
        // Encoding a request is this program's own failure, not the user's or the server's.
        StoreError::Encode { .. } => ErrorCode::Internal,
        // No randomness for a key, or a damaged key: the machine or the store is at fault.
        StoreError::Randomness { .. } | StoreError::BadSigningKey => ErrorCode::Storage,
        StoreError::LeaseExpired { .. } => ErrorCode::LeaseExpired,
        StoreError::Erased { .. } => ErrorCode::Erased,
        StoreError::NotPermitted { .. } => ErrorCode::NotPermitted,
    }
}

pub type Result<T> = std::result::Result<T, UiError>;

/// A number in Persian digits, for Persian messages.
pub fn persian_digits(n: impl ToString) -> String {
    n.to_string()
        .chars()
        .map(|c| match c.to_digit(10) {
            Some(d) => char::from_u32(0x06F0 + d).unwrap_or(c),
            None => c,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use madadkar_client::{ReferralText, store::today};
    use madadkar_schema::NationalId;

    use super::*;

    fn json(e: &UiError) -> serde_json::Value {
        serde_json::to_value(e).expect("json")
    }

    #[test]
    fn store_work_runs_off_the_calling_thread() {
        let dir = tempfile::tempdir().expect("temp dir");
        let state = AppState::locked(dir.path().to_path_buf(), Arc::default());
        let passphrase = madadkar_client::Passphrase::new("test passphrase");
        *state.store.lock().expect("lock") =
            Some(Store::open(dir.path(), &passphrase).expect("store"));
        let caller = std::thread::current().id();
        let worker =
            tauri::async_runtime::block_on(state.with_store(|_| Ok(std::thread::current().id())))
                .expect("ran");
        assert_ne!(caller, worker, "the window's thread must not do store work");
    }

    #[test]
    fn document_work_and_changes_are_counted_and_store_reads_are_not() {
        let dir = tempfile::tempdir().expect("temp dir");
        let state = AppState::locked(dir.path().to_path_buf(), Arc::default());
        let passphrase = madadkar_client::Passphrase::new("test passphrase");
        *state.store.lock().expect("lock") =
            Some(Store::open(dir.path(), &passphrase).expect("store"));
        let loads = || state.launch.marks().document_loads;
        use tauri::async_runtime::block_on;
        block_on(state.with_store(|s| Ok(s.identity().cloned()))).expect("read");
        assert_eq!(
            loads(),
            0,
            "a projection or metadata read is not a document load"
        );
        block_on(state.with_document(|s| Ok(s.identity().cloned()))).expect("read");
        assert_eq!(loads(), 1);
        block_on(state.change(|s| Ok(s.init("w", "d", None)?))).expect("change");
        assert_eq!(loads(), 2, "a change opens a document");
    }

    #[test]
    fn a_locked_or_erased_laptop_says_so_in_persian() {
        let since = madadkar_client::custody::now();
        let locked = UiError::from(StoreError::LeaseExpired { since });
        assert_eq!(locked.code, ErrorCode::LeaseExpired);
        assert!(locked.message_fa.is_some_and(|m| m.contains("همگام")));
        let erased = UiError::from(StoreError::Erased { reason: "revoked" });
        assert_eq!(erased.code, ErrorCode::Erased);
        assert!(erased.message_fa.is_some_and(|m| m.contains("پاک")));
    }

    #[test]
    fn a_refusal_for_the_role_says_in_persian_who_may() {
        let supervisors = UiError::from(StoreError::NotPermitted {
            action: "approve visits",
            needs: "a supervisor or a coordinator",
        });
        assert_eq!(json(&supervisors)["code"], "not_permitted");
        assert!(supervisors.message.contains("approve visits"));
        assert!(
            supervisors
                .message_fa
                .is_some_and(|m| m.contains("سرپرست") && m.contains("هماهنگ‌کننده"))
        );
        let coordinators = UiError::from(StoreError::NotPermitted {
            action: "undo a merge",
            needs: "a coordinator",
        });
        assert!(
            coordinators
                .message_fa
                .is_some_and(|m| !m.contains("سرپرست") && m.contains("هماهنگ‌کننده"))
        );
        let refused = UiError::from(StoreError::Server {
            status: 403,
            code: "forbidden".into(),
            message: "a supervisor moves households within their own group".into(),
            retry: false,
            households: vec![],
        });
        assert_eq!(refused.code, ErrorCode::Server);
        assert!(refused.message_fa.is_some_and(|m| m.contains("نقش")));
        let stale: UiError = StoreError::Document(DocumentError::NotAllowed(
            "a visit that is approved cannot be approved".into(),
        ))
        .into();
        assert_eq!(json(&stale)["code"], "not_allowed");
        assert!(stale.message.contains("approved"));
    }

    #[test]
    fn validation_errors_name_their_field_for_the_form() {
        let e: UiError = StoreError::Invalid(ValidationError::Required {
            field: Field::District,
        })
        .into();
        let district = json(&e);
        assert_eq!(district["code"], "invalid");
        assert_eq!(district["field"], "district");
        assert_eq!(district["message"], "district: required");
        assert_eq!(district["message_fa"], "منطقه را وارد کنید.");
        let nid: UiError = NationalId::parse("123").unwrap_err().into();
        assert_eq!(nid.field, Some(Field::NationalId));
        assert_eq!(json(&nid)["field"], "national_id");
    }

    #[test]
    fn a_validation_error_inside_a_document_is_still_shown_at_its_field() {
        let e: UiError = StoreError::Document(DocumentError::Invalid(ValidationError::Required {
            field: Field::Address,
        }))
        .into();
        assert_eq!(e.code, ErrorCode::Invalid);
        assert_eq!(e.field, Some(Field::Address));
    }

    #[test]
    fn offline_is_only_an_unreachable_server() {
        let e: UiError = StoreError::Network {
            message: "refused".into(),
        }
        .into();
        let json = json(&e);
        assert_eq!(json["code"], "offline");
        assert_eq!(json["field"], serde_json::Value::Null);
        assert_eq!(json["message_fa"], serde_json::Value::Null);
        assert!(
            json["message"]
                .as_str()
                .is_some_and(|m| m.contains("refused"))
        );

        // A server that answers, even to refuse or with something unreadable, is not "offline".
        let refused: UiError = StoreError::Server {
            status: 409,
            code: "version".into(),
            message: "unsupported protocol version 3".into(),
            retry: false,
            households: vec![],
        }
        .into();
        assert_eq!(json_code(&refused), "server");
        let unreadable: UiError =
            StoreError::Document(DocumentError::Malformed("missing schema_version".into())).into();
        assert_eq!(json_code(&unreadable), "document");
        let newer: UiError = StoreError::StoreTooNew {
            found: 9,
            supported: 3,
        }
        .into();
        assert_eq!(json_code(&newer), "too_new");
    }

    fn json_code(e: &UiError) -> String {
        json(e)["code"].as_str().unwrap_or_default().to_string()
    }

    #[test]
    fn a_malformed_visit_id_reaches_the_form_as_an_error() {
        let form = ReferralText {
            kind: Some("bank_loan".into()),
            target: Some("بانک ملی".into()),
            visit_id: Some("12345".into()),
            ..Default::default()
        };
        let e: UiError = form.to_new(today()).unwrap_err().into();
        assert_eq!(e.code, ErrorCode::Invalid);
        assert_eq!(json(&e)["field"], "referral_visit");
        assert!(e.message.contains("12345"), "{}", e.message);
    }
}
