//! Bundles: a file holding whole household documents (history included) for teams that move
//! changes on a USB stick instead of a network.
//!
//! A bundle file is an [age](https://age-encryption.org/v1) file encrypted to a passphrase
//! (scrypt): a lost USB stick gives nothing away. Inside is the plain format below. A file in
//! the plain format alone (what older versions wrote) is refused.
//!
//! Plain format 2: the magic `MADADKAR-BUNDLE\n`, a format byte (2), a u32 count, then per household
//! its 16-byte id, a u32 length and that many bytes of Automerge `save()` output, a u32 count of
//! signatures and that many (32-byte change hash, 64-byte author's signature) pairs; then the
//! exporting device's 16-byte id and its 64-byte signature over everything before it. Integers
//! are little-endian. Nothing may follow the signature.
//!
//! The change signatures are what lets the colleague who imports the bundle relay changes the
//! server has not seen (see `madadkar_schema::authorship`); the bundle's signature names the
//! device that wrote it. Plain format 1 (documents only, no signatures) is still read inside
//! the encryption.

use std::io::{Read, Write};
use std::path::Path;

use age::secrecy::SecretString;
use madadkar_schema::authorship::{DeviceKey, SIGNATURE_BYTES};
use madadkar_schema::wire::{ByteReader, Truncated};
use uuid::Uuid;

use crate::error::{Result, StoreError};
use crate::vault::{self, Passphrase};

const MAGIC: &[u8] = b"MADADKAR-BUNDLE\n";
const FORMAT_UNSIGNED: u8 = 1;
const FORMAT: u8 = 2;
/// A household document stays far below this (tens of visits are tens of KiB).
pub const MAX_DOCUMENT_BYTES: usize = 16 * 1024 * 1024;
/// The fewest bytes one household takes in a bundle: what bounds an announced count.
const HOUSEHOLD_HEADER_BYTES: usize = 16 + 4;
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

/// A change's author's signature: its hash and the signature.
pub type ChangeSignature = ([u8; 32], [u8; SIGNATURE_BYTES]);

/// One household to write into a bundle.
#[derive(Debug)]
pub struct Outgoing {
    pub id: Uuid,
    pub document: Vec<u8>,
    pub signatures: Vec<ChangeSignature>,
}

/// One household read from a bundle.
#[derive(Debug, PartialEq, Eq)]
pub struct Incoming<'a> {
    pub id: Uuid,
    pub document: &'a [u8],
    pub signatures: Vec<ChangeSignature>,
}

/// Who signed a bundle: the device, its signature and the bytes it covers.
#[derive(Debug, PartialEq, Eq)]
pub struct BundleSignature<'a> {
    pub device: Uuid,
    pub signature: [u8; SIGNATURE_BYTES],
    pub content: &'a [u8],
}

/// A decoded bundle.
#[derive(Debug, PartialEq, Eq)]
pub struct Decoded<'a> {
    pub households: Vec<Incoming<'a>>,
    /// `None` for a format 1 bundle.
    pub signed_by: Option<BundleSignature<'a>>,
}

/// Writes a bundle signed by this device.
pub fn encode(households: &[Outgoing], device: Uuid, key: &DeviceKey) -> Vec<u8> {
    let size = households
        .iter()
        .map(|h| h.document.len() + 24 + h.signatures.len() * 96)
        .sum::<usize>();
    let mut out = Vec::with_capacity(MAGIC.len() + 5 + size + 80);
    out.extend_from_slice(MAGIC);
    out.push(FORMAT);
    out.extend_from_slice(&(households.len() as u32).to_le_bytes());
    for h in households {
        out.extend_from_slice(h.id.as_bytes());
        out.extend_from_slice(&(h.document.len() as u32).to_le_bytes());
        out.extend_from_slice(&h.document);
        out.extend_from_slice(&(h.signatures.len() as u32).to_le_bytes());
        for (hash, signature) in &h.signatures {
            out.extend_from_slice(hash);
            out.extend_from_slice(signature);
        }
    }
    let signature = key.sign_bundle(&out);
    out.extend_from_slice(device.as_bytes());
    out.extend_from_slice(&signature);
    out
}

/// The framing went wrong: the file ends inside a part it announces.
fn truncated(e: Truncated) -> StoreError {
    StoreError::Bundle(format!("file {e}"))
}

