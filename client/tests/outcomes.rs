//! Case outcomes on a real store: plans and progress on visits, the referral ledger and its
//! aging, follow-ups, and every report on a small caseload whose right answers are worked out
//! by hand below.

mod common;

use std::collections::BTreeMap;

use chrono::NaiveDate;
use common::{Replica, day};
use madadkar_client::forms::ProgressText;
use madadkar_client::report::{Cell, ReportFilter, ReportFilterText, Table};
use madadkar_client::{FollowupKind, StoreError};
use madadkar_schema::{
    GoalDomain, HouseholdEdit, NeedDomain, NewGoal, NewReferral, NewStep, NewVisit, ReferralKind,
    ReferralStatus, ReferralUpdate, StepOwner, StepStatus,
};
use uuid::Uuid;

fn visit(date: NaiveDate, needs: &[(NeedDomain, u8)]) -> NewVisit {
    NewVisit {
        date,
        kind: madadkar_schema::VisitKind::Home,
        observations: String::new(),
        needs: needs.iter().copied().collect::<BTreeMap<_, _>>(),
        followup_date: None,
    }
}

fn refer(r: &mut Replica, h: Uuid, partner: &str, on: NaiveDate) -> Uuid {
    let new = NewReferral {
        kind: ReferralKind::BankLoan,
        partner: Some(partner.into()),
        target: String::new(),
        visit_id: None,
        date: on,
        note: String::new(),
    };
    r.store.add_referral(h, &new).expect("referral")
}

fn step(r: &mut Replica, h: Uuid, referral: Uuid, status: ReferralStatus, on: NaiveDate) {
    let update = ReferralUpdate {
        status,
        date: on,
        note: String::new(),
        amount: (status == ReferralStatus::Disbursed).then_some(200_000_000),
        reason: (status == ReferralStatus::Refused).then(|| "ضامن ندارد".into()),
    };
    r.store
        .update_referral(h, referral, &update)
        .expect("ledger step");
}

fn in_district(r: &mut Replica, h: Uuid, district: &str) {
    let edit = HouseholdEdit {
        district: Some(district.into()),
        ..Default::default()
    };
    r.store.edit_household(h, &edit).expect("district");
}

/// The caseload the reports are checked on:
/// - A (district «منطقه ۱»): income 4, housing 2 on 2025-01-05 (mean 3), then income 2,
///   housing 1 on 2025-03-02 (mean 1.5: improving). Dominant now: income. A plan: one goal,
///   two steps (one done on the second visit, one open with target 2025-02-01: overdue).
///   Referral to bank-melli-enghelab sent 01-05, received 01-15 (10 days), approved 02-14
///   (30 days), disbursed 03-01 (15 days) 200,000,000 rials.
/// - B (district «منطقه ۱»): health 3 on 2025-01-06, health 4 on 2025-02-20 (worsening);
///   dominant health, high need. Referral to bank-melli-enghelab sent 01-06, refused 01-26.
/// - C (district «منطقه ۲»): food 1 on 2025-02-01 only (one assessment). Referral to
///   bank-keshavarzi-azadi sent 2025-01-10, received 01-20, approved 01-25: on 2025-04-01
///   it has sat 66 days approved (limit 30): stalled since 02-24.
struct Caseload {
    r: Replica,
    a: Uuid,
    b: Uuid,
    c: Uuid,
    open_step: Uuid,
}

