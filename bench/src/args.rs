//! The command line of `madadkar-bench`.

use std::path::PathBuf;

use clap::Parser;

#[derive(Debug, Parser)]
#[command(about = "Province-scale benchmarks of Madadkar")]
pub struct Args {
    /// Households in the synthetic province.
    #[arg(long, default_value_t = 23_000)]
    pub households: usize,
    /// Field workers syncing at once in the concurrency test.
    #[arg(long, default_value_t = 200)]
    pub workers: usize,
    /// Samples per timed operation.
    #[arg(long, default_value_t = 300)]
    pub samples: usize,
    #[arg(long, default_value_t = 1403)]
    pub seed: u64,
    /// Write the Markdown report here.
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Run only the duplicate-matching rows (detection, the registration check, precision and
    /// recall): pure computation, no server or store, a few seconds.
    #[arg(long)]
    pub matching: bool,
    /// Run only the outcome report rows, on a store generated locally (no server).
    #[arg(long)]
    pub reports: bool,
    /// With --reports: keep the generated store in this directory, and reuse it when it is
    /// already there (for profiling the reports without generating the province again).
    #[arg(long)]
    pub store: Option<PathBuf>,
    /// Run only the rows about the store and sync (first sync, no-op and incremental sync, local
    /// writes and reads, memory and disk): no load test, reports or matching rows.
    #[arg(long)]
    pub store_only: bool,
    /// Keep the work directory (the coordinator's store, the plain copy) here, for profiling.
    #[arg(long)]
    pub keep: Option<PathBuf>,
    /// Print the store in this directory (a kept coordinator's) by table, and nothing else.
    #[arg(long)]
    pub breakdown: Option<PathBuf>,
    /// Train the dictionary stored snapshots are compressed with (`client/src/snapshot.dict`)
    /// on generated households, write it here, and nothing else.
    #[arg(long)]
    pub train_dictionary: Option<PathBuf>,
    /// Labelled pairs the matching quality rows are measured on.
    #[arg(long, default_value_t = 3_000)]
    pub pairs: usize,
}
