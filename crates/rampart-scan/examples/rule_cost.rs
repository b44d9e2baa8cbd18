//! `rule_cost DIR RULE_FILE...`: YARA-X scan time of each rule file alone over every
//! 4th file of DIR (held in memory), to find rules that slow `rampart scan` down.

use std::path::{Path, PathBuf};
use std::time::Instant;

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
    } else if m.is_file() && m.len() < 4 << 20 {
        out.push(p.to_path_buf());
    }
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let mut files = Vec::new();
    walk(Path::new(&args[0]), &mut files);
    files.sort();
    let data: Vec<Vec<u8>> = files
        .iter()
        .step_by(4)
        .filter_map(|f| std::fs::read(f).ok())
        .collect();
    let mb: usize = data.iter().map(|d| d.len()).sum::<usize>() >> 20;
    eprintln!("{} files, {mb} MB", data.len());
    for rf in &args[1..] {
        let src = std::fs::read_to_string(rf).unwrap();
        let mut c = yara_x::Compiler::new();
        c.add_source(src.as_str()).unwrap();
        let rules = c.build();
        let mut s = yara_x::Scanner::new(&rules);
        let t = Instant::now();
        for d in &data {
            let _ = s.scan(d);
        }
        println!("{:8.3} {rf}", t.elapsed().as_secs_f64());
    }
}
