//! Recall ratchet on the shared webshell corpus (signatures + analyzer, hash lists off).
//! Debug builds are slow, so a fixed sample (every third file) is scanned; the floors are
//! the figures reached on that sample and may only go up.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

const CORPUS: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../../shared/corpus/webshell/malicious"
);

/// Minimum detected share per language group on the sample, in percent.
const FLOORS: &[(&str, f64)] = &[
    ("php", 74.8),
    ("asp", 77.8),
    ("aspx", 73.3),
    ("jsp", 91.4),
    ("all", 77.0),
];

fn group(ext: &str) -> &'static str {
    match ext {
        "php" | "php4" | "phtml" => "php",
        "asp" | "asa" | "cer" => "asp",
        "aspx" | "ashx" | "asmx" => "aspx",
        "jsp" | "jspx" => "jsp",
        _ => "other",
    }
}

#[test]
fn recall_does_not_regress() {
    let root = Path::new(CORPUS);
    if !root.is_dir() {
        eprintln!("skipped: {CORPUS} not present");
        return;
    }
    let mut files: Vec<PathBuf> = Vec::new();
    for d in std::fs::read_dir(root).unwrap().flatten() {
        if d.path().is_dir() {
            for f in std::fs::read_dir(d.path()).unwrap().flatten() {
                files.push(f.path());
            }
        }
    }
    files.sort();
    let engine = rampart_scan::Engine::new(None).unwrap();
    let mut scanner = engine.scanner();
    let mut stats: BTreeMap<&str, (u32, u32)> = BTreeMap::new();
    for f in files.iter().step_by(3) {
        let ext = f.parent().unwrap().file_name().unwrap().to_str().unwrap();
        let bytes = std::fs::read(f).unwrap();
        let v = scanner.scan(f, &bytes);
        let hit = (v.score >= rampart_scan::DETECT) as u32;
        for g in [group(ext), "all"] {
            let e = stats.entry(g).or_insert((0, 0));
            e.0 += hit;
            e.1 += 1;
        }
    }
    for (g, (hit, n)) in &stats {
        println!("recall {g}: {hit}/{n} = {:.1}%", 100.0 * *hit as f64 / *n as f64);
    }
    for (g, floor) in FLOORS {
        let (hit, n) = stats[g];
        let pct = 100.0 * hit as f64 / n as f64;
        assert!(pct >= *floor, "recall for {g} fell to {pct:.1}% (floor {floor}%)");
    }
}
