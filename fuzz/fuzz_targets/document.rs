//! A stored or received whole document: `HouseholdDoc::load`, then `read`, `conflicts`,
//! `history` and the list projection. Checksums are fixed first so mutations reach the
//! decoder rather than all failing Automerge's checksum test.
#![no_main]

use libfuzzer_sys::fuzz_target;
use madadkar_schema::HouseholdDoc;

fuzz_target!(|data: &[u8]| {
    let bytes = madadkar_fuzz::fix_checksums(data);
    if let Ok(mut doc) = HouseholdDoc::load(&bytes) {
        madadkar_fuzz::exercise(&mut doc);
        // What a replica writes back must load again.
        let saved = doc.save();
        if let Ok(mut again) = HouseholdDoc::load(&saved) {
            madadkar_fuzz::exercise(&mut again);
        }
    }
});
