//! Group commit: the pushes that arrive while a transaction is being written wait and go
//! together in the next one ([`crate::storage::Storage::store_pushes`]), so that a busy server
//! pays one commit (one flush to disk) for many pushes instead of one each.
//!
//! One writer thread drains a queue. A handler hands it a push it has checked
//! ([`Committer::commit`]) and waits for that push's own result. The writer takes the first
//! push waiting, and with it every push queued behind it up to [`MAX_GROUP_PUSHES`] pushes and
//! [`MAX_GROUP_BYTES`] of change bytes; a lone push goes at once, with no delay added to wait
//! for company. Each push is all or nothing on its own: one refused (a reused actor and
//! sequence number, say) gets its own error and the others are stored.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc;
use std::sync::{Arc, Mutex, MutexGuard};

use tokio::sync::oneshot;
use tracing::error;

use crate::storage::{PushWrite, Result, Storage, StorageError};

/// The most pushes one transaction stores: enough that a thousand workers pushing at once
/// commit in a few dozen transactions, few enough that one transaction stays short.
pub const MAX_GROUP_PUSHES: usize = 64;

/// The most change bytes one transaction stores (a push larger on its own goes alone).
pub const MAX_GROUP_BYTES: usize = 16 * 1024 * 1024;

/// One push waiting for the writer, and where its result goes.
struct Job {
    write: PushWrite,
    bytes: usize,
    reply: oneshot::Sender<Result<Vec<u64>>>,
}

/// What the writer has done so far (for tests and for the operator's curiosity).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CommitStats {
    /// Transactions written (calls of `store_pushes`).
    pub transactions: u64,
    /// Pushes stored or refused in them.
    pub pushes: u64,
    /// The most pushes one transaction held.
    pub largest_group: u64,
    /// Pushes handed to the writer and not yet answered (the queue's depth, with the group
    /// being written).
    pub queued: u64,
}

#[derive(Debug, Default)]
struct Counters {
    transactions: AtomicU64,
    pushes: AtomicU64,
    largest_group: AtomicU64,
    queued: AtomicU64,
}

/// The queue of pushes to store and the writer thread that drains it. Dropping the committer
/// (with the server's state) closes the queue; the writer stores what is queued and stops.
#[derive(Debug)]
pub struct Committer {
    /// `None` when the writer thread could not be started (every push is then refused as a
    /// server failure, logged once at start).
    queue: Option<mpsc::Sender<Job>>,
    counters: Arc<Counters>,
    /// Held by the writer while it gathers a group; see [`Committer::hold`].
    gate: Arc<Mutex<()>>,
}

/// While held ([`Committer::hold`]), the writer does not start its next transaction.
#[derive(Debug)]
pub struct Hold<'a> {
    _gate: MutexGuard<'a, ()>,
}

impl Committer {
    /// Starts the writer thread over `storage`.
    pub fn start<S: Storage>(storage: Arc<S>) -> Self {
        let (queue, jobs) = mpsc::channel();
        let counters = Arc::new(Counters::default());
        let gate = Arc::new(Mutex::new(()));
        let writer = {
            let (counters, gate) = (counters.clone(), gate.clone());
            std::thread::Builder::new()
                .name("madadkar-commit".into())
                .spawn(move || write_groups(storage.as_ref(), &jobs, &counters, &gate))
        };
        let queue = match writer {
            Ok(_) => Some(queue),
            Err(e) => {
                error!(error = %e, "the commit writer thread could not start; pushes will fail");
                None
            }
        };
        Self {
            queue,
            counters,
            gate,
        }
    }

    /// Queues a checked push and waits for its result: its changes' sequence numbers, or its
    /// own refusal, exactly as `store_changes` would answer for it alone.
    pub async fn commit(&self, write: PushWrite) -> Result<Vec<u64>> {
        self.enqueue(write)?
            .await
            .unwrap_or_else(|_| Err(stopped()))
    }

    /// [`Committer::commit`] for code on a blocking thread (never call it on the async
    /// executor: it blocks until the writer answers).
    pub fn commit_blocking(&self, write: PushWrite) -> Result<Vec<u64>> {
        self.enqueue(write)?
            .blocking_recv()
            .unwrap_or_else(|_| Err(stopped()))
    }

    fn enqueue(&self, write: PushWrite) -> Result<oneshot::Receiver<Result<Vec<u64>>>> {
        let queue = self.queue.as_ref().ok_or_else(stopped)?;
        let (reply, answer) = oneshot::channel();
        let bytes = write.change_bytes();
        self.counters.queued.fetch_add(1, Ordering::Relaxed);
        queue
            .send(Job {
                write,
                bytes,
                reply,
            })
            .map_err(|_| {
                self.counters.queued.fetch_sub(1, Ordering::Relaxed);
                stopped()
            })?;
        Ok(answer)
    }

    pub fn stats(&self) -> CommitStats {
        CommitStats {
            transactions: self.counters.transactions.load(Ordering::Relaxed),
            pushes: self.counters.pushes.load(Ordering::Relaxed),
            largest_group: self.counters.largest_group.load(Ordering::Relaxed),
            queued: self.counters.queued.load(Ordering::Relaxed),
        }
    }

