//! Tests of the schema version 3 actions: plans and their progress, graduation and re-entry,
//! and the referral ledger, each also across two replicas that wrote concurrently.

use std::collections::BTreeMap;

use automerge::ReadDoc;
use automerge::transaction::Transactable;
use chrono::{NaiveDate, Utc};
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
    let head = NewMember::named("علی", "کریمی", Relation::Head);
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

fn replica(doc: &mut HouseholdDoc) -> HouseholdDoc {
    let mut other = HouseholdDoc::load(&doc.save()).expect("load");
    other.set_actor(device_actor(Uuid::now_v7()));
    other
}

fn date(m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(2025, m, d).expect("date")
}

fn visit(doc: &mut HouseholdDoc, on: NaiveDate, income: u8) -> Uuid {
    let visit = NewVisit {
        date: on,
        kind: VisitKind::Home,
        observations: String::new(),
        needs: BTreeMap::from([(NeedDomain::Income, income), (NeedDomain::Food, 0)]),
        followup_date: None,
    };
    doc.add_visit(&visit, &meta("a"), Utc::now())
        .expect("visit")
}

fn goal(doc: &mut HouseholdDoc, title: &str) -> Uuid {
    let goal = NewGoal {
        domain: GoalDomain::Income,
        title: title.into(),
    };
    doc.add_goal(&goal, &meta("a"), Utc::now()).expect("goal")
}

fn step(doc: &mut HouseholdDoc, goal: Uuid, what: &str) -> Uuid {
    let step = NewStep {
        what: what.into(),
        owner: StepOwner::Partner,
        partner: Some("bank-melli-12".into()),
        target_date: Some(date(6, 1)),
    };
    doc.add_step(goal, &step, &meta("a"), Utc::now())
        .expect("step")
}

fn tick(doc: &mut HouseholdDoc, step: Uuid, status: StepStatus, visit: Option<Uuid>) {
    let update = StepUpdate {
        status,
        comment: "ثبت‌نام انجام شد".into(),
        visit_id: visit,
    };
    doc.update_step(step, &update, &meta("a"), Utc::now())
        .expect("progress");
}

#[test]
fn a_plan_holds_goals_steps_and_progress_recorded_on_visits() {
    let mut doc = new_doc();
    let v = visit(&mut doc, date(5, 1), 3);
    let g = goal(&mut doc, "درآمد پایدار");
    let s = step(&mut doc, g, "وام اشتغال از بانک");
    tick(&mut doc, s, StepStatus::InProgress, Some(v));
    let h = doc.read().expect("read");
    let step = &h.goals[0].steps[0];
    assert_eq!(step.owner, StepOwner::Partner);
    assert_eq!(step.partner.as_deref(), Some("bank-melli-12"));
    assert_eq!(step.status(), StepStatus::InProgress);
    assert_eq!(step.progress[0].visit_id, Some(v));
    assert!(step.is_overdue(date(6, 2)) && !step.is_overdue(date(6, 1)));
    assert!(!h.goals[0].is_met());
    // Progress names one of this household's visits, and a partner step names its partner.
    let update = StepUpdate {
        status: StepStatus::Done,
        comment: String::new(),
        visit_id: Some(Uuid::now_v7()),
    };
    assert!(doc.update_step(s, &update, &meta("a"), Utc::now()).is_err());
    let bad = NewStep {
        what: "x".into(),
        owner: StepOwner::Partner,
        partner: None,
        target_date: None,
    };
    let err = doc
        .add_step(g, &bad, &meta("a"), Utc::now())
        .expect_err("no partner");
    assert!(err.to_string().contains("partner"), "{err}");
    assert!(
        doc.add_step(Uuid::now_v7(), &bad, &meta("a"), Utc::now())
            .is_err()
    );
    assert_eq!(
        doc.read().expect("read").goals[0].steps.len(),
        1,
        "nothing half-written"
    );
}

