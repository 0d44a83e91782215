//! The local store on real SQLite files: actions, conflicts, history, bundles, projections.

mod common;

use std::collections::BTreeMap;

use common::{Replica, day};
use madadkar_client::{ListQuery, SortBy, StoreError};
use madadkar_schema::{
    HouseholdEdit, MemberEdit, NationalId, NeedDomain, NewMember, NewReferral, NewVisit,
    ReferralKind, ReferralStatus, ReferralUpdate, Relation, VisitKind,
};

fn visit(date: chrono::NaiveDate, observations: &str) -> NewVisit {
    NewVisit {
        date,
        kind: VisitKind::Home,
        observations: observations.into(),
        needs: BTreeMap::from([(NeedDomain::Income, 3), (NeedDomain::Food, 2)]),
        followup_date: Some(date + chrono::Days::new(14)),
    }
}

fn phone(value: &str) -> HouseholdEdit {
    HouseholdEdit {
        phone: Some(value.into()),
        ..Default::default()
    }
}

#[test]
fn everything_recorded_is_there_after_reopening() {
    let mut a = Replica::new("زهرا");
    let h = a.add_household("علی", "کریمی", 11_111_112);
    for (i, first) in ["مریم", "حسین", "فاطمه"].iter().enumerate() {
        let member = NewMember {
            national_id: Some(NationalId::with_check_digit(22_000_000 + i as u32)),
            birth_date: Some(day(2010 + i as i32, 3, 1)),
            ..NewMember::named(first, "کریمی", Relation::Child)
        };
        a.store.add_member(h, &member).expect("member");
    }
    let v = a
        .store
        .add_visit(h, &visit(day(2025, 10, 1), "اجاره عقب افتاده"))
        .expect("visit");
    let referral = NewReferral {
        kind: ReferralKind::BankLoan,
        partner: Some("bank-melli-enghelab".into()),
        target: String::new(),
        visit_id: Some(v),
        date: day(2025, 10, 1),
        note: String::new(),
    };
    a.store.add_referral(h, &referral).expect("referral");
    let dir = a.dir;
    drop(a.store);

    let store = madadkar_client::Store::open(dir.path(), &common::passphrase()).expect("reopen");
    let details = store.household(h).expect("household");
    assert_eq!(details.household.members.len(), 4);
    assert_eq!(details.household.visits.len(), 1);
    assert_eq!(details.household.visits[0].needs[&NeedDomain::Income], 3);
    assert_eq!(
        details.household.referrals[0].status().map(|e| e.status),
        Some(ReferralStatus::Sent)
    );
    assert!(store.check().expect("check").ok());
}

#[test]
fn concurrent_phone_edits_surface_as_conflict_and_resolve_everywhere() {
    let mut a = Replica::new("worker A");
    let mut b = Replica::new("worker B");
    let h = a.add_household("علی", "کریمی", 33_333_334);
    a.send_to(&mut b);

    // Offline: A changes the phone and records a visit; B sets another phone and adds a member.
    a.store
        .edit_household(h, &phone("09121111111"))
        .expect("A phone");
    a.store
        .add_visit(h, &visit(day(2025, 11, 1), "A's visit"))
        .expect("A visit");
    b.store
        .edit_household(h, &phone("09122222222"))
        .expect("B phone");
    b.store
        .add_member(h, &NewMember::named("زینب", "کریمی", Relation::Spouse))
        .expect("B member");

    a.send_to(&mut b);
    b.send_to(&mut a);

    for replica in [&a, &b] {
        let d = replica.store.household(h).expect("household");
        assert_eq!(d.household.visits.len(), 1, "A's visit survives");
        assert_eq!(d.household.members.len(), 2, "B's member survives");
        assert_eq!(d.conflicts.len(), 1, "{:?}", d.conflicts);
        let c = &d.conflicts[0];
        assert_eq!(c.path.to_string(), "household.phone");
        let mut values: Vec<(&str, &str)> = c
            .values
            .iter()
            .map(|v| (v.value.as_str(), v.worker_name.as_str()))
            .collect();
        values.sort();
        assert_eq!(
            values,
            vec![("09121111111", "worker A"), ("09122222222", "worker B")]
        );
        let summary = replica.store.list(&ListQuery {
            conflicted: true,
            limit: 10,
            ..Default::default()
        });
        assert_eq!(summary.expect("list").total, 1);
    }

    // The supervisor (here on A) picks B's number; after exchanging, both agree and no conflict remains.
    a.store
        .resolve_conflict(h, &"household.phone".parse().expect("path"), "09122222222")
        .expect("resolve");
    a.send_to(&mut b);
    for replica in [&a, &b] {
        let d = replica.store.household(h).expect("household");
        assert!(d.conflicts.is_empty());
        assert_eq!(d.household.phone.as_deref(), Some("09122222222"));
    }
    let mut da = a.store.document(h).expect("doc");
    let mut db = b.store.document(h).expect("doc");
    assert_eq!(da.heads(), db.heads());
    assert_eq!(
        a.store.projection_rows(h).expect("rows"),
        b.store.projection_rows(h).expect("rows")
    );
    let history = a.store.history(h).expect("history");
    let actions: Vec<&str> = history.iter().map(|c| c.meta.action.code()).collect();
    assert!(actions.contains(&"conflict.resolve"));
    assert_eq!(
        actions.iter().filter(|a| **a == "household.edit").count(),
        2
    );
}

