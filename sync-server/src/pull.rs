//! The pull algorithm, above the storage trait so every backend answers alike: a batch of the
//! scope's log after the cursor, cut at the entry and byte limits, with the history of
//! households that entered the scope, and the cursor moved past other scopes' entries once
//! nothing of this scope is left.

use madadkar_schema::wire::{PullBatch, WireChange};
use uuid::Uuid;

use crate::storage::{LogEntry, Result, Scope, Storage};

/// Limits on one pull batch.
#[derive(Debug, Clone, Copy)]
pub struct PullLimits {
    /// Log entries per batch (a household entering the scope is one entry, however long its
    /// history).
    pub max_entries: usize,
    /// Bytes of changes after which the batch is cut (at an entry's end, so at least one
    /// entry is always sent).
    pub max_bytes: usize,
}

/// The next batch of changes in `scope` after `after`, leaving out the changes `device` sent
/// itself (it has them).
pub fn pull(
    storage: &impl Storage,
    scope: &Scope,
    device: Uuid,
    after: u64,
    limits: PullLimits,
) -> Result<PullBatch> {
    // One entry more than the batch may hold tells whether more are waiting.
    let page = storage.log_after(scope, device, after, limits.max_entries.saturating_add(1))?;
    let examined = page.entries.len();
    let mut batch = PullBatch {
        next_cursor: after,
        more: false,
        changes: vec![],
    };
    let (mut bytes, mut entries) = (0usize, 0usize);
    for entry in page.entries {
        if entries >= limits.max_entries || (bytes >= limits.max_bytes && entries > 0) {
            batch.more = true;
            break;
        }
        match entry {
            LogEntry::Own { seq } => {
                // Not counted as an entry: the device has it, and it costs nothing to send.
                batch.next_cursor = seq;
                continue;
            }
            LogEntry::Change {
                seq,
                household,
                bytes: data,
            } => {
                bytes += data.len();
                batch.changes.push(WireChange::new(household, seq, data));
                batch.next_cursor = seq;
            }
            LogEntry::Entered { seq, household } => {
                // The household entered this scope: send the history the cursor has passed.
                // Everything up to `after` is final, so this read needs no shared snapshot.
                for (s, data) in storage.history_through(household, after)? {
                    bytes += data.len();
                    batch.changes.push(WireChange::new(household, s, data));
                }
                batch.next_cursor = seq;
            }
        }
        entries += 1;
    }
    if examined > limits.max_entries {
        // The page held more than a batch: more is waiting.
        batch.more = true;
    }
    if !batch.more {
        // Nothing else in scope: skip past entries of other scopes too, up to the head, below
        // which nothing can still appear.
        batch.next_cursor = batch.next_cursor.max(page.head);
    }
    Ok(batch)
}
