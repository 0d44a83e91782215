//! Tests of the household document as a whole: actions, merging, conflicts, versions and
//! documents written by other Automerge clients.

use automerge::{AutoCommit, ObjType, ReadDoc, ScalarValue, transaction::Transactable};
use chrono::Utc;
use uuid::Uuid;

use super::*;
use crate::*;

pub(super) fn meta(worker: &str) -> ChangeMeta {
    ChangeMeta::new(worker, worker, &format!("{worker}-device"))
}

fn new_doc() -> HouseholdDoc {
    let household = NewHousehold {
        district: "منطقه ۳".into(),
        address: "کوچه یاس".into(),
        ..Default::default()
    };
    let head = NewMember::named("علی", "کریمی", Relation::Head);
    let actor = device_actor(Uuid::now_v7());
    HouseholdDoc::create(
        actor,
        Uuid::now_v7(),
        &household,
        &head,
        &meta("a"),
        Utc::now(),
    )
    .expect("create")
    .0
}

#[test]
fn a_new_document_reads_back() {
    let doc = new_doc();
    let h = doc.read().expect("read");
    assert_eq!(h.members.len(), 1);
    assert_eq!(h.head().map(|m| m.full_name()), Some("علی کریمی".into()));
    assert_eq!(h.status, HouseholdStatus::Active);
}

#[test]
fn concurrent_edits_to_one_field_keep_both_values_with_authors() {
    let mut a = new_doc();
    let mut b = HouseholdDoc::load(&a.save()).expect("load");
    b.set_actor(device_actor(Uuid::now_v7()));
    let edit = |p: &str| HouseholdEdit {
        phone: Some(p.into()),
        ..Default::default()
    };
    a.edit_household(&edit("1111"), &meta("a"), Utc::now())
        .expect("a");
    b.edit_household(&edit("2222"), &meta("b"), Utc::now())
        .expect("b");
    a.merge(&mut b).expect("merge");
    let conflicts = a.conflicts().expect("conflicts");
    assert_eq!(conflicts.len(), 1);
    let mut who: Vec<_> = conflicts[0]
        .values
        .iter()
        .map(|v| (v.value.clone(), v.worker_id.clone()))
        .collect();
    who.sort();
    assert_eq!(
        who,
        vec![("1111".into(), "a".into()), ("2222".into(), "b".into())]
    );
    a.resolve(
        &FieldPath::Household(Field::Phone),
        "3333",
        &meta("supervisor"),
        Utc::now(),
    )
    .expect("resolve");
    assert!(a.conflicts().expect("conflicts").is_empty());
    assert_eq!(a.read().expect("read").phone.as_deref(), Some("3333"));
}

#[test]
fn a_failed_action_leaves_no_trace() {
    let mut doc = new_doc();
    let heads = doc.heads();
    let err = doc.edit_member(
        Uuid::now_v7(),
        &MemberEdit::default(),
        &meta("a"),
        Utc::now(),
    );
    assert!(matches!(
        err,
        Err(DocumentError::NotFound { kind: "member", .. })
    ));
    assert_eq!(doc.heads(), heads);
}

#[test]
fn newer_and_foreign_documents_are_refused() {
    let mut doc = new_doc();
    doc.automerge()
        .put(automerge::ROOT, "schema_version", SCHEMA_VERSION as i64 + 1)
        .expect("put");
    let bytes = doc.save();
    assert!(matches!(
        HouseholdDoc::load(&bytes),
        Err(DocumentError::TooNew { .. })
    ));
    let mut foreign = AutoCommit::new();
    foreign
        .put(automerge::ROOT, "title", "a shopping list")
        .expect("put");
    assert!(matches!(
        HouseholdDoc::load(&foreign.save()),
        Err(DocumentError::Malformed(_))
    ));
}

