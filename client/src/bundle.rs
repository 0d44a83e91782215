//! Bundles: a file holding whole household documents (history included) for teams that move
//! changes on a USB stick instead of a network.
//!
//! Format: the magic `MADADKAR-BUNDLE\n`, a format byte (1), a u32 count, then per household its
//! 16-byte id, a u32 length and that many bytes of Automerge `save()` output. Integers are
//! little-endian. Nothing may follow the last document.

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

struct Reader<'a> {
    rest: &'a [u8],
}

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize, what: &str) -> Result<&'a [u8]> {
        if self.rest.len() < n {
            return Err(StoreError::Bundle(format!(
                "file ends inside {what} (truncated?)"
            )));
        }
        let (head, tail) = self.rest.split_at(n);
        self.rest = tail;
        Ok(head)
    }

    fn u32(&mut self, what: &str) -> Result<u32> {
        let b = self.take(4, what)?;
        Ok(u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
    }
}

/// Splits a bundle into its documents, checking the framing; the documents themselves are
/// checked by the store before anything is written.
pub fn decode(bytes: &[u8]) -> Result<Vec<(Uuid, &[u8])>> {
    let mut r = Reader { rest: bytes };
    if r.take(MAGIC.len(), "the header").ok() != Some(MAGIC) {
        return Err(StoreError::Bundle(
            "not a Madadkar bundle (wrong header)".into(),
        ));
    }
    let format = r.take(1, "the header")?[0];
    if format != FORMAT {
        return Err(StoreError::Bundle(format!(
            "bundle format {format} is not supported (this program reads format {FORMAT})"
        )));
    }
    let count = r.u32("the header")? as usize;
    let mut out = Vec::with_capacity(count.min(100_000));
    for i in 0..count {
        let what = format!("household {} of {count}", i + 1);
        let id = Uuid::from_slice(r.take(16, &what)?)
            .map_err(|e| StoreError::Bundle(format!("{what}: {e}")))?;
        let len = r.u32(&what)? as usize;
        if len > MAX_DOCUMENT_BYTES {
            return Err(StoreError::Bundle(format!(
                "{what} is {len} bytes, over the limit"
            )));
        }
        out.push((id, r.take(len, &what)?));
    }
    if !r.rest.is_empty() {
        return Err(StoreError::Bundle(format!(
            "{} unexpected bytes after the last household",
            r.rest.len()
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
