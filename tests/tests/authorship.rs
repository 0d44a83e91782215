//! Authorship is tied to the device that made a change: a change another device relays (a USB
//! bundle) is stored only with its author's signature, never for a revoked author; enrolment
//! cannot claim another worker's id; and the names a replica shows come from the server's
//! records by the change's actor, not from what the change says of itself. Real server process,
//! real replicas. Needs the server built first (`cargo build -p madadkar-server --bins`).

use anyhow::Result;
use automerge::transaction::Transactable;
use madadkar_client::{StoreError, store::BundleSigner};
use madadkar_e2e::{Replica, Server};
use madadkar_schema::{
    HouseholdEdit,
    document::device_actor,
    wire::{self, WireChange},
};
use uuid::Uuid;

fn server_code(e: &StoreError) -> Option<&str> {
    match e {
        StoreError::Server { code, .. } => Some(code),
        _ => None,
    }
}

/// A server with group g1 (field worker A, supervisor B, who sees the group's households) and
/// g2 (supervisor C), each with an enrolled replica.
fn setup() -> Result<(Server, Replica, Replica, Replica)> {
    let server = Server::start()?;
    server.add_group("g1")?;
    server.add_group("g2")?;
    let a = server.add_worker("worker A", Some("g1"), "field")?;
    let b = server.add_worker("worker B", Some("g1"), "supervisor")?;
    let c = server.add_worker("worker C", Some("g2"), "supervisor")?;
    let a = Replica::enrolled(&server, &a, "laptop A")?;
    let b = Replica::enrolled(&server, &b, "laptop B")?;
    let c = Replica::enrolled(&server, &c, "laptop C")?;
    Ok((server, a, b, c))
}

fn device(r: &Replica) -> Result<Uuid> {
    Ok(r.store
        .identity()
        .ok_or_else(|| anyhow::anyhow!("no identity"))?
        .device_id)
}

/// Pushes raw changes with `r`'s token; the answer's status and body.
fn push_raw(server: &Server, r: &Replica, changes: &[WireChange]) -> Result<(u16, String)> {
    let answer = reqwest::blocking::Client::new()
        .post(format!("{}/v1/push", server.url))
        .bearer_auth(r.token()?)
        .header("content-type", wire::CHANGES_CONTENT_TYPE)
        .body(wire::encode_push(changes))
        .send()?;
    Ok((answer.status().as_u16(), answer.text()?))
}

/// A change to `household` made as if on `actor`'s device (any replica can write one: the
/// actor is just bytes in the change).
fn change_as(r: &Replica, household: Uuid, actor: Uuid, phone: &str) -> Result<Vec<u8>> {
    let mut doc = r.store.document(household)?;
    let raw = doc.automerge();
    raw.set_actor(device_actor(actor));
    raw.put(automerge::ROOT, "phone", phone)?;
    raw.commit();
    let change = raw
        .get_last_local_change()
        .ok_or_else(|| anyhow::anyhow!("no change"))?;
    Ok(change.raw_bytes().to_vec())
}

#[test]
fn a_bundle_relays_a_colleagues_changes_with_their_signatures() -> Result<()> {
    let (_server, mut a, mut b, _c) = setup()?;
    let household = a.add_household("علی", 31_000_001)?;
    a.store.sync(None)?;
    b.store.sync(None)?;
    // A works offline, then hands a bundle to B, who syncs before A does.
    a.store.edit_household(
        household,
        &HouseholdEdit {
            phone: Some("09121111111".into()),
            ..Default::default()
        },
    )?;
    let path = a.path().join("to-b.bundle");
    a.store
        .export_bundle(&path, &madadkar_e2e::bundle_passphrase())?;
    let report = b
        .store
        .import_bundle(&path, &madadkar_e2e::bundle_passphrase())?;
    // B learned A's device from the directory on its first sync: the bundle's signer is known.
    assert_eq!(
        report.signed_by,
        BundleSigner::Verified {
            worker_name: "worker A".into()
        }
    );
    let synced = b.store.sync(None)?;
    assert!(synced.pushed >= 1, "{synced:?}");
    // The server holds A's change; A's own sync now pushes nothing new to it.
    a.store.sync(None)?;
    assert_eq!(a.store.sync_status()?.pending_changes, 0);
    let phone = b.store.household(household)?.household.phone;
    assert_eq!(phone.as_deref(), Some("09121111111"));
    Ok(())
}

