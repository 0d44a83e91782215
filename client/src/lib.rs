//! Madadkar's client library: the local store that keeps each household as an Automerge
//! document in SQLite, the projections that make lists and search fast, bundles for moving
//! changes between replicas without a network, and the sync client (enrolment, push, pull and
//! the per-household fallback; see `docs/sync-protocol.md`).
//!
//! It has no GUI dependency: the CLI, the desktop app and the tests all drive it directly.
//!
//! The store is encrypted at rest (SQLCipher); opening it needs the worker's passphrase (see
//! [`vault`]).
//!
//! ```no_run
//! use madadkar_client::{Passphrase, Store};
//! let passphrase = Passphrase::new("a passphrase of some length");
//! let mut store = Store::open(std::path::Path::new("/tmp/madadkar"), &passphrase)?;
//! let found = store.search("علي", 20)?;
//! # Ok::<(), madadkar_client::StoreError>(())
//! ```

pub mod access;
pub mod authorship;
mod bootstrap;
pub mod bundle;
pub mod checkpoint;
pub mod custody;
pub mod demo;
pub mod drafts;
mod error;
pub mod forms;
pub mod outcome;
pub mod partners;
pub mod projection;
pub mod quarantine;
pub mod query;
pub mod reconcile;
pub mod remote;
pub mod report;
mod snapshot;
mod sql;
pub mod store;
pub mod sync;
pub mod vault;

pub use drafts::Draft;
pub use error::StoreError;
pub use forms::{
    GoalText, HouseholdText, ListText, ProgressText, ReferralStepText, ReferralText, StepText,
    VisitText,
};
pub use quarantine::QuarantinedHousehold;
pub use query::{Followup, FollowupKind, HouseholdSummary, ListQuery, Page, SortBy};
pub use store::{CheckReport, HouseholdDetails, Identity, ImportReport, Store};
pub use sync::{SyncReport, SyncStatus};
pub use vault::{Passphrase, VaultState};
