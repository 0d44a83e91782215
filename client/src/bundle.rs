//! Bundles: a file holding whole household documents (history included) for teams that move
//! changes on a USB stick instead of a network.
//!
//! A bundle file is an [age](https://age-encryption.org/v1) file encrypted to a passphrase
//! (scrypt): a lost USB stick gives nothing away. Inside is the plain format below. A file in
//! the plain format alone (what older versions wrote) is refused.
//!
//! Plain format: the magic `MADADKAR-BUNDLE\n`, a format byte (1), a u32 count, then per
//! household its 16-byte id, a u32 length and that many bytes of Automerge `save()` output.
//! Integers are little-endian. Nothing may follow the last document.
//!
//! Signatures: the authorship signatures of issue 9 belong inside the encryption, in a plain
//! format 2 that follows each document with its authors' signatures; [`decode`] is where they
//! will be checked, before the store sees any document.

use std::io::{Read, Write};
use std::path::Path;

use age::secrecy::SecretString;
use madadkar_schema::wire::{ByteReader, Truncated};
use uuid::Uuid;

use crate::error::{Result, StoreError};
use crate::vault::{self, Passphrase};

const MAGIC: &[u8] = b"MADADKAR-BUNDLE\n";
const FORMAT: u8 = 1;
/// A household document stays far below this (tens of visits are tens of KiB).
pub const MAX_DOCUMENT_BYTES: usize = 16 * 1024 * 1024;
/// The largest bundle read, encrypted or decrypted (a province's documents are a few hundred
/// MiB at most).
pub const MAX_BUNDLE_BYTES: u64 = 4 * 1024 * 1024 * 1024;
/// How every age file begins.
const AGE_MAGIC: &[u8] = b"age-encryption.org/v1\n";

/// Encrypts a plain bundle to `passphrase` (age, scrypt at the work factor age picks for about
/// a second on this machine) and writes it to `path` atomically, readable by its owner only.
pub fn write_file(path: &Path, plain: &[u8], passphrase: &Passphrase) -> Result<()> {
    passphrase.check_new()?;
    let io = |p: &Path| {
        let p = p.display().to_string();
        move |error| StoreError::Io { path: p, error }
    };
    let tmp = path.with_extension("partial");
    let file = vault::create_private(&tmp)?;
    let secret = SecretString::from(passphrase.expose().to_owned());
    let mut writer = age::Encryptor::with_user_passphrase(secret)
        .wrap_output(std::io::BufWriter::new(file))
        .map_err(io(&tmp))?;
    writer.write_all(plain).map_err(io(&tmp))?;
    let file = writer
        .finish()
        .map_err(io(&tmp))?
        .into_inner()
        .map_err(|e| io(&tmp)(e.into_error()))?;
    file.sync_all().map_err(io(&tmp))?;
    std::fs::rename(&tmp, path).map_err(io(path))
}

/// Reads and decrypts a bundle file; returns its plain content for [`decode`].
pub fn read_file(path: &Path, passphrase: &Passphrase) -> Result<Vec<u8>> {
    let io = |error| StoreError::Io {
        path: path.display().to_string(),
        error,
    };
    let size = std::fs::metadata(path).map_err(io)?.len();
    if size > MAX_BUNDLE_BYTES {
        return Err(StoreError::Bundle(format!(
            "{size} bytes is over the limit"
        )));
    }
    let sealed = std::fs::read(path).map_err(io)?;
    open(&sealed, passphrase)
}

/// Decrypts an encrypted bundle. A plain bundle (an older version's) is refused: it may have
/// been read or changed by anyone on the way.
pub fn open(sealed: &[u8], passphrase: &Passphrase) -> Result<Vec<u8>> {
    if sealed.starts_with(MAGIC) {
        return Err(StoreError::Bundle(
            "this bundle is not encrypted (an older Madadkar wrote it); export it again with this version".into(),
        ));
    }
    if !sealed.starts_with(AGE_MAGIC) {
        return Err(StoreError::Bundle(
            "not a Madadkar bundle (wrong header)".into(),
        ));
    }
    let decryptor = age::Decryptor::new_buffered(sealed)
        .map_err(|e| StoreError::Bundle(format!("damaged header: {e}")))?;
    if !decryptor.is_scrypt() {
        return Err(StoreError::Bundle(
            "the bundle is not encrypted to a passphrase".into(),
        ));
    }
    let identity = age::scrypt::Identity::new(SecretString::from(passphrase.expose().to_owned()));
    let mut reader = decryptor
        .decrypt(std::iter::once(&identity as &dyn age::Identity))
        .map_err(|e| match e {
            age::DecryptError::DecryptionFailed
            | age::DecryptError::KeyDecryptionFailed
            | age::DecryptError::NoMatchingKeys => StoreError::WrongBundlePassphrase,
            other => StoreError::Bundle(other.to_string()),
        })?;
    let mut plain = Vec::new();
    (&mut reader)
        .take(MAX_BUNDLE_BYTES + 1)
        .read_to_end(&mut plain)
        .map_err(|e| StoreError::Bundle(format!("damaged or truncated: {e}")))?;
    if plain.len() as u64 > MAX_BUNDLE_BYTES {
        return Err(StoreError::Bundle(
            "over the size limit once decrypted".into(),
        ));
    }
    Ok(plain)
}

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
