//! Encryption at rest: the keys that make a lost laptop's store unreadable, and the files that
//! hold them.
//!
//! The database is encrypted by SQLCipher with a random 32-byte **data key** (a raw key, so
//! SQLCipher runs no key derivation of its own). The data key never touches the disk in the
//! clear: the **key file** beside the database (`madadkar.key`) holds it wrapped (XChaCha20-
//! Poly1305) by a key derived from the worker's passphrase with Argon2id, together with the
//! derivation's parameters and salt. Changing the passphrase re-wraps the data key; the database
//! is not re-encrypted. Deleting the key file makes the database unreadable for good
//! (crypto-shredding, [`Store::destroy`]).
//!
//! Files are private to the user: the data directory is 0700, the database, its WAL and shared
//! memory files and the key file 0600 (SQLite gives the `-wal` and `-shm` files the database
//! file's mode, so the database file is created 0600 before SQLite opens it). See
//! `docs/security.md`, "Lost laptop".

use std::fs::{self, File, OpenOptions};
use std::io::{Read, Write};
use std::path::{Path, PathBuf};

use argon2::{Algorithm, Argon2, Params, Version};
use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use icu_normalizer::ComposingNormalizerBorrowed;
use rusqlite::Connection;
use serde::{Deserialize, Serialize};
use zeroize::Zeroizing;

use crate::error::{Result, StoreError};
use crate::store::{DB_FILE, Store};

/// The key file inside a data directory.
pub const KEY_FILE: &str = "madadkar.key";
/// A key file being written; renamed over [`KEY_FILE`] once complete.
const KEY_FILE_PARTIAL: &str = "madadkar.key.partial";
/// The encrypted copy of an older, plain database while it is being made.
const ENCRYPTING_FILE: &str = "madadkar.sqlite3.encrypting";
/// The files SQLite keeps beside the database.
const DB_SIDE_FILES: [&str; 3] = ["-wal", "-shm", "-journal"];

/// The shortest passphrase accepted for a new store, a passphrase change or a bundle.
pub const MIN_PASSPHRASE_CHARS: usize = 10;
/// A passphrase longer than this is a mistake (a whole file given as the passphrase file).
const MAX_PASSPHRASE_BYTES: usize = 1024;

const FORMAT: &str = "madadkar-key";
const FORMAT_VERSION: u32 = 1;
const KDF: &str = "argon2id";
const CIPHER: &str = "xchacha20poly1305";
/// Argon2id as RFC 9106 recommends for memory-constrained settings: 64 MiB, 3 passes, one lane
/// (about a quarter of a second on a laptop). Stored in each key file, so they can be raised later
/// without breaking older key files.
const KDF_MEMORY_KIB: u32 = 64 * 1024;
const KDF_ITERATIONS: u32 = 3;
const KDF_LANES: u32 = 1;
const SALT_BYTES: usize = 16;
const KEY_BYTES: usize = 32;
const NONCE_BYTES: usize = 24;
const TAG_BYTES: usize = 16;
/// A key file is a few hundred bytes; anything far larger is not one.
const MAX_KEY_FILE_BYTES: u64 = 64 * 1024;

/// A worker's passphrase. Its text is wiped from memory when it is dropped and never printed.
///
/// The passphrase is kept in one canonical form, so that the same passphrase typed on a Persian
/// or an Arabic keyboard layout, with Persian, Arabic-Indic or Latin digits, or composed
/// differently by an input method, opens the same store: Unicode NFC, ي/ى → ی, ك → ک, and Latin
/// digits.
pub struct Passphrase(Zeroizing<String>);

impl Passphrase {
    pub fn new(text: &str) -> Self {
        let composed = Zeroizing::new(
            ComposingNormalizerBorrowed::new_nfc()
                .normalize(text)
                .into_owned(),
        );
        let canonical: String = composed
            .chars()
            .map(|c| match c {
                'ي' | 'ى' => 'ی',
                'ك' => 'ک',
                _ => match madadkar_schema::text::digit_value(c) {
                    Some(d) => char::from_digit(d, 10).unwrap_or(c),
                    None => c,
                },
            })
            .collect();
        Self(Zeroizing::new(canonical))
    }

