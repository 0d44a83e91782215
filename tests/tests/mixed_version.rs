//! An app of today's schema meets a household written by a newer Madadkar (a later schema
//! version, with a field and a map this version does not know): it keeps syncing everything
//! else, keeps that household whole and lists it read-only ("update the app"), refuses every
//! change to it, and passes it on to another replica with what it does not know intact.
//! Needs the server built first (`cargo build -p madadkar-server --bins`).

mod planting;

use std::collections::BTreeMap;

use anyhow::Result;
use automerge::{AutoCommit, ObjType, ReadDoc, transaction::Transactable};
use madadkar_client::{HouseholdSummary, ListQuery, Store};
use madadkar_e2e::{Replica, Server};
use madadkar_schema::{HouseholdEdit, NewVisit, SCHEMA_VERSION, VisitKind};
use planting::{change_bytes, household, plant, root_map, stored_document};
use uuid::Uuid;

/// A household as a newer Madadkar writes it: a later schema version, a review map and a
/// priority field this version does not know.
fn newer_household(id: Uuid) -> Result<AutoCommit> {
    let mut doc = household(id, "نوید", 31_000_001)?;
    let raw = doc.automerge();
    raw.put(automerge::ROOT, "schema_version", SCHEMA_VERSION as i64 + 1)?;
    let reviews = raw.put_object(automerge::ROOT, "reviews", ObjType::Map)?;
    let review = raw.put_object(&reviews, Uuid::now_v7().to_string(), ObjType::Map)?;
    raw.put(&review, "comment", "بازبینی شد")?;
    raw.put(&review, "score", 3i64)?;
    let h = root_map(raw, "household")?;
    raw.put(&h, "priority", "high")?;
    raw.commit();
    Ok(raw.clone())
}

/// What this version does not know of the newer household, as text: the review map and the
/// priority field.
fn unknown_parts(doc: &AutoCommit) -> Result<(String, String)> {
    let reviews = root_map(doc, "reviews")?;
    let mut parts = Vec::new();
    for item in doc.map_range(&reviews, ..) {
        let obj = item.id();
        for field in doc.map_range(&obj, ..) {
            parts.push(format!("{}.{}={:?}", item.key, field.key, field.value));
        }
    }
    let h = root_map(doc, "household")?;
    let priority = match doc.get(&h, "priority")? {
        Some((value, _)) => format!("{value:?}"),
        None => "absent".into(),
    };
    Ok((parts.join(";"), priority))
}

fn summary(store: &Store, id: Uuid) -> Result<HouseholdSummary> {
    let page = store.list(&ListQuery {
        limit: 100,
        ..Default::default()
    })?;
    page.items
        .into_iter()
        .find(|h| h.id == id.to_string())
        .ok_or_else(|| anyhow::anyhow!("{id} is not listed"))
}

