//! The sync protocol's messages, shared by client and server (see `docs/sync-protocol.md`).
//!
//! Control messages are JSON. Change payloads are binary frames, so Automerge's bytes travel
//! as they are (no base64) and HTTP compression works across the changes of a batch:
//!
//! ```text
//! changes frame = "MDKC" u8:1 u32:count { uuid:16 u64:seq u32:len bytes }*
//!                 "MDKC" u8:2 u32:count { uuid:16 u64:seq u32:len bytes u8:signed [64 signature] }*
//! pull body     = u64:next_cursor u8:more changes-frame
//! doc sync body = u32:len state  u32:len message   (either may be empty)
//! ```
//!
//! Integers are little-endian; `seq` is the server's sequence number (0 in a push). Format 2
//! carries, per change, its author's signature when the sender has one (`signed` 1, then the
//! 64 bytes; see [`crate::authorship`]): what lets a device relay a colleague's change. A frame
//! without any signature is written in format 1, which every server reads.
//!
//! The protocol has a version ([`PROTOCOL_VERSION`], the `/v1` of every path) that the server
//! names in a header of every answer ([`PROTOCOL_HEADER`]), so a client can tell a server of
//! another version from one that is broken or unreachable.

use serde::{Deserialize, Serialize};
use thiserror::Error;
use uuid::Uuid;

use crate::authorship::SIGNATURE_BYTES;
use crate::enums::Role;

/// The version of the sync protocol this build speaks: the `1` of `/v1`. It changes only when
/// an older client could misread the new answers.
pub const PROTOCOL_VERSION: u32 = 1;
/// The response header in which the server names its [`PROTOCOL_VERSION`], on every answer
/// (errors included).
pub const PROTOCOL_HEADER: &str = "madadkar-protocol";

pub const CHANGES_CONTENT_TYPE: &str = "application/x-madadkar-changes";
/// The largest single change accepted (a visit with long observations is a few KiB).
pub const MAX_CHANGE_BYTES: usize = 1024 * 1024;
/// The most changes one push may carry.
pub const MAX_PUSH_CHANGES: usize = 5_000;
/// The largest request body the server reads.
pub const MAX_BODY_BYTES: usize = 32 * 1024 * 1024;
/// The most changes one pull answer may carry. A batch holds at most a few thousand log entries
/// and about 4 MiB, but an entry that brings a household into scope carries its whole history:
/// this leaves a wide margin above any real batch while refusing an absurd one.
pub const MAX_PULL_CHANGES: usize = 100_000;
/// The largest answer a client reads, after decompression (a pull batch is about 4 MiB plus, at
/// most, one household's history). A larger or endlessly inflating answer is refused, never
/// held in memory.
pub const MAX_ANSWER_BYTES: usize = 128 * 1024 * 1024;
/// The fewest bytes one change takes in a changes frame (its household, seq and length), so a
/// count announced by a frame can be checked against the bytes actually present.
const CHANGE_HEADER_BYTES: usize = 16 + 8 + 4;

const MAGIC: &[u8; 4] = b"MDKC";
/// The changes frame without signatures.
const FORMAT: u8 = 1;
/// The changes frame with a signature flag (and maybe a signature) after each change.
const FORMAT_SIGNED: u8 = 2;

#[derive(Debug, Error, PartialEq, Eq)]
pub enum WireError {
    #[error("body {0}")]
    Truncated(#[from] Truncated),
    #[error("not a Madadkar changes frame")]
    BadMagic,
    #[error("frame format {0} is not supported")]
    Format(u8),
    #[error("{count} changes is over the limit of {max}")]
    TooMany { count: usize, max: usize },
    #[error("announces {count} changes but holds bytes for at most {room}")]
    CountBeyondBody { count: usize, room: usize },
    #[error("a change's signature flag is {0}, neither 0 nor 1")]
    SignatureFlag(u8),
    #[error("a flag is {0}, neither 0 nor 1")]
    Flag(u8),
    #[error("a change of {len} bytes is over the limit of {max}")]
    TooLarge { len: usize, max: usize },
    #[error("{0} unexpected bytes after the frame")]
    Trailing(usize),
}

/// One change on the wire: the household it belongs to, the server's sequence number (0 when
/// the client sends it), the Automerge change bytes and, in a push, its author's signature when
/// the sender holds one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WireChange {
    pub household: Uuid,
    pub seq: u64,
    pub bytes: Vec<u8>,
    pub signature: Option<[u8; SIGNATURE_BYTES]>,
}