#[test]
fn goals_and_progress_written_on_two_replicas_offline_are_both_kept() {
    let mut a = new_doc();
    let g = goal(&mut a, "اشتغال");
    let s = step(&mut a, g, "دورهٔ خیاطی");
    let mut b = replica(&mut a);
    // Neither replica had a goals map before this one was made, both add a goal and both
    // record progress on the same step.
    goal(&mut a, "مسکن");
    goal(&mut b, "سلامت");
    tick(&mut a, s, StepStatus::InProgress, None);
    tick(&mut b, s, StepStatus::Done, None);
    a.merge(&mut b).expect("merge");
    let h = a.read().expect("read");
    assert_eq!(h.goals.len(), 3);
    let kept = h.goals.iter().find(|x| x.id == g).expect("goal").steps[0].clone();
    assert_eq!(kept.progress.len(), 2, "both progress entries kept");

    // Two replicas that each start the plan (the first goal creates the map) keep both goals.
    let mut c = new_doc();
    let mut d = replica(&mut c);
    goal(&mut c, "یک");
    let second = goal(&mut d, "دو");
    c.merge(&mut d).expect("merge");
    let titles: Vec<String> = c
        .read()
        .expect("read")
        .goals
        .iter()
        .map(|g| g.title.clone())
        .collect();
    assert_eq!(titles.len(), 2, "{titles:?}");
    // A step can be added to the goal in the copy of the map Automerge does not show.
    step(&mut c, second, "گام");
    assert_eq!(
        c.read()
            .expect("read")
            .goals
            .iter()
            .map(|g| g.steps.len())
            .sum::<usize>(),
        1
    );
    let id = c.id().expect("id");
    c.check_for_storage(id).expect("a valid document");
}

#[test]
fn graduation_is_refused_until_the_criteria_hold_then_confirmed_and_undone() {
    let mut doc = new_doc();
    let refused = doc
        .graduate("", &meta("s"), Utc::now())
        .expect_err("no plan");
    let text = refused.to_string();
    assert!(
        text.contains("no plan goals") && text.contains("0 assessed visits"),
        "{text}"
    );

    let g = goal(&mut doc, "درآمد");
    let s = step(&mut doc, g, "وام");
    visit(&mut doc, date(3, 1), 1);
    visit(&mut doc, date(4, 1), 3);
    let check = outcome::plan::graduation(&doc.read().expect("read"));
    assert_eq!(check.recent_highest, vec![3, 1]);
    assert!(!check.holds());
    assert_eq!(check.unmet.len(), 2, "{:?}", check.unmet_en());

    tick(&mut doc, s, StepStatus::Done, None);
    visit(&mut doc, date(5, 1), 1);
    // The last two assessments: 1 then 3 → still above the threshold.
    assert!(!outcome::plan::graduation(&doc.read().expect("read")).holds());
    visit(&mut doc, date(6, 1), 0);
    let check = outcome::plan::graduation(&doc.read().expect("read"));
    assert!(check.holds(), "{:?}", check.unmet_en());

    // A status edit cannot stand in for the confirmation.
    let edit = HouseholdEdit {
        status: Some(HouseholdStatus::Graduated),
        ..Default::default()
    };
    assert!(matches!(
        doc.edit_household(&edit, &meta("a"), Utc::now()),
        Err(DocumentError::NotAllowed(_))
    ));
    doc.graduate("درآمد پایدار از کارگاه", &meta("s"), Utc::now())
        .expect("graduated");
    let h = doc.read().expect("read");
    assert_eq!(h.status, HouseholdStatus::Graduated);
    assert_eq!(h.status_events.len(), 1);
    assert!(
        doc.add_goal(
            &NewGoal {
                domain: GoalDomain::Food,
                title: "x".into()
            },
            &meta("a"),
            Utc::now()
        )
        .is_err()
    );
    assert!(
        doc.reenter("", &meta("s"), Utc::now()).is_err(),
        "a reason is required"
    );
    doc.reenter("کارگاه تعطیل شد", &meta("s"), Utc::now())
        .expect("re-entered");
    let h = doc.read().expect("read");
    assert_eq!(h.status, HouseholdStatus::Active);
    assert_eq!(
        h.status_events.iter().map(|e| e.status).collect::<Vec<_>>(),
        vec![HouseholdStatus::Graduated, HouseholdStatus::Active]
    );
    assert_eq!(h.goals.len(), 1, "the plan and its history stay");
    // Criteria can be made stricter; three visits are then needed.
    let strict = GraduationCriteria {
        threshold: 0,
        visits: 3,
    };
    doc.set_criteria(strict, &meta("s"), Utc::now())
        .expect("criteria");
    let check = outcome::plan::graduation(&doc.read().expect("read"));
    assert_eq!(check.criteria, strict);
    assert!(!check.holds());
    let wrong = GraduationCriteria {
        threshold: 5,
        visits: 2,
    };
    assert!(doc.set_criteria(wrong, &meta("s"), Utc::now()).is_err());
}