#[test]
fn a_household_of_a_newer_schema_version_is_kept_read_only_while_the_rest_syncs() -> Result<()> {
    let server = Server::start()?;
    server.add_group("g1")?;
    let a = server.add_worker("worker A", Some("g1"), "field")?;
    let s = server.add_worker("supervisor S", Some("g1"), "supervisor")?;
    let mut a = Replica::enrolled(&server, &a, "laptop A")?;
    let mut s = Replica::enrolled(&server, &s, "laptop S")?;

    let h1 = a.add_household("علی", 31_000_002)?;
    a.store.sync(None)?;
    let newer = Uuid::now_v7();
    let mut original = newer_household(newer)?;
    plant(&server, newer, "g1", &change_bytes(&mut original))?;
    let h2 = a.add_household("مریم", 31_000_003)?;
    a.store.sync(None)?;

    // Everything syncs; the newer household is kept, not set aside.
    let report = s.store.sync(None)?;
    assert_eq!(
        (report.quarantined, report.needs_update),
        (0, 1),
        "{report:?}"
    );
    let mut ids = s.store.household_ids()?;
    ids.sort();
    let mut expected = vec![h1, h2, newer];
    expected.sort();
    assert_eq!(ids, expected);
    assert!(s.store.quarantined()?.is_empty());
    assert!(s.store.check()?.ok(), "{:?}", s.store.check()?);

    // Listed read-only with what this version can read of it; the others as always.
    let listed = summary(&s.store, newer)?;
    assert!(listed.needs_update);
    assert_eq!(listed.head_name, "نوید کریمی");
    assert_eq!(listed.member_count, 1);
    assert!(!summary(&s.store, h1)?.needs_update);
    assert_eq!(s.store.search("نوید", 10)?.len(), 1);

    // Every change to it is refused with a clear reason; reading it in full is too.
    let edit = HouseholdEdit {
        phone: Some("09121111111".into()),
        ..Default::default()
    };
    let err = s
        .store
        .edit_household(newer, &edit)
        .expect_err("no write to a newer household");
    let said = err.to_string();
    assert!(
        said.contains("written by a newer Madadkar") && said.contains("update the app"),
        "{said}"
    );
    let visit = NewVisit {
        date: chrono::NaiveDate::from_ymd_opt(2025, 10, 1).expect("date"),
        kind: VisitKind::Home,
        observations: String::new(),
        needs: BTreeMap::new(),
        followup_date: None,
    };
    assert!(s.store.add_visit(newer, &visit).is_err());
    assert!(s.store.household(newer).is_err());
    assert_eq!(s.store.sync_status()?.pending_changes, 0, "nothing written");

    // Work on the other households goes on and syncs.
    s.store.add_visit(h1, &visit)?;
    let report = s.store.sync(None)?;
    assert_eq!(report.pushed, 1);
    a.store.sync(None)?;
    assert_eq!(a.store.household(h1)?.household.visits.len(), 1);

    // Passed on by this old replica (a bundle) to another old one, it arrives whole: the same
    // changes, and what this version does not know unchanged.
    let bundle = s.dir.path().join("relay.bundle");
    s.store
        .export_bundle(&bundle, &madadkar_e2e::bundle_passphrase())?;
    let dir = tempfile::tempdir()?;
    let mut other = Store::open(dir.path(), &madadkar_e2e::passphrase())?;
    other.init("مدد", "laptop O", None)?;
    let imported = other.import_bundle(&bundle, &madadkar_e2e::bundle_passphrase())?;
    assert_eq!(imported.households_new, 3);
    assert!(summary(&other, newer)?.needs_update);
    for copy in [
        stored_document(&s.store, newer)?,
        stored_document(&other, newer)?,
    ] {
        let mut copy = copy;
        assert_eq!(copy.get_heads(), original.get_heads());
        assert_eq!(change_bytes(&mut copy), change_bytes(&mut original));
        assert_eq!(unknown_parts(&copy)?, unknown_parts(&original)?);
        assert_eq!(copy.save(), original.save(), "byte for byte");
    }
    let (reviews, priority) = unknown_parts(&original)?;
    assert!(reviews.contains("بازبینی شد") && priority.contains("high"));
    Ok(())
}

#[test]
fn a_household_the_server_refuses_is_held_back_while_the_rest_pushes() -> Result<()> {
    let server = Server::start()?;
    server.add_group("g1")?;
    let s = server.add_worker("supervisor S", Some("g1"), "supervisor")?;
    let o = server.add_worker("supervisor O", Some("g1"), "supervisor")?;
    let mut s = Replica::enrolled(&server, &s, "laptop S")?;
    let mut o = Replica::enrolled(&server, &o, "laptop O")?;
    // A newer app wrote a household offline; its bundle reaches this (older) laptop, which also
    // registers a household of its own.
    let newer = Uuid::now_v7();
    let mut doc = newer_household(newer)?;
    let key = madadkar_schema::authorship::DeviceKey::from_secret(&[9; 32]);
    let bytes = madadkar_client::bundle::encode(
        &[madadkar_client::bundle::Outgoing {
            id: newer,
            document: doc.save(),
            signatures: vec![],
        }],
        Uuid::now_v7(),
        &key,
    );
    s.store.import_bundle_bytes(&bytes)?;
    let mine = s.add_household("مینا", 31_000_009)?;
    // The server refuses the newer household (written on a device it does not know, in a
    // version it cannot store yet); it is held back and the rest is pushed.
    let report = s.store.sync(None)?;
    assert_eq!(report.refused.len(), 1, "{report:?}");
    assert_eq!(report.refused[0].0, newer, "{report:?}");
    o.store.sync(None)?;
    assert!(o.store.household_ids()?.contains(&mine));
    assert!(!o.store.household_ids()?.contains(&newer));
    // Its work stays queued for a server that can store it.
    assert!(s.store.sync_status()?.pending_changes > 0);
    Ok(())
}