#[test]
fn conflict_resolution_validates_the_value() {
    let mut a = Replica::new("A");
    let h = a.add_household("علی", "کریمی", 44_444_445);
    let err = a
        .store
        .resolve_conflict(h, &"household.phone".parse().expect("path"), "not a phone")
        .unwrap_err();
    assert!(err.to_string().contains("phone"), "{err}");
    // An unknown field cannot even be named: the typed path refuses it before the store.
    let err = "household.nonsense"
        .parse::<madadkar_schema::FieldPath>()
        .unwrap_err();
    assert!(err.to_string().contains("unknown field"), "{err}");
    assert_eq!(
        a.store.history(h).expect("history").len(),
        1,
        "nothing was written"
    );
}

#[test]
fn importing_a_bundle_twice_changes_nothing() {
    let mut a = Replica::new("A");
    let mut b = Replica::new("B");
    for i in 0..5 {
        let h = a.add_household("رضا", "احمدی", 50_000_000 + i);
        a.store
            .add_visit(h, &visit(day(2025, 1, 1), ""))
            .expect("visit");
    }
    let first = a.send_file_to(&mut b);
    assert_eq!(first.households_new, 5);
    assert_eq!(first.changes_new, 10);
    let again = a.send_to(&mut b);
    assert_eq!(
        again.households_new + again.households_updated + again.changes_new,
        0
    );
    assert_eq!(again.households_unchanged, 5);
    assert!(b.store.check().expect("check").ok());
}

#[test]
fn malformed_bundles_are_refused_and_nothing_is_written() {
    let mut a = Replica::new("A");
    let mut b = Replica::new("B");
    a.add_household("رضا", "احمدی", 60_000_000);
    a.add_household("حسن", "موسوی", 60_000_001);
    let good = a.store.bundle_bytes().expect("export");

    // Damage the second document's bytes (past the first one), keeping the framing intact.
    let decoded = madadkar_client::bundle::decode(&good).expect("decode");
    let second = decoded.households[1].document;
    let at = second.as_ptr() as usize - good.as_ptr() as usize + second.len() - 40;
    let mut damaged = good.clone();
    for byte in &mut damaged[at..at + 8] {
        *byte ^= 0xA5;
    }
    let err = b.store.import_bundle_bytes(&damaged).unwrap_err();
    assert!(matches!(err, StoreError::Bundle(_)), "{err}");
    assert!(
        b.store.household_ids().expect("ids").is_empty(),
        "first document must not be kept"
    );
    assert!(
        b.store
            .import_bundle_bytes(&good[..good.len() - 3])
            .unwrap_err()
            .to_string()
            .contains("truncated")
    );

    // The same damage to an encrypted file is caught by its authentication.
    let path = a.bundle_path();
    let passphrase = madadkar_client::Passphrase::new(common::BUNDLE_PASSPHRASE);
    a.store.export_bundle(&path, &passphrase).expect("export");
    let sealed = std::fs::read(&path).expect("read");
    let bad_path = b.dir.path().join("damaged.bundle");
    let mut damaged = sealed.clone();
    let at = damaged.len() - 40;
    damaged[at] ^= 0xA5;
    std::fs::write(&bad_path, &damaged).expect("write");
    let err = b.store.import_bundle(&bad_path, &passphrase).unwrap_err();
    assert!(matches!(err, StoreError::Bundle(_)), "{err}");
    std::fs::write(&bad_path, &sealed[..sealed.len() - 3]).expect("write");
    let err = b.store.import_bundle(&bad_path, &passphrase).unwrap_err();
    assert!(matches!(err, StoreError::Bundle(_)), "{err}");
    std::fs::write(&bad_path, b"just some text").expect("write");
    let err = b.store.import_bundle(&bad_path, &passphrase).unwrap_err();
    assert!(err.to_string().contains("not a Madadkar bundle"), "{err}");
    assert!(b.store.household_ids().expect("ids").is_empty());
}

