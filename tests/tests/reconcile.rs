//! Reconciliation end to end (issue 10), with the real `madadkar-server` on loopback and
//! replicas on real SQLite files: story 3 (two groups register one family; the coordinator
//! merges it; every replica converges, work written offline to the retired household shows once;
//! undo), story 6 (a returned visit's comment reaches the worker), "not a duplicate" surviving
//! sync, the conflicts inbox and caseloads.

use std::collections::BTreeMap;

use anyhow::Result;
use madadkar_client::StoreError;
use madadkar_client::reconcile::inbox::ConflictFilter;
use madadkar_client::reconcile::review::ReviewQuery;
use madadkar_e2e::{Replica, Server};
use madadkar_schema::{
    Field, FieldPath, HouseholdEdit, NationalId, NeedDomain, NewHousehold, NewMember, NewVisit,
    Relation, ReviewAction, ReviewState, VisitEdit, VisitKind,
};
use uuid::Uuid;

fn visit(note: &str, day: u32) -> NewVisit {
    NewVisit {
        date: chrono::NaiveDate::from_ymd_opt(2025, 10, day).expect("date"),
        kind: VisitKind::Home,
        observations: note.into(),
        needs: BTreeMap::from([(NeedDomain::Income, 3)]),
        followup_date: None,
    }
}

/// A household registered with its head (national ID from `head_seed`), a spouse (national ID
/// from `spouse_seed`, born on `spouse_born`) and the given spellings and address.
fn register(
    replica: &mut Replica,
    first: &str,
    last: &str,
    head_seed: u32,
    spouse_seed: u32,
    spouse_born: (i32, u32, u32),
    address: &str,
    phone: &str,
) -> Result<Uuid> {
    let head = NewMember {
        national_id: Some(NationalId::with_check_digit(head_seed)),
        ..NewMember::named(first, last, Relation::Head)
    };
    let household = NewHousehold {
        district: "منطقه ۳".into(),
        address: address.into(),
        phone: Some(phone.into()),
        ..Default::default()
    };
    let (id, _) = replica.store.add_household(&household, &head)?;
    let spouse = NewMember {
        national_id: Some(NationalId::with_check_digit(spouse_seed)),
        birth_date: chrono::NaiveDate::from_ymd_opt(spouse_born.0, spouse_born.1, spouse_born.2),
        ..NewMember::named("مریم", last, Relation::Spouse)
    };
    replica.store.add_member(id, &spouse)?;
    Ok(id)
}

fn visits_with(replica: &Replica, household: Uuid, note: &str) -> Result<usize> {
    Ok(replica
        .store
        .household(household)?
        .household
        .visits
        .iter()
        .filter(|v| v.observations == note)
        .count())
}

