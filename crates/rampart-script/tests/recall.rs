//! Analyzer-only recall ratchet on the shared webshell corpus (no signatures, no hash
//! lists): every fourth file, so the debug-mode run stays short. Floors are the figures
//! reached; raise them when the analyzer improves, never lower them.

#[path = "support/corpus.rs"]
mod corpus;

use rampart_script::{analyze, Lang};

const FLOORS: &[(&str, f64)] = &[
    ("php", 85.2),
    ("asp", 88.2),
    ("aspx", 82.2),
    ("jsp", 87.3),
    ("other", 70.0),
    ("all", 85.9),
];

#[test]
fn analyzer_recall_does_not_regress() {
    corpus::assert_recall("analyzer recall", 4, FLOORS, |path, bytes| {
        analyze(bytes, Lang::from_path(path).unwrap_or(Lang::Unknown)).is_malicious()
    });
}