    /// The passphrase in a file: its whole content, less one line ending at the end (what an
    /// editor or `echo` adds).
    pub fn from_file(path: &Path) -> Result<Self> {
        let io = |error| StoreError::Io {
            path: path.display().to_string(),
            error,
        };
        let file = File::open(path).map_err(io)?;
        let mut bytes = Zeroizing::new(Vec::new());
        file.take(MAX_PASSPHRASE_BYTES as u64 + 3)
            .read_to_end(&mut bytes)
            .map_err(io)?;
        let mut text: &[u8] = &bytes;
        text = text.strip_suffix(b"\n").unwrap_or(text);
        text = text.strip_suffix(b"\r").unwrap_or(text);
        if text.len() > MAX_PASSPHRASE_BYTES {
            return Err(io(std::io::Error::other(format!(
                "longer than a passphrase may be ({MAX_PASSPHRASE_BYTES} bytes)"
            ))));
        }
        let text = std::str::from_utf8(text)
            .map_err(|_| io(std::io::Error::other("the passphrase is not UTF-8 text")))?;
        Ok(Self::new(text))
    }

    /// Refuses a passphrase too short to protect a new store, a new key file or a bundle.
    pub fn check_new(&self) -> Result<()> {
        if self.0.chars().count() < MIN_PASSPHRASE_CHARS {
            return Err(StoreError::PassphraseTooShort {
                min: MIN_PASSPHRASE_CHARS,
            });
        }
        Ok(())
    }

    pub(crate) fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for Passphrase {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Passphrase(…)")
    }
}

/// The key SQLCipher encrypts the database with. Wiped from memory when dropped.
#[derive(Clone)]
pub(crate) struct DataKey(Zeroizing<[u8; KEY_BYTES]>);

impl DataKey {
    fn random() -> Result<Self> {
        let mut key = Zeroizing::new([0u8; KEY_BYTES]);
        random_bytes(&mut *key)?;
        Ok(Self(key))
    }

    /// The key as SQLCipher takes a raw key: `x'<64 hex digits>'`.
    fn sqlcipher_key(&self) -> Zeroizing<String> {
        Zeroizing::new(format!("x'{}'", Zeroizing::new(hex(&*self.0)).as_str()))
    }
}

impl std::fmt::Debug for DataKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("DataKey(…)")
    }
}

/// Whether a data directory holds a store, and of which kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub enum VaultState {
    /// No store yet: the first open creates one (and needs a new passphrase).
    Absent,
    /// An encrypted store: opening needs its passphrase.
    Locked,
    /// A store an older Madadkar left unencrypted: the first open with a (new) passphrase
    /// encrypts it.
    Plain,
}

impl VaultState {
    pub fn of(dir: &Path) -> Self {
        if dir.join(KEY_FILE).exists() {
            return Self::Locked;
        }
        match db_kind(&dir.join(DB_FILE)) {
            DbKind::Missing => Self::Absent,
            DbKind::Plain => Self::Plain,
            // Without a key file nothing opens it; opening says so.
            DbKind::Encrypted => Self::Locked,
        }
    }
}

/// The key file's content. Everything needed to unwrap the data key again is in it, so its
/// parameters can change between versions without breaking older files.
#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct KeyFile {
    format: String,
    version: u32,
    kdf: KdfParams,
    cipher: String,
    /// Hex, like every byte string here.
    nonce: String,
    wrapped_key: String,
}

#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct KdfParams {
    algorithm: String,
    /// Argon2's version number (0x13 = 19).
    version: u32,
    memory_kib: u32,
    iterations: u32,
    lanes: u32,
    salt: String,
}

