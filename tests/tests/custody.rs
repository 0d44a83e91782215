//! A lost or handed-back laptop does not keep the register: the lease locks household data
//! when the laptop stops syncing, a revoked device that makes contact erases its store, a
//! retired one pushes its pending work first, and households reassigned elsewhere leave the
//! laptop. Real server process, real replicas. Needs the server built first
//! (`cargo build -p madadkar-server --bins`).

use anyhow::Result;
use chrono::{Duration, Utc};
use madadkar_client::{StoreError, custody::Lease};
use madadkar_e2e::{Replica, Server};
use madadkar_schema::HouseholdEdit;

fn device(r: &Replica) -> Result<String> {
    Ok(r.store
        .identity()
        .ok_or_else(|| anyhow::anyhow!("no identity"))?
        .device_id
        .to_string())
}

fn held(r: &Replica) -> Result<usize> {
    Ok(r.store.household_ids()?.len())
}

/// Every byte of the replica's store files, to look for what must be gone.
fn store_bytes(r: &Replica) -> Result<Vec<u8>> {
    let mut all = Vec::new();
    if !r.path().exists() {
        return Ok(all);
    }
    for entry in std::fs::read_dir(r.path())? {
        let path = entry?.path();
        if path.is_file() {
            all.extend(std::fs::read(path)?);
        }
    }
    Ok(all)
}

fn contains(haystack: &[u8], needle: &str) -> bool {
    haystack
        .windows(needle.len())
        .any(|w| w == needle.as_bytes())
}

#[test]
fn the_lease_locks_household_data_until_a_sync_renews_it() -> Result<()> {
    let mut server = Server::start()?;
    server.with_settings(&serde_json::json!({ "lease_days": 2 }))?;
    server.add_group("g1")?;
    let w = server.add_worker("worker A", Some("g1"), "field")?;
    let mut a = Replica::enrolled(&server, &w, "laptop A")?;
    a.add_household("علی", 41_000_001)?;
    // Before any sync there is no lease to run out.
    assert_eq!(a.store.lease(Utc::now())?, Lease::None);
    a.store.sync(None)?;
    let Lease::Valid { until } = a.store.lease(Utc::now())? else {
        anyhow::bail!("no lease after a sync");
    };
    let granted = until - Utc::now();
    assert!(
        granted > Duration::days(1) && granted <= Duration::days(2),
        "{granted}"
    );
    // Three days later, without a sync: locked.
    let later = Utc::now() + Duration::days(3);
    let err = a.store.require_lease(later).unwrap_err();
    assert!(matches!(err, StoreError::LeaseExpired { .. }), "{err}");
    Ok(())
}

#[test]
fn a_revoked_device_that_makes_contact_erases_its_store() -> Result<()> {
    let server = Server::start()?;
    server.add_group("g1")?;
    let w = server.add_worker("worker A", Some("g1"), "field")?;
    let mut a = Replica::enrolled(&server, &w, "laptop A")?;
    a.add_household("فرشته", 41_000_002)?;
    a.store.sync(None)?;
    assert!(a.path().join("madadkar.key").exists());
    let token = a.token()?;
    server.admin(&["device", "revoke", &device(&a)?])?;
    let err = a.store.sync(None).unwrap_err();
    assert!(
        matches!(err, StoreError::Erased { reason: "revoked" }),
        "{err}"
    );
    assert!(a.store.household_ids()?.is_empty());
    assert!(a.store.identity().is_none());
    assert!(a.store.erased_at()?.is_some());
    // The key file is gone (nothing left could be decrypted), and so is the database; what
    // is left in the folder holds neither the household nor the device's token.
    assert!(!a.path().join("madadkar.key").exists(), "the key survived");
    assert!(
        !a.path().join("madadkar.sqlite3").exists(),
        "the database survived"
    );
    let bytes = store_bytes(&a)?;
    assert!(!contains(&bytes, "فرشته"), "a name survived the erasure");
    assert!(!contains(&bytes, &token), "the token survived the erasure");
    // And it stays erased: no sync brings anything back.
    assert!(matches!(
        a.store.sync(None).unwrap_err(),
        StoreError::Erased { .. }
    ));
    Ok(())
}

#[test]
fn a_retired_device_pushes_its_pending_work_then_erases_itself() -> Result<()> {
    let server = Server::start()?;
    server.add_group("g1")?;
    let w = server.add_worker("worker A", Some("g1"), "field")?;
    let s = server.add_worker("supervisor S", Some("g1"), "supervisor")?;
    let mut a = Replica::enrolled(&server, &w, "laptop A")?;
    let mut s = Replica::enrolled(&server, &s, "laptop S")?;
    let household = a.add_household("مریم", 41_000_003)?;
    a.store.sync(None)?;
    // Work done after the last sync, then the laptop is handed back.
    a.store.edit_household(
        household,
        &HouseholdEdit {
            phone: Some("09124444444".into()),
            ..Default::default()
        },
    )?;
    server.admin(&["device", "retire", &device(&a)?])?;
    let err = a.store.sync(None).unwrap_err();
    assert!(
        matches!(err, StoreError::Erased { reason: "retired" }),
        "{err}"
    );
    assert!(a.store.household_ids()?.is_empty());
    // The work reached the server before the erasure.
    s.store.sync(None)?;
    let phone = s.store.household(household)?.household.phone;
    assert_eq!(phone.as_deref(), Some("09124444444"));
    Ok(())
}

#[test]
fn households_reassigned_elsewhere_leave_the_laptop_unless_work_is_pending() -> Result<()> {
    let server = Server::start()?;
    server.add_group("g1")?;
    server.add_group("g2")?;
    let wa = server.add_worker("worker A", Some("g1"), "field")?;
    let mut a = Replica::enrolled(&server, &wa, "laptop A")?;
    let moved = a.add_household("نرگس", 41_000_004)?;
    let stays = a.add_household("یاسمن", 41_000_005)?;
    let busy = a.add_household("ژاله", 41_000_006)?;
    a.store.sync(None)?;
    assert_eq!(held(&a)?, 3);
    // Work on `busy` that has not reached the server when it is moved away.
    a.store.edit_household(
        busy,
        &HouseholdEdit {
            phone: Some("09125555555".into()),
            ..Default::default()
        },
    )?;
    for h in [moved, busy] {
        server.admin(&["household", "assign", &h.to_string(), "--group", "g2"])?;
    }
    // The push of `busy`'s work is refused (out of scope), so sync through the store's own
    // pull: the report names what left and what was kept.
    let report = match a.store.sync(None) {
        Ok(r) => r,
        Err(e) => anyhow::bail!("sync failed: {e}"),
    };
    assert_eq!(report.removed_from_scope, 1, "{report:?}");
    assert_eq!(report.kept_out_of_scope, vec![busy]);
    let held = a.store.household_ids()?;
    assert!(held.contains(&stays) && held.contains(&busy) && !held.contains(&moved));
    Ok(())
}
