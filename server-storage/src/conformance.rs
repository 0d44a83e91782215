//! One conformance suite for every storage backend (feature `conformance`): each case takes a
//! fresh, empty storage and checks one part of the [`Storage`] contract the way the server
//! relies on it. A backend runs them all with [`conformance_tests!`](crate::conformance_tests):
//! the SQLite backend in `server-sqlite/tests/conformance.rs`, PostgreSQL in
//! `server-postgres/tests/conformance.rs`.

#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use automerge::{ActorId, AutoCommit, transaction::Transactable};
use chrono::{Duration, Utc};
use madadkar_schema::{AuditAction, Partner, PartnerKind, Role};
use uuid::Uuid;

use crate::audit::{self, AuditEvent, AuditQuery};
use crate::*;

/// Generates one `#[test]` per conformance case for a backend; `$make` is an expression that
/// gives a fresh, empty storage (and may hold what keeps it alive, e.g. a temporary
/// directory, as `(guard, storage)` — see `$storage`).
#[macro_export]
macro_rules! conformance_tests {
    ($make:expr) => {
        $crate::conformance_tests!(@cases $make;
            groups_and_workers,
            enrolment_redeems_a_code_once,
            devices_revoke_and_retire,
            changes_are_stored_once_and_numbered_in_order,
            a_reused_actor_sequence_is_refused,
            the_log_is_read_per_scope,
            reassignment_brings_history_and_refuses_stale_moves,
            facts_index_ids_and_merge_links,
            push_quota_counts_and_refunds,
            lookups_are_limited_per_hour,
            partners_are_added_whole_and_retired,
            the_audit_chain_links_and_verifies,
            a_group_of_pushes_stores_each_on_its_own,
            enrolment_limits_are_shared_windows,
            households_are_paged_per_scope_with_their_snapshots,
        );
    };
    (@cases $make:expr; $($case:ident),* $(,)?) => {
        $(
            #[test]
            fn $case() {
                let (_guard, storage) = $make;
                $crate::conformance::$case(&storage);
            }
        )*
    };
}

fn field_worker(s: &impl Storage, group: &str) -> WorkerRecord {
    s.create_worker("کارگر", Some(group), Role::Field).unwrap()
}

/// Enrols a device for `worker` with a token hash derived from `n`; its id.
pub fn enrol(s: &impl Storage, worker: &WorkerRecord, n: u8) -> Uuid {
    let code = [n; 32];
    s.create_enroll_code(&worker.id, code, Utc::now() + Duration::hours(1))
        .unwrap();
    let id = Uuid::now_v7();
    s.enroll(
        code,
        NewDevice {
            id,
            name: format!("laptop {n}"),
            token_hash: [n.wrapping_add(100); 32],
            local_worker_id: None,
            signing_key: None,
        },
        Utc::now(),
    )
    .unwrap();
    id
}

/// A real Automerge change by `actor` (its `n`th), setting `key`.
pub fn change(household: Uuid, device: Uuid, doc: &mut AutoCommit, key: &str) -> IncomingChange {
    doc.put(automerge::ROOT, key, key.len() as i64).unwrap();
    doc.commit();
    let c = doc.get_last_local_change().unwrap().clone();
    IncomingChange {
        household,
        hash: c.hash().0,
        bytes: c.raw_bytes().to_vec(),
        device_id: device,
    }
}

fn doc(actor: u8) -> AutoCommit {
    AutoCommit::new().with_actor(ActorId::from(vec![actor; 16]))
}

fn assigned(group: &str, worker: Option<&str>) -> Assignment {
    Assignment {
        group_id: Some(group.into()),
        worker_id: worker.map(Into::into),
    }
}

fn everything(s: &impl Storage, scope: &Scope, device: Uuid) -> LogPage {
    s.log_after(scope, device, 0, 1000).unwrap()
}

