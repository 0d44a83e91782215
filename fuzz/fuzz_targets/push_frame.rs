//! A push body as the server receives it: the changes frame, then every change parsed within
//! bounds and applied to a household, as the server's validation does.
#![no_main]

use libfuzzer_sys::fuzz_target;
use madadkar_schema::wire::decode_push;

fuzz_target!(|data: &[u8]| {
    if let Ok(changes) = decode_push(data) {
        for change in changes {
            madadkar_fuzz::take_in_change(&change.bytes);
        }
    }
});
