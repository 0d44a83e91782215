//! `madadkar-load seed`: writes a synthetic province straight into the server's storage through
//! its `Storage` trait (no clients, no HTTP): groups, field workers, one supervisor per group and
//! a coordinator, each with one enrolled device (its token stored only as a hash, as enrolment
//! does), and households registered as real Automerge documents, assigned round-robin to the
//! field workers and stored in batches with the facts and assignments a push stores. Generating
//! documents runs on several threads while one writer stores the batches.

use std::path::PathBuf;
use std::sync::mpsc;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use chrono::Utc;
use madadkar_schema::{AuditAction, Role, authorship};
use madadkar_server::{
    audit, auth,
    storage::{Assignment, HouseholdFacts, IncomingChange, NewDevice, Storage, WorkerRecord},
};
use serde::Serialize;
use uuid::Uuid;

use crate::plan::{self, Device, FieldWorker, GroupPlan, Plan};
use crate::synth::{Author, Registration, Synth, Template};

#[derive(Debug, Clone)]
pub struct SeedArgs {
    pub db: String,
    pub households: u64,
    pub workers: usize,
    /// Groups; `None`: one per 20 field workers.
    pub groups: Option<usize>,
    /// Members per household besides the head.
    pub members: usize,
    pub seed: u64,
    /// Households per storage transaction.
    pub batch: usize,
    /// Threads generating documents.
    pub threads: usize,
    /// Make every household through the document API instead of copying a template.
    pub no_template: bool,
    pub plan: PathBuf,
}

/// What seeding did and what it cost.
#[derive(Debug, Clone, Serialize)]
pub struct SeedReport {
    pub households: u64,
    pub changes: u64,
    pub field_workers: usize,
    pub groups: usize,
    pub devices: usize,
    pub enrol_secs: f64,
    pub households_secs: f64,
    pub households_per_sec: f64,
    pub head_seq: u64,
    /// The database file and its write-ahead log, when `--db` is a file.
    pub database_bytes: Option<u64>,
}

/// A field worker: one per 20 makes groups of a supervisor's usual size.
const WORKERS_PER_GROUP: usize = 20;

pub fn seed(args: &SeedArgs) -> Result<SeedReport> {
    if args.workers == 0 {
        bail!("--workers must be at least 1");
    }
    if args.households < args.workers as u64 {
        bail!(
            "--households ({}) must be at least --workers ({}): every worker gets a household",
            args.households,
            args.workers
        );
    }
    let groups = args
        .groups
        .unwrap_or(args.workers.div_ceil(WORKERS_PER_GROUP));
    if groups == 0 || groups > args.workers {
        bail!(
            "--groups must be between 1 and --workers ({})",
            args.workers
        );
    }
    if args.members > crate::synth::MAX_MEMBERS {
        bail!(
            "--members is at most {} (each household's national IDs are numbered in a block of {})",
            crate::synth::MAX_MEMBERS,
            crate::synth::MAX_MEMBERS + 1
        );
    }
    if args.batch == 0 || args.threads == 0 {
        bail!("--batch and --threads must be at least 1");
    }
    let opened = crate::backend::open(&args.db)?;
    let storage = opened.as_ref();

    let started = Instant::now();
    let mut plan = enrol(storage, args, groups)?;
    let enrol_secs = started.elapsed().as_secs_f64();
    eprintln!(
        "seed: {} groups, {} field workers, {} devices enrolled in {enrol_secs:.1} s",
        groups,
        args.workers,
        args.workers + groups + 1
    );

    let started = Instant::now();
    let (changes, head_seq) = households(storage, args, &mut plan)?;
    let households_secs = started.elapsed().as_secs_f64();
    plan.head_seq = head_seq;
    // Closing checkpoints the write-ahead log into the database, whose size is then its own.
    drop(opened);
    plan.write(&args.plan)?;
    let rate = args.households as f64 / households_secs.max(1e-9);
    let report = SeedReport {
        households: args.households,
        changes,
        field_workers: args.workers,
        groups,
        devices: args.workers + groups + 1,
        enrol_secs,
        households_secs,
        households_per_sec: rate,
        head_seq,
        database_bytes: database_bytes(&args.db),
    };
    eprintln!(
        "seed: {} households ({changes} changes) in {households_secs:.1} s: {rate:.0} households/s{}",
        args.households,
        report
            .database_bytes
            .map(|b| format!("; database {:.1} MiB", b as f64 / 1048576.0))
            .unwrap_or_default()
    );
    Ok(report)
}

/// The database file and its write-ahead log, when `db` is a file.
fn database_bytes(db: &str) -> Option<u64> {
    let path = db.strip_prefix("sqlite://").unwrap_or(db);
    let main = std::fs::metadata(path).ok()?.len();
    let wal = std::fs::metadata(format!("{path}-wal"))
        .map(|m| m.len())
        .unwrap_or(0);
    Some(main + wal)
}

