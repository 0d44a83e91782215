//! One household's bad changes never stop anyone's sync: the real server holds changes that
//! cannot apply (planted in its storage, as a server from before content validation stored
//! them), and a supervisor's replica sets that household aside (quarantined, kept, with the
//! reason) while every other household syncs. Needs the server built first
//! (`cargo build -p madadkar-server --bins`).

mod planting;

use std::collections::BTreeMap;

use anyhow::Result;
use automerge::{ObjType, ReadDoc, transaction::Transactable};
use madadkar_client::{ListQuery, QuarantinedHousehold};
use madadkar_e2e::{Replica, Server};
use madadkar_schema::{NewVisit, VisitKind};
use planting::{change_bytes, household, plant, root_map};
use uuid::Uuid;

fn visit(note: &str) -> NewVisit {
    NewVisit {
        date: chrono::NaiveDate::from_ymd_opt(2025, 10, 1).expect("date"),
        kind: VisitKind::Home,
        observations: note.into(),
        needs: BTreeMap::new(),
        followup_date: None,
    }
}

/// A server with group g1, a field worker and a supervisor, each with an enrolled replica.
fn setup() -> Result<(Server, Replica, Replica)> {
    let server = Server::start()?;
    server.add_group("g1")?;
    let a = server.add_worker("worker A", Some("g1"), "field")?;
    let s = server.add_worker("supervisor S", Some("g1"), "supervisor")?;
    let a = Replica::enrolled(&server, &a, "laptop A")?;
    let s = Replica::enrolled(&server, &s, "laptop S")?;
    Ok((server, a, s))
}

fn set_aside(r: &Replica, household: Uuid) -> Result<Option<QuarantinedHousehold>> {
    Ok(r.store
        .quarantined()?
        .into_iter()
        .find(|q| q.household == household))
}

fn sorted(mut ids: Vec<Uuid>) -> Vec<Uuid> {
    ids.sort();
    ids
}

#[test]
fn households_whose_changes_cannot_apply_are_set_aside_while_the_rest_syncs() -> Result<()> {
    let (server, mut a, mut s) = setup()?;
    let h1 = a.add_household("علی", 21_000_001)?;
    a.store.sync(None)?;

    // Bytes that are no Automerge change.
    let junk = Uuid::now_v7();
    plant(&server, junk, "g1", &[b"not an automerge change".to_vec()])?;
    // A document whose head carries a national ID with a wrong check digit.
    let invalid = Uuid::now_v7();
    let mut doc = household(invalid, "رضا", 21_000_002)?;
    let head = doc.read()?.members[0].id;
    let raw = doc.automerge();
    let members = root_map(raw, "members")?;
    let member = match raw.get(&members, head.to_string())? {
        Some((_, obj)) => obj,
        None => anyhow::bail!("no head"),
    };
    raw.put(&member, "national_id", "0499370898")?;
    raw.commit();
    plant(&server, invalid, "g1", &change_bytes(raw))?;
    // A household's second change without its first: it builds on a change not (yet) sent.
    let waiting = Uuid::now_v7();
    let mut doc = household(waiting, "حسن", 21_000_003)?;
    let first = change_bytes(doc.automerge());
    doc.add_visit(
        &visit("second change").validated(chrono::Utc::now().date_naive())?,
        &madadkar_schema::ChangeMeta::new("planted", "planted", "planted-device"),
        chrono::Utc::now(),
    )?;
    let second = change_bytes(doc.automerge())[1..].to_vec();
    plant(&server, waiting, "g1", &second)?;

    let h2 = a.add_household("مریم", 21_000_004)?;
    a.store.sync(None)?;

    let report = s.store.sync(None)?;
    assert_eq!(report.quarantined, 3, "{report:?}");
    assert_eq!(sorted(s.store.household_ids()?), sorted(vec![h1, h2]));
    assert!(s.store.check()?.ok(), "the replica is sound");
    let junk_q = set_aside(&s, junk)?.expect("junk set aside");
    assert!(
        junk_q.reason.contains("not an Automerge change"),
        "{junk_q:?}"
    );
    assert_eq!((junk_q.changes, junk_q.has_local_copy), (1, false));
    let invalid_q = set_aside(&s, invalid)?.expect("invalid set aside");
    assert!(invalid_q.reason.contains("national_id"), "{invalid_q:?}");
    assert!(
        !invalid_q.reason.contains("0499370898"),
        "no value in a reason: {invalid_q:?}"
    );
    let waiting_q = set_aside(&s, waiting)?.expect("waiting set aside");
    assert!(waiting_q.reason.contains("not arrived"), "{waiting_q:?}");

    // A sync with nothing new for them changes nothing; the cursor went on.
    let again = s.store.sync(None)?;
    assert_eq!((again.pulled, again.quarantined), (0, 0));
    assert_eq!(s.store.quarantined()?.len(), 3);

    // The missing first change arrives: the kept second one applies with it.
    plant(&server, waiting, "g1", &first)?;
    // More junk for the junk household is kept with the rest.
    plant(&server, junk, "g1", &[b"more junk".to_vec()])?;
    let report = s.store.sync(None)?;
    assert_eq!(report.quarantined, 1, "{report:?}");
    assert!(
        set_aside(&s, waiting)?.is_none(),
        "the quarantine is lifted"
    );
    let details = s.store.household(waiting)?;
    assert_eq!(details.household.visits.len(), 1);
    assert_eq!(s.store.history(waiting)?.len(), 2);
    assert_eq!(set_aside(&s, junk)?.expect("still aside").changes, 2);
    assert!(s.store.check()?.ok());
    Ok(())
}

