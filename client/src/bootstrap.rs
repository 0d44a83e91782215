//! A first sync from snapshots: a replica that never pulled fetches the whole documents of the
//! households in its scope (`GET /v1/bootstrap`), one compact Automerge document each, stores
//! each as it arrives (as the household's snapshot, with no change rows) with its projections,
//! and then pulls the log from the head the server named. A replica of an older server, or one
//! that meets a document it cannot use, falls back to pulling the whole log, which quarantines a
//! bad household and goes on: the first sync is an optimisation, never a reason to stop.

use std::collections::HashSet;

use automerge::AutoCommit;
use madadkar_schema::HouseholdDoc;
use madadkar_schema::document::{Received, untrusted};
use madadkar_schema::wire::{BootstrapBatch, HouseholdSnapshot};
use rusqlite::{Connection, OptionalExtension, TransactionBehavior};
use uuid::Uuid;

use crate::error::{Result, StoreError};
use crate::projection;
use crate::quarantine::Arrived;
use crate::store::{Store, put_meta};
use crate::sync::{Applied, Fault, Http, protocol, store_received};

/// The head the server named in a first sync's first batch, kept until the sync is complete.
const HEAD: &str = "bootstrap_head";
/// The last household of the last batch applied, so an interrupted first sync resumes.
const AFTER: &str = "bootstrap_after";
/// The page cache during a first sync, in KiB (the store's usual one is
/// [`crate::sql::CACHE_KIB`]).
const FIRST_SYNC_CACHE_KIB: i64 = 256 * 1024;
/// Batches one first sync fetches at most (23,000 households come in about a dozen).
const MAX_BATCHES: usize = 10_000;

impl Store {
    /// Whether this replica still has to fetch its scope's whole documents: it never pulled,
    /// or its first sync was interrupted.
    pub(crate) fn bootstrap_due(&self) -> Result<bool> {
        Ok(self.meta_value("pull_cursor")?.is_none())
    }

    /// Fetches and stores the whole documents of the scope, batch by batch, each batch in one
    /// transaction with the point to resume from; then sets the pull cursor to the head the
    /// server named. Falls back to the whole log (cursor 0) when the server has no first sync
    /// or sends a document this replica cannot use.
    pub(crate) fn bootstrap_all(&mut self, http: &mut Http) -> Result<()> {
        // Tens of thousands of households go into every projection's indexes at once: with
        // the store encrypted, each index page that leaves the cache is encrypted on the way
        // out and decrypted again on the way back. A larger cache for the first sync only.
        self.conn
            .pragma_update(None, "cache_size", -FIRST_SYNC_CACHE_KIB)?;
        let result = self.fetch_all(http);
        self.conn
            .pragma_update(None, "cache_size", -crate::sql::CACHE_KIB)?;
        result
    }

    fn fetch_all(&mut self, http: &mut Http) -> Result<()> {
        for _ in 0..MAX_BATCHES {
            let head = self.meta_value(HEAD)?;
            let after = self.meta_value(AFTER)?;
            let mut path = String::from("/v1/bootstrap");
            let mut sep = '?';
            for (key, value) in [("head", &head), ("after", &after)] {
                if let Some(value) = value {
                    path.push_str(&format!("{sep}{key}={value}"));
                    sep = '&';
                }
            }
            let body = match http.get(&path) {
                Ok(body) => body,
                // A server from before first syncs: the log brings everything.
                Err(StoreError::Server { code, .. }) if code == "unknown_endpoint" => {
                    return self.fall_back(http, "the server has no first sync from snapshots");
                }
                Err(e) => return Err(e),
            };
            // An answer this replica cannot read is the server's fault, not a reason to stop:
            // the log brings everything.
            let batch = match BootstrapBatch::decode(&body)
                .map_err(|e| protocol("bad first-sync answer", e))
                .and_then(|b| check_batch(head.as_deref(), after.as_deref(), &b).map(|()| b))
            {
                Ok(batch) => batch,
                Err(e) => return self.fall_back(http, &e.to_string()),
            };
            if let Err(reason) = self.apply_bootstrap(&batch, http)? {
                return self.fall_back(http, &reason);
            }
            if batch.next.is_none() {
                return Ok(());
            }
        }
        Err(StoreError::Protocol {
            message: format!("the first sync did not end after {MAX_BATCHES} batches"),
        })
    }