impl WireChange {
    /// A change without a signature.
    pub fn new(household: Uuid, seq: u64, bytes: Vec<u8>) -> Self {
        Self {
            household,
            seq,
            bytes,
            signature: None,
        }
    }
}

/// Bytes ended before a part they announce.
#[derive(Debug, Clone, Error, PartialEq, Eq)]
#[error("ends inside {what} (truncated?)")]
pub struct Truncated {
    /// The part being read, for the message: "the header", "household 3 of 10".
    pub what: String,
}

/// A cursor over bytes that reads the little-endian integers, ids and length-prefixed parts of
/// Madadkar's binary formats: these frames, and the client's bundles.
#[derive(Debug, Clone)]
pub struct ByteReader<'a> {
    rest: &'a [u8],
}

impl<'a> ByteReader<'a> {
    pub fn new(bytes: &'a [u8]) -> Self {
        Self { rest: bytes }
    }

    /// The next `n` bytes; `what` names the part for the error.
    pub fn take(&mut self, n: usize, what: &str) -> Result<&'a [u8], Truncated> {
        if self.rest.len() < n {
            return Err(Truncated { what: what.into() });
        }
        let (head, tail) = self.rest.split_at(n);
        self.rest = tail;
        Ok(head)
    }

    fn array<const N: usize>(&mut self, what: &str) -> Result<[u8; N], Truncated> {
        let mut out = [0u8; N];
        out.copy_from_slice(self.take(N, what)?);
        Ok(out)
    }

    pub fn u8(&mut self, what: &str) -> Result<u8, Truncated> {
        Ok(self.array::<1>(what)?[0])
    }

    pub fn u32(&mut self, what: &str) -> Result<u32, Truncated> {
        self.array(what).map(u32::from_le_bytes)
    }

    pub fn u64(&mut self, what: &str) -> Result<u64, Truncated> {
        self.array(what).map(u64::from_le_bytes)
    }

    /// A 16-byte UUID.
    pub fn uuid(&mut self, what: &str) -> Result<Uuid, Truncated> {
        self.array(what).map(Uuid::from_bytes)
    }

    /// How many bytes are left unread.
    pub fn remaining(&self) -> usize {
        self.rest.len()
    }
}

fn write_changes(out: &mut Vec<u8>, changes: &[WireChange]) {
    let signed = changes.iter().any(|c| c.signature.is_some());
    out.extend_from_slice(MAGIC);
    out.push(if signed { FORMAT_SIGNED } else { FORMAT });
    out.extend_from_slice(&(changes.len() as u32).to_le_bytes());
    for c in changes {
        out.extend_from_slice(c.household.as_bytes());
        out.extend_from_slice(&c.seq.to_le_bytes());
        out.extend_from_slice(&(c.bytes.len() as u32).to_le_bytes());
        out.extend_from_slice(&c.bytes);
        if signed {
            match &c.signature {
                Some(sig) => {
                    out.push(1);
                    out.extend_from_slice(sig);
                }
                None => out.push(0),
            }
        }
    }
}

