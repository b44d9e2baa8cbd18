//! `cargo +nightly fuzz run analyze`: the analyzer must never panic, hang or blow up memory
//! on any input, in any language mode.
#![no_main]

use libfuzzer_sys::fuzz_target;
use rampart_script::{analyze, Lang};

fuzz_target!(|data: &[u8]| {
    let lang = match data.first().map(|b| b % 6) {
        Some(0) => Lang::Php,
        Some(1) => Lang::Jsp,
        Some(2) => Lang::Asp,
        Some(3) => Lang::Aspx,
        Some(4) => Lang::Perl,
        _ => Lang::Unknown,
    };
    let v = analyze(data, lang);
    assert!(v.reasons.len() <= 10_000);
});
