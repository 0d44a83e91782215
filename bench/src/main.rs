//! `madadkar-bench`: builds a synthetic province, measures Madadkar against baselines taken in
//! the same run (Automerge's per-document sync, plain SQLite rows) and prints a table; with
//! `--out` it also writes the Markdown report (`docs/benchmarks.md`).
//!
//! Run it in release: `cargo run --release -p madadkar-bench -- --households 23000 --out docs/benchmarks.md`;
//! `-- --matching` runs the duplicate-matching rows alone (a few seconds, no server).

mod args;
mod baseline;
mod footprint;
mod load_phase;
mod local_phase;
mod matching;
mod outcomes;
mod province;
mod report;
mod stats;
mod sync_phase;

use anyhow::Result;
use clap::Parser;

use crate::args::Args;
use crate::province::Province;

/// Runs the phases in order; the table's rows follow it.
fn main() -> Result<()> {
    let args = Args::parse();
    if args.matching {
        let m = matching::run(args.households, args.seed, args.pairs)?;
        println!("{}", report::table(&m.rows));
        println!("Matching outcome per variation:\n\n{}", m.variations);
        return Ok(());
    }
    if let Some(out) = &args.train_dictionary {
        return footprint::train_dictionary(out, args.seed);
    }
    if let Some(dir) = &args.breakdown {
        let store = madadkar_client::Store::open(dir, &madadkar_e2e::passphrase())?;
        println!("{}", footprint::breakdown(&store)?);
        return Ok(());
    }
    if args.reports {
        let work = tempfile::tempdir()?;
        let dir = args
            .store
            .clone()
            .unwrap_or_else(|| work.path().to_path_buf());
        let today = chrono::Local::now().date_naive();
        let mut store = madadkar_client::Store::open(
            &dir,
            &madadkar_client::Passphrase::new("bench passphrase"),
        )?;
        if store.identity().is_some() {
            eprintln!("bench: reusing the store in {}", dir.display());
            println!("{}", report::table(&outcomes::rows(&store, today)?));
            return Ok(());
        }
        store.init("ostan", "دفتر استان", None)?;
        store.set_partners(&madadkar_client::demo::partners())?;
        let (made, d) = stats::time(|| {
            madadkar_client::demo::generate_with(
                &mut store,
                args.households,
                args.seed,
                today,
                madadkar_client::demo::Shape::PROVINCE,
            )
        });
        eprintln!(
            "bench: {} households generated in {:.0} s",
            made?,
            d.as_secs_f64()
        );
        println!("{}", report::table(&outcomes::rows(&store, today)?));
        return Ok(());
    }
    // Removed when the run ends, unless kept for profiling.
    let temp = tempfile::tempdir()?;
    let work = match &args.keep {
        Some(dir) => {
            std::fs::create_dir_all(dir)?;
            dir.clone()
        }
        None => temp.path().to_path_buf(),
    };
    let province = Province::seed(args.households, args.seed)?;
    let n = province.households;
    let mut rows = Vec::new();

    let (mut coordinator, ids, first) =
        sync_phase::first_sync(&province, &work.join("coordinator"))?;
    // A second new laptop: the server now holds every household's snapshot.
    let (_, _, warm) = sync_phase::first_sync(&province, &work.join("coordinator-2"))?;
    let base = baseline::measure(&coordinator, &ids)?;
    rows.extend(sync_phase::first_sync_rows(n, &first, &warm, &base));
    let mut field = sync_phase::pilot_field_worker(&province)?;
    rows.extend(sync_phase::noop_rows(
        n,
        &mut coordinator,
        &mut field.store,
        &base,
    )?);
    rows.push(sync_phase::incremental_row(
        &province,
        &mut field.store,
        &mut coordinator,
    )?);

    rows.extend(local_phase::run(
        &province,
        &mut coordinator,
        &ids,
        &work,
        args.seed,
        args.samples,
    )?);
    if !args.store_only {
        rows.push(load_phase::run(&province, args.workers)?);
        rows.extend(outcomes::rows(&coordinator, province.today)?);
    }
    rows.extend(footprint::rows(
        &coordinator,
        first.client_peak_kib,
        first.server_peak_kib,
        base.json_bytes,
    )?);
    if args.store_only {
        println!("{}", report::table(&rows));
        println!("{}", footprint::breakdown(&coordinator)?);
        return Ok(());
    }

    // The matcher's own generated population: at least 100 households, whatever the province.
    let m = matching::run(n.max(100), args.seed, args.pairs)?;
    rows.extend(m.rows);

    let table = format!(
        "{}\nMatching outcome per variation (the labelled pairs of the precision and recall rows):\n\n{}",
        report::table(&rows),
        m.variations
    );
    println!("{table}");
    if let Some(out) = &args.out {
        report::write_markdown(out, &args, n, province.seeding, &table)?;
    }
    Ok(())
}
