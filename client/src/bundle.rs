//! Bundles: a file holding whole household documents (history included) for teams that move
//! changes on a USB stick instead of a network.
//!
//! Format: the magic `MADADKAR-BUNDLE\n`, a format byte (1), a u32 count, then per household its
//! 16-byte id, a u32 length and that many bytes of Automerge `save()` output. Integers are
//! little-endian. Nothing may follow the last document.

use madadkar_schema::wire::{ByteReader, Truncated};
use uuid::Uuid;

use crate::error::{Result, StoreError};

const MAGIC: &[u8] = b"MADADKAR-BUNDLE\n";
const FORMAT: u8 = 1;
/// A household document stays far below this (tens of visits are tens of KiB).
pub const MAX_DOCUMENT_BYTES: usize = 16 * 1024 * 1024;

pub fn encode(documents: &[(Uuid, Vec<u8>)]) -> Vec<u8> {
    let size = documents.iter().map(|(_, d)| d.len() + 20).sum::<usize>();
    let mut out = Vec::with_capacity(MAGIC.len() + 5 + size);
    out.extend_from_slice(MAGIC);
    out.push(FORMAT);
    out.extend_from_slice(&(documents.len() as u32).to_le_bytes());
    for (id, bytes) in documents {
        out.extend_from_slice(id.as_bytes());
        out.extend_from_slice(&(bytes.len() as u32).to_le_bytes());
        out.extend_from_slice(bytes);
    }
    out
}

/// The framing went wrong: the file ends inside a part it announces.
fn truncated(e: Truncated) -> StoreError {
    StoreError::Bundle(format!("file {e}"))
}

/// Splits a bundle into its documents, checking the framing; the documents themselves are
/// checked by the store before anything is written.
pub fn decode(bytes: &[u8]) -> Result<Vec<(Uuid, &[u8])>> {
    let mut r = ByteReader::new(bytes);
    if r.take(MAGIC.len(), "the header").ok() != Some(MAGIC) {
        return Err(StoreError::Bundle(
            "not a Madadkar bundle (wrong header)".into(),
        ));
    }
    let format = r.u8("the header").map_err(truncated)?;
    if format != FORMAT {
        return Err(StoreError::Bundle(format!(
            "bundle format {format} is not supported (this program reads format {FORMAT})"
        )));
    }
    let count = r.u32("the header").map_err(truncated)? as usize;
    let mut out = Vec::with_capacity(count.min(100_000));
    for i in 0..count {
        let what = format!("household {} of {count}", i + 1);
        let id = r.uuid(&what).map_err(truncated)?;
        let len = r.u32(&what).map_err(truncated)? as usize;
        if len > MAX_DOCUMENT_BYTES {
            return Err(StoreError::Bundle(format!(
                "{what} is {len} bytes, over the limit"
            )));
        }
        out.push((id, r.take(len, &what).map_err(truncated)?));
    }
    if r.remaining() > 0 {
        return Err(StoreError::Bundle(format!(
            "{} unexpected bytes after the last household",
            r.remaining()
        )));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip() {
        let docs = vec![(Uuid::now_v7(), vec![1, 2, 3]), (Uuid::now_v7(), vec![])];
        let bytes = encode(&docs);
        let back = decode(&bytes).expect("decodes");
        assert_eq!(back.len(), 2);
        assert_eq!(back[0], (docs[0].0, &[1u8, 2, 3][..]));
    }

    #[test]
    fn truncation_and_junk_are_refused() {
        let bytes = encode(&[(Uuid::now_v7(), vec![9; 10])]);
        assert!(
            decode(&bytes[..bytes.len() - 1])
                .unwrap_err()
                .to_string()
                .contains("truncated")
        );
        let mut extra = bytes.clone();
        extra.push(0);
        assert!(
            decode(&extra)
                .unwrap_err()
                .to_string()
                .contains("unexpected bytes")
        );
        assert!(
            decode(b"hello")
                .unwrap_err()
                .to_string()
                .contains("wrong header")
        );
    }
}