pub fn groups_and_workers(s: &impl Storage) {
    s.create_group("g1", "یک").unwrap();
    assert!(matches!(
        s.create_group("g1", "again"),
        Err(StorageError::Conflict(_))
    ));
    assert!(matches!(
        s.create_worker("w", Some("nope"), Role::Field),
        Err(StorageError::NotFound { kind: "group", .. })
    ));
    let w = s
        .create_worker("سارا", Some("g1"), Role::Supervisor)
        .unwrap();
    let c = s
        .create_worker("coordinator", None, Role::Coordinator)
        .unwrap();
    assert_eq!(s.groups().unwrap().len(), 1);
    let workers = s.workers().unwrap();
    assert_eq!(workers.len(), 2);
    assert!(workers.contains(&w) && workers.contains(&c));
}

pub fn enrolment_redeems_a_code_once(s: &impl Storage) {
    s.create_group("g1", "one").unwrap();
    let w = field_worker(s, "g1");
    let other = field_worker(s, "g1");
    assert!(matches!(
        s.create_enroll_code("no-such-worker", [9; 32], Utc::now()),
        Err(StorageError::NotFound { kind: "worker", .. })
    ));
    let before = s.versions().unwrap().directory;
    let device = enrol(s, &w, 1);
    assert!(
        s.versions().unwrap().directory > before,
        "enrolment changes the directory"
    );
    let p = s
        .principal_by_token([101; 32], Utc::now())
        .unwrap()
        .unwrap();
    assert_eq!((p.device.id, p.worker.id.as_str()), (device, w.id.as_str()));
    assert_eq!(s.principal_by_device(device).unwrap().unwrap().worker, w);
    assert!(s.principal_by_token([7; 32], Utc::now()).unwrap().is_none());
    let again = NewDevice {
        id: Uuid::now_v7(),
        name: "second".into(),
        token_hash: [55; 32],
        local_worker_id: None,
        signing_key: None,
    };
    assert!(matches!(
        s.enroll([1; 32], again.clone(), Utc::now()),
        Err(StorageError::BadCode)
    ));
    // Expired.
    s.create_enroll_code(&w.id, [2; 32], Utc::now() - Duration::minutes(1))
        .unwrap();
    assert!(matches!(
        s.enroll([2; 32], again.clone(), Utc::now()),
        Err(StorageError::BadCode)
    ));
    // A replica's worker id that is another worker's is refused, and the code stays unused.
    s.create_enroll_code(&w.id, [3; 32], Utc::now() + Duration::hours(1))
        .unwrap();
    let claiming = NewDevice {
        local_worker_id: Some(other.id.clone()),
        ..again.clone()
    };
    assert!(matches!(
        s.enroll([3; 32], claiming, Utc::now()),
        Err(StorageError::Conflict(_))
    ));
    s.enroll([3; 32], again, Utc::now()).unwrap();
    let directory = s.directory().unwrap();
    assert_eq!(directory.devices.len(), 2);
    assert_eq!(directory.version, s.versions().unwrap().directory);
}

pub fn devices_revoke_and_retire(s: &impl Storage) {
    s.create_group("g1", "one").unwrap();
    let w = field_worker(s, "g1");
    let d = enrol(s, &w, 1);
    let first = Utc::now() - Duration::hours(1);
    s.revoke_device(d, first).unwrap();
    s.revoke_device(d, Utc::now()).unwrap();
    s.retire_device(d, first).unwrap();
    let device = s
        .devices()
        .unwrap()
        .into_iter()
        .find(|x| x.id == d)
        .unwrap();
    // The first time counts.
    assert_eq!(
        device.revoked_at.map(|t| t.timestamp()),
        Some(first.timestamp())
    );
    assert!(device.retiring_at.is_some());
    assert!(s.directory().unwrap().devices[0].revoked);
    assert!(matches!(
        s.revoke_device(Uuid::now_v7(), Utc::now()),
        Err(StorageError::NotFound { kind: "device", .. })
    ));
}

