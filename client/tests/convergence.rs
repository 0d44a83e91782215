//! Property: three replicas doing random work and swapping bundles in random orders end with
//! identical documents and projections, and no value any worker wrote is lost: each is either
//! current, one side of a conflict, or readable in the document's history.

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::str::FromStr;

use automerge::{ChangeHash, ReadDoc};
use common::{Replica, day};
use madadkar_schema::{HouseholdEdit, MemberEdit, NewMember, NewVisit, Relation, VisitKind};
use proptest::prelude::*;
use uuid::Uuid;

#[derive(Debug, Clone)]
enum Op {
    AddHousehold {
        replica: usize,
    },
    SetPhone {
        replica: usize,
        household: usize,
        number: u16,
    },
    SetDistrict {
        replica: usize,
        household: usize,
        district: u8,
    },
    AddVisit {
        replica: usize,
        household: usize,
        day: u8,
    },
    AddMember {
        replica: usize,
        household: usize,
    },
    RenameHead {
        replica: usize,
        household: usize,
        name: u8,
    },
    Exchange {
        from: usize,
        to: usize,
    },
}

fn op() -> impl Strategy<Value = Op> {
    let r = 0..3usize;
    let h = 0..4usize;
    prop_oneof![
        1 => r.clone().prop_map(|replica| Op::AddHousehold { replica }),
        3 => (r.clone(), h.clone(), any::<u16>()).prop_map(|(replica, household, number)| Op::SetPhone { replica, household, number }),
        2 => (r.clone(), h.clone(), 0..4u8).prop_map(|(replica, household, district)| Op::SetDistrict { replica, household, district }),
        3 => (r.clone(), h.clone(), 1..28u8).prop_map(|(replica, household, day)| Op::AddVisit { replica, household, day }),
        2 => (r.clone(), h.clone()).prop_map(|(replica, household)| Op::AddMember { replica, household }),
        2 => (r.clone(), h.clone(), 0..5u8).prop_map(|(replica, household, name)| Op::RenameHead { replica, household, name }),
        3 => (r.clone(), r).prop_filter("distinct", |(a, b)| a != b).prop_map(|(from, to)| Op::Exchange { from, to }),
    ]
}

const DISTRICTS: [&str; 4] = ["منطقه ۱", "منطقه ۳", "اسلام‌آباد", "نعمت‌آباد"];
const NAMES: [&str; 5] = ["علی", "علي", "محمد\u{200C}رضا", "کاظم", "زهرا"];

/// Every value written to `household.phone`, by household.
type Written = BTreeMap<Uuid, BTreeSet<String>>;

/// The households a replica knows, in the order it learned of them.
fn known(replica: &Replica) -> Vec<Uuid> {
    replica.store.household_ids().expect("ids")
}

fn pick(replica: &Replica, index: usize) -> Option<Uuid> {
    let ids = known(replica);
    (!ids.is_empty()).then(|| ids[index % ids.len()])
}

// One arm per generated operation; long because the property covers every action a replica
// can take, and keeping them in one match keeps the generator and its effects side by side.
fn apply(replicas: &mut [Replica], op: &Op, written: &mut Written, nid: &mut u32) {
    match *op {
        Op::AddHousehold { replica } => {
            *nid += 1;
            let id = replicas[replica].add_household("علی", "کریمی", 100_000_000 + *nid);
            written.entry(id).or_default().insert("09120000000".into());
        }
        Op::SetPhone {
            replica,
            household,
            number,
        } => {
            if let Some(h) = pick(&replicas[replica], household) {
                let value = format!("0912{number:07}");
                let edit = HouseholdEdit {
                    phone: Some(value.clone()),
                    ..Default::default()
                };
                replicas[replica]
                    .store
                    .edit_household(h, &edit)
                    .expect("phone");
                written.entry(h).or_default().insert(value);
            }
        }
        Op::SetDistrict {
            replica,
            household,
            district,
        } => {
            if let Some(h) = pick(&replicas[replica], household) {
                let edit = HouseholdEdit {
                    district: Some(DISTRICTS[district as usize].into()),
                    ..Default::default()
                };
                replicas[replica]
                    .store
                    .edit_household(h, &edit)
                    .expect("district");
            }
        }
        Op::AddVisit {
            replica,
            household,
            day: d,
        } => {
            if let Some(h) = pick(&replicas[replica], household) {
                let visit = NewVisit {
                    date: day(2025, 2, u32::from(d)),
                    kind: VisitKind::Home,
                    observations: format!("replica {replica}"),
                    needs: BTreeMap::new(),
                    followup_date: Some(day(2025, 3, u32::from(d))),
                };
                replicas[replica].store.add_visit(h, &visit).expect("visit");
            }
        }
        Op::AddMember { replica, household } => {
            if let Some(h) = pick(&replicas[replica], household) {
                let m = NewMember::named("مریم", "کریمی", Relation::Child);
                replicas[replica].store.add_member(h, &m).expect("member");
            }
        }
        Op::RenameHead {
            replica,
            household,
            name,
        } => {
            if let Some(h) = pick(&replicas[replica], household) {
                let head = replicas[replica]
                    .store
                    .household(h)
                    .expect("h")
                    .household
                    .head_member_id
                    .expect("head");
                let edit = MemberEdit {
                    first_name: Some(NAMES[name as usize].into()),
                    ..Default::default()
                };
                replicas[replica]
                    .store
                    .edit_member(h, head, &edit)
                    .expect("rename");
            }
        }
        Op::Exchange { from, to } => {
            let (a, b) = if from < to {
                let (left, right) = replicas.split_at_mut(to);
                (&left[from], &mut right[0])
            } else {
                let (left, right) = replicas.split_at_mut(from);
                (&right[0], &mut left[to])
            };
            a.send_to(b);
        }
    }
}

