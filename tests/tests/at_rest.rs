//! A lost laptop's data directory, for a replica enrolled with the real server and synced: the
//! device token the server granted, a name, a national ID and a visit note are nowhere in its
//! files in the clear, while the store is open (its write-ahead log live) and after it closed.

use std::collections::BTreeMap;
use std::path::Path;

use anyhow::Result;
use madadkar_client::Store;
use madadkar_e2e::{Replica, Server, passphrase};
use madadkar_schema::{NationalId, NewVisit, VisitKind};

const NAME: &str = "شهربانو";
const NOTE: &str = "اجاره سه ماه عقب افتاده؛ سرپرست بیکار است";

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

/// Which of `secrets` some file under `dir` holds, byte for byte.
fn found_in(dir: &Path, secrets: &[&str]) -> Result<Vec<String>> {
    let mut found = Vec::new();
    for entry in std::fs::read_dir(dir)? {
        let path = entry?.path();
        let bytes = std::fs::read(&path)?;
        for secret in secrets {
            if contains(&bytes, secret.as_bytes()) {
                found.push(format!("{} holds {secret:?}", path.display()));
            }
        }
    }
    Ok(found)
}

#[test]
fn an_enrolled_laptops_files_hold_no_token_name_national_id_or_note() -> Result<()> {
    let server = Server::start()?;
    server.add_group("g1")?;
    let worker = server.add_worker("worker A", Some("g1"), "field")?;
    let mut a = Replica::enrolled(&server, &worker, "laptop A")?;
    let nid_seed = 27_182_818;
    let h = a.add_household(NAME, nid_seed)?;
    let nid = NationalId::with_check_digit(nid_seed).to_string();
    a.store.add_visit(
        h,
        &NewVisit {
            date: chrono::NaiveDate::from_ymd_opt(2025, 10, 1).expect("date"),
            kind: VisitKind::Home,
            observations: NOTE.into(),
            needs: BTreeMap::new(),
            followup_date: None,
        },
    )?;
    a.store.sync(None)?;
    // The token is in the store (the unlocked store reads it) and works.
    let token = a.token()?;
    assert!(token.len() >= 16, "a real token");
    assert!(a.store.sync_status()?.enrolled);
    let secrets = [token.as_str(), NAME, nid.as_str(), NOTE];

    assert!(
        a.path().join("madadkar.sqlite3-wal").exists(),
        "the check covers a live write-ahead log"
    );
    assert_eq!(found_in(a.path(), &secrets)?, Vec::<String>::new());

    let dir = a.dir;
    drop(a.store);
    assert_eq!(found_in(dir.path(), &secrets)?, Vec::<String>::new());

    // The same store reopened with its passphrase syncs with the token it keeps.
    let mut store = Store::open(dir.path(), &passphrase())?;
    store.sync(None)?;
    assert_eq!(store.search(NAME, 5)?.len(), 1);
    Ok(())
}