/// Creates the groups, the coordinator, the supervisors and the field workers, and enrols one
/// device for each as `POST /v1/enroll` does: a one-time code redeemed at once, a random token
/// stored only as its hash, the device's public signing key, and an `enroll` audit entry.
fn enrol(storage: &dyn Storage, args: &SeedArgs, groups: usize) -> Result<Plan> {
    let mut audit_events = Vec::new();
    let coordinator = storage.create_worker("دفتر استان (آزمون بار)", None, Role::Coordinator)?;
    let coordinator = device(storage, &coordinator, "load coordinator", &mut audit_events)?;
    let mut group_plans = Vec::with_capacity(groups);
    for g in 0..groups {
        let id = format!("load-{g}");
        storage
            .create_group(&id, &format!("گروه آزمون بار {g}"))
            .with_context(|| format!("creating group {id} (seed into a fresh database)"))?;
        let supervisor = storage.create_worker(
            &format!("سرپرست آزمون بار {g}"),
            Some(&id),
            Role::Supervisor,
        )?;
        let supervisor = device(
            storage,
            &supervisor,
            &format!("load supervisor {g}"),
            &mut audit_events,
        )?;
        group_plans.push(GroupPlan { id, supervisor });
    }
    let mut workers = Vec::with_capacity(args.workers);
    for w in 0..args.workers {
        let group = group_plans[w % groups].id.clone();
        let record =
            storage.create_worker(&format!("مددکار آزمون بار {w}"), Some(&group), Role::Field)?;
        let device = device(
            storage,
            &record,
            &format!("load laptop {w}"),
            &mut audit_events,
        )?;
        workers.push(FieldWorker {
            device,
            group,
            households: Vec::new(),
        });
    }
    storage.append_audit(&audit_events, Utc::now())?;
    Ok(Plan {
        format: plan::FORMAT,
        seed: args.seed,
        households: args.households,
        head_seq: 0,
        coordinator,
        groups: group_plans,
        workers,
    })
}

/// Enrols one device for `worker` through the storage, as enrolment does.
fn device(
    storage: &dyn Storage,
    worker: &WorkerRecord,
    name: &str,
    audit_events: &mut Vec<audit::AuditEvent>,
) -> Result<Device> {
    let now = Utc::now();
    let code = auth::new_enroll_code().context("no randomness for an enrolment code")?;
    let code_hash = auth::hash(&auth::normalize_code(&code));
    storage.create_enroll_code(&worker.id, code_hash, now + chrono::Duration::hours(1))?;
    let token = auth::new_token().context("no randomness for a token")?;
    // Another 256 random bits, as the device's signing key.
    let secret = auth::new_token().context("no randomness for a signing key")?;
    let signing_secret = authorship::from_hex::<{ authorship::SECRET_KEY_BYTES }>(&secret)
        .context("a random key of the wrong length")?;
    let key = authorship::DeviceKey::from_secret(&signing_secret);
    let id = Uuid::now_v7();
    storage.enroll(
        code_hash,
        NewDevice {
            id,
            name: name.to_string(),
            token_hash: auth::hash(&token),
            local_worker_id: None,
            signing_key: Some(authorship::hex(&key.public_key())),
        },
        now,
    )?;
    audit_events.push(audit::device_event(AuditAction::Enroll, id, worker));
    Ok(Device {
        device_id: id,
        token,
        worker_id: worker.id.clone(),
        worker_name: worker.name.clone(),
        signing_secret: secret,
    })
}

/// One batch of registrations, each with the index of the field worker it belongs to.
type Batch = Vec<(usize, Registration)>;

/// Generates the households on `args.threads` threads and stores them batch by batch through
/// one writer. Returns the changes stored and the log's last sequence number.
fn households(storage: &dyn Storage, args: &SeedArgs, plan: &mut Plan) -> Result<(u64, u64)> {
    let today = Utc::now().date_naive();
    let at = Utc::now();
    let synth = Synth::new(args.seed, args.members, today);
    let template = if args.no_template {
        None
    } else {
        Some(Template::new(synth, at).context("making the template household")?)
    };
    let authors: Vec<(Author, String)> = plan
        .workers
        .iter()
        .map(|w| (w.device.author(), w.group.clone()))
        .collect();
    let n = args.households;
    let batch = args.batch as u64;
    let batches = n.div_ceil(batch);
    let threads = args.threads as u64;
    let (tx, rx) = mpsc::sync_channel::<Result<Batch>>(args.threads * 2);
    std::thread::scope(|s| -> Result<(u64, u64)> {
        for t in 0..threads {
            let tx = tx.clone();
            let authors = &authors;
            let template = template.as_ref();
            s.spawn(move || {
                for b in (t..batches).step_by(threads as usize) {
                    let made: Result<Batch> = (b * batch..((b + 1) * batch).min(n))
                        .map(|i| {
                            let w = (i % authors.len() as u64) as usize;
                            let (author, group) = &authors[w];
                            let household = Uuid::now_v7();
                            match template {
                                Some(t) => t.registration(i, household, author, group),
                                None => synth.registration(i, household, author, group, at),
                            }
                            .map(|r| (w, r))
                            .with_context(|| format!("generating household {i}"))
                        })
                        .collect();
                    let failed = made.is_err();
                    // A closed channel: the writer stopped on an error; so do we.
                    if tx.send(made).is_err() || failed {
                        return;
                    }
                }
            });
        }
        drop(tx);
        let mut stored = 0u64;
        let mut changes_stored = 0u64;
        let mut head = 0u64;
        let started = Instant::now();
        let mut last_report = Instant::now();
        let mut writing = Duration::ZERO;
        for made in rx {
            let made = made?;
            let t = Instant::now();
            let (changes, seqs) = store_batch(storage, plan, made)?;
            writing += t.elapsed();
            changes_stored += changes;
            stored += seqs.0;
            head = head.max(seqs.1);
            if last_report.elapsed() > Duration::from_secs(10) {
                last_report = Instant::now();
                eprintln!(
                    "seed: {stored} / {n} households, {:.0}/s",
                    stored as f64 / started.elapsed().as_secs_f64()
                );
            }
        }
        if stored != n {
            bail!("only {stored} of {n} households were generated");
        }
        // Which side bounds the rate: the storage's writer, or the generating threads.
        eprintln!(
            "seed: the writer was busy {:.1} s of {:.1} s",
            writing.as_secs_f64(),
            started.elapsed().as_secs_f64()
        );
        Ok((changes_stored, head))
    })
}