fn caseload() -> Caseload {
    let mut r = Replica::new("w1");
    let a = r.add_household("علی", "کریمی", 91_000_001);
    let b = r.add_household("زهرا", "احمدی", 91_000_002);
    let c = r.add_household("حسن", "رضایی", 91_000_003);
    in_district(&mut r, a, "منطقه ۱");
    in_district(&mut r, b, "منطقه ۱");
    in_district(&mut r, c, "منطقه ۲");

    r.store
        .add_visit(
            a,
            &visit(
                day(2025, 1, 5),
                &[(NeedDomain::Income, 4), (NeedDomain::Housing, 2)],
            ),
        )
        .expect("visit");
    let goal = r
        .store
        .add_goal(
            a,
            &NewGoal {
                domain: GoalDomain::Income,
                title: "درآمد پایدار".into(),
            },
        )
        .expect("goal");
    let loan_step = r
        .store
        .add_step(
            a,
            goal,
            &NewStep {
                what: "وام اشتغال".into(),
                owner: StepOwner::Partner,
                partner: Some("bank-melli-enghelab".into()),
                target_date: Some(day(2025, 3, 1)),
            },
        )
        .expect("step");
    let open_step = r
        .store
        .add_step(
            a,
            goal,
            &NewStep {
                what: "خرید ابزار".into(),
                owner: StepOwner::Household,
                partner: None,
                target_date: Some(day(2025, 2, 1)),
            },
        )
        .expect("step");
    // The second visit ticks the loan step done.
    let progress = [ProgressText {
        step: Some(loan_step.to_string()),
        status: Some("done".into()),
        comment: Some("وام گرفته شد".into()),
    }];
    let second = r
        .store
        .add_visit_with_progress(
            a,
            &visit(
                day(2025, 3, 2),
                &[(NeedDomain::Income, 2), (NeedDomain::Housing, 1)],
            ),
            &progress,
        )
        .expect("visit with progress");
    let ra = refer(&mut r, a, "bank-melli-enghelab", day(2025, 1, 5));
    step(&mut r, a, ra, ReferralStatus::Received, day(2025, 1, 15));
    step(&mut r, a, ra, ReferralStatus::Approved, day(2025, 2, 14));
    step(&mut r, a, ra, ReferralStatus::Disbursed, day(2025, 3, 1));

    r.store
        .add_visit(b, &visit(day(2025, 1, 6), &[(NeedDomain::Health, 3)]))
        .expect("visit");
    r.store
        .add_visit(b, &visit(day(2025, 2, 20), &[(NeedDomain::Health, 4)]))
        .expect("visit");
    let rb = refer(&mut r, b, "bank-melli-enghelab", day(2025, 1, 6));
    step(&mut r, b, rb, ReferralStatus::Refused, day(2025, 1, 26));

    r.store
        .add_visit(c, &visit(day(2025, 2, 1), &[(NeedDomain::Food, 1)]))
        .expect("visit");
    let rc = refer(&mut r, c, "bank-keshavarzi-azadi", day(2025, 1, 10));
    step(&mut r, c, rc, ReferralStatus::Received, day(2025, 1, 20));
    step(&mut r, c, rc, ReferralStatus::Approved, day(2025, 1, 25));

    let plan = r.store.plan(a).expect("plan");
    let done = &plan.goals[0].steps[0];
    assert_eq!(done.status(), StepStatus::Done);
    assert_eq!(
        done.progress[0].visit_id,
        Some(second),
        "ticked on the visit"
    );
    Caseload {
        r,
        a,
        b,
        c,
        open_step,
    }
}

fn on() -> NaiveDate {
    day(2025, 4, 1)
}

fn run(cl: &Caseload, code: &str, filter: ReportFilter) -> Table {
    cl.r.store.report(code, &filter, on()).expect(code)
}

/// The row whose first cell is `label`.
fn row<'a>(t: &'a Table, label: &str) -> &'a [Cell] {
    t.rows
        .iter()
        .find(|r| r.first() == Some(&Cell::Text(label.into())))
        .unwrap_or_else(|| panic!("no row {label} in {}: {:?}", t.report, t.rows))
}

fn col(t: &Table, key: &str) -> usize {
    t.columns
        .iter()
        .position(|c| c.key == key)
        .unwrap_or_else(|| panic!("no column {key} in {}", t.report))
}

fn int(t: &Table, label: &str, key: &str) -> i64 {
    match row(t, label)[col(t, key)] {
        Cell::Int(n) | Cell::Money(n) => n,
        ref other => panic!("{key} of {label}: {other:?}"),
    }
}

#[test]
fn households_by_district_counts_dominant_and_high_need() {
    let cl = caseload();
    let t = run(&cl, "households-by-district", ReportFilter::default());
    assert_eq!(t.rows.len(), 2);
    assert_eq!(int(&t, "منطقه ۱", "households"), 2);
    assert_eq!(
        int(&t, "منطقه ۱", "income"),
        1,
        "A: income 2 beats housing 1"
    );
    assert_eq!(int(&t, "منطقه ۱", "health"), 1);
    assert_eq!(int(&t, "منطقه ۱", "high_need"), 1, "B's health 4");
    assert_eq!(int(&t, "منطقه ۲", "food"), 1);
    assert_eq!(int(&t, "منطقه ۲", "high_need"), 0);
    let only = ReportFilter {
        district: Some("منطقه ۲".into()),
        ..Default::default()
    };
    assert_eq!(run(&cl, "households-by-district", only).rows.len(), 1);
}

