//! `madadkar`: the command-line client over the local store, for scripts, administrators and
//! teams without the desktop app. Human output by default, `--json` for scripts.

mod output;

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, Result, anyhow, bail};
use chrono::NaiveDate;
use clap::{Args, Parser, Subcommand};
use madadkar_client::{ListQuery, SortBy, Store, store::today};
use madadkar_schema::{
    HouseholdEdit, HouseholdStatus, MemberText, NationalId, NewHousehold, NewMember, NewReferral,
    NewVisit, ReferralKind, ReferralStatus, ReferralUpdate, Relation, Sex, VisitKind, parse_date,
    parse_need,
};
use uuid::Uuid;

use output::Output;

#[derive(Debug, Parser)]
#[command(
    name = "madadkar",
    version,
    about = "Madadkar: the shared, offline-first caseload of a relief committee"
)]
struct Cli {
    /// Where this replica keeps its data (default: $MADADKAR_DATA_DIR or the OS data directory).
    #[arg(long, global = true, env = "MADADKAR_DATA_DIR")]
    data_dir: Option<PathBuf>,
    /// Print machine-readable JSON instead of text.
    #[arg(long, global = true)]
    json: bool,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Name the worker and device this replica writes as (once).
    Init {
        #[arg(long)]
        worker: String,
        #[arg(long)]
        device: String,
        /// The worker's id as the committee's server knows it; a new one otherwise.
        #[arg(long)]
        worker_id: Option<String>,
    },
    /// Enrol this device with the committee's server using a one-time code.
    Enroll {
        #[arg(long)]
        server: String,
        #[arg(long)]
        code: String,
    },
    /// Send local changes to the server and receive colleagues' changes.
    Sync {
        /// Another server address than the one enrolled with.
        #[arg(long)]
        server: Option<String>,
        /// Try again this many times, with growing pauses, when the network or server fails.
        #[arg(long, default_value_t = 0)]
        retries: u32,
    },
    /// Who this replica is, and its sync state: last sync, pending changes, last error.
    Status,
    /// Register, edit, show, list and search households.
    #[command(subcommand)]
    Household(HouseholdCommand),
    /// Add and edit members of a household.
    #[command(subcommand)]
    Member(MemberCommand),
    /// Record visits.
    #[command(subcommand)]
    Visit(VisitCommand),
    /// Refer a household to a bank, job training or health care, and follow the referral.
    #[command(subcommand)]
    Referral(ReferralCommand),
    /// Follow-ups that are due soon or overdue.
    Followups {
        /// Include follow-ups due within this many days.
        #[arg(long, default_value_t = 7)]
        within: u32,
        /// Count from this day instead of today (Jalali or ISO).
        #[arg(long)]
        today: Option<String>,
    },
    /// Fields holding conflicting values from different workers, and their resolution.
    Conflicts(ConflictsArgs),
    /// Every change to a household: who, when, what.
    History { household: String },
    /// Move changes between replicas on a file (USB stick) instead of a network.
    #[command(subcommand)]
    Bundle(BundleCommand),
    /// Rebuild the list and search projections from the documents.
    RebuildIndex,
    /// Check the store: database integrity, documents, and that projections match them.
    Check,
    /// Fold every household's changes into a snapshot (history is kept).
    Compact,
    /// Fill this replica with a demo caseload.
    Demo {
        #[arg(long, default_value_t = 50)]
        households: usize,
        #[arg(long, default_value_t = 1403)]
        seed: u64,
    },
}