/// Every phone value visible at some point of the document's history.
fn phones_in_history(replica: &Replica, id: Uuid) -> BTreeSet<String> {
    let mut doc = replica.store.document(id).expect("doc");
    let hashes: Vec<ChangeHash> = doc
        .history()
        .iter()
        .map(|c| ChangeHash::from_str(&c.hash).expect("hash"))
        .collect();
    let am = doc.automerge();
    let Some((_, household)) = am.get(automerge::ROOT, "household").expect("get") else {
        return BTreeSet::new();
    };
    let mut seen = BTreeSet::new();
    for hash in hashes {
        for (value, _) in am
            .get_all_at(&household, "phone", &[hash])
            .expect("get_all_at")
        {
            if let Some(s) = value.as_str() {
                seen.insert(s.to_string());
            }
        }
    }
    seen
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, max_shrink_iters: 64, ..ProptestConfig::default() })]

    #[test]
    fn replicas_converge_and_lose_no_write(ops in proptest::collection::vec(op(), 1..60)) {
        let mut replicas = vec![Replica::new("A"), Replica::new("B"), Replica::new("C")];
        let mut written = Written::new();
        let mut nid = 0;
        for op in &ops {
            apply(&mut replicas, op, &mut written, &mut nid);
        }
        // Gossip until everyone has everything: a ring twice is enough for three replicas.
        for _ in 0..2 {
            for (from, to) in [(0, 1), (1, 2), (2, 0)] {
                apply(&mut replicas, &Op::Exchange { from, to }, &mut written, &mut nid);
            }
        }

        let ids = known(&replicas[0]);
        prop_assert_eq!(ids.len(), written.len());
        for r in &replicas[1..] {
            prop_assert_eq!(&known(r), &ids);
        }
        for id in &ids {
            let mut reference = replicas[0].store.document(*id).expect("doc");
            let reference_view = replicas[0].store.household(*id).expect("household");
            let reference_rows = replicas[0].store.projection_rows(*id).expect("rows");
            for r in &replicas[1..] {
                let mut doc = r.store.document(*id).expect("doc");
                prop_assert_eq!(doc.heads(), reference.heads());
                let view = r.store.household(*id).expect("household");
                prop_assert_eq!(&view.household, &reference_view.household);
                // The same conflicts, values and authors; only whether an author's name is
                // verified depends on the replica (its own device's always is).
                let unverified = |conflicts: &[madadkar_schema::Conflict]| {
                    let mut c = conflicts.to_vec();
                    c.iter_mut()
                        .flat_map(|c| c.values.iter_mut())
                        .for_each(|v| v.verified = false);
                    c
                };
                prop_assert_eq!(
                    unverified(&view.conflicts),
                    unverified(&reference_view.conflicts)
                );
                prop_assert_eq!(&r.store.projection_rows(*id).expect("rows"), &reference_rows);
            }
            let current = reference_view.household.phone.clone().unwrap_or_default();
            let in_conflict: BTreeSet<String> = reference_view
                .conflicts
                .iter()
                .filter(|c| c.path.to_string() == "household.phone")
                .flat_map(|c| c.values.iter().map(|v| v.value.clone()))
                .collect();
            let history = phones_in_history(&replicas[0], *id);
            for value in &written[id] {
                prop_assert!(
                    *value == current || in_conflict.contains(value) || history.contains(value),
                    "phone {} written to {} is lost", value, id
                );
            }
        }
        for r in &replicas {
            let report = r.store.check().expect("check");
            prop_assert!(report.ok(), "{:?}", report.problems);
        }
    }
}
