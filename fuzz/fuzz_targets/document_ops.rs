//! Hostile but well-formed changes: another device edits a copy of a real household with
//! arbitrary Automerge operations (any key, any value type, objects where scalars belong,
//! deletions, deep nesting, text and lists), and the changes it makes travel as bytes through
//! `parse_change` into the base document, which is then read. Raw byte mutation rarely builds
//! a valid change that changes the document's meaning; this target does so on every input.
//! The body is `madadkar_fuzz::document_ops::run`, which `tests/tests/fuzz_corpus.rs` replays in CI.
#![no_main]

libfuzzer_sys::fuzz_target!(init: madadkar_fuzz::init(), |data: &[u8]| {
    madadkar_fuzz::fuzz(madadkar_fuzz::document_ops::run, data)
});