pub fn changes_are_stored_once_and_numbered_in_order(s: &impl Storage) {
    s.create_group("g1", "one").unwrap();
    let w = field_worker(s, "g1");
    let d = enrol(s, &w, 1);
    let h = Uuid::now_v7();
    let mut doc = doc(1);
    let a = change(h, d, &mut doc, "a");
    let b = change(h, d, &mut doc, "b");
    let seqs = s
        .store_changes(&[a.clone(), b.clone()], &[(h, assigned("g1", None))], &[])
        .unwrap();
    assert!(seqs[0] < seqs[1], "{seqs:?}");
    // Idempotent: the same change again keeps its number and adds nothing.
    assert_eq!(
        s.store_changes(std::slice::from_ref(&b), &[], &[]).unwrap(),
        vec![seqs[1]]
    );
    assert_eq!(
        s.household_changes(h).unwrap(),
        vec![a.bytes.clone(), b.bytes.clone()]
    );
    // A change claimed for another household than the one holding it.
    let stolen = IncomingChange {
        household: Uuid::now_v7(),
        ..a.clone()
    };
    assert!(matches!(
        s.store_changes(&[stolen], &[], &[]),
        Err(StorageError::Conflict(_))
    ));
    let known = s.known_hashes(h, &[a.hash, [0; 32]]).unwrap();
    assert_eq!(known.into_iter().collect::<Vec<_>>(), vec![a.hash]);
    assert!(
        s.known_hashes(Uuid::now_v7(), &[a.hash])
            .unwrap()
            .is_empty()
    );
    assert_eq!(
        s.assignments(&[h, Uuid::now_v7()]).unwrap().get(&h),
        Some(&assigned("g1", None))
    );
    // A household's first assignment is not replaced by a later push's.
    s.store_changes(&[], &[(h, assigned("g2", None))], &[])
        .unwrap();
    assert_eq!(s.assignments(&[h]).unwrap()[&h], assigned("g1", None));
}

pub fn a_reused_actor_sequence_is_refused(s: &impl Storage) {
    s.create_group("g1", "one").unwrap();
    let d = enrol(s, &field_worker(s, "g1"), 1);
    let h = Uuid::now_v7();
    let first = change(h, d, &mut doc(7), "first");
    // The same actor's first change again, with other content: a replica that lost its store.
    let forged = change(h, d, &mut doc(7), "other");
    assert_ne!(first.hash, forged.hash);
    s.store_changes(&[first], &[(h, assigned("g1", None))], &[])
        .unwrap();
    assert!(matches!(
        s.store_changes(&[forged], &[], &[]),
        Err(StorageError::DuplicateSeq { household }) if household == h
    ));
    assert_eq!(s.household_changes(h).unwrap().len(), 1, "all or nothing");
}

pub fn the_log_is_read_per_scope(s: &impl Storage) {
    s.create_group("g1", "one").unwrap();
    s.create_group("g2", "two").unwrap();
    let w1 = field_worker(s, "g1");
    let w2 = field_worker(s, "g1");
    let d1 = enrol(s, &w1, 1);
    let d2 = enrol(s, &w2, 2);
    let (mine, group, theirs, other) = (
        Uuid::now_v7(),
        Uuid::now_v7(),
        Uuid::now_v7(),
        Uuid::now_v7(),
    );
    let stored = [
        (mine, assigned("g1", Some(&w1.id)), d1, 1),
        (group, assigned("g1", None), d2, 2),
        (theirs, assigned("g1", Some(&w2.id)), d2, 3),
        (other, assigned("g2", None), d2, 4),
    ];
    let mut seq_of = std::collections::HashMap::new();
    for (h, a, d, actor) in &stored {
        let c = change(*h, *d, &mut doc(*actor), "x");
        let seqs = s.store_changes(&[c], &[(*h, a.clone())], &[]).unwrap();
        seq_of.insert(*h, seqs[0]);
    }
    let field = Scope::of(&w1);
    let page = everything(s, &field, d1);
    let last = *seq_of.values().max().unwrap();
    assert_eq!(page.head, last);
    // Its own change is only a place in the log; the group's is sent; others' are not there.
    assert_eq!(
        page.entries,
        vec![
            LogEntry::Own { seq: seq_of[&mine] },
            LogEntry::Change {
                seq: seq_of[&group],
                household: group,
                bytes: s.household_changes(group).unwrap().remove(0),
            },
        ]
    );
    let supervisor = Scope::Group("g1".into());
    assert_eq!(everything(s, &supervisor, d1).entries.len(), 3);
    assert_eq!(everything(s, &Scope::Everything, d1).entries.len(), 4);
    assert!(everything(s, &Scope::Nothing, d1).entries.is_empty());
    assert_eq!(everything(s, &Scope::Nothing, d1).head, last);
    // The limit, and reading on from a cursor.
    let first = s.log_after(&Scope::Everything, d1, 0, 2).unwrap();
    assert_eq!(first.entries.len(), 2);
    let rest = s
        .log_after(&Scope::Everything, d1, first.entries[1].seq(), 10)
        .unwrap();
    assert_eq!(rest.entries.len(), 2);
    assert!(
        s.log_after(&Scope::Everything, d1, last, 10)
            .unwrap()
            .entries
            .is_empty()
    );
    let mut scoped = s.households_in_scope(&field).unwrap();
    scoped.sort();
    let mut expected = vec![mine, group];
    expected.sort();
    assert_eq!(scoped, expected);
    assert_eq!(s.households_in_scope(&Scope::Everything).unwrap().len(), 4);
}

