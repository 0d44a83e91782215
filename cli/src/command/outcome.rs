//! Case outcomes on the command line: plans (`plan`, `goal`, `step`), graduation
//! (`graduate`, `reenter`), the referral ledger (`referrals`), the partner directory
//! (`partners`) and reports (`report`).

use std::path::PathBuf;

use anyhow::{Context, Result, bail};
use clap::{Args, Subcommand};
use madadkar_client::forms::{GoalText, ProgressText, StepText};
use madadkar_client::report::{ReportFilterText, catalogue, export};
use madadkar_client::{Store, StoreError, store::today};
use madadkar_schema::outcome::plan::graduation;
use madadkar_schema::{GraduationCriteria, field::parse_score, parse_graduation_visits};

use crate::output::{Output, jalali};

#[derive(Debug, Subcommand)]
pub enum PlanCommand {
    /// A household's plan: goals, steps and their progress, and whether graduation is proposed.
    Show { household: String },
    /// When the plan counts as achieved (supervisors and coordinators).
    Criteria {
        household: String,
        /// The highest need score allowed on the last visits (0–4; default 1).
        #[arg(long)]
        threshold: String,
        /// How many consecutive assessed visits must stay at or below it (default 2).
        #[arg(long)]
        visits: String,
    },
}

#[derive(Debug, Subcommand)]
pub enum GoalCommand {
    /// Add a goal to a household's plan.
    Add {
        household: String,
        /// income, employment, housing, health, education, food or skills.
        #[arg(long)]
        domain: String,
        #[arg(long)]
        title: String,
    },
}

#[derive(Debug, Subcommand)]
pub enum StepCommand {
    /// Add a step to a goal.
    Add {
        household: String,
        /// The goal's id or the start of it (`plan show` lists them).
        goal: String,
        #[arg(long)]
        what: String,
        /// worker, partner or household (partner when --partner is given, else worker).
        #[arg(long)]
        owner: Option<String>,
        /// The partner's code (`madadkar partners`).
        #[arg(long)]
        partner: Option<String>,
        /// Jalali or ISO.
        #[arg(long)]
        target: Option<String>,
    },
    /// Record progress on a step (on a visit with --visit).
    Update {
        /// The step's id or the start of it.
        step: String,
        /// planned, in_progress, done or dropped.
        #[arg(long)]
        status: String,
        #[arg(long, default_value = "")]
        comment: String,
        /// The visit it was recorded on (its id or the start of it).
        #[arg(long)]
        visit: Option<String>,
    },
}

#[derive(Debug, Args)]
pub struct GraduateArgs {
    pub household: String,
    /// Why the household no longer needs support (kept with the graduation).
    #[arg(long, default_value = "")]
    pub reason: String,
}

#[derive(Debug, Args)]
pub struct ReenterArgs {
    pub household: String,
    #[arg(long)]
    pub reason: String,
}

#[derive(Debug, Args)]
pub struct ReferralsArgs {
    /// Referrals sat in one state longer than their partner kind allows.
    #[arg(long)]
    pub stalled: bool,
    /// One household's referrals with their ledgers.
    pub household: Option<String>,
}