impl KeyFile {
    /// The bytes the AEAD authenticates along with the wrapped key: every parameter, so none can
    /// be changed without the unwrap failing.
    fn associated_data(&self) -> Vec<u8> {
        let k = &self.kdf;
        format!(
            "{}/{}/{}/{}/{}/{}/{}/{}/{}",
            self.format,
            self.version,
            k.algorithm,
            k.version,
            k.memory_kib,
            k.iterations,
            k.lanes,
            k.salt,
            self.cipher
        )
        .into_bytes()
    }

    /// Wraps `key` under a fresh salt and nonce with today's parameters.
    fn wrap(key: &DataKey, passphrase: &Passphrase) -> Result<Self> {
        let mut salt = [0u8; SALT_BYTES];
        random_bytes(&mut salt)?;
        let mut nonce = [0u8; NONCE_BYTES];
        random_bytes(&mut nonce)?;
        let mut file = Self {
            format: FORMAT.into(),
            version: FORMAT_VERSION,
            kdf: KdfParams {
                algorithm: KDF.into(),
                version: 0x13,
                memory_kib: KDF_MEMORY_KIB,
                iterations: KDF_ITERATIONS,
                lanes: KDF_LANES,
                salt: hex(&salt),
            },
            cipher: CIPHER.into(),
            nonce: hex(&nonce),
            wrapped_key: String::new(),
        };
        let kek = derive(passphrase, &file.kdf, &salt)?;
        let aad = file.associated_data();
        let wrapped = XChaCha20Poly1305::new((&*kek).into())
            .encrypt(
                XNonce::from_slice(&nonce),
                Payload {
                    msg: &*key.0,
                    aad: &aad,
                },
            )
            .map_err(|_| StoreError::KeyFile {
                path: KEY_FILE.into(),
                reason: "wrapping the data key failed".into(),
            })?;
        file.wrapped_key = hex(&wrapped);
        Ok(file)
    }

    /// Unwraps the data key; a passphrase that does not fit is [`StoreError::WrongPassphrase`].
    fn unwrap(&self, passphrase: &Passphrase, path: &Path) -> Result<DataKey> {
        let bad = |reason: String| StoreError::KeyFile {
            path: path.display().to_string(),
            reason,
        };
        if self.format != FORMAT {
            return Err(bad("not a Madadkar key file".into()));
        }
        if self.version != FORMAT_VERSION {
            return Err(bad(format!(
                "key file format {} is not supported (this program reads format {FORMAT_VERSION}); update Madadkar",
                self.version
            )));
        }
        let k = &self.kdf;
        if k.algorithm != KDF || k.version != 0x13 || self.cipher != CIPHER {
            return Err(bad(format!(
                "unknown algorithms {} v{} / {}",
                k.algorithm, k.version, self.cipher
            )));
        }
        // Bounds, so a damaged or hostile file cannot ask for terabytes or hours.
        if !(8 * 1024..=4 * 1024 * 1024).contains(&k.memory_kib)
            || !(1..=64).contains(&k.iterations)
            || !(1..=16).contains(&k.lanes)
        {
            return Err(bad("key derivation parameters out of bounds".into()));
        }
        let salt = unhex(&k.salt).filter(|s| (8..=64).contains(&s.len()));
        let nonce = unhex(&self.nonce).filter(|n| n.len() == NONCE_BYTES);
        let wrapped = unhex(&self.wrapped_key).filter(|w| w.len() == KEY_BYTES + TAG_BYTES);
        let (Some(salt), Some(nonce), Some(wrapped)) = (salt, nonce, wrapped) else {
            return Err(bad("a salt, nonce or key of the wrong form".into()));
        };
        let kek = derive(passphrase, k, &salt)?;
        let aad = self.associated_data();
        let plain = Zeroizing::new(
            XChaCha20Poly1305::new((&*kek).into())
                .decrypt(
                    XNonce::from_slice(&nonce),
                    Payload {
                        msg: &wrapped,
                        aad: &aad,
                    },
                )
                .map_err(|_| StoreError::WrongPassphrase)?,
        );
        let mut key = Zeroizing::new([0u8; KEY_BYTES]);
        key.copy_from_slice(&plain);
        Ok(DataKey(key))
    }
}

