//! In-process CRS regression driver: builds transactions straight from the go-ftw YAML tests and
//! judges each stage by the rule ids the engine logs. (The over-the-wire runner lives with the
//! proxy; this is the engine's fast development loop.)

#![allow(dead_code)]

use std::collections::{BTreeMap, HashSet};
use std::path::{Path, PathBuf};

use rampart_waf::{ConnInfo, Engine};
use serde::Deserialize;

pub fn crs_dir() -> PathBuf {
    Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared/crs")).to_path_buf()
}

/// The test-only rule from tests/regression/README.md.
pub const TEST_SETUP_RULE: &str = r#"SecAction "id:900005,\
  phase:1,\
  nolog,\
  pass,\
  ctl:ruleEngine=DetectionOnly,\
  ctl:ruleRemoveById=910000,\
  setvar:tx.blocking_paranoia_level=4,\
  setvar:tx.crs_validate_utf8_encoding=1,\
  setvar:tx.arg_name_length=100,\
  setvar:tx.arg_length=400,\
  setvar:tx.total_arg_length=64000,\
  setvar:tx.max_num_args=255,\
  setvar:tx.max_file_size=64100,\
  setvar:tx.combined_file_sizes=65535"
"#;

/// recommended.conf + crs-setup.conf.example + the test setup rule + rules/*.conf in name order.
pub fn load_crs_for_tests() -> Engine {
    let crs = crs_dir();
    let dir = std::env::temp_dir().join(format!("rampart-waf-crs-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let setup_rule = dir.join("900005-test-setup.conf");
    std::fs::write(&setup_rule, TEST_SETUP_RULE).unwrap();
    let mut files = vec![
        Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/conf/recommended.conf")).to_path_buf(),
        crs.join("crs-setup.conf.example"),
        setup_rule,
    ];
    files.extend(crs_rule_files());
    let e = Engine::from_files(&files).unwrap_or_else(|e| panic!("CRS does not load: {e}"));
    let _ = std::fs::remove_dir_all(&dir);
    e
}

/// recommended.conf with SecRuleEngine On + crs-setup.conf.example + rules: CRS as deployed at
/// paranoia level 1, blocking.
pub fn load_crs_pl1() -> Engine {
    let crs = crs_dir();
    let dir = std::env::temp_dir().join(format!("rampart-waf-pl1-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let on = dir.join("engine-on.conf");
    std::fs::write(&on, "SecRuleEngine On\n").unwrap();
    let mut files = vec![
        Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/conf/recommended.conf")).to_path_buf(),
        on,
        crs.join("crs-setup.conf.example"),
    ];
    files.extend(crs_rule_files());
    let e = Engine::from_files(&files).unwrap_or_else(|e| panic!("CRS does not load: {e}"));
    let _ = std::fs::remove_dir_all(&dir);
    e
}

pub fn crs_rule_files() -> Vec<PathBuf> {
    rampart_waf::conf_files_in(&crs_dir().join("rules")).expect("CRS rules directory")
}

#[derive(Deserialize)]
struct TestFile {
    #[serde(default)]
    rule_id: Option<u64>,
    #[serde(default)]
    tests: Vec<TestCase>,
}

#[derive(Deserialize)]
struct TestCase {
    test_id: u64,
    stages: Vec<Stage>,
}

#[derive(Deserialize)]
struct Stage {
    input: Input,
    output: Output,
}

#[derive(Deserialize, Default)]
struct Input {
    method: Option<String>,
    uri: Option<String>,
    version: Option<String>,
    #[serde(default)]
    headers: BTreeMap<String, serde_yaml::Value>,
    data: Option<String>,
    encoded_request: Option<String>,
    autocomplete_headers: Option<bool>,
}

#[derive(Deserialize, Default)]
struct Output {
    log: Option<LogOut>,
    status: Option<serde_yaml::Value>,
    expect_error: Option<bool>,
}

#[derive(Deserialize, Default)]
struct LogOut {
    #[serde(default)]
    expect_ids: Vec<u64>,
    #[serde(default)]
    no_expect_ids: Vec<u64>,
    match_regex: Option<String>,
    no_match_regex: Option<String>,
}

#[derive(Deserialize)]
struct Overrides {
    #[serde(default)]
    excused: Vec<Excuse>,
}

#[derive(Deserialize)]
struct Excuse {
    rule_id: u64,
    test_ids: Vec<u64>,
    reason: String,
}

/// Tests excused in `tests/crs-overrides.yaml`, as (rule id, test id).
pub fn excused() -> HashSet<(u64, u64)> {
    let p = Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/crs-overrides.yaml"));
    let text = std::fs::read_to_string(p).expect("crs-overrides.yaml");
    let o: Overrides = serde_yaml::from_str(&text).expect("crs-overrides.yaml parses");
    let mut out = HashSet::new();
    for e in o.excused {
        assert!(
            !e.reason.trim().is_empty(),
            "override for {} has no reason",
            e.rule_id
        );
        for t in e.test_ids {
            out.insert((e.rule_id, t));
        }
    }
    out
}

#[derive(Debug, Default, Clone)]
pub struct FileResult {
    pub file: String,
    pub passed: usize,
    pub failed: Vec<String>,
    pub skipped: usize,
}

#[derive(Debug, Default)]
pub struct Totals {
    pub passed: usize,
    pub failed: usize,
    pub skipped: usize,
    pub files: Vec<FileResult>,
}

impl Totals {
    pub fn total(&self) -> usize {
        self.passed + self.failed + self.skipped
    }

    /// Pass rate over the tests that were judged (passed + failed).
    pub fn rate(&self) -> f64 {
        self.passed as f64 / (self.passed + self.failed).max(1) as f64
    }
}

pub fn test_files(filter: Option<&str>) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let root = crs_dir().join("tests/regression/tests");
    let mut dirs = vec![root];
    while let Some(d) = dirs.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                dirs.push(p);
            } else if p.extension().is_some_and(|x| x == "yaml") {
                out.push(p);
            }
        }
    }
    out.sort();
    if let Some(f) = filter {
        out.retain(|p| p.to_string_lossy().contains(f));
    }
    out
}

