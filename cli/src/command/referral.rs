//! `madadkar referral …`: refer a household elsewhere and record how the referral went.

use anyhow::Result;
use clap::Subcommand;
use madadkar_client::forms::{ReferralStepText, ReferralText};
use madadkar_client::{Store, store::today};

use super::entity_id;
use crate::output::Output;

#[derive(Debug, Subcommand)]
pub enum ReferralCommand {
    /// Refer the household to a partner of the directory (the ledger starts at `sent`).
    Add {
        household: String,
        /// bank_loan, job_training, health or other.
        #[arg(long)]
        kind: String,
        /// The partner's code (`madadkar partners` lists them).
        #[arg(long)]
        partner: Option<String>,
        /// Only for `--kind other` to somewhere not in the directory: its name.
        #[arg(long)]
        target: Option<String>,
        /// The visit that led to it.
        #[arg(long)]
        visit: Option<String>,
        #[arg(long)]
        date: Option<String>,
        #[arg(long, default_value = "")]
        note: String,
    },
    /// Record a referral's next step: received, approved, disbursed (with --amount), refused
    /// (with --reason) or withdrawn.
    Update {
        /// The referral's id or the start of it.
        referral: String,
        #[arg(long, visible_alias = "status")]
        state: String,
        /// Jalali or ISO; today when not given.
        #[arg(long)]
        date: Option<String>,
        /// Rials paid out (for `disbursed`), any digits, separators allowed.
        #[arg(long)]
        amount: Option<String>,
        /// Why the partner refused (for `refused`).
        #[arg(long)]
        reason: Option<String>,
        #[arg(long, default_value = "")]
        note: String,
    },
}

pub fn run(store: &mut Store, out: &Output, cmd: ReferralCommand) -> Result<()> {
    match cmd {
        ReferralCommand::Add {
            household,
            kind,
            partner,
            target,
            visit,
            date,
            note,
        } => {
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
            let referral = ReferralText {
                kind: Some(kind),
                partner,
                target,
                visit_id: visit_id.map(|v| v.to_string()),
                date,
                note: Some(note),
            }
            .to_new(today())?;
            let referral_id = store.add_referral(id, &referral)?;
            out.created("referral", referral_id);
        }
        ReferralCommand::Update {
            referral,
            state,
            date,
            amount,
            reason,
            note,
        } => {
            let (household, referral_id) = store.resolve_referral(&referral)?;
            let update = ReferralStepText {
                status: Some(state),
                date,
                note: Some(note),
                amount,
                reason,
            }
            .to_update(today())?;
            store.update_referral(household, referral_id, &update)?;
            out.done(&format!("referral {referral_id} is now {}", update.status));
        }
    }
    Ok(())
}
