//! `madadkar-server`: parses the command line and calls the library (`madadkar_server`):
//! the sync server and its administration commands. Settings: see `madadkar_server::config`.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

use anyhow::{Context, Result};
use chrono::Utc;
use clap::{Parser, Subcommand};
use madadkar_server::{
    admin, audit,
    config::FileConfig,
    database::{Database, UseStorage},
    storage::{Assignment, DeviceRecord, PushQuota, PushUsage, Storage},
};
use uuid::Uuid;

#[derive(Debug, Parser)]
#[command(
    name = "madadkar-server",
    version,
    about = "Madadkar's sync server and its administration"
)]
struct Cli {
    /// A JSON file with settings: {"listen": "...", "data_dir": "...", "pull_batch_changes": N,
    /// "pull_batch_bytes": N, rate limits, push quotas and timeouts}; see the config module.
    #[arg(long, global = true, env = "MADADKAR_SERVER_CONFIG")]
    config: Option<PathBuf>,
    /// Where the server keeps its database.
    #[arg(long, global = true, env = "MADADKAR_SERVER_DATA_DIR")]
    data_dir: Option<PathBuf>,
    /// The database: a PostgreSQL URL (`postgres://user@host:port/name`, for several instances
    /// sharing one cluster) or an SQLite file; default: the SQLite file in the data directory.
    #[arg(long, global = true, env = "MADADKAR_SERVER_DATABASE")]
    database: Option<String>,
    /// Print JSON instead of text.
    #[arg(long, global = true)]
    json: bool,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Create the database (other commands do this too when needed).
    Init,
    /// Serve the sync API.
    Serve {
        /// Address and port to listen on.
        #[arg(long, env = "MADADKAR_SERVER_LISTEN")]
        listen: Option<SocketAddr>,
    },
    /// Contracted groups.
    #[command(subcommand)]
    Group(GroupCommand),
    /// Workers and their roles.
    #[command(subcommand)]
    Worker(WorkerCommand),
    /// A one-time code with which a worker enrols a device.
    EnrollCode {
        worker: String,
        /// Hours until the code expires.
        #[arg(long, default_value_t = 72)]
        hours: i64,
    },
    /// Enrolled devices.
    #[command(subcommand)]
    Device(DeviceCommand),
    /// Household assignment to groups and workers.
    #[command(subcommand)]
    Household(HouseholdCommand),
    /// The access audit: who pushed, pulled, reassigned or revoked what (ids only).
    #[command(subcommand)]
    Audit(AuditCommand),
    /// The partner directory referrals choose from: banks and branches, training centres,
    /// clinics. It reaches every device with the directory of devices.
    #[command(subcommand)]
    Partner(PartnerCommand),
}

#[derive(Debug, Subcommand)]
enum PartnerCommand {
    /// Add a partner.
    Add {
        /// A short stable id: 2–64 lower-case Latin letters, digits or '-', e.g.
        /// `bank-melli-enghelab`. Referrals name the partner by it.
        #[arg(long)]
        code: String,
        /// bank, training_centre, clinic or other.
        #[arg(long)]
        kind: String,
        /// The organisation, e.g. «بانک ملی».
        #[arg(long)]
        name: String,
        /// The branch or site, e.g. «شعبهٔ میدان انقلاب».
        #[arg(long)]
        branch: Option<String>,
        #[arg(long)]
        district: Option<String>,
    },
    /// Every partner, retired ones too.
    List,
    /// Stop offering a partner for new referrals; referrals that name it keep it.
    Retire { code: String },
    /// Offer a retired partner again.
    Reinstate { code: String },
    /// Add every partner of a JSON file (an array, as `partner list --json` prints), all or
    /// nothing.
    Import { file: PathBuf },
}