/// The key-encryption key: Argon2id of the passphrase.
fn derive(passphrase: &Passphrase, k: &KdfParams, salt: &[u8]) -> Result<Zeroizing<[u8; 32]>> {
    let failed = |e: argon2::Error| StoreError::KeyFile {
        path: KEY_FILE.into(),
        reason: format!("key derivation: {e}"),
    };
    let params =
        Params::new(k.memory_kib, k.iterations, k.lanes, Some(KEY_BYTES)).map_err(failed)?;
    let mut out = Zeroizing::new([0u8; 32]);
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
        .hash_password_into(passphrase.expose().as_bytes(), salt, &mut *out)
        .map_err(failed)?;
    Ok(out)
}

fn random_bytes(out: &mut [u8]) -> Result<()> {
    getrandom::fill(out).map_err(|e| StoreError::Io {
        path: "the system's random number generator".into(),
        error: std::io::Error::other(e.to_string()),
    })
}

fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        out.push(DIGITS[usize::from(b >> 4)] as char);
        out.push(DIGITS[usize::from(b & 0xf)] as char);
    }
    out
}

fn unhex(text: &str) -> Option<Vec<u8>> {
    if !text.len().is_multiple_of(2) {
        return None;
    }
    (0..text.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(text.get(i..i + 2)?, 16).ok())
        .collect()
}

fn io_error(path: &Path) -> impl FnOnce(std::io::Error) -> StoreError + '_ {
    move |error| StoreError::Io {
        path: path.display().to_string(),
        error,
    }
}

/// What the database file is, from its first bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum DbKind {
    /// No file, or an empty one (a store created but never written).
    Missing,
    /// An SQLite file in the clear: an older Madadkar's store.
    Plain,
    /// Anything else: SQLCipher's file starts with a random salt.
    Encrypted,
}

fn db_kind(path: &Path) -> DbKind {
    let mut header = [0u8; 16];
    let Ok(mut file) = File::open(path) else {
        return DbKind::Missing;
    };
    match file.read(&mut header) {
        Ok(0) | Err(_) => DbKind::Missing,
        Ok(_) if &header == b"SQLite format 3\0" => DbKind::Plain,
        Ok(_) => DbKind::Encrypted,
    }
}

/// The data key of the store in `dir`: unwrapped from its key file; or, for a directory without
/// a store, a new one (the passphrase must then be long enough); or, for an older plain store,
/// a new one that the store is encrypted with first.
pub(crate) fn unlock_or_create(dir: &Path, passphrase: &Passphrase) -> Result<DataKey> {
    private_dir(dir)?;
    let key_path = dir.join(KEY_FILE);
    let encrypting = dir.join(ENCRYPTING_FILE);
    if key_path.exists() {
        let key = read_key_file(&key_path)?.unwrap(passphrase, &key_path)?;
        if encrypting.exists() {
            // An encryption of a plain store stopped after its key file was written: the
            // encrypted copy is complete (it was synced before the key file was written).
            finish_encrypting(dir)?;
        }
        return Ok(key);
    }
    if encrypting.exists() {
        // Stopped before the key file was written: the plain store is intact; start again.
        fs::remove_file(&encrypting).map_err(io_error(&encrypting))?;
    }
    match db_kind(&dir.join(DB_FILE)) {
        DbKind::Plain => encrypt_plain_store(dir, passphrase),
        DbKind::Encrypted => Err(StoreError::KeyFileMissing {
            dir: dir.display().to_string(),
            file: KEY_FILE,
        }),
        DbKind::Missing => {
            passphrase.check_new()?;
            let key = DataKey::random()?;
            write_key_file(dir, &KeyFile::wrap(&key, passphrase)?)?;
            Ok(key)
        }
    }
}

/// Checks `passphrase` against the key file in `dir` (an Argon2 derivation).
pub(crate) fn unlock(dir: &Path, passphrase: &Passphrase) -> Result<DataKey> {
    let key_path = dir.join(KEY_FILE);
    read_key_file(&key_path)?.unwrap(passphrase, &key_path)
}

