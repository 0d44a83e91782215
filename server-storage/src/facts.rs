//! What the server reads from household documents besides checking them: the facts it indexes
//! beside the stored changes ([`HouseholdFacts`]: the members' national IDs and the household
//! a retired one was merged into), read from the
//! document a push makes ([`of`]) or, for databases from before an index existed, rebuilt from
//! the stored changes ([`from_stored`]); and the document a household's stored changes make
//! ([`stored_document`]), shared by the push's checks, the per-household fallback and those
//! rebuilds.

use std::collections::BTreeSet;

use automerge::{AutoCommit, Change};
use madadkar_schema::{
    DocumentError, Household, HouseholdDoc, change::parse_change, document::untrusted,
};
use uuid::Uuid;

use crate::HouseholdFacts;

/// The document a household's stored changes make. A stored change Automerge refuses (one a
/// server from before the push's checks accepted, e.g. a reused sequence number) is left out, as
/// every replica sets it aside: it must not keep the household's good changes from being
/// checked and stored.
pub fn stored_document(household: Uuid, stored: Vec<Change>) -> AutoCommit {
    apply_stored(&AutoCommit::new(), household, stored).0
}

/// `base` with stored changes applied as [`stored_document`] applies them: all at once, or,
/// when Automerge refuses them together, one by one, leaving out each it refuses (logged, by
/// count only); and whether every change was applied.
pub fn apply_stored(base: &AutoCommit, household: Uuid, stored: Vec<Change>) -> (AutoCommit, bool) {
    let mut doc = base.clone();
    if apply_all(&mut doc, stored.clone()) {
        return (doc, true);
    }
    let mut doc = base.clone();
    let mut skipped = 0;
    for change in stored {
        let mut next = doc.clone();
        if apply_all(&mut next, vec![change]) {
            doc = next;
        } else {
            skipped += 1;
        }
    }
    tracing::warn!(%household, skipped, "stored changes that do not apply were left out");
    (doc, skipped == 0)
}

/// Applies `changes` to `doc` in place; `false` when Automerge refuses them (or panics on
/// them, which counts as a refusal), and `doc` must then be thrown away.
pub fn apply_all(doc: &mut AutoCommit, changes: Vec<Change>) -> bool {
    matches!(
        untrusted("stored changes", || doc.apply_changes(changes)),
        Ok(Ok(()))
    )
}

/// The facts of a household document that passed the push's checks.
pub fn of(household: Uuid, doc: &HouseholdDoc) -> Result<HouseholdFacts, DocumentError> {
    Ok(of_read(household, &doc.read()?))
}

/// The facts of a household already read from its document (for a caller that reads it for
/// other checks too, and need not read it twice).
pub fn of_read(household: Uuid, read: &Household) -> HouseholdFacts {
    let national_ids: BTreeSet<String> = read
        .members
        .iter()
        .filter_map(|m| m.national_id.as_ref())
        .map(|n| n.as_str().to_string())
        .collect();
    HouseholdFacts {
        household,
        national_ids: national_ids.into_iter().collect(),
        merged_into: read.merged.as_ref().map(|link| link.survivor),
    }
}

/// The facts of a household rebuilt from its stored changes (each parsed within the bounds of
/// a received change; one that does not parse is left out, as in [`stored_document`]).
pub fn from_stored(household: Uuid, stored: &[Vec<u8>]) -> Result<HouseholdFacts, DocumentError> {
    let changes = stored
        .iter()
        .filter_map(|bytes| parse_change(bytes).ok())
        .collect();
    let doc = HouseholdDoc::from_automerge(stored_document(household, changes))?;
    of(household, &doc)
}
