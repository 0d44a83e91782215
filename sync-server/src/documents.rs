//! Households' stored documents kept in memory between pushes, so that checking a push costs
//! the changes it brings rather than the household's whole history.
//!
//! Before it stores a push, the server builds each household's document from what is stored
//! and checks it with the received changes (`api::validate`). Built from scratch, that reads,
//! parses and applies every stored change: a household visited weekly for a year costs fifty
//! times its first visit. [`DocumentCache`] keeps the document built for a household with the
//! log's sequence number it is complete through, and the next check reads only the changes
//! stored after that number ([`Storage::changes_after`]) and applies them.
//!
//! Nothing here is needed by another server instance: each instance keeps its own cache and
//! brings it up to date from the database on every use, so a change stored through another
//! instance is never missed. A kept document is only ever complete *through the log's head
//! read with the changes* (no change of the household at or below it can be stored later:
//! the visibility rule of `docs/scale-out.md`); changes above the head are applied for the
//! check but not kept. The cache holds at most its budget of estimated bytes and forgets the
//! households used least recently first.

use std::collections::{BTreeMap, HashMap};
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};

use automerge::{ActorId, AutoCommit, Change, ChangeHash};
use madadkar_schema::change::parse_change;
use uuid::Uuid;

use crate::api::ApiError;
use crate::facts::{apply_all, apply_stored, stored_document};
use crate::storage::Storage;

/// The default budget: a few thousand recently pushed households.
pub const DEFAULT_BUDGET_BYTES: usize = 256 * 1024 * 1024;

/// How many bytes of memory a document is taken to hold per byte of its changes: Automerge's
/// operation set in memory is several times its compressed changes. An estimate, used only to
/// keep the cache within its budget.
const MEMORY_PER_CHANGE_BYTE: usize = 8;
/// Added to each document's estimate: the maps and the document's own structures.
const MEMORY_PER_DOCUMENT: usize = 4 * 1024;

/// A household's document built from its stored changes, complete through a sequence number.
#[derive(Debug)]
pub struct Stored {
    /// Every stored change of the household up to `through` (a stored change Automerge
    /// refuses is left out, as [`stored_document`] does).
    pub doc: AutoCommit,
    /// The log's sequence number the document is complete through.
    pub through: u64,
    /// The hash of each change held, by author and author's sequence number: what a received
    /// change may not reuse.
    held: HashMap<(ActorId, u64), ChangeHash>,
    /// Estimated bytes of memory.
    weight: usize,
}

impl Stored {
    fn new(doc: AutoCommit) -> Self {
        Self {
            doc,
            through: 0,
            held: HashMap::new(),
            weight: MEMORY_PER_DOCUMENT,
        }
    }

    fn note(&mut self, changes: &[(Change, usize)]) {
        for (c, len) in changes {
            self.held.insert((c.actor_id().clone(), c.seq()), c.hash());
            self.weight += len * MEMORY_PER_CHANGE_BYTE;
        }
    }
}

/// A household's document as stored now: what may be kept ([`Current::base`]) and the changes
/// stored above the head it was read with (none where sequence numbers commit in order, as
/// on both backends).
#[derive(Debug)]
pub struct Current {
    pub household: Uuid,
    pub base: Stored,
    above: Vec<Change>,
}

impl Current {
    /// The document as stored now, to check received changes on (a copy: the base is kept).
    pub fn document(&self) -> AutoCommit {
        if self.above.is_empty() {
            return self.base.doc.clone();
        }
        apply_stored(&self.base.doc, self.household, self.above.clone()).0
    }

    /// The hash of the stored change by `actor` with its sequence number `seq`, if any.
    pub fn held(&self, actor: &ActorId, seq: u64) -> Option<ChangeHash> {
        self.base
            .held
            .get(&(actor.clone(), seq))
            .copied()
            .or_else(|| {
                self.above
                    .iter()
                    .find(|c| c.actor_id() == actor && c.seq() == seq)
                    .map(Change::hash)
            })
    }
}

/// What the cache has done, for tests and the operator's curiosity.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CacheStats {
    /// Documents found kept and brought up to date.
    pub hits: u64,
    /// Documents built from every stored change.
    pub misses: u64,
    /// Stored changes applied to a kept document.
    pub changes_applied: u64,
    /// Documents held now.
    pub held: u64,
}

#[derive(Debug, Default)]
struct Kept {
    entries: HashMap<Uuid, (Stored, u64)>,
    /// Households by last use, oldest first.
    order: BTreeMap<u64, Uuid>,
    tick: u64,
    weight: usize,
}

/// Households' stored documents kept between pushes, within a budget of estimated bytes.
#[derive(Debug)]
pub struct DocumentCache {
    budget: usize,
    kept: Mutex<Kept>,
    hits: AtomicU64,
    misses: AtomicU64,
    changes_applied: AtomicU64,
}

