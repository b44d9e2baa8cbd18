//! The systemd journal, through `journalctl -f -o json` (the only reader that works
//! with every journal format version). One thread reads its output and hands entries
//! to the daemon; when journalctl exits it is restarted after the last cursor seen, so
//! no entry is lost or read twice.

use rampart_core::cmd;
use serde_json::Value;
use std::io::Read;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::SyncSender;
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// Programs whose entries are read (journalctl filters on SYSLOG_IDENTIFIER).
pub const IDENTIFIERS: &[&str] = &[
    "sshd",
    "sshd-session",
    "sshd-auth",
    "vsftpd",
    "proftpd",
    "pure-ftpd",
    "mariadbd",
    "mysqld",
    "postgres",
    "dovecot",
    "postfix/smtpd",
    "postfix/submission/smtpd",
    "postfix/smtps/smtpd",
];

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    pub tag: Vec<u8>,
    pub pid: Option<u32>,
    pub message: Vec<u8>,
    /// Microseconds since the epoch.
    pub realtime_us: Option<u64>,
    pub cursor: Option<String>,
}

/// A journal field: a string, or an array of bytes for non-UTF-8 values.
fn bytes(v: &Value) -> Option<Vec<u8>> {
    match v {
        Value::String(s) => Some(s.as_bytes().to_vec()),
        Value::Array(a) => a
            .iter()
            .map(|b| b.as_u64().and_then(|b| u8::try_from(b).ok()))
            .collect(),
        _ => None,
    }
}

/// One line of `journalctl -o json`.
pub fn parse_entry(line: &[u8]) -> Option<Entry> {
    let v: Value = serde_json::from_slice(line).ok()?;
    let message = bytes(v.get("MESSAGE")?)?;
    let tag = v
        .get("SYSLOG_IDENTIFIER")
        .or_else(|| v.get("_COMM"))
        .and_then(bytes)
        .unwrap_or_default();
    let num = |k: &str| {
        v.get(k)
            .and_then(Value::as_str)
            .and_then(|s| s.parse::<u64>().ok())
    };
    Some(Entry {
        tag,
        pid: num("SYSLOG_PID")
            .or_else(|| num("_PID"))
            .and_then(|p| u32::try_from(p).ok()),
        message,
        realtime_us: num("__REALTIME_TIMESTAMP"),
        cursor: v.get("__CURSOR").and_then(Value::as_str).map(str::to_string),
    })
}

#[derive(Debug, Clone, Default)]
pub struct JournalOptions {
    /// Read these journal files instead of the system journal (`--file`).
    pub files: Vec<PathBuf>,
    /// Follow (`-f`); without it journalctl exits at the end (tests, replay).
    pub follow: bool,
    /// Start at the beginning instead of new entries only.
    pub from_beginning: bool,
}

pub fn args(opts: &JournalOptions, cursor: Option<&str>) -> Vec<String> {
    let mut a: Vec<String> = vec!["-o".into(), "json".into(), "--no-pager".into(), "-q".into()];
    if opts.follow {
        a.push("-f".into());
    }
    match cursor {
        Some(c) => a.push(format!("--after-cursor={c}")),
        None if !opts.from_beginning => a.extend(["-n".into(), "0".into()]),
        None => {}
    }
    for f in &opts.files {
        a.push(format!("--file={}", f.display()));
    }
    for id in IDENTIFIERS {
        a.push(format!("--identifier={id}"));
    }
    a
}

/// The running reader thread; [`Reader::stop`] ends journalctl and the thread.
pub struct Reader {
    child: Arc<Mutex<Option<Child>>>,
    stop: Arc<AtomicBool>,
    thread: Option<std::thread::JoinHandle<()>>,
}

