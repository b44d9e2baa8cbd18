//! The go-ftw YAML test files: loading, and the fields both runners use.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Deserialize;

#[derive(Deserialize)]
struct TestFile {
    #[serde(default)]
    meta: Meta,
    #[serde(default)]
    tests: Vec<TestCase>,
    rule_id: Option<u64>,
}

#[derive(Deserialize, Default)]
struct Meta {
    enabled: Option<bool>,
}

#[derive(Deserialize)]
struct TestCase {
    test_id: u64,
    #[serde(default)]
    stages: Vec<StageWrap>,
}

/// Older test files wrap each stage in `stage:`.
#[derive(Deserialize)]
#[serde(untagged)]
enum StageWrap {
    Wrapped { stage: Stage },
    Plain(Stage),
}

#[derive(Deserialize)]
pub struct Stage {
    pub input: Input,
    #[serde(default)]
    pub output: Output,
}

#[derive(Deserialize, Default)]
pub struct Input {
    pub method: Option<String>,
    pub uri: Option<String>,
    pub version: Option<String>,
    pub headers: Option<BTreeMap<String, serde_yaml::Value>>,
    pub data: Option<String>,
    pub encoded_data: Option<String>,
    pub encoded_request: Option<String>,
    pub autocomplete_headers: Option<bool>,
}

#[derive(Deserialize, Default)]
pub struct Output {
    pub status: Option<StatusSpec>,
    #[serde(default)]
    pub log: LogSpec,
    pub expect_error: Option<bool>,
    pub response_contains: Option<String>,
    pub log_contains: Option<String>,
    pub no_log_contains: Option<String>,
    pub retry_once: Option<bool>,
}

#[derive(Deserialize)]
#[serde(untagged)]
pub enum StatusSpec {
    One(u16),
    Many(Vec<u16>),
}

#[derive(Deserialize, Default)]
pub struct LogSpec {
    pub expect_ids: Option<Vec<u64>>,
    pub no_expect_ids: Option<Vec<u64>>,
    pub match_regex: Option<String>,
    pub no_match_regex: Option<String>,
}

/// One test: "<rule>-<test>" and its stages (none when its file is disabled).
pub struct Case {
    /// Index into [`Suite::files`].
    pub file: usize,
    pub title: String,
    pub stages: Vec<Stage>,
}

pub struct Suite {
    /// Test files relative to the tests directory, in name order.
    pub files: Vec<String>,
    pub cases: Vec<Case>,
    /// Files that could not be read or parsed, with the reason.
    pub errors: Vec<String>,
}

/// Every test under `dir` (go-ftw's tests/regression/tests) whose title or file path contains
/// `filter`, in file-name order.
pub fn load_suite(dir: &Path, filter: Option<&str>) -> Suite {
    let mut paths = Vec::new();
    collect_yaml(dir, &mut paths);
    paths.sort();
    let mut suite = Suite {
        files: Vec::new(),
        cases: Vec::new(),
        errors: Vec::new(),
    };
    for p in paths {
        let rel = p.strip_prefix(dir).unwrap_or(&p).display().to_string();
        let text = match std::fs::read_to_string(&p) {
            Ok(t) => t,
            Err(e) => {
                suite.errors.push(format!("{rel}: {e}"));
                continue;
            }
        };
        if text.trim().is_empty() {
            continue;
        }
        let parsed: TestFile = match serde_yaml::from_str(&text) {
            Ok(t) => t,
            Err(e) => {
                suite.errors.push(format!("{rel}: {e}"));
                continue;
            }
        };
        let stem = p
            .file_stem()
            .and_then(|s| s.to_str())
            .unwrap_or_default()
            .to_string();
        let rule = parsed.rule_id.map(|r| r.to_string()).unwrap_or(stem);
        let enabled = parsed.meta.enabled.unwrap_or(true);
        let file = suite.files.len();
        suite.files.push(rel.clone());
        for t in parsed.tests {
            let title = format!("{rule}-{}", t.test_id);
            if filter.is_some_and(|f| !title.contains(f) && !rel.contains(f)) {
                continue;
            }
            let stages = if enabled {
                t.stages
                    .into_iter()
                    .map(|s| match s {
                        StageWrap::Wrapped { stage } | StageWrap::Plain(stage) => stage,
                    })
                    .collect()
            } else {
                Vec::new()
            };
            suite.cases.push(Case { file, title, stages });
        }
    }
    suite
}

fn collect_yaml(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(rd) = std::fs::read_dir(dir) else { return };
    for e in rd.flatten() {
        let p = e.path();
        if p.is_dir() {
            collect_yaml(&p, out);
        } else if p.extension().is_some_and(|x| x == "yaml" || x == "yml") {
            out.push(p);
        }
    }
}
