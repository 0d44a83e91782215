//! The Automerge document that holds one household. Its layout is documented for other Automerge
//! clients in `docs/document-format.md`; this module is split by job:
//!
//! | file | job |
//! | --- | --- |
//! | `layout.rs` | the layout's names, shape checks and the bounded reader of one map |
//! | `meta.rs` | who made a change and what it did ([`ChangeMeta`], [`Action`]), change times |
//! | `write.rs` | the actions that become changes (create, edit, add a member, visit, referral) |
//! | `read.rs` | reading the document into the domain model ([`crate::Household`]) |
//! | `path.rs` | [`FieldPath`]: where a field lives, typed |
//! | `conflicts.rs` | fields holding concurrent values, and resolving them |
//! | `history.rs` | every change in causal order |
//! | `migrate.rs` | the schema version and forward migrations |
//! | `limits.rs` | bounds on a whole document and the check before a server stores one |
//!
//! Layout (every collection is a map keyed by UUID v7, so concurrent additions never collide):
//!
//! ```text
//! { schema_version: 2, kind: "household", id: "<uuid>",
//!   household: { district, address, phone, alt_phone, status, head_member_id, assigned_group,
//!                assigned_worker, created_at, created_by,
//!                merged_into, merged_group, merged_at, merged_by },
//!   members:   { "<uuid>": { first_name, last_name, national_id, birth_date, sex, relation,
//!                            education, employment, health_notes, disability_notes,
//!                            father_name } },
//!   visits:    { "<uuid>": { date, worker_id, kind, observations, followup_date,
//!                            needs: { income: 0..4, … },
//!                            review: { "<uuid>": { action, worker_id, at, comment, field } } } },
//!   referrals: { "<uuid>": { kind, target, visit_id,
//!                            events: { "<uuid>": { status, date, worker_id, note } } } },
//!   not_duplicates: { "<other household uuid>": { reason, worker_id, at, evidence } } }
//! ```
//!
//! Version 2 added `father_name`, the household's `merged_into`, `merged_group`, `merged_at`
//! and `merged_by` (a retired household's redirect), a visit's `review` and the root's
//! `not_duplicates`. Those two maps are created on first use, so two replicas may create one
//! concurrently; readers take the union of every concurrent copy (`layout::lazy_maps`).
//!
//! Madadkar writes strings as scalar strings (dates ISO `YYYY-MM-DD`), need scores and the schema
//! version as signed integers. It reads Automerge text objects as strings too, since that is what
//! other clients' plain string assignment produces. Each action is one change whose message is a
//! JSON [`ChangeMeta`] and whose time is the author's clock in Unix seconds.

mod conflicts;
mod history;
mod layout;
pub mod limits;
mod meta;
mod migrate;
mod path;
mod plan;
mod read;
mod write;

#[cfg(test)]
mod tests;
#[cfg(test)]
mod tests_outcome;
#[cfg(test)]
mod tests_reconcile;

use automerge::{AutoCommit, Change, ChangeHash};

pub use conflicts::{Conflict, ConflictValue};
pub use history::ChangeInfo;
pub use layout::{NewerHousehold, Received, device_actor};
pub use meta::{Action, ChangeMeta, change_time};
pub use migrate::SCHEMA_VERSION;
pub use path::FieldPath;

use crate::error::DocumentError;
use layout::malformed;

type Result<T, E = DocumentError> = std::result::Result<T, E>;

/// Runs one Automerge step on bytes from elsewhere (a change, a document), turning a panic
/// inside Automerge into a refusal. Automerge 0.12 panics on some malformed input (an index
/// out of range, a decode error unwrapped, a failed assertion: `fuzz/` found each within
/// seconds, see docs/reliability.md); unguarded, one hostile change would take the process
/// down on every sync instead of being refused or quarantined. What `step` touched must be
/// thrown away on `Err`.
pub fn untrusted<T>(what: &str, step: impl FnOnce() -> T) -> Result<T> {
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(step)).map_err(|_| {
        malformed(format!(
            "{what}: Automerge failed on it (an internal panic)"
        ))
    })
}

