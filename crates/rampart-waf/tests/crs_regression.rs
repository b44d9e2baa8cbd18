//! Ratchet over the OWASP CRS regression suite, run in-process (no HTTP): fails if fewer tests
//! pass than the figure reached, or if any judged test fails. Excused tests are listed with a
//! reason in crates/rampart-testkit/crs-overrides.yaml (shared with the proxy's runner). `cargo run -p rampart-waf --example crs --release -- -v`
//! prints the per-file detail.

mod crs_driver;

/// Tests passed when this ratchet was last raised (of 5,082; 21 are judged by status only,
/// which only the proxy's over-the-wire runner can check).
const REACHED_PASSED: usize = 5061;

#[test]
fn crs_regression_ratchet() {
    let engine = crs_driver::load_crs_for_tests();
    let suite = crs_driver::test_files(None);
    assert!(
        suite.files.len() > 300,
        "regression tests not found ({} files)",
        suite.files.len()
    );
    let t = crs_driver::run(&engine, &suite, &crs_driver::excused(), true);
    println!(
        "CRS regression: passed {} failed {} skipped {} of {} ({:.2}% of judged)",
        t.passed,
        t.failed,
        t.skipped,
        t.total(),
        t.rate() * 100.0
    );
    let failing: Vec<String> = t.files.iter().flat_map(|f| f.failed.iter().cloned()).collect();
    assert!(failing.is_empty(), "failing CRS tests: {failing:?}");
    assert!(
        t.passed >= REACHED_PASSED,
        "only {} CRS tests pass, the ratchet is {REACHED_PASSED}",
        t.passed
    );
}
