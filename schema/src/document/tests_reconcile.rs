//! Tests of the schema version 2 actions: merge redirects, visit review and "not a duplicate",
//! each also across two replicas that wrote concurrently.

use std::collections::BTreeMap;

use automerge::transaction::Transactable;
use chrono::{Duration, NaiveDate, Utc};
use uuid::Uuid;

use super::tests::meta;
use super::*;
use crate::*;

fn new_doc() -> HouseholdDoc {
    let household = NewHousehold {
        district: "منطقه ۳".into(),
        address: "کوچه یاس".into(),
        ..Default::default()
    };
    let head = NewMember {
        father_name: Some("حسن".into()),
        ..NewMember::named("علی", "کریمی", Relation::Head)
    };
    HouseholdDoc::create(
        device_actor(Uuid::now_v7()),
        Uuid::now_v7(),
        &household,
        &head,
        &meta("a"),
        Utc::now(),
    )
    .expect("create")
    .0
}

/// A second replica of `doc` writing as another device.
fn replica(doc: &mut HouseholdDoc) -> HouseholdDoc {
    let mut other = HouseholdDoc::load(&doc.save()).expect("load");
    other.set_actor(device_actor(Uuid::now_v7()));
    other
}

fn visit(doc: &mut HouseholdDoc) -> Uuid {
    let visit = NewVisit {
        date: NaiveDate::from_ymd_opt(2025, 11, 1).expect("date"),
        kind: VisitKind::Home,
        observations: "اجاره عقب افتاده".into(),
        needs: BTreeMap::from([(NeedDomain::Income, 3)]),
        followup_date: None,
    };
    doc.add_visit(&visit, &meta("a"), Utc::now())
        .expect("visit")
}

fn state(doc: &HouseholdDoc, id: Uuid) -> ReviewState {
    let h = doc.read().expect("read");
    h.visits
        .iter()
        .find(|v| v.id == id)
        .expect("the visit")
        .review_state()
}

#[test]
fn father_name_is_stored_and_read() {
    let doc = new_doc();
    let h = doc.read().expect("read");
    assert_eq!(
        h.head().and_then(|m| m.father_name.clone()),
        Some("حسن".into())
    );
}

#[test]
fn retiring_makes_a_redirect_and_undoing_it_restores_the_household() {
    let mut doc = new_doc();
    let own = doc.id().expect("id");
    let survivor = Uuid::now_v7();
    let err = doc
        .retire_into(own, None, &meta("c"), Utc::now())
        .expect_err("into itself");
    assert!(err.to_string().contains("itself"), "{err}");
    doc.retire_into(survivor, Some("g-x"), &meta("c"), Utc::now())
        .expect("retire");
    let link = doc.read().expect("read").merged.expect("a redirect");
    assert_eq!(doc.merged_into().expect("link"), Some(link.clone()));
    assert_eq!(link.survivor, survivor);
    assert_eq!(link.survivor_group.as_deref(), Some("g-x"));
    assert_eq!(link.by, "c");
    assert!(
        doc.retire_into(Uuid::now_v7(), None, &meta("c"), Utc::now())
            .is_err(),
        "merged twice"
    );
    // Work written after the merge stays in this document (the survivor composes it).
    let v = visit(&mut doc);
    assert_eq!(
        doc.unretire(&meta("c"), Utc::now()).expect("undo"),
        survivor
    );
    let h = doc.read().expect("read");
    assert!(h.merged.is_none());
    assert!(h.visits.iter().any(|x| x.id == v));
    assert!(
        doc.unretire(&meta("c"), Utc::now()).is_err(),
        "nothing to undo"
    );
    let actions: Vec<Action> = doc.history().iter().map(|c| c.meta.action).collect();
    assert!(actions.contains(&Action::HouseholdMerge));
    assert!(actions.contains(&Action::HouseholdUnmerge));
}