pub fn reassignment_brings_history_and_refuses_stale_moves(s: &impl Storage) {
    s.create_group("g1", "one").unwrap();
    s.create_group("g2", "two").unwrap();
    let w1 = field_worker(s, "g1");
    let d1 = enrol(s, &w1, 1);
    let h = Uuid::now_v7();
    let mut doc = doc(1);
    let a = change(h, d1, &mut doc, "a");
    let b = change(h, d1, &mut doc, "b");
    let seqs = s
        .store_changes(&[a, b], &[(h, assigned("g1", None))], &[])
        .unwrap();
    let g2 = Scope::Group("g2".into());
    let cursor = everything(s, &g2, d1).head;
    let scope_before = s.versions().unwrap().scope;
    let event = AuditEvent {
        action: AuditAction::Assign,
        device_id: None,
        worker_id: None,
        group_id: Some("g2".into()),
        household: Some(h),
    };
    s.reassign(
        &[Reassignment {
            household: h,
            from: Some(assigned("g1", None)),
            to: assigned("g2", None),
        }],
        std::slice::from_ref(&event),
        Utc::now(),
    )
    .unwrap();
    assert!(s.versions().unwrap().scope > scope_before);
    let page = s.log_after(&g2, d1, cursor, 10).unwrap();
    assert!(
        matches!(page.entries.as_slice(), [LogEntry::Entered { household, seq }] if *household == h && *seq > cursor),
        "{:?}",
        page.entries
    );
    let history = s.history_through(h, cursor).unwrap();
    assert_eq!(
        history.iter().map(|(seq, _)| *seq).collect::<Vec<_>>(),
        seqs
    );
    assert_eq!(s.history_through(h, seqs[0]).unwrap().len(), 1);
    // A move decided on what no longer holds is refused whole, and records nothing.
    let audited = s.audit_rows(None, 100).unwrap().len();
    let stale = s.reassign(
        &[Reassignment {
            household: h,
            from: Some(assigned("g1", None)),
            to: assigned("g1", Some(&w1.id)),
        }],
        &[event],
        Utc::now(),
    );
    assert!(matches!(stale, Err(StorageError::Conflict(_))));
    assert_eq!(s.assignments(&[h]).unwrap()[&h], assigned("g2", None));
    assert_eq!(s.audit_rows(None, 100).unwrap().len(), audited);
}