/// Stores one batch in one transaction: the changes, each new household's assignment (the
/// worker's group and the worker, as a field worker's first push gives) and its facts. Returns
/// the changes stored, and the households stored with the largest sequence number.
fn store_batch(storage: &dyn Storage, plan: &mut Plan, made: Batch) -> Result<(u64, (u64, u64))> {
    let mut changes = Vec::new();
    let mut new = Vec::with_capacity(made.len());
    let mut facts = Vec::with_capacity(made.len());
    let households = made.len() as u64;
    for (w, reg) in made {
        let worker = &mut plan.workers[w];
        for c in &reg.changes {
            changes.push(IncomingChange {
                household: reg.household,
                hash: c.hash().0,
                bytes: c.raw_bytes().to_vec(),
                device_id: worker.device.device_id,
            });
        }
        new.push((
            reg.household,
            Assignment {
                group_id: Some(worker.group.clone()),
                worker_id: Some(worker.device.worker_id.clone()),
            },
        ));
        facts.push(HouseholdFacts {
            household: reg.household,
            national_ids: reg.national_ids,
            merged_into: None,
        });
        worker.households.push(reg.household);
    }
    let seqs = storage.store_changes(&changes, &new, &facts)?;
    let head = seqs.iter().copied().max().unwrap_or(0);
    Ok((changes.len() as u64, (households, head)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(dir: &std::path::Path) -> SeedArgs {
        SeedArgs {
            db: dir.join("db.sqlite3").display().to_string(),
            households: 10,
            workers: 2,
            groups: None,
            members: 1,
            seed: 1,
            batch: 4,
            threads: 2,
            no_template: false,
            plan: dir.join("plan.json"),
        }
    }

    #[test]
    fn impossible_requests_are_refused_before_the_database_is_touched() {
        let dir = tempfile::tempdir().expect("temp dir");
        let refused = |a: SeedArgs, says: &str| {
            let err = seed(&a).expect_err("refused").to_string();
            assert!(err.contains(says), "{err}");
            assert!(!dir.path().join("db.sqlite3").exists());
        };
        refused(
            SeedArgs {
                members: crate::synth::MAX_MEMBERS + 1,
                ..args(dir.path())
            },
            "--members",
        );
        refused(
            SeedArgs {
                households: 1,
                ..args(dir.path())
            },
            "--households",
        );
        refused(
            SeedArgs {
                groups: Some(3),
                ..args(dir.path())
            },
            "--groups",
        );
        refused(
            SeedArgs {
                workers: 0,
                ..args(dir.path())
            },
            "--workers",
        );
    }

    /// Batches stored out of order by several threads still give every worker its households,
    /// round-robin, and the plan's head is the log's last entry.
    #[test]
    fn every_household_is_stored_once_and_planned_for_its_worker() {
        let dir = tempfile::tempdir().expect("temp dir");
        let a = args(dir.path());
        let report = seed(&a).expect("seeded");
        assert_eq!(report.changes, 20, "the head and one member each");
        assert_eq!(report.head_seq, 20);
        let plan = Plan::read(&a.plan).expect("the plan");
        assert_eq!(plan.workers.len(), 2);
        assert!(plan.workers.iter().all(|w| w.households.len() == 5));
        let storage = crate::backend::open(&a.db).expect("opens");
        for w in &plan.workers {
            let held = storage.assignments(&w.households).expect("assignments");
            assert_eq!(held.len(), 5);
            assert!(
                held.values()
                    .all(|x| x.worker_id.as_deref() == Some(&w.device.worker_id)
                        && x.group_id.as_deref() == Some(w.group.as_str()))
            );
            for h in &w.households {
                assert_eq!(storage.household_changes(*h).expect("changes").len(), 2);
            }
        }
        let devices = storage.devices().expect("devices");
        assert_eq!(
            devices.len(),
            2 + 1 + 1,
            "workers, one supervisor, the coordinator"
        );
        assert!(devices.iter().all(|d| d.signing_key.is_some()));
    }
}
