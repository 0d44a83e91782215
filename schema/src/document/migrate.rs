//! The document's schema version and the forward migrations that lift older documents to it.

use automerge::{AutoCommit, ScalarValue, transaction::Transactable};
use chrono::{DateTime, Utc};

use super::layout::declared_version;
use super::meta::{Action, ChangeMeta, commit_options};
use super::{HouseholdDoc, Result};
use crate::error::DocumentError;

/// The layout version this program writes. Older documents are migrated on write; newer ones
/// are refused with [`DocumentError::TooNew`].
pub const SCHEMA_VERSION: u64 = 3;

/// [`SCHEMA_VERSION`] as it is stored: a signed integer, which other Automerge clients read
/// as a plain number (an unsigned one reads as a BigInt in JavaScript).
pub(super) fn stored_version() -> ScalarValue {
    ScalarValue::Int(i64::try_from(SCHEMA_VERSION).unwrap_or(i64::MAX))
}

/// Forward migrations: entry `i` lifts a document from version `i` to `i + 1`. Version 1 is the
/// first released layout. Version 2 adds reconciliation: a member's `father_name`, the
/// household's `merged_*` redirect, a visit's `review` map and the root's `not_duplicates`
/// map. All are optional and the maps are created on first use, so lifting a document to 2
/// writes nothing but the version; the version matters because an app that knows only 1
/// would show a retired household as live and edit an approved visit silently, so it must
/// treat a version 2 document as read-only ("update the app"). Version 3 adds case outcomes:
/// the root's `goals` (the empowerment plan, with steps and their progress) and
/// `status_events` (graduations and re-entries), the household's graduation criteria, a
/// referral's `partner` and an event's `amount` and `reason`, and the referral ledger's states
/// (`sent`, `received`, `approved`, `disbursed`, `refused`, `withdrawn`; the older codes read
/// as their equivalents). Again nothing needs lifting; an app that knows only 2 could not
/// read the new states, so it must not write to a version 3 document.
type Migration = fn(&mut AutoCommit) -> Result<(), DocumentError>;
const MIGRATIONS: &[Migration] = &[nothing_to_lift, nothing_to_lift, nothing_to_lift];

fn nothing_to_lift(_: &mut AutoCommit) -> Result<(), DocumentError> {
    Ok(())
}

impl HouseholdDoc {
    /// Lifts an older document to [`SCHEMA_VERSION`]; returns whether it wrote a change, which
    /// the caller must then store like any other.
    pub fn migrate(&mut self, meta: &ChangeMeta, now: DateTime<Utc>) -> Result<bool> {
        let version = declared_version(&self.doc)?.unwrap_or(0);
        if version >= SCHEMA_VERSION {
            return Ok(false);
        }
        for step in MIGRATIONS.iter().skip(version as usize) {
            step(&mut self.doc)?;
        }
        self.doc
            .put(automerge::ROOT, "schema_version", stored_version())?;
        let meta = meta.action(Action::SchemaMigrate, None, Vec::new());
        self.doc.commit_with(commit_options(&meta, now));
        Ok(true)
    }
}
