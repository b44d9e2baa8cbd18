#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    if let Err(e) = rampart_seclang::parse(&text, "fuzz.conf") {
        assert!(e.location.line >= 1);
    }
});
