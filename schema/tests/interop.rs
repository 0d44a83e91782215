//! Household documents exchanged with other Automerge clients, both ways: a document written by
//! the JavaScript Automerge package (`tests/interop/`) reads here, and the document Madadkar
//! writes here is the fixture the JavaScript test reads. See `docs/document-format.md`.

use std::path::PathBuf;

use chrono::{TimeZone, Utc};
use madadkar_schema::document::device_actor;
use madadkar_schema::*;
use uuid::Uuid;

fn fixture(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name)
}

/// A household with a visit and a referral, as the JavaScript test expects to find it.
fn madadkar_household() -> Vec<u8> {
    let now = Utc
        .with_ymd_and_hms(2026, 11, 20, 8, 0, 0)
        .single()
        .expect("time");
    let meta = ChangeMeta::new("worker-1", "زهرا رضایی", "device-1");
    let id = Uuid::parse_str("019ab000-0000-7000-8000-000000000001").expect("uuid");
    let household = NewHousehold {
        district: "منطقه ۳".into(),
        address: "کوچه یاس، پلاک ۴".into(),
        phone: Some("09121234567".into()),
        ..Default::default()
    };
    let head = NewMember::named("علی", "کریمی", Relation::Head);
    let (mut doc, _) =
        HouseholdDoc::create(device_actor(id), id, &household, &head, &meta, now).expect("create");
    let visit = NewVisit {
        date: now.date_naive(),
        kind: VisitKind::Home,
        observations: "اجاره سه ماه عقب افتاده".into(),
        needs: [(NeedDomain::Income, 4), (NeedDomain::Housing, 3)]
            .into_iter()
            .collect(),
        followup_date: None,
    };
    doc.add_visit(&visit, &meta, now).expect("visit");
    doc.save()
}

#[test]
fn the_fixture_for_other_clients_is_madadkar_s_current_layout() {
    let path = fixture("madadkar-household.automerge");
    if std::env::var_os("MADADKAR_WRITE_FIXTURES").is_some() {
        std::fs::write(&path, madadkar_household()).expect("write fixture");
    }
    let bytes = std::fs::read(&path).expect("fixture (MADADKAR_WRITE_FIXTURES=1 writes it)");
    let mut doc = HouseholdDoc::load(&bytes).expect("loads");
    let household = doc.read().expect("reads");
    assert_eq!(household.visits.len(), 1);
    let times: Vec<_> = doc.history().iter().filter_map(|c| c.time).collect();
    assert!(
        times.iter().all(|t| t.timestamp() == 1_795_161_600),
        "{times:?}"
    );
}

#[test]
fn a_household_written_by_javascript_automerge_reads() {
    let bytes = std::fs::read(fixture("js-household.automerge"))
        .expect("fixture written by tests/interop (WRITE_FIXTURE=1 npm test in tests/interop)");
    let mut doc = HouseholdDoc::load(&bytes).expect("a household");
    let household = doc.read().expect("reads");
    assert_eq!(household.district, "منطقه ۵");
    assert_eq!(household.phone.as_deref(), Some("09351234567"));
    assert_eq!(
        household.head().map(Member::full_name),
        Some("رضا احمدی".into())
    );
    assert_eq!(household.visits.len(), 1);
    assert_eq!(household.visits[0].needs[&NeedDomain::Food], 3);
    let history = doc.history();
    let time = history[0].time.expect("JavaScript stamps changes");
    assert_eq!(
        time.timestamp(),
        1_795_248_000,
        "seconds, as Automerge defines"
    );
}