#[derive(Debug, Subcommand)]
enum AuditCommand {
    /// Walk the hash chain and report the first broken link; fails when one is found.
    Verify {
        /// An entry recorded earlier (`SEQ:HASH`, the head this command printed): shows a chain
        /// rewritten or cut off since.
        #[arg(long)]
        anchor: Option<audit::Anchor>,
    },
    /// Print entries, newest first.
    List {
        #[arg(long)]
        household: Option<Uuid>,
        #[arg(long)]
        device: Option<Uuid>,
        /// Only entries numbered below this (the next page).
        #[arg(long)]
        before: Option<u64>,
        #[arg(long, default_value_t = 100, value_parser = clap::value_parser!(u32).range(1..=100_000))]
        limit: u32,
    },
}

#[derive(Debug, Subcommand)]
enum GroupCommand {
    Add {
        /// A short id, e.g. `jihadi-3`.
        id: String,
        #[arg(long)]
        name: String,
    },
    List,
}

#[derive(Debug, Subcommand)]
enum WorkerCommand {
    Add {
        name: String,
        #[arg(long)]
        group: Option<String>,
        /// field, supervisor, coordinator or admin.
        #[arg(long, default_value = "field")]
        role: String,
    },
    List,
}

#[derive(Debug, Subcommand)]
enum DeviceCommand {
    List,
    /// Refuse a device from now on (a lost or stolen laptop).
    Revoke {
        device: Uuid,
    },
    /// Retire a device that is handed back: its next sync pushes its pending work, then it
    /// erases its data. (`revoke` is for a lost device: nothing more is accepted from it.)
    Retire {
        device: Uuid,
    },
}

#[derive(Debug, Subcommand)]
enum HouseholdCommand {
    /// Give a household to a group, and optionally to one of its workers.
    Assign {
        household: Uuid,
        #[arg(long)]
        group: String,
        #[arg(long)]
        worker: Option<String>,
    },
}

fn print(json: bool, value: &impl serde::Serialize, text: impl FnOnce() -> String) {
    if json {
        println!(
            "{}",
            serde_json::to_string_pretty(value).unwrap_or_default()
        );
    } else {
        println!("{}", text());
    }
}

fn main() -> Result<()> {
    let cli = Cli::parse();
    let file = FileConfig::read(cli.config.as_deref())?;
    let data_dir = file.data_dir(cli.data_dir.clone());
    let database = Database::choose(
        cli.database.as_deref().or(file.database.as_deref()),
        &data_dir,
        file.database_pool,
    );
    database
        .open(Run { cli, file })
        .with_context(|| format!("opening the database {}", database.describe()))?
}

/// The command, run on whichever backend the database is.
struct Run {
    cli: Cli,
    file: FileConfig,
}

impl UseStorage for Run {
    type Output = Result<()>;

    fn with<S: Storage>(self, storage: S) -> Result<()> {
        let Run { cli, file } = self;
        let json = cli.json;
        match cli.command {
            Command::Init => println!("database ready"),
            Command::Serve { listen } => serve(storage, &file, file.listen(listen))?,
            Command::Group(command) => group(&storage, json, command)?,
            Command::Worker(command) => worker(&storage, json, command)?,
            Command::EnrollCode { worker, hours } => {
                let c = admin::issue_enroll_code(&storage, &worker, hours)?;
                print(json, &c, || {
                    format!(
                        "{}  (for worker {}; works once, until {})",
                        c.code, c.worker_id, c.expires_at
                    )
                });
            }
            Command::Device(command) => device(&storage, json, file.guards()?.push_quota, command)?,
            Command::Household(command) => household(&storage, json, command)?,
            Command::Audit(command) => audit_command(&storage, json, command)?,
            Command::Partner(command) => partner(&storage, json, command)?,
        }
        Ok(())
    }
}

fn group(storage: &impl Storage, json: bool, command: GroupCommand) -> Result<()> {
    match command {
        GroupCommand::Add { id, name } => {
            let g = admin::add_group(storage, &id, &name)?;
            print(json, &g, || format!("group {} ({}) created", g.id, g.name));
        }
        GroupCommand::List => {
            let groups = storage.groups()?;
            print(json, &groups, || {
                groups
                    .iter()
                    .map(|g| format!("{}  {}", g.id, g.name))
                    .collect::<Vec<_>>()
                    .join("\n")
            });
        }
    }
    Ok(())
}

