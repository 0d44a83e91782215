//! `madadkar merge | unmerge | not-duplicate | caseloads`: the supervisor's and coordinator's
//! reconciliation of the register (duplicates are in `duplicates.rs`).

use anyhow::{Result, bail};
use clap::Args;
use madadkar_client::remote::Target;
use madadkar_client::{ListQuery, Store};

use super::date_or_today;
use crate::output::Output;

#[derive(Debug, Args)]
pub struct PairArgs {
    /// The household that stays (its id, or the first characters of it).
    survivor: String,
    /// The household merged into it.
    other: String,
}

#[derive(Debug, Args)]
pub struct NotDuplicateArgs {
    a: String,
    b: String,
    /// Why they are two families (kept with the decision, shown to the next reviewer).
    #[arg(long)]
    reason: String,
}

#[derive(Debug, Args)]
pub struct CaseloadsArgs {
    /// Count visits and overdue follow-ups as of this day (Jalali or ISO); default today.
    #[arg(long)]
    today: Option<String>,
}

pub fn merge(store: &mut Store, out: &Output, args: PairArgs) -> Result<()> {
    let survivor = store.resolve_household_id(&args.survivor)?;
    let other = store.resolve_household_id(&args.other)?;
    store.merge_households(survivor, other)?;
    out.done(&format!(
        "household {other} merged into {survivor}; sync to send the merge"
    ));
    Ok(())
}

pub fn unmerge(store: &mut Store, out: &Output, args: PairArgs) -> Result<()> {
    let survivor = store.resolve_household_id(&args.survivor)?;
    let other = store.resolve_household_id(&args.other)?;
    store.unmerge_households(survivor, other)?;
    out.done(&format!(
        "household {other} stands on its own again; sync to send the undo"
    ));
    Ok(())
}

pub fn not_duplicate(store: &mut Store, out: &Output, args: NotDuplicateArgs) -> Result<()> {
    let a = store.resolve_household_id(&args.a)?;
    let b = store.resolve_household_id(&args.b)?;
    store.mark_not_duplicate(a, b, &args.reason)?;
    out.done(&format!("{a} and {b} are recorded as different families"));
    Ok(())
}

pub fn caseloads(store: &mut Store, out: &Output, args: CaseloadsArgs) -> Result<()> {
    let day = date_or_today(madadkar_schema::Field::Date, args.today.as_deref())?;
    let loads = store.caseloads(day)?;
    out.show(&loads, |loads| {
        println!(
            "{:<24} {:<10} {:>10} {:>8} {:>8} {:>8} {:>8} {:>6}",
            "worker", "group", "households", "visits", "overdue", "returned", "awaiting", "high"
        );
        for l in loads {
            let who = l
                .worker_name
                .clone()
                .or_else(|| l.worker_id.clone())
                .unwrap_or_else(|| "(the group)".into());
            println!(
                "{:<24} {:<10} {:>10} {:>8} {:>8} {:>8} {:>8} {:>6}",
                who,
                l.group_id.as_deref().unwrap_or("-"),
                l.households,
                l.visits_this_month,
                l.overdue_followups,
                l.returned_visits,
                l.awaiting_review,
                l.high_need
            );
        }
    });
    Ok(())
}

#[derive(Debug, Args)]
pub struct AssignArgs {
    /// Households to move (ids or their first characters); or select them with the filters.
    households: Vec<String>,
    /// Every household now assigned to this worker.
    #[arg(long)]
    from_worker: Option<String>,
    /// Every household of this district (with --from-worker: of that worker in it).
    #[arg(long)]
    district: Option<String>,
    /// Move to this worker (of the target group).
    #[arg(long)]
    worker: Option<String>,
    /// Move to this group (coordinators).
    #[arg(long)]
    group: Option<String>,
    /// Only show what would move.
    #[arg(long)]
    preview: bool,
}