pub fn facts_index_ids_and_merge_links(s: &impl Storage) {
    s.create_group("g1", "one").unwrap();
    s.create_group("g2", "two").unwrap();
    let d = enrol(s, &field_worker(s, "g1"), 1);
    let (survivor, retired) = (Uuid::now_v7(), Uuid::now_v7());
    let facts = |h: Uuid, ids: &[&str], merged_into: Option<Uuid>| HouseholdFacts {
        household: h,
        national_ids: ids.iter().map(|s| s.to_string()).collect(),
        merged_into,
    };
    s.store_changes(
        &[change(survivor, d, &mut doc(1), "s")],
        &[(survivor, assigned("g1", None))],
        &[facts(survivor, &["0012345678"], None)],
    )
    .unwrap();
    let mut retired_doc = doc(2);
    s.store_changes(
        &[change(retired, d, &mut retired_doc, "r")],
        &[(retired, assigned("g2", None))],
        &[facts(retired, &["0012345678", "0087654321"], None)],
    )
    .unwrap();
    assert_eq!(s.national_id_households("0012345678").unwrap().len(), 2);
    assert_eq!(
        s.national_id_households("0087654321").unwrap()[&retired],
        assigned("g2", None)
    );
    // The merge: the retired household is now seen by the survivor's scope too.
    let g1 = Scope::Group("g1".into());
    let cursor = everything(s, &g1, d).head;
    s.store_changes(
        &[change(retired, d, &mut retired_doc, "merged")],
        &[],
        &[facts(retired, &["0087654321"], Some(survivor))],
    )
    .unwrap();
    let standing = &s.standings(&[retired]).unwrap()[&retired];
    assert_eq!(
        standing.merged_into,
        Some((survivor, Some(assigned("g1", None))))
    );
    assert!(g1.sees(standing));
    assert!(s.national_id_households("0012345678").unwrap().len() == 1);
    let page = s.log_after(&g1, d, cursor, 10).unwrap();
    assert!(
        page.entries
            .iter()
            .any(|e| matches!(e, LogEntry::Entered { household, .. } if *household == retired)),
        "{:?}",
        page.entries
    );
    assert!(s.households_in_scope(&g1).unwrap().contains(&retired));
    // Undone: the link goes, and the scope version says households may have left.
    let version = s.versions().unwrap().scope;
    s.store_changes(
        &[change(retired, d, &mut retired_doc, "unmerged")],
        &[],
        &[facts(retired, &["0087654321"], None)],
    )
    .unwrap();
    assert!(s.versions().unwrap().scope > version);
    assert!(!s.households_in_scope(&g1).unwrap().contains(&retired));
}

pub fn push_quota_counts_and_refunds(s: &impl Storage) {
    s.create_group("g1", "one").unwrap();
    let d = enrol(s, &field_worker(s, "g1"), 1);
    let quota = PushQuota {
        bytes: 100,
        changes: 10,
    };
    let now = Utc::now();
    let push = |bytes| PushUsage { bytes, changes: 1 };
    assert_eq!(
        s.charge_push(d, push(60), quota, now).unwrap(),
        Charge::Charged
    );
    match s.charge_push(d, push(60), quota, now).unwrap() {
        Charge::Refused { usage, resets_at } => {
            assert_eq!(usage, push(60));
            assert!(resets_at.is_some_and(|t| t > now));
        }
        Charge::Charged => panic!("over quota"),
    }
    // Alone over quota: never fits.
    assert!(matches!(
        s.charge_push(d, push(500), quota, now).unwrap(),
        Charge::Refused {
            resets_at: None,
            ..
        }
    ));
    s.refund_push(d, push(60), now).unwrap();
    assert_eq!(
        s.push_usage(now).unwrap().get(&d),
        Some(&PushUsage::default())
    );
    assert_eq!(
        s.charge_push(d, push(60), quota, now).unwrap(),
        Charge::Charged
    );
    // A day later the window holds nothing.
    let later = now + Duration::hours(QUOTA_WINDOW_HOURS + 1);
    assert!(s.push_usage(later).unwrap().is_empty());
    assert_eq!(
        s.charge_push(d, push(90), quota, later).unwrap(),
        Charge::Charged
    );
}

pub fn lookups_are_limited_per_hour(s: &impl Storage) {
    s.create_group("g1", "one").unwrap();
    let d = enrol(s, &field_worker(s, "g1"), 1);
    let limit = LookupLimit { per_hour: 3 };
    let start = Utc::now();
    for i in 0..3 {
        assert_eq!(
            s.charge_lookup(d, limit, start + Duration::seconds(i))
                .unwrap(),
            None
        );
    }
    let refused = s
        .charge_lookup(d, limit, start + Duration::seconds(10))
        .unwrap()
        .expect("the fourth in the hour is refused");
    assert_eq!(
        refused.timestamp(),
        (start + Duration::hours(1)).timestamp()
    );
    assert_eq!(
        s.charge_lookup(d, limit, start + Duration::minutes(61))
            .unwrap(),
        None
    );
}