#[test]
fn a_bad_change_to_a_household_already_here_leaves_its_good_state_usable() -> Result<()> {
    let (server, mut a, mut s) = setup()?;
    let h1 = a.add_household("علی", 22_000_001)?;
    a.store.sync(None)?;
    s.store.sync(None)?;
    let rows = s.store.projection_rows(h1)?;

    // Another change with the same author device and sequence number as A's first: Automerge
    // refuses it ("duplicate seq"), on every replica that receives it.
    let a_device = a.store.identity().map(|i| i.device_id).expect("identity");
    let mut forged =
        automerge::AutoCommit::new().with_actor(madadkar_schema::document::device_actor(a_device));
    forged.put(automerge::ROOT, "kind", "household")?;
    forged.commit();
    plant(&server, h1, "g1", &change_bytes(&mut forged))?;

    let report = s.store.sync(None)?;
    assert_eq!(report.quarantined, 1);
    let q = set_aside(&s, h1)?.expect("set aside");
    assert!(q.reason.contains("Automerge refuses"), "{q:?}");
    assert!(q.has_local_copy);
    assert_eq!(s.store.projection_rows(h1)?, rows, "its good state stays");

    // It stays usable: read, edited, and the edit is pushed.
    assert_eq!(s.store.household(h1)?.household.members.len(), 1);
    s.store.add_visit(h1, &visit("supervisor's visit"))?;
    let report = s.store.sync(None)?;
    assert_eq!(report.pushed, 1);
    assert_eq!(s.store.household(h1)?.household.visits.len(), 1);
    Ok(())
}

#[test]
fn a_document_carrying_another_households_id_is_set_aside_and_touches_nothing_else() -> Result<()> {
    let (server, mut a, mut s) = setup()?;
    let h1 = a.add_household("علی", 23_000_001)?;
    a.store.sync(None)?;
    s.store.sync(None)?;
    let rows = s.store.projection_rows(h1)?;
    let head = s.store.household(h1)?.household.members[0].id;

    // Sent as a new household, it says it is h1 (and would rewrite h1's list row).
    let forger = Uuid::now_v7();
    let mut forged = household(h1, "جعلی", 23_000_002)?;
    plant(&server, forger, "g1", &change_bytes(forged.automerge()))?;
    // Its own id, but a member whose id is h1's head's (its rows would collide with h1's).
    let collider = Uuid::now_v7();
    let mut doc = household(collider, "تصادم", 23_000_003)?;
    let raw = doc.automerge();
    let members = root_map(raw, "members")?;
    let m = raw.put_object(&members, head.to_string(), ObjType::Map)?;
    raw.put(&m, "first_name", "زینب")?;
    raw.put(&m, "last_name", "کریمی")?;
    raw.put(&m, "relation", "spouse")?;
    raw.commit();
    plant(&server, collider, "g1", &change_bytes(raw))?;
    let h2 = a.add_household("مریم", 23_000_004)?;
    a.store.sync(None)?;

    let report = s.store.sync(None)?;
    assert_eq!(report.quarantined, 2, "{report:?}");
    let q = set_aside(&s, forger)?.expect("the forger is set aside");
    assert!(q.reason.contains(&h1.to_string()), "{q:?}");
    let q = set_aside(&s, collider)?.expect("the collider is set aside");
    assert!(q.reason.contains("collide"), "{q:?}");
    assert_eq!(s.store.projection_rows(h1)?, rows, "h1's rows untouched");
    assert!(s.store.search("جعلی", 10)?.is_empty());
    assert!(s.store.search("تصادم", 10)?.is_empty());
    let list = s.store.list(&ListQuery {
        limit: 50,
        ..Default::default()
    })?;
    let mut listed: Vec<String> = list.items.iter().map(|h| h.id.clone()).collect();
    listed.sort();
    let mut expected = vec![h1.to_string(), h2.to_string()];
    expected.sort();
    assert_eq!(listed, expected);
    assert!(s.store.check()?.ok());
    Ok(())
}