/// Starts reading; every entry goes to `tx`, followed by a byte on `waker`.
pub fn spawn(
    opts: JournalOptions,
    tx: SyncSender<Entry>,
    waker: std::os::unix::net::UnixStream,
) -> Result<Reader, cmd::CmdError> {
    let program = cmd::which("journalctl").ok_or_else(|| cmd::CmdError::NotFound {
        program: "journalctl".into(),
    })?;
    let child: Arc<Mutex<Option<Child>>> = Arc::default();
    let stop = Arc::new(AtomicBool::new(false));
    let (c2, s2) = (child.clone(), stop.clone());
    let thread = std::thread::Builder::new()
        .name("journal".into())
        .spawn(move || {
            let mut cursor: Option<String> = None;
            while !s2.load(Ordering::Relaxed) {
                let spawned = Command::new(&program)
                    .args(args(&opts, cursor.as_deref()))
                    .env_clear()
                    .env("PATH", cmd::SEARCH_PATH.join(":"))
                    .env("LC_ALL", "C")
                    .stdin(Stdio::null())
                    .stdout(Stdio::piped())
                    .stderr(Stdio::null())
                    .spawn();
                let mut ch = match spawned {
                    Ok(c) => c,
                    Err(e) => {
                        tracing::warn!("Cannot start journalctl: {e}.");
                        std::thread::sleep(Duration::from_secs(5));
                        continue;
                    }
                };
                let mut out = ch.stdout.take();
                if let Ok(mut g) = c2.lock() {
                    *g = Some(ch);
                }
                let mut splitter = crate::engine::LineSplitter::default();
                let mut buf = vec![0u8; 64 * 1024];
                let mut send = |line: &[u8]| {
                    if let Some(e) = parse_entry(line) {
                        if let Some(c) = &e.cursor {
                            cursor = Some(c.clone());
                        }
                        // A full channel waits: the daemon is behind, not gone.
                        let _ = tx.send(e);
                        super::wake(&waker);
                    }
                };
                if let Some(o) = out.as_mut() {
                    loop {
                        match o.read(&mut buf) {
                            Ok(0) | Err(_) => break,
                            Ok(n) => splitter.feed(&buf[..n], &mut send),
                        }
                    }
                }
                splitter.finish(&mut send);
                if let Ok(mut g) = c2.lock() {
                    if let Some(mut c) = g.take() {
                        let _ = c.kill();
                        let _ = c.wait();
                    }
                }
                if !opts.follow {
                    break;
                }
                if !s2.load(Ordering::Relaxed) {
                    tracing::warn!("journalctl ended; restarting it in 1 s.");
                    std::thread::sleep(Duration::from_secs(1));
                }
            }
            super::wake(&waker);
        })
        .map_err(|source| cmd::CmdError::Spawn {
            program: "journalctl".into(),
            source,
        })?;
    Ok(Reader {
        child,
        stop,
        thread: Some(thread),
    })
}

impl Reader {
    pub fn stop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Ok(mut g) = self.child.lock() {
            if let Some(c) = g.as_mut() {
                let _ = c.kill();
            }
        }
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }

    pub fn is_finished(&self) -> bool {
        self.thread.as_ref().is_none_or(|t| t.is_finished())
    }
}

impl Drop for Reader {
    fn drop(&mut self) {
        self.stop();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entries_from_journalctl_json() {
        let line = br#"{"__CURSOR":"s=abc;i=1","__REALTIME_TIMESTAMP":"1764082620000000","_PID":"4242","SYSLOG_IDENTIFIER":"sshd-session","MESSAGE":"Failed password for root from 203.0.113.7 port 50000 ssh2","_COMM":"sshd-session"}"#;
        let e = parse_entry(line).unwrap();
        assert_eq!(e.tag, b"sshd-session");
        assert_eq!(e.pid, Some(4242));
        assert_eq!(e.realtime_us, Some(1764082620000000));
        assert_eq!(e.cursor.as_deref(), Some("s=abc;i=1"));
        // Non-UTF-8 messages come as byte arrays.
        let line = br#"{"MESSAGE":[70,97,105,108,255],"_COMM":"sshd","SYSLOG_PID":"7"}"#;
        let e = parse_entry(line).unwrap();
        assert_eq!(
            (e.tag.as_slice(), e.pid, e.message.as_slice()),
            (&b"sshd"[..], Some(7), &b"Fail\xff"[..])
        );
        assert!(parse_entry(b"{\"MESSAGE\":null}").is_none());
        assert!(parse_entry(b"not json").is_none());
        let a = args(
            &JournalOptions {
                follow: true,
                ..Default::default()
            },
            Some("s=1"),
        );
        assert!(a.contains(&"--after-cursor=s=1".to_string()) && a.contains(&"-f".to_string()));
        assert!(a.contains(&"--identifier=sshd-session".to_string()));
    }
}
