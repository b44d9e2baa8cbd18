//! The OWASP CRS regression suite (go-ftw YAML) over the wire against the real proxy.
//!
//! For every stage: a marker request (`X-CRS-Test: <uuid>`), the stage's request built
//! byte for byte the way go-ftw builds it, a second marker; the error-log lines between
//! the two markers are judged against the stage's expected output. Each worker drives
//! its own proxy instance (same compiled rules) with its own error log, so workers never
//! see each other's lines.
//!
//! Environment: `CRS_FILTER=942` runs only tests whose "<rule>-<test>" id or file path
//! contains the text; `CRS_JOBS=N` sets the number of workers; `CRS_VERBOSE=1` prints why
//! each failing test failed.

mod common;

use base64::Engine as _;
use rampart_proxy::{Limits, ProxyConfig, Rules};
use regex::Regex;
use serde::Deserialize;
use std::collections::{BTreeMap, HashMap};
use std::fs::File;
use std::io::{Read, Seek, SeekFrom};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// The ratchet: the run fails when the pass rate (passed / (passed + failed), excused
/// tests left out) drops below this. Raise it whenever the engine gets better.
/// Reached 2026-11-25: 5081 of 5082 (the suite's 321 .yaml files plus 999999.yml).
const MIN_PASS_RATE: f64 = 0.9998;

const REQUEST_TIMEOUT: Duration = Duration::from_secs(10);
const MARKER_TIMEOUT: Duration = Duration::from_secs(10);

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

#[derive(Deserialize)]
#[serde(untagged)]
enum StageWrap {
    Wrapped { stage: Stage },
    Plain(Stage),
}

impl StageWrap {
    fn stage(&self) -> &Stage {
        match self {
            StageWrap::Wrapped { stage } => stage,
            StageWrap::Plain(s) => s,
        }
    }
}

#[derive(Deserialize)]
struct Stage {
    input: Input,
    #[serde(default)]
    output: Output,
}

#[derive(Deserialize, Default)]
struct Input {
    method: Option<String>,
    uri: Option<String>,
    version: Option<String>,
    headers: Option<BTreeMap<String, serde_yaml::Value>>,
    data: Option<String>,
    encoded_data: Option<String>,
    encoded_request: Option<String>,
    autocomplete_headers: Option<bool>,
}

#[derive(Deserialize, Default)]
struct Output {
    status: Option<StatusSpec>,
    #[serde(default)]
    log: LogSpec,
    expect_error: Option<bool>,
    response_contains: Option<String>,
    log_contains: Option<String>,
    no_log_contains: Option<String>,
    retry_once: Option<bool>,
}

#[derive(Deserialize)]
#[serde(untagged)]
enum StatusSpec {
    One(u16),
    Many(Vec<u16>),
}

#[derive(Deserialize, Default)]
struct LogSpec {
    expect_ids: Option<Vec<u64>>,
    no_expect_ids: Option<Vec<u64>>,
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
    test: String,
    reason: String,
}

struct Case {
    file: usize,
    title: String,
    test: TestCase,
}

enum Verdict {
    Passed,
    Failed(String),
    Skipped(String),
}

