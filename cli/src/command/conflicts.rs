//! `madadkar conflicts [resolve]`: fields holding values from different workers, and settling
//! one by keeping a listed value or typing a new one.

use anyhow::{Result, anyhow, bail};
use clap::{Args, Subcommand};
use madadkar_client::Store;
use madadkar_client::reconcile::inbox::ConflictFilter;
use madadkar_schema::Field;
use uuid::Uuid;

use crate::output::Output;

#[derive(Debug, Args)]
#[command(args_conflicts_with_subcommands = true)]
pub struct ConflictsArgs {
    /// Only this household's conflicts.
    household: Option<String>,
    /// Only households of this group.
    #[arg(long)]
    group: Option<String>,
    /// Only conflicts where this worker wrote a value, or in households assigned to them.
    #[arg(long)]
    worker: Option<String>,
    /// Only this field (its code, e.g. phone, national_id, birth_date).
    #[arg(long)]
    field: Option<String>,
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

pub fn run(store: &mut Store, out: &Output, args: ConflictsArgs) -> Result<()> {
    match args.command {
        Some(ConflictsCommand::Resolve {
            household,
            field,
            value,
            pick,
        }) => {
            let id = store.resolve_household_id(&household)?;
            let field: madadkar_schema::FieldPath = field.parse()?;
            let value = match (value, pick) {
                (Some(v), _) => v,
                (None, Some(n)) => picked_value(store, id, &field, n)?,
                (None, None) => bail!("give --value or --pick"),
            };
            store.resolve_conflict(id, &field, &value)?;
            out.done(&format!("{field} is now {value:?}"));
        }
        None => {
            let all = match args.household {
                Some(h) => {
                    let id = store.resolve_household_id(&h)?;
                    vec![(id, store.household(id)?.conflicts)]
                }
                None => {
                    let filter = ConflictFilter {
                        group: args.group,
                        worker: args.worker,
                        field: args.field.as_deref().map(Field::parse).transpose()?,
                    };
                    // One entry per household, its conflicts in the inbox's order.
                    let mut grouped: Vec<(Uuid, Vec<madadkar_schema::Conflict>)> = Vec::new();
                    for e in store.conflict_inbox(&filter)? {
                        match grouped.last_mut() {
                            Some((id, list)) if *id == e.household_id => list.push(e.conflict),
                            _ => grouped.push((e.household_id, vec![e.conflict])),
                        }
                    }
                    grouped
                }
            };
            out.conflicts(&all);
        }
    }
    Ok(())
}

/// The `n`th (from 1) of the values `field` holds, as `conflicts` lists them.
fn picked_value(
    store: &Store,
    id: Uuid,
    field: &madadkar_schema::FieldPath,
    n: usize,
) -> Result<String> {
    let details = store.household(id)?;
    let conflict = details
        .conflicts
        .iter()
        .find(|c| c.path == *field)
        .ok_or_else(|| anyhow!("{field} holds no conflicting values in this household"))?;
    conflict
        .values
        .get(n.wrapping_sub(1))
        .map(|v| v.value.clone())
        .ok_or_else(|| anyhow!("--pick must be between 1 and {}", conflict.values.len()))
}
