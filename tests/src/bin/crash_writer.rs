//! Writes visits to one household in a loop, printing `committed <visit id>` after each commit,
//! until it is killed. The store's passphrase is taken from `MADADKAR_PASSPHRASE`. The crash test kills it with SIGKILL at random moments.

use std::io::Write;
use std::path::PathBuf;

use anyhow::{Context, Result};
use madadkar_client::{Passphrase, Store};
use madadkar_schema::{NewVisit, VisitKind};

fn main() -> Result<()> {
    let mut args = std::env::args().skip(1);
    let dir = PathBuf::from(
        args.next()
            .context("usage: crash_writer DATA_DIR HOUSEHOLD [COUNT]")?,
    );
    let household = uuid::Uuid::parse_str(&args.next().context("missing HOUSEHOLD")?)?;
    let count: usize = args
        .next()
        .map(|c| c.parse())
        .transpose()?
        .unwrap_or(usize::MAX);
    let passphrase = std::env::var("MADADKAR_PASSPHRASE").context("MADADKAR_PASSPHRASE not set")?;
    let mut store = Store::open(&dir, &Passphrase::new(&passphrase))?;
    let date = chrono::NaiveDate::from_ymd_opt(2025, 1, 1).context("date")?;
    let stdout = std::io::stdout();
    for i in 0..count {
        let visit = NewVisit {
            date,
            kind: VisitKind::Home,
            observations: format!("visit {i}: {}", "گزارش بازدید ".repeat(20)),
            needs: Default::default(),
            followup_date: None,
        };
        let id = store.add_visit(household, &visit)?;
        let mut out = stdout.lock();
        writeln!(out, "committed {id}")?;
        out.flush()?;
    }
    Ok(())
}
