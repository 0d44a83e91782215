//! Encryption at rest on real files: what a lost laptop's data directory gives away (nothing in
//! the clear), passphrases, passphrase changes, destruction, file modes, the one-time
//! encryption of an older plain store, drafts, and encrypted bundles.

mod common;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use common::{BUNDLE_PASSPHRASE, PASSPHRASE, Replica, day, passphrase};
use madadkar_client::vault::KEY_FILE;
use madadkar_client::{Passphrase, Store, StoreError, VaultState, store::DB_FILE};
use madadkar_schema::{NeedDomain, NewVisit, VisitKind};

const NAME: &str = "شهربانو";
const NOTE: &str = "اجاره سه ماه عقب افتاده؛ سرپرست بیکار است";
const TOKEN: &str = "tok_3f9a1c7e5b2d4860a1b2c3d4e5f60718";

/// A replica with a household whose head is [`NAME`], with a national ID and a visit note, and a
/// device token in its `meta` table as enrolment leaves it; returns it with the national ID.
fn replica_with_secrets() -> (Replica, String) {
    let mut a = Replica::new("زهرا");
    let h = a.add_household(NAME, "کریمی", 31_415_926);
    let nid = a.store.household(h).expect("household").household.members[0]
        .national_id
        .clone()
        .expect("national id")
        .to_string();
    let visit = NewVisit {
        date: day(2025, 10, 1),
        kind: VisitKind::Home,
        observations: NOTE.into(),
        needs: BTreeMap::from([(NeedDomain::Income, 4)]),
        followup_date: None,
    };
    a.store.add_visit(h, &visit).expect("visit");
    a.store
        .connection()
        .expect("connection")
        .execute("INSERT INTO meta (key, value) VALUES ('token', ?)", [TOKEN])
        .expect("token");
    (a, nid)
}

/// Every file under `dir`, with its bytes.
fn files(dir: &Path) -> Vec<(PathBuf, Vec<u8>)> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).expect("read dir") {
        let path = entry.expect("entry").path();
        if path.is_dir() {
            out.extend(files(&path));
        } else {
            let bytes = std::fs::read(&path).expect("read file");
            out.push((path, bytes));
        }
    }
    out
}

fn contains(haystack: &[u8], needle: &str) -> bool {
    let needle = needle.as_bytes();
    haystack.windows(needle.len()).any(|w| w == needle)
}

/// The files under `dir` that hold any of `secrets` in the clear.
fn leaks(dir: &Path, secrets: &[&str]) -> Vec<String> {
    let mut found = Vec::new();
    for (path, bytes) in files(dir) {
        for secret in secrets {
            if contains(&bytes, secret) {
                found.push(format!("{} holds {secret:?}", path.display()));
            }
        }
    }
    found
}

#[test]
fn the_data_directory_holds_no_name_national_id_note_or_token_in_the_clear() {
    let (a, nid) = replica_with_secrets();
    let secrets = [NAME, nid.as_str(), NOTE, TOKEN, PASSPHRASE];
    // The search works: an unencrypted copy of the same store gives every one of them away.
    let plain = plain_copy_of(&a);
    for secret in secrets.iter().filter(|s| **s != PASSPHRASE) {
        assert!(
            !leaks(plain.path(), &[secret]).is_empty(),
            "{secret} in the plain copy"
        );
    }
    // While the store is open its write-ahead log holds the recent writes.
    let wal = a.dir.path().join(format!("{DB_FILE}-wal"));
    assert!(wal.exists(), "the test looks at a live WAL");
    assert_eq!(leaks(a.dir.path(), &secrets), Vec::<String>::new());
    let dir = a.dir;
    drop(a.store);
    assert_eq!(leaks(dir.path(), &secrets), Vec::<String>::new());
    let db = std::fs::read(dir.path().join(DB_FILE)).expect("db");
    assert_ne!(&db[..16], b"SQLite format 3\0", "not a plain SQLite file");
}

#[test]
fn a_wrong_passphrase_is_said_clearly_and_the_right_one_opens() {
    let (a, _) = replica_with_secrets();
    let dir = a.dir;
    drop(a.store);
    let err = Store::open(dir.path(), &Passphrase::new("not the passphrase")).unwrap_err();
    assert!(matches!(err, StoreError::WrongPassphrase), "{err:?}");
    assert_eq!(err.to_string(), "the passphrase is wrong");
    // A short wrong one is still just wrong: the length rule is for new passphrases.
    let err = Store::open(dir.path(), &Passphrase::new("x")).unwrap_err();
    assert!(matches!(err, StoreError::WrongPassphrase), "{err:?}");
    let store = Store::open(dir.path(), &passphrase()).expect("open");
    assert_eq!(store.search(NAME, 5).expect("search").len(), 1);
    assert_eq!(VaultState::of(dir.path()), VaultState::Locked);
}