#[test]
fn migration_lifts_an_older_document_once() {
    let mut doc = new_doc();
    doc.automerge()
        .put(automerge::ROOT, "schema_version", 0u64)
        .expect("put");
    doc.automerge().commit();
    assert!(doc.migrate(&meta("a"), Utc::now()).expect("migrate"));
    assert!(!doc.migrate(&meta("a"), Utc::now()).expect("migrate again"));
    let history = doc.history();
    assert_eq!(
        history.last().map(|c| c.meta.action.code()),
        Some("schema.migrate")
    );
}

/// The household map of a document, for tests that write as another client would.
fn household_map(doc: &mut HouseholdDoc) -> automerge::ObjId {
    match doc.automerge().get(automerge::ROOT, "household") {
        Ok(Some((_, id))) => id,
        other => panic!("no household map: {other:?}"),
    }
}

#[test]
fn changes_are_stamped_in_unix_seconds_and_old_millisecond_stamps_still_read() {
    let mut doc = new_doc();
    let raw = doc.automerge().get_changes(&[])[0].timestamp();
    let now = Utc::now().timestamp();
    assert!((now - raw).abs() < 60, "{raw} is not seconds near {now}");
    let time = doc.history()[0].time.expect("a time");
    assert!((time.timestamp() - now).abs() < 60);
    assert_eq!(change_time(1_700_000_000), change_time(1_700_000_000_000));
    assert_eq!(change_time(0), None, "no time, not 1970");
}

#[test]
fn the_schema_version_is_stored_signed_for_other_clients() {
    let mut doc = new_doc();
    let version = doc.automerge().get(automerge::ROOT, "schema_version");
    match version {
        Ok(Some((automerge::Value::Scalar(s), _))) => {
            assert_eq!(s.as_ref(), &ScalarValue::Int(SCHEMA_VERSION as i64))
        }
        other => panic!("schema_version: {other:?}"),
    }
}

#[test]
fn a_field_written_as_automerge_text_reads_as_its_string() {
    let mut doc = new_doc();
    let h = household_map(&mut doc);
    let am = doc.automerge();
    let text = am.put_object(&h, "address", ObjType::Text).expect("text");
    am.splice_text(&text, 0, 0, "کوچه نرگس").expect("splice");
    am.commit();
    let household = doc.read().expect("read");
    assert_eq!(household.address, "کوچه نرگس");
}

#[test]
fn a_field_holding_a_list_is_an_error_not_an_empty_value() {
    let mut doc = new_doc();
    let h = household_map(&mut doc);
    doc.automerge()
        .put_object(&h, "phone", ObjType::List)
        .expect("list");
    doc.automerge().commit();
    let err = doc.read().unwrap_err();
    assert!(
        err.to_string().contains("household.phone holds a list"),
        "{err}"
    );
}

#[test]
fn a_fractional_need_score_is_refused_not_truncated() {
    let mut doc = new_doc();
    let visit = NewVisit {
        date: Utc::now().date_naive(),
        kind: VisitKind::Home,
        observations: String::new(),
        needs: [(NeedDomain::Income, 2)].into_iter().collect(),
        followup_date: None,
    };
    let id = doc
        .add_visit(&visit, &meta("a"), Utc::now())
        .expect("visit");
    let needs = {
        let am = doc.automerge();
        let visits = am
            .get(automerge::ROOT, "visits")
            .expect("get")
            .expect("visits")
            .1;
        let v = am
            .get(&visits, id.to_string())
            .expect("get")
            .expect("visit")
            .1;
        am.get(&v, "needs").expect("get").expect("needs").1
    };
    doc.automerge()
        .put(&needs, "income", ScalarValue::F64(3.0))
        .expect("put");
    doc.automerge().commit();
    let read = doc.read().expect("a whole float is a score");
    assert_eq!(read.visits[0].needs[&NeedDomain::Income], 3);
    doc.automerge()
        .put(&needs, "income", ScalarValue::F64(2.5))
        .expect("put");
    doc.automerge().commit();
    let err = doc.read().unwrap_err();
    assert!(err.to_string().contains("not a whole score"), "{err}");
}

