//! Parsing one Automerge change received from elsewhere, within bounds: a change chunk may be
//! compressed, and a small hostile chunk must not inflate to gigabytes or expand into millions
//! of operations on the server or on any replica that pulls it.

use std::io::Read;

use automerge::Change;
use thiserror::Error;

use crate::wire::MAX_CHANGE_BYTES;

/// The largest change a compressed chunk may inflate to. Automerge compresses chunks over a few
/// hundred bytes; a real change (a visit with long notes) stays far below this.
pub const MAX_INFLATED_CHANGE_BYTES: usize = 4 * MAX_CHANGE_BYTES;
/// The most operations one change may hold. Registering a household is about 40; merging a
/// large household through the per-document fallback stays well below this.
pub const MAX_CHANGE_OPS: usize = 100_000;

/// Automerge's chunk header: magic bytes, a 4-byte checksum, then the chunk type.
const MAGIC: [u8; 4] = [0x85, 0x6f, 0x4a, 0x83];
const TYPE_AT: usize = 8;
const CHUNK_CHANGE: u8 = 1;
const CHUNK_COMPRESSED: u8 = 2;

#[derive(Debug, Error, PartialEq, Eq)]
pub enum ChangeError {
    #[error("{len} bytes is over the limit of {max} for one change")]
    TooLarge { len: usize, max: usize },
    #[error("a compressed change inflates beyond {max} bytes")]
    InflatesTooFar { max: usize },
    #[error("a change of {ops} operations is over the limit of {max}")]
    TooManyOps { ops: usize, max: usize },
    #[error("is not an Automerge change chunk")]
    NotAChange,
    #[error("does not parse: {0}")]
    Parse(String),
}

/// Parses one change's bytes, refusing anything over the size, inflation and operation bounds
/// before Automerge builds on it.
pub fn parse_change(bytes: &[u8]) -> Result<Change, ChangeError> {
    if bytes.len() > MAX_CHANGE_BYTES {
        return Err(ChangeError::TooLarge {
            len: bytes.len(),
            max: MAX_CHANGE_BYTES,
        });
    }
    if bytes.len() <= TYPE_AT || bytes[..4] != MAGIC {
        return Err(ChangeError::NotAChange);
    }
    match bytes[TYPE_AT] {
        CHUNK_CHANGE => {}
        CHUNK_COMPRESSED => check_inflated_size(&bytes[TYPE_AT + 1..])?,
        _ => return Err(ChangeError::NotAChange),
    }
    let change = Change::try_from(bytes).map_err(|e| ChangeError::Parse(e.to_string()))?;
    if change.len() > MAX_CHANGE_OPS {
        return Err(ChangeError::TooManyOps {
            ops: change.len(),
            max: MAX_CHANGE_OPS,
        });
    }
    Ok(change)
}

/// Inflates a compressed chunk's body (after its LEB128 length) into a bounded sink, so the
/// check itself never holds more than the bound.
fn check_inflated_size(after_type: &[u8]) -> Result<(), ChangeError> {
    let (len, header) = uleb128(after_type).ok_or(ChangeError::NotAChange)?;
    let body = after_type
        .get(header..)
        .and_then(|rest| rest.get(..usize::try_from(len).ok()?))
        .ok_or(ChangeError::NotAChange)?;
    let limit = MAX_INFLATED_CHANGE_BYTES as u64;
    let inflated = std::io::copy(
        &mut flate2::read::DeflateDecoder::new(body).take(limit + 1),
        &mut std::io::sink(),
    )
    .map_err(|e| ChangeError::Parse(format!("bad compressed chunk: {e}")))?;
    if inflated > limit {
        return Err(ChangeError::InflatesTooFar {
            max: MAX_INFLATED_CHANGE_BYTES,
        });
    }
    Ok(())
}

/// An unsigned LEB128 number and how many bytes it took (at most 10).
fn uleb128(bytes: &[u8]) -> Option<(u64, usize)> {
    let mut value = 0u64;
    for (i, byte) in bytes.iter().take(10).enumerate() {
        value |= u64::from(byte & 0x7f) << (7 * i);
        if byte & 0x80 == 0 {
            return Some((value, i + 1));
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use automerge::{AutoCommit, transaction::Transactable};

    /// A real change's bytes, as Automerge compresses them when asked for its stored form.
    fn change_of(text_len: usize) -> Vec<u8> {
        let mut doc = AutoCommit::new();
        doc.put(automerge::ROOT, "notes", "ا".repeat(text_len))
            .expect("put");
        doc.commit();
        let mut change = doc.get_changes(&[]).pop().expect("one change");
        change.bytes().to_vec()
    }

    #[test]
    fn real_changes_parse_compressed_or_not() {
        for len in [1, 10_000] {
            let bytes = change_of(len);
            let change = parse_change(&bytes).expect("a real change parses");
            assert_eq!(change.len(), 1);
        }
        assert_eq!(change_of(1)[TYPE_AT], CHUNK_CHANGE);
        assert_eq!(
            change_of(10_000)[TYPE_AT],
            CHUNK_COMPRESSED,
            "long text is compressed"
        );
    }

    #[test]
    fn a_compression_bomb_is_refused_before_it_inflates() {
        // A chunk header claiming compression over a deflate stream of 64 MiB of zeros (~64 KiB).
        let mut deflated = Vec::new();
        let mut encoder = flate2::read::DeflateEncoder::new(
            std::io::repeat(0).take(64 << 20),
            flate2::Compression::best(),
        );
        encoder.read_to_end(&mut deflated).expect("deflate");
        let mut bytes = MAGIC.to_vec();
        bytes.extend_from_slice(&[0; 4]);
        bytes.push(CHUNK_COMPRESSED);
        let mut len = deflated.len() as u64;
        loop {
            let byte = (len & 0x7f) as u8;
            len >>= 7;
            if len == 0 {
                bytes.push(byte);
                break;
            }
            bytes.push(byte | 0x80);
        }
        bytes.extend_from_slice(&deflated);
        assert!(bytes.len() < MAX_CHANGE_BYTES);
        assert_eq!(
            parse_change(&bytes).map(|_| ()),
            Err(ChangeError::InflatesTooFar {
                max: MAX_INFLATED_CHANGE_BYTES
            })
        );
    }

    #[test]
    fn junk_is_refused_with_a_reason() {
        assert_eq!(
            parse_change(b"junk").map(|_| ()),
            Err(ChangeError::NotAChange)
        );
        let mut bytes = change_of(1);
        bytes[TYPE_AT] = 9;
        assert_eq!(
            parse_change(&bytes).map(|_| ()),
            Err(ChangeError::NotAChange)
        );
        let mut bytes = change_of(1);
        let last = bytes.len() - 1;
        bytes[last] ^= 0xff;
        assert!(matches!(parse_change(&bytes), Err(ChangeError::Parse(_))));
        let big = vec![0u8; MAX_CHANGE_BYTES + 1];
        assert!(matches!(
            parse_change(&big),
            Err(ChangeError::TooLarge { .. })
        ));
    }
}
