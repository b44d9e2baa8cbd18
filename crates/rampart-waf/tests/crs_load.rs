//! All of CRS 4 (setup + every rules file in name order) loads with zero errors: every regex
//! compiles, every data file is found, every action is understood.

mod crs_driver;

#[test]
fn loads_the_whole_crs() {
    let e = crs_driver::load_crs_for_tests();
    assert!(e.rule_count() > 600, "only {} rules", e.rule_count());
}