fn read_key_file(path: &Path) -> Result<KeyFile> {
    let file = File::open(path).map_err(io_error(path))?;
    let mut bytes = Vec::new();
    file.take(MAX_KEY_FILE_BYTES)
        .read_to_end(&mut bytes)
        .map_err(io_error(path))?;
    serde_json::from_slice(&bytes).map_err(|e| StoreError::KeyFile {
        path: path.display().to_string(),
        reason: format!("not a key file ({e})"),
    })
}

/// Replaces the key file atomically: a crash leaves the old file or the new one, never half of
/// one (which would lose the data key, and with it the store).
fn write_key_file(dir: &Path, file: &KeyFile) -> Result<()> {
    let json = serde_json::to_vec_pretty(file).map_err(|e| StoreError::KeyFile {
        path: KEY_FILE.into(),
        reason: e.to_string(),
    })?;
    let partial = dir.join(KEY_FILE_PARTIAL);
    let _ = fs::remove_file(&partial);
    {
        let mut out = create_private(&partial)?;
        out.write_all(&json).map_err(io_error(&partial))?;
        out.write_all(b"\n").map_err(io_error(&partial))?;
        out.sync_all().map_err(io_error(&partial))?;
    }
    let key_path = dir.join(KEY_FILE);
    fs::rename(&partial, &key_path).map_err(io_error(&key_path))?;
    sync_dir(dir)
}

/// Makes the directory's entries (a rename, a removal) durable.
fn sync_dir(dir: &Path) -> Result<()> {
    File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(io_error(dir))
}

/// Creates (or truncates) a file only its owner may read or write.
pub(crate) fn create_private(path: &Path) -> Result<File> {
    let mut options = OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let file = options.open(path).map_err(io_error(path))?;
    set_mode(path, 0o600)?;
    Ok(file)
}

#[cfg(unix)]
fn set_mode(path: &Path, mode: u32) -> Result<()> {
    use std::os::unix::fs::PermissionsExt;
    fs::set_permissions(path, fs::Permissions::from_mode(mode)).map_err(io_error(path))
}

#[cfg(not(unix))]
fn set_mode(_path: &Path, _mode: u32) -> Result<()> {
    Ok(())
}

/// Creates the data directory (0700; its parents as the system makes them), or makes an existing
/// one private.
fn private_dir(dir: &Path) -> Result<()> {
    if !dir.is_dir() {
        if let Some(parent) = dir.parent().filter(|p| !p.as_os_str().is_empty()) {
            fs::create_dir_all(parent).map_err(io_error(parent))?;
        }
        let mut builder = fs::DirBuilder::new();
        #[cfg(unix)]
        std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
        if let Err(e) = builder.create(dir)
            && e.kind() != std::io::ErrorKind::AlreadyExists
        {
            return Err(io_error(dir)(e));
        }
    }
    set_mode(dir, 0o700)
}

/// Readies the data directory for SQLite: the directory private, the database file created
/// 0600 before SQLite opens it (its `-wal` and `-shm` files take its mode), and the files an
/// older version left readable to others made private. Returns the database's path.
pub(crate) fn prepare_files(dir: &Path) -> Result<PathBuf> {
    private_dir(dir)?;
    let db = dir.join(DB_FILE);
    let mut options = OpenOptions::new();
    options.write(true).create(true).truncate(false);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    options.open(&db).map_err(io_error(&db))?;
    set_mode(&db, 0o600)?;
    for side in DB_SIDE_FILES {
        let path = side_file(&db, side);
        if path.exists() {
            set_mode(&path, 0o600)?;
        }
    }
    let key = dir.join(KEY_FILE);
    if key.exists() {
        set_mode(&key, 0o600)?;
    }
    Ok(db)
}

fn side_file(db: &Path, suffix: &str) -> PathBuf {
    let mut name = db.as_os_str().to_owned();
    name.push(suffix);
    PathBuf::from(name)
}

