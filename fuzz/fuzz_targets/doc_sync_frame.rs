//! A per-household sync round as the server receives it: the frame, the Automerge sync message
//! inside it, and that message taken into a real household document, which is then read.
//! The body is `madadkar_fuzz::doc_sync_frame`, which `tests/tests/fuzz_corpus.rs` replays in CI.
#![no_main]

libfuzzer_sys::fuzz_target!(init: madadkar_fuzz::init(), |data: &[u8]| {
    madadkar_fuzz::fuzz(madadkar_fuzz::doc_sync_frame, data)
});