    /// Gives up the first sync from snapshots: the log is pulled from its start instead, and
    /// whatever batches were stored stay (the log's changes for them are ones they hold).
    fn fall_back(&mut self, http: &mut Http, reason: &str) -> Result<()> {
        let tx = self.conn.transaction()?;
        tx.execute("DELETE FROM meta WHERE key IN (?, ?)", [HEAD, AFTER])?;
        put_meta(&tx, "pull_cursor", "0")?;
        tx.commit()?;
        http.report.first_sync_fallback = Some(reason.to_string());
        Ok(())
    }

    /// Stores one batch in one transaction with the point to resume from (or, for the last,
    /// the pull cursor). `Ok(Err(reason))`: a document this replica cannot use; nothing of the
    /// batch was stored.
    fn apply_bootstrap(
        &mut self,
        batch: &BootstrapBatch,
        http: &mut Http,
    ) -> Result<Result<(), String>> {
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        let (mut changed, mut newer) = (0, 0);
        let mut held = HashSet::new();
        {
            let mut exists = tx.prepare_cached("SELECT 1 FROM documents WHERE id = ?")?;
            for d in &batch.documents {
                if exists
                    .query_row([d.household.to_string()], |_| Ok(()))
                    .optional()?
                    .is_some()
                {
                    held.insert(d.household);
                }
            }
        }
        let prepared = prepare_all(&batch.documents, &held);
        for (document, prepared) in batch.documents.iter().zip(prepared) {
            match prepared.and_then(|p| store_prepared(&tx, document.household, p)) {
                Ok(Applied::Changed { newer: is_newer }) => {
                    changed += 1;
                    newer += usize::from(is_newer);
                }
                Ok(Applied::Unchanged) => {}
                Err(Fault::Household(reason)) => {
                    return Ok(Err(format!("household {}: {reason}", document.household)));
                }
                Err(Fault::Store(e)) => return Err(e),
            }
        }
        match batch.next {
            Some(next) => {
                put_meta(&tx, HEAD, &batch.head.to_string())?;
                put_meta(&tx, AFTER, &next.to_string())?;
            }
            None => {
                tx.execute("DELETE FROM meta WHERE key IN (?, ?)", [HEAD, AFTER])?;
                put_meta(&tx, "pull_cursor", &batch.head.to_string())?;
            }
        }
        tx.commit()?;
        self.forget_cached_documents();
        // Counted once the batch is stored: a batch given up counts nothing.
        http.report.households_changed += changed;
        http.report.needs_update += newer;
        http.report.documents_received += batch.documents.len();
        Ok(Ok(()))
    }
}

/// A batch must keep the head of the first, and move forward through the households in order:
/// one that goes back or stands still would have the client ask for the same batch without end.
fn check_batch(head: Option<&str>, after: Option<&str>, batch: &BootstrapBatch) -> Result<()> {
    let bad = |message: String| Err(StoreError::Protocol { message });
    if let Some(head) = head
        && head != batch.head.to_string()
    {
        return bad(format!(
            "a first-sync batch names head {} where the first named {head}",
            batch.head
        ));
    }
    let mut last: Option<Uuid> = match after {
        Some(a) => Some(Uuid::parse_str(a).map_err(|e| protocol("bad resume point", e))?),
        None => None,
    };
    for d in &batch.documents {
        if last.is_some_and(|l| d.household <= l) {
            return bad(format!(
                "a first-sync batch lists household {} out of order",
                d.household
            ));
        }
        last = Some(d.household);
    }
    if let Some(next) = batch.next
        && last.is_none_or(|l| next < l || (batch.documents.is_empty() && next == l))
    {
        return bad(format!("a first-sync batch that does not move past {next}"));
    }
    Ok(())
}