#[test]
fn a_change_made_as_a_colleagues_device_without_its_signature_is_refused() -> Result<()> {
    let (server, mut a, b, c) = setup()?;
    let household = a.add_household("رضا", 31_000_002)?;
    a.store.sync(None)?;
    let mut b = b;
    b.store.sync(None)?;
    let forged = change_as(&b, household, device(&a)?, "09129999999")?;
    // No signature at all.
    let (status, body) = push_raw(
        &server,
        &b,
        &[WireChange::new(household, 0, forged.clone())],
    )?;
    assert_eq!(status, 403, "{body}");
    assert!(body.contains("unsigned_relay"), "{body}");
    // A signature by B's own key (or any key but A's) does not pass for A's.
    let wrong = madadkar_schema::authorship::DeviceKey::from_secret(&[42; 32]);
    let hash = automerge::Change::try_from(forged.as_slice())?.hash().0;
    let signed = WireChange {
        signature: Some(wrong.sign(household, &hash)),
        ..WireChange::new(household, 0, forged)
    };
    let (status, body) = push_raw(&server, &b, &[signed])?;
    assert_eq!(status, 403, "{body}");
    assert!(body.contains("unsigned_relay"), "{body}");
    // A device of another group may not relay A's changes at all.
    let mut c = c;
    c.store.sync(None)?;
    let from_c = change_as(&b, household, device(&a)?, "09128888888")?;
    let (status, body) = push_raw(&server, &c, &[WireChange::new(household, 0, from_c)])?;
    assert_eq!(status, 403, "{body}");
    assert!(!body.contains("09128888888"), "{body}");
    Ok(())
}

#[test]
fn a_revoked_devices_changes_are_refused_even_when_relayed() -> Result<()> {
    let (server, mut a, mut b, _c) = setup()?;
    let household = a.add_household("حسن", 31_000_003)?;
    a.store.sync(None)?;
    b.store.sync(None)?;
    a.store.edit_household(
        household,
        &HouseholdEdit {
            phone: Some("09122222222".into()),
            ..Default::default()
        },
    )?;
    let path = a.path().join("to-b.bundle");
    a.store
        .export_bundle(&path, &madadkar_e2e::bundle_passphrase())?;
    // A's laptop is reported lost and revoked; the bundle it wrote is still out there.
    server.admin(&["device", "revoke", &device(&a)?.to_string()])?;
    b.store
        .import_bundle(&path, &madadkar_e2e::bundle_passphrase())?;
    let mine = b.add_household("بهار", 31_000_013)?;
    // A's change is refused and held back on B's laptop; B's own work syncs.
    let report = b.store.sync(None)?;
    assert_eq!(
        report.refused,
        vec![(household, "author_revoked".to_string())],
        "{report:?}"
    );
    assert!(report.pushed >= 1, "{report:?}");
    let known = server.database()?.query_row(
        "SELECT count(*) FROM assignments WHERE household = ?",
        [mine.to_string()],
        |r| r.get::<_, i64>(0),
    )?;
    assert_eq!(known, 1, "B's own household reached the server");
    Ok(())
}

#[test]
fn enrolment_cannot_claim_another_workers_id() -> Result<()> {
    let server = Server::start()?;
    server.add_group("g1")?;
    let a = server.add_worker("worker A", Some("g1"), "field")?;
    let b = server.add_worker("worker B", Some("g1"), "field")?;
    // An offline replica that claims A's worker id, enrolling with B's code.
    let dir = tempfile::tempdir()?;
    let mut store = madadkar_client::Store::open(dir.path(), &madadkar_e2e::passphrase())?;
    store.init("worker B", "laptop B", Some(&a))?;
    let err = store
        .enroll(&server.url, &server.enroll_code(&b)?, None)
        .unwrap_err();
    assert_eq!(server_code(&err), Some("conflict"), "{err}");
    assert!(err.to_string().contains("another worker"), "{err}");
    Ok(())
}

#[test]
fn history_names_authors_from_the_servers_records_not_from_the_change() -> Result<()> {
    let (_server, mut a, mut b, _c) = setup()?;
    let household = a.add_household("کاظم", 31_000_004)?;
    a.store.sync(None)?;
    // B writes a change whose message names B's worker id (the server checks that) but another
    // worker's name.
    b.store.sync(None)?;
    let mut doc = b.store.document(household)?;
    doc.automerge().set_actor(device_actor(device(&b)?));
    doc.edit_household(
        &HouseholdEdit {
            phone: Some("09123333333".into()),
            ..Default::default()
        },
        &madadkar_schema::ChangeMeta::new(
            &b.store
                .identity()
                .ok_or_else(|| anyhow::anyhow!("no identity"))?
                .worker_id
                .clone(),
            "supervisor S",
            "laptop S",
        ),
        chrono::Utc::now(),
    )?;
    b.store.merge_documents(vec![doc])?;
    b.store.sync(None)?;
    a.store.sync(None)?;
    let history = a.store.history(household)?;
    let last = history
        .last()
        .ok_or_else(|| anyhow::anyhow!("no history"))?;
    assert_eq!(last.meta.worker_name, "worker B");
    assert_eq!(last.meta.device_id, device(&b)?.to_string());
    assert!(last.verified);
    assert!(history.iter().all(|h| h.meta.worker_name != "supervisor S"));
    Ok(())
}
