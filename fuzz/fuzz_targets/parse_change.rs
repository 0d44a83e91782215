//! One change's bytes: `parse_change` (size, inflation and operation bounds), then the change
//! applied to a real household and to an empty one, and both read.
//! The body is `madadkar_fuzz::parse_change_target`, which `tests/tests/fuzz_corpus.rs` replays in CI.
#![no_main]

libfuzzer_sys::fuzz_target!(init: madadkar_fuzz::init(), |data: &[u8]| {
    madadkar_fuzz::fuzz(madadkar_fuzz::parse_change_target, data)
});