/// Splits a bundle into its households, checking the framing; the documents themselves are
/// checked by the store before anything is written, and the signatures by whoever relies on
/// them (the store for the bundle's, the server for the changes').
pub fn decode(bytes: &[u8]) -> Result<Decoded<'_>> {
    let mut r = ByteReader::new(bytes);
    if r.take(MAGIC.len(), "the header").ok() != Some(MAGIC) {
        return Err(StoreError::Bundle(
            "not a Madadkar bundle (wrong header)".into(),
        ));
    }
    let format = r.u8("the header").map_err(truncated)?;
    if format != FORMAT && format != FORMAT_UNSIGNED {
        return Err(StoreError::Bundle(format!(
            "bundle format {format} is not supported (this program reads formats 1 and {FORMAT})"
        )));
    }
    let count = r.u32("the header").map_err(truncated)? as usize;
    // The count is the file's word: nothing is reserved for households whose bytes are absent.
    if count > r.remaining() / HOUSEHOLD_HEADER_BYTES {
        return Err(StoreError::Bundle(format!(
            "announces {count} households but holds bytes for fewer"
        )));
    }
    let mut households = Vec::with_capacity(count);
    for i in 0..count {
        let what = format!("household {} of {count}", i + 1);
        let id = r.uuid(&what).map_err(truncated)?;
        let len = r.u32(&what).map_err(truncated)? as usize;
        if len > MAX_DOCUMENT_BYTES {
            return Err(StoreError::Bundle(format!(
                "{what} is {len} bytes, over the limit"
            )));
        }
        let document = r.take(len, &what).map_err(truncated)?;
        let mut signatures = Vec::new();
        if format == FORMAT {
            let n = r.u32(&what).map_err(truncated)? as usize;
            if n > r.remaining() / (32 + SIGNATURE_BYTES) {
                return Err(StoreError::Bundle(format!(
                    "{what} announces {n} signatures but holds bytes for fewer"
                )));
            }
            signatures.reserve(n);
            for _ in 0..n {
                let pair = r.take(32 + SIGNATURE_BYTES, &what).map_err(truncated)?;
                let (hash, signature) = pair.split_at(32);
                signatures.push((
                    hash.try_into()
                        .map_err(|_| StoreError::Bundle(what.clone()))?,
                    signature
                        .try_into()
                        .map_err(|_| StoreError::Bundle(what.clone()))?,
                ));
            }
        }
        households.push(Incoming {
            id,
            document,
            signatures,
        });
    }
    let signed_by = if format == FORMAT {
        let content = &bytes[..bytes.len() - r.remaining()];
        let device = r.uuid("the bundle's signature").map_err(truncated)?;
        let signature = r
            .take(SIGNATURE_BYTES, "the bundle's signature")
            .map_err(truncated)?
            .try_into()
            .map_err(|_| StoreError::Bundle("the bundle's signature".into()))?;
        Some(BundleSignature {
            device,
            signature,
            content,
        })
    } else {
        None
    };
    if r.remaining() > 0 {
        return Err(StoreError::Bundle(format!(
            "{} unexpected bytes after the end",
            r.remaining()
        )));
    }
    Ok(Decoded {
        households,
        signed_by,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key() -> DeviceKey {
        DeviceKey::from_secret(&[5; 32])
    }

    #[test]
    fn round_trip_with_signatures() {
        let device = Uuid::now_v7();
        let households = vec![
            Outgoing {
                id: Uuid::now_v7(),
                document: vec![1, 2, 3],
                signatures: vec![([7; 32], [8; 64])],
            },
            Outgoing {
                id: Uuid::now_v7(),
                document: vec![],
                signatures: vec![],
            },
        ];
        let bytes = encode(&households, device, &key());
        let back = decode(&bytes).expect("decodes");
        assert_eq!(back.households.len(), 2);
        assert_eq!(back.households[0].id, households[0].id);
        assert_eq!(back.households[0].document, &[1u8, 2, 3][..]);
        assert_eq!(back.households[0].signatures, vec![([7; 32], [8; 64])]);
        let signed = back.signed_by.expect("signed");
        assert_eq!(signed.device, device);
        madadkar_schema::authorship::verify_bundle(
            &key().public_key(),
            signed.content,
            &signed.signature,
        )
        .expect("the bundle's signature verifies");
    }

    #[test]
    fn a_changed_byte_breaks_the_bundles_signature() {
        let households = vec![Outgoing {
            id: Uuid::now_v7(),
            document: vec![1, 2, 3],
            signatures: vec![],
        }];
        let mut bytes = encode(&households, Uuid::now_v7(), &key());
        let at = MAGIC.len() + 5 + 16 + 4;
        bytes[at] ^= 1;
        let back = decode(&bytes).expect("the framing is intact");
        let signed = back.signed_by.expect("signed");
        assert!(
            madadkar_schema::authorship::verify_bundle(
                &key().public_key(),
                signed.content,
                &signed.signature
            )
            .is_err()
        );
    }

    #[test]
    fn truncation_junk_and_absurd_counts_are_refused() {
        let households = vec![Outgoing {
            id: Uuid::now_v7(),
            document: vec![9; 10],
            signatures: vec![],
        }];
        let bytes = encode(&households, Uuid::now_v7(), &key());
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
        // Four billion households announced in a few bytes: refused, nothing reserved.
        let mut absurd = MAGIC.to_vec();
        absurd.push(FORMAT);
        absurd.extend_from_slice(&u32::MAX.to_le_bytes());
        assert!(
            decode(&absurd)
                .unwrap_err()
                .to_string()
                .contains("announces")
        );
    }
}
