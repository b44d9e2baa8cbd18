//! Prints the analyzer's score for every file under the given paths:
//! `score<TAB>lang<TAB>path<TAB>strongest reason`. Used by bench/scan to tune the analyzer.

use std::path::{Path, PathBuf};

fn walk(p: &Path, out: &mut Vec<PathBuf>) {
    let Ok(m) = std::fs::symlink_metadata(p) else {
        return;
    };
    if m.is_dir() {
        if let Ok(rd) = std::fs::read_dir(p) {
            for e in rd.flatten() {
                walk(&e.path(), out);
            }
        }
    } else if m.is_file() {
        out.push(p.to_path_buf());
    }
}

fn main() {
    let mut files = Vec::new();
    let verbose = std::env::args().any(|a| a == "-v");
    for a in std::env::args().skip(1).filter(|a| a != "-v") {
        walk(Path::new(&a), &mut files);
    }
    for f in files {
        let Ok(bytes) = std::fs::read(&f) else { continue };
        let lang = rampart_script::Lang::from_path(&f).unwrap_or(rampart_script::Lang::Unknown);
        let t = std::time::Instant::now();
        let v = rampart_script::analyze(&bytes, lang);
        let us = t.elapsed().as_micros();
        let top = v
            .top_reasons(if verbose { 12 } else { 2 })
            .iter()
            .map(|r| format!("[{} {} L{}:{}] {}", r.signal, r.weight, r.layer, r.line, r.detail))
            .collect::<Vec<_>>()
            .join(" | ");
        println!(
            "{}\t{}\t{}\t{}\t{}",
            v.score,
            v.lang.as_str(),
            f.display(),
            top,
            us
        );
    }
}
