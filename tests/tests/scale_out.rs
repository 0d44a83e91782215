//! Several server instances, one register: two `madadkar-server` processes share one real
//! PostgreSQL database, and replicas spread over both register, visit, sync at the same time,
//! are reassigned and check the audit chain. Every replica ends with what its scope holds,
//! whichever instance it talked to.

use std::collections::BTreeMap;

use anyhow::Result;
use madadkar_e2e::{Replica, Server};
use madadkar_schema::{NewVisit, VisitKind};
use uuid::Uuid;

fn visit(note: &str) -> NewVisit {
    NewVisit {
        date: chrono::NaiveDate::from_ymd_opt(2025, 10, 1).expect("date"),
        kind: VisitKind::Home,
        observations: note.into(),
        needs: BTreeMap::new(),
        followup_date: None,
    }
}

/// Each replica adds a visit to each of its households and syncs with `url`, all at once.
fn round(
    replicas: Vec<(Replica, Vec<Uuid>, String)>,
    n: usize,
) -> Vec<(Replica, Vec<Uuid>, String)> {
    let handles: Vec<_> = replicas
        .into_iter()
        .map(|(mut r, households, url)| {
            std::thread::spawn(move || -> Result<(Replica, Vec<Uuid>, String)> {
                for h in &households {
                    r.store.add_visit(*h, &visit(&format!("round {n}")))?;
                }
                r.store.sync(Some(&url))?;
                Ok((r, households, url))
            })
        })
        .collect();
    handles
        .into_iter()
        .map(|h| h.join().expect("replica thread").expect("sync"))
        .collect()
}

fn visits(r: &Replica, h: Uuid) -> Result<usize> {
    Ok(r.store.household(h)?.household.visits.len())
}

#[test]
fn two_instances_on_one_postgres_database_keep_one_register() -> Result<()> {
    let database = madadkar_server_postgres::testing::cluster().fresh_database();
    let one = Server::start_postgres(&database)?;
    let two = one.another_instance()?;
    // Administration through either instance's binary reaches the same database.
    one.add_group("g")?;
    two.add_group("h")?;
    let field: Vec<String> = (0..4)
        .map(|i| {
            let server = if i % 2 == 0 { &one } else { &two };
            server.add_worker(&format!("مددکار {i}"), Some("g"), "field")
        })
        .collect::<Result<_>>()?;
    let other_group = two.add_worker("مددکار h", Some("h"), "field")?;
    let supervisor = one.add_worker("سرپرست", Some("g"), "supervisor")?;
    let coordinator = two.add_worker("هماهنگ‌کننده", None, "coordinator")?;

    // Field workers enrol with one instance or the other, register, and sync with the other.
    let mut replicas = Vec::new();
    for (i, worker) in field.iter().enumerate() {
        let (enrol_with, sync_with) = if i % 2 == 0 {
            (&one, &two)
        } else {
            (&two, &one)
        };
        let mut r = Replica::enrolled(enrol_with, worker, &format!("laptop {i}"))?;
        let households = (0..3)
            .map(|k| r.add_household("علی", 30_000_000 + (i * 10 + k) as u32))
            .collect::<Result<Vec<_>>>()?;
        replicas.push((r, households, sync_with.url.clone()));
    }
    // Three rounds of everyone syncing at once, half through each instance.
    for n in 0..3 {
        replicas = round(replicas, n);
    }
    // A last sync each, so every replica has what the others pushed in the last round.
    for (r, _, url) in &mut replicas {
        r.store.sync(Some(url))?;
    }

    let mut elsewhere = Replica::enrolled(&two, &other_group, "group h")?;
    let moved = elsewhere.add_household("رضا", 30_000_900)?;
    elsewhere.store.sync(None)?;

    let mut s = Replica::enrolled(&one, &supervisor, "supervisor")?;
    let mut c = Replica::enrolled(&two, &coordinator, "office")?;
    s.store.sync(None)?;
    c.store.sync(Some(&one.url))?;
    let group_households: Vec<Uuid> = replicas.iter().flat_map(|(_, h, _)| h.clone()).collect();
    assert_eq!(s.store.household_ids()?.len(), group_households.len());
    assert_eq!(c.store.household_ids()?.len(), group_households.len() + 1);
    for (r, households, _) in &replicas {
        for h in households {
            let own = visits(r, *h)?;
            assert_eq!(own, 3, "three rounds of visits on the author's replica");
            assert_eq!(
                visits(&s, *h)?,
                own,
                "the supervisor (instance one) has them all"
            );
            assert_eq!(
                visits(&c, *h)?,
                own,
                "the coordinator (instance two) has them all"
            );
        }
        // A field worker sees its own households, not its colleagues'.
        assert_eq!(r.store.household_ids()?.len(), households.len());
    }

    // A household moved by an administrator on instance one reaches the group's supervisor
    // through instance two with its whole history, and leaves its old worker on the next sync.
    let history = elsewhere.store.history(moved)?.len();
    assert!(history > 0);
    one.admin(&["household", "assign", &moved.to_string(), "--group", "g"])?;
    s.store.sync(Some(&two.url))?;
    assert!(s.store.household_ids()?.contains(&moved));
    assert_eq!(s.store.history(moved)?.len(), history, "its whole history");
    elsewhere.store.sync(Some(&one.url))?;
    assert!(!elsewhere.store.household_ids()?.contains(&moved));

    // The access audit, written by both instances at once, is one unbroken chain.
    let verified = two.admin(&["audit", "verify"])?;
    assert!(verified["broken"].is_null(), "{verified}");
    assert!(verified["entries"].as_u64().unwrap_or(0) > 20, "{verified}");
    Ok(())
}
