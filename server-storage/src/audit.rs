//! The access audit: who enrolled, pushed, pulled, looked up, reassigned, merged, revoked or
//! retired what, as an append-only chain of entries in the server's storage. Each entry holds
//! ids only (devices, workers, groups, households; never a name or a household's content) and
//! the SHA-256 of its own canonical encoding together with the previous entry's hash, so that
//! editing, deleting or reordering a stored entry breaks the chain at that entry
//! ([`verify`]). The design and its limits: `docs/security-audit.md`.

use std::collections::HashSet;

use chrono::{DateTime, SecondsFormat, Utc};
use madadkar_schema::AuditAction;
use serde::Serialize;
use sha2::{Digest, Sha256};
use uuid::Uuid;

use crate::{Hash, Principal, Result, Storage, WorkerRecord};

/// The `prev_hash` of the first entry.
pub const GENESIS: Hash = [0; 32];

/// Names the encoding inside every hash, so a later encoding can never produce the same bytes.
const DOMAIN: &[u8] = b"madadkar-audit-v1\0";

/// How many stored entries [`verify`] reads at a time: bounded memory whatever the log's size.
const VERIFY_PAGE: usize = 10_000;

/// What happened, as a handler or an administration command records it; the storage adds the
/// sequence number, the time and the hashes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditEvent {
    pub action: AuditAction,
    /// The device that acted (enroll, push, pull, lookup, merge), or the device acted upon
    /// (revoke, retire); `None` for an administrator's action on a household.
    pub device_id: Option<Uuid>,
    /// That device's worker; for `assign`, the worker given the household (`None`: the group).
    pub worker_id: Option<String>,
    /// For `assign`, the group given the household.
    pub group_id: Option<String>,
    pub household: Option<Uuid>,
}

/// One entry of the chain exactly as stored (text as written, hashes as bytes), so that
/// verification sees what is there, however it was spoiled.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditRow {
    pub seq: i64,
    pub at: String,
    pub action: String,
    pub device_id: Option<String>,
    pub worker_id: Option<String>,
    pub group_id: Option<String>,
    pub household: Option<String>,
    pub prev_hash: Vec<u8>,
    pub hash: Vec<u8>,
}

impl AuditRow {
    /// The entry that follows `prev_hash` at `seq`, sealed with its hash. Ids are written in
    /// one canonical form (lower-case hyphenated UUIDs, UTC times to the microsecond).
    pub fn sealed(seq: i64, at: DateTime<Utc>, event: &AuditEvent, prev_hash: &[u8]) -> Self {
        let mut row = Self {
            seq,
            at: at.to_rfc3339_opts(SecondsFormat::Micros, true),
            action: event.action.code().to_string(),
            device_id: event.device_id.map(|d| d.to_string()),
            worker_id: event.worker_id.clone(),
            group_id: event.group_id.clone(),
            household: event.household.map(|h| h.to_string()),
            prev_hash: prev_hash.to_vec(),
            hash: vec![],
        };
        row.hash = row_hash(&row).to_vec();
        row
    }
}

/// SHA-256 over the entry's canonical encoding, every column but `hash` itself:
/// `DOMAIN u64:seq text:at text:action opt:device opt:worker opt:group opt:household
/// bytes:prev_hash`, where `text`/`bytes` are `u32:len` and the bytes, `opt` is `0` for none or
/// `1` and a `text`, integers little-endian. Every part is length-prefixed or fixed-size, so no
/// two different entries share an encoding.
pub fn row_hash(row: &AuditRow) -> Hash {
    fn bytes(h: &mut Sha256, b: &[u8]) {
        // Stored values are bounded far below 4 GiB; saturating keeps a spoiled one hashable.
        h.update(u32::try_from(b.len()).unwrap_or(u32::MAX).to_le_bytes());
        h.update(b);
    }
    fn optional(h: &mut Sha256, s: Option<&str>) {
        match s {
            None => h.update([0]),
            Some(s) => {
                h.update([1]);
                bytes(h, s.as_bytes());
            }
        }
    }
    let mut h = Sha256::new();
    h.update(DOMAIN);
    h.update(row.seq.to_le_bytes());
    bytes(&mut h, row.at.as_bytes());
    bytes(&mut h, row.action.as_bytes());
    optional(&mut h, row.device_id.as_deref());
    optional(&mut h, row.worker_id.as_deref());
    optional(&mut h, row.group_id.as_deref());
    optional(&mut h, row.household.as_deref());
    bytes(&mut h, &row.prev_hash);
    h.finalize().into()
}

/// The entries of a device's action on some households: one per household, each once, in the
/// order first named. No households, no entries (a no-op pull writes nothing).
pub fn by_device(
    principal: &Principal,
    action: AuditAction,
    households: impl IntoIterator<Item = Uuid>,
) -> Vec<AuditEvent> {
    let mut seen = HashSet::new();
    households
        .into_iter()
        .filter(|h| seen.insert(*h))
        .map(|h| AuditEvent {
            action,
            device_id: Some(principal.device.id),
            worker_id: Some(principal.worker.id.clone()),
            group_id: None,
            household: Some(h),
        })
        .collect()
}

/// The entry of a device's enrolment, or of its revocation or retirement (`action`).
pub fn device_event(action: AuditAction, device: Uuid, worker: &WorkerRecord) -> AuditEvent {
    AuditEvent {
        action,
        device_id: Some(device),
        worker_id: Some(worker.id.clone()),
        group_id: None,
        household: None,
    }
}