#[test]
fn story_3_two_groups_register_one_family_the_coordinator_merges_and_undoes() -> Result<()> {
    let server = Server::start()?;
    server.add_group("gx")?;
    server.add_group("gy")?;
    let x_id = server.add_worker("worker X", Some("gx"), "field")?;
    let y_id = server.add_worker("worker Y", Some("gy"), "field")?;
    let c_id = server.add_worker("coordinator", None, "coordinator")?;
    let mut x = Replica::enrolled(&server, &x_id, "laptop X")?;
    let mut y = Replica::enrolled(&server, &y_id, "laptop Y")?;
    let mut c = Replica::enrolled(&server, &c_id, "office")?;

    // Group X and group Y register the same family, spelled differently.
    let a = register(
        &mut x,
        "علی",
        "کریمی",
        11_000_001,
        11_000_002,
        (1987, 5, 1),
        "کوچه یاس، پلاک ۴",
        "09121234567",
    )?;
    x.store.add_visit(a, &visit("x visit", 1))?;
    let b = register(
        &mut y,
        "علي",
        "كريمي",
        11_000_001,
        11_000_002,
        (1987, 6, 1),
        "خیابان نرگس",
        "+989121234567",
    )?;
    y.store.add_visit(b, &visit("y visit", 2))?;
    let child = NewMember::named("رضا", "کریمی", Relation::Child);
    y.store.add_member(b, &child)?;
    x.store.sync(None)?;
    y.store.sync(None)?;
    c.store.sync(None)?;

    // The coordinator's duplicates inbox proposes the pair as likely, saying why.
    let pairs = c.store.duplicate_pairs(None)?;
    let pair = pairs
        .iter()
        .find(|p| {
            let ids = [p.a.id.clone(), p.b.id.clone()];
            ids.contains(&a.to_string()) && ids.contains(&b.to_string())
        })
        .expect("the pair is proposed");
    assert_eq!(
        pair.band,
        madadkar_client::reconcile::duplicates::PairBand::Likely
    );
    assert!(
        pair.reasons
            .iter()
            .any(|r| r.field == "national_id" && r.agreement == "exact"),
        "{:?}",
        pair.reasons
    );
    let side_by_side = c.store.compare_households(a, b)?;
    assert_eq!(side_by_side.a.household.created_by, x_id);
    assert_eq!(side_by_side.b.household.created_by, y_id);
    // A third registration of the family is caught at the door, locally and by the server.
    let again = madadkar_client::forms::HouseholdText {
        first_name: Some("علی".into()),
        last_name: Some("کریمی".into()),
        national_id: Some(NationalId::with_check_digit(11_000_001).to_string()),
        district: Some("منطقه ۳".into()),
        address: Some("جای دیگر".into()),
        ..Default::default()
    };
    let found = x.store.registration_matches(&again)?;
    assert_eq!(found.len(), 1, "{found:?}");
    assert_eq!(found[0].household.id, a.to_string());
    let groups = x
        .store
        .lookup_national_id(&NationalId::with_check_digit(11_000_001).to_string())?;
    let mut names: Vec<&str> = groups.iter().map(|g| g.group_id.as_str()).collect();
    names.sort();
    assert_eq!(names, vec!["gx", "gy"]);

    // A field worker may not merge; the coordinator may.
    let refused = x
        .store
        .merge_households(a, b)
        .expect_err("a field worker merges");
    assert!(
        matches!(refused, StoreError::NotPermitted { .. }),
        "{refused}"
    );
    c.store.merge_households(a, b)?;
    let merged = c.store.household(a)?;
    // Head and spouse once each (same national IDs), the child, both visits.
    assert_eq!(merged.household.members.len(), 3);
    assert_eq!(merged.household.visits.len(), 2);
    assert_eq!(merged.merged_from.len(), 1);
    assert_eq!(merged.merged_from[0].id, b);
    // Differing values are kept as conflicts: the spouse's birth date and the address.
    let fields: Vec<Option<Field>> = merged.conflicts.iter().map(|c| c.field).collect();
    assert!(fields.contains(&Some(Field::BirthDate)), "{fields:?}");
    assert!(fields.contains(&Some(Field::Address)), "{fields:?}");
    // The retired household's id leads to the survivor; lists and search show one household.
    let via_b = c.store.household(b)?;
    assert_eq!(via_b.household.id, a);
    assert_eq!(via_b.redirected_from, Some(b));
    let found = c.store.search("كريمي", 10)?;
    assert_eq!(found.len(), 1, "{found:?}");
    assert_eq!(found[0].id, a.to_string());
    assert_eq!(found[0].member_count, 3);

    // Worker Y, offline, has not heard of the merge and records another visit on B.
    y.store.add_visit(b, &visit("offline visit", 3))?;
    c.store.sync(None)?;
    y.store.sync(None)?;
    x.store.sync(None)?;
    c.store.sync(None)?;
    x.store.sync(None)?;

    // Every replica that holds the survivor shows the offline visit in it, exactly once.
    for (name, replica) in [("coordinator", &c), ("worker X", &x)] {
        assert_eq!(visits_with(replica, a, "offline visit")?, 1, "{name}");
        assert_eq!(replica.store.household(a)?.household.visits.len(), 3);
    }
    // Group Y sees that B was merged and which group handles it, without the survivor's data.
    let seen_by_y = y.store.household(b)?;
    let link = seen_by_y.household.merged.clone().expect("a redirect");
    assert_eq!(link.survivor, a);
    assert_eq!(link.survivor_group.as_deref(), Some("gx"));
    assert!(y.store.household(a).is_err(), "Y must not receive A");
    let listed = y.store.list(&Default::default())?;
    assert!(
        listed
            .items
            .iter()
            .any(|h| h.merged_into == Some(a.to_string()))
    );

    // The survivor's history holds the merged household's, the merge itself included.
    let history = c.store.history(a)?;
    assert!(
        history
            .iter()
            .any(|h| h.meta.action == madadkar_schema::Action::HouseholdMerge)
    );
    assert!(history.iter().any(|h| h.meta.worker_name == "worker Y"));

    // Resolving the merged conflict writes the chosen value to both households.
    let address = c
        .store
        .household(a)?
        .conflicts
        .into_iter()
        .find(|c| c.field == Some(Field::Address))
        .expect("address conflict");
    c.store
        .resolve_conflict(a, &address.path, "کوچه یاس، پلاک ۴")?;
    assert!(
        !c.store
            .household(a)?
            .conflicts
            .iter()
            .any(|c| c.field == Some(Field::Address))
    );

    // The coordinator undoes the merge: both come back with everything, the offline visit
    // with B, where it was written.
    c.store.unmerge_households(a, b)?;
    let a_alone = c.store.household(a)?;
    let b_alone = c.store.household(b)?;
    assert!(a_alone.merged_from.is_empty());
    assert_eq!(a_alone.household.visits.len(), 1);
    assert_eq!(b_alone.household.visits.len(), 2);
    assert_eq!(b_alone.household.members.len(), 3);
    assert!(b_alone.household.merged.is_none());
    assert_eq!(c.store.search("کریمی", 10)?.len(), 2);
    c.store.sync(None)?;
    y.store.sync(None)?;
    x.store.sync(None)?;
    assert!(y.store.household(b)?.household.merged.is_none());
    assert_eq!(x.store.household(a)?.household.visits.len(), 1);
    for replica in [&c, &x, &y] {
        assert!(replica.store.check()?.ok(), "{:?}", replica.store.check()?);
    }
    Ok(())
}