fn read_changes(r: &mut ByteReader<'_>, max: usize) -> Result<Vec<WireChange>, WireError> {
    if r.take(4, "the header")? != MAGIC {
        return Err(WireError::BadMagic);
    }
    let format = r.u8("the header")?;
    if format != FORMAT && format != FORMAT_SIGNED {
        return Err(WireError::Format(format));
    }
    let count = r.u32("the header")? as usize;
    if count > max {
        return Err(WireError::TooMany { count, max });
    }
    // The count is the sender's word: nothing is reserved for changes whose bytes are absent.
    let room = r.remaining() / CHANGE_HEADER_BYTES;
    if count > room {
        return Err(WireError::CountBeyondBody { count, room });
    }
    let mut out = Vec::with_capacity(count);
    for _ in 0..count {
        let household = r.uuid("a change")?;
        let seq = r.u64("a change")?;
        let len = r.u32("a change")? as usize;
        if len > MAX_CHANGE_BYTES {
            return Err(WireError::TooLarge {
                len,
                max: MAX_CHANGE_BYTES,
            });
        }
        let bytes = r.take(len, "a change")?.to_vec();
        let signature = if format == FORMAT_SIGNED {
            match r.u8("a change's signature flag")? {
                0 => None,
                1 => {
                    let mut sig = [0u8; SIGNATURE_BYTES];
                    sig.copy_from_slice(r.take(SIGNATURE_BYTES, "a change's signature")?);
                    Some(sig)
                }
                flag => return Err(WireError::SignatureFlag(flag)),
            }
        } else {
            None
        };
        out.push(WireChange {
            household,
            seq,
            bytes,
            signature,
        });
    }
    Ok(out)
}

/// Refuses bytes left after a frame: a sender that means something else by them.
fn finish(r: &ByteReader<'_>) -> Result<(), WireError> {
    match r.remaining() {
        0 => Ok(()),
        n => Err(WireError::Trailing(n)),
    }
}

/// The body of a push.
pub fn encode_push(changes: &[WireChange]) -> Vec<u8> {
    let mut out = Vec::with_capacity(9 + changes.iter().map(|c| c.bytes.len() + 28).sum::<usize>());
    write_changes(&mut out, changes);
    out
}

pub fn decode_push(body: &[u8]) -> Result<Vec<WireChange>, WireError> {
    let mut r = ByteReader::new(body);
    let changes = read_changes(&mut r, MAX_PUSH_CHANGES)?;
    finish(&r)?;
    Ok(changes)
}

/// One batch of a pull: the changes after the client's cursor, the cursor to ask from next,
/// and whether more are waiting.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct PullBatch {
    pub next_cursor: u64,
    pub more: bool,
    pub changes: Vec<WireChange>,
}

impl PullBatch {
    pub fn encode(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(
            18 + self
                .changes
                .iter()
                .map(|c| c.bytes.len() + 28)
                .sum::<usize>(),
        );
        out.extend_from_slice(&self.next_cursor.to_le_bytes());
        out.push(u8::from(self.more));
        write_changes(&mut out, &self.changes);
        out
    }

    pub fn decode(body: &[u8]) -> Result<Self, WireError> {
        let mut r = ByteReader::new(body);
        let next_cursor = r.u64("the header")?;
        let more = r.u8("the header")? != 0;
        let changes = read_changes(&mut r, MAX_PULL_CHANGES)?;
        finish(&r)?;
        Ok(Self {
            next_cursor,
            more,
            changes,
        })
    }
}

/// The largest household document (a saved snapshot) a first-sync batch may carry: a household
/// with years of weekly visits saves to well under 1 MiB.
pub const MAX_SNAPSHOT_BYTES: usize = 8 * 1024 * 1024;
/// The most household documents one first-sync batch may carry.
pub const MAX_SNAPSHOTS: usize = 10_000;
/// The fewest bytes one document takes in a first-sync batch (its household, sequence number
/// and length).
const SNAPSHOT_HEADER_BYTES: usize = 16 + 8 + 4;
const SNAPSHOT_MAGIC: &[u8; 4] = b"MDKB";
const SNAPSHOT_FORMAT: u8 = 1;

/// One household's whole document, saved by Automerge as one compact snapshot, with the last
/// log entry of that household it holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HouseholdSnapshot {
    pub household: Uuid,
    /// The sequence number of the household's last change the snapshot holds.
    pub through: u64,
    pub bytes: Vec<u8>,
}