impl DocumentCache {
    /// A cache of at most `budget` estimated bytes; 0 keeps nothing.
    pub fn new(budget: usize) -> Self {
        Self {
            budget,
            kept: Mutex::new(Kept::default()),
            hits: AtomicU64::new(0),
            misses: AtomicU64::new(0),
            changes_applied: AtomicU64::new(0),
        }
    }

    /// The household's document as stored now: the kept one brought up to date with the
    /// changes stored since, or one built from every stored change. The kept document is
    /// taken out while in use (a push checking the same household meanwhile builds its own);
    /// hand it back with [`DocumentCache::keep`].
    pub fn current<S: Storage>(&self, storage: &S, household: Uuid) -> Result<Current, ApiError> {
        let kept = self.take(household);
        self.up_to_date(storage, household, kept)
    }

    fn up_to_date<S: Storage>(
        &self,
        storage: &S,
        household: Uuid,
        kept: Option<Stored>,
    ) -> Result<Current, ApiError> {
        let after = kept.as_ref().map_or(0, |k| k.through);
        let delta = storage.changes_after(household, after)?;
        let mut upto = Vec::with_capacity(delta.changes.len());
        let mut above = Vec::new();
        for (seq, bytes) in &delta.changes {
            let change = parse_change(bytes).map_err(|e| {
                ApiError::Internal(format!("a stored change of household {household}: {e}"))
            })?;
            if *seq <= delta.head {
                upto.push((change, bytes.len()));
            } else {
                above.push(change);
            }
        }
        let changes = || upto.iter().map(|(c, _)| c.clone()).collect::<Vec<_>>();
        let mut base = match kept {
            Some(mut kept) => {
                self.hits.fetch_add(1, Ordering::Relaxed);
                self.changes_applied
                    .fetch_add(upto.len() as u64, Ordering::Relaxed);
                if !upto.is_empty() && !apply_all(&mut kept.doc, changes()) {
                    // Automerge refused the changes stored since: build the document again
                    // from every change, as a replica would, rather than keep one built
                    // another way.
                    return self.up_to_date(storage, household, None);
                }
                kept
            }
            None => {
                self.misses.fetch_add(1, Ordering::Relaxed);
                Stored::new(stored_document(household, changes()))
            }
        };
        base.note(&upto);
        base.through = delta.head.max(after);
        Ok(Current {
            household,
            base,
            above,
        })
    }

    /// The household's document as stored now, for reading only: a kept one is used and kept
    /// again, but a document built from scratch is not kept (a reader is not about to push).
    pub fn read<S: Storage>(&self, storage: &S, household: Uuid) -> Result<AutoCommit, ApiError> {
        let kept = self.take(household);
        let was_kept = kept.is_some();
        let current = self.up_to_date(storage, household, kept)?;
        let doc = current.document();
        if was_kept {
            self.keep(current);
        }
        Ok(doc)
    }

    /// Keeps a household's stored document for the next check, unless one kept meanwhile is
    /// complete through a later point; then forgets the least recently used households until
    /// the cache is within its budget. A household with nothing stored is not kept: its empty
    /// document saves nothing, and pushes refused for households the server never stored
    /// must not crowd out the ones it holds.
    pub fn keep(&self, current: Current) {
        let Current {
            household, base, ..
        } = current;
        if base.held.is_empty() || base.weight > self.budget {
            return;
        }
        let mut kept = self.lock();
        if let Some((other, _)) = kept.entries.get(&household)
            && other.through >= base.through
        {
            return;
        }
        kept.tick += 1;
        let tick = kept.tick;
        kept.weight += base.weight;
        if let Some((old, old_tick)) = kept.entries.insert(household, (base, tick)) {
            kept.weight -= old.weight;
            kept.order.remove(&old_tick);
        }
        kept.order.insert(tick, household);
        while kept.weight > self.budget {
            let Some((_, oldest)) = kept.order.pop_first() else {
                break;
            };
            if let Some((old, _)) = kept.entries.remove(&oldest) {
                kept.weight -= old.weight;
            }
        }
    }

    /// What the cache has done so far.
    pub fn stats(&self) -> CacheStats {
        CacheStats {
            hits: self.hits.load(Ordering::Relaxed),
            misses: self.misses.load(Ordering::Relaxed),
            changes_applied: self.changes_applied.load(Ordering::Relaxed),
            held: self.lock().entries.len() as u64,
        }
    }

    fn take(&self, household: Uuid) -> Option<Stored> {
        let mut kept = self.lock();
        let (stored, tick) = kept.entries.remove(&household)?;
        kept.order.remove(&tick);
        kept.weight -= stored.weight;
        Some(stored)
    }

    /// The kept documents; a panic while the lock was held leaves nothing half-written (each
    /// step above keeps the maps consistent), so a poisoned lock is used as it is.
    fn lock(&self) -> std::sync::MutexGuard<'_, Kept> {
        self.kept
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}
