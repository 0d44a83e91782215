//! The CLI's passphrases: taken from the environment or a file and never from an argument; a
//! missing or wrong one is a clear error with its own exit status; `passphrase change`; bundles
//! encrypted to their own passphrase.

mod common;

use std::path::Path;
use std::process::Output;

use common::{BUNDLE_PASSPHRASE, PASSPHRASE, command, madadkar};

const NAME: &str = "شهربانو";

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn assert_ok(out: &Output) {
    assert!(out.status.success(), "failed: {}", stderr(out));
}

/// A store made through the CLI holding one household whose head is [`NAME`].
fn store_with_a_household() -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("tempdir");
    assert_ok(&madadkar(
        dir.path(),
        &["init", "--worker", "زهرا رضایی", "--device", "laptop-7"],
    ));
    assert_ok(&madadkar(
        dir.path(),
        &[
            "household",
            "add",
            "--first",
            NAME,
            "--last",
            "کریمی",
            "--national-id",
            "0499370899",
            "--district",
            "منطقه ۳",
            "--address",
            "کوچه یاس",
        ],
    ));
    dir
}

fn listed_names(dir: &Path) -> String {
    let out = madadkar(dir, &["household", "list"]);
    assert_ok(&out);
    stdout(&out)
}

#[test]
fn without_a_passphrase_nothing_is_opened_or_created() {
    let parent = tempfile::tempdir().expect("tempdir");
    let dir = parent.path().join("store");
    let out = command(&dir)
        .env_remove("MADADKAR_PASSPHRASE")
        .args(["init", "--worker", "w", "--device", "d"])
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("MADADKAR_PASSPHRASE"),
        "{}",
        stderr(&out)
    );
    assert!(
        stderr(&out).contains("--passphrase-file"),
        "{}",
        stderr(&out)
    );
    assert!(!dir.exists(), "nothing was created");
}

#[test]
fn a_passphrase_is_never_an_argument() {
    let dir = tempfile::tempdir().expect("tempdir");
    let out = madadkar(dir.path(), &["--passphrase", PASSPHRASE, "status"]);
    assert_eq!(out.status.code(), Some(2), "clap refuses the unknown flag");
    assert!(!dir.path().join("madadkar.key").exists());
}

#[test]
fn a_wrong_passphrase_has_its_own_exit_status_and_a_clear_message() {
    let dir = store_with_a_household();
    let out = command(dir.path())
        .env("MADADKAR_PASSPHRASE", "not the passphrase")
        .args(["household", "list"])
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(3), "{}", stderr(&out));
    let message = stderr(&out);
    assert!(message.contains("the passphrase is wrong"), "{message}");
    assert!(
        !message.contains("not the passphrase"),
        "never printed: {message}"
    );
    assert!(stdout(&out).is_empty());
    // JSON errors say the same.
    let out = command(dir.path())
        .env("MADADKAR_PASSPHRASE", "not the passphrase")
        .args(["--json", "status"])
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(3));
    let json: serde_json::Value = serde_json::from_slice(&out.stderr).expect("json");
    assert!(
        json["error"]
            .as_str()
            .expect("error")
            .contains("passphrase is wrong")
    );
    // Any other failure stays 1.
    let out = madadkar(dir.path(), &["household", "show", "ffffffff"]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
}

#[test]
fn a_new_store_needs_a_long_enough_passphrase() {
    let dir = tempfile::tempdir().expect("tempdir");
    let out = command(dir.path())
        .env("MADADKAR_PASSPHRASE", "short")
        .args(["init", "--worker", "w", "--device", "d"])
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("at least 10 characters"),
        "{}",
        stderr(&out)
    );
    assert!(!dir.path().join("madadkar.key").exists());
}

#[test]
fn the_passphrase_may_come_from_a_file() {
    let dir = store_with_a_household();
    let file = dir.path().join("passphrase.txt");
    // As `echo` writes it: one line ending, which is not part of the passphrase.
    std::fs::write(&file, format!("{PASSPHRASE}\n")).expect("write");
    let out = command(dir.path())
        .env_remove("MADADKAR_PASSPHRASE")
        .arg("--passphrase-file")
        .arg(&file)
        .args(["household", "list"])
        .output()
        .expect("run");
    assert_ok(&out);
    assert!(stdout(&out).contains(NAME));
    // The file wins over the environment.
    std::fs::write(&file, "not the passphrase").expect("write");
    let out = command(dir.path())
        .arg("--passphrase-file")
        .arg(&file)
        .arg("status")
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(3), "{}", stderr(&out));
    let out = command(dir.path())
        .arg("--passphrase-file")
        .arg(dir.path().join("missing.txt"))
        .arg("status")
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("missing.txt"), "{}", stderr(&out));
}