#[test]
fn the_referral_funnel_counts_stages_amounts_medians_and_stalls_per_partner() {
    let cl = caseload();
    let t = run(&cl, "referral-funnel", ReportFilter::default());
    let melli = "بانک ملی — شعبهٔ میدان انقلاب";
    assert_eq!(int(&t, melli, "sent"), 2);
    assert_eq!(int(&t, melli, "received"), 1);
    assert_eq!(int(&t, melli, "approved"), 1);
    assert_eq!(int(&t, melli, "disbursed"), 1);
    assert_eq!(int(&t, melli, "refused"), 1);
    assert_eq!(int(&t, melli, "amount"), 200_000_000);
    assert_eq!(int(&t, melli, "stalled"), 0);
    // Days in «sent»: A 10, B 20 (until refused) → median 15; «received»: A 30; «approved»: A 15.
    let m = |key| row(&t, melli)[col(&t, key)].clone();
    assert_eq!(m("median_days_sent"), Cell::Decimal(15.0));
    assert_eq!(m("median_days_received"), Cell::Decimal(30.0));
    assert_eq!(m("median_days_approved"), Cell::Decimal(15.0));
    assert_eq!(m("disbursed_share"), Cell::Percent(1.0));
    let keshavarzi = "بانک کشاورزی — شعبهٔ آزادی";
    assert_eq!(int(&t, keshavarzi, "approved"), 1);
    assert_eq!(int(&t, keshavarzi, "disbursed"), 0);
    assert_eq!(
        int(&t, keshavarzi, "stalled"),
        1,
        "approved 66 days ago, unpaid"
    );
    assert_eq!(
        row(&t, keshavarzi)[col(&t, "disbursed_share")],
        Cell::Percent(0.0)
    );
    // Referrals sent in a range: only C's (sent 2025-01-10).
    let range = ReportFilterText {
        from: Some("1403/10/20".into()), // 2025-01-09
        to: Some("1403/10/21".into()),   // 2025-01-10
        ..Default::default()
    }
    .to_filter()
    .expect("filter");
    let t = run(&cl, "referral-funnel", range);
    assert_eq!(t.rows.len(), 1);
    assert_eq!(int(&t, keshavarzi, "sent"), 1);
    assert_eq!(t.filters.len(), 2, "the applied filters are named");
}

#[test]
fn stalled_referrals_and_overdue_steps_are_follow_ups() {
    let cl = caseload();
    let stalled = cl.r.store.stalled_referrals(on()).expect("stalled");
    assert_eq!(stalled.len(), 1);
    assert_eq!(stalled[0].household_id, cl.c.to_string());
    assert_eq!(
        (stalled[0].status, stalled[0].days),
        (ReferralStatus::Approved, 66)
    );
    assert_eq!(stalled[0].stalled_on, day(2025, 2, 24));
    let due = cl.r.store.followups(on(), 0).expect("followups");
    let kinds: Vec<(FollowupKind, String)> = due
        .iter()
        .map(|f| (f.kind, f.household_id.clone()))
        .collect();
    assert!(
        kinds.contains(&(FollowupKind::PlanStep, cl.a.to_string())),
        "{kinds:?}"
    );
    assert!(
        kinds.contains(&(FollowupKind::Referral, cl.c.to_string())),
        "{kinds:?}"
    );
    assert_eq!(
        due.iter()
            .find(|f| f.kind == FollowupKind::PlanStep)
            .and_then(|f| f.item_id.clone()),
        Some(cl.open_step.to_string())
    );
    let t = run(&cl, "overdue-followups", ReportFilter::default());
    // The open step (due 2025-02-01: 59 days) and the stalled referral (due 02-24: 36 days).
    assert_eq!(t.rows.len(), 2, "{:?}", t.rows);
    assert_eq!(t.rows[0][col(&t, "days_overdue")], Cell::Int(59));
    assert_eq!(t.rows[1][col(&t, "days_overdue")], Cell::Int(36));
    // The ledger shows what may follow and how long it sat.
    let ledger = cl.r.store.referral_ledger(cl.c, on()).expect("ledger");
    assert!(ledger[0].stalled);
    assert_eq!(ledger[0].limit_days, Some(30));
    assert_eq!(
        ledger[0].next,
        vec![
            ReferralStatus::Disbursed,
            ReferralStatus::Refused,
            ReferralStatus::Withdrawn
        ]
    );
}