/// A household's whole document, checked and ready to store: its rows derived, its snapshot
/// packed for the disk; or, for a household this replica already holds, its changes to merge.
enum Prepared {
    New {
        rows: Box<projection::HouseholdRows>,
        packed: Vec<u8>,
        changes: i64,
        newer: bool,
    },
    Held {
        changes: Vec<Vec<u8>>,
    },
}

/// Loads and checks one household's whole document and derives what storing it takes, without
/// touching the database (so households are prepared on several threads at once).
fn prepare(document: &HouseholdSnapshot, held: bool) -> Result<Prepared, Fault> {
    let household = document.household;
    let bytes = document.bytes.as_slice();
    let (mut doc, changes) = untrusted("its document", || {
        let mut doc = AutoCommit::load(bytes)?;
        // Building every change walks the whole change graph: Automerge accepts some documents
        // whose graph is broken and panics only when a later read walks it.
        let changes: Vec<Vec<u8>> = doc
            .get_changes(&[])
            .iter()
            .map(|c| c.raw_bytes().to_vec())
            .collect();
        Ok::<_, automerge::AutomergeError>((doc, changes))
    })
    .map_err(|e| Fault::Household(e.to_string()))?
    .map_err(|e| Fault::Household(format!("Automerge cannot load its document: {e}")))?;
    if held {
        return Ok(Prepared::Held { changes });
    }
    let missing = doc.get_missing_deps(&[]).len();
    if missing > 0 {
        return Err(Fault::Household(format!(
            "its document builds on {missing} changes it does not hold"
        )));
    }
    let received = HouseholdDoc::receive(doc, household)
        .map_err(|e| Fault::Household(format!("the document cannot be used: {e}")))?;
    Ok(Prepared::New {
        rows: Box::new(projection::derive_received(household, &received)?),
        packed: crate::snapshot::pack(bytes)?,
        changes: changes.len() as i64,
        newer: matches!(received, Received::Newer(_)),
    })
}

/// Prepares every document of a batch, on as many threads as the machine has cores (a first
/// sync is the one time a worker waits on this), in the batch's order.
fn prepare_all(
    documents: &[HouseholdSnapshot],
    held: &HashSet<Uuid>,
) -> Vec<Result<Prepared, Fault>> {
    let threads = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1)
        .clamp(1, 8);
    if threads == 1 || documents.len() < 2 * threads {
        return documents
            .iter()
            .map(|d| prepare(d, held.contains(&d.household)))
            .collect();
    }
    let chunk = documents.len().div_ceil(threads);
    std::thread::scope(|scope| {
        let workers: Vec<_> = documents
            .chunks(chunk)
            .map(|part| {
                let worker = scope.spawn(move || {
                    part.iter()
                        .map(|d| prepare(d, held.contains(&d.household)))
                        .collect::<Vec<_>>()
                });
                (part.len(), worker)
            })
            .collect();
        workers
            .into_iter()
            .flat_map(|(len, w)| {
                // One result per document whatever happens, so results stay in step with them.
                w.join().unwrap_or_else(|_| {
                    (0..len)
                        .map(|_| {
                            Err(Fault::Household(
                                "preparing its document failed (a panic)".into(),
                            ))
                        })
                        .collect()
                })
            })
            .collect()
    })
}

/// Stores one prepared household. A household this replica does not hold yet is stored as
/// received: the saved document becomes its snapshot, with no change rows (the compact form),
/// and its projections are written. One it holds already (registered here before enrolling)
/// is merged like a pull, change by change.
fn store_prepared(
    conn: &Connection,
    household: Uuid,
    prepared: Prepared,
) -> Result<Applied, Fault> {
    let id = household.to_string();
    match prepared {
        Prepared::Held { changes } => {
            let arrived: Vec<Arrived<'_>> = changes.iter().map(|b| (None, b.as_slice())).collect();
            store_received(conn, household, &arrived)
        }
        Prepared::New {
            rows,
            packed,
            changes,
            newer,
        } => {
            conn.prepare_cached(
                "INSERT INTO documents (id, snapshot, snapshot_changes, version) VALUES (?, ?, ?, 1)",
            )?
            .execute(rusqlite::params![id, packed, changes])?;
            projection::write(conn, &id, &rows)?;
            Ok(Applied::Changed { newer })
        }
    }
}
