//! A first sync from snapshots, above the storage trait: the households a scope sees, a page at
//! a time in id order, each as one compact Automerge document (its cached snapshot, brought up
//! to date from the changes after it when behind, and cached again), instead of every change
//! of every household through the log.

use automerge::AutoCommit;
use madadkar_schema::change::parse_change;
use madadkar_schema::wire::{BootstrapBatch, HouseholdSnapshot};
use uuid::Uuid;

use crate::storage::{CachedSnapshot, Result, Scope, Storage, StoredDocument};

/// Limits on one first-sync batch.
#[derive(Debug, Clone, Copy)]
pub struct BootstrapLimits {
    /// Households per batch.
    pub max_households: usize,
    /// Bytes of documents after which the batch is cut (at a household's end, so at least one
    /// is always sent).
    pub max_bytes: usize,
}

/// The next batch of whole documents of the households `scope` sees after `after`. `head` is
/// the log head the client keeps from its first batch (`None` on the first: the page's own is
/// sent back); every document holds at least every change up to it, since each is built from
/// all the household's changes stored when the page was read.
pub fn bootstrap(
    storage: &impl Storage,
    scope: &Scope,
    after: Option<Uuid>,
    head: Option<u64>,
    limits: BootstrapLimits,
) -> Result<BootstrapBatch> {
    let page = storage.documents_after(scope, after, limits.max_households.max(1))?;
    let full = page.households.len() >= limits.max_households.max(1);
    let mut batch = BootstrapBatch {
        head: head.unwrap_or(page.head),
        next: None,
        documents: Vec::with_capacity(page.households.len()),
    };
    let mut refreshed = Vec::new();
    let mut bytes = 0usize;
    let mut cut = false;
    for stored in page.households {
        if bytes >= limits.max_bytes && !batch.documents.is_empty() {
            cut = true;
            break;
        }
        let household = stored.household;
        let (through, document) = up_to_date(storage, stored, &mut refreshed)?;
        bytes += document.len();
        batch.documents.push(HouseholdSnapshot {
            household,
            through,
            bytes: document,
        });
    }
    if cut || full {
        batch.next = batch.documents.last().map(|d| d.household).or(after);
    }
    // A cache: failing to keep it costs the next first sync time, not this one its answer.
    if let Err(e) = storage.put_snapshots(&refreshed) {
        tracing::warn!(error = %e, "could not cache household snapshots");
    }
    Ok(batch)
}

/// A household's whole document holding every change up to its last: the cached snapshot when
/// it is current; otherwise the snapshot (or nothing) with the changes after it applied,
/// saved, and queued in `refreshed` to be cached.
fn up_to_date(
    storage: &impl Storage,
    stored: StoredDocument,
    refreshed: &mut Vec<(Uuid, CachedSnapshot)>,
) -> Result<(u64, Vec<u8>)> {
    let household = stored.household;
    let mut doc = None;
    let mut from = 0;
    if let Some(cached) = stored.cached {
        // A cached snapshot that no longer reads is rebuilt from every change.
        if let Some(saved) = unpack(&cached.bytes) {
            if cached.through >= stored.last_seq {
                return Ok((cached.through, saved));
            }
            if let Ok(loaded) = AutoCommit::load(&saved) {
                doc = Some(loaded);
                from = cached.through;
            }
        }
    }
    let history = storage.history_between(household, from, stored.last_seq)?;
    let built = madadkar_schema::document::untrusted("its changes", || {
        let mut doc = doc.unwrap_or_default();
        let mut changes = Vec::with_capacity(history.len());
        for (seq, bytes) in &history {
            changes.push(parse_change(bytes).map_err(|e| format!("change {seq}: {e}"))?);
        }
        doc.apply_changes(changes)
            .map_err(|e| format!("its changes do not apply: {e}"))?;
        Ok::<_, String>(doc)
    });
    let reason = match built {
        Ok(Ok(doc)) => {
            return Ok((
                stored.last_seq,
                save(doc, household, stored.last_seq, refreshed),
            ));
        }
        Ok(Err(reason)) => reason,
        Err(e) => e.to_string(),
    };
    // Every change is needed; those read already serve when they are all of them.
    let all = if from == 0 {
        history
    } else {
        storage.history_between(household, 0, stored.last_seq)?
    };
    Ok((stored.last_seq, whole_history(household, all, &reason)))
}

/// A built document saved to send, and queued in `refreshed` to be cached.
fn save(
    mut doc: AutoCommit,
    household: Uuid,
    through: u64,
    refreshed: &mut Vec<(Uuid, CachedSnapshot)>,
) -> Vec<u8> {
    // Without Automerge's own column compression: the batch is compressed as one stream (zstd),
    // which finds what households share and halves the bytes of compressed saves.
    let bytes = doc.save_nocompress();
    match zstd::bulk::compress(&bytes, CACHE_LEVEL) {
        Ok(packed) => refreshed.push((
            household,
            CachedSnapshot {
                through,
                bytes: packed,
            },
        )),
        Err(e) => tracing::warn!(%household, error = %e, "could not compress a snapshot to cache"),
    }
    bytes
}

/// A household whose stored changes do not build a document (planted, or stored by a version
/// that checked less): its changes as they are, one after another, which Automerge also loads
/// as a document. A replica that cannot load them either pulls the log instead, where the
/// household is set aside alone; nothing is cached.
fn whole_history(household: Uuid, all: Vec<(u64, Vec<u8>)>, reason: &str) -> Vec<u8> {
    tracing::warn!(%household, reason, "a household's snapshot could not be built; sending its changes");
    all.into_iter().flat_map(|(_, bytes)| bytes).collect()
}

/// The zstd level cached snapshots are kept at: the fastest, a quarter of the raw save.
const CACHE_LEVEL: i32 = 1;

/// A cached snapshot's saved document; `None` when it does not decompress (it is rebuilt).
fn unpack(cached: &[u8]) -> Option<Vec<u8>> {
    let size = zstd::zstd_safe::get_frame_content_size(cached).ok()??;
    if size > madadkar_schema::wire::MAX_SNAPSHOT_BYTES as u64 {
        return None;
    }
    zstd::bulk::decompress(cached, size as usize).ok()
}