pub fn assign(store: &mut Store, out: &Output, args: AssignArgs) -> Result<()> {
    let mut ids = Vec::new();
    for h in &args.households {
        ids.push(store.resolve_household_id(h)?);
    }
    if args.from_worker.is_some() || args.district.is_some() {
        let page = store.list(&ListQuery {
            assigned_worker: args.from_worker.clone(),
            district: args.district.clone(),
            limit: 5_000,
            ..Default::default()
        })?;
        for h in page.items {
            ids.push(uuid::Uuid::parse_str(&h.id)?);
        }
    }
    ids.sort();
    ids.dedup();
    if ids.is_empty() {
        bail!("no households to move: name them or select them with --from-worker / --district");
    }
    if args.worker.is_none() && args.group.is_none() {
        bail!("say where they go: --worker W, --group G, or both");
    }
    let target = Target {
        group: args.group,
        worker: args.worker,
    };
    let answer = store.reassign(&ids, &target, args.preview)?;
    out.show(&answer, |a| {
        let verb = if a.applied { "moved" } else { "would move" };
        println!(
            "{verb} {} households ({} already there)",
            a.moved, a.unchanged
        );
        for m in &a.moves {
            let place = |p: &madadkar_schema::wire::Placement| {
                format!(
                    "{}/{}",
                    p.group_id.as_deref().unwrap_or("-"),
                    p.worker_id.as_deref().unwrap_or("(group)")
                )
            };
            println!("  {}  {} -> {}", m.household, place(&m.from), place(&m.to));
        }
    });
    Ok(())
}

#[derive(Debug, Args)]
#[command(args_conflicts_with_subcommands = true)]
pub struct DuplicatesArgs {
    /// Only pairs of this band: likely or possible.
    #[arg(long)]
    band: Option<String>,
    #[command(subcommand)]
    command: Option<DuplicatesCommand>,
}

#[derive(Debug, clap::Subcommand)]
enum DuplicatesCommand {
    /// Two households side by side, with why they look alike.
    Show { a: String, b: String },
}

fn print_reasons(reasons: &[madadkar_client::reconcile::duplicates::MatchReason]) {
    for r in reasons {
        let how = match r.similarity {
            Some(s) => format!("{} {:.2}", r.agreement, s),
            None => r.agreement.clone(),
        };
        println!("      {:<22} {:<12} {:+.1}", r.label_en, how, r.weight);
    }
}

pub fn duplicates(store: &mut Store, out: &Output, args: DuplicatesArgs) -> Result<()> {
    use madadkar_client::reconcile::duplicates::PairBand;
    match args.command {
        Some(DuplicatesCommand::Show { a, b }) => {
            let a = store.resolve_household_id(&a)?;
            let b = store.resolve_household_id(&b)?;
            let c = store.compare_households(a, b)?;
            out.show(&c, |c| {
                let band = c
                    .band
                    .map(|b| format!("{b:?}"))
                    .unwrap_or_else(|| "none".into());
                println!("score {:.1}  band {band}", c.score);
                print_reasons(&c.reasons);
                for (side, d) in [("A", &c.a), ("B", &c.b)] {
                    let h = &d.household;
                    println!(
                        "{side}: household {}  group {}  registered by {} on {}",
                        h.id,
                        h.assigned_group.as_deref().unwrap_or("-"),
                        h.created_by,
                        crate::output::local_time(&h.created_at)
                    );
                    println!(
                        "   {}  {}  {}",
                        h.district,
                        h.address,
                        h.phone.as_deref().unwrap_or("-")
                    );
                    for m in &h.members {
                        println!(
                            "   member {}  {}  {}  born {}",
                            m.full_name(),
                            m.relation,
                            m.national_id.as_ref().map(|n| n.as_str()).unwrap_or("-"),
                            crate::output::jalali(m.birth_date)
                        );
                    }
                    println!(
                        "   {} visits, {} referrals",
                        h.visits.len(),
                        h.referrals.len()
                    );
                }
            });
        }
        None => {
            let band = match args.band.as_deref() {
                None => None,
                Some(b) => Some(
                    PairBand::parse(b)
                        .ok_or_else(|| anyhow::anyhow!("--band must be likely or possible"))?,
                ),
            };
            let pairs = store.duplicate_pairs(band)?;
            out.show(&pairs, |pairs| {
                println!("{} pairs", pairs.len());
                for p in pairs {
                    println!(
                        "  {:>5.1} {:<8} {}  {}  |  {}  {}",
                        p.score,
                        format!("{:?}", p.band).to_lowercase(),
                        p.a.id,
                        p.a.head_name,
                        p.b.id,
                        p.b.head_name
                    );
                    print_reasons(&p.reasons);
                }
            });
        }
    }
    Ok(())
}