#[test]
fn a_passphrase_change_keeps_the_data_and_retires_the_old_passphrase() {
    let (mut a, _) = replica_with_secrets();
    let new = Passphrase::new("a brand new passphrase");
    let wrong = a
        .store
        .change_passphrase(&Passphrase::new("not the passphrase"), &new)
        .unwrap_err();
    assert!(matches!(wrong, StoreError::WrongPassphrase), "{wrong:?}");
    let short = a
        .store
        .change_passphrase(&passphrase(), &Passphrase::new("short"))
        .unwrap_err();
    assert!(
        matches!(short, StoreError::PassphraseTooShort { .. }),
        "{short:?}"
    );
    let db_before = std::fs::read(a.store.path()).expect("db");
    a.store
        .change_passphrase(&passphrase(), &new)
        .expect("change");
    // Re-wrapped, not re-encrypted: the database file is the same.
    assert_eq!(std::fs::read(a.store.path()).expect("db"), db_before);
    // The open store goes on working.
    assert_eq!(a.store.search(NAME, 5).expect("search").len(), 1);
    let dir = a.dir;
    drop(a.store);
    let old = Store::open(dir.path(), &passphrase()).unwrap_err();
    assert!(matches!(old, StoreError::WrongPassphrase), "{old:?}");
    let store = Store::open(dir.path(), &new).expect("new passphrase");
    assert_eq!(store.search(NAME, 5).expect("search").len(), 1);
    assert!(store.check().expect("check").ok());
}

#[test]
fn destroy_removes_the_key_and_the_database() {
    let (a, _) = replica_with_secrets();
    let dir = a.dir.path().to_path_buf();
    // Something of the worker's beside the store stays; everything of the store goes.
    std::fs::write(dir.join("notes.txt"), "mine").expect("write");
    drop(a.store);
    Store::destroy(&dir).expect("destroy");
    let left: Vec<_> = files(&dir).into_iter().map(|(p, _)| p).collect();
    assert_eq!(left, vec![dir.join("notes.txt")]);
    assert_eq!(VaultState::of(&dir), VaultState::Absent);
    std::fs::remove_file(dir.join("notes.txt")).expect("remove");
    Store::destroy(&dir).expect("destroy an empty store");
    assert!(!dir.exists(), "an emptied directory is removed");
}

#[test]
fn without_its_key_file_the_store_says_what_is_missing() {
    let (a, _) = replica_with_secrets();
    let dir = a.dir;
    drop(a.store);
    std::fs::remove_file(dir.path().join(KEY_FILE)).expect("remove key");
    let err = Store::open(dir.path(), &passphrase()).unwrap_err();
    assert!(matches!(err, StoreError::KeyFileMissing { .. }), "{err:?}");
    assert!(err.to_string().contains("key file"), "{err}");
    // Nothing was replaced: the database is still there, still encrypted.
    assert_eq!(VaultState::of(dir.path()), VaultState::Locked);
}

#[test]
fn a_key_file_from_another_store_is_refused_clearly() {
    let (a, _) = replica_with_secrets();
    let b = Replica::new("B");
    let dir = a.dir;
    drop(a.store);
    std::fs::copy(b.dir.path().join(KEY_FILE), dir.path().join(KEY_FILE)).expect("swap keys");
    let err = Store::open(dir.path(), &passphrase()).unwrap_err();
    assert!(matches!(err, StoreError::KeyMismatch), "{err:?}");
}

#[test]
fn a_second_connection_needs_no_passphrase_and_sees_the_same_store() {
    let (a, _) = replica_with_secrets();
    let other = a.store.open_another().expect("another");
    assert_eq!(other.search(NAME, 5).expect("search").len(), 1);
    assert_eq!(other.identity(), a.store.identity());
}

#[cfg(unix)]
mod modes {
    use std::os::unix::fs::PermissionsExt;

    use super::*;

    fn mode(path: &Path) -> u32 {
        std::fs::metadata(path)
            .expect("metadata")
            .permissions()
            .mode()
            & 0o777
    }

    fn store_files(dir: &Path) -> Vec<PathBuf> {
        ["", "-wal", "-shm"]
            .iter()
            .map(|s| dir.join(format!("{DB_FILE}{s}")))
            .chain([dir.join(KEY_FILE)])
            .collect()
    }