#[test]
fn a_malformed_registration_time_is_an_error_not_the_epoch() {
    let mut doc = new_doc();
    let h = household_map(&mut doc);
    doc.automerge()
        .put(&h, "created_at", "yesterday")
        .expect("put");
    doc.automerge().commit();
    let err = doc.read().unwrap_err();
    assert!(err.to_string().contains("created_at"), "{err}");
}

#[test]
fn maps_nested_without_bound_are_refused_not_walked() {
    let mut doc = new_doc();
    let mut obj = household_map(&mut doc);
    for _ in 0..200 {
        obj = doc
            .automerge()
            .put_object(&obj, "deeper", ObjType::Map)
            .expect("nest");
    }
    doc.automerge().commit();
    assert!(matches!(doc.conflicts(), Err(DocumentError::Malformed(_))));
}

#[test]
fn resolving_validates_like_editing_and_may_clear_optional_fields() {
    let mut doc = new_doc();
    let phone = FieldPath::Household(Field::Phone);
    doc.resolve(&phone, "09121234567", &meta("a"), Utc::now())
        .expect("set");
    doc.resolve(&phone, "", &meta("a"), Utc::now())
        .expect("an optional field can be cleared");
    assert_eq!(doc.read().expect("read").phone, None);
    let group = FieldPath::Household(Field::AssignedGroup);
    doc.resolve(&group, "", &meta("a"), Utc::now())
        .expect("the group is optional, as when editing");
    let district = FieldPath::Household(Field::District);
    assert!(matches!(
        doc.resolve(&district, " ", &meta("a"), Utc::now()),
        Err(DocumentError::Invalid(ValidationError::Required {
            field: Field::District
        }))
    ));
    let by = FieldPath::Household(Field::CreatedBy);
    assert!(matches!(
        doc.resolve(&by, "someone", &meta("a"), Utc::now()),
        Err(DocumentError::NotSettable(_))
    ));
}

#[test]
fn a_document_written_by_another_client_reads() {
    // What a JavaScript client produces with plain assignments: text objects for strings,
    // integers for numbers, no Madadkar change message.
    let mut am = AutoCommit::new();
    let put_text = |am: &mut AutoCommit, obj: &automerge::ObjId, key: &str, value: &str| {
        let t = am.put_object(obj, key, ObjType::Text).expect("text");
        am.splice_text(&t, 0, 0, value).expect("splice");
    };
    let id = Uuid::now_v7();
    let head = Uuid::now_v7();
    am.put(automerge::ROOT, "schema_version", 1)
        .expect("version");
    put_text(&mut am, &automerge::ROOT, "kind", "household");
    put_text(&mut am, &automerge::ROOT, "id", &id.to_string());
    let h = am
        .put_object(automerge::ROOT, "household", ObjType::Map)
        .expect("household");
    for (key, value) in [
        ("district", "منطقه ۵"),
        ("address", "خیابان لاله"),
        ("status", "active"),
        ("head_member_id", &head.to_string()),
        ("created_at", "2026-11-20T08:00:00Z"),
        ("created_by", "js-client"),
    ] {
        put_text(&mut am, &h, key, value);
    }
    let members = am
        .put_object(automerge::ROOT, "members", ObjType::Map)
        .expect("members");
    let m = am
        .put_object(&members, head.to_string(), ObjType::Map)
        .expect("member");
    for (key, value) in [
        ("first_name", "رضا"),
        ("last_name", "احمدی"),
        ("relation", "head"),
    ] {
        put_text(&mut am, &m, key, value);
    }
    for name in ["visits", "referrals"] {
        am.put_object(automerge::ROOT, name, ObjType::Map)
            .expect("collection");
    }
    am.commit();
    let mut doc = HouseholdDoc::load(&am.save()).expect("a household");
    let household = doc.read().expect("read");
    assert_eq!(household.id, id);
    assert_eq!(
        household.head().map(Member::full_name),
        Some("رضا احمدی".into())
    );
    let history = doc.history();
    assert_eq!(history[0].meta.action, Action::Unknown);
}
