//! In-process CRS regression driver: each stage's request (built as go-ftw builds it, see
//! rampart_testkit::crs) goes straight into a transaction, and the stage is judged by the
//! engine's error-log lines. Status- and transport-only stages are left to the proxy's
//! over-the-wire runner; this is the engine's fast development loop.

#![allow(dead_code)]

use std::collections::HashMap;
use std::path::PathBuf;

use rampart_testkit::crs::{self, Expect, Suite};
use rampart_waf::{ConnInfo, Engine, TxBuffers};

/// Base config + crs-setup.conf.example + the test setup rule + rules/*.conf in name order.
pub fn load_crs_for_tests() -> Engine {
    load_with(crs::TEST_SETUP_RULE, "rampart-waf-crs")
}

/// Base config (blocking) + crs-setup.conf.example + rules: CRS as deployed at paranoia level 1.
pub fn load_crs_pl1() -> Engine {
    load_with("", "rampart-waf-pl1")
}

fn load_with(setup_rule: &str, tag: &str) -> Engine {
    let dir = std::env::temp_dir().join(format!("{tag}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let setup = dir.join("900005-test-setup.conf");
    std::fs::write(&setup, setup_rule).unwrap();
    let mut files = vec![
        crs::base_conf(),
        crs::crs_dir().join("crs-setup.conf.example"),
        setup,
    ];
    files.extend(crs_rule_files());
    let e = Engine::from_files(&files).unwrap_or_else(|e| panic!("CRS does not load: {e}"));
    let _ = std::fs::remove_dir_all(&dir);
    e
}

pub fn crs_rule_files() -> Vec<PathBuf> {
    rampart_waf::conf_files_in(&crs::crs_dir().join("rules")).expect("CRS rules directory")
}

/// The suite's tests whose title or file contains `filter`.
pub fn test_files(filter: Option<&str>) -> Suite {
    crs::load_suite(&crs::crs_dir().join("tests/regression/tests"), filter)
}

pub fn excused() -> HashMap<String, String> {
    crs::excused().unwrap_or_else(|e| panic!("{e}"))
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

/// Runs every test of the suite; `verbose` prints why each failing test failed.
pub fn run(engine: &Engine, suite: &Suite, excused: &HashMap<String, String>, verbose: bool) -> Totals {
    assert!(
        suite.errors.is_empty(),
        "test files that do not load: {:?}",
        suite.errors
    );
    let mut files: Vec<FileResult> = suite
        .files
        .iter()
        .map(|f| FileResult {
            file: f.clone(),
            ..Default::default()
        })
        .collect();
    for case in &suite.cases {
        let r = &mut files[case.file];
        if excused.contains_key(&case.title) || case.stages.is_empty() {
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
                    println!("  FAIL {}: {e}", case.title);
                }
                r.failed.push(case.title.clone());
            }
        }
    }
    let mut t = Totals::default();
    for r in files
        .into_iter()
        .filter(|r| r.passed + r.failed.len() + r.skipped > 0)
    {
        t.passed += r.passed;
        t.failed += r.failed.len();
        t.skipped += r.skipped;
        t.files.push(r);
    }
    t
}

type Headers = Vec<(Vec<u8>, Vec<u8>)>;

struct Request {
    method: Vec<u8>,
    uri: Vec<u8>,
    version: Vec<u8>,
    headers: Headers,
    body: Vec<u8>,
}

/// Splits request bytes the way a lenient HTTP/1.1 server reads them.
fn parse_raw(raw: &[u8]) -> Request {
    let head_end = find(raw, b"\r\n\r\n")
        .map(|p| (p, 4))
        .or_else(|| find(raw, b"\n\n").map(|p| (p, 2)));
    let (head, body) = match head_end {
        Some((p, n)) => (&raw[..p], raw[p + n..].to_vec()),
        None => (raw, Vec::new()),
    };
    let mut lines = head
        .split(|&b| b == b'\n')
        .map(|l| l.strip_suffix(b"\r").unwrap_or(l));
    let first = lines.next().unwrap_or_default();
    let mut parts = first.splitn(3, |&b| b == b' ');
    let method = parts.next().unwrap_or_default().to_vec();
    let uri = parts.next().unwrap_or_default().to_vec();
    let version = parts.next().unwrap_or_default().to_vec();
    let headers = lines
        .filter_map(|l| {
            let colon = l.iter().position(|&b| b == b':')?;
            Some((l[..colon].to_vec(), l[colon + 1..].trim_ascii().to_vec()))
        })
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

/// What an HTTP/1.1 server does before the WAF sees the request: refuse header values with bare
/// CR/LF, merge repeated headers, decode a chunked body (dropping Content-Length, RFC 9112
/// §6.3), and read no body at all without Content-Length or Transfer-Encoding.
/// `false`: the request is refused.
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

/// Runs one stage. `None`: nothing this driver can judge (status/transport-only expectations).
fn run_stage(engine: &Engine, stage: &crs::Stage) -> Option<Result<(), String>> {
    let expect = Expect::new(&stage.output);
    if !expect.judges_log() {
        return None;
    }
    let raw = match crs::build_request(&stage.input) {
        Ok(r) => r,
        Err(e) => return Some(Err(format!("cannot build the request: {e}"))),
    };
    let mut req = parse_raw(&raw);
    let lines = if http_layer(&mut req) {
        transaction_log(engine, &req)
    } else {
        // The HTTP server refuses the request before the WAF sees it: nothing is logged.
        Vec::new()
    };
    Some(crs::judge_log(&expect, &lines, &crs::logged_ids(&lines)))
}

thread_local! {
    /// One connection's buffers for all of a thread's tests, as the proxy reuses them on a
    /// keep-alive connection: the suite's thousands of different requests also check that what
    /// a connection remembers from one transaction (its screen memo) never changes the next
    /// one's decision. (The proxy's over-the-wire runner starts each test afresh.)
    static BUFFERS: std::cell::Cell<TxBuffers> = std::cell::Cell::new(TxBuffers::default());
}

/// All five phases of one transaction against the albedo backend; the error-log lines.
fn transaction_log(engine: &Engine, req: &Request) -> Vec<String> {
    let mut tx = engine.transaction_reusing(ConnInfo::default(), BUFFERS.take());
    tx.process_uri_bytes(&req.method, &req.uri, &req.version);
    for (k, v) in &req.headers {
        tx.add_request_header(k, v);
    }
    tx.process_request_headers();
    tx.append_request_body(&req.body);
    tx.process_request_body();
    let path = req.uri.split(|&b| b == b'?').next().unwrap_or_default();
    let reply = crs::reflect(
        &String::from_utf8_lossy(&req.method),
        &String::from_utf8_lossy(path),
        &req.body,
    );
    for (k, v) in &reply.headers {
        tx.add_response_header(k.as_bytes(), v.as_bytes());
    }
    tx.process_response_headers(reply.status, "HTTP/1.1");
    if tx.response_body_wanted() {
        tx.append_response_body(&reply.body);
    }
    tx.process_response_body();
    tx.process_logging();
    let lines = tx.error_log_lines();
    BUFFERS.set(tx.into_buffers());
    lines
}
