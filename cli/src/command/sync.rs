//! `madadkar enroll`, `sync` and `status`: this replica and the committee's server.

use anyhow::Result;
use clap::Args;
use madadkar_client::Store;

use crate::output::Output;

#[derive(Debug, Args)]
pub struct EnrollArgs {
    #[arg(long)]
    server: String,
    #[arg(long)]
    code: String,
}

#[derive(Debug, Args)]
pub struct SyncArgs {
    /// Another server address than the one enrolled with.
    #[arg(long)]
    server: Option<String>,
    /// Try again this many times, with growing pauses, when the network or server fails.
    #[arg(long, default_value_t = 0)]
    retries: u32,
}

pub fn enroll(store: &mut Store, out: &Output, args: EnrollArgs) -> Result<()> {
    let server = args.server;
    let enrolled = store.enroll(&server, &args.code)?;
    out.done(&format!(
        "enrolled as {} ({}, {}) with {server}",
        enrolled.worker_name, enrolled.worker_id, enrolled.role
    ));
    Ok(())
}

pub fn sync(store: &mut Store, out: &Output, args: SyncArgs) -> Result<()> {
    let report = store.sync_with_retry(args.server.as_deref(), args.retries)?;
    out.sync(&report);
    Ok(())
}

pub fn status(store: &mut Store, out: &Output) -> Result<()> {
    let identity = store.identity().cloned();
    out.status(identity.as_ref(), &store.sync_status()?);
    Ok(())
}