#[derive(Debug, Args)]
pub struct PartnersArgs {
    /// Replace this replica's partner directory with a JSON list (what `madadkar-server partner
    /// list --json` prints), for a replica set up without a server; a sync replaces it again
    /// with the server's.
    #[arg(long)]
    pub import: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct ReportArgs {
    /// The report's code, or `list` for the catalogue.
    pub name: String,
    #[arg(long)]
    pub group: Option<String>,
    #[arg(long)]
    pub district: Option<String>,
    #[arg(long)]
    pub worker: Option<String>,
    /// Jalali (1404-01-01) or ISO.
    #[arg(long)]
    pub from: Option<String>,
    #[arg(long)]
    pub to: Option<String>,
    /// The cohort report's households: ids or id starts, separated by commas or spaces.
    #[arg(long)]
    pub cohort: Option<String>,
    /// table (the terminal), csv or xlsx.
    #[arg(long, default_value = "table")]
    pub format: String,
    /// Where to write csv or xlsx (default: the report's name and today's date, here).
    #[arg(long)]
    pub output: Option<PathBuf>,
    /// English headers in the terminal table.
    #[arg(long)]
    pub english: bool,
}

pub fn plan(store: &mut Store, out: &Output, cmd: PlanCommand) -> Result<()> {
    match cmd {
        PlanCommand::Show { household } => {
            let id = store.resolve_household_id(&household)?;
            let plan = store.plan(id)?;
            out.show(&plan, |plan| {
                if plan.goals.is_empty() {
                    println!("no plan yet: add a goal with `madadkar goal add`");
                }
                for g in &plan.goals {
                    let met = if g.is_met() { "met" } else { "open" };
                    println!("goal {}  [{}]  {}  ({met})", g.id, g.domain, g.title);
                    for s in &g.steps {
                        let overdue = if plan.overdue_steps.contains(&s.id) {
                            "  OVERDUE"
                        } else {
                            ""
                        };
                        let partner = s
                            .partner
                            .as_deref()
                            .map(|p| format!(" · {p}"))
                            .unwrap_or_default();
                        println!(
                            "  step {}  {}  {}{partner}  target {}  {}{overdue}",
                            s.id,
                            s.what,
                            s.owner,
                            jalali(s.target_date),
                            s.status()
                        );
                    }
                }
                println!(
                    "criteria: every goal met, need ≤ {} on {} consecutive assessed visits",
                    plan.criteria.threshold, plan.criteria.visits
                );
                if plan.proposed {
                    println!("graduation proposed: the criteria hold (`madadkar graduate`)");
                } else {
                    for u in &plan.unmet_en {
                        println!("  not yet: {u}");
                    }
                }
            });
        }
        PlanCommand::Criteria {
            household,
            threshold,
            visits,
        } => {
            let id = store.resolve_household_id(&household)?;
            let criteria = GraduationCriteria {
                threshold: parse_score(&threshold)?,
                visits: parse_graduation_visits(&visits)?,
            };
            store.set_graduation_criteria(id, criteria)?;
            out.done("graduation criteria set");
        }
    }
    Ok(())
}

pub fn goal(store: &mut Store, out: &Output, cmd: GoalCommand) -> Result<()> {
    let GoalCommand::Add {
        household,
        domain,
        title,
    } = cmd;
    let id = store.resolve_household_id(&household)?;
    let goal = GoalText {
        domain: Some(domain),
        title: Some(title),
    }
    .to_new()?;
    out.created("goal", store.add_goal(id, &goal)?);
    Ok(())
}

pub fn step(store: &mut Store, out: &Output, cmd: StepCommand) -> Result<()> {
    match cmd {
        StepCommand::Add {
            household,
            goal,
            what,
            owner,
            partner,
            target,
        } => {
            let id = store.resolve_household_id(&household)?;
            let plan = store.plan(id)?;
            let goal = super::entity_id("goal", &goal, plan.goals.iter().map(|g| &g.id))?;
            let step = StepText {
                what: Some(what),
                owner,
                partner,
                target_date: target,
            }
            .to_new()?;
            out.created("step", store.add_step(id, goal, &step)?);
        }
        StepCommand::Update {
            step,
            status,
            comment,
            visit,
        } => {
            let (household, step) = store.resolve_step(&step)?;
            let visit = match visit {
                Some(v) => Some(store.resolve_visit_id(&v)?),
                None => None,
            };
            let (_, update) = ProgressText {
                step: Some(step.to_string()),
                status: Some(status),
                comment: Some(comment),
            }
            .to_update(visit)?;
            store.update_step(household, step, &update)?;
            out.done(&format!("step {step} is now {}", update.status));
        }
    }
    Ok(())
}

/// Confirms a graduation; when the criteria do not hold, says which, in Persian and English.
pub fn graduate(store: &mut Store, out: &Output, args: GraduateArgs) -> Result<()> {
    let id = store.resolve_household_id(&args.household)?;
    let household = store.shown_household(id)?;
    let check = graduation(&household);
    if !check.holds() {
        let mut lines = vec!["the graduation criteria do not hold:".to_string()];
        for (fa, en) in check.unmet_fa().iter().zip(check.unmet_en()) {
            lines.push(format!("  - {en} ({fa})"));
        }
        bail!(lines.join("\n"));
    }
    store.graduate(id, &args.reason)?;
    out.done(&format!("household {id} graduated"));
    Ok(())
}

pub fn reenter(store: &mut Store, out: &Output, args: ReenterArgs) -> Result<()> {
    let id = store.resolve_household_id(&args.household)?;
    store.reenter(id, &args.reason)?;
    out.done(&format!("household {id} is back in support"));
    Ok(())
}

pub fn referrals(store: &mut Store, out: &Output, args: ReferralsArgs) -> Result<()> {
    match (args.stalled, args.household) {
        (_, Some(household)) => {
            let id = store.resolve_household_id(&household)?;
            let ledger = store.referral_ledger(id, today())?;
            out.show(&ledger, |ledger| {
                for e in ledger {
                    let r = &e.referral;
                    let partner = e
                        .partner
                        .as_ref()
                        .map(|p| p.display_name())
                        .unwrap_or_else(|| r.target.clone());
                    let stalled = if e.stalled { "  STALLED" } else { "" };
                    println!("referral {}  {}  {partner}{stalled}", r.id, r.kind);
                    for step in &r.history {
                        let amount = step
                            .amount
                            .map(|a| format!("  {a} rials"))
                            .unwrap_or_default();
                        let reason = step
                            .reason
                            .as_deref()
                            .map(|x| format!("  ({x})"))
                            .unwrap_or_default();
                        println!(
                            "  {}  {}  by {}{amount}{reason}",
                            jalali(Some(step.date)),
                            step.status,
                            step.worker_id
                        );
                    }
                }
            });
        }
        (true, None) => {
            let stalled = store.stalled_referrals(today())?;
            out.show(&stalled, |list| {
                println!("{} stalled referrals", list.len());
                for s in list {
                    println!(
                        "  {}  {}  {}  {}  {} since {} ({} days)  household {}",
                        s.referral_id,
                        s.head_name,
                        s.partner_name.as_deref().unwrap_or("-"),
                        s.kind,
                        s.status,
                        jalali(Some(s.since)),
                        s.days,
                        s.household_id
                    );
                }
            });
        }
        (false, None) => bail!("say which: `referrals --stalled`, or `referrals HOUSEHOLD`"),
    }
    Ok(())
}

pub fn partners(store: &mut Store, out: &Output, args: PartnersArgs) -> Result<()> {
    if let Some(file) = args.import {
        let text = std::fs::read_to_string(&file)
            .with_context(|| format!("reading {}", file.display()))?;
        let list: Vec<madadkar_schema::Partner> = serde_json::from_str(&text)
            .with_context(|| format!("{} is not a JSON list of partners", file.display()))?;
        store.set_partners(&list)?;
        out.done(&format!("{} partners in the directory", list.len()));
        return Ok(());
    }
    let list = store.partners()?;
    out.show(&list, |list| {
        if list.is_empty() {
            println!("no partners yet: the directory arrives with a sync");
        }
        for p in list {
            let retired = if p.active { "" } else { "  (retired)" };
            println!("{}  {}  {}{retired}", p.code, p.kind, p.display_name());
        }
    });
    Ok(())
}

pub fn report(store: &mut Store, out: &Output, args: ReportArgs) -> Result<()> {
    if args.name == "list" {
        let list = catalogue();
        out.show(&list, |list| {
            for r in list {
                println!("{:<24} {}", r.code, r.title_en);
            }
        });
        return Ok(());
    }
    let filter = ReportFilterText {
        group: args.group,
        district: args.district,
        worker: args.worker,
        from: args.from,
        to: args.to,
        cohort: args.cohort,
    }
    .to_filter()?;
    let table = store.report(&args.name, &filter, today())?;
    let (bytes, extension) = match args.format.as_str() {
        "table" => {
            out.show(&table, |t| print!("{}", export::to_text(t, args.english)));
            return Ok(());
        }
        "csv" => (export::to_csv(&table), "csv"),
        "xlsx" => (
            export::to_xlsx(&table).map_err(|e| StoreError::Bundle(e.to_string()))?,
            "xlsx",
        ),
        other => bail!("unknown --format {other:?}: table, csv or xlsx"),
    };
    let path = args
        .output
        .unwrap_or_else(|| PathBuf::from(export::file_name(&table, extension, today())));
    std::fs::write(&path, bytes).with_context(|| format!("writing {}", path.display()))?;
    out.done(&format!(
        "{} rows written to {}",
        table.rows.len(),
        path.display()
    ));
    Ok(())
}
