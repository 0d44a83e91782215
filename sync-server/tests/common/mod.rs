//! What the server's API tests share: an enrolled device that makes real household changes,
//! enrolled straight through the storage, and the check that an answer is the documented JSON
//! error.

#![allow(dead_code)]

use automerge::ActorId;
use axum::http::StatusCode;
use chrono::Utc;
use madadkar_schema::wire::{ErrorBody, WireChange};
use madadkar_server::{
    admin, auth,
    storage::{NewDevice, Storage},
};
use uuid::Uuid;

/// An enrolled device: its id (its Automerge actor), its worker and its token.
pub struct Device {
    pub id: Uuid,
    pub worker_id: String,
    pub token: String,
}

impl Device {
    /// A first change of a new household (a real household document, as the app registers
    /// one: the server stores only what its client could read), made on this device by its
    /// worker.
    pub fn new_household(&self) -> WireChange {
        let household = Uuid::now_v7();
        let meta = madadkar_schema::ChangeMeta::new(&self.worker_id, "w", &self.id.to_string());
        let (mut doc, _) = madadkar_schema::HouseholdDoc::create(
            ActorId::from(self.id.as_bytes().as_slice()),
            household,
            &madadkar_schema::NewHousehold {
                district: "3".into(),
                address: "a street".into(),
                ..Default::default()
            },
            &madadkar_schema::NewMember::named("a", "b", madadkar_schema::Relation::Head),
            &meta,
            chrono::Utc::now(),
        )
        .expect("a household");
        let change = doc.changes_since(&[]).remove(0);
        WireChange::new(household, 0, change.raw_bytes().to_vec())
    }
}

/// A new worker of `role` in `group` with a device enrolled through the storage (the enrolment
/// endpoint and its rate limits are tested on their own).
pub fn enrolled_device(storage: &impl Storage, role: &str, group: Option<&str>) -> Device {
    let worker = admin::add_worker(storage, "w", group, role).expect("a worker");
    let mut code = [7u8; 32];
    code[..16].copy_from_slice(Uuid::now_v7().as_bytes());
    let now = Utc::now();
    storage
        .create_enroll_code(&worker.id, code, now + chrono::Duration::hours(1))
        .expect("code");
    let id = Uuid::now_v7();
    let token = auth::new_token().expect("token");
    storage
        .enroll(
            code,
            NewDevice {
                id,
                name: "laptop".into(),
                token_hash: auth::hash(&token),
                local_worker_id: None,
                signing_key: None,
            },
            now,
        )
        .expect("enrol");
    Device {
        id,
        worker_id: worker.id,
        token,
    }
}

/// The JSON error body of an answer, failing the test when the answer is anything else.
pub fn error_body(status: StatusCode, body: &[u8]) -> ErrorBody {
    serde_json::from_slice(body).unwrap_or_else(|e| {
        panic!(
            "{status} answered {:?}, not the JSON error body: {e}",
            String::from_utf8_lossy(body)
        )
    })
}

/// The JSON error body of an answer that must have `expected` status and `code`.
pub fn expect_error(
    status: StatusCode,
    body: &[u8],
    expected: StatusCode,
    code: &str,
) -> ErrorBody {
    let error = error_body(status, body);
    assert_eq!(
        (status, error.code.as_str()),
        (expected, code),
        "{}",
        error.message
    );
    error
}
