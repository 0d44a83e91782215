//! `madadkar demo`: fill a replica with a synthetic caseload to try the program on.

use anyhow::{Result, bail};
use clap::Args;
use madadkar_client::{Store, store::today};

use crate::output::Output;

#[derive(Debug, Args)]
pub struct DemoArgs {
    #[arg(long, default_value_t = 50)]
    households: usize,
    #[arg(long, default_value_t = 1403)]
    seed: u64,
    /// Add the demo households even though this replica is enrolled with a server, which will
    /// receive them on the next sync as if they were real.
    #[arg(long)]
    allow_on_enrolled: bool,
    /// Register the first households of the seed's caseload as a second group would have:
    /// the same families, spelled differently (for trying the duplicates inbox).
    #[arg(long)]
    spelling_variants: bool,
}

pub fn run(store: &mut Store, out: &Output, args: DemoArgs) -> Result<()> {
    let status = store.sync_status()?;
    if status.enrolled && !args.allow_on_enrolled {
        bail!(
            "this replica is enrolled with {}: demo households would be sent to it as real cases \
             on the next sync. Use a separate --data-dir for a demo, or pass --allow-on-enrolled \
             if the server is a test server",
            status.server_url.as_deref().unwrap_or("a server")
        );
    }
    if store.identity().is_none() {
        store.init("مددکار نمونه", "demo laptop", None)?;
    }
    let n = if args.spelling_variants {
        madadkar_client::demo::generate_variants(store, args.households, args.seed, today())?
    } else {
        madadkar_client::demo::generate(store, args.households, args.seed, today())?
    };
    out.done(&format!("added {n} demo households"));
    Ok(())
}