fn worker(storage: &impl Storage, json: bool, command: WorkerCommand) -> Result<()> {
    match command {
        WorkerCommand::Add { name, group, role } => {
            let w = admin::add_worker(storage, &name, group.as_deref(), &role)?;
            print(json, &w, || {
                format!("worker {} ({}, {}) created", w.id, w.name, w.role)
            });
        }
        WorkerCommand::List => {
            let workers = storage.workers()?;
            print(json, &workers, || {
                workers
                    .iter()
                    .map(|w| {
                        let group = w.group_id.as_deref().unwrap_or("-");
                        format!("{}  {}  {}  {group}", w.id, w.name, w.role)
                    })
                    .collect::<Vec<_>>()
                    .join("\n")
            });
        }
    }
    Ok(())
}

fn partner(storage: &impl Storage, json: bool, command: PartnerCommand) -> Result<()> {
    match command {
        PartnerCommand::Add {
            code,
            kind,
            name,
            branch,
            district,
        } => {
            let p = admin::add_partner(
                storage,
                &admin::NewPartner {
                    code: &code,
                    kind: &kind,
                    name: &name,
                    branch: branch.as_deref(),
                    district: district.as_deref(),
                },
            )?;
            print(json, &p, || {
                format!(
                    "partner {} ({}, {}) added",
                    p.code,
                    p.display_name(),
                    p.kind
                )
            });
        }
        PartnerCommand::List => {
            let partners = storage.partners()?;
            print(json, &partners, || {
                partners
                    .iter()
                    .map(|p| {
                        let state = if p.active { "active" } else { "RETIRED" };
                        let district = p.district.as_deref().unwrap_or("-");
                        format!(
                            "{}  {}  {}  {district}  {state}",
                            p.code,
                            p.kind,
                            p.display_name()
                        )
                    })
                    .collect::<Vec<_>>()
                    .join("\n")
            });
        }
        PartnerCommand::Retire { code } => {
            admin::set_partner_active(storage, &code, false)?;
            print(json, &serde_json::json!({ "retired": code }), || {
                format!(
                    "partner {code} retired: kept for the referrals that name it, offered for no new one"
                )
            });
        }
        PartnerCommand::Reinstate { code } => {
            admin::set_partner_active(storage, &code, true)?;
            print(json, &serde_json::json!({ "reinstated": code }), || {
                format!("partner {code} is offered for new referrals again")
            });
        }
        PartnerCommand::Import { file } => {
            let text = std::fs::read_to_string(&file)
                .with_context(|| format!("reading {}", file.display()))?;
            let added = admin::import_partners(storage, &text)
                .with_context(|| format!("importing {}", file.display()))?;
            print(json, &serde_json::json!({ "added": added }), || {
                format!("{added} partners added from {}", file.display())
            });
        }
    }
    Ok(())
}

/// A device as listed, with what it pushed in the quota's rolling day.
#[derive(serde::Serialize)]
struct ListedDevice {
    #[serde(flatten)]
    device: DeviceRecord,
    pushed_last_24h: PushUsage,
}

/// Bytes for people: `12.3 MiB`.
fn mib(bytes: u64) -> String {
    format!("{:.1} MiB", bytes as f64 / (1024.0 * 1024.0))
}

fn device(
    storage: &impl Storage,
    json: bool,
    quota: PushQuota,
    command: DeviceCommand,
) -> Result<()> {
    match command {
        DeviceCommand::List => {
            let mut usage = storage.push_usage(Utc::now())?;
            let devices: Vec<ListedDevice> = storage
                .devices()?
                .into_iter()
                .map(|device| ListedDevice {
                    pushed_last_24h: usage.remove(&device.id).unwrap_or_default(),
                    device,
                })
                .collect();
            print(json, &devices, || {
                devices
                    .iter()
                    .map(|ListedDevice { device: d, pushed_last_24h: u }| {
                        let state = d
                            .revoked_at
                            .map(|t| format!("REVOKED {t}"))
                            .unwrap_or_else(|| "active".into());
                        format!(
                            "{}  {}  worker {}  {state}  pushed in 24 h: {} of {}, {} of {} changes",
                            d.id,
                            d.name,
                            d.worker_id,
                            mib(u.bytes),
                            mib(quota.bytes),
                            u.changes,
                            quota.changes
                        )
                    })
                    .collect::<Vec<_>>()
                    .join("\n")
            });
        }
        DeviceCommand::Retire { device } => {
            admin::retire_device(storage, device, Utc::now())?;
            print(json, &serde_json::json!({ "retiring": device }), || {
                format!(
                    "device {device} is being retired: it may push its pending work once more, then erases its data"
                )
            });
        }
        DeviceCommand::Revoke { device } => {
            admin::revoke_device(storage, device, Utc::now())?;
            print(json, &serde_json::json!({ "revoked": device }), || {
                format!("device {device} revoked")
            });
        }
    }
    Ok(())
}

