//! `madadkar visit …` and `followups`: record visits and see the follow-ups they scheduled.

use anyhow::Result;
use clap::{Args, Subcommand};
use madadkar_client::forms::VisitText;
use madadkar_client::{Store, store::today};

use super::date_or_today;
use crate::output::Output;

#[derive(Debug, Subcommand)]
pub enum VisitCommand {
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
    /// Correct a visit (a returned one, say); an approved visit goes back to review.
    Edit {
        visit: String,
        #[arg(long)]
        date: Option<String>,
        #[arg(long)]
        kind: Option<String>,
        #[arg(long)]
        observations: Option<String>,
        /// Replaces the needs assessment: income=3, food=2, … (repeatable).
        #[arg(long = "need")]
        needs: Vec<String>,
        /// A new follow-up date; an empty value clears it.
        #[arg(long)]
        followup: Option<String>,
    },
}

#[derive(Debug, Args)]
pub struct FollowupsArgs {
    /// Include follow-ups due within this many days.
    #[arg(long, default_value_t = 7)]
    within: u32,
    /// Count from this day instead of today (Jalali or ISO).
    #[arg(long)]
    today: Option<String>,
}

pub fn run(store: &mut Store, out: &Output, cmd: VisitCommand) -> Result<()> {
    let (household, date, kind, observations, needs, followup) = match cmd {
        VisitCommand::Add {
            household,
            date,
            kind,
            observations,
            needs,
            followup,
        } => (household, date, kind, observations, needs, followup),
        VisitCommand::Edit {
            visit,
            date,
            kind,
            observations,
            needs,
            followup,
        } => {
            let id = store.resolve_visit_id(&visit)?;
            let edit = VisitText {
                date,
                kind,
                observations,
                needs,
                followup,
            }
            .to_edit()?;
            store.edit_visit(id, &edit)?;
            out.done(&format!("visit {id} corrected"));
            return Ok(());
        }
    };
    let id = store.resolve_household_id(&household)?;
    let visit = VisitText {
        date,
        kind: Some(kind),
        observations: Some(observations),
        needs,
        followup,
    }
    .to_new(today())?;
    let visit_id = store.add_visit(id, &visit)?;
    out.created("visit", visit_id);
    Ok(())
}

pub fn followups(store: &mut Store, out: &Output, args: FollowupsArgs) -> Result<()> {
    let day = date_or_today(madadkar_schema::Field::Date, args.today.as_deref())?;
    out.followups(&store.followups(day, args.within)?);
    Ok(())
}
