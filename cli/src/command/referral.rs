//! `madadkar referral …`: refer a household elsewhere and record how the referral went.

use anyhow::Result;
use clap::Subcommand;
use madadkar_client::forms::ReferralText;
use madadkar_client::{Store, store::today};
use madadkar_schema::{ReferralStatus, ReferralUpdate};

use super::{date_or_today, entity_id};
use crate::output::Output;

#[derive(Debug, Subcommand)]
pub enum ReferralCommand {
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

pub fn run(store: &mut Store, out: &Output, cmd: ReferralCommand) -> Result<()> {
    match cmd {
        ReferralCommand::Add {
            household,
            kind,
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
                target: Some(target),
                visit_id: visit_id.map(|v| v.to_string()),
                date,
                note: Some(note),
            }
            .to_new(today())?;
            let referral_id = store.add_referral(id, &referral)?;
            out.created("referral", referral_id);
        }
        ReferralCommand::Update {
            household,
            referral,
            status,
            date,
            note,
        } => {
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
    }
    Ok(())
}
