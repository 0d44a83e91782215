//! The sync protocol's messages, shared by client and server (see `docs/sync-protocol.md`).
//!
//! Control messages are JSON. Change payloads are binary frames, so Automerge's bytes travel
//! as they are (no base64) and HTTP compression works across the changes of a batch:
//!
//! ```text
//! changes frame = "MDKC" u8:1 u32:count { uuid:16 u64:seq u32:len bytes }*
//! pull body     = u64:next_cursor u8:more changes-frame
//! doc sync body = u32:len state  u32:len message   (either may be empty)
//! ```
//!
//! Integers are little-endian; `seq` is the server's sequence number (0 in a push).

use serde::{Deserialize, Serialize};
use thiserror::Error;
use uuid::Uuid;

use crate::enums::Role;

pub const CHANGES_CONTENT_TYPE: &str = "application/x-madadkar-changes";
/// The largest single change accepted (a visit with long observations is a few KiB).
pub const MAX_CHANGE_BYTES: usize = 1024 * 1024;
/// The most changes one push may carry.
pub const MAX_PUSH_CHANGES: usize = 5_000;
/// The largest request body the server reads.
pub const MAX_BODY_BYTES: usize = 32 * 1024 * 1024;

const MAGIC: &[u8; 4] = b"MDKC";
const FORMAT: u8 = 1;

#[derive(Debug, Error, PartialEq, Eq)]
pub enum WireError {
    #[error("body ends inside {0} (truncated?)")]
    Truncated(&'static str),
    #[error("not a Madadkar changes frame")]
    BadMagic,
    #[error("frame format {0} is not supported")]
    Format(u8),
    #[error("{count} changes is over the limit of {max}")]
    TooMany { count: usize, max: usize },
    #[error("a change of {len} bytes is over the limit of {max}")]
    TooLarge { len: usize, max: usize },
    #[error("{0} unexpected bytes after the frame")]
    Trailing(usize),
}

/// One change on the wire: the household it belongs to, the server's sequence number (0 when
/// the client sends it) and the Automerge change bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WireChange {
    pub household: Uuid,
    pub seq: u64,
    pub bytes: Vec<u8>,
}

struct Reader<'a>(&'a [u8]);

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize, what: &'static str) -> Result<&'a [u8], WireError> {
        if self.0.len() < n {
            return Err(WireError::Truncated(what));
        }
        let (head, tail) = self.0.split_at(n);
        self.0 = tail;
        Ok(head)
    }
    fn u32(&mut self, what: &'static str) -> Result<u32, WireError> {
        let b = self.take(4, what)?;
        Ok(u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
    }
    fn u64(&mut self, what: &'static str) -> Result<u64, WireError> {
        let b = self.take(8, what)?;
        let mut a = [0u8; 8];
        a.copy_from_slice(b);
        Ok(u64::from_le_bytes(a))
    }
}

fn write_changes(out: &mut Vec<u8>, changes: &[WireChange]) {
    out.extend_from_slice(MAGIC);
    out.push(FORMAT);
    out.extend_from_slice(&(changes.len() as u32).to_le_bytes());
    for c in changes {
        out.extend_from_slice(c.household.as_bytes());
        out.extend_from_slice(&c.seq.to_le_bytes());
        out.extend_from_slice(&(c.bytes.len() as u32).to_le_bytes());
        out.extend_from_slice(&c.bytes);
    }
}

fn read_changes(r: &mut Reader<'_>, max: usize) -> Result<Vec<WireChange>, WireError> {
    if r.take(4, "the header")? != MAGIC {
        return Err(WireError::BadMagic);
    }
    let format = r.take(1, "the header")?[0];
    if format != FORMAT {
        return Err(WireError::Format(format));
    }
    let count = r.u32("the header")? as usize;
    if count > max {
        return Err(WireError::TooMany { count, max });
    }
    let mut out = Vec::with_capacity(count);
    for _ in 0..count {
        let household = Uuid::from_slice(r.take(16, "a change")?)
            .map_err(|_| WireError::Truncated("a change"))?;
        let seq = r.u64("a change")?;
        let len = r.u32("a change")? as usize;
        if len > MAX_CHANGE_BYTES {
            return Err(WireError::TooLarge {
                len,
                max: MAX_CHANGE_BYTES,
            });
        }
        out.push(WireChange {
            household,
            seq,
            bytes: r.take(len, "a change")?.to_vec(),
        });
    }
    Ok(out)
}

/// The body of a push.
pub fn encode_push(changes: &[WireChange]) -> Vec<u8> {
    let mut out = Vec::with_capacity(9 + changes.iter().map(|c| c.bytes.len() + 28).sum::<usize>());
    write_changes(&mut out, changes);
    out
}

pub fn decode_push(body: &[u8]) -> Result<Vec<WireChange>, WireError> {
    let mut r = Reader(body);
    let changes = read_changes(&mut r, MAX_PUSH_CHANGES)?;
    if !r.0.is_empty() {
        return Err(WireError::Trailing(r.0.len()));
    }
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
        let mut r = Reader(body);
        let next_cursor = r.u64("the header")?;
        let more = r.take(1, "the header")?[0] != 0;
        let changes = read_changes(&mut r, usize::MAX)?;
        if !r.0.is_empty() {
            return Err(WireError::Trailing(r.0.len()));
        }
        Ok(Self {
            next_cursor,
            more,
            changes,
        })
    }
}

/// One round of Automerge's per-document sync: the server's sync state (kept by the client
/// between rounds, opaque to it) and a sync message.
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
        let mut r = Reader(body);
        let n = r.u32("the state")? as usize;
        let state = r.take(n, "the state")?.to_vec();
        let n = r.u32("the message")? as usize;
        let message = r.take(n, "the message")?.to_vec();
        if !r.0.is_empty() {
            return Err(WireError::Trailing(r.0.len()));
        }
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
    fn frames_round_trip() {
        let changes = vec![
            WireChange {
                household: Uuid::now_v7(),
                seq: 0,
                bytes: vec![1, 2, 3],
            },
            WireChange {
                household: Uuid::now_v7(),
                seq: 0,
                bytes: vec![],
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
        }]);
        assert_eq!(
            decode_push(&body[..body.len() - 1]),
            Err(WireError::Truncated("a change"))
        );
        assert_eq!(decode_push(b"JUNK"), Err(WireError::BadMagic));
        let mut long = body.clone();
        long.push(0);
        assert_eq!(decode_push(&long), Err(WireError::Trailing(1)));
        let mut many = b"MDKC\x01".to_vec();
        many.extend_from_slice(&(MAX_PUSH_CHANGES as u32 + 1).to_le_bytes());
        assert!(matches!(decode_push(&many), Err(WireError::TooMany { .. })));
    }
}
