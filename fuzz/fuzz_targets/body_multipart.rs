//! `cargo +nightly fuzz run body_multipart`: the multipart body processor (and the rules reading what it
//! produced) must never panic, hang or blow up memory on any body.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    rampart_fuzz::post_body(b"multipart/form-data; boundary=Bnd", data);
});