pub fn partners_are_added_whole_and_retired(s: &impl Storage) {
    let bank = Partner {
        code: "bank-melli-1".into(),
        kind: PartnerKind::Bank,
        name: "بانک ملی".into(),
        branch: Some("انقلاب".into()),
        district: None,
        active: true,
    };
    let clinic = Partner {
        code: "clinic-1".into(),
        kind: PartnerKind::Clinic,
        name: "درمانگاه".into(),
        branch: None,
        district: Some("۱۲".into()),
        active: true,
    };
    let v0 = s.versions().unwrap().directory;
    s.add_partner(&bank).unwrap();
    assert!(s.versions().unwrap().directory > v0);
    // A batch naming a code held already adds nothing.
    assert!(matches!(
        s.add_partners(&[clinic.clone(), bank.clone()]),
        Err(StorageError::Conflict(_))
    ));
    assert_eq!(s.partners().unwrap(), vec![bank.clone()]);
    assert!(matches!(
        s.add_partner(&Partner {
            code: "Bad Code!".into(),
            ..clinic.clone()
        }),
        Err(StorageError::BadPartner(_))
    ));
    s.add_partner(&clinic).unwrap();
    s.set_partner_active("bank-melli-1", false).unwrap();
    let v = s.versions().unwrap().directory;
    s.set_partner_active("bank-melli-1", false).unwrap();
    assert_eq!(
        s.versions().unwrap().directory,
        v,
        "setting what is set changes nothing"
    );
    assert!(matches!(
        s.set_partner_active("nope", true),
        Err(StorageError::NotFound { .. })
    ));
    let listed = s.directory().unwrap().partners;
    assert_eq!(listed.len(), 2);
    assert!(
        !listed
            .iter()
            .find(|p| p.code == "bank-melli-1")
            .unwrap()
            .active
    );
}

pub fn the_audit_chain_links_and_verifies(s: &impl Storage) {
    s.create_group("g1", "one").unwrap();
    let w = field_worker(s, "g1");
    let d = enrol(s, &w, 1);
    let h = Uuid::now_v7();
    s.append_audit(&[], Utc::now()).unwrap();
    assert!(s.audit_rows(None, 10).unwrap().is_empty());
    let events: Vec<AuditEvent> = [AuditAction::Enroll, AuditAction::Push, AuditAction::Pull]
        .into_iter()
        .map(|action| AuditEvent {
            action,
            device_id: Some(d),
            worker_id: Some(w.id.clone()),
            group_id: Some("g1".into()),
            household: (action != AuditAction::Enroll).then_some(h),
        })
        .collect();
    s.append_audit(&events[..1], Utc::now()).unwrap();
    s.append_audit(&events[1..], Utc::now()).unwrap();
    let rows = s.audit_rows(None, 10).unwrap();
    assert_eq!(
        rows.iter().map(|r| r.seq).collect::<Vec<_>>(),
        vec![1, 2, 3]
    );
    assert_eq!(rows[1].prev_hash, rows[0].hash);
    assert_eq!(s.audit_rows(Some(2), 10).unwrap().len(), 1);
    let verified = audit::verify(s, None).unwrap();
    assert_eq!((verified.entries, verified.broken), (3, None));
    let listed = s
        .audit_entries(&AuditQuery {
            household: Some(h),
            limit: 10,
            ..AuditQuery::default()
        })
        .unwrap();
    assert_eq!(listed.len(), 2);
    assert_eq!(listed[0].action, AuditAction::Pull, "newest first");
    assert_eq!(listed[0].worker_name.as_deref(), Some("کارگر"));
    let by_device = s
        .audit_entries(&AuditQuery {
            device: Some(d),
            before: Some(3),
            limit: 10,
            ..AuditQuery::default()
        })
        .unwrap();
    assert_eq!(by_device.len(), 2);
    let unknown = AuditEvent {
        action: AuditAction::Unknown,
        ..events[0].clone()
    };
    assert!(s.append_audit(&[unknown], Utc::now()).is_err());
    assert_eq!(s.audit_rows(None, 10).unwrap().len(), 3);
}

