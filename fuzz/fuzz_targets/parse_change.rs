//! One change's bytes: `parse_change` (size, inflation and operation bounds), then the change
//! applied to a real household and to an empty one, and both read.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    madadkar_fuzz::take_in_change(data);
});