/// Runs every test of the files; `verbose` prints each failing test's ids.
pub fn run(engine: &Engine, files: &[PathBuf], excused: &HashSet<(u64, u64)>, verbose: bool) -> Totals {
    let mut t = Totals::default();
    for f in files {
        let text = std::fs::read_to_string(f).unwrap();
        let tf: TestFile = match serde_yaml::from_str(&text) {
            Ok(tf) => tf,
            Err(e) => panic!("{}: {e}", f.display()),
        };
        let rule_id = tf.rule_id.unwrap_or_else(|| {
            f.file_stem()
                .and_then(|s| s.to_str())
                .and_then(|s| s.parse().ok())
                .unwrap_or(0)
        });
        let mut r = FileResult {
            file: f.file_name().unwrap().to_string_lossy().into_owned(),
            ..Default::default()
        };
        for case in &tf.tests {
            if excused.contains(&(rule_id, case.test_id)) {
                r.skipped += 1;
                continue;
            }
            let mut verdict: Option<Result<(), String>> = None;
            for stage in &case.stages {
                match run_stage(engine, stage) {
                    None => {}
                    Some(Ok(())) => {
                        verdict.get_or_insert(Ok(()));
                    }
                    Some(Err(e)) => {
                        verdict = Some(Err(e));
                        break;
                    }
                }
            }
            match verdict {
                None => r.skipped += 1,
                Some(Ok(())) => r.passed += 1,
                Some(Err(e)) => {
                    if verbose {
                        println!("  FAIL {rule_id}-{}: {e}", case.test_id);
                    }
                    r.failed.push(format!("{rule_id}-{}", case.test_id));
                }
            }
        }
        t.passed += r.passed;
        t.failed += r.failed.len();
        t.skipped += r.skipped;
        t.files.push(r);
    }
    t
}

struct Request {
    method: String,
    uri: String,
    version: String,
    headers: Vec<(Vec<u8>, Vec<u8>)>,
    body: Vec<u8>,
}

fn build_request(input: &Input) -> Request {
    if let Some(enc) = &input.encoded_request {
        let raw = base64_decode(enc.trim().as_bytes());
        return parse_raw(&raw);
    }
    let mut headers: Vec<(Vec<u8>, Vec<u8>)> = input
        .headers
        .iter()
        .map(|(k, v)| {
            let v = match v {
                serde_yaml::Value::String(s) => s.clone(),
                serde_yaml::Value::Number(n) => n.to_string(),
                serde_yaml::Value::Bool(b) => b.to_string(),
                serde_yaml::Value::Null => String::new(),
                other => serde_yaml::to_string(other)
                    .unwrap_or_default()
                    .trim()
                    .to_string(),
            };
            (k.as_bytes().to_vec(), v.into_bytes())
        })
        .collect();
    let body = input.data.clone().unwrap_or_default().into_bytes();
    if input.autocomplete_headers != Some(false) {
        let has = |h: &[(Vec<u8>, Vec<u8>)], n: &[u8]| h.iter().any(|(k, _)| k.eq_ignore_ascii_case(n));
        if !body.is_empty() && !has(&headers, b"content-length") {
            headers.push((b"Content-Length".to_vec(), body.len().to_string().into_bytes()));
        }
        if !body.is_empty() && !has(&headers, b"content-type") {
            headers.push((
                b"Content-Type".to_vec(),
                b"application/x-www-form-urlencoded".to_vec(),
            ));
        }
        if !has(&headers, b"connection") {
            headers.push((b"Connection".to_vec(), b"close".to_vec()));
        }
    }
    Request {
        method: input.method.clone().unwrap_or_else(|| "GET".into()),
        uri: input.uri.clone().unwrap_or_else(|| "/".into()),
        version: input.version.clone().unwrap_or_else(|| "HTTP/1.1".into()),
        headers,
        body,
    }
}

