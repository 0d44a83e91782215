//! A stored or received whole document: `HouseholdDoc::load`, then `read`, `conflicts`,
//! `history` and the list projection. Checksums are fixed first so mutations reach the
//! decoder rather than all failing Automerge's checksum test.
//! The body is `madadkar_fuzz::document`, which `tests/tests/fuzz_corpus.rs` replays in CI.
#![no_main]

libfuzzer_sys::fuzz_target!(init: madadkar_fuzz::init(), |data: &[u8]| {
    madadkar_fuzz::fuzz(madadkar_fuzz::document, data)
});
