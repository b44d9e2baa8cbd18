//! `rampart guard --replay FILE`: a whole file as fast as it can be read, with the
//! times written in the log (benchmarks, forensics).

use crate::config::GuardConfig;
use crate::detect::{Decision, DetectCounters, Detector};
use crate::engine::{process_line, Clock, Counters, LineSplitter};
use crate::parse::{time, Parser};
use crate::GuardError;
use serde::Serialize;
use std::io::Read;
use std::net::IpAddr;
use std::path::Path;
use std::time::{Duration, Instant};

#[derive(Debug, Clone, Serialize)]
pub struct ReplayReport {
    pub counters: Counters,
    pub detector: DetectCounters,
    pub bytes: u64,
    #[serde(serialize_with = "secs_f64")]
    pub elapsed: Duration,
}

fn secs_f64<S: serde::Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_f64(d.as_secs_f64())
}

/// Replays `path`; `on_ban` sees every decision as it is made.
pub fn replay(
    path: &Path,
    cfg: &GuardConfig,
    own: &[IpAddr],
    mut on_ban: impl FnMut(&Decision),
) -> Result<ReplayReport, GuardError> {
    let io = |source| GuardError::Io {
        path: path.display().to_string(),
        source,
    };
    let mut file = std::fs::File::open(path).map_err(io)?;
    // RFC 3164 lines carry no year: take the file's.
    let year = file
        .metadata()
        .and_then(|m| m.modified())
        .ok()
        .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
        .map(|d| time::year_of(d.as_secs() as i64))
        .unwrap_or_else(time::current_year);
    let start = Instant::now();
    let mut parser = Parser::new(year);
    let mut detector = Detector::new(cfg, own);
    let mut counters = Counters::default();
    let mut last_time = 0i64;
    let mut splitter = LineSplitter::default();
    let mut buf = vec![0u8; 1 << 20];
    let mut bytes = 0u64;
    let mut handle = |line: &[u8]| {
        if let Some(d) = process_line(
            &mut parser,
            &mut detector,
            &mut counters,
            Clock::Log,
            &mut last_time,
            line,
        ) {
            on_ban(&d);
        }
    };
    loop {
        let n = match file.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(io(e)),
        };
        bytes += n as u64;
        splitter.feed(&buf[..n], &mut handle);
    }
    splitter.finish(&mut handle);
    let mut det = detector.counters;
    det.tracked = detector.tracked() as u64;
    Ok(ReplayReport {
        counters,
        detector: det,
        bytes,
        elapsed: start.elapsed(),
    })
}
