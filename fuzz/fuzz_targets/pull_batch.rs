//! A pull answer as the client receives it from a server it does not trust: the batch header
//! and changes frame, then every change parsed within bounds and applied.
//! The body is `madadkar_fuzz::pull_batch`, which `tests/tests/fuzz_corpus.rs` replays in CI.
#![no_main]

libfuzzer_sys::fuzz_target!(init: madadkar_fuzz::init(), |data: &[u8]| {
    madadkar_fuzz::fuzz(madadkar_fuzz::pull_batch, data)
});