/// One household's Automerge document.
#[derive(Debug)]
pub struct HouseholdDoc {
    doc: AutoCommit,
}

impl HouseholdDoc {
    /// Loads a document saved whole (`save`) or as concatenated changes, and checks its shape.
    pub fn load(bytes: &[u8]) -> Result<Self> {
        let doc = untrusted("the document", || {
            let mut doc = AutoCommit::load(bytes)?;
            // Building every change walks the whole change graph: Automerge accepts some
            // documents whose graph is broken and panics only when a later read walks it.
            doc.get_changes(&[]);
            Ok::<_, automerge::AutomergeError>(doc)
        })??;
        Self::from_automerge(doc)
    }

    /// Loads from an optional snapshot plus the changes stored after it.
    pub fn from_parts<'a>(
        snapshot: Option<&[u8]>,
        changes: impl IntoIterator<Item = &'a [u8]>,
    ) -> Result<Self> {
        let mut doc = match snapshot {
            Some(bytes) => untrusted("the snapshot", || AutoCommit::load(bytes))??,
            None => AutoCommit::new(),
        };
        let changes = changes
            .into_iter()
            .map(|b| Change::try_from(b).map_err(|e| malformed(format!("stored change: {e}"))))
            .collect::<Result<Vec<_>>>()?;
        untrusted("its changes", || {
            doc.apply_changes(changes)?;
            // As in `load`: a graph Automerge accepted but cannot walk is refused now.
            doc.get_changes(&[]);
            Ok::<_, automerge::AutomergeError>(())
        })??;
        Self::from_automerge(doc)
    }

    /// Wraps a document received from elsewhere after checking it is a household.
    pub fn from_automerge(doc: AutoCommit) -> Result<Self> {
        let this = Self { doc };
        this.check_shape()?;
        Ok(this)
    }

    /// Sets who the next local changes are attributed to.
    pub fn set_actor(&mut self, actor: automerge::ActorId) {
        self.doc.set_actor(actor);
    }

    pub fn heads(&mut self) -> Vec<ChangeHash> {
        self.doc.get_heads()
    }

    /// The changes not reachable from `heads` (all changes for `&[]`).
    pub fn changes_since(&mut self, heads: &[ChangeHash]) -> Vec<Change> {
        self.doc.get_changes(heads)
    }

    /// Hashes that changes in this document depend on but that it does not hold. Always empty for
    /// a complete document; anything else means a change arrived without its history.
    pub fn missing_dependencies(&mut self) -> Vec<ChangeHash> {
        self.doc.get_missing_deps(&[])
    }

    pub fn change_by_hash(&mut self, hash: &ChangeHash) -> Option<Change> {
        self.doc.get_change_by_hash(hash)
    }

    /// Takes in another replica's copy; returns the hashes of the changes that were new here.
    pub fn merge(&mut self, other: &mut HouseholdDoc) -> Result<Vec<ChangeHash>> {
        Ok(self.doc.merge(&mut other.doc)?)
    }

    /// Takes in received changes. Applied to a copy first: should Automerge fail inside (see
    /// [`untrusted`]), this document is left as it was rather than half-changed.
    pub fn apply_changes(&mut self, changes: Vec<Change>) -> Result<()> {
        let mut next = self.doc.clone();
        let before = next.get_heads();
        untrusted("the changes", || {
            next.apply_changes(changes)?;
            // Building the new changes walks their part of the graph: Automerge accepts some
            // changes it cannot walk, and panics only when a later read does.
            next.get_changes(&before);
            Ok::<_, automerge::AutomergeError>(())
        })??;
        self.doc = next;
        self.check_shape()
    }

    /// The whole document, history included, compressed.
    pub fn save(&mut self) -> Vec<u8> {
        self.doc.save()
    }

    /// The whole document, history included, without Automerge's own column compression (for
    /// a store or a wire that compresses it better as a whole).
    pub fn save_nocompress(&mut self) -> Vec<u8> {
        self.doc.save_nocompress()
    }

    pub fn automerge(&mut self) -> &mut AutoCommit {
        &mut self.doc
    }
}
