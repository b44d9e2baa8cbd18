//! `cargo +nightly fuzz run seclang`: the SecLang parser and the engine's compile step must
//! return an error (naming a location) or an engine for any text, never panic or hang.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    match rampart_seclang::parse(text, "<fuzz>") {
        // Compiling reads the files that Include and *FromFile name; the fuzzer is kept off the disk.
        Ok(_) if !reads_files(text) => {
            let _ = rampart_waf::Engine::from_str(text, "<fuzz>");
        }
        Ok(_) => {}
        Err(e) => assert!(!e.to_string().is_empty()),
    }
});

fn reads_files(text: &str) -> bool {
    let lower = text.to_ascii_lowercase();
    lower.contains("include") || lower.contains("fromfile")
}
