//! The synthetic province: one server, a pilot group and numbered groups whose supervisors
//! register their households and push them, plus the visit every phase records.

use std::time::Duration;

use anyhow::{Context, Result};
use chrono::{Local, NaiveDate};
use madadkar_client::demo;
use madadkar_e2e::{Replica, Server};
use madadkar_schema::{ChangeMeta, NeedDomain, NewVisit, VisitKind};

use crate::stats::time;

/// Households registered by a supervisor in one batch while seeding.
const CHUNK: usize = 250;

/// The seeded province and what the phases need to know about it.
pub struct Province {
    pub server: Server,
    /// Households in the province (at least 20).
    pub households: usize,
    /// The coordinator enrolled by the first-sync phase (the province office).
    pub coordinator_id: String,
    pub today: NaiveDate,
    /// How long generating and pushing the province took.
    pub seeding: Duration,
}

impl Province {
    /// Starts a server and seeds `households` households (at least 20) from `seed`.
    pub fn seed(households: usize, seed: u64) -> Result<Self> {
        let n = households.max(20);
        let pilot = if n >= 2_000 { 200 } else { (n / 4).max(5) };
        let groups = ((n - pilot) / 2_000).clamp(1, 10);
        let today = Local::now().date_naive();
        eprintln!(
            "bench: {n} households ({pilot} in the pilot group, the rest in {groups} groups)"
        );

        let mut server = Server::start()?;
        // The province is seeded through a handful of replicas, as a data migration would be,
        // and 200 devices enrol at once from one address: the administrator raises the push
        // quota and the enrolment rate limits for that, as for a real migration.
        server.with_settings(&serde_json::json!({
            "push_quota_changes": 10_000_000u64,
            "push_quota_bytes": 64u64 * 1024 * 1024 * 1024,
            "enroll_per_minute": 100_000,
            "enroll_global_per_minute": 100_000,
            "enroll_lockout_failures": 100_000,
        }))?;
        server.add_group("pilot")?;
        let coordinator_id = server.add_worker("دفتر استان", None, "coordinator")?;

        let (seeded, seeding) = time(|| -> Result<()> {
            let mut rng = demo::Rng::new(seed);
            for (group, share) in shares(n, pilot, groups) {
                seed_group(&server, &group, share, &mut rng, today)?;
            }
            Ok(())
        });
        seeded?;
        eprintln!("bench: province seeded in {:.1} s", seeding.as_secs_f64());
        Ok(Self {
            server,
            households: n,
            coordinator_id,
            today,
            seeding,
        })
    }
}

/// Each group's number of households: the pilot's, then the rest spread evenly.
fn shares(n: usize, pilot: usize, groups: usize) -> Vec<(String, usize)> {
    let mut shares = vec![("pilot".to_string(), pilot)];
    for g in 0..groups {
        let share = (n - pilot) / groups + usize::from(g < (n - pilot) % groups);
        shares.push((format!("g{g}"), share));
    }
    shares
}

/// The group's supervisor registers its `share` of households on an office replica and pushes them.
fn seed_group(
    server: &Server,
    group: &str,
    share: usize,
    rng: &mut demo::Rng,
    today: NaiveDate,
) -> Result<()> {
    if group != "pilot" {
        server.add_group(group)?;
    }
    let supervisor = server.add_worker(&format!("سرپرست {group}"), Some(group), "supervisor")?;
    let mut replica = Replica::enrolled(server, &supervisor, &format!("{group} office"))?;
    let identity = replica.store.identity().cloned().context("identity")?;
    let meta = ChangeMeta::new(
        &identity.worker_id,
        &identity.worker_name,
        &identity.device_id.to_string(),
    );
    let mut done = 0;
    while done < share {
        let chunk = (share - done).min(CHUNK);
        let docs = (0..chunk)
            .map(|_| {
                demo::household(
                    rng,
                    &meta,
                    identity.device_id,
                    today,
                    demo::Shape::PROVINCE,
                    (Some(group), None),
                )
            })
            .collect::<Result<Vec<_>, _>>()?;
        replica.store.merge_documents(docs)?;
        done += chunk;
    }
    replica.store.sync(None)?;
    eprintln!("bench: seeded group {group} ({share} households)");
    Ok(())
}

/// The follow-up visit every phase records.
pub fn visit(date: NaiveDate) -> NewVisit {
    NewVisit {
        date,
        kind: VisitKind::Home,
        observations: "بازدید پیگیری؛ وضعیت درآمد بهتر شده است.".into(),
        needs: [(NeedDomain::Income, 2), (NeedDomain::Food, 1)]
            .into_iter()
            .collect(),
        followup_date: None,
    }
}
