//! `madadkar member …`: add and edit the members of a household.

use anyhow::{Result, bail};
use clap::{Args, Subcommand};
use madadkar_client::Store;
use madadkar_schema::MemberText;

use super::entity_id;
use crate::output::Output;

#[derive(Debug, Subcommand)]
pub enum MemberCommand {
    /// Add a member (first name, last name and relation are required).
    Add {
        household: String,
        #[command(flatten)]
        fields: MemberFields,
        /// Add even though the person seems to belong to another household already (someone
        /// who moved: a widow back with her parents, a married daughter).
        #[arg(long)]
        add_anyway: bool,
    },
    /// Change a member's fields.
    Edit {
        household: String,
        member: String,
        #[command(flatten)]
        fields: MemberFields,
    },
}

#[derive(Debug, Args)]
pub struct MemberFields {
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
    /// The member's father's first name (on the national ID card; it tells namesakes apart).
    #[arg(long = "father")]
    father_name: Option<String>,
}

impl From<MemberFields> for MemberText {
    fn from(f: MemberFields) -> Self {
        MemberText {
            first_name: f.first_name,
            last_name: f.last_name,
            national_id: f.national_id,
            birth_date: f.birth_date,
            sex: f.sex,
            relation: f.relation,
            education: f.education,
            employment: f.employment,
            health_notes: f.health_notes,
            disability_notes: f.disability_notes,
            father_name: f.father_name,
        }
    }
}

pub fn run(store: &mut Store, out: &Output, cmd: MemberCommand) -> Result<()> {
    match cmd {
        MemberCommand::Add {
            household,
            fields,
            add_anyway,
        } => {
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
            let text = MemberText::from(fields);
            let member = text.to_new()?;
            if !add_anyway {
                // Warned about: the same national ID elsewhere, or a likely match.
                let found: Vec<_> = store
                    .member_matches(id, &text)?
                    .into_iter()
                    .filter(|m| {
                        m.band == madadkar_client::reconcile::duplicates::PairBand::Likely
                            || m.reasons
                                .iter()
                                .any(|r| r.field == "national_id" && r.agreement == "exact")
                    })
                    .collect();
                if !found.is_empty() {
                    out.show(&found, |found| {
                        println!("this person seems to belong to another household already:");
                        for m in found {
                            println!(
                                "  {}  {}  {}",
                                m.household.id, m.household.head_name, m.household.district
                            );
                        }
                    });
                    bail!(
                        "not added: open that household, or pass --add-anyway if the person moved here"
                    );
                }
            }
            let member_id = store.add_member(id, &member)?;
            out.created("member", member_id);
        }
        MemberCommand::Edit {
            household,
            member,
            fields,
        } => {
            let id = store.resolve_household_id(&household)?;
            let current = store.household(id)?;
            let member_id = entity_id(
                "member",
                &member,
                current.household.members.iter().map(|m| &m.id),
            )?;
            store.edit_member(id, member_id, &MemberText::from(fields).to_edit()?)?;
            out.done(&format!("member {member_id} updated"));
        }
    }
    Ok(())
}