#[derive(Debug, Subcommand)]
enum HouseholdCommand {
    /// Register a household with its head of household.
    Add {
        #[command(flatten)]
        head: HeadArgs,
        #[arg(long)]
        district: String,
        #[arg(long)]
        address: String,
        #[arg(long)]
        phone: Option<String>,
        #[arg(long)]
        alt_phone: Option<String>,
        #[arg(long)]
        group: Option<String>,
        #[arg(long)]
        worker: Option<String>,
    },
    /// Change a household's own fields; an empty value clears an optional one.
    Edit {
        household: String,
        #[arg(long)]
        district: Option<String>,
        #[arg(long)]
        address: Option<String>,
        #[arg(long)]
        phone: Option<String>,
        #[arg(long)]
        alt_phone: Option<String>,
        /// active, suspended, graduated or closed.
        #[arg(long)]
        status: Option<String>,
        #[arg(long)]
        group: Option<String>,
        #[arg(long)]
        worker: Option<String>,
    },
    /// A household with its members, visits, referrals and conflicts.
    Show { household: String },
    /// The caseload, filtered, sorted and paged.
    List {
        #[arg(long)]
        district: Option<String>,
        #[arg(long)]
        status: Option<String>,
        #[arg(long)]
        worker: Option<String>,
        /// Only households whose follow-up is overdue.
        #[arg(long)]
        overdue: bool,
        /// Only households whose latest visit scored at least this need (0–4).
        #[arg(long)]
        min_need: Option<u8>,
        /// Only households with fields in conflict.
        #[arg(long)]
        conflicted: bool,
        /// name, district, last-visit, followup or need.
        #[arg(long, default_value = "name")]
        sort: String,
        #[arg(long, default_value_t = 50)]
        limit: usize,
        #[arg(long, default_value_t = 0)]
        offset: usize,
    },
    /// Find households by part of a name, national ID, phone or address.
    Search {
        #[arg(required = true, num_args = 1..)]
        query: Vec<String>,
        #[arg(long, default_value_t = 20)]
        limit: usize,
    },
}

#[derive(Debug, Args)]
struct HeadArgs {
    /// First name of the head of household.
    #[arg(long = "first")]
    first_name: String,
    /// Last name of the head of household.
    #[arg(long = "last")]
    last_name: String,
    #[arg(long)]
    national_id: String,
    #[arg(long)]
    birth_date: Option<String>,
    /// female or male.
    #[arg(long)]
    sex: Option<String>,
}

#[derive(Debug, Args)]
struct MemberFields {
    #[arg(long = "first")]
    first_name: Option<String>,
    #[arg(long = "last")]
    last_name: Option<String>,
    #[arg(long)]
    national_id: Option<String>,
    #[arg(long)]
    birth_date: Option<String>,
    #[arg(long)]
    sex: Option<String>,
    /// spouse, child, parent, sibling, grandchild or other.
    #[arg(long)]
    relation: Option<String>,
    #[arg(long)]
    education: Option<String>,
    #[arg(long)]
    employment: Option<String>,
    #[arg(long)]
    health_notes: Option<String>,
    #[arg(long)]
    disability_notes: Option<String>,
}

#[derive(Debug, Subcommand)]
enum MemberCommand {
    /// Add a member (first name, last name and relation are required).
    Add {
        household: String,
        #[command(flatten)]
        fields: MemberFields,
    },
    /// Change a member's fields.
    Edit {
        household: String,
        member: String,
        #[command(flatten)]
        fields: MemberFields,
    },
}

#[derive(Debug, Subcommand)]
enum VisitCommand {
    /// Record a visit with its needs assessment.
    Add {
        household: String,
        /// Jalali (1403-08-15) or ISO; default today.
        #[arg(long)]
        date: Option<String>,
        /// home, phone or office.
        #[arg(long, default_value = "home")]
        kind: String,
        #[arg(long, default_value = "")]
        observations: String,
        /// A need score, 0 (none) to 4 (critical): income=3, food=2, … (repeatable).
        #[arg(long = "need")]
        needs: Vec<String>,
        /// When to come back.
        #[arg(long)]
        followup: Option<String>,
    },
}

#[derive(Debug, Subcommand)]
enum ReferralCommand {
    /// Refer the household (status starts as `referred`).
    Add {
        household: String,
        /// bank_loan, job_training, health or other.
        #[arg(long)]
        kind: String,
        /// Where to: a bank branch, a training centre, a clinic.
        #[arg(long)]
        target: String,
        /// The visit that led to it.
        #[arg(long)]
        visit: Option<String>,
        #[arg(long)]
        date: Option<String>,
        #[arg(long, default_value = "")]
        note: String,
    },
    /// Record a referral's new status.
    Update {
        household: String,
        referral: String,
        /// referred, accepted, rejected, completed or cancelled.
        #[arg(long)]
        status: String,
        #[arg(long)]
        date: Option<String>,
        #[arg(long, default_value = "")]
        note: String,
    },
}

