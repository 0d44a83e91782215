//! `madadkar review …` and `visit edit`: the review of visits. Supervisors list what awaits
//! review, approve, or return a visit with a comment (on one field, optionally); workers see
//! their returned visits, correct them and resubmit.

use anyhow::Result;
use clap::Subcommand;
use madadkar_client::Store;
use madadkar_client::reconcile::review::ReviewQuery;
use madadkar_schema::{Field, ReviewState};

use crate::output::{Output, jalali, local_time};

#[derive(Debug, Subcommand)]
pub enum ReviewCommand {
    /// Visits by review state: awaiting review unless --state says otherwise.
    List {
        /// awaiting, approved or returned.
        #[arg(long)]
        state: Option<String>,
        #[arg(long)]
        group: Option<String>,
        /// Visits by this worker only.
        #[arg(long)]
        worker: Option<String>,
        #[arg(long, default_value_t = 50)]
        limit: usize,
        #[arg(long, default_value_t = 0)]
        offset: usize,
    },
    /// Approve a visit (supervisors and coordinators).
    Approve {
        visit: String,
        #[arg(long, default_value = "")]
        comment: String,
    },
    /// Return a visit to its worker with a comment (supervisors and coordinators).
    Return {
        visit: String,
        #[arg(long)]
        comment: String,
        /// The visit field the comment is about: visit_date, visit_kind, observations, need,
        /// followup_date.
        #[arg(long)]
        field: Option<String>,
    },
    /// Send a corrected visit back for review.
    Resubmit {
        visit: String,
        #[arg(long, default_value = "")]
        comment: String,
    },
    /// Returned visits with the supervisor's comment: this worker's, or everyone's with --all.
    Returned {
        #[arg(long)]
        all: bool,
    },
}

pub fn run(store: &mut Store, out: &Output, cmd: ReviewCommand) -> Result<()> {
    match cmd {
        ReviewCommand::List {
            state,
            group,
            worker,
            limit,
            offset,
        } => {
            let state = state.as_deref().map(ReviewState::parse).transpose()?;
            let page = store.review_queue(&ReviewQuery {
                state,
                group,
                worker,
                limit: limit.clamp(1, 1000),
                offset,
            })?;
            out.show(&page, |page| {
                println!("{} visits", page.total);
                for v in &page.items {
                    println!(
                        "  {}  {}  {}  {}  by {}  [{}]",
                        v.visit_id,
                        jalali(Some(v.date)),
                        v.head_name,
                        v.kind,
                        v.worker_name.as_deref().unwrap_or(&v.worker_id),
                        v.state
                    );
                }
            });
        }
        ReviewCommand::Approve { visit, comment } => {
            let id = store.resolve_visit_id(&visit)?;
            store.approve_visit(id, &comment)?;
            out.done(&format!("visit {id} approved"));
        }
        ReviewCommand::Return {
            visit,
            comment,
            field,
        } => {
            let id = store.resolve_visit_id(&visit)?;
            let field = field.as_deref().map(Field::parse).transpose()?;
            store.return_visit(id, &comment, field)?;
            out.done(&format!("visit {id} returned to its worker"));
        }
        ReviewCommand::Resubmit { visit, comment } => {
            let id = store.resolve_visit_id(&visit)?;
            store.resubmit_visit(id, &comment)?;
            out.done(&format!("visit {id} sent back for review"));
        }
        ReviewCommand::Returned { all } => {
            let tasks = store.returned_visits(all)?;
            out.show(&tasks, |tasks| {
                if tasks.is_empty() {
                    println!("no returned visits");
                }
                for t in tasks {
                    let field = t
                        .field
                        .map(|f| format!(" ({})", f.label_en()))
                        .unwrap_or_default();
                    println!(
                        "  {}  {}  {}  returned {}{field}: {}",
                        t.item.visit_id,
                        jalali(Some(t.item.date)),
                        t.item.head_name,
                        local_time(&t.returned_at),
                        t.comment
                    );
                }
            });
        }
    }
    Ok(())
}