/// Keys a new connection. It must come before anything else reads the database; a key that
/// does not fit shows at the first read, which is made here so it is said clearly.
pub(crate) fn apply_key(conn: &Connection, key: &DataKey) -> Result<()> {
    // SQLCipher writes its own errors to stderr ("hmac check failed"); a key that does not fit
    // is reported once, as the error below, instead.
    conn.pragma_update(None, "cipher_log_level", "NONE")?;
    conn.pragma_update(None, "key", key.sqlcipher_key().as_str())?;
    match conn.query_row("SELECT count(*) FROM sqlite_master", [], |r| {
        r.get::<_, i64>(0)
    }) {
        Ok(_) => Ok(()),
        Err(rusqlite::Error::SqliteFailure(e, _))
            if e.code == rusqlite::ErrorCode::NotADatabase =>
        {
            Err(StoreError::KeyMismatch)
        }
        Err(e) => Err(e.into()),
    }
}

/// Encrypts a store an older version left in the clear, once: an encrypted copy is made beside
/// it (`sqlcipher_export`) and synced, then the key file is written, then the copy replaces the
/// plain file. A crash at any point leaves either the plain store (the copy is discarded and
/// made again) or a complete copy with its key file (the replacement is finished).
fn encrypt_plain_store(dir: &Path, passphrase: &Passphrase) -> Result<DataKey> {
    passphrase.check_new()?;
    let db = dir.join(DB_FILE);
    let encrypting = dir.join(ENCRYPTING_FILE);
    let key = DataKey::random()?;
    create_private(&encrypting)?;
    {
        let conn = Connection::open(&db)?;
        conn.busy_timeout(std::time::Duration::from_secs(10))?;
        let version: i64 = conn.pragma_query_value(None, "user_version", |r| r.get(0))?;
        conn.execute(
            "ATTACH DATABASE ?1 AS encrypted KEY ?2",
            rusqlite::params![encrypting.to_string_lossy(), key.sqlcipher_key().as_str()],
        )?;
        conn.query_row("SELECT sqlcipher_export('encrypted')", [], |_| Ok(()))?;
        conn.pragma_update(Some("encrypted"), "user_version", version)?;
        conn.execute("DETACH DATABASE encrypted", [])?;
        // Closing the last connection folds the plain WAL into the plain file and deletes it.
    }
    File::open(&encrypting)
        .and_then(|f| f.sync_all())
        .map_err(io_error(&encrypting))?;
    write_key_file(dir, &KeyFile::wrap(&key, passphrase)?)?;
    finish_encrypting(dir)?;
    Ok(key)
}

/// Puts the complete encrypted copy in place of the plain database. The plain file is
/// overwritten with zeros first, on a best-effort basis: an SSD or a copy-on-write file system
/// may keep the old blocks (see `docs/security.md`).
fn finish_encrypting(dir: &Path) -> Result<()> {
    let db = dir.join(DB_FILE);
    let encrypting = dir.join(ENCRYPTING_FILE);
    if db_kind(&db) == DbKind::Plain {
        overwrite_with_zeros(&db)?;
    }
    for side in DB_SIDE_FILES {
        let path = side_file(&db, side);
        if path.exists() {
            overwrite_with_zeros(&path)?;
            fs::remove_file(&path).map_err(io_error(&path))?;
        }
    }
    fs::rename(&encrypting, &db).map_err(io_error(&db))?;
    sync_dir(dir)
}

fn overwrite_with_zeros(path: &Path) -> Result<()> {
    let len = fs::metadata(path).map_err(io_error(path))?.len();
    let mut file = OpenOptions::new()
        .write(true)
        .open(path)
        .map_err(io_error(path))?;
    let zeros = vec![0u8; 64 * 1024];
    let mut left = len;
    while left > 0 {
        let n = left.min(zeros.len() as u64) as usize;
        file.write_all(&zeros[..n]).map_err(io_error(path))?;
        left -= n as u64;
    }
    file.sync_all().map_err(io_error(path))
}