    #[test]
    fn a_new_store_is_private_to_its_user() {
        let parent = tempfile::tempdir().expect("tempdir");
        let dir = parent.path().join("nested").join("madadkar");
        let store = Store::open(&dir, &passphrase()).expect("open");
        store.pending_changes().expect("read");
        assert_eq!(mode(&dir), 0o700, "the data directory");
        for file in store_files(&dir) {
            assert!(file.exists(), "{} exists", file.display());
            assert_eq!(mode(&file), 0o600, "{}", file.display());
        }
    }

    #[test]
    fn an_existing_store_readable_by_others_is_made_private_on_open() {
        let (a, _) = replica_with_secrets();
        let dir = a.dir;
        drop(a.store);
        // What an older version (or a careless copy) left: 0755 and 0644.
        std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o755))
            .expect("chmod");
        for file in store_files(dir.path()) {
            if file.exists() {
                std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o644))
                    .expect("chmod");
            }
        }
        let store = Store::open(dir.path(), &passphrase()).expect("open");
        store.pending_changes().expect("read");
        assert_eq!(mode(dir.path()), 0o700);
        for file in store_files(dir.path()) {
            assert_eq!(mode(&file), 0o600, "{}", file.display());
        }
    }

    #[test]
    fn bundles_are_private_to_their_user() {
        let (a, _) = replica_with_secrets();
        let path = a.bundle_path();
        a.store
            .export_bundle(&path, &Passphrase::new(BUNDLE_PASSPHRASE))
            .expect("export");
        assert_eq!(mode(&path), 0o600);
    }
}

/// Turns `replica`'s store into the plain store an older version would have left in a new
/// directory (the same tables, unencrypted, no key file); returns that directory.
fn plain_copy_of(replica: &Replica) -> tempfile::TempDir {
    let old = tempfile::tempdir().expect("tempdir");
    let plain = old.path().join(DB_FILE);
    let conn = replica.store.connection().expect("connection");
    conn.execute(
        "ATTACH DATABASE ?1 AS plain KEY ''",
        [plain.to_string_lossy()],
    )
    .expect("attach");
    conn.query_row("SELECT sqlcipher_export('plain')", [], |_| Ok(()))
        .expect("export");
    let version: i64 = conn
        .pragma_query_value(None, "user_version", |r| r.get(0))
        .expect("version");
    conn.pragma_update(Some("plain"), "user_version", version)
        .expect("version");
    drop(conn);
    let plain_conn = rusqlite::Connection::open(&plain).expect("plain");
    plain_conn
        .pragma_update(None, "journal_mode", "WAL")
        .expect("wal");
    drop(plain_conn);
    assert_eq!(
        &std::fs::read(&plain).expect("read")[..16],
        b"SQLite format 3\0"
    );
    old
}

#[test]
fn an_older_plain_store_is_encrypted_once_on_first_open() {
    let (a, nid) = replica_with_secrets();
    let h = a.store.household_ids().expect("ids")[0];
    let old = plain_copy_of(&a);
    drop(a);
    assert!(!leaks(old.path(), &[NAME]).is_empty(), "the copy is plain");
    assert_eq!(VaultState::of(old.path()), VaultState::Plain);

    // A new passphrase for it must be long enough; nothing changes until it is.
    let short = Store::open(old.path(), &Passphrase::new("short")).unwrap_err();
    assert!(matches!(short, StoreError::PassphraseTooShort { .. }));
    assert_eq!(VaultState::of(old.path()), VaultState::Plain);

    let store = Store::open(old.path(), &passphrase()).expect("encrypt and open");
    assert_eq!(
        store.household(h).expect("household").household.visits[0].observations,
        NOTE
    );
    assert!(store.check().expect("check").ok());
    assert_eq!(
        leaks(old.path(), &[NAME, nid.as_str(), NOTE, TOKEN]),
        Vec::<String>::new()
    );
    assert!(!old.path().join("madadkar.sqlite3.encrypting").exists());
    drop(store);
    assert_eq!(VaultState::of(old.path()), VaultState::Locked);
    let again = Store::open(old.path(), &passphrase()).expect("reopen");
    assert_eq!(again.search(NAME, 5).expect("search").len(), 1);
}