#[test]
fn persian_search_ignores_arabic_letters_zwnj_and_finds_parts_of_names() {
    let mut a = Replica::new("A");
    let ali = a.add_household("علی", "کریمی", 70_000_000);
    let mr = a.add_household("محمد\u{200C}رضا", "یزدانی", 70_000_001);
    let kazem = a.add_household("کاظم", "نیکوکار", 70_000_002);
    let ids = |q: &str| -> Vec<String> {
        a.store
            .search(q, 10)
            .expect("search")
            .into_iter()
            .map(|h| h.id)
            .collect()
    };
    assert_eq!(ids("علي كريمي"), vec![ali.to_string()]);
    assert_eq!(ids("ريم"), vec![ali.to_string()], "a part of a name");
    assert_eq!(ids("محمدرضا"), vec![mr.to_string()], "ZWNJ ignored");
    assert_eq!(ids("كاظم"), vec![kazem.to_string()]);
    assert_eq!(ids("یز"), vec![mr.to_string()], "two letters");
    let nid = NationalId::with_check_digit(70_000_002).to_string();
    let persian_nid: String = madadkar_schema::text::persian_digits(&nid);
    assert_eq!(
        ids(&persian_nid),
        vec![kazem.to_string()],
        "national ID in Persian digits"
    );
    assert!(ids("ناشناس").is_empty());
    assert!(ids("%").is_empty(), "LIKE wildcards are literal");
}

#[test]
fn list_filters_sorts_and_pages_from_the_projections() {
    let mut a = Replica::new("A");
    let mut ids = Vec::new();
    for i in 0..12u32 {
        let h = a.add_household(
            ["علی", "بهرام", "پروین"][i as usize % 3],
            "احمدی",
            80_000_000 + i,
        );
        let mut v = visit(day(2025, 1, 1 + i), "");
        v.needs = BTreeMap::from([(NeedDomain::Housing, (i % 5) as u8)]);
        a.store.add_visit(h, &v).expect("visit");
        ids.push(h);
    }
    a.store
        .edit_household(
            ids[0],
            &HouseholdEdit {
                district: Some("نعمت‌آباد".into()),
                ..Default::default()
            },
        )
        .expect("edit");
    let q = |q: ListQuery| a.store.list(&ListQuery { limit: 5, ..q }).expect("list");
    let all = q(ListQuery::default());
    assert_eq!(all.total, 12);
    assert_eq!(all.items.len(), 5);
    let names: Vec<&str> = all.items.iter().map(|h| h.head_name.as_str()).collect();
    let mut sorted = names.clone();
    sorted.sort();
    assert_eq!(names, sorted);
    let page3 = q(ListQuery {
        offset: 10,
        ..Default::default()
    });
    assert_eq!(page3.items.len(), 2);
    assert_eq!(
        q(ListQuery {
            district: Some("نعمت‌آباد".into()),
            ..Default::default()
        })
        .total,
        1
    );
    let needy = q(ListQuery {
        min_need: Some(4),
        sort: SortBy::Need,
        ..Default::default()
    });
    assert_eq!(needy.total, 2);
    let overdue = q(ListQuery {
        overdue_on: Some(day(2025, 1, 20)),
        ..Default::default()
    });
    assert_eq!(
        overdue.total, 5,
        "follow-ups due Jan 15..19 are overdue on Jan 20"
    );
    let due = a.store.followups(day(2025, 1, 20), 3).expect("followups");
    assert_eq!(due.len(), 9, "due Jan 15..23");
    assert!(due[0].overdue && due[0].days_left == -5);
}

#[test]
fn later_visit_closes_the_previous_follow_up() {
    let mut a = Replica::new("A");
    let h = a.add_household("علی", "کریمی", 90_000_000);
    a.store
        .add_visit(h, &visit(day(2025, 1, 1), ""))
        .expect("visit");
    assert_eq!(a.store.followups(day(2025, 3, 1), 0).expect("f").len(), 1);
    let mut closing = visit(day(2025, 1, 20), "");
    closing.followup_date = None;
    a.store.add_visit(h, &closing).expect("visit");
    assert!(a.store.followups(day(2025, 3, 1), 0).expect("f").is_empty());
}

#[test]
fn invalid_input_writes_nothing() {
    let mut a = Replica::new("A");
    let h = a.add_household("علی", "کریمی", 91_000_000);
    let before = a.store.history(h).expect("history").len();
    let future = visit(chrono::Local::now().date_naive() + chrono::Days::new(5), "");
    assert!(a.store.add_visit(h, &future).is_err());
    let mut bad_need = visit(day(2025, 1, 1), "");
    bad_need.needs.insert(NeedDomain::Health, 9);
    assert!(a.store.add_visit(h, &bad_need).is_err());
    let dup = NewMember {
        national_id: Some(NationalId::with_check_digit(91_000_000)),
        ..NewMember::named("x", "y", Relation::Child)
    };
    let err = a.store.add_member(h, &dup).unwrap_err();
    assert!(err.to_string().contains("head of this household"), "{err}");
    assert!(
        a.store
            .edit_member(
                h,
                uuid::Uuid::now_v7(),
                &MemberEdit {
                    first_name: Some("x".into()),
                    ..Default::default()
                }
            )
            .is_err()
    );
    assert!(
        a.store
            .add_visit(uuid::Uuid::now_v7(), &visit(day(2025, 1, 1), ""))
            .is_err()
    );
    let update = ReferralUpdate {
        status: ReferralStatus::Approved,
        date: day(2025, 1, 2),
        note: String::new(),
        amount: None,
        reason: None,
    };
    assert!(
        a.store
            .update_referral(h, uuid::Uuid::now_v7(), &update)
            .is_err()
    );
    assert_eq!(a.store.history(h).expect("history").len(), before);
    assert!(a.store.check().expect("check").ok());
}

