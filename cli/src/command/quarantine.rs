//! `madadkar quarantine`: households whose pulled changes could not be applied, set aside (kept
//! as received, with the reason) so that everything else syncs; a later sync retries them.

use anyhow::Result;
use madadkar_client::Store;

use crate::output::Output;

pub fn run(store: &mut Store, out: &Output) -> Result<()> {
    out.quarantine(&store.quarantined()?);
    Ok(())
}
