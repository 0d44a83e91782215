//! Authorship on this replica: the device's Ed25519 signing key (made once, kept in the store),
//! the signatures queued with outgoing changes, and the server's directory of devices, from
//! which history and conflicts name a change's author instead of trusting the name the change
//! carries. See `madadkar_schema::authorship` and `docs/security.md`.

use std::collections::HashMap;

use madadkar_schema::authorship::{self, DeviceKey, SECRET_KEY_BYTES, SIGNATURE_BYTES};
use rusqlite::{Connection, OptionalExtension, params};
use uuid::Uuid;

use crate::error::{Result, StoreError};

const KEY_META: &str = "signing_key";

/// The device's signing key, made (from the operating system's randomness) the first time it
/// is needed, in the caller's transaction.
pub(crate) fn device_key(conn: &Connection) -> Result<DeviceKey> {
    let stored: Option<String> = conn
        .query_row("SELECT value FROM meta WHERE key = ?", [KEY_META], |r| {
            r.get(0)
        })
        .optional()?;
    if let Some(text) = stored {
        let bytes =
            authorship::from_hex::<SECRET_KEY_BYTES>(&text).ok_or(StoreError::BadSigningKey)?;
        return Ok(DeviceKey::from_secret(&bytes));
    }
    let mut secret = [0u8; SECRET_KEY_BYTES];
    getrandom::fill(&mut secret).map_err(|e| StoreError::Randomness {
        message: e.to_string(),
    })?;
    conn.execute(
        "INSERT INTO meta (key, value) VALUES (?, ?)",
        params![KEY_META, authorship::hex(&secret)],
    )?;
    Ok(DeviceKey::from_secret(&secret))
}

/// Stores an author's signature with a queued change (a change this replica made, or one a
/// bundle carried with its author's signature). A change not queued is left alone.
pub(crate) fn queue_signature(
    conn: &Connection,
    hash: &[u8; 32],
    signature: &[u8; SIGNATURE_BYTES],
) -> Result<()> {
    conn.prepare_cached("UPDATE outbox SET signature = ?1 WHERE hash = ?2 AND signature IS NULL")?
        .execute(params![signature.as_slice(), hash.as_slice()])?;
    Ok(())
}

/// The signatures queued with a household's changes: what a bundle carries so the colleague
/// who imports it can relay them.
pub(crate) fn queued_signatures(
    conn: &Connection,
    household: Uuid,
) -> Result<HashMap<[u8; 32], [u8; SIGNATURE_BYTES]>> {
    let mut stmt = conn.prepare_cached(
        "SELECT hash, signature FROM outbox WHERE doc_id = ? AND signature IS NOT NULL",
    )?;
    let rows = stmt.query_map([household.to_string()], |r| {
        Ok((r.get::<_, Vec<u8>>(0)?, r.get::<_, Vec<u8>>(1)?))
    })?;
    let mut out = HashMap::new();
    for row in rows {
        let (hash, signature) = row?;
        if let (Ok(h), Ok(s)) = (hash.try_into(), signature.try_into()) {
            out.insert(h, s);
        }
    }
    Ok(out)
}

pub use madadkar_schema::wire::DirectoryEntry;

/// Replaces the stored directory with the server's, in the caller's transaction.
pub(crate) fn store_directory(conn: &Connection, entries: &[DirectoryEntry]) -> Result<()> {
    conn.execute("DELETE FROM directory", [])?;
    let mut insert = conn.prepare_cached(
        "INSERT OR REPLACE INTO directory (device_id, worker_id, worker_name, group_id, revoked, signing_key) \
         VALUES (?, ?, ?, ?, ?, ?)",
    )?;
    for e in entries {
        insert.execute(params![
            e.device_id.to_string(),
            e.worker_id,
            e.worker_name,
            e.group_id,
            e.revoked,
            e.signing_key
        ])?;
    }
    Ok(())
}

/// Who the server says each device is, by device id.
pub(crate) fn directory(conn: &Connection) -> Result<HashMap<Uuid, DirectoryEntry>> {
    let mut stmt = conn.prepare_cached(
        "SELECT device_id, worker_id, worker_name, group_id, revoked, signing_key FROM directory",
    )?;
    let rows = stmt.query_map([], |r| {
        Ok((
            r.get::<_, String>(0)?,
            r.get::<_, String>(1)?,
            r.get::<_, String>(2)?,
            r.get::<_, Option<String>>(3)?,
            r.get::<_, bool>(4)?,
            r.get::<_, Option<String>>(5)?,
        ))
    })?;
    let mut out = HashMap::new();
    for row in rows {
        let (device, worker_id, worker_name, group_id, revoked, signing_key) = row?;
        // A row that is not a device id cannot name any change's author.
        if let Ok(device_id) = Uuid::parse_str(&device) {
            out.insert(
                device_id,
                DirectoryEntry {
                    device_id,
                    worker_id,
                    worker_name,
                    group_id,
                    revoked,
                    signing_key,
                },
            );
        }
    }
    Ok(out)
}

/// Names authors by device: this device from its own identity, others from the server's
/// directory. A device the directory does not know keeps the name its change claims, marked
/// unverified.
pub(crate) struct Authors {
    own: Option<crate::store::Identity>,
    directory: HashMap<Uuid, DirectoryEntry>,
}

impl Authors {
    pub(crate) fn load(conn: &Connection, own: Option<crate::store::Identity>) -> Result<Self> {
        Ok(Self {
            own,
            directory: directory(conn)?,
        })
    }

    /// The worker name of the device whose key made `signature` over a bundle's `content`;
    /// `None` when no device the directory knows (nor this one) made it.
    pub(crate) fn bundle_signer(
        &self,
        device: Uuid,
        content: &[u8],
        signature: &[u8; SIGNATURE_BYTES],
        own_key: &DeviceKey,
    ) -> Option<String> {
        let public = if self.own.as_ref().is_some_and(|o| o.device_id == device) {
            own_key.public_key()
        } else {
            authorship::parse_public_key(self.directory.get(&device)?.signing_key.as_deref()?)?
        };
        authorship::verify_bundle(&public, content, signature).ok()?;
        self.lookup(&device.to_string()).map(|(_, name)| name)
    }

    /// Whether the directory holds a key for a device (so its signatures can be checked).
    pub(crate) fn knows_key(&self, device: Uuid) -> bool {
        self.own.as_ref().is_some_and(|o| o.device_id == device)
            || self
                .directory
                .get(&device)
                .is_some_and(|e| e.signing_key.is_some())
    }

    /// The verified (worker id, worker name) of a device, if known.
    fn lookup(&self, device: &str) -> Option<(String, String)> {
        let device = Uuid::parse_str(device).ok()?;
        if let Some(own) = self.own.as_ref().filter(|o| o.device_id == device) {
            return Some((own.worker_id.clone(), own.worker_name.clone()));
        }
        self.directory
            .get(&device)
            .map(|e| (e.worker_id.clone(), e.worker_name.clone()))
    }

    pub(crate) fn name_change(&self, info: &mut madadkar_schema::ChangeInfo) {
        if let Some((id, name)) = self.lookup(&info.meta.device_id) {
            info.meta.worker_id = id;
            info.meta.worker_name = name;
            info.verified = true;
        }
    }

    pub(crate) fn name_value(&self, value: &mut madadkar_schema::ConflictValue) {
        if let Some((id, name)) = self.lookup(&value.device_id) {
            value.worker_id = id;
            value.worker_name = name;
            value.verified = true;
        }
    }
}
