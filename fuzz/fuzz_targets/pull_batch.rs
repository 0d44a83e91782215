//! A pull answer as the client receives it from a server it does not trust: the batch header
//! and changes frame, then every change parsed within bounds and applied.
#![no_main]

use libfuzzer_sys::fuzz_target;
use madadkar_schema::wire::PullBatch;

fuzz_target!(|data: &[u8]| {
    if let Ok(batch) = PullBatch::decode(data) {
        for change in batch.changes {
            madadkar_fuzz::take_in_change(&change.bytes);
        }
    }
});