fn household(storage: &impl Storage, json: bool, command: HouseholdCommand) -> Result<()> {
    let HouseholdCommand::Assign {
        household,
        group,
        worker,
    } = command;
    let assignment = Assignment {
        group_id: Some(group.clone()),
        worker_id: worker.clone(),
    };
    admin::assign(storage, household, &assignment)?;
    print(
        json,
        &serde_json::json!({ "household": household, "group": group, "worker": worker }),
        || {
            format!(
                "household {household} assigned to group {group}{}",
                worker.map(|w| format!(", worker {w}")).unwrap_or_default()
            )
        },
    );
    Ok(())
}

fn audit_command(storage: &impl Storage, json: bool, command: AuditCommand) -> Result<()> {
    match command {
        AuditCommand::Verify { anchor } => {
            let report = audit::verify(storage, anchor)?;
            print(json, &report, || {
                let head = report
                    .head
                    .as_ref()
                    .map(|(seq, hash)| format!("head {seq}:{hash}"))
                    .unwrap_or_else(|| "no entries".into());
                match &report.broken {
                    None => format!("audit chain intact: {} entries, {head}", report.entries),
                    Some(b) => format!(
                        "audit chain BROKEN at entry {} ({:?}); {} entries good before it, {head}",
                        b.seq, b.problem, report.entries
                    ),
                }
            });
            if let Some(b) = report.broken {
                anyhow::bail!("the audit chain is broken at entry {}", b.seq);
            }
        }
        AuditCommand::List {
            household,
            device,
            before,
            limit,
        } => {
            let entries = storage.audit_entries(&audit::AuditQuery {
                household,
                device,
                before,
                limit: limit as usize,
            })?;
            print(json, &entries, || {
                let id = |v: Option<String>| v.unwrap_or_else(|| "-".into());
                entries
                    .iter()
                    .map(|e| {
                        format!(
                            "{}  {}  {}  device {}  worker {}  group {}  household {}",
                            e.seq,
                            e.at.to_rfc3339(),
                            e.action,
                            id(e.device_id.map(|d| d.to_string())),
                            id(e.worker_id.clone()),
                            id(e.group_id.clone()),
                            id(e.household.map(|h| h.to_string())),
                        )
                    })
                    .collect::<Vec<_>>()
                    .join("\n")
            });
        }
    }
    Ok(())
}

/// Sets up logging and the async runtime, then serves until Ctrl-C.
fn serve(storage: impl Storage, file: &FileConfig, listen: SocketAddr) -> Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("MADADKAR_LOG")
                .unwrap_or_else(|_| "info,tower_http=warn".into()),
        )
        .with_target(false)
        .init();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    let limits = file.limits();
    let guards = file.guards()?;
    runtime.block_on(async move {
        let listener = tokio::net::TcpListener::bind(listen)
            .await
            .with_context(|| format!("listening on {listen}"))?;
        let addr = listener.local_addr()?;
        // Tests and scripts read this line to learn the port when started on port 0.
        println!("listening on http://{addr}");
        tracing::info!(%addr, "madadkar-server listening");
        madadkar_server::serve_with(listener, Arc::new(storage), limits, guards, async {
            let _ = tokio::signal::ctrl_c().await;
        })
        .await?;
        Ok(())
    })
}