fn main() {
    let crs = common::crs_dir();
    let tests_dir = crs.join("tests/regression/tests");
    if !tests_dir.is_dir() {
        println!("crs_regression: skipped: {} is missing", tests_dir.display());
        return;
    }
    self_check();
    let filter = std::env::var("CRS_FILTER").ok().filter(|f| !f.is_empty());
    let verbose = std::env::var("CRS_VERBOSE").is_ok_and(|v| v != "0");
    let jobs: usize = std::env::var("CRS_JOBS")
        .ok()
        .and_then(|j| j.parse().ok())
        .unwrap_or(4)
        .max(1);

    let overrides = load_overrides();
    let (files, cases, load_errors) = load_tests(&tests_dir, filter.as_deref());
    for e in &load_errors {
        println!("crs_regression: cannot load {e}");
    }

    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    let verdicts = rt.block_on(run_all(cases.len(), &cases, jobs, &overrides));

    // Report per file and in total.
    let mut per_file: Vec<(usize, usize, usize, Vec<String>)> = vec![(0, 0, 0, Vec::new()); files.len()];
    let (mut passed, mut failed, mut skipped) = (0usize, 0usize, 0usize);
    let mut failed_ids = Vec::new();
    for (case, verdict) in cases.iter().zip(&verdicts) {
        let entry = &mut per_file[case.file];
        match verdict {
            Verdict::Passed => {
                entry.0 += 1;
                passed += 1;
            }
            Verdict::Failed(why) => {
                entry.1 += 1;
                failed += 1;
                entry.3.push(case.title.clone());
                failed_ids.push(case.title.clone());
                if verbose {
                    println!("FAIL {}: {why}", case.title);
                }
            }
            Verdict::Skipped(why) => {
                entry.2 += 1;
                skipped += 1;
                if verbose {
                    println!("SKIP {}: {why}", case.title);
                }
            }
        }
    }
    for (i, f) in files.iter().enumerate() {
        let (p, fl, s, ids) = &per_file[i];
        if p + fl + s == 0 {
            continue;
        }
        let mut line = format!("{f}: passed {p}, failed {fl}, skipped {s}");
        if !ids.is_empty() {
            line.push_str(&format!("; failing: {}", ids.join(" ")));
        }
        println!("{line}");
    }
    let run = passed + failed;
    let rate = if run == 0 { 1.0 } else { passed as f64 / run as f64 };
    println!(
        "CRS regression total: passed {passed}, failed {failed}, skipped {skipped} (excused or disabled); \
         pass rate {:.2}% of {run} run, {:.2}% of {} cases",
        rate * 100.0,
        if passed + failed + skipped == 0 {
            100.0
        } else {
            passed as f64 * 100.0 / (passed + failed + skipped) as f64
        },
        passed + failed + skipped
    );
    if !load_errors.is_empty() {
        println!(
            "crs_regression: {} test files could not be loaded",
            load_errors.len()
        );
        std::process::exit(1);
    }
    if filter.is_none() && rate < MIN_PASS_RATE {
        println!(
            "crs_regression: pass rate {:.2}% is below the ratchet {:.2}%",
            rate * 100.0,
            MIN_PASS_RATE * 100.0
        );
        std::process::exit(1);
    }
}

fn load_overrides() -> HashMap<String, String> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/crs-overrides.yaml");
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let o: Overrides = serde_yaml::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let mut map = HashMap::new();
    for e in o.excused {
        assert!(
            !e.reason.trim().is_empty(),
            "{}: test {} is excused without a reason",
            path.display(),
            e.test
        );
        map.insert(e.test, e.reason);
    }
    map
}