#[test]
fn story_6_a_returned_visit_reaches_the_worker_who_corrects_and_resubmits_it() -> Result<()> {
    let server = Server::start()?;
    server.add_group("g1")?;
    let w_id = server.add_worker("worker W", Some("g1"), "field")?;
    let s_id = server.add_worker("supervisor S", Some("g1"), "supervisor")?;
    let mut w = Replica::enrolled(&server, &w_id, "laptop W")?;
    let mut s = Replica::enrolled(&server, &s_id, "laptop S")?;
    let h = w.add_household("زهرا", 11_000_003)?;
    let other = w.add_household("حسن", 11_000_004)?;
    let v = w.store.add_visit(h, &visit("first", 1))?;
    w.store.sync(None)?;
    s.store.sync(None)?;

    let queue = s.store.review_queue(&ReviewQuery {
        limit: 50,
        ..Default::default()
    })?;
    assert_eq!(queue.total, 1);
    assert_eq!(queue.items[0].visit_id, v.to_string());
    assert!(
        w.store.approve_visit(v, "").is_err(),
        "a field worker approves"
    );
    s.store
        .return_visit(v, "امتیاز درآمد با مشاهدات نمی‌خواند", Some(Field::Need))?;
    s.store.sync(None)?;

    // The worker syncs once and goes offline: the return is on the laptop.
    w.store.sync(None)?;
    let tasks = w.store.returned_visits(false)?;
    assert_eq!(tasks.len(), 1);
    assert_eq!(tasks[0].comment, "امتیاز درآمد با مشاهدات نمی‌خواند");
    assert_eq!(tasks[0].field, Some(Field::Need));
    let caseload = w.store.list(&madadkar_client::ListQuery {
        limit: 10,
        ..Default::default()
    })?;
    assert_eq!(caseload.items[0].id, h.to_string(), "returned visits first");
    assert!(caseload.items.iter().any(|i| i.id == other.to_string()));
    assert_eq!(caseload.items[0].returned_visits, 1);

    w.store.edit_visit(
        v,
        &VisitEdit {
            needs: Some(BTreeMap::from([(NeedDomain::Income, 4)])),
            ..Default::default()
        },
    )?;
    w.store.resubmit_visit(v, "اصلاح شد")?;
    w.store.sync(None)?;
    s.store.sync(None)?;
    let queue = s.store.review_queue(&ReviewQuery {
        limit: 50,
        ..Default::default()
    })?;
    assert_eq!(queue.total, 1, "back in the queue");
    s.store.approve_visit(v, "")?;
    s.store.sync(None)?;
    w.store.sync(None)?;
    // An approved visit is locked against silent edits: an edit puts it back in review.
    w.store.edit_visit(
        v,
        &VisitEdit {
            observations: Some("پس از تأیید".into()),
            ..Default::default()
        },
    )?;
    let visit = w.store.household(h)?.household.visits[0].clone();
    assert_eq!(visit.review_state(), ReviewState::Awaiting);
    let steps: Vec<ReviewAction> = visit.review.iter().map(|e| e.action).collect();
    assert_eq!(
        steps,
        vec![
            ReviewAction::Returned,
            ReviewAction::Resubmitted,
            ReviewAction::Approved,
            ReviewAction::Reopened
        ]
    );
    let history = w.store.history(h)?;
    let reviews = history
        .iter()
        .filter(|c| c.meta.action == madadkar_schema::Action::VisitReview)
        .count();
    assert_eq!(reviews, 3, "every review step is in the history");
    Ok(())
}

