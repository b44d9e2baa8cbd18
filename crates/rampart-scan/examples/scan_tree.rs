//! `scan_tree [--threads N] [--rules RULE_DIR] DIR...`: scans with the built-in engine and prints one line per
//! scored file (`score<TAB>path<TAB>rule:score,…<TAB>analyzer score`) and the summary on
//! stderr. bench/scan/split-recall uses it to score recall and false positives without the
//! CLI's report formatting. `--rules` reads the rule set from RULE_DIR/*.yar instead of the
//! built-in copy, to try rule changes without rebuilding.

use std::path::PathBuf;
use std::sync::Mutex;

fn main() {
    let mut threads = 0;
    let mut roots = Vec::new();
    let mut rule_dir = None;
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        if a == "--threads" {
            threads = args.next().and_then(|n| n.parse().ok()).unwrap_or(0);
        } else if a == "--rules" {
            rule_dir = args.next().map(PathBuf::from);
        } else {
            roots.push(PathBuf::from(a));
        }
    }
    let engine = match rule_dir {
        Some(dir) => {
            let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
                .expect("rule directory")
                .map(|e| e.unwrap().path())
                .filter(|p| p.extension().is_some_and(|x| x == "yar"))
                .collect();
            files.sort();
            let set: Vec<(String, String)> = files
                .iter()
                .map(|f| (f.display().to_string(), std::fs::read_to_string(f).unwrap()))
                .collect();
            rampart_scan::Engine::with_rule_set(&set, None)
        }
        None => rampart_scan::Engine::new(None),
    }
    .unwrap_or_else(|e| panic!("{e}"));
    let opts = rampart_scan::Options {
        threads,
        ..Default::default()
    };
    let out = Mutex::new(Vec::new());
    let sum = rampart_scan::scan(&roots, &engine, &opts, &Default::default(), &|d| {
        let rules: Vec<_> = d
            .verdict
            .rules
            .iter()
            .map(|r| format!("{}:{}", r.rule, r.score))
            .collect();
        let by_rules: u32 = d.verdict.rules.iter().map(|r| r.score).sum();
        out.lock().unwrap().push(format!(
            "{}\t{}\t{}\t{}",
            d.verdict.score,
            d.path.display(),
            rules.join(","),
            d.verdict.score.saturating_sub(by_rules)
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