/// One batch of a first sync (`GET /v1/bootstrap`): the whole documents of the households in
/// the scope, ordered by household id, each holding at least every change up to `head`. Once
/// the last batch is applied, the client pulls the log after `head`; a change it then receives
/// twice (in a snapshot and again in the log) is one Automerge already has.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct BootstrapBatch {
    /// The log's head when the first batch was served; every later batch keeps it.
    pub head: u64,
    /// The household to ask after next; `None` when this was the last batch.
    pub next: Option<Uuid>,
    pub documents: Vec<HouseholdSnapshot>,
}

impl BootstrapBatch {
    pub fn encode(&self) -> Vec<u8> {
        let size: usize = self.documents.iter().map(|d| d.bytes.len() + 28).sum();
        let mut out = Vec::with_capacity(34 + size);
        out.extend_from_slice(SNAPSHOT_MAGIC);
        out.push(SNAPSHOT_FORMAT);
        out.extend_from_slice(&self.head.to_le_bytes());
        match self.next {
            Some(next) => {
                out.push(1);
                out.extend_from_slice(next.as_bytes());
            }
            None => out.push(0),
        }
        out.extend_from_slice(&(self.documents.len() as u32).to_le_bytes());
        for d in &self.documents {
            out.extend_from_slice(d.household.as_bytes());
            out.extend_from_slice(&d.through.to_le_bytes());
            out.extend_from_slice(&(d.bytes.len() as u32).to_le_bytes());
            out.extend_from_slice(&d.bytes);
        }
        out
    }

    pub fn decode(body: &[u8]) -> Result<Self, WireError> {
        let mut r = ByteReader::new(body);
        if r.take(4, "the header")? != SNAPSHOT_MAGIC {
            return Err(WireError::BadMagic);
        }
        let format = r.u8("the header")?;
        if format != SNAPSHOT_FORMAT {
            return Err(WireError::Format(format));
        }
        let head = r.u64("the header")?;
        let next = match r.u8("the header")? {
            0 => None,
            1 => Some(r.uuid("the header")?),
            flag => return Err(WireError::Flag(flag)),
        };
        let count = r.u32("the header")? as usize;
        if count > MAX_SNAPSHOTS {
            return Err(WireError::TooMany {
                count,
                max: MAX_SNAPSHOTS,
            });
        }
        let room = r.remaining() / SNAPSHOT_HEADER_BYTES;
        if count > room {
            return Err(WireError::CountBeyondBody { count, room });
        }
        let mut documents = Vec::with_capacity(count);
        for _ in 0..count {
            let household = r.uuid("a document")?;
            let through = r.u64("a document")?;
            let len = r.u32("a document")? as usize;
            if len > MAX_SNAPSHOT_BYTES {
                return Err(WireError::TooLarge {
                    len,
                    max: MAX_SNAPSHOT_BYTES,
                });
            }
            let bytes = r.take(len, "a document")?.to_vec();
            documents.push(HouseholdSnapshot {
                household,
                through,
                bytes,
            });
        }
        finish(&r)?;
        Ok(Self {
            head,
            next,
            documents,
        })
    }
}

/// One round of Automerge's per-document sync: a session marker and a sync message. The marker
/// is opaque to the client: it sends back what the server last answered (empty to start
/// afresh). The server keeps nothing between rounds; its marker carries the server's side of
/// the session, so the next round may reach any server instance. The client keeps its own sync
/// state on its side.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct DocSyncFrame {
    pub state: Vec<u8>,
    pub message: Vec<u8>,
}

impl DocSyncFrame {
    pub fn encode(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(8 + self.state.len() + self.message.len());
        for part in [&self.state, &self.message] {
            out.extend_from_slice(&(part.len() as u32).to_le_bytes());
            out.extend_from_slice(part);
        }
        out
    }