/// An entry read for people: typed, with the worker's name from the server's worker records.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AuditEntry {
    pub seq: u64,
    pub at: DateTime<Utc>,
    pub action: AuditAction,
    pub device_id: Option<Uuid>,
    pub worker_id: Option<String>,
    pub worker_name: Option<String>,
    pub group_id: Option<String>,
    pub household: Option<Uuid>,
}

/// Which entries to list, newest first: at most `limit`, below `before` if given.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AuditQuery {
    pub household: Option<Uuid>,
    pub device: Option<Uuid>,
    pub before: Option<u64>,
    pub limit: usize,
}

/// Why the chain breaks at an entry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Break {
    /// No entry holds this sequence number, though later ones exist (deleted, or renumbered).
    Missing,
    /// An entry numbered out of order (below the previous one's successor).
    OutOfOrder,
    /// The entry's `prev_hash` is not the previous entry's hash.
    PrevHash,
    /// The entry's `hash` is not the hash of what it holds (edited).
    Hash,
    /// The entry is not the one the anchor recorded (the chain was rewritten from here), or
    /// the chain ends before the anchor (entries at the end were deleted).
    Anchor,
}

/// The first broken link of the chain.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct BrokenLink {
    pub seq: i64,
    pub problem: Break,
}

/// The outcome of walking the chain.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Verification {
    /// Entries checked before the walk ended (all of them, if nothing broke).
    pub entries: u64,
    /// The last good entry: `seq` and hash. Recorded somewhere else (a log collector, paper),
    /// it is the anchor that shows a later rewrite or truncation.
    pub head: Option<(i64, String)>,
    pub broken: Option<BrokenLink>,
}

/// An entry known from outside the server: its sequence number and hash.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Anchor {
    pub seq: i64,
    pub hash: Hash,
}

impl std::str::FromStr for Anchor {
    type Err = String;

    /// `SEQ:HEX`, as `audit verify` prints the head.
    fn from_str(s: &str) -> std::result::Result<Self, String> {
        let bad = || {
            format!("an anchor is SEQ:HASH (64 hex digits), as `audit verify` prints; not {s:?}")
        };
        let (seq, hex) = s.trim().split_once(':').ok_or_else(bad)?;
        let seq = seq.parse().map_err(|_| bad())?;
        let hash = from_hex(hex).ok_or_else(bad)?;
        Ok(Self { seq, hash })
    }
}

pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn from_hex(s: &str) -> Option<Hash> {
    if s.len() != 64 || !s.is_ascii() {
        return None;
    }
    let mut out = [0u8; 32];
    for (i, byte) in out.iter_mut().enumerate() {
        *byte = u8::from_str_radix(&s[2 * i..2 * i + 2], 16).ok()?;
    }
    Some(out)
}

/// Walks the whole chain in sequence order and reports the first broken link: an entry that
/// is missing, out of order, not linked to its predecessor or not matching its own hash; and,
/// given an anchor, an entry that differs from it or a chain that ends before it.
pub fn verify(storage: &impl Storage, anchor: Option<Anchor>) -> Result<Verification> {
    let mut result = Verification {
        entries: 0,
        head: None,
        broken: None,
    };
    let mut prev: Vec<u8> = GENESIS.to_vec();
    let mut expected: i64 = 1;
    let mut after: Option<i64> = None;
    let broken = |seq, problem| Some(BrokenLink { seq, problem });
    'walk: loop {
        let rows = storage.audit_rows(after, VERIFY_PAGE)?;
        let Some(last) = rows.last() else { break };
        after = Some(last.seq);
        for row in &rows {
            let problem = if row.seq > expected {
                result.broken = broken(expected, Break::Missing);
                break 'walk;
            } else if row.seq < expected {
                Some(Break::OutOfOrder)
            } else if row.prev_hash != prev {
                Some(Break::PrevHash)
            } else if row.hash != row_hash(row) {
                Some(Break::Hash)
            } else if anchor.is_some_and(|a| a.seq == row.seq && a.hash[..] != row.hash[..]) {
                Some(Break::Anchor)
            } else {
                None
            };
            if let Some(problem) = problem {
                result.broken = broken(row.seq, problem);
                break 'walk;
            }
            result.entries += 1;
            result.head = Some((row.seq, hex(&row.hash)));
            prev.clone_from(&row.hash);
            expected = row.seq.saturating_add(1);
        }
    }
    if result.broken.is_none()
        && let Some(a) = anchor
        && a.seq >= expected
    {
        // The chain ends before the entry the anchor recorded: its tail was cut off.
        result.broken = broken(expected, Break::Anchor);
    }
    Ok(result)
}

/// Records a device's action on some households now, one entry per household (none: no
/// write). For handlers already on a blocking thread; async handlers use `api::access`.
pub fn record(
    storage: &impl Storage,
    principal: &Principal,
    action: AuditAction,
    households: impl IntoIterator<Item = Uuid>,
) -> Result<()> {
    let events = by_device(principal, action, households);
    if events.is_empty() {
        return Ok(());
    }
    storage.append_audit(&events, Utc::now())
}

/// A push's entries, one per household pushed to; written once the push passed its checks and
/// before its changes are stored, so no stored change lacks its entry.
pub fn pushed(storage: &impl Storage, principal: &Principal, households: &[Uuid]) -> Result<()> {
    record(
        storage,
        principal,
        AuditAction::Push,
        households.iter().copied(),
    )
}

/// A round of the per-household sync fallback, which sends the household's changes: a pull.
pub fn synced(storage: &impl Storage, principal: &Principal, household: Uuid) -> Result<()> {
    record(storage, principal, AuditAction::Pull, [household])
}