#[derive(Debug, Args)]
#[command(args_conflicts_with_subcommands = true)]
struct ConflictsArgs {
    /// Only this household's conflicts.
    household: Option<String>,
    #[command(subcommand)]
    command: Option<ConflictsCommand>,
}

#[derive(Debug, Subcommand)]
enum ConflictsCommand {
    /// Settle a field: keep one of its values (--pick N) or set a new one (--value V).
    Resolve {
        household: String,
        /// The field's path as `conflicts` lists it, e.g. household.phone.
        field: String,
        #[arg(long, conflicts_with = "pick", required_unless_present = "pick")]
        value: Option<String>,
        /// The number of the value to keep, as `conflicts` lists them (1, 2, …).
        #[arg(long)]
        pick: Option<usize>,
    },
}

#[derive(Debug, Subcommand)]
enum BundleCommand {
    /// Write every household, with its whole history, to FILE.
    Export { file: PathBuf },
    /// Merge the households in FILE into this replica (idempotent; all or nothing).
    Import { file: PathBuf },
}

fn default_data_dir() -> Result<PathBuf> {
    if let Some(dir) = std::env::var_os("XDG_DATA_HOME") {
        return Ok(PathBuf::from(dir).join("madadkar"));
    }
    let home =
        std::env::var_os("HOME").ok_or_else(|| anyhow!("no --data-dir given and no HOME set"))?;
    Ok(PathBuf::from(home).join(".local/share/madadkar"))
}

fn date_or_today(field: madadkar_schema::Field, input: Option<&str>) -> Result<NaiveDate> {
    Ok(match input {
        Some(d) => parse_date(field, d)?,
        None => today(),
    })
}

fn opt<T>(
    value: Option<&str>,
    parse: impl Fn(&str) -> Result<T, madadkar_schema::ValidationError>,
) -> Result<Option<T>> {
    Ok(value.map(parse).transpose()?)
}

fn member_text(f: &MemberFields) -> MemberText {
    MemberText {
        first_name: f.first_name.clone(),
        last_name: f.last_name.clone(),
        national_id: f.national_id.clone(),
        birth_date: f.birth_date.clone(),
        sex: f.sex.clone(),
        relation: f.relation.clone(),
        education: f.education.clone(),
        employment: f.employment.clone(),
        health_notes: f.health_notes.clone(),
        disability_notes: f.disability_notes.clone(),
    }
}

