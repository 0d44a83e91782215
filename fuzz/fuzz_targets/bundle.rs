//! A bundle file's contents (the inner, unencrypted format): the framing, then every document
//! loaded, its id compared and read as `Store::import_bundle` does before writing anything.
#![no_main]

use libfuzzer_sys::fuzz_target;
use madadkar_client::bundle;
use madadkar_schema::HouseholdDoc;

fuzz_target!(|data: &[u8]| {
    let Ok(documents) = bundle::decode(data) else {
        return;
    };
    for (declared, bytes) in documents {
        // Fixed checksums let mutations inside a document reach the decoder.
        let bytes = madadkar_fuzz::fix_checksums(bytes);
        let Ok(mut doc) = HouseholdDoc::load(&bytes) else {
            continue;
        };
        if doc.id().ok() == Some(declared) {
            madadkar_fuzz::exercise(&mut doc);
        }
    }
});