#[test]
fn passphrase_change_retires_the_old_passphrase_and_keeps_the_data() {
    let dir = store_with_a_household();
    let new = "a brand new passphrase";
    let missing = madadkar(dir.path(), &["passphrase", "change"]);
    assert_eq!(missing.status.code(), Some(2), "{}", stderr(&missing));
    assert!(stderr(&missing).contains("MADADKAR_NEW_PASSPHRASE"));
    let short = command(dir.path())
        .env("MADADKAR_NEW_PASSPHRASE", "short")
        .args(["passphrase", "change"])
        .output()
        .expect("run");
    assert_eq!(short.status.code(), Some(1));
    assert!(stderr(&short).contains("at least 10"), "{}", stderr(&short));
    assert!(
        listed_names(dir.path()).contains(NAME),
        "the old one still works"
    );

    let out = command(dir.path())
        .env("MADADKAR_NEW_PASSPHRASE", new)
        .args(["passphrase", "change"])
        .output()
        .expect("run");
    assert_ok(&out);
    let old = madadkar(dir.path(), &["status"]);
    assert_eq!(old.status.code(), Some(3), "{}", stderr(&old));
    let out = command(dir.path())
        .env("MADADKAR_PASSPHRASE", new)
        .args(["household", "list"])
        .output()
        .expect("run");
    assert_ok(&out);
    assert!(stdout(&out).contains(NAME));

    // From a file too.
    let file = dir.path().join("new.txt");
    std::fs::write(&file, PASSPHRASE).expect("write");
    let out = command(dir.path())
        .env("MADADKAR_PASSPHRASE", new)
        .args(["passphrase", "change", "--new-passphrase-file"])
        .arg(&file)
        .output()
        .expect("run");
    assert_ok(&out);
    assert!(listed_names(dir.path()).contains(NAME));
}

#[test]
fn bundles_are_encrypted_to_their_own_passphrase() {
    let a = store_with_a_household();
    let b = tempfile::tempdir().expect("tempdir");
    assert_ok(&madadkar(
        b.path(),
        &["init", "--worker", "مریم", "--device", "laptop-8"],
    ));
    let file = a.path().join("to-b.bundle");
    let path = file.to_str().expect("path");

    let missing = command(a.path())
        .env_remove("MADADKAR_BUNDLE_PASSPHRASE")
        .args(["bundle", "export", path])
        .output()
        .expect("run");
    assert_eq!(missing.status.code(), Some(2), "{}", stderr(&missing));
    assert!(stderr(&missing).contains("MADADKAR_BUNDLE_PASSPHRASE"));
    assert!(!file.exists());

    assert_ok(&madadkar(a.path(), &["bundle", "export", path]));
    let sealed = std::fs::read(&file).expect("read");
    assert!(sealed.starts_with(b"age-encryption.org/v1\n"));
    assert!(
        !sealed.windows(NAME.len()).any(|w| w == NAME.as_bytes()),
        "no name in the clear"
    );

    let wrong = command(b.path())
        .env("MADADKAR_BUNDLE_PASSPHRASE", "not the bundle passphrase")
        .args(["bundle", "import", path])
        .output()
        .expect("run");
    assert_eq!(wrong.status.code(), Some(3), "{}", stderr(&wrong));
    assert!(
        stderr(&wrong).contains("bundle's passphrase is wrong"),
        "{}",
        stderr(&wrong)
    );
    assert!(!listed_names(b.path()).contains(NAME), "nothing imported");

    let passfile = b.path().join("bundle-pass.txt");
    std::fs::write(&passfile, BUNDLE_PASSPHRASE).expect("write");
    let out = command(b.path())
        .env_remove("MADADKAR_BUNDLE_PASSPHRASE")
        .args(["bundle", "import", path, "--bundle-passphrase-file"])
        .arg(&passfile)
        .output()
        .expect("run");
    assert_ok(&out);
    assert!(listed_names(b.path()).contains(NAME));
}
