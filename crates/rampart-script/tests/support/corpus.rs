//! The recall ratchet shared by the analyzer's test (rampart-script) and the scanner's
//! (rampart-scan, which includes this file by path): walk a fixed sample of the shared
//! webshell corpus, tally detections per language group, and hold each group to its floor.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

const CORPUS: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../../shared/corpus/webshell/malicious"
);

fn group(ext: &str) -> &'static str {
    match ext {
        "php" | "php4" | "phtml" => "php",
        "asp" | "asa" | "cer" => "asp",
        "aspx" | "ashx" | "asmx" => "aspx",
        "jsp" | "jspx" => "jsp",
        _ => "other",
    }
}

/// Runs `detect` on every `step`-th corpus file (in name order) and asserts each group's
/// detected share (percent) is at least its floor in `floors`. `label` names the
/// detector in the printed figures and failure messages. Skips when the corpus is absent.
pub fn assert_recall(
    label: &str,
    step: usize,
    floors: &[(&str, f64)],
    mut detect: impl FnMut(&Path, &[u8]) -> bool,
) {
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
    for f in files.iter().step_by(step) {
        let ext = f.parent().unwrap().file_name().unwrap().to_str().unwrap();
        let bytes = std::fs::read(f).unwrap();
        let hit = detect(f, &bytes) as u32;
        for g in [group(ext), "all"] {
            let e = stats.entry(g).or_insert((0, 0));
            e.0 += hit;
            e.1 += 1;
        }
    }
    for (g, (hit, n)) in &stats {
        println!("{label} {g}: {hit}/{n} = {:.1}%", 100.0 * *hit as f64 / *n as f64);
    }
    for (g, floor) in floors {
        let (hit, n) = stats[g];
        let pct = 100.0 * hit as f64 / n as f64;
        assert!(
            pct >= *floor,
            "{label} for {g} fell to {pct:.1}% (floor {floor}%)"
        );
    }
}