fn load_tests(dir: &Path, filter: Option<&str>) -> (Vec<String>, Vec<Case>, Vec<String>) {
    let mut paths = Vec::new();
    collect_yaml(dir, &mut paths);
    paths.sort();
    let mut files = Vec::new();
    let mut cases = Vec::new();
    let mut errors = Vec::new();
    for p in paths {
        let rel = p.strip_prefix(dir).unwrap_or(&p).display().to_string();
        let text = match std::fs::read_to_string(&p) {
            Ok(t) => t,
            Err(e) => {
                errors.push(format!("{rel}: {e}"));
                continue;
            }
        };
        if text.trim().is_empty() {
            continue;
        }
        let parsed: TestFile = match serde_yaml::from_str(&text) {
            Ok(t) => t,
            Err(e) => {
                errors.push(format!("{rel}: {e}"));
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
        let file_idx = files.len();
        files.push(rel.clone());
        for t in parsed.tests {
            let title = format!("{rule}-{}", t.test_id);
            if let Some(f) = filter {
                if !title.contains(f) && !rel.contains(f) {
                    continue;
                }
            }
            let mut case = Case {
                file: file_idx,
                title,
                test: t,
            };
            if !enabled {
                case.test.stages.clear();
            }
            cases.push(case);
        }
    }
    (files, cases, errors)
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

struct Worker {
    proxy: rampart_proxy::RunningProxy,
    log: LogTail,
}

async fn run_all(n: usize, cases: &[Case], jobs: usize, overrides: &HashMap<String, String>) -> Vec<Verdict> {
    let tmp = tempfile::tempdir().unwrap();
    let paths = common::crs_rule_paths(tmp.path());
    let started = Instant::now();
    let load_paths = paths.clone();
    let engine = match tokio::task::spawn_blocking(move || rampart_waf::Engine::from_files(&load_paths))
        .await
        .unwrap()
    {
        Ok(e) => e,
        Err(e) => {
            // Every test fails; the ratchet decides whether that fails the run.
            println!("crs_regression: the CRS rules do not load: {e}");
            return (0..n)
                .map(|_| Verdict::Failed(format!("rules do not load: {e}")))
                .collect();
        }
    };
    println!("crs_regression: rules compiled in {:.2?}", started.elapsed());
    let engine = Arc::new(engine);
    let backend = common::start_albedo().await;

    let next = Arc::new(AtomicUsize::new(0));
    let results: Arc<Mutex<Vec<Option<Verdict>>>> = Arc::new(Mutex::new((0..n).map(|_| None).collect()));
    let cases: Arc<Vec<(String, Vec<StagePlan>)>> = Arc::new(
        cases
            .iter()
            .map(|c| {
                (
                    c.title.clone(),
                    c.test.stages.iter().map(|s| StagePlan::new(s.stage())).collect(),
                )
            })
            .collect(),
    );
    let started = Instant::now();
    let mut handles = Vec::new();
    for w in 0..jobs {
        let log_path = tmp.path().join(format!("error-{w}.log"));
        let config = ProxyConfig {
            listen: "127.0.0.1:0".parse().unwrap(),
            upstream: format!("http://{backend}"),
            rules: paths.clone(),
            error_log: Some(log_path.clone()),
            audit_log: None,
            tls: None,
            limits: Limits::default(),
        };
        let rules = Arc::new(Rules::from_shared(engine.clone(), paths.clone()));
        let proxy = rampart_proxy::start(&config, rules).await.unwrap();
        let worker = Worker {
            proxy,
            log: LogTail::open(&log_path),
        };
        let (next, results, cases, overrides) =
            (next.clone(), results.clone(), cases.clone(), overrides.clone());
        handles.push(tokio::spawn(async move {
            let mut worker = worker;
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                if i >= cases.len() {
                    break;
                }
                let (title, stages) = &cases[i];
                let verdict = if let Some(reason) = overrides.get(title) {
                    Verdict::Skipped(format!("excused: {reason}"))
                } else if stages.is_empty() {
                    Verdict::Skipped("disabled in its file".into())
                } else {
                    run_case(&mut worker, stages, w).await
                };
                results.lock().unwrap()[i] = Some(verdict);
            }
        }));
    }
    for h in handles {
        h.await.unwrap();
    }
    println!(
        "crs_regression: {} cases in {:.2?} with {jobs} workers",
        cases.len(),
        started.elapsed()
    );
    let mut results = results.lock().unwrap();
    results
        .iter_mut()
        .map(|r| r.take().unwrap_or(Verdict::Failed("not run".into())))
        .collect()
}

/// A stage turned into bytes to send and checks to apply.
struct StagePlan {
    request: Vec<u8>,
    build_error: Option<String>,
    status: Vec<u16>,
    expect_ids: Vec<u64>,
    no_expect_ids: Vec<u64>,
    match_regex: Option<String>,
    no_match_regex: Option<String>,
    response_contains: Option<String>,
    expect_error: bool,
    retry_once: bool,
}

impl StagePlan {
    fn new(stage: &Stage) -> StagePlan {
        let (request, build_error) = match build_request(&stage.input) {
            Ok(r) => (r, None),
            Err(e) => (Vec::new(), Some(e)),
        };
        let o = &stage.output;
        StagePlan {
            request,
            build_error,
            status: match &o.status {
                Some(StatusSpec::One(s)) => vec![*s],
                Some(StatusSpec::Many(v)) => v.clone(),
                None => Vec::new(),
            },
            expect_ids: o.log.expect_ids.clone().unwrap_or_default(),
            no_expect_ids: o.log.no_expect_ids.clone().unwrap_or_default(),
            match_regex: o.log.match_regex.clone().or_else(|| o.log_contains.clone()),
            no_match_regex: o.log.no_match_regex.clone().or_else(|| o.no_log_contains.clone()),
            response_contains: o.response_contains.clone(),
            expect_error: o.expect_error.unwrap_or(false),
            retry_once: o.retry_once.unwrap_or(false),
        }
    }
}

async fn run_case(worker: &mut Worker, stages: &[StagePlan], w: usize) -> Verdict {
    for (i, stage) in stages.iter().enumerate() {
        let mut outcome = run_stage(worker, stage, w).await;
        if outcome.is_err() && stage.retry_once {
            outcome = run_stage(worker, stage, w).await;
        }
        if let Err(why) = outcome {
            return Verdict::Failed(if stages.len() > 1 {
                format!("stage {}: {why}", i + 1)
            } else {
                why
            });
        }
    }
    Verdict::Passed
}

static MARKERS: AtomicUsize = AtomicUsize::new(0);

fn marker_request(id: &str) -> Vec<u8> {
    format!(
        "GET /status/200 HTTP/1.1\r\nAccept: */*\r\nConnection: close\r\nHost: localhost\r\n\
         User-Agent: go-ftw test agent\r\nX-CRS-Test: {id}\r\n\r\n"
    )
    .into_bytes()
}

async fn mark(worker: &mut Worker, id: &str) -> Result<Vec<String>, String> {
    let addr: SocketAddr = worker.proxy.local_addr;
    let resp = common::raw_exchange(addr, &marker_request(id), REQUEST_TIMEOUT).await;
    if let Some(e) = resp.error {
        return Err(format!("marker request failed: {e}"));
    }
    worker
        .log
        .wait_for(id, MARKER_TIMEOUT)
        .await
        .ok_or_else(|| format!("marker {id} not found in the error log"))
}

async fn run_stage(worker: &mut Worker, stage: &StagePlan, w: usize) -> Result<(), String> {
    if let Some(e) = &stage.build_error {
        return Err(format!("cannot build the request: {e}"));
    }
    let nonce = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default()
        .as_nanos();
    let id = format!("{w}-{}-{nonce:x}", MARKERS.fetch_add(1, Ordering::Relaxed));
    mark(worker, &format!("{id}-start")).await?;
    let resp = common::raw_exchange(worker.proxy.local_addr, &stage.request, REQUEST_TIMEOUT).await;
    let lines = mark(worker, &format!("{id}-end")).await?;
    judge(stage, &resp, &lines).map_err(|e| {
        if std::env::var_os("CRS_DEBUG").is_some() {
            format!(
                "{e}\n  request: {:?}\n  response: {resp:?}\n  lines: {lines:#?}",
                String::from_utf8_lossy(&stage.request)
            )
        } else {
            e
        }
    })
}

fn judge(stage: &StagePlan, resp: &common::RawResponse, lines: &[String]) -> Result<(), String> {
    match (&resp.error, stage.expect_error) {
        (Some(_), true) => return Ok(()),
        (Some(e), false) => return Err(format!("request failed: {e}")),
        (None, true) => return Err(format!("expected an error, got status {:?}", resp.status)),
        (None, false) => {}
    }
    if !stage.status.is_empty() && !resp.status.is_some_and(|s| stage.status.contains(&s)) {
        return Err(format!("status {:?}, expected {:?}", resp.status, stage.status));
    }
    if let Some(re) = &stage.response_contains {
        let re = Regex::new(re).map_err(|e| format!("bad response_contains: {e}"))?;
        if !re.is_match(&String::from_utf8_lossy(&resp.bytes)) {
            return Err(format!("response does not contain {re}"));
        }
    }
    let text = lines.join("\n");
    let found = logged_ids(lines);
    if let Some(re) = &stage.match_regex {
        let re = Regex::new(re).map_err(|e| format!("bad match_regex: {e}"))?;
        if !re.is_match(&text) {
            return Err(format!("log does not match {re}; ids logged: {found:?}"));
        }
    }
    let missing: Vec<u64> = stage
        .expect_ids
        .iter()
        .copied()
        .filter(|id| !found.contains(id))
        .collect();
    if !missing.is_empty() {
        return Err(format!(
            "expected ids {missing:?} not logged; ids logged: {found:?}"
        ));
    }
    if let Some(re) = &stage.no_match_regex {
        let re = Regex::new(re).map_err(|e| format!("bad no_match_regex: {e}"))?;
        if re.is_match(&text) {
            return Err(format!("log matches {re}"));
        }
    }
    let unwanted: Vec<u64> = stage
        .no_expect_ids
        .iter()
        .copied()
        .filter(|id| found.contains(id))
        .collect();
    if !unwanted.is_empty() {
        return Err(format!("ids {unwanted:?} logged but not expected"));
    }
    Ok(())
}

fn logged_ids(lines: &[String]) -> Vec<u64> {
    static RE: std::sync::OnceLock<Regex> = std::sync::OnceLock::new();
    let re = RE.get_or_init(|| Regex::new(r#"\[id "(\d+)"\]"#).unwrap());
    let mut ids: Vec<u64> = lines
        .iter()
        .flat_map(|l| {
            re.captures_iter(l)
                .filter_map(|c| c[1].parse().ok())
                .collect::<Vec<_>>()
        })
        .collect();
    ids.sort_unstable();
    ids.dedup();
    ids
}

/// Builds the stage's request bytes exactly as go-ftw does.
fn build_request(input: &Input) -> Result<Vec<u8>, String> {
    if let Some(enc) = &input.encoded_request {
        let clean: String = enc.chars().filter(|c| !c.is_whitespace()).collect();
        return base64::engine::general_purpose::STANDARD
            .decode(clean)
            .map_err(|e| format!("encoded_request is not base64: {e}"));
    }
    let method = input.method.clone().unwrap_or_else(|| "GET".into());
    let uri = input.uri.clone().unwrap_or_else(|| "/".into());
    let version = input.version.clone().unwrap_or_else(|| "HTTP/1.1".into());
    let autocomplete = input.autocomplete_headers.unwrap_or(true);
    // go-ftw keeps one value per exact header name (a Go map) and writes them sorted.
    let mut headers: BTreeMap<String, String> = BTreeMap::new();
    for (k, v) in input.headers.iter().flatten() {
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
        headers.insert(k.clone(), v);
    }
    let add = |h: &mut BTreeMap<String, String>, k: &str, v: String| {
        if h.get(k).is_none_or(|x| x.is_empty()) {
            h.insert(k.to_string(), v);
        }
    };
    let mut data: Vec<u8> = match (&input.data, &input.encoded_data) {
        (Some(d), _) => expand_template(d).into_bytes(),
        (None, Some(e)) => base64::engine::general_purpose::STANDARD
            .decode(e.trim())
            .map_err(|e| format!("encoded_data is not base64: {e}"))?,
        (None, None) => Vec::new(),
    };
    if !data.is_empty() && autocomplete {
        add(
            &mut headers,
            "Content-Type",
            "application/x-www-form-urlencoded".into(),
        );
        if headers.get("Content-Type").map(String::as_str) == Some("application/x-www-form-urlencoded") {
            data = encode_form(&data);
        }
    }
    if headers
        .get("Content-Type")
        .is_some_and(|ct| ct.starts_with("multipart/form-data;"))
    {
        let mut out = Vec::with_capacity(data.len() + 64);
        for &b in &data {
            if b == b'\n' {
                out.extend_from_slice(b"\r\n");
            } else {
                out.push(b);
            }
        }
        data = out;
    }
    if autocomplete {
        add(&mut headers, "Connection", "close".into());
        let body_method = method.starts_with("POST")
            || method.contains("PUT")
            || method.contains("PATCH")
            || method.ends_with("DELETE");
        if !data.is_empty() || body_method {
            add(&mut headers, "Content-Length", data.len().to_string());
        }
    }
    let mut out = format!("{method} {uri} {version}\r\n").into_bytes();
    for (k, v) in &headers {
        out.extend_from_slice(k.as_bytes());
        out.extend_from_slice(b": ");
        out.extend_from_slice(v.as_bytes());
        out.extend_from_slice(b"\r\n");
    }
    out.extend_from_slice(b"\r\n");
    out.extend_from_slice(&data);
    Ok(out)
}

/// The one Go template the suite uses: `{{ "x" | repeat N }}`.
fn expand_template(data: &str) -> String {
    static RE: std::sync::OnceLock<Regex> = std::sync::OnceLock::new();
    let re = RE.get_or_init(|| Regex::new(r#"\{\{\s*"([^"]*)"\s*\|\s*repeat\s+(\d+)\s*\}\}"#).unwrap());
    re.replace_all(data, |c: &regex::Captures| c[1].repeat(c[2].parse().unwrap_or(0)))
        .into_owned()
}

/// go-ftw URL-encodes form data that is not encoded yet (no '%' or '+' in it),
/// key and value separately, with Go's `url.QueryEscape`.
fn encode_form(data: &[u8]) -> Vec<u8> {
    let unescaped_changes = data.contains(&b'%') || data.contains(&b'+');
    if unescaped_changes {
        return data.to_vec();
    }
    let mut out = Vec::with_capacity(data.len() * 2);
    for token in data.split(|&b| b == b'&') {
        match token.iter().position(|&b| b == b'=') {
            None => query_escape(token, &mut out),
            Some(eq) => {
                query_escape(&token[..eq], &mut out);
                out.push(b'=');
                query_escape(&token[eq + 1..], &mut out);
            }
        }
        out.push(b'&');
    }
    // A trailing '&' in the input yields no empty token in go-ftw's loop.
    if data.ends_with(b"&") {
        out.pop();
    }
    out.pop();
    out
}

fn query_escape(s: &[u8], out: &mut Vec<u8>) {
    for &b in s {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => out.push(b),
            b' ' => out.push(b'+'),
            _ => out.extend_from_slice(format!("%{b:02X}").as_bytes()),
        }
    }
}

/// Follows one worker's error log.
struct LogTail {
    file: File,
    pos: u64,
    partial: String,
    lines: Vec<String>,
}

impl LogTail {
    fn open(path: &Path) -> LogTail {
        LogTail {
            file: File::open(path).unwrap(),
            pos: 0,
            partial: String::new(),
            lines: Vec::new(),
        }
    }

    fn poll(&mut self) {
        let mut buf = Vec::new();
        if self.file.seek(SeekFrom::Start(self.pos)).is_ok() && self.file.read_to_end(&mut buf).is_ok() {
            self.pos += buf.len() as u64;
            self.partial.push_str(&String::from_utf8_lossy(&buf));
            while let Some(nl) = self.partial.find('\n') {
                let line: String = self.partial.drain(..=nl).collect();
                self.lines.push(line.trim_end().to_string());
            }
        }
    }

    /// Waits for the line holding `needle`; returns the lines before it and drops both.
    async fn wait_for(&mut self, needle: &str, limit: Duration) -> Option<Vec<String>> {
        let deadline = Instant::now() + limit;
        loop {
            self.poll();
            if let Some(i) = self.lines.iter().position(|l| l.contains(needle)) {
                let before: Vec<String> = self.lines.drain(..=i).collect();
                return Some(before[..before.len() - 1].to_vec());
            }
            if Instant::now() > deadline {
                return None;
            }
            tokio::time::sleep(Duration::from_millis(2)).await;
        }
    }
}

/// The runner's own request building, checked before the suite runs.
fn self_check() {
    assert_eq!(encode_form(b"a=b c&d=<e>"), b"a=b+c&d=%3Ce%3E");
    assert_eq!(encode_form(b"x=%41"), b"x=%41");
    assert_eq!(encode_form(b"a=b&"), b"a=b");
    assert_eq!(expand_template(r#"x{{ "1" | repeat 3 }}y"#), "x111y");
    let input = Input {
        method: Some("POST".into()),
        data: Some("a=b c".into()),
        headers: Some(BTreeMap::from([(
            "Host".to_string(),
            serde_yaml::Value::String("localhost".into()),
        )])),
        ..Default::default()
    };
    assert_eq!(
        String::from_utf8(build_request(&input).unwrap()).unwrap(),
        "POST / HTTP/1.1\r\nConnection: close\r\nContent-Length: 5\r\n\
         Content-Type: application/x-www-form-urlencoded\r\nHost: localhost\r\n\r\na=b+c"
    );
}
