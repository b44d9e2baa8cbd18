//! The whole OWASP CRS 4 (setup + rules in name order) parses without an error.

use std::path::{Path, PathBuf};

use rampart_seclang::{load_file, Directive};

fn crs_dir() -> PathBuf {
    Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared/crs")).to_path_buf()
}

#[test]
fn parses_all_of_crs() {
    let dir = crs_dir();
    let mut files = vec![dir.join("crs-setup.conf.example")];
    let mut rules: Vec<_> = std::fs::read_dir(dir.join("rules"))
        .expect("CRS rules directory")
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "conf"))
        .collect();
    rules.sort();
    files.extend(rules);
    let (mut rule_count, mut ids) = (0, std::collections::HashSet::new());
    for f in &files {
        for d in load_file(f).unwrap_or_else(|e| panic!("{e}")) {
            if let Directive::Rule(r) = &d {
                rule_count += 1;
                let id = r
                    .actions
                    .iter()
                    .find(|a| a.name == "id")
                    .and_then(|a| a.value.clone());
                assert!(
                    ids.insert(id.clone().expect("every CRS rule has an id")),
                    "duplicate id {id:?}"
                );
            }
        }
    }
    assert!(rule_count > 600, "only {rule_count} rules");
}
