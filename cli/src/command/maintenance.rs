//! `madadkar check`, `rebuild-index` and `compact`: look after the local store.

use std::process::ExitCode;

use anyhow::Result;
use madadkar_client::Store;

use crate::output::Output;

pub fn rebuild_index(store: &mut Store, out: &Output) -> Result<()> {
    let n = store.rebuild_index()?;
    out.done(&format!("rebuilt the projections of {n} households"));
    Ok(())
}

/// Exits with failure when the check found problems, so scripts can act on it.
pub fn check(store: &mut Store, out: &Output) -> Result<ExitCode> {
    let report = store.check()?;
    out.check(&report);
    Ok(if report.ok() {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

pub fn compact(store: &mut Store, out: &Output) -> Result<()> {
    let n = store.compact()?;
    out.done(&format!("compacted {n} households"));
    Ok(())
}
