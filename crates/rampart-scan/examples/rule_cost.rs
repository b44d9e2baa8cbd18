//! `rule_cost DIR [--step N] [--reps R] [--top K] [--all-files] [--rules FILE.yar…]`: what
//! the built-in rule set (or the given rule files) costs on every Nth file of DIR that may
//! hold server-side code (every Nth file with `--all-files`), held in memory, in
//! thread CPU time (less sensitive to other load on the machine than wall time):
//! the whole set, an empty set (scanner overhead), the script analyzer, and each rule
//! alone minus the empty set (its atoms' and verification cost), costliest first. With
//! `--without`, each rule's cost is instead the whole set's time minus the time of the set
//! without that rule (slower and noisier, but it counts what the rule adds to the shared
//! atom automaton).

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
    } else if m.is_file() && m.len() < 32 << 20 {
        out.push(p.to_path_buf());
    }
}

fn thread_cpu() -> f64 {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: valid clock id and out-pointer.
    unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut ts) };
    ts.tv_sec as f64 + ts.tv_nsec as f64 * 1e-9
}

/// Splits rule source text into (name, text of one rule) at `rule NAME` lines.
fn split_rules(src: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let mut cur: Option<(String, String)> = None;
    for line in src.lines() {
        if let Some(rest) = line.strip_prefix("rule ") {
            if let Some(r) = cur.take() {
                out.push(r);
            }
            let name = rest.split_whitespace().next().unwrap_or("").to_string();
            cur = Some((name, String::new()));
        }
        if let Some((_, text)) = cur.as_mut() {
            text.push_str(line);
            text.push('\n');
        }
    }
    out.extend(cur);
    out
}

fn compile(src: &str) -> yara_x::Rules {
    let mut c = yara_x::Compiler::new();
    c.add_source(src).unwrap_or_else(|e| panic!("{e}"));
    c.build()
}

/// Lowest CPU time of `reps` scans of all of `data`.
fn time_rules(rules: &yara_x::Rules, data: &[Vec<u8>], reps: usize) -> f64 {
    let mut s = yara_x::Scanner::new(rules);
    (0..reps)
        .map(|_| {
            let t = thread_cpu();
            for d in data {
                let _ = s.scan(d);
            }
            thread_cpu() - t
        })
        .fold(f64::INFINITY, f64::min)
}

fn main() {
    let mut args = std::env::args().skip(1);
    let dir = PathBuf::from(args.next().expect("usage: rule_cost DIR [--step N] [--rules F…]"));
    let (mut step, mut reps, mut top, mut without, mut all_files) = (4usize, 2usize, 25usize, false, false);
    let mut rule_files = Vec::new();
    while let Some(a) = args.next() {
        match a.as_str() {
            "--step" => step = args.next().and_then(|n| n.parse().ok()).unwrap_or(4),
            "--reps" => reps = args.next().and_then(|n| n.parse().ok()).unwrap_or(2),
            "--top" => top = args.next().and_then(|n| n.parse().ok()).unwrap_or(25),
            "--without" => without = true,
            "--all-files" => all_files = true,
            "--rules" => rule_files.extend(args.by_ref().map(PathBuf::from)),
            _ => panic!("unknown argument {a}"),
        }
    }
    let mut files = Vec::new();
    walk(&dir, &mut files);
    files.sort();
    let data: Vec<(PathBuf, Vec<u8>)> = files
        .into_iter()
        .step_by(step)
        .filter_map(|f| std::fs::read(&f).ok().map(|d| (f, d)))
        .filter(|(f, d)| all_files || rampart_scan::prefilter::may_hold_server_code(f, d))
        .collect();
    let mb: usize = data.iter().map(|d| d.1.len()).sum::<usize>() >> 20;
    println!(
        "{} files, {mb} MB (every {step}th file), best of {reps}",
        data.len()
    );
    let bytes: Vec<Vec<u8>> = data.iter().map(|d| d.1.clone()).collect();

    let sources: Vec<String> = if rule_files.is_empty() {
        rampart_scan::engine::BUILTIN_RULES
            .iter()
            .map(|(_, s)| s.to_string())
            .collect()
    } else {
        rule_files
            .iter()
            .map(|f| std::fs::read_to_string(f).unwrap())
            .collect()
    };
    let all = sources.join("\n");
    let empty = time_rules(&compile(""), &bytes, reps);
    let full = time_rules(&compile(&all), &bytes, reps);
    let t = thread_cpu();
    for (p, d) in &data {
        if let Some(lang) = rampart_scan::engine::script_lang(p, d) {
            let _ = rampart_script::analyze(d, lang);
        }
    }
    let analyzer = thread_cpu() - t;
    println!("{full:8.3} s  whole rule set\n{empty:8.3} s  empty rule set\n{analyzer:8.3} s  analyzer");
    let rules: Vec<(String, String)> = sources.iter().flat_map(|s| split_rules(s)).collect();
    let mut costs: Vec<(f64, String)> = rules
        .iter()
        .map(|(name, text)| {
            let cost = if without {
                let rest: String = rules
                    .iter()
                    .filter(|(n, _)| n != name)
                    .map(|(_, t)| t.as_str())
                    .collect();
                full - time_rules(&compile(&rest), &bytes, reps)
            } else {
                time_rules(&compile(text), &bytes, reps) - empty
            };
            (cost, name.clone())
        })
        .collect();
    costs.sort_by(|a, b| b.0.total_cmp(&a.0));
    let sum: f64 = costs.iter().map(|c| c.0).sum();
    println!("{sum:8.3} s  sum of the rules' costs");
    for (c, name) in costs.iter().take(top) {
        println!("{c:8.3} s  {name}");
    }
}