impl Store {
    /// Re-wraps the data key under a new passphrase, after checking the current one (so that
    /// someone at an unlocked laptop cannot take it over). The database is not re-encrypted; the
    /// old passphrase stops working at once.
    pub fn change_passphrase(&mut self, current: &Passphrase, new: &Passphrase) -> Result<()> {
        new.check_new()?;
        let dir = self.data_dir().to_path_buf();
        unlock(&dir, current)?;
        write_key_file(&dir, &KeyFile::wrap(&self.key, new)?)
    }

    /// A second connection to this store's database, keyed like this one: for tools and tests
    /// that read or repair its tables directly.
    pub fn connection(&self) -> Result<Connection> {
        self.keyed_connection(self.path())
    }

    /// A connection to another database file (created if missing) encrypted with this store's
    /// key: for copies of the store made with `sqlcipher_export`, such as the benchmark's
    /// baseline, which must pay for encryption like the store does.
    pub fn keyed_connection(&self, path: &Path) -> Result<Connection> {
        let conn = Connection::open(path)?;
        apply_key(&conn, &self.key)?;
        conn.busy_timeout(std::time::Duration::from_secs(10))?;
        Ok(conn)
    }

    /// Destroys the store in `dir` for good: the key file first (without it the database is
    /// noise: crypto-shredding), then the database and its side files, then the directory if
    /// nothing else is in it. Close every connection to the store first. A directory without a
    /// store is left as it is.
    pub fn destroy(dir: &Path) -> Result<()> {
        for name in [KEY_FILE, KEY_FILE_PARTIAL] {
            remove_if_present(&dir.join(name))?;
        }
        if dir.is_dir() {
            sync_dir(dir)?;
        }
        let db = dir.join(DB_FILE);
        remove_if_present(&db)?;
        for side in DB_SIDE_FILES {
            remove_if_present(&side_file(&db, side))?;
        }
        remove_if_present(&dir.join(ENCRYPTING_FILE))?;
        if dir.is_dir() {
            sync_dir(dir)?;
            // Succeeds only when nothing else (a bundle the worker kept there) is left.
            let _ = fs::remove_dir(dir);
        }
        Ok(())
    }
}

