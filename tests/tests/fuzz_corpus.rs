//! Replays every committed fuzz input (`fuzz/corpus/<target>/*`, the seeds and what the
//! fuzzer kept, and `fuzz/regressions/<target>/*`, inputs that once crashed a target) through
//! the very functions the cargo-fuzz targets call, on stable Rust. It proves in CI that the
//! harness still builds against the current APIs and that no fixed crasher comes back.

use std::path::{Path, PathBuf};

#[allow(dead_code)]
#[path = "../../fuzz/src/lib.rs"]
mod fuzz;

fn inputs(root: &str, target: &str) -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("..")
        .join(root)
        .join(target);
    let Ok(entries) = std::fs::read_dir(&dir) else {
        return Vec::new();
    };
    let mut files: Vec<PathBuf> = entries
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.is_file())
        .collect();
    files.sort();
    files
}

/// Runs one target on every file; returns the files it panics on.
fn replay(body: fn(&[u8]), files: &[PathBuf]) -> Vec<String> {
    let mut panics = Vec::new();
    for file in files {
        let data = std::fs::read(file).unwrap_or_else(|e| panic!("{}: {e}", file.display()));
        if std::panic::catch_unwind(|| body(&data)).is_err() {
            panics.push(file.display().to_string());
        }
    }
    panics
}

#[test]
fn every_seed_corpus_replays_clean() {
    let mut total = 0;
    let mut panics = Vec::new();
    for (target, body) in fuzz::TARGETS {
        let files = inputs("fuzz/corpus", target);
        // document_ops builds its inputs from the operations it decodes; every other target
        // has seeds made from real data by `fuzz_seeds`.
        if *target != "document_ops" {
            assert!(!files.is_empty(), "no seed corpus for fuzz target {target}");
        }
        panics.extend(replay(*body, &files));
        total += files.len();
    }
    assert!(panics.is_empty(), "fuzz targets panic on {panics:#?}");
    assert!(total >= 30, "only {total} corpus inputs replayed");
}

#[test]
fn no_fixed_crasher_comes_back() {
    let mut panics = Vec::new();
    let mut total = 0;
    for (target, body) in fuzz::TARGETS {
        let files = inputs("fuzz/regressions", target);
        total += files.len();
        panics.extend(replay(*body, &files));
    }
    assert!(total >= 4, "only {total} regression inputs found");
    assert!(panics.is_empty(), "fuzz targets panic on {panics:#?}");
}

#[test]
fn the_seeds_reach_the_document_reads() {
    // A replay that stopped at the first decoder would prove little: the seeds must be real
    // frames and documents that decode, so the fuzzer starts from inputs that go deep.
    let doc = fuzz::base_document();
    assert!(doc.id().is_ok(), "the base document names its household");
    for file in inputs("fuzz/corpus", "push_frame") {
        let data = std::fs::read(&file).unwrap_or_default();
        assert!(
            madadkar_schema::wire::decode_push(&data).is_ok(),
            "{} is no push frame",
            file.display()
        );
    }
    for file in inputs("fuzz/corpus", "parse_change") {
        let data = std::fs::read(&file).unwrap_or_default();
        assert!(
            madadkar_schema::change::parse_change(&data).is_ok(),
            "{} is no change",
            file.display()
        );
    }
}