#[test]
fn need_trend_dominant_need_and_cohort_follow_the_assessments() {
    let cl = caseload();
    let range = ReportFilter {
        from: Some(day(2025, 1, 1)),
        to: Some(day(2025, 3, 31)),
        ..Default::default()
    };
    let t = run(&cl, "need-trend", range.clone());
    assert_eq!(t.rows.len(), 1, "one group (none): no province row");
    let label = match &t.rows[0][0] {
        Cell::Text(s) => s.clone(),
        other => panic!("{other:?}"),
    };
    assert_eq!(int(&t, &label, "assessed"), 2, "C was assessed once");
    assert_eq!(int(&t, &label, "improving"), 1);
    assert_eq!(int(&t, &label, "worsening"), 1);
    assert_eq!(int(&t, &label, "assessed_once"), 1);
    assert_eq!(
        row(&t, &label)[col(&t, "improving_share")],
        Cell::Percent(0.5)
    );

    let t = run(&cl, "dominant-need", ReportFilter::default());
    assert_eq!(int(&t, &label, "households"), 3);
    assert_eq!(int(&t, &label, "income"), 1);
    assert_eq!(int(&t, &label, "health"), 1);
    assert_eq!(int(&t, &label, "food"), 1);

    let cohort = ReportFilterText {
        cohort: Some(format!("{}, {}", &cl.a.to_string()[..13], cl.b)),
        ..Default::default()
    }
    .to_filter()
    .expect("filter");
    let t = run(&cl, "cohort", cohort);
    assert_eq!(t.rows.len(), 2);
    let a = row(&t, &cl.a.to_string()).to_vec();
    let a = |key: &str| a[col(&t, key)].clone();
    assert_eq!(a("start"), Cell::Date(day(2025, 1, 5)));
    assert_eq!(a("start_mean"), Cell::Decimal(3.0));
    assert_eq!(a("latest_mean"), Cell::Decimal(1.5));
    assert_eq!(a("trend"), Cell::Text("رو به بهبود".into()));
    assert_eq!(a("start_dominant"), Cell::Text("درآمد".into()));
    assert_eq!(a("goals"), Cell::Int(1));
    let bad = ReportFilterText {
        cohort: Some("zz".into()),
        ..Default::default()
    };
    let err =
        cl.r.store
            .report("cohort", &bad.to_filter().expect("parsed"), on());
    assert!(matches!(err, Err(StoreError::Invalid(_))), "{err:?}");
}

#[test]
fn visits_per_worker_week_and_plan_progress() {
    let cl = caseload();
    let range = ReportFilter {
        from: Some(day(2025, 1, 4)), // a Saturday
        to: Some(day(2025, 1, 17)),
        ..Default::default()
    };
    let t = run(&cl, "visits-per-worker-week", range);
    // Weeks from Saturday 01-04 and 01-11; visits on 01-05 (A) and 01-06 (B), by w1.
    assert_eq!(t.rows.len(), 2);
    assert_eq!(t.rows[0][0], Cell::Date(day(2025, 1, 4)));
    assert_eq!(t.rows[0][col(&t, "total")], Cell::Int(2));
    assert_eq!(
        t.rows[1][col(&t, "total")],
        Cell::Int(0),
        "an empty week is a row"
    );

    let t = run(&cl, "plan-progress", ReportFilter::default());
    assert_eq!(t.rows.len(), 1);
    let r = &t.rows[0];
    assert_eq!(r[col(&t, "households")], Cell::Int(1));
    assert_eq!(r[col(&t, "steps")], Cell::Int(2));
    assert_eq!(r[col(&t, "steps_done")], Cell::Int(1));
    assert_eq!(r[col(&t, "steps_overdue")], Cell::Int(1));
    assert_eq!(r[col(&t, "goals_met")], Cell::Int(0));
}