#[test]
fn review_goes_awaiting_returned_resubmitted_approved_and_an_edit_reopens_it() {
    let mut doc = new_doc();
    let v = visit(&mut doc);
    assert_eq!(state(&doc, v), ReviewState::Awaiting);
    let err = doc
        .review_visit(
            v,
            ReviewAction::Returned,
            "  ",
            None,
            &meta("s"),
            Utc::now(),
        )
        .expect_err("a return needs a comment");
    assert!(err.to_string().contains("comment"), "{err}");
    assert!(
        doc.review_visit(
            v,
            ReviewAction::Returned,
            "x",
            Some(Field::Phone),
            &meta("s"),
            Utc::now()
        )
        .is_err(),
        "the phone is not a visit field"
    );
    doc.review_visit(
        v,
        ReviewAction::Returned,
        "امتیاز درآمد با مشاهدات نمی‌خواند",
        Some(Field::Need),
        &meta("s"),
        Utc::now(),
    )
    .expect("return");
    assert_eq!(state(&doc, v), ReviewState::Returned);
    let returned = doc.read().expect("read").visits[0].clone();
    let open = returned.open_return().expect("an open return");
    assert_eq!(open.field, Some(Field::Need));
    assert!(
        doc.review_visit(v, ReviewAction::Approved, "", None, &meta("s"), Utc::now())
            .is_err(),
        "a returned visit must be resubmitted first"
    );
    let edit = VisitEdit {
        needs: Some(BTreeMap::from([(NeedDomain::Income, 4)])),
        ..Default::default()
    };
    doc.edit_visit(v, &edit, &meta("a"), Utc::now())
        .expect("correct");
    assert_eq!(state(&doc, v), ReviewState::Returned, "a correction alone");
    doc.review_visit(
        v,
        ReviewAction::Resubmitted,
        "اصلاح شد",
        None,
        &meta("a"),
        Utc::now(),
    )
    .expect("resubmit");
    assert_eq!(state(&doc, v), ReviewState::Awaiting);
    doc.review_visit(v, ReviewAction::Approved, "", None, &meta("s"), Utc::now())
        .expect("approve");
    assert_eq!(state(&doc, v), ReviewState::Approved);
    // No silent edit of an approved visit: the edit puts it back in review.
    let later = Utc::now() + Duration::seconds(1);
    let edit = VisitEdit {
        observations: Some("مشاهدات تازه".into()),
        ..Default::default()
    };
    doc.edit_visit(v, &edit, &meta("a"), later).expect("edit");
    let h = doc.read().expect("read");
    let visit = &h.visits[0];
    assert_eq!(visit.review_state(), ReviewState::Awaiting);
    assert_eq!(visit.observations, "مشاهدات تازه");
    assert_eq!(visit.needs.get(&NeedDomain::Income), Some(&4));
    let actions: Vec<ReviewAction> = visit.review.iter().map(|e| e.action).collect();
    assert_eq!(
        actions,
        vec![
            ReviewAction::Returned,
            ReviewAction::Resubmitted,
            ReviewAction::Approved,
            ReviewAction::Reopened
        ]
    );
}

#[test]
fn reviews_and_decisions_written_concurrently_on_two_replicas_both_survive() {
    let mut a = new_doc();
    let v = visit(&mut a);
    let mut b = replica(&mut a);
    // Both replicas create the visit's review map and the root's decisions map at once.
    a.review_visit(v, ReviewAction::Approved, "", None, &meta("s1"), Utc::now())
        .expect("approve");
    b.review_visit(
        v,
        ReviewAction::Returned,
        "تاریخ اشتباه",
        Some(Field::VisitDate),
        &meta("s2"),
        Utc::now(),
    )
    .expect("return");
    let (x, y) = (Uuid::now_v7(), Uuid::now_v7());
    a.mark_not_duplicate(x, "برادرند", &["nid:1".into()], &meta("s1"), Utc::now())
        .expect("decide");
    b.mark_not_duplicate(y, "همسایه‌اند", &[], &meta("s2"), Utc::now())
        .expect("decide");
    a.merge(&mut b).expect("merge");
    b.merge(&mut a).expect("merge");
    for doc in [&a, &b] {
        let h = doc.read().expect("read");
        assert_eq!(h.visits[0].review.len(), 2, "both review steps");
        let mut others: Vec<Uuid> = h.not_duplicates.iter().map(|d| d.other).collect();
        others.sort();
        let mut want = vec![x, y];
        want.sort();
        assert_eq!(others, want, "both decisions");
    }
    assert_eq!(a.read().expect("a").visits, b.read().expect("b").visits);
    // Two lazily created maps are not a conflict a person must resolve.
    assert!(a.conflicts().expect("conflicts").is_empty());
    let decision = a
        .read()
        .expect("read")
        .not_duplicates
        .into_iter()
        .find(|d| d.other == x)
        .expect("x");
    assert_eq!(decision.evidence, vec!["nid:1".to_string()]);
    assert!(
        a.mark_not_duplicate(x, " ", &[], &meta("s1"), Utc::now())
            .is_err(),
        "a reason is required"
    );
}

#[test]
fn a_version_1_document_is_lifted_on_write_and_passes_the_storage_check() {
    let mut doc = new_doc();
    doc.automerge()
        .put(automerge::ROOT, "schema_version", 1_i64)
        .expect("put");
    doc.automerge().commit();
    assert!(doc.migrate(&meta("a"), Utc::now()).expect("migrate"));
    let v = visit(&mut doc);
    doc.review_visit(v, ReviewAction::Approved, "", None, &meta("s"), Utc::now())
        .expect("approve");
    doc.retire_into(Uuid::now_v7(), Some("g"), &meta("c"), Utc::now())
        .expect("retire");
    doc.mark_not_duplicate(
        Uuid::now_v7(),
        "نه",
        &["phone:9121234567".into()],
        &meta("c"),
        Utc::now(),
    )
    .expect("decide");
    let id = doc.id().expect("id");
    doc.check_for_storage(id)
        .expect("a version 2 household passes");
}
