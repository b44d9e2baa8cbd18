//! `cargo +nightly fuzz run body_json`: the json body processor (and the rules reading what it
//! produced) must never panic, hang or blow up memory on any body.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    rampart_fuzz::post_body(b"application/json", data);
});