    pub fn decode(body: &[u8]) -> Result<Self, WireError> {
        let mut r = ByteReader::new(body);
        let n = r.u32("the state")? as usize;
        let state = r.take(n, "the state")?.to_vec();
        let n = r.u32("the message")? as usize;
        let message = r.take(n, "the message")?.to_vec();
        finish(&r)?;
        Ok(Self { state, message })
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EnrollRequest {
    pub code: String,
    /// The device's own id: its Automerge actor, so the server can tie changes to it.
    pub device_id: Uuid,
    pub device_name: String,
    /// The worker id the replica wrote with before it was enrolled, if any.
    #[serde(default)]
    pub local_worker_id: Option<String>,
    /// The device's Ed25519 public key, hex: the key its changes are signed with, so that a
    /// colleague's device may relay them (see [`crate::authorship`]). A device that registers
    /// none can only push its own changes itself.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub signing_key: Option<String>,
}

/// The answer header that names the version of the server's directory of devices; a client
/// whose copy is of another version fetches `GET /v1/directory` (so a sync with nothing new
/// stays one request).
pub const DIRECTORY_HEADER: &str = "madadkar-directory";

/// One device as the server records it: who wrote a change made on it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DirectoryEntry {
    pub device_id: Uuid,
    pub worker_id: String,
    pub worker_name: String,
    pub group_id: Option<String>,
    pub revoked: bool,
    /// The device's Ed25519 public key, hex, when it registered one: what a bundle it signed
    /// is checked against.
    #[serde(default)]
    pub signing_key: Option<String>,
}

/// The answer header naming the version of the scope lists; a client whose copy is of another
/// version fetches `GET /v1/scope` and removes households that left its scope.
pub const SCOPE_HEADER: &str = "madadkar-scope";
/// The answer header naming when the device's lease ends (RFC 3339): past it, the app locks
/// until it syncs again.
pub const LEASE_HEADER: &str = "madadkar-lease-until";

/// `GET /v1/scope`'s answer: every household in the caller's scope.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ScopeList {
    pub version: u64,
    pub households: Vec<Uuid>,
}

/// `GET /v1/directory`'s answer: every enrolled device's worker, and the version they are of.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Directory {
    pub version: u64,
    pub devices: Vec<DirectoryEntry>,
    /// The partners referrals go to (banks, training centres, clinics). Absent from servers
    /// older than schema version 3's: read as none. A partner this version cannot read (a kind
    /// a newer server knows) is left out rather than failing the whole directory, and with it
    /// every sync.
    #[serde(default, deserialize_with = "readable_partners")]
    pub partners: Vec<crate::model::Partner>,
}

fn readable_partners<'de, D: serde::Deserializer<'de>>(
    d: D,
) -> Result<Vec<crate::model::Partner>, D::Error> {
    let values = Vec::<serde_json::Value>::deserialize(d)?;
    Ok(values
        .into_iter()
        .filter_map(|v| serde_json::from_value(v).ok())
        .collect())
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EnrollResponse {
    pub token: String,
    pub worker_id: String,
    pub worker_name: String,
    pub group_id: Option<String>,
    pub role: Role,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Ack {
    pub hash: String,
    pub seq: u64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct PushResponse {
    /// Every change of the push, with its sequence number (also for changes already stored).
    pub accepted: Vec<Ack>,
}

/// The most households one reassignment (`POST /v1/assignments`) names.
pub const MAX_ASSIGN_HOUSEHOLDS: usize = 5_000;

/// `POST /v1/assignments`'s body: move `households` to `group` (the group each is in when
/// absent; a supervisor's own group) and to `worker` of it (absent: the group as a whole).
/// `dry_run` must be given: `true` answers what would move and changes nothing.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AssignRequest {
    pub households: Vec<Uuid>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub group: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub worker: Option<String>,
    pub dry_run: bool,
}

/// Where a household stands: its group and, when it is one worker's, that worker.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct Placement {
    pub group_id: Option<String>,
    pub worker_id: Option<String>,
}

/// One household of a reassignment: where it was and where it goes (the same place when it is
/// already there).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AssignMove {
    pub household: Uuid,
    pub from: Placement,
    pub to: Placement,
}

/// `POST /v1/assignments`'s answer: the preview (`applied` false, nothing changed) or what was
/// done, one entry per household asked for, in the order asked.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AssignResponse {
    pub applied: bool,
    pub moves: Vec<AssignMove>,
    /// Households whose placement changes (changed, when `applied`).
    pub moved: usize,
    /// Households already where they were asked to go.
    pub unchanged: usize,
}