pub fn a_group_of_pushes_stores_each_on_its_own(s: &impl Storage) {
    s.create_group("g1", "one").unwrap();
    let w = field_worker(s, "g1");
    let d = enrol(s, &w, 1);
    let (h1, h2, h3) = (Uuid::now_v7(), Uuid::now_v7(), Uuid::now_v7());
    let a = change(h1, d, &mut doc(1), "a");
    // The same actor's first change again, with other content.
    let clash = change(h1, d, &mut doc(1), "b");
    let c = change(h2, d, &mut doc(2), "c");
    let misplaced = IncomingChange {
        household: h3,
        ..c.clone()
    };
    let e = change(h3, d, &mut doc(3), "e");
    let push = |changes: Vec<IncomingChange>, household: Uuid| PushWrite {
        changes,
        new_households: vec![(household, assigned("g1", None))],
        facts: vec![],
        audit: vec![AuditEvent {
            action: AuditAction::Push,
            device_id: Some(d),
            worker_id: Some(w.id.clone()),
            group_id: Some("g1".into()),
            household: Some(household),
        }],
        at: Utc::now(),
    };
    let results = s
        .store_pushes(&[
            push(vec![a.clone()], h1),
            push(vec![clash], h1),
            push(vec![c.clone()], h2),
            push(vec![a, e.clone()], h3),
            push(vec![e, misplaced], h3),
        ])
        .unwrap();
    assert_eq!(results.len(), 5);
    assert!(
        matches!(results[0], Ok(ref x) if x == &vec![1]),
        "{results:?}"
    );
    assert!(matches!(results[1], Err(StorageError::DuplicateSeq { household }) if household == h1));
    // The refused push's numbers go to the next: the log has no gaps.
    assert!(
        matches!(results[2], Ok(ref x) if x == &vec![2]),
        "{results:?}"
    );
    assert!(
        matches!(results[3], Ok(ref x) if x == &vec![1, 3]),
        "{results:?}"
    );
    assert!(matches!(results[4], Err(StorageError::Conflict(_))));
    let page = everything(s, &Scope::Everything, Uuid::now_v7());
    assert_eq!(page.head, 3);
    assert_eq!(page.entries.len(), 3);
    // The refused pushes' audit entries went with them; the chain stays whole.
    let chain = audit::verify(s, None).unwrap();
    assert_eq!((chain.entries, chain.broken), (3, None));
    assert!(s.store_pushes(&[]).unwrap().is_empty());
}

pub fn enrolment_limits_are_shared_windows(s: &impl Storage) {
    let budget = EnrollBudget {
        per_source_per_minute: 3,
        global_per_minute: 5,
        lockout_failures: 2,
        lockout: std::time::Duration::from_secs(600),
    };
    let t = |seconds: i64| chrono::DateTime::from_timestamp(1_800_000_000 + seconds, 0).unwrap();
    for i in 0..3 {
        assert_eq!(s.enroll_attempt("10.0.0.1", &budget, t(i)).unwrap(), None);
    }
    assert_eq!(
        s.enroll_attempt("10.0.0.1", &budget, t(10)).unwrap(),
        Some(EnrollRefusal::SourceRate { until: t(60) })
    );
    assert_eq!(s.enroll_attempt("10.0.0.2", &budget, t(11)).unwrap(), None);
    assert_eq!(s.enroll_attempt("10.0.0.3", &budget, t(12)).unwrap(), None);
    // Five attempts in the minute from everyone: a sixth source waits for the oldest to leave.
    assert_eq!(
        s.enroll_attempt("10.0.0.4", &budget, t(13)).unwrap(),
        Some(EnrollRefusal::Global { until: t(60) })
    );
    assert_eq!(s.enroll_attempt("10.0.0.4", &budget, t(61)).unwrap(), None);
    // A lockout lasts its time from the wrong code that earned it.
    assert!(!s.enroll_failed("a", &budget, t(0)).unwrap());
    assert!(s.enroll_failed("a", &budget, t(100)).unwrap());
    assert_eq!(
        s.enroll_attempt("a", &budget, t(200)).unwrap(),
        Some(EnrollRefusal::LockedOut { until: t(700) })
    );
    assert_eq!(s.enroll_attempt("a", &budget, t(700)).unwrap(), None);
    // The wrong codes that earned it are spent; a code that works forgives earlier ones.
    assert!(!s.enroll_failed("a", &budget, t(701)).unwrap());
    s.enroll_succeeded("a").unwrap();
    assert!(!s.enroll_failed("a", &budget, t(702)).unwrap());
}

