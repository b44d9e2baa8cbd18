//! Recall ratchet on the shared webshell corpus (signatures + analyzer, hash lists off).
//! Debug builds are slow, so a fixed sample (every third file) is scanned; the floors are
//! the figures reached on that sample (less one file per group, since the analyzer moves
//! under the signatures) and may only go up.

#[path = "../../rampart-script/tests/support/corpus.rs"]
mod corpus;

/// Minimum detected share per language group on the sample, in percent.
const FLOORS: &[(&str, f64)] = &[
    ("php", 97.8),
    ("asp", 97.3),
    ("aspx", 98.3),
    ("jsp", 97.8),
    ("other", 85.7),
    ("all", 98.0),
];

#[test]
fn recall_does_not_regress() {
    let engine = rampart_scan::Engine::new(None).unwrap();
    let mut scanner = engine.scanner();
    corpus::assert_recall("recall", 3, FLOORS, |path, bytes| {
        scanner.scan(path, bytes).score >= rampart_scan::DETECT
    });
}