#[test]
fn bad_report_input_is_refused_with_a_clear_error() {
    let cl = caseload();
    let err =
        cl.r.store
            .report("no-such-report", &ReportFilter::default(), on())
            .expect_err("unknown");
    assert!(err.to_string().contains("referral-funnel"), "{err}");
    let backwards = ReportFilterText {
        from: Some("1404/01/10".into()),
        to: Some("1404/01/01".into()),
        ..Default::default()
    };
    assert!(backwards.to_filter().is_err());
    let nonsense = ReportFilterText {
        from: Some("دیروز".into()),
        ..Default::default()
    };
    assert!(nonsense.to_filter().is_err());
    // A referral to a partner not in the directory, or of the wrong kind, is refused.
    let mut r = Replica::new("w2");
    let h = r.add_household("مینا", "نوری", 91_000_009);
    let wrong = NewReferral {
        kind: ReferralKind::BankLoan,
        partner: Some("clinic-imam-reza".into()),
        target: String::new(),
        visit_id: None,
        date: day(2025, 1, 1),
        note: String::new(),
    };
    let err = r
        .store
        .add_referral(h, &wrong)
        .expect_err("a clinic is not a bank");
    assert!(err.to_string().contains("not a bank"), "{err}");
    let unknown = NewReferral {
        partner: Some("bank-nowhere".into()),
        ..wrong
    };
    assert!(r.store.add_referral(h, &unknown).is_err());
    // A field worker cannot confirm a graduation.
    let err = r.store.graduate(h, "").expect_err("field worker");
    assert!(matches!(err, StoreError::NotPermitted { .. }), "{err}");
    assert!(r.store.check().expect("check").ok());
}

#[test]
fn the_plan_of_a_household_merged_into_another_goes_on_in_the_survivor() {
    let mut r = Replica::new("s1");
    // A coordinator's replica (the server says so at enrolment; set directly here).
    r.store
        .connection()
        .expect("connection")
        .execute(
            "INSERT OR REPLACE INTO meta (key, value) VALUES ('role', 'coordinator')",
            [],
        )
        .expect("role");
    let survivor = r.add_household("علی", "کریمی", 92_000_001);
    let retired = r.add_household("علي", "كريمي", 92_000_002);
    let goal = r
        .store
        .add_goal(
            retired,
            &NewGoal {
                domain: GoalDomain::Skills,
                title: "خیاطی".into(),
            },
        )
        .expect("goal");
    let step = r
        .store
        .add_step(
            retired,
            goal,
            &NewStep {
                what: "دوره".into(),
                owner: StepOwner::Partner,
                partner: Some("tvto-beheshti".into()),
                target_date: None,
            },
        )
        .expect("step");
    let late = r
        .store
        .add_step(
            retired,
            goal,
            &NewStep {
                what: "ثبت‌نام".into(),
                owner: StepOwner::Household,
                partner: None,
                target_date: Some(day(2025, 1, 1)),
            },
        )
        .expect("a step past its target date");
    r.store.merge_households(survivor, retired).expect("merge");
    // The retired household's overdue step is the family's: due at the survivor.
    let due = r.store.followups(on(), 0).expect("followups");
    let step_due: Vec<(String, Option<String>)> = due
        .iter()
        .filter(|f| f.kind == FollowupKind::PlanStep)
        .map(|f| (f.household_id.clone(), f.item_id.clone()))
        .collect();
    assert_eq!(
        step_due,
        vec![(survivor.to_string(), Some(late.to_string()))]
    );
    let t = run_on(&r, "plan-progress");
    assert_eq!(t.rows.len(), 1, "{:?}", t.rows);
    assert_eq!(
        t.rows[0][col(&t, "steps")],
        Cell::Int(2),
        "both steps, under the survivor"
    );
    assert_eq!(t.rows[0][col(&t, "households")], Cell::Int(1), "one family");
    // The survivor's page shows the retired household's plan; a visit to the survivor ticks
    // its step, and a new step is added to its goal, both through the survivor.
    let plan = r.store.plan(survivor).expect("plan");
    assert_eq!(plan.goals.len(), 1);
    let progress = [ProgressText {
        step: Some(step.to_string()),
        status: Some("done".into()),
        comment: None,
    }];
    r.store
        .add_visit_with_progress(
            survivor,
            &visit(day(2025, 5, 1), &[(NeedDomain::Income, 1)]),
            &progress,
        )
        .expect("visit ticking a step of the retired household");
    r.store
        .add_step(
            survivor,
            goal,
            &NewStep {
                what: "گواهی مهارت".into(),
                owner: StepOwner::Household,
                partner: None,
                target_date: None,
            },
        )
        .expect("a step on the retired household's goal");
    let plan = r.store.plan(survivor).expect("plan");
    let steps = &plan.goals[0].steps;
    assert_eq!(steps.len(), 3);
    assert_eq!(steps[0].status(), StepStatus::Done);
    // Undone, the plan is the retired household's again, with everything written to it.
    r.store
        .unmerge_households(survivor, retired)
        .expect("unmerge");
    assert_eq!(r.store.plan(retired).expect("plan").goals[0].steps.len(), 3);
    assert!(r.store.plan(survivor).expect("plan").goals.is_empty());
    assert!(r.store.check().expect("check").ok());
}