fn parse_raw(raw: &[u8]) -> Request {
    let head_end = find(raw, b"\r\n\r\n")
        .map(|p| (p, 4))
        .or_else(|| find(raw, b"\n\n").map(|p| (p, 2)));
    let (head, body) = match head_end {
        Some((p, n)) => (&raw[..p], raw[p + n..].to_vec()),
        None => (raw, Vec::new()),
    };
    let text = String::from_utf8_lossy(head);
    let mut lines = text.split('\n').map(|l| l.trim_end_matches('\r'));
    let first = lines.next().unwrap_or("");
    let mut parts = first.splitn(3, ' ');
    let method = parts.next().unwrap_or("").to_string();
    let uri = parts.next().unwrap_or("").to_string();
    let version = parts.next().unwrap_or("").to_string();
    let headers = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.as_bytes().to_vec(), v.trim().as_bytes().to_vec()))
        .collect();
    Request {
        method,
        uri,
        version,
        headers,
        body,
    }
}

fn find(h: &[u8], n: &[u8]) -> Option<usize> {
    h.windows(n.len()).position(|w| w == n)
}

fn base64_decode(s: &[u8]) -> Vec<u8> {
    let val = |c: u8| match c {
        b'A'..=b'Z' => Some(c - b'A'),
        b'a'..=b'z' => Some(c - b'a' + 26),
        b'0'..=b'9' => Some(c - b'0' + 52),
        b'+' | b'-' => Some(62),
        b'/' | b'_' => Some(63),
        _ => None,
    };
    let mut out = Vec::new();
    let (mut acc, mut bits) = (0u32, 0);
    for v in s.iter().filter_map(|&c| val(c)) {
        acc = acc << 6 | v as u32;
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
            acc &= (1 << bits) - 1;
        }
    }
    out
}

/// What an HTTP/1.1 server does before the WAF sees the request: merge repeated headers, refuse
/// header values with bare CR/LF, decode a chunked body (dropping Content-Length, RFC 9112 §6.3), and read no body at all
/// without Content-Length or Transfer-Encoding. `false`: the request is refused.
fn http_layer(req: &mut Request) -> bool {
    if req
        .headers
        .iter()
        .any(|(k, v)| k.iter().chain(v).any(|&c| c == b'\r' || c == b'\n'))
    {
        return false;
    }
    // Apache (and the proxy) merge repeated headers into one, joined by ", " (CRS 920620).
    let mut merged: Headers = Vec::new();
    for (k, v) in std::mem::take(&mut req.headers) {
        match merged.iter_mut().find(|(m, _)| m.eq_ignore_ascii_case(&k)) {
            Some((_, mv)) => {
                mv.extend_from_slice(b", ");
                mv.extend_from_slice(&v);
            }
            None => merged.push((k, v)),
        }
    }
    req.headers = merged;
    let has = |h: &Headers, n: &[u8]| h.iter().any(|(k, _)| k.eq_ignore_ascii_case(n));
    let chunked = req.headers.iter().any(|(k, v)| {
        k.eq_ignore_ascii_case(b"transfer-encoding") && v.to_ascii_lowercase().ends_with(b"chunked")
    });
    if chunked {
        req.headers
            .retain(|(k, _)| !k.eq_ignore_ascii_case(b"content-length"));
        match dechunk(&req.body) {
            Some(b) => req.body = b,
            None => return false,
        }
    } else if !has(&req.headers, b"content-length") {
        req.body.clear();
    } else if let Some(n) = req
        .headers
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(b"content-length"))
        .and_then(|(_, v)| std::str::from_utf8(v).ok()?.trim().parse::<usize>().ok())
    {
        req.body.truncate(n);
    }
    true
}

