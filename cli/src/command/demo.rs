//! `madadkar demo`: fill a replica with a synthetic caseload to try the program on.

use anyhow::Result;
use clap::Args;
use madadkar_client::{Store, store::today};

use crate::output::Output;

#[derive(Debug, Args)]
pub struct DemoArgs {
    #[arg(long, default_value_t = 50)]
    households: usize,
    #[arg(long, default_value_t = 1403)]
    seed: u64,
}

pub fn run(store: &mut Store, out: &Output, args: DemoArgs) -> Result<()> {
    if store.identity().is_none() {
        store.init("مددکار نمونه", "demo laptop", None)?;
    }
    let n = madadkar_client::demo::generate(store, args.households, args.seed, today())?;
    out.done(&format!("added {n} demo households"));
    Ok(())
}