fn referral(doc: &mut HouseholdDoc) -> Uuid {
    let new = NewReferral {
        kind: ReferralKind::BankLoan,
        partner: Some("bank-melli-12".into()),
        target: String::new(),
        visit_id: None,
        date: date(1, 5),
        note: String::new(),
    };
    doc.add_referral(
        &new.validated(date(12, 1)).expect("valid"),
        &meta("a"),
        Utc::now(),
    )
    .expect("referral")
}

fn step_to(status: ReferralStatus, on: NaiveDate) -> ReferralUpdate {
    ReferralUpdate {
        status,
        date: on,
        note: String::new(),
        amount: (status == ReferralStatus::Disbursed).then_some(150_000_000),
        reason: (status == ReferralStatus::Refused).then(|| "ضامن ندارد".to_string()),
    }
}

#[test]
fn the_referral_ledger_refuses_illegal_steps_with_a_clear_message() {
    let mut doc = new_doc();
    let r = referral(&mut doc);
    for (status, day) in [
        (ReferralStatus::Received, 10),
        (ReferralStatus::Approved, 20),
    ] {
        doc.update_referral(r, &step_to(status, date(1, day)), &meta("a"), Utc::now())
            .expect("forward");
    }
    let back = doc
        .update_referral(
            r,
            &step_to(ReferralStatus::Received, date(1, 25)),
            &meta("a"),
            Utc::now(),
        )
        .expect_err("back");
    assert!(
        back.to_string().contains("cannot go back from approved"),
        "{back}"
    );
    doc.update_referral(
        r,
        &step_to(ReferralStatus::Disbursed, date(2, 25)),
        &meta("a"),
        Utc::now(),
    )
    .expect("paid");
    let after = doc
        .update_referral(
            r,
            &step_to(ReferralStatus::Refused, date(3, 1)),
            &meta("a"),
            Utc::now(),
        )
        .expect_err("finished");
    assert!(after.to_string().contains("is finished"), "{after}");
    let h = doc.read().expect("read");
    let last = h.referrals[0].status().expect("a status");
    assert_eq!(
        (last.status, last.amount),
        (ReferralStatus::Disbursed, Some(150_000_000))
    );
    assert_eq!(h.referrals[0].history.len(), 4);

    // What a step needs on its own: an amount to disburse, a reason to refuse.
    let mut no_amount = step_to(ReferralStatus::Disbursed, date(1, 1));
    no_amount.amount = None;
    assert!(no_amount.validated(date(12, 1)).is_err());
    let mut no_reason = step_to(ReferralStatus::Refused, date(1, 1));
    no_reason.reason = None;
    assert!(no_reason.validated(date(12, 1)).is_err());
    let mut stray = step_to(ReferralStatus::Approved, date(1, 1));
    stray.amount = Some(5);
    assert!(stray.validated(date(12, 1)).is_err());
    // Only an `other` referral may go without a partner from the directory.
    let free = NewReferral {
        kind: ReferralKind::BankLoan,
        partner: None,
        target: "بانک سر کوچه".into(),
        visit_id: None,
        date: date(1, 5),
        note: String::new(),
    };
    assert!(free.validated(date(12, 1)).is_err());
    let other = NewReferral {
        kind: ReferralKind::Other,
        ..free
    };
    assert!(other.validated(date(12, 1)).is_ok());
}

#[test]
fn referral_states_written_by_version_2_read_as_the_ledger_states() {
    let mut doc = new_doc();
    let r = referral(&mut doc);
    // What a version 2 app wrote: the old codes.
    let raw = doc.automerge();
    let referrals = match raw.get(automerge::ROOT, "referrals").expect("get") {
        Some((_, obj)) => obj,
        None => panic!("no referrals"),
    };
    let (_, rmap) = raw
        .get(&referrals, r.to_string())
        .expect("get")
        .expect("the referral");
    let (_, events) = raw.get(&rmap, "events").expect("get").expect("events");
    for (code, day) in [("accepted", 9), ("completed", 12)] {
        let e = raw
            .put_object(&events, Uuid::now_v7().to_string(), automerge::ObjType::Map)
            .expect("put");
        raw.put(&e, "status", code).expect("put");
        raw.put(&e, "date", format!("2025-01-{day:02}"))
            .expect("put");
        raw.put(&e, "worker_id", "old").expect("put");
    }
    raw.commit();
    let h = doc.read().expect("read");
    let states: Vec<ReferralStatus> = h.referrals[0].history.iter().map(|e| e.status).collect();
    assert_eq!(
        states,
        vec![
            ReferralStatus::Sent,
            ReferralStatus::Approved,
            ReferralStatus::Disbursed
        ]
    );
}
