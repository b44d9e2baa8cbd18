//! Engine development loop over the CRS regression suite:
//! `cargo run -p rampart-waf --example crs --release [-- FILTER] [-v]`.

#[path = "../tests/crs_driver/mod.rs"]
mod crs_driver;

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let verbose = args.iter().any(|a| a == "-v");
    let filter = args.iter().find(|a| !a.starts_with('-')).map(String::as_str);
    let t0 = std::time::Instant::now();
    let engine = crs_driver::load_crs_for_tests();
    eprintln!("Loaded {} rules in {:?}.", engine.rule_count(), t0.elapsed());
    let files = crs_driver::test_files(filter);
    let t1 = std::time::Instant::now();
    let totals = crs_driver::run(&engine, &files, &crs_driver::excused(), verbose);
    for f in &totals.files {
        if !f.failed.is_empty() || verbose {
            println!(
                "{:<12} passed {:>3} failed {:>3} skipped {:>3} {}",
                f.file,
                f.passed,
                f.failed.len(),
                f.skipped,
                f.failed.join(" ")
            );
        }
    }
    println!(
        "TOTAL passed {} failed {} skipped {} of {} ({:.2}% of judged) in {:?}",
        totals.passed,
        totals.failed,
        totals.skipped,
        totals.total(),
        totals.rate() * 100.0,
        t1.elapsed()
    );
}
