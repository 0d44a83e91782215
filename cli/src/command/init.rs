//! `madadkar init`: names the worker and device an offline replica writes as.

use anyhow::Result;
use clap::Args;
use madadkar_client::Store;

use crate::output::Output;

#[derive(Debug, Args)]
pub struct InitArgs {
    #[arg(long)]
    worker: String,
    #[arg(long)]
    device: String,
    /// The worker's id as the committee's server knows it; a new one otherwise.
    #[arg(long)]
    worker_id: Option<String>,
}

pub fn run(store: &mut Store, out: &Output, args: InitArgs) -> Result<()> {
    let identity = store.init(&args.worker, &args.device, args.worker_id.as_deref())?;
    out.identity(&identity, store.path());
    Ok(())
}
