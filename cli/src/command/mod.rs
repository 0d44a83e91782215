//! The command groups and their dispatch: opens the store once, then hands it to the group's
//! `run`. Helpers shared by several groups (ids by prefix, optional parsing) live here too.

mod bundle;
mod conflicts;
mod demo;
mod household;
mod init;
mod maintenance;
mod member;
mod outcome;
mod passphrase;
mod quarantine;
mod reconcile;
mod referral;
mod review;
mod sync;
mod visit;

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, Result, anyhow, bail};
use chrono::NaiveDate;
use clap::Subcommand;
use madadkar_client::{Store, store::today};
use madadkar_schema::{ValidationError, parse_date};
use uuid::Uuid;

use crate::output::Output;

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Name the worker and device this replica writes as (once).
    Init(init::InitArgs),
    /// Enrol this device with the committee's server using a one-time code.
    Enroll(sync::EnrollArgs),
    /// Send local changes to the server and receive colleagues' changes.
    Sync(sync::SyncArgs),
    /// Who this replica is, and its sync state: last sync, pending changes, last error.
    Status,
    /// Register, edit, show, list and search households.
    #[command(subcommand)]
    Household(household::HouseholdCommand),
    /// Add and edit members of a household.
    #[command(subcommand)]
    Member(member::MemberCommand),
    /// Record visits.
    #[command(subcommand)]
    Visit(visit::VisitCommand),
    /// Refer a household to a bank, job training or health care, and follow the referral.
    #[command(subcommand)]
    Referral(referral::ReferralCommand),
    /// Follow-ups that are due soon or overdue.
    Followups(visit::FollowupsArgs),
    /// Fields holding conflicting values from different workers, and their resolution.
    Conflicts(conflicts::ConflictsArgs),
    /// Households whose received changes could not be applied, set aside with the reason.
    Quarantine,
    /// Every change to a household: who, when, what.
    History(household::HistoryArgs),
    /// Move changes between replicas on a file (USB stick) instead of a network.
    #[command(subcommand)]
    Bundle(bundle::BundleCommand),
    /// Rebuild the list and search projections from the documents.
    RebuildIndex,
    /// Check the store: database integrity, documents, and that projections match them.
    Check,
    /// Fold every household's changes into a snapshot (history is kept).
    Compact,
    /// Change the store's passphrase (the data is not re-encrypted; the old one stops working).
    #[command(subcommand)]
    Passphrase(passphrase::PassphraseCommand),
    /// Fill this replica with a demo caseload.
    Demo(demo::DemoArgs),
    /// The review of visits: list, approve, return with a comment, resubmit, returned visits.
    #[command(subcommand)]
    Review(review::ReviewCommand),
    /// Merge a household registered twice into the one that stays (supervisors within their
    /// group, coordinators across groups).
    Merge(reconcile::PairArgs),
    /// Undo a merge: both households stand on their own again (coordinators).
    Unmerge(reconcile::PairArgs),
    /// Record that two households proposed as duplicates are different families.
    NotDuplicate(reconcile::NotDuplicateArgs),
    /// Each worker's caseload: households, visits this month, overdue, returned, awaiting review.
    Caseloads(reconcile::CaseloadsArgs),
    /// Households that may be registered twice, ranked, with why; `show A B` compares two.
    Duplicates(reconcile::DuplicatesArgs),
    /// Move households to another worker of the group, or (coordinators) another group,
    /// through the server; --preview shows what would move.
    Assign(reconcile::AssignArgs),
    /// A household's empowerment plan; graduation criteria.
    #[command(subcommand)]
    Plan(outcome::PlanCommand),
    /// Add a goal to a household's plan.
    #[command(subcommand)]
    Goal(outcome::GoalCommand),
    /// Add a step to a goal; record progress on it.
    #[command(subcommand)]
    Step(outcome::StepCommand),
    /// Confirm a household's graduation (supervisors), refused with the reasons when the
    /// plan's criteria do not hold.
    Graduate(outcome::GraduateArgs),
    /// Bring a graduated household back into support (supervisors).
    Reenter(outcome::ReenterArgs),
    /// Referral ledgers: one household's, or every stalled referral.
    Referrals(outcome::ReferralsArgs),
    /// The partner directory (banks, training centres, clinics) referrals choose from.
    Partners(outcome::PartnersArgs),
    /// Outcome reports (`report list`), printed, or exported as CSV or XLSX.
    Report(outcome::ReportArgs),
}