#[test]
fn compaction_keeps_the_whole_history() {
    let mut a = Replica::new("A");
    let h = a.add_household("علی", "کریمی", 92_000_000);
    for i in 0..150 {
        a.store
            .add_visit(h, &visit(day(2024, 1, 1) + chrono::Days::new(i), ""))
            .expect("visit");
    }
    let conn = a.store.connection().expect("open raw");
    let rows: i64 = conn
        .query_row("SELECT count(*) FROM changes", [], |r| r.get(0))
        .expect("count");
    assert!(
        rows < 32,
        "changes were folded into the snapshot ({rows} left)"
    );
    assert_eq!(a.store.history(h).expect("history").len(), 151);
    a.store.compact().expect("compact");
    assert_eq!(a.store.household(h).expect("h").household.visits.len(), 150);
    assert_eq!(a.store.history(h).expect("history").len(), 151);
    assert_eq!(
        a.store.pending_changes().expect("pending"),
        151,
        "compaction keeps the sync queue"
    );
}

#[test]
fn check_finds_damaged_projections_and_rebuild_index_repairs_them() {
    let mut a = Replica::new("A");
    let h = a.add_household("علی", "کریمی", 93_000_000);
    assert!(a.store.check().expect("check").ok());
    let conn = a.store.connection().expect("open raw");
    conn.execute("UPDATE p_households SET head_name = 'someone else'", [])
        .expect("damage");
    conn.execute("DELETE FROM p_search", []).expect("damage");
    let report = a.store.check().expect("check");
    assert!(!report.ok());
    assert!(
        report.problems.iter().any(|p| p.contains(&h.to_string())),
        "{:?}",
        report.problems
    );
    assert_eq!(a.store.rebuild_index().expect("rebuild"), 1);
    assert!(a.store.check().expect("check").ok());
    assert_eq!(a.store.search("کریمی", 5).expect("search").len(), 1);
}

#[test]
fn referral_status_history_is_kept_in_order() {
    let mut a = Replica::new("A");
    let h = a.add_household("علی", "کریمی", 94_000_000);
    let r = a
        .store
        .add_referral(
            h,
            &NewReferral {
                kind: ReferralKind::BankLoan,
                partner: Some("bank-keshavarzi-azadi".into()),
                target: String::new(),
                visit_id: None,
                date: day(2025, 2, 1),
                note: "".into(),
            },
        )
        .expect("referral");
    for (status, d) in [
        (ReferralStatus::Approved, 10),
        (ReferralStatus::Disbursed, 20),
    ] {
        let u = ReferralUpdate {
            status,
            date: day(2025, 2, d),
            note: "".into(),
            amount: (status == ReferralStatus::Disbursed).then_some(90_000_000),
            reason: None,
        };
        a.store.update_referral(h, r, &u).expect("update");
    }
    let referral = &a.store.household(h).expect("h").household.referrals[0];
    let statuses: Vec<_> = referral.history.iter().map(|e| e.status).collect();
    assert_eq!(
        statuses,
        vec![
            ReferralStatus::Sent,
            ReferralStatus::Approved,
            ReferralStatus::Disbursed
        ]
    );
}

#[test]
fn projections_an_older_version_derived_are_rebuilt_once_on_open() {
    let mut a = Replica::new("A");
    a.add_household("علی", "کریمی", 55_555_556);
    {
        // What an older version left: search text derived by other rules, an older version mark.
        let conn = a.store.connection().expect("open");
        conn.execute("UPDATE p_search SET body = 'stale'", [])
            .expect("spoil");
        conn.execute(
            "UPDATE meta SET value = '1' WHERE key = 'projection_version'",
            [],
        )
        .expect("mark");
    }
    let reopened =
        madadkar_client::Store::open(a.dir.path(), &common::passphrase()).expect("reopen");
    assert!(reopened.check().expect("check").ok(), "rebuilt on open");
    assert_eq!(reopened.search("کریمی", 10).expect("search").len(), 1);
}