pub fn households_are_paged_per_scope_with_their_snapshots(s: &impl Storage) {
    s.create_group("g1", "one").unwrap();
    s.create_group("g2", "two").unwrap();
    let w1 = field_worker(s, "g1");
    let d1 = enrol(s, &w1, 1);
    let mut ids: Vec<Uuid> = (0..4).map(|_| Uuid::now_v7()).collect();
    ids.sort();
    let groups = ["g1", "g1", "g2", "g1"];
    let mut last = std::collections::HashMap::new();
    let mut history = std::collections::HashMap::new();
    for (i, (h, g)) in ids.iter().zip(groups).enumerate() {
        let mut d = doc(i as u8 + 1);
        let a = change(*h, d1, &mut d, "a");
        let b = change(*h, d1, &mut d, "bb");
        let seqs = s
            .store_changes(&[a.clone(), b.clone()], &[(*h, assigned(g, None))], &[])
            .unwrap();
        last.insert(*h, seqs[1]);
        history.insert(*h, vec![(seqs[0], a.bytes), (seqs[1], b.bytes)]);
    }
    let head = *last.values().max().unwrap();
    // The supervisor of g1 sees three households, in id order, none cached yet.
    let g1 = Scope::Group("g1".into());
    let page = s.documents_after(&g1, None, 10).unwrap();
    assert_eq!(page.head, head);
    let seen: Vec<Uuid> = page.households.iter().map(|d| d.household).collect();
    assert_eq!(seen, vec![ids[0], ids[1], ids[3]]);
    for d in &page.households {
        assert_eq!(d.last_seq, last[&d.household]);
        assert_eq!(d.cached, None);
    }
    // Paging: after the first, at most one.
    let next = s.documents_after(&g1, Some(ids[0]), 1).unwrap();
    assert_eq!(
        next.households
            .iter()
            .map(|d| d.household)
            .collect::<Vec<_>>(),
        vec![ids[1]]
    );
    assert!(
        s.documents_after(&g1, Some(ids[3]), 10)
            .unwrap()
            .households
            .is_empty()
    );
    assert_eq!(
        s.documents_after(&Scope::Everything, None, 10)
            .unwrap()
            .households
            .len(),
        4
    );
    assert!(
        s.documents_after(&Scope::Nothing, None, 10)
            .unwrap()
            .households
            .is_empty()
    );
    // What a snapshot lacks: the changes after a sequence number, up to another.
    let h = ids[0];
    assert_eq!(
        s.history_between(h, 0, last[&h]).unwrap(),
        history[&h].clone()
    );
    assert_eq!(
        s.history_between(h, history[&h][0].0, last[&h]).unwrap(),
        vec![history[&h][1].clone()]
    );
    assert!(s.history_between(h, last[&h], head).unwrap().is_empty());
    // What a document kept in memory through a point lacks: every change after it, with the
    // log's head read in the same snapshot.
    let delta = s.changes_after(h, 0).unwrap();
    assert_eq!(delta.head, head);
    assert_eq!(delta.changes, history[&h].clone());
    assert_eq!(
        s.changes_after(h, history[&h][0].0).unwrap().changes,
        vec![history[&h][1].clone()]
    );
    assert!(s.changes_after(h, last[&h]).unwrap().changes.is_empty());
    let unknown = s.changes_after(Uuid::now_v7(), 0).unwrap();
    assert_eq!((unknown.head, unknown.changes.len()), (head, 0));
    // A snapshot is kept, read back with its page, and never replaced by an older one.
    let newer = CachedSnapshot {
        through: last[&h],
        bytes: vec![1, 2, 3],
    };
    let older = CachedSnapshot {
        through: last[&h] - 1,
        bytes: vec![9],
    };
    s.put_snapshots(&[(h, newer.clone())]).unwrap();
    s.put_snapshots(&[(h, older)]).unwrap();
    let page = s.documents_after(&g1, None, 1).unwrap();
    assert_eq!(page.households[0].cached, Some(newer.clone()));
    let newest = CachedSnapshot {
        through: last[&h] + 1,
        bytes: vec![4],
    };
    s.put_snapshots(&[(h, newest.clone())]).unwrap();
    let page = s.documents_after(&g1, None, 1).unwrap();
    assert_eq!(page.households[0].cached, Some(newest));
    s.put_snapshots(&[]).unwrap();
}
