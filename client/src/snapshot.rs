//! How a household's snapshot is kept on disk: Automerge's save without its own column
//! compression, compressed as a whole with zstd and a dictionary built into the app
//! (`snapshot.dict`, trained on household documents by `madadkar-bench --train-dictionary`).
//! Household documents share their keys, enumerations and shape, which the dictionary holds
//! once instead of in every document: a province's documents take less than half the room of
//! Automerge's own compressed saves. A snapshot an older version stored (Automerge's compressed
//! save) is recognised by its first bytes and read as it is.

use std::borrow::Cow;
use std::cell::RefCell;
use std::sync::OnceLock;

use madadkar_schema::DocumentError;
use zstd::dict::{DecoderDictionary, EncoderDictionary};

use crate::error::Result;

/// The dictionary, trained on household documents (see the module's note).
static DICTIONARY: &[u8] = include_bytes!("snapshot.dict");
/// zstd's frame magic number, which no Automerge document starts with.
const ZSTD_MAGIC: [u8; 4] = [0x28, 0xb5, 0x2f, 0xfd];
/// Fast, and within a few per cent of the higher levels on documents this small.
const LEVEL: i32 = 3;
/// The most a stored snapshot may unpack to: a household of decades of weekly visits is a few
/// MiB; anything claiming more is refused before memory is set aside for it.
pub(crate) const MAX_UNPACKED: usize = 64 * 1024 * 1024;

fn encoder_dictionary() -> &'static EncoderDictionary<'static> {
    static D: OnceLock<EncoderDictionary<'static>> = OnceLock::new();
    D.get_or_init(|| EncoderDictionary::copy(DICTIONARY, LEVEL))
}

fn decoder_dictionary() -> &'static DecoderDictionary<'static> {
    static D: OnceLock<DecoderDictionary<'static>> = OnceLock::new();
    D.get_or_init(|| DecoderDictionary::copy(DICTIONARY))
}

thread_local! {
    // One context per thread, reused: making one per document would cost more than the work.
    static COMPRESSOR: RefCell<Option<zstd::bulk::Compressor<'static>>> = const { RefCell::new(None) };
    static DECOMPRESSOR: RefCell<Option<zstd::bulk::Decompressor<'static>>> = const { RefCell::new(None) };
}

fn bad(what: impl std::fmt::Display) -> crate::error::StoreError {
    DocumentError::Malformed(format!("stored snapshot: {what}")).into()
}

/// A document saved without compression (`save_nocompress`), packed for the disk.
pub(crate) fn pack(saved: &[u8]) -> Result<Vec<u8>> {
    COMPRESSOR.with_borrow_mut(|slot| {
        if slot.is_none() {
            *slot = Some(
                zstd::bulk::Compressor::with_prepared_dictionary(encoder_dictionary())
                    .map_err(bad)?,
            );
        }
        let compressor = slot.as_mut().ok_or_else(|| bad("no compressor"))?;
        compressor.compress(saved).map_err(bad)
    })
}

/// The Automerge bytes of a stored snapshot: unpacked when this version packed it, as stored
/// when an older one wrote Automerge's own compressed save.
pub(crate) fn unpack(stored: &[u8]) -> Result<Cow<'_, [u8]>> {
    if !stored.starts_with(&ZSTD_MAGIC) {
        return Ok(Cow::Borrowed(stored));
    }
    let size = match zstd::zstd_safe::get_frame_content_size(stored) {
        Ok(Some(size)) => size,
        Ok(None) => return Err(bad("its size is not recorded")),
        Err(_) => return Err(bad("its frame header does not read")),
    };
    if size > MAX_UNPACKED as u64 {
        return Err(bad(format!(
            "it unpacks to {size} bytes, over the limit of {MAX_UNPACKED}"
        )));
    }
    DECOMPRESSOR.with_borrow_mut(|slot| {
        if slot.is_none() {
            *slot = Some(
                zstd::bulk::Decompressor::with_prepared_dictionary(decoder_dictionary())
                    .map_err(bad)?,
            );
        }
        let decompressor = slot.as_mut().ok_or_else(|| bad("no decompressor"))?;
        decompressor
            .decompress(stored, size as usize)
            .map(Cow::Owned)
            .map_err(bad)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_packed_document_unpacks_to_the_same_bytes_and_an_old_save_is_read_as_is() {
        let mut doc = automerge::AutoCommit::new();
        use automerge::transaction::Transactable;
        doc.put(
            automerge::ROOT,
            "id",
            "0192f1c4-0000-7000-8000-000000000001",
        )
        .expect("a put");
        let saved = doc.save_nocompress();
        let packed = pack(&saved).expect("packs");
        assert!(packed.starts_with(&ZSTD_MAGIC));
        assert_eq!(unpack(&packed).expect("unpacks").as_ref(), saved.as_slice());
        let old = doc.save();
        assert!(matches!(unpack(&old), Ok(Cow::Borrowed(b)) if b == old.as_slice()));
    }

    #[test]
    fn a_damaged_or_oversized_snapshot_is_refused_not_allocated() {
        let packed = pack(&[7u8; 4096]).expect("packs");
        assert!(unpack(&packed[..packed.len() - 3]).is_err());
        // A frame header announcing 1 TiB of content.
        let bomb = zstd::bulk::compress(&[0u8; 16], 1).expect("compresses");
        let mut header = bomb.clone();
        // Frame header descriptor with an 8-byte content size field follows the magic.
        header.truncate(4);
        header.push(0b1110_0000);
        header.extend_from_slice(&(1u64 << 40).to_le_bytes());
        let e = unpack(&header).expect_err("refused").to_string();
        assert!(e.contains("over the limit"), "{e}");
    }
}