/// `POST /v1/lookup`'s body. Sent in a body, never in the address, so that the national ID
/// stays out of the access logs of proxies on the way.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LookupRequest {
    pub national_id: String,
}

/// A group that holds a household with the national ID looked up.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RegisteredGroup {
    pub group_id: String,
    pub group_name: String,
}

/// `POST /v1/lookup`'s answer: which groups registered the national ID (none: empty). Nothing
/// else: no household, no name.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LookupResponse {
    pub registered: Vec<RegisteredGroup>,
}

/// Every error answer: a stable code for programs, a message for people, and whether trying
/// again later can help.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErrorBody {
    pub code: String,
    pub message: String,
    pub retry: bool,
    /// Households concerned (e.g. those whose changes lack dependencies on the server).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub households: Vec<Uuid>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_partner_of_a_kind_this_version_does_not_know_is_left_out_not_fatal() {
        let json = r#"{"version": 3, "devices": [], "partners": [
            {"code": "bank-a", "kind": "bank", "name": "بانک", "branch": null, "district": null, "active": true},
            {"code": "mfi-b", "kind": "microfinance", "name": "صندوق", "branch": null, "district": null, "active": true}
        ]}"#;
        let directory: Directory = serde_json::from_str(json).expect("the directory reads");
        assert_eq!(directory.partners.len(), 1);
        assert_eq!(directory.partners[0].code, "bank-a");
        let older: Directory =
            serde_json::from_str(r#"{"version": 1, "devices": []}"#).expect("an older server");
        assert!(older.partners.is_empty());
    }

    #[test]
    fn frames_round_trip() {
        let changes = vec![
            WireChange {
                household: Uuid::now_v7(),
                seq: 0,
                bytes: vec![1, 2, 3],
                signature: None,
            },
            WireChange {
                household: Uuid::now_v7(),
                seq: 0,
                bytes: vec![],
                signature: None,
            },
        ];
        assert_eq!(decode_push(&encode_push(&changes)), Ok(changes.clone()));
        let batch = PullBatch {
            next_cursor: 42,
            more: true,
            changes,
        };
        assert_eq!(PullBatch::decode(&batch.encode()), Ok(batch));
        let frame = DocSyncFrame {
            state: vec![9],
            message: vec![],
        };
        assert_eq!(DocSyncFrame::decode(&frame.encode()), Ok(frame));
    }

    #[test]
    fn bad_frames_are_refused() {
        let body = encode_push(&[WireChange {
            household: Uuid::nil(),
            seq: 0,
            bytes: vec![7; 10],
            signature: None,
        }]);
        assert_eq!(
            decode_push(&body[..body.len() - 1]),
            Err(WireError::Truncated(Truncated {
                what: "a change".into()
            }))
        );
        assert_eq!(decode_push(b"JUNK"), Err(WireError::BadMagic));
        let mut long = body.clone();
        long.push(0);
        assert_eq!(decode_push(&long), Err(WireError::Trailing(1)));
        let mut many = b"MDKC\x01".to_vec();
        many.extend_from_slice(&(MAX_PUSH_CHANGES as u32 + 1).to_le_bytes());
        assert!(matches!(decode_push(&many), Err(WireError::TooMany { .. })));
    }

    #[test]
    fn first_sync_batches_round_trip_and_bad_ones_are_refused() {
        let batch = BootstrapBatch {
            head: 9_000,
            next: Some(Uuid::now_v7()),
            documents: vec![
                HouseholdSnapshot {
                    household: Uuid::now_v7(),
                    through: 8_999,
                    bytes: vec![1, 2, 3],
                },
                HouseholdSnapshot {
                    household: Uuid::now_v7(),
                    through: 12,
                    bytes: vec![],
                },
            ],
        };
        let body = batch.encode();
        assert_eq!(BootstrapBatch::decode(&body), Ok(batch.clone()));
        let last = BootstrapBatch {
            next: None,
            ..batch
        };
        assert_eq!(BootstrapBatch::decode(&last.encode()), Ok(last));
        assert!(matches!(
            BootstrapBatch::decode(&body[..body.len() - 1]),
            Err(WireError::Truncated(_))
        ));
        assert_eq!(
            BootstrapBatch::decode(b"MDKC\x01"),
            Err(WireError::BadMagic)
        );
        let mut flag = body.clone();
        flag[13] = 2;
        assert_eq!(BootstrapBatch::decode(&flag), Err(WireError::Flag(2)));
        // Four billion documents announced in a few bytes: refused, nothing reserved.
        let mut many = b"MDKB\x01".to_vec();
        many.extend_from_slice(&1u64.to_le_bytes());
        many.push(0);
        many.extend_from_slice(&u32::MAX.to_le_bytes());
        assert!(matches!(
            BootstrapBatch::decode(&many),
            Err(WireError::TooMany { .. })
        ));
        many.truncate(14);
        many.extend_from_slice(&2u32.to_le_bytes());
        assert_eq!(
            BootstrapBatch::decode(&many),
            Err(WireError::CountBeyondBody { count: 2, room: 0 })
        );
        // A document over the limit is refused by its announced length.
        let mut big = b"MDKB\x01".to_vec();
        big.extend_from_slice(&1u64.to_le_bytes());
        big.push(0);
        big.extend_from_slice(&1u32.to_le_bytes());
        big.extend_from_slice(Uuid::nil().as_bytes());
        big.extend_from_slice(&1u64.to_le_bytes());
        big.extend_from_slice(&(MAX_SNAPSHOT_BYTES as u32 + 1).to_le_bytes());
        assert!(matches!(
            BootstrapBatch::decode(&big),
            Err(WireError::TooLarge { .. })
        ));
    }

    /// A pull answer's header followed by a changes frame announcing `count` changes.
    fn pull_header(count: u32) -> Vec<u8> {
        let mut body = 7u64.to_le_bytes().to_vec();
        body.push(0);
        body.extend_from_slice(b"MDKC\x01");
        body.extend_from_slice(&count.to_le_bytes());
        body
    }

    #[test]
    fn an_announced_count_reserves_nothing_beyond_the_bytes_present() {
        // 18 bytes announcing four billion changes: refused at once, nothing reserved (reserving
        // for the count would ask for hundreds of gigabytes and abort the process).
        let body = pull_header(u32::MAX);
        assert_eq!(
            PullBatch::decode(&body),
            Err(WireError::TooMany {
                count: u32::MAX as usize,
                max: MAX_PULL_CHANGES
            })
        );
        // Within the limit, the count must still fit the bytes that follow it.
        let mut body = pull_header(1_000);
        body.extend_from_slice(&[0; 100]);
        assert_eq!(
            PullBatch::decode(&body),
            Err(WireError::CountBeyondBody {
                count: 1_000,
                room: 3
            })
        );
        let mut push = b"MDKC\x01".to_vec();
        push.extend_from_slice(&(MAX_PUSH_CHANGES as u32).to_le_bytes());
        assert!(matches!(
            decode_push(&push),
            Err(WireError::CountBeyondBody {
                count: MAX_PUSH_CHANGES,
                room: 0
            })
        ));
    }

    #[test]
    fn byte_reader_reads_little_endian_and_names_the_truncated_part() {
        let id = Uuid::now_v7();
        let mut bytes = vec![7u8];
        bytes.extend_from_slice(&0x0102_0304u32.to_le_bytes());
        bytes.extend_from_slice(&42u64.to_le_bytes());
        bytes.extend_from_slice(id.as_bytes());
        bytes.extend_from_slice(b"xy");
        let mut r = ByteReader::new(&bytes);
        assert_eq!(r.u8("a"), Ok(7));
        assert_eq!(r.u32("b"), Ok(0x0102_0304));
        assert_eq!(r.u64("c"), Ok(42));
        assert_eq!(r.uuid("d"), Ok(id));
        assert_eq!(r.remaining(), 2);
        let err = r.u32("the tail").expect_err("only two bytes left");
        assert_eq!(err.to_string(), "ends inside the tail (truncated?)");
        assert_eq!(
            r.take(2, "e"),
            Ok(&b"xy"[..]),
            "a failed read consumes nothing"
        );
    }
}
