//! A push body as the server receives it: the changes frame, then every change parsed within
//! bounds and applied to a household, as a replica that pulls them does.
//! The body is `madadkar_fuzz::push_frame`, which `tests/tests/fuzz_corpus.rs` replays in CI.
#![no_main]

libfuzzer_sys::fuzz_target!(init: madadkar_fuzz::init(), |data: &[u8]| {
    madadkar_fuzz::fuzz(madadkar_fuzz::push_frame, data)
});
