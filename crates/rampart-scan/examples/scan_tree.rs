//! `scan_tree [--threads N] DIR...`: scans with the built-in engine and prints one line per
//! scored file (`score<TAB>path<TAB>rules`) and the summary on stderr. bench/scan uses it
//! to score recall and false positives without the CLI's report formatting.

use std::path::PathBuf;
use std::sync::Mutex;

fn main() {
    let mut threads = 0;
    let mut roots = Vec::new();
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        if a == "--threads" {
            threads = args.next().and_then(|n| n.parse().ok()).unwrap_or(0);
        } else {
            roots.push(PathBuf::from(a));
        }
    }
    let engine = rampart_scan::Engine::new(None).expect("built-in rules compile");
    let opts = rampart_scan::Options {
        threads,
        ..Default::default()
    };
    let out = Mutex::new(Vec::new());
    let sum = rampart_scan::scan(&roots, &engine, &opts, &Default::default(), &|d| {
        let rules: Vec<_> = d.verdict.rules.iter().map(|r| r.rule.clone()).collect();
        out.lock().unwrap().push(format!(
            "{}\t{}\t{}",
            d.verdict.score,
            d.path.display(),
            rules.join(",")
        ));
    });
    for l in out.into_inner().unwrap() {
        println!("{l}");
    }
    eprintln!(
        "files {} bytes {} elapsed_ms {} skipped {:?} errors {}",
        sum.files_scanned,
        sum.bytes_scanned,
        sum.elapsed.as_millis(),
        sum.skipped,
        sum.errors.len()
    );
}