#[test]
fn not_a_duplicate_survives_sync_and_the_inbox_and_caseloads_serve_the_supervisor() -> Result<()> {
    let server = Server::start()?;
    server.add_group("g1")?;
    let a_id = server.add_worker("worker A", Some("g1"), "field")?;
    let b_id = server.add_worker("worker B", Some("g1"), "field")?;
    let s_id = server.add_worker("supervisor S", Some("g1"), "supervisor")?;
    let t_id = server.add_worker("supervisor T", Some("g1"), "supervisor")?;
    let mut a = Replica::enrolled(&server, &a_id, "laptop A")?;
    let mut b = Replica::enrolled(&server, &b_id, "laptop B")?;
    let mut s = Replica::enrolled(&server, &s_id, "laptop S")?;
    let mut t = Replica::enrolled(&server, &t_id, "laptop T")?;

    let h1 = a.add_household("محمد", 11_000_005)?;
    // A namesake in the same district: two families, as the supervisor will decide.
    let h2 = a.add_household("محمد", 11_000_006)?;
    a.store.add_visit(h1, &visit("v", 1))?;
    a.store.sync(None)?;
    server.admin(&["household", "assign", &h1.to_string(), "--group", "g1"])?;
    b.store.sync(None)?;
    // Two workers set the phone concurrently.
    let phone = |p: &str| HouseholdEdit {
        phone: Some(p.into()),
        ..Default::default()
    };
    a.store.edit_household(h1, &phone("09121111111"))?;
    b.store.edit_household(h1, &phone("09122222222"))?;
    a.store.sync(None)?;
    b.store.sync(None)?;
    s.store.sync(None)?;

    // The inbox lists the field with both values and their authors; filters narrow it.
    let inbox = s.store.conflict_inbox(&ConflictFilter::default())?;
    assert_eq!(inbox.len(), 1);
    let entry = &inbox[0];
    assert_eq!(entry.household_id, h1);
    assert_eq!(entry.conflict.field, Some(Field::Phone));
    let mut authors: Vec<&str> = entry
        .conflict
        .values
        .iter()
        .map(|v| v.worker_name.as_str())
        .collect();
    authors.sort();
    assert_eq!(authors, vec!["worker A", "worker B"]);
    assert_eq!(s.store.conflict_count()?, 1);
    let by_field = |f| {
        s.store.conflict_inbox(&ConflictFilter {
            field: Some(f),
            ..Default::default()
        })
    };
    assert_eq!(by_field(Field::Phone)?.len(), 1);
    assert_eq!(by_field(Field::Address)?.len(), 0);
    let by_worker = s.store.conflict_inbox(&ConflictFilter {
        worker: Some(b_id.clone()),
        ..Default::default()
    })?;
    assert_eq!(by_worker.len(), 1);
    // A value is validated like any edit.
    assert!(
        s.store
            .resolve_conflict(h1, &FieldPath::Household(Field::Phone), "not a phone")
            .is_err()
    );
    s.store
        .resolve_conflict(h1, &FieldPath::Household(Field::Phone), "09123333333")?;
    assert_eq!(s.store.conflict_count()?, 0);

    // "Not a duplicate" is kept in both households and reaches another supervisor; the pair
    // (same name in the same district, same phone) is no longer proposed.
    s.store.edit_household(h2, &phone("09123333333"))?;
    let proposed = |r: &Replica| -> Result<bool> {
        Ok(r.store.duplicate_pairs(None)?.iter().any(|p| {
            let ids = [p.a.id.clone(), p.b.id.clone()];
            ids.contains(&h1.to_string()) && ids.contains(&h2.to_string())
        }))
    };
    assert!(proposed(&s)?, "{:?}", s.store.duplicate_pairs(None)?);
    assert!(
        a.store.duplicate_pairs(None).is_err(),
        "a field worker's inbox"
    );
    s.store
        .mark_not_duplicate(h1, h2, "دو خانوار جدا؛ برادرند")?;
    assert!(!proposed(&s)?);
    s.store.sync(None)?;
    t.store.sync(None)?;
    for h in [h1, h2] {
        let decisions = t.store.household(h)?.household.not_duplicates;
        assert_eq!(decisions.len(), 1);
        assert_eq!(decisions[0].reason, "دو خانوار جدا؛ برادرند");
    }
    assert!(!proposed(&t)?, "the decision reached the other supervisor");
    assert!(
        a.store.mark_not_duplicate(h1, h2, "x").is_err(),
        "a field worker decides"
    );

    // Caseloads: each worker's households, visits this month and what awaits review.
    let loads = t
        .store
        .caseloads(chrono::NaiveDate::from_ymd_opt(2025, 10, 20).expect("date"))?;
    let of = |w: &str| loads.iter().find(|l| l.worker_id.as_deref() == Some(w));
    let mine = of(&a_id).expect("worker A's caseload");
    assert_eq!(mine.households, 2, "{loads:?}");
    assert_eq!(mine.awaiting_review, 1);
    assert_eq!(mine.group_id.as_deref(), Some("g1"));
    let others = of(&b_id).expect("workers without households are listed");
    assert_eq!(others.households, 0);
    // 2025-10-01 is in Mehr 1404, which began on 2025-09-23.
    assert_eq!(mine.visits_this_month, 1);
    let worker_a = loads
        .iter()
        .filter(|l| l.worker_id.as_deref() == Some(a_id.as_str()))
        .count();
    assert_eq!(worker_a, 1);
    Ok(())
}

