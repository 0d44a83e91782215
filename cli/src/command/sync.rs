//! `madadkar enroll`, `sync` and `status`: this replica and the committee's server.

use anyhow::{Result, bail};
use clap::Args;
use madadkar_client::Store;

use crate::output::Output;

#[derive(Debug, Args)]
pub struct EnrollArgs {
    #[arg(long)]
    server: String,
    #[arg(long)]
    code: String,
    /// This device's name, when the replica is new (never `init`ed): default the host name.
    #[arg(long)]
    device: Option<String>,
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

/// Enrols this replica; a new one is set up as the worker the code was made for.
pub fn enroll(store: &mut Store, out: &Output, args: EnrollArgs) -> Result<()> {
    let server = args.server;
    let device = match (store.identity(), args.device) {
        (None, None) => match host_name() {
            Some(name) => Some(name),
            None => bail!("this device has no host name to go by; name it with --device NAME"),
        },
        (_, given) => given,
    };
    let enrolled = store.enroll(&server, &args.code, device.as_deref())?;
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

/// The machine's host name, if it has one: `COMPUTERNAME` on Windows, the kernel's on Linux,
/// `hostname` elsewhere.
fn host_name() -> Option<String> {
    let from_env = std::env::var("COMPUTERNAME").ok();
    let from_kernel = || std::fs::read_to_string("/proc/sys/kernel/hostname").ok();
    let from_command = || {
        let out = std::process::Command::new("hostname").output().ok()?;
        out.status
            .success()
            .then(|| String::from_utf8_lossy(&out.stdout).into_owned())
    };
    from_env
        .or_else(from_kernel)
        .or_else(from_command)
        .map(|name| name.trim().to_string())
        .filter(|name| !name.is_empty() && name != "localhost")
}