    /// Keeps the writer from starting its next transaction until the guard is dropped, so
    /// that the pushes arriving meanwhile queue up and go together. For tests that need a
    /// group of a known size; serving never needs it.
    pub fn hold(&self) -> Hold<'_> {
        Hold {
            _gate: self.gate.lock().unwrap_or_else(|p| p.into_inner()),
        }
    }
}

fn stopped() -> StorageError {
    StorageError::Backend("the commit writer has stopped".into())
}

/// The writer: takes the first push waiting, gathers those queued behind it within the
/// group's bounds, stores them in one transaction and answers each. Ends when the queue is
/// closed and empty.
fn write_groups<S: Storage>(
    storage: &S,
    jobs: &mpsc::Receiver<Job>,
    counters: &Counters,
    gate: &Mutex<()>,
) {
    // A push that did not fit the last group: it opens the next one.
    let mut carried: Option<Job> = None;
    loop {
        let first = match carried.take() {
            Some(job) => job,
            None => match jobs.recv() {
                Ok(job) => job,
                Err(mpsc::RecvError) => return,
            },
        };
        let group = {
            let _gate = gate.lock().unwrap_or_else(|p| p.into_inner());
            let mut bytes = first.bytes;
            let mut group = vec![first];
            while group.len() < MAX_GROUP_PUSHES {
                let Ok(next) = jobs.try_recv() else { break };
                if bytes.saturating_add(next.bytes) > MAX_GROUP_BYTES {
                    carried = Some(next);
                    break;
                }
                bytes += next.bytes;
                group.push(next);
            }
            group
        };
        let (writes, replies): (Vec<PushWrite>, Vec<_>) =
            group.into_iter().map(|j| (j.write, j.reply)).unzip();
        let stored = catch_unwind(AssertUnwindSafe(|| storage.store_pushes(&writes)))
            .unwrap_or_else(|_| {
                Err(StorageError::Backend(
                    "the storage failed (a panic) storing a group of pushes".into(),
                ))
            });
        let n = replies.len() as u64;
        counters.transactions.fetch_add(1, Ordering::Relaxed);
        counters.pushes.fetch_add(n, Ordering::Relaxed);
        counters.largest_group.fetch_max(n, Ordering::Relaxed);
        counters.queued.fetch_sub(n, Ordering::Relaxed);
        match stored {
            Ok(results) if results.len() == replies.len() => {
                for (reply, result) in replies.into_iter().zip(results) {
                    // A push whose handler has gone (its client hung up) needs no answer.
                    let _ = reply.send(result);
                }
            }
            Ok(results) => {
                let message = format!(
                    "the storage answered {} results for {} pushes",
                    results.len(),
                    replies.len()
                );
                for reply in replies {
                    let _ = reply.send(Err(StorageError::Backend(message.clone())));
                }
            }
            Err(e) => {
                // The transaction failed as a whole: nothing is stored, each push hears so.
                let message = e.to_string();
                for reply in replies {
                    let _ = reply.send(Err(StorageError::Backend(message.clone())));
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::storage::{IncomingChange, sqlite::SqliteStorage};
    use automerge::{AutoCommit, ROOT, transaction::Transactable};
    use uuid::Uuid;

    /// A change of a new document by a new actor: no dependencies, its own household.
    fn push_of(value: &str) -> PushWrite {
        let mut doc = AutoCommit::new();
        doc.put(ROOT, "x", value).expect("put");
        doc.commit();
        let change = doc.get_changes(&[]).remove(0);
        let household = Uuid::now_v7();
        PushWrite {
            changes: vec![IncomingChange {
                household,
                hash: change.hash().0,
                bytes: change.raw_bytes().to_vec(),
                device_id: Uuid::now_v7(),
            }],
            new_households: vec![(household, Default::default())],
            facts: vec![],
            audit: vec![],
            at: chrono::Utc::now(),
        }
    }

    /// Pushes queued while the writer is held go in one transaction; the sequence numbers
    /// follow the queue's order; a lone push afterwards goes alone at once.
    #[test]
    fn pushes_queued_behind_a_transaction_go_together() {
        let dir = tempfile::tempdir().expect("tempdir");
        let storage = Arc::new(SqliteStorage::open(&dir.path().join("s.sqlite3")).expect("db"));
        let committer = Arc::new(Committer::start(storage));
        let answers: Vec<_> = {
            let _held = committer.hold();
            let answers = (0..10)
                .map(|i| committer.enqueue(push_of(&i.to_string())).expect("queued"))
                .collect();
            // The writer took the first push and waits on the gate with it.
            answers
        };
        let seqs: Vec<u64> = answers
            .into_iter()
            .map(|a| a.blocking_recv().expect("answered").expect("stored")[0])
            .collect();
        assert_eq!(seqs, (1..=10).collect::<Vec<u64>>());
        assert_eq!(
            committer.stats(),
            CommitStats {
                transactions: 1,
                pushes: 10,
                largest_group: 10,
                queued: 0,
            }
        );
        assert_eq!(
            committer.commit_blocking(push_of("alone")).expect("stored"),
            vec![11]
        );
        assert_eq!(committer.stats().transactions, 2);
    }
}