#[test]
fn a_graduated_household_leaves_the_caseload_but_is_still_found() {
    let mut r = Replica::new("s2");
    r.store
        .connection()
        .expect("connection")
        .execute(
            "INSERT OR REPLACE INTO meta (key, value) VALUES ('role', 'supervisor')",
            [],
        )
        .expect("role");
    let h = r.add_household("مینا", "صادقی", 93_000_001);
    r.add_household("رضا", "نوری", 93_000_002);
    let goal = r
        .store
        .add_goal(
            h,
            &NewGoal {
                domain: GoalDomain::Income,
                title: "درآمد".into(),
            },
        )
        .expect("goal");
    let step = r
        .store
        .add_step(
            h,
            goal,
            &NewStep {
                what: "کارگاه".into(),
                owner: StepOwner::Household,
                partner: None,
                target_date: None,
            },
        )
        .expect("step");
    let done = [ProgressText {
        step: Some(step.to_string()),
        status: Some("done".into()),
        comment: None,
    }];
    r.store
        .add_visit_with_progress(
            h,
            &visit(day(2025, 4, 1), &[(NeedDomain::Income, 1)]),
            &done,
        )
        .expect("visit");
    assert!(
        !r.store.plan(h).expect("plan").proposed,
        "one low assessment is not two"
    );
    r.store
        .add_visit(h, &visit(day(2025, 5, 1), &[(NeedDomain::Income, 0)]))
        .expect("visit");
    let plan = r.store.plan(h).expect("plan");
    assert!(plan.proposed, "{:?}", plan.unmet_en);
    let t = run_on(&r, "plan-progress");
    assert_eq!(t.rows[0][col(&t, "proposed")], Cell::Int(1));

    r.store.graduate(h, "درآمد پایدار").expect("graduated");
    let listed = r
        .store
        .list(&madadkar_client::ListQuery {
            limit: 50,
            ..Default::default()
        })
        .expect("list");
    assert_eq!(listed.total, 1, "the graduated household left the caseload");
    let graduated = madadkar_client::ListQuery {
        status: Some("graduated".into()),
        limit: 50,
        ..Default::default()
    };
    assert_eq!(
        r.store.list(&graduated).expect("list").items[0].id,
        h.to_string()
    );
    assert_eq!(
        r.store.search("صادقی", 5).expect("search").len(),
        1,
        "still found"
    );
    let loads = r.store.caseloads(day(2025, 6, 1)).expect("caseloads");
    assert_eq!(loads.iter().map(|c| c.households).sum::<i64>(), 1);
    let t = run_on(&r, "plan-progress");
    assert_eq!(t.rows[0][col(&t, "graduated")], Cell::Int(1));
    assert_eq!(t.rows[0][col(&t, "proposed")], Cell::Int(0));
    // Back into support: in the caseload again, with its plan.
    r.store.reenter(h, "بیماری سرپرست").expect("re-entered");
    let listed = r
        .store
        .list(&madadkar_client::ListQuery {
            limit: 50,
            ..Default::default()
        })
        .expect("list");
    assert_eq!(listed.total, 2);
    assert!(r.store.check().expect("check").ok());
}

fn run_on(r: &Replica, code: &str) -> Table {
    r.store
        .report(code, &ReportFilter::default(), on())
        .expect(code)
}
