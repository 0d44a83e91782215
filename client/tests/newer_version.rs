//! Households written by a newer Madadkar on a replica of this version, without a server: they
//! arrive by bundle, are stored whole, listed read-only (what can be read of them, or a
//! placeholder), refused every change, and survive every maintenance path (rebuild, compact,
//! check, reopening, export and import) unchanged.

mod common;

use automerge::{AutoCommit, ObjType, ReadDoc, transaction::Transactable};
use chrono::Utc;
use common::Replica;
use madadkar_client::{HouseholdSummary, ListQuery, Store, bundle};
use madadkar_schema::document::device_actor;
use madadkar_schema::{
    ChangeMeta, HouseholdDoc, HouseholdEdit, NationalId, NewHousehold, NewMember, Relation,
    SCHEMA_VERSION,
};
use uuid::Uuid;

/// A household document made elsewhere, as `AutoCommit`.
fn made_elsewhere(id: Uuid, first: &str) -> AutoCommit {
    let head = NewMember {
        national_id: Some(NationalId::with_check_digit(41_000_001)),
        ..NewMember::named(first, "کریمی", Relation::Head)
    };
    let new = NewHousehold {
        district: "منطقه ۳".into(),
        address: "کوچه یاس".into(),
        ..Default::default()
    };
    let meta = ChangeMeta::new("elsewhere", "elsewhere", "elsewhere-device");
    let (mut doc, _) = HouseholdDoc::create(
        device_actor(Uuid::now_v7()),
        id,
        &new,
        &head,
        &meta,
        Utc::now(),
    )
    .expect("create");
    doc.automerge().clone()
}

/// What a newer Madadkar would do to a household: raise the version and add a map of its own;
/// with `drop_referrals`, also drop a map this version requires.
fn upgrade(doc: &mut AutoCommit, drop_referrals: bool) {
    doc.set_actor(device_actor(Uuid::now_v7()));
    doc.put(automerge::ROOT, "schema_version", SCHEMA_VERSION as i64 + 1)
        .expect("put");
    let plans = doc
        .put_object(automerge::ROOT, "plans", ObjType::Map)
        .expect("put");
    doc.put(&plans, "goal", "اشتغال").expect("put");
    if drop_referrals {
        doc.delete(automerge::ROOT, "referrals").expect("delete");
    }
    doc.commit();
}

fn import(replica: &mut Replica, documents: &mut [(Uuid, AutoCommit)]) {
    let saved: Vec<bundle::Outgoing> = documents
        .iter_mut()
        .map(|(id, doc)| bundle::Outgoing {
            id: *id,
            document: doc.save(),
            signatures: vec![],
        })
        .collect();
    // Written by a device nobody knows: imported as unverified.
    let key = madadkar_schema::authorship::DeviceKey::from_secret(&[1; 32]);
    replica
        .store
        .import_bundle_bytes(&bundle::encode(&saved, Uuid::now_v7(), &key))
        .expect("import");
}

fn listed(store: &Store) -> Vec<HouseholdSummary> {
    let mut items = store
        .list(&ListQuery {
            limit: 100,
            ..Default::default()
        })
        .expect("list")
        .items;
    items.sort_by(|a, b| a.id.cmp(&b.id));
    items
}

fn find(items: &[HouseholdSummary], id: Uuid) -> &HouseholdSummary {
    items
        .iter()
        .find(|h| h.id == id.to_string())
        .expect("listed")
}

fn refused(store: &mut Store, id: Uuid) {
    let edit = HouseholdEdit {
        phone: Some("09121111111".into()),
        ..Default::default()
    };
    let said = store
        .edit_household(id, &edit)
        .expect_err("a newer household is not written")
        .to_string();
    assert!(
        said.contains("this household was written by a newer Madadkar")
            && said.contains("update the app"),
        "{said}"
    );
}

#[test]
fn newer_households_are_kept_listed_read_only_and_survive_maintenance() {
    let mut r = Replica::new("زهرا");
    let readable = Uuid::now_v7();
    let mut readable_doc = made_elsewhere(readable, "نوید");
    upgrade(&mut readable_doc, false);
    let unreadable = Uuid::now_v7();
    let mut unreadable_doc = made_elsewhere(unreadable, "ناهید");
    upgrade(&mut unreadable_doc, true);
    let current = r.add_household("علی", "کریمی", 41_000_002);
    import(
        &mut r,
        &mut [
            (readable, readable_doc.clone()),
            (unreadable, unreadable_doc.clone()),
        ],
    );

    let items = listed(&r.store);
    assert_eq!(items.len(), 3);
    let shown = find(&items, readable);
    assert!(shown.needs_update);
    assert_eq!(
        (shown.head_name.as_str(), shown.member_count),
        ("نوید کریمی", 1)
    );
    // Nothing this version can read: a placeholder with the id and no invented values.
    let placeholder = find(&items, unreadable);
    assert!(placeholder.needs_update);
    assert_eq!(
        (placeholder.head_name.as_str(), placeholder.status.as_str()),
        ("", "")
    );
    assert!(!find(&items, current).needs_update);
    refused(&mut r.store, readable);
    refused(&mut r.store, unreadable);

    // Maintenance handles them like any other household.
    assert_eq!(r.store.rebuild_index().expect("rebuild"), 3);
    assert_eq!(listed(&r.store), items);
    assert_eq!(r.store.compact().expect("compact"), 3);
    let check = r.store.check().expect("check");
    assert!(check.ok(), "{check:?}");
    let conn = r.store.connection().expect("open");
    conn.execute("DELETE FROM meta WHERE key = 'projection_version'", [])
        .expect("forget");
    let reopened =
        Store::open(r.dir.path(), &common::passphrase()).expect("reopen rebuilds the projections");
    assert_eq!(listed(&reopened), items);

    // Passed on whole to another replica.
    let mut other = Replica::new("مریم");
    r.send_to(&mut other);
    assert_eq!(listed(&other.store), items);
    refused(&mut other.store, readable);
}

#[test]
fn a_household_here_that_a_newer_madadkar_changed_becomes_read_only_with_local_work_kept() {
    let mut r = Replica::new("زهرا");
    let id = r.add_household("علی", "کریمی", 41_000_003);
    let local = HouseholdEdit {
        phone: Some("09122222222".into()),
        ..Default::default()
    };
    r.store.edit_household(id, &local).expect("edit");
    let mut theirs = r.store.document(id).expect("document").automerge().clone();
    upgrade(&mut theirs, false);
    let heads = theirs.get_heads();
    import(&mut r, &mut [(id, theirs)]);

    let items = listed(&r.store);
    let shown = find(&items, id);
    assert!(shown.needs_update);
    assert_eq!(shown.phone.as_deref(), Some("09122222222"));
    refused(&mut r.store, id);
    let check = r.store.check().expect("check");
    assert!(check.ok(), "{check:?}");
    // The stored document is the newer one, whole.
    let bytes = r.store.bundle_bytes().expect("export");
    let decoded = bundle::decode(&bytes).expect("decode");
    let saved = decoded
        .households
        .iter()
        .find(|h| h.id == id)
        .expect("in the bundle");
    let mut stored = AutoCommit::load(saved.document).expect("load");
    assert_eq!(stored.get_heads(), heads);
    let plans = match stored.get(automerge::ROOT, "plans").expect("get") {
        Some((_, obj)) => obj,
        None => panic!("the newer map is gone"),
    };
    assert!(stored.get(&plans, "goal").expect("get").is_some());
}