fn remove_if_present(path: &Path) -> Result<()> {
    match fs::remove_file(path) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(io_error(path)(e)),
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pass(text: &str) -> Passphrase {
        Passphrase::new(text)
    }

    #[test]
    fn the_data_key_unwraps_only_with_its_passphrase() {
        let dir = tempfile::tempdir().expect("tempdir");
        let key = unlock_or_create(dir.path(), &pass("correct horse battery")).expect("create");
        let again = unlock(dir.path(), &pass("correct horse battery")).expect("unlock");
        assert_eq!(*key.0, *again.0);
        let wrong = unlock(dir.path(), &pass("correct horse battery!"));
        assert!(
            matches!(wrong, Err(StoreError::WrongPassphrase)),
            "{wrong:?}"
        );
    }

    #[test]
    fn a_new_store_needs_a_long_enough_passphrase() {
        let dir = tempfile::tempdir().expect("tempdir");
        let short = unlock_or_create(dir.path(), &pass("short"));
        assert!(
            matches!(short, Err(StoreError::PassphraseTooShort { min: 10 })),
            "{short:?}"
        );
        assert_eq!(
            short.unwrap_err().to_string(),
            "the passphrase must have at least 10 characters"
        );
        assert!(!dir.path().join(KEY_FILE).exists(), "nothing was written");
    }

    #[test]
    fn the_key_file_records_its_parameters_and_never_the_key() {
        let dir = tempfile::tempdir().expect("tempdir");
        let key = unlock_or_create(dir.path(), &pass("correct horse battery")).expect("create");
        let text = fs::read_to_string(dir.path().join(KEY_FILE)).expect("read");
        let json: serde_json::Value = serde_json::from_str(&text).expect("json");
        assert_eq!(json["format"], "madadkar-key");
        assert_eq!(json["version"], 1);
        assert_eq!(json["kdf"]["algorithm"], "argon2id");
        assert_eq!(json["kdf"]["memory_kib"], KDF_MEMORY_KIB);
        assert_eq!(json["kdf"]["iterations"], KDF_ITERATIONS);
        assert_eq!(json["cipher"], "xchacha20poly1305");
        assert!(!text.contains(&hex(&*key.0)), "the data key is wrapped");
        assert!(!text.contains("correct horse"));
    }

    #[test]
    fn changing_a_parameter_in_the_key_file_breaks_the_unwrap() {
        let dir = tempfile::tempdir().expect("tempdir");
        unlock_or_create(dir.path(), &pass("correct horse battery")).expect("create");
        let path = dir.path().join(KEY_FILE);
        let mut file = read_key_file(&path).expect("read");
        // A weaker derivation asked for by someone who edited the file.
        file.kdf.iterations = 1;
        write_key_file(dir.path(), &file).expect("write");
        let r = unlock(dir.path(), &pass("correct horse battery"));
        assert!(matches!(r, Err(StoreError::WrongPassphrase)), "{r:?}");
    }

    #[test]
    fn damaged_or_unknown_key_files_are_named() {
        let dir = tempfile::tempdir().expect("tempdir");
        unlock_or_create(dir.path(), &pass("correct horse battery")).expect("create");
        let path = dir.path().join(KEY_FILE);
        let good = fs::read_to_string(&path).expect("read");
        fs::write(&path, "{\"format\": \"madadkar-key\"").expect("damage");
        let damaged = unlock(dir.path(), &pass("correct horse battery")).unwrap_err();
        assert!(matches!(damaged, StoreError::KeyFile { .. }), "{damaged:?}");
        fs::write(&path, good.replace("\"version\": 1", "\"version\": 2")).expect("newer");
        let newer = unlock(dir.path(), &pass("correct horse battery")).unwrap_err();
        assert!(newer.to_string().contains("update Madadkar"), "{newer}");
        fs::write(
            &path,
            good.replace(
                &format!("\"memory_kib\": {KDF_MEMORY_KIB}"),
                "\"memory_kib\": 4000000000",
            ),
        )
        .expect("huge");
        let huge = unlock(dir.path(), &pass("correct horse battery")).unwrap_err();
        assert!(huge.to_string().contains("out of bounds"), "{huge}");
    }

    #[test]
    fn the_same_passphrase_from_another_keyboard_layout_opens_the_store() {
        let dir = tempfile::tempdir().expect("tempdir");
        unlock_or_create(dir.path(), &pass("کلید یاس ۱۴۰۴")).expect("create");
        // Arabic yeh and kaf, Latin digits.
        unlock(dir.path(), &pass("كليد ياس 1404")).expect("the same passphrase");
    }

    #[test]
    fn passphrases_never_print() {
        let p = pass("correct horse battery");
        assert_eq!(format!("{p:?}"), "Passphrase(…)");
        let k = DataKey::random().expect("key");
        assert_eq!(format!("{k:?}"), "DataKey(…)");
    }

    #[test]
    fn a_passphrase_file_loses_only_its_final_line_ending() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("p");
        fs::write(&path, "  spaced passphrase \r\n").expect("write");
        let p = Passphrase::from_file(&path).expect("read");
        assert_eq!(p.expose(), "  spaced passphrase ");
        fs::write(&path, vec![b'a'; 5000]).expect("write");
        assert!(Passphrase::from_file(&path).is_err());
        fs::write(&path, [0xff, 0xfe]).expect("write");
        assert!(Passphrase::from_file(&path).is_err());
    }

    #[test]
    fn hex_round_trips() {
        let bytes = [0u8, 1, 0xab, 0xff];
        assert_eq!(hex(&bytes), "0001abff");
        assert_eq!(unhex("0001abff").as_deref(), Some(&bytes[..]));
        assert_eq!(unhex("0g"), None);
        assert_eq!(unhex("abc"), None);
    }
}
