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
//!
//! Layout (every collection is a map keyed by UUID v7, so concurrent additions never collide):
//!
//! ```text
//! { schema_version: 1, kind: "household", id: "<uuid>",
//!   household: { district, address, phone, alt_phone, status, head_member_id, assigned_group,
//!                assigned_worker, created_at, created_by },
//!   members:   { "<uuid>": { first_name, last_name, national_id, birth_date, sex, relation,
//!                            education, employment, health_notes, disability_notes } },
//!   visits:    { "<uuid>": { date, worker_id, kind, observations, followup_date,
//!                            needs: { income: 0..4, … } } },
//!   referrals: { "<uuid>": { kind, target, visit_id,
//!                            events: { "<uuid>": { status, date, worker_id, note } } } } }
//! ```
//!
//! Madadkar writes strings as scalar strings (dates ISO `YYYY-MM-DD`), need scores and the schema
//! version as signed integers. It reads Automerge text objects as strings too, since that is what
//! other clients' plain string assignment produces. Each action is one change whose message is a
//! JSON [`ChangeMeta`] and whose time is the author's clock in Unix seconds.

mod conflicts;
mod history;
mod layout;
mod meta;
mod migrate;
mod path;
mod read;
mod write;

#[cfg(test)]
mod tests;

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

/// One household's Automerge document.
#[derive(Debug)]
pub struct HouseholdDoc {
    doc: AutoCommit,
}

impl HouseholdDoc {
    /// Loads a document saved whole (`save`) or as concatenated changes, and checks its shape.
    pub fn load(bytes: &[u8]) -> Result<Self> {
        let doc = AutoCommit::load(bytes)?;
        Self::from_automerge(doc)
    }

    /// Loads from an optional snapshot plus the changes stored after it.
    pub fn from_parts<'a>(
        snapshot: Option<&[u8]>,
        changes: impl IntoIterator<Item = &'a [u8]>,
    ) -> Result<Self> {
        let mut doc = match snapshot {
            Some(bytes) => AutoCommit::load(bytes)?,
            None => AutoCommit::new(),
        };
        let changes = changes
            .into_iter()
            .map(|b| Change::try_from(b).map_err(|e| malformed(format!("stored change: {e}"))))
            .collect::<Result<Vec<_>>>()?;
        doc.apply_changes(changes)?;
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

    pub fn apply_changes(&mut self, changes: Vec<Change>) -> Result<()> {
        self.doc.apply_changes(changes)?;
        self.check_shape()
    }

    /// The whole document, history included, compressed.
    pub fn save(&mut self) -> Vec<u8> {
        self.doc.save()
    }

    pub fn automerge(&mut self) -> &mut AutoCommit {
        &mut self.doc
    }
}