/// Finds an entity of a household by a unique prefix of its id.
fn entity_id<'a>(kind: &str, prefix: &str, ids: impl Iterator<Item = &'a Uuid>) -> Result<Uuid> {
    let prefix = prefix.trim().to_lowercase();
    let matches: Vec<Uuid> = ids
        .filter(|id| id.to_string().starts_with(&prefix))
        .copied()
        .collect();
    match matches.as_slice() {
        [one] if !prefix.is_empty() => Ok(*one),
        [] | [_] => bail!("no {kind} of this household matches {prefix:?}"),
        _ => bail!("{prefix:?} matches several {kind}s; type more of the id"),
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let out = Output { json: cli.json };
    match run(cli, &out) {
        Ok(code) => code,
        Err(e) => {
            out.error(&e);
            ExitCode::FAILURE
        }
    }
}

fn run(cli: Cli, out: &Output) -> Result<ExitCode> {
    let data_dir = match cli.data_dir {
        Some(dir) => dir,
        None => default_data_dir()?,
    };
    let mut store = Store::open(&data_dir)
        .with_context(|| format!("opening the store in {}", data_dir.display()))?;
    match cli.command {
        Command::Init {
            worker,
            device,
            worker_id,
        } => {
            let identity = store.init(&worker, &device, worker_id.as_deref())?;
            out.identity(&identity, store.path());
        }
        Command::Enroll { server, code } => {
            let enrolled = store.enroll(&server, &code)?;
            out.done(&format!(
                "enrolled as {} ({}, {}) with {server}",
                enrolled.worker_name, enrolled.worker_id, enrolled.role
            ));
        }
        Command::Sync { server, retries } => {
            let report = store.sync_with_retry(server.as_deref(), retries)?;
            out.sync(&report);
        }
        Command::Status => {
            let identity = store.identity().cloned();
            out.status(identity.as_ref(), &store.sync_status()?);
        }
        Command::Household(cmd) => household(&mut store, out, cmd)?,
        Command::Member(MemberCommand::Add { household, fields }) => {
            let id = store.resolve_household_id(&household)?;
            for (given, flag) in [
                (fields.first_name.is_some(), "--first is required"),
                (fields.last_name.is_some(), "--last is required"),
                (
                    fields.relation.is_some(),
                    "--relation is required (spouse, child, parent, sibling, grandchild or other)",
                ),
            ] {
                if !given {
                    bail!(flag);
                }
            }
            let member = member_text(&fields).to_new()?;
            let member_id = store.add_member(id, &member)?;
            out.created("member", member_id);
        }
        Command::Member(MemberCommand::Edit {
            household,
            member,
            fields,
        }) => {
            let id = store.resolve_household_id(&household)?;
            let current = store.household(id)?;
            let member_id = entity_id(
                "member",
                &member,
                current.household.members.iter().map(|m| &m.id),
            )?;
            store.edit_member(id, member_id, &member_text(&fields).to_edit()?)?;
            out.done(&format!("member {member_id} updated"));
        }
        Command::Visit(VisitCommand::Add {
            household,
            date,
            kind,
            observations,
            needs,
            followup,
        }) => {
            let id = store.resolve_household_id(&household)?;
            let visit = NewVisit {
                date: date_or_today(madadkar_schema::Field::VisitDate, date.as_deref())?,
                kind: VisitKind::parse(&kind)?,
                observations,
                needs: needs
                    .iter()
                    .map(|n| parse_need(n))
                    .collect::<Result<_, _>>()?,
                followup_date: opt(followup.as_deref(), |d| {
                    parse_date(madadkar_schema::Field::FollowupDate, d)
                })?,
            };
            let visit_id = store.add_visit(id, &visit)?;
            out.created("visit", visit_id);
        }
        Command::Referral(ReferralCommand::Add {
            household,
            kind,
            target,
            visit,
            date,
            note,
        }) => {
            let id = store.resolve_household_id(&household)?;
            let visit_id = match visit {
                Some(v) => {
                    let current = store.household(id)?;
                    Some(entity_id(
                        "visit",
                        &v,
                        current.household.visits.iter().map(|v| &v.id),
                    )?)
                }
                None => None,
            };
            let referral = NewReferral {
                kind: ReferralKind::parse(&kind)?,
                target,
                visit_id,
                date: date_or_today(madadkar_schema::Field::ReferralDate, date.as_deref())?,
                note,
            };
            let referral_id = store.add_referral(id, &referral)?;
            out.created("referral", referral_id);
        }
        Command::Referral(ReferralCommand::Update {
            household,
            referral,
            status,
            date,
            note,
        }) => {
            let id = store.resolve_household_id(&household)?;
            let current = store.household(id)?;
            let referral_id = entity_id(
                "referral",
                &referral,
                current.household.referrals.iter().map(|r| &r.id),
            )?;
            let update = ReferralUpdate {
                status: ReferralStatus::parse(&status)?,
                date: date_or_today(madadkar_schema::Field::StatusDate, date.as_deref())?,
                note,
            };
            store.update_referral(id, referral_id, &update)?;
            out.done(&format!("referral {referral_id} is now {}", update.status));
        }
        Command::Followups { within, today: day } => {
            let day = date_or_today(madadkar_schema::Field::Date, day.as_deref())?;
            out.followups(&store.followups(day, within)?);
        }
        Command::Conflicts(args) => match args.command {
            Some(ConflictsCommand::Resolve {
                household,
                field,
                value,
                pick,
            }) => {
                let id = store.resolve_household_id(&household)?;
                let path: madadkar_schema::FieldPath = field.parse()?;
                let value = match (value, pick) {
                    (Some(v), _) => v,
                    (None, Some(n)) => {
                        let details = store.household(id)?;
                        let conflict = details
                            .conflicts
                            .iter()
                            .find(|c| c.path == path)
                            .ok_or_else(|| {
                                anyhow!("{field} holds no conflicting values in this household")
                            })?;
                        conflict
                            .values
                            .get(n.wrapping_sub(1))
                            .map(|v| v.value.clone())
                            .ok_or_else(|| {
                                anyhow!("--pick must be between 1 and {}", conflict.values.len())
                            })?
                    }
                    (None, None) => bail!("give --value or --pick"),
                };
                store.resolve_conflict(id, &path, &value)?;
                out.done(&format!("{field} is now {value:?}"));
            }
            None => {
                let all = match args.household {
                    Some(h) => {
                        let id = store.resolve_household_id(&h)?;
                        vec![(id, store.household(id)?.conflicts)]
                    }
                    None => store.conflicts()?,
                };
                out.conflicts(&all);
            }
        },
        Command::History { household } => {
            let id = store.resolve_household_id(&household)?;
            out.history(&store.history(id)?);
        }
        Command::Bundle(BundleCommand::Export { file }) => {
            let n = store.export_bundle(&file)?;
            out.done(&format!("exported {n} households to {}", file.display()));
        }
        Command::Bundle(BundleCommand::Import { file }) => {
            let report = store.import_bundle(&file)?;
            out.import(&report);
        }
        Command::RebuildIndex => {
            let n = store.rebuild_index()?;
            out.done(&format!("rebuilt the projections of {n} households"));
        }
        Command::Check => {
            let report = store.check()?;
            out.check(&report);
            if !report.ok() {
                return Ok(ExitCode::FAILURE);
            }
        }
        Command::Compact => {
            let n = store.compact()?;
            out.done(&format!("compacted {n} households"));
        }
        Command::Demo { households, seed } => {
            if store.identity().is_none() {
                store.init("مددکار نمونه", "demo laptop", None)?;
            }
            let n = madadkar_client::demo::generate(&mut store, households, seed, today())?;
            out.done(&format!("added {n} demo households"));
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn household(store: &mut Store, out: &Output, cmd: HouseholdCommand) -> Result<()> {
    match cmd {
        HouseholdCommand::Add {
            head,
            district,
            address,
            phone,
            alt_phone,
            group,
            worker,
        } => {
            let household = NewHousehold {
                district,
                address,
                phone,
                alt_phone,
                assigned_group: group,
                assigned_worker: worker,
            };
            let head = NewMember {
                national_id: Some(NationalId::parse(&head.national_id)?),
                birth_date: opt(head.birth_date.as_deref(), |d| {
                    parse_date(madadkar_schema::Field::BirthDate, d)
                })?,
                sex: opt(head.sex.as_deref(), Sex::parse)?,
                ..NewMember::named(&head.first_name, &head.last_name, Relation::Head)
            };
            let (id, head_id) = store.add_household(&household, &head)?;
            out.household_created(id, head_id);
        }
        HouseholdCommand::Edit {
            household,
            district,
            address,
            phone,
            alt_phone,
            status,
            group,
            worker,
        } => {
            let id = store.resolve_household_id(&household)?;
            let edit = HouseholdEdit {
                district,
                address,
                phone,
                alt_phone,
                status: opt(status.as_deref(), HouseholdStatus::parse)?,
                assigned_group: group,
                assigned_worker: worker,
            };
            store.edit_household(id, &edit)?;
            out.done(&format!("household {id} updated"));
        }
        HouseholdCommand::Show { household } => {
            let id = store.resolve_household_id(&household)?;
            out.household(&store.household(id)?);
        }
        HouseholdCommand::List {
            district,
            status,
            worker,
            overdue,
            min_need,
            conflicted,
            sort,
            limit,
            offset,
        } => {
            let query = ListQuery {
                district,
                status: opt(status.as_deref(), HouseholdStatus::parse)?
                    .map(|s| s.code().to_string()),
                assigned_worker: worker,
                overdue_on: overdue.then(today),
                min_need,
                conflicted,
                sort: SortBy::parse(&sort).ok_or_else(|| {
                    anyhow!("--sort must be name, district, last-visit, followup or need")
                })?,
                limit: limit.clamp(1, 1000),
                offset,
            };
            out.list(&store.list(&query)?);
        }
        HouseholdCommand::Search { query, limit } => {
            out.search(&store.search(&query.join(" "), limit.clamp(1, 1000))?);
        }
    }
    Ok(())
}
