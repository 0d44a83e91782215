//! Secrets: device tokens and one-time enrolment codes are random, shown once, and stored only
//! as SHA-256 hashes.

use sha2::{Digest, Sha256};

use crate::storage::Hash;

/// Letters and digits that cannot be mistaken for each other when read aloud or typed.
const CODE_ALPHABET: &[u8] = b"23456789ABCDEFGHJKLMNPQRSTUVWXYZ";

pub fn hash(secret: &str) -> Hash {
    Sha256::digest(secret.trim().as_bytes()).into()
}

fn random_bytes<const N: usize>() -> Result<[u8; N], getrandom::Error> {
    let mut buf = [0u8; N];
    getrandom::fill(&mut buf)?;
    Ok(buf)
}

/// A 256-bit device token, hex-encoded.
pub fn new_token() -> Result<String, getrandom::Error> {
    Ok(random_bytes::<32>()?
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect())
}

/// A one-time enrolment code like `K7QM-4TRX-9HCP` (60 bits; it expires and works once).
pub fn new_enroll_code() -> Result<String, getrandom::Error> {
    let bytes = random_bytes::<12>()?;
    let chars: Vec<char> = bytes
        .iter()
        .map(|b| CODE_ALPHABET[usize::from(*b) % CODE_ALPHABET.len()] as char)
        .collect();
    Ok(chars
        .chunks(4)
        .map(|c| c.iter().collect::<String>())
        .collect::<Vec<_>>()
        .join("-"))
}

/// Codes are read off paper: accept lower case and missing or extra dashes and spaces.
pub fn normalize_code(code: &str) -> String {
    let plain: String = code
        .chars()
        .filter(|c| c.is_ascii_alphanumeric())
        .map(|c| c.to_ascii_uppercase())
        .collect();
    plain
        .as_bytes()
        .chunks(4)
        .map(|c| String::from_utf8_lossy(c).into_owned())
        .collect::<Vec<_>>()
        .join("-")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_readable_and_normalise() {
        let code = new_enroll_code().expect("random");
        assert_eq!(code.len(), 14);
        assert_eq!(normalize_code(&code.to_lowercase().replace('-', " ")), code);
        assert_ne!(new_token().expect("random"), new_token().expect("random"));
        assert_eq!(hash("abc"), hash(" abc "));
    }
}