/// Opens the store in `data_dir` (or the default one) with the passphrase in `passphrase_file`
/// (or `$MADADKAR_PASSPHRASE`) and runs `command` on it.
pub fn run(
    command: Command,
    data_dir: Option<PathBuf>,
    passphrase_file: Option<&Path>,
    out: &Output,
) -> Result<ExitCode> {
    let data_dir = match data_dir {
        Some(dir) => dir,
        None => default_data_dir()?,
    };
    let passphrase = crate::passphrase::read(
        "store's passphrase",
        passphrase_file,
        crate::passphrase::STORE_ENV,
        "--passphrase-file",
    )?;
    let mut store = Store::open(&data_dir, &passphrase)
        .with_context(|| format!("opening the store in {}", data_dir.display()))?;
    let store = &mut store;
    // Past the lease, only what renews it (or says where things stand) works.
    let unlocks = matches!(
        command,
        Command::Init(_) | Command::Enroll(_) | Command::Sync(_) | Command::Status
    );
    if !unlocks {
        store.require_lease(madadkar_client::custody::now())?;
    }
    match command {
        Command::Init(args) => init::run(store, out, args)?,
        Command::Enroll(args) => sync::enroll(store, out, args)?,
        Command::Sync(args) => sync::sync(store, out, args)?,
        Command::Status => sync::status(store, out)?,
        Command::Household(cmd) => household::run(store, out, cmd)?,
        Command::Member(cmd) => member::run(store, out, cmd)?,
        Command::Visit(cmd) => visit::run(store, out, cmd)?,
        Command::Referral(cmd) => referral::run(store, out, cmd)?,
        Command::Followups(args) => visit::followups(store, out, args)?,
        Command::Conflicts(args) => conflicts::run(store, out, args)?,
        Command::Quarantine => quarantine::run(store, out)?,
        Command::History(args) => household::history(store, out, args)?,
        Command::Bundle(cmd) => bundle::run(store, out, cmd)?,
        Command::RebuildIndex => maintenance::rebuild_index(store, out)?,
        Command::Check => return maintenance::check(store, out),
        Command::Compact => maintenance::compact(store, out)?,
        Command::Passphrase(cmd) => passphrase::run(store, out, cmd, &passphrase)?,
        Command::Demo(args) => demo::run(store, out, args)?,
        Command::Review(cmd) => review::run(store, out, cmd)?,
        Command::Merge(args) => reconcile::merge(store, out, args)?,
        Command::Unmerge(args) => reconcile::unmerge(store, out, args)?,
        Command::NotDuplicate(args) => reconcile::not_duplicate(store, out, args)?,
        Command::Caseloads(args) => reconcile::caseloads(store, out, args)?,
        Command::Assign(args) => reconcile::assign(store, out, args)?,
        Command::Duplicates(args) => reconcile::duplicates(store, out, args)?,
        Command::Plan(cmd) => outcome::plan(store, out, cmd)?,
        Command::Goal(cmd) => outcome::goal(store, out, cmd)?,
        Command::Step(cmd) => outcome::step(store, out, cmd)?,
        Command::Graduate(args) => outcome::graduate(store, out, args)?,
        Command::Reenter(args) => outcome::reenter(store, out, args)?,
        Command::Referrals(args) => outcome::referrals(store, out, args)?,
        Command::Partners(args) => outcome::partners(store, out, args)?,
        Command::Report(args) => outcome::report(store, out, args)?,
    }
    Ok(ExitCode::SUCCESS)
}

fn default_data_dir() -> Result<PathBuf> {
    if let Some(dir) = std::env::var_os("XDG_DATA_HOME") {
        return Ok(PathBuf::from(dir).join("madadkar"));
    }
    let home =
        std::env::var_os("HOME").ok_or_else(|| anyhow!("no --data-dir given and no HOME set"))?;
    Ok(PathBuf::from(home).join(".local/share/madadkar"))
}

/// The date typed for `field`, or today's local date when none was given.
fn date_or_today(field: madadkar_schema::Field, input: Option<&str>) -> Result<NaiveDate> {
    Ok(match input {
        Some(d) => parse_date(field, d)?,
        None => today(),
    })
}

/// Parses an optional flag's value.
fn opt<T>(
    value: Option<&str>,
    parse: impl Fn(&str) -> Result<T, ValidationError>,
) -> Result<Option<T>> {
    Ok(value.map(parse).transpose()?)
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