#[test]
fn story_4_a_coordinator_moves_households_between_groups_through_the_api() -> Result<()> {
    use madadkar_client::remote::Target;
    let server = Server::start()?;
    server.add_group("gx")?;
    server.add_group("gy")?;
    let x_id = server.add_worker("worker X", Some("gx"), "field")?;
    let y_id = server.add_worker("worker Y", Some("gy"), "field")?;
    let sy_id = server.add_worker("supervisor Y", Some("gy"), "supervisor")?;
    let c_id = server.add_worker("coordinator", None, "coordinator")?;
    let mut x = Replica::enrolled(&server, &x_id, "laptop X")?;
    let mut y = Replica::enrolled(&server, &y_id, "laptop Y")?;
    let mut sy = Replica::enrolled(&server, &sy_id, "laptop SY")?;
    let mut c = Replica::enrolled(&server, &c_id, "office")?;
    let moved: Vec<Uuid> = (0..3)
        .map(|i| x.add_household("کاوه", 11_000_100 + i))
        .collect::<Result<_>>()?;
    let stays = x.add_household("بهرام", 11_000_200)?;
    for h in &moved {
        x.store.add_visit(*h, &visit("history", 4))?;
    }
    x.store.sync(None)?;
    c.store.sync(None)?;
    sy.store.sync(None)?;
    assert!(sy.store.household(moved[0]).is_err(), "not yet group Y's");

    // A field worker may not reassign; the server says so.
    let to_y = Target {
        group: Some("gy".into()),
        worker: None,
    };
    let refused = x
        .store
        .reassign(&moved, &to_y, true)
        .expect_err("a field worker");
    assert!(
        matches!(&refused, StoreError::Server { code, .. } if code == "forbidden"),
        "{refused}"
    );
    // The coordinator previews, then moves all three at once.
    let preview = c.store.reassign(&moved, &to_y, true)?;
    assert!(!preview.applied);
    assert_eq!(preview.moved, 3);
    sy.store.sync(None)?;
    assert!(
        sy.store.household(moved[0]).is_err(),
        "a preview moves nothing"
    );
    let done = c.store.reassign(&moved, &to_y, false)?;
    assert!(done.applied);
    assert_eq!(done.moved, 3);
    c.store.sync(None)?;

    // Group Y receives them with their whole history; X's worker stops holding them.
    sy.store.sync(None)?;
    y.store.sync(None)?;
    for h in &moved {
        let got = sy.store.household(*h)?;
        assert_eq!(got.household.visits.len(), 1);
        assert_eq!(got.household.assigned_group.as_deref(), Some("gy"));
        assert_eq!(got.household.assigned_worker, None);
    }
    assert!(sy.store.household(stays).is_err());
    x.store.sync(None)?;
    for h in &moved {
        assert!(x.store.household(*h).is_err(), "X still holds {h}");
    }
    assert!(x.store.household(stays).is_ok());
    // The supervisor of Y hands one to worker Y (within the group), never to another group.
    let to_worker = Target {
        group: None,
        worker: Some(y_id.clone()),
    };
    sy.store.reassign(&moved[..1], &to_worker, false)?;
    let back = Target {
        group: Some("gx".into()),
        worker: None,
    };
    assert!(sy.store.reassign(&moved[1..2], &back, true).is_err());
    sy.store.sync(None)?;
    y.store.sync(None)?;
    let caseloads = sy
        .store
        .caseloads(chrono::NaiveDate::from_ymd_opt(2025, 10, 20).expect("date"))?;
    let of_y = caseloads
        .iter()
        .find(|l| l.worker_id.as_deref() == Some(y_id.as_str()))
        .expect("worker Y");
    assert_eq!(of_y.households, 1, "{caseloads:?}");
    Ok(())
}
