//! Analyzer-only recall ratchet on the shared webshell corpus (no signatures, no hash
//! lists): every fourth file, so the debug-mode run stays short. Floors are the figures
//! reached; raise them when the analyzer improves, never lower them.

use rampart_script::{analyze, Lang};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

const CORPUS: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../../shared/corpus/webshell/malicious"
);

const FLOORS: &[(&str, f64)] = &[
    ("php", 66.8),
    ("asp", 62.3),
    ("aspx", 59.9),
    ("jsp", 85.9),
    ("all", 66.8),
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
fn analyzer_recall_does_not_regress() {
    let root = Path::new(CORPUS);
    if !root.is_dir() {
        eprintln!("skipped: {CORPUS} not present");
        return;
    }
    let mut files: Vec<PathBuf> = Vec::new();
    for d in std::fs::read_dir(root).unwrap().flatten() {
        if d.path().is_dir() {
            files.extend(std::fs::read_dir(d.path()).unwrap().flatten().map(|f| f.path()));
        }
    }
    files.sort();
    let mut stats: BTreeMap<&str, (u32, u32)> = BTreeMap::new();
    for f in files.iter().step_by(4) {
        let ext = f.parent().unwrap().file_name().unwrap().to_str().unwrap();
        let bytes = std::fs::read(f).unwrap();
        let v = analyze(&bytes, Lang::from_path(f).unwrap_or(Lang::Unknown));
        for g in [group(ext), "all"] {
            let e = stats.entry(g).or_insert((0, 0));
            e.0 += v.is_malicious() as u32;
            e.1 += 1;
        }
    }
    for (g, (hit, n)) in &stats {
        println!(
            "analyzer recall {g}: {hit}/{n} = {:.1}%",
            100.0 * *hit as f64 / *n as f64
        );
    }
    for (g, floor) in FLOORS {
        let (hit, n) = stats[g];
        let pct = 100.0 * hit as f64 / n as f64;
        assert!(
            pct >= *floor,
            "analyzer recall for {g} fell to {pct:.1}% (floor {floor}%)"
        );
    }
}
