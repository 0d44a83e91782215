//! `madadkar household …` and `history`: register, edit, show, list and search households,
//! and every change made to one.

use anyhow::{Result, bail};
use clap::{Args, Subcommand};
use madadkar_client::forms::{HouseholdText, ListText};
use madadkar_client::{ListQuery, Store, StoreError, store::today};
use madadkar_schema::{HouseholdEdit, HouseholdStatus};

use super::opt;
use crate::output::Output;

#[derive(Debug, Subcommand)]
pub enum HouseholdCommand {
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
        /// Register even though the household looks like one already registered (here, or in
        /// another group according to the server).
        #[arg(long)]
        register_anyway: bool,
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
    List(ListArgs),
    /// Find households by part of a name, national ID, phone or address.
    Search {
        #[arg(required = true, num_args = 1..)]
        query: Vec<String>,
        #[arg(long, default_value_t = 20)]
        limit: usize,
    },
}

#[derive(Debug, Args)]
pub struct HeadArgs {
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
    /// The head's father's first name (on the national ID card; tells namesakes apart).
    #[arg(long = "father")]
    father_name: Option<String>,
}

#[derive(Debug, Args)]
pub struct ListArgs {
    #[arg(long)]
    district: Option<String>,
    #[arg(long)]
    status: Option<String>,
    #[arg(long)]
    worker: Option<String>,
    /// Only households of this group.
    #[arg(long)]
    group: Option<String>,
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
}

#[derive(Debug, Args)]
pub struct HistoryArgs {
    household: String,
}

pub fn run(store: &mut Store, out: &Output, cmd: HouseholdCommand) -> Result<()> {
    match cmd {
        HouseholdCommand::Add {
            head,
            district,
            address,
            phone,
            alt_phone,
            group,
            worker,
            register_anyway,
        } => {
            let text = HouseholdText {
                first_name: Some(head.first_name),
                last_name: Some(head.last_name),
                national_id: Some(head.national_id),
                birth_date: head.birth_date,
                sex: head.sex,
                district: Some(district),
                address: Some(address),
                phone,
                alt_phone,
                group,
                worker,
                father_name: head.father_name,
            };
            let (household, head) = text.to_new()?;
            if !register_anyway {
                check_not_registered(store, out, &text)?;
            }
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
        HouseholdCommand::List(args) => list(store, out, args)?,
        HouseholdCommand::Search { query, limit } => {
            out.search(&store.search(&query.join(" "), limit.clamp(1, 1000))?);
        }
    }
    Ok(())
}

/// Refuses to register a household that looks like one already registered: here (the
/// duplicate finder over this replica's households) or, when the server can be reached, in any
/// group (it answers only which groups hold the head's national ID).
fn check_not_registered(store: &Store, out: &Output, text: &HouseholdText) -> Result<()> {
    let matches = store.registration_matches(text)?;
    let (groups, server) = match text.national_id.as_deref() {
        Some(nid) => match store.lookup_national_id(nid) {
            Ok(groups) => (groups, "checked"),
            Err(StoreError::NotEnrolled) => (Vec::new(), "not enrolled"),
            Err(e) if e.is_retryable() => (Vec::new(), "not reachable"),
            Err(e) => return Err(e.into()),
        },
        None => (Vec::new(), "not asked"),
    };
    if matches.is_empty() && groups.is_empty() {
        return Ok(());
    }
    let report = serde_json::json!({
        "matches": matches,
        "registered_in_groups": groups,
        "server": server,
    });
    out.show(&report, |_| {
        println!("this household looks already registered:");
        for m in &matches {
            let why: Vec<&str> = m
                .reasons
                .iter()
                .filter(|r| r.agreement != "differs")
                .map(|r| r.label_en.as_str())
                .collect();
            println!(
                "  {}  {}  {}  ({:?}: {})",
                m.household.id,
                m.household.head_name,
                m.household.district,
                m.band,
                why.join(", ")
            );
        }
        for g in &groups {
            println!(
                "  the server: its head's national ID is registered in group {} ({})",
                g.group_name, g.group_id
            );
        }
    });
    bail!(
        "not registered: open the household above, or pass --register-anyway if this is another family"
    )
}

fn list(store: &mut Store, out: &Output, args: ListArgs) -> Result<()> {
    let filter = ListText {
        district: args.district,
        status: args.status,
        worker: args.worker,
        group: args.group,
        overdue: args.overdue,
        min_need: args.min_need.map(|n| n.to_string()),
        conflicted: args.conflicted,
        sort: Some(args.sort),
    };
    let query = ListQuery {
        offset: args.offset,
        ..filter.to_query(today(), args.limit.clamp(1, 1000))?
    };
    out.list(&store.list(&query)?);
    Ok(())
}

pub fn history(store: &mut Store, out: &Output, args: HistoryArgs) -> Result<()> {
    let id = store.resolve_household_id(&args.household)?;
    out.history(&store.history(id)?);
    Ok(())
}
