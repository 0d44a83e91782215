//! A bundle file's contents (the inner, unencrypted format): the framing, then every document
//! loaded, its id compared and read as `Store::import_bundle` does before writing anything.
//! The body is `madadkar_fuzz::bundle_file`, which `tests/tests/fuzz_corpus.rs` replays in CI.
#![no_main]

libfuzzer_sys::fuzz_target!(init: madadkar_fuzz::init(), |data: &[u8]| {
    madadkar_fuzz::fuzz(madadkar_fuzz::bundle_file, data)
});