#[test]
fn an_encryption_cut_short_is_finished_or_started_again() {
    let (a, _) = replica_with_secrets();
    let h = a.store.household_ids().expect("ids")[0];
    let plain_dir = plain_copy_of(&a);
    drop(a);
    let plain = std::fs::read(plain_dir.path().join(DB_FILE)).expect("plain");

    // Cut after the key file was written: the encrypted copy is complete and replaces the plain
    // file on the next open.
    let done = tempfile::tempdir().expect("tempdir");
    std::fs::write(done.path().join(DB_FILE), &plain).expect("write");
    drop(Store::open(done.path(), &passphrase()).expect("encrypt"));
    let cut = tempfile::tempdir().expect("tempdir");
    std::fs::write(cut.path().join(DB_FILE), &plain).expect("plain");
    std::fs::copy(
        done.path().join(DB_FILE),
        cut.path().join("madadkar.sqlite3.encrypting"),
    )
    .expect("copy");
    std::fs::copy(done.path().join(KEY_FILE), cut.path().join(KEY_FILE)).expect("key");
    let store = Store::open(cut.path(), &passphrase()).expect("finish");
    assert_eq!(store.household(h).expect("h").household.visits.len(), 1);
    assert_eq!(leaks(cut.path(), &[NAME, NOTE]), Vec::<String>::new());
    assert!(!cut.path().join("madadkar.sqlite3.encrypting").exists());

    // Cut before the key file was written: the half-made copy is discarded and the plain store
    // encrypted afresh.
    let early = tempfile::tempdir().expect("tempdir");
    std::fs::write(early.path().join(DB_FILE), &plain).expect("plain");
    std::fs::write(early.path().join("madadkar.sqlite3.encrypting"), b"half").expect("half");
    let store = Store::open(early.path(), &passphrase()).expect("again");
    assert_eq!(store.household(h).expect("h").household.visits.len(), 1);
    assert_eq!(leaks(early.path(), &[NAME, NOTE]), Vec::<String>::new());
}

#[test]
fn drafts_are_kept_in_the_encrypted_store() {
    let mut a = Replica::new("A");
    let value = format!(r#"{{"observations":"{NOTE}"}}"#);
    a.store.save_draft("visit.0190", &value).expect("save");
    a.store.save_draft("household.new", "{}").expect("save");
    a.store
        .save_draft("visit.0190", &value.replace("سه", "چهار"))
        .expect("replace");
    assert!(
        a.store
            .save_draft("not a key!", "{}")
            .unwrap_err()
            .to_string()
            .starts_with("draft:")
    );
    let dir = a.dir;
    drop(a.store);
    assert_eq!(leaks(dir.path(), &["عقب افتاده"]), Vec::<String>::new());
    let mut store = Store::open(dir.path(), &passphrase()).expect("reopen");
    let drafts = store.drafts().expect("drafts");
    assert_eq!(
        drafts.iter().map(|d| d.key.as_str()).collect::<Vec<_>>(),
        ["household.new", "visit.0190"]
    );
    assert!(drafts[1].value.contains("چهار ماه"));
    store.clear_draft("visit.0190").expect("clear");
    assert_eq!(store.draft("visit.0190").expect("draft"), None);
    assert_eq!(
        store.draft("household.new").expect("draft").as_deref(),
        Some("{}")
    );
}

#[test]
fn an_encrypted_bundle_round_trips_and_gives_nothing_away_without_its_passphrase() {
    let (a, nid) = replica_with_secrets();
    let mut b = Replica::new("B");
    let path = a.bundle_path();
    let right = Passphrase::new(BUNDLE_PASSPHRASE);
    let short = a
        .store
        .export_bundle(&path, &Passphrase::new("short"))
        .unwrap_err();
    assert!(matches!(short, StoreError::PassphraseTooShort { .. }));
    assert_eq!(a.store.export_bundle(&path, &right).expect("export"), 1);
    let sealed = std::fs::read(&path).expect("read");
    assert!(sealed.starts_with(b"age-encryption.org/v1\n"));
    for secret in [NAME, nid.as_str(), NOTE] {
        assert!(!contains(&sealed, secret), "{secret} is not in the clear");
    }
    let wrong = b
        .store
        .import_bundle(&path, &Passphrase::new("not the bundle passphrase"))
        .unwrap_err();
    assert!(
        matches!(wrong, StoreError::WrongBundlePassphrase),
        "{wrong:?}"
    );
    assert!(b.store.household_ids().expect("ids").is_empty());
    let report = b.store.import_bundle(&path, &right).expect("import");
    assert_eq!(report.households_new, 1);
    let h = b.store.household_ids().expect("ids")[0];
    assert_eq!(
        b.store.household(h).expect("h").household.visits[0].observations,
        NOTE
    );
}

#[test]
fn a_plain_bundle_of_an_older_version_is_refused() {
    let (a, _) = replica_with_secrets();
    let mut b = Replica::new("B");
    let path = b.dir.path().join("old.bundle");
    std::fs::write(&path, a.store.bundle_bytes().expect("bundle")).expect("write");
    let err = b
        .store
        .import_bundle(&path, &Passphrase::new(BUNDLE_PASSPHRASE))
        .unwrap_err();
    assert!(err.to_string().contains("not encrypted"), "{err}");
    assert!(b.store.household_ids().expect("ids").is_empty());
}