fn dechunk(mut b: &[u8]) -> Option<Vec<u8>> {
    let mut out = Vec::new();
    loop {
        let nl = find(b, b"\r\n")?;
        let size_text = std::str::from_utf8(&b[..nl]).ok()?;
        let size = usize::from_str_radix(size_text.split(';').next()?.trim(), 16).ok()?;
        b = &b[nl + 2..];
        if size == 0 {
            return Some(out);
        }
        out.extend_from_slice(b.get(..size)?);
        b = b.get(size + 2..)?;
    }
}

/// The albedo backend: `/reflect` answers with the JSON-described response, anything else 200.
type Headers = Vec<(Vec<u8>, Vec<u8>)>;

fn backend(req: &Request) -> (u16, Headers, Vec<u8>) {
    if req.uri.starts_with("/reflect") {
        if let Ok(v) = serde_json::from_slice::<serde_json::Value>(&req.body) {
            let status = v["status"].as_u64().unwrap_or(200) as u16;
            let mut headers: Headers = Vec::new();
            if let Some(h) = v["headers"].as_object() {
                for (k, val) in h {
                    headers.push((
                        k.as_bytes().to_vec(),
                        val.as_str().unwrap_or("").as_bytes().to_vec(),
                    ));
                }
            }
            if !headers
                .iter()
                .any(|(k, _)| k.eq_ignore_ascii_case(b"content-type"))
            {
                // Go's net/http (albedo) sniffs a text body as text/plain.
                headers.push((b"Content-Type".to_vec(), b"text/plain; charset=utf-8".to_vec()));
            }
            let body = match (&v["encodedBody"], &v["body"]) {
                (serde_json::Value::String(e), _) if !e.is_empty() => base64_decode(e.as_bytes()),
                (_, serde_json::Value::String(b)) => b.as_bytes().to_vec(),
                _ => Vec::new(),
            };
            return (status, headers, body);
        }
    }
    (
        200,
        vec![(b"Content-Type".to_vec(), b"text/plain".to_vec())],
        Vec::new(),
    )
}

/// Runs one stage. `None`: nothing this driver can judge (status/transport-only expectations).
fn run_stage(engine: &Engine, stage: &Stage) -> Option<Result<(), String>> {
    let log = stage.output.log.as_ref()?;
    if log.expect_ids.is_empty()
        && log.no_expect_ids.is_empty()
        && log.match_regex.is_none()
        && log.no_match_regex.is_none()
    {
        return None;
    }
    let mut req = build_request(&stage.input);
    if !http_layer(&mut req) {
        // The HTTP server refuses the request before the WAF sees it: nothing is logged.
        let missing = !log.expect_ids.is_empty() || log.match_regex.is_some();
        return Some(if missing {
            Err("request refused by the HTTP layer".into())
        } else {
            Ok(())
        });
    }
    let mut tx = engine.transaction(ConnInfo::default());
    tx.process_uri(&req.method, &req.uri, &req.version);
    for (k, v) in &req.headers {
        tx.add_request_header(k, v);
    }
    tx.process_request_headers();
    tx.append_request_body(&req.body);
    tx.process_request_body();
    let (status, headers, body) = backend(&req);
    for (k, v) in &headers {
        tx.add_response_header(k, v);
    }
    tx.process_response_headers(status, "HTTP/1.1");
    if tx.response_body_wanted() {
        tx.append_response_body(&body);
    }
    tx.process_response_body();
    tx.process_logging();
    let lines = tx.error_log_lines();
    let logged: HashSet<u64> = tx
        .matched_rules()
        .iter()
        .filter(|m| m.log)
        .map(|m| m.id)
        .collect();
    let missing: Vec<u64> = log
        .expect_ids
        .iter()
        .copied()
        .filter(|i| !logged.contains(i))
        .collect();
    let unwanted: Vec<u64> = log
        .no_expect_ids
        .iter()
        .copied()
        .filter(|i| logged.contains(i))
        .collect();
    let mut problems = Vec::new();
    if !missing.is_empty() {
        problems.push(format!("missing {missing:?}"));
    }
    if !unwanted.is_empty() {
        problems.push(format!("unexpected {unwanted:?}"));
    }
    let all = lines.join("\n");
    if let Some(re) = &log.match_regex {
        if !regex::Regex::new(re).map(|r| r.is_match(&all)).unwrap_or(false) {
            problems.push(format!("log does not match /{re}/"));
        }
    }
    if let Some(re) = &log.no_match_regex {
        if regex::Regex::new(re).map(|r| r.is_match(&all)).unwrap_or(false) {
            problems.push(format!("log matches /{re}/"));
        }
    }
    if problems.is_empty() {
        Some(Ok(()))
    } else {
        let mut ids: Vec<u64> = logged.into_iter().collect();
        ids.sort();
        Some(Err(format!("{} (logged {ids:?})", problems.join(", "))))
    }
}
