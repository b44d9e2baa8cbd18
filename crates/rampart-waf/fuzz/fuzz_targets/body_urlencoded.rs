#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    rampart_waf_fuzz::run("application/x-www-form-urlencoded", data);
});
