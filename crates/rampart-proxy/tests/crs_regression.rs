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

use rampart_proxy::{Limits, ProxyConfig, Rules};
use rampart_testkit::crs::{self, Case, Expect};
use regex::Regex;
use std::collections::HashMap;
use std::fs::File;
use std::io::{Read, Seek, SeekFrom};
use std::net::SocketAddr;
use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// The ratchet: the run fails when the pass rate (passed / (passed + failed), excused
/// tests left out) drops below this. Raise it whenever the engine gets better.
/// Reached 2026-11-26: 5082 of 5082 (the suite's 321 .yaml files plus 999999.yml), once
/// requests were built with go-ftw's case-insensitive header look-ups (931100-3 sends
/// `Content-type: application/xml` and must not get a form Content-Type added).
const MIN_PASS_RATE: f64 = 1.0;

const REQUEST_TIMEOUT: Duration = Duration::from_secs(10);
const MARKER_TIMEOUT: Duration = Duration::from_secs(10);

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
    let filter = std::env::var("CRS_FILTER").ok().filter(|f| !f.is_empty());
    let verbose = std::env::var("CRS_VERBOSE").is_ok_and(|v| v != "0");
    let jobs: usize = std::env::var("CRS_JOBS")
        .ok()
        .and_then(|j| j.parse().ok())
        .unwrap_or(4)
        .max(1);

    let overrides = crs::excused().unwrap_or_else(|e| panic!("{e}"));
    let crs::Suite {
        files,
        cases,
        errors: load_errors,
    } = crs::load_suite(&tests_dir, filter.as_deref());
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
            .map(|c| (c.title.clone(), c.stages.iter().map(StagePlan::new).collect()))
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
            // The runner already starts one proxy per job.
            workers: 1,
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
    expect: Expect,
}

impl StagePlan {
    fn new(stage: &crs::Stage) -> StagePlan {
        let (request, build_error) = match crs::build_request(&stage.input) {
            Ok(r) => (r, None),
            Err(e) => (Vec::new(), Some(e)),
        };
        StagePlan {
            request,
            build_error,
            expect: Expect::new(&stage.output),
        }
    }
}

async fn run_case(worker: &mut Worker, stages: &[StagePlan], w: usize) -> Verdict {
    for (i, stage) in stages.iter().enumerate() {
        let mut outcome = run_stage(worker, stage, w).await;
        if outcome.is_err() && stage.expect.retry_once {
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
    let e = &stage.expect;
    match (&resp.error, e.expect_error) {
        (Some(_), true) => return Ok(()),
        (Some(err), false) => return Err(format!("request failed: {err}")),
        (None, true) => return Err(format!("expected an error, got status {:?}", resp.status)),
        (None, false) => {}
    }
    if !e.status.is_empty() && !resp.status.is_some_and(|s| e.status.contains(&s)) {
        return Err(format!("status {:?}, expected {:?}", resp.status, e.status));
    }
    if let Some(re) = &e.response_contains {
        let re = Regex::new(re).map_err(|err| format!("bad response_contains: {err}"))?;
        if !re.is_match(&String::from_utf8_lossy(&resp.bytes)) {
            return Err(format!("response does not contain {re}"));
        }
    }
    crs::judge_log(e, lines, &crs::logged_ids(lines))
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
