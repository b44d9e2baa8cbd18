//! Helpers of the end-to-end tests: network namespaces, a real sshd inside one, the
//! guard daemon on a thread — all cleaned up on drop, even when a test fails.
#![allow(dead_code)]

use rampart_guard::config::{GuardConfig, JournalMode, Rule, Secs, SourceConfig};
use rampart_guard::daemon::{Daemon, Options, StopHandle};
use rampart_guard::engine::Counters;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

pub fn is_root() -> bool {
    unsafe { libc::geteuid() == 0 }
}

pub fn have(program: &str) -> bool {
    rampart_core::cmd::which(program).is_some()
}

/// Skips (returns false, printing why) unless root and every program is installed.
pub fn can_run(programs: &[&str]) -> bool {
    if !is_root() {
        eprintln!("skipping: needs root (network namespaces, nft, sshd)");
        return false;
    }
    for p in programs {
        if !have(p) {
            eprintln!("skipping: {p} is not installed (scripts/install-test-deps installs it)");
            return false;
        }
    }
    true
}

pub struct Netns(pub String);

impl Netns {
    pub fn new(tag: &str) -> Netns {
        let name = format!("rampart-g-{}-{tag}", std::process::id());
        let _ = Command::new("ip").args(["netns", "del", &name]).output();
        run("ip", &["netns", "add", &name]);
        let ns = Netns(name);
        run("ip", &["netns", "exec", &ns.0, "ip", "link", "set", "lo", "up"]);
        ns
    }
}

impl Drop for Netns {
    fn drop(&mut self) {
        let _ = Command::new("ip").args(["netns", "del", &self.0]).output();
    }
}

pub fn run(program: &str, args: &[&str]) -> Output {
    let out = Command::new(program)
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("{program}: {e}"));
    assert!(
        out.status.success(),
        "{program} {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

/// sshd on 127.0.0.1:2222 inside a namespace, logging to `log` (`sshd -E`).
pub struct Sshd {
    child: Child,
    pub log: PathBuf,
}

impl Sshd {
    pub fn start(ns: &Netns, dir: &Path) -> Sshd {
        std::fs::create_dir_all("/run/sshd").unwrap();
        let key = dir.join("hostkey");
        run(
            "ssh-keygen",
            &["-q", "-t", "ed25519", "-N", "", "-f", key.to_str().unwrap()],
        );
        let cfg = dir.join("sshd_config");
        std::fs::write(
            &cfg,
            format!(
                "Port 2222\nListenAddress 127.0.0.1\nHostKey {}\nPidFile {}\nUsePAM no\n\
                 PasswordAuthentication yes\nKbdInteractiveAuthentication no\nLogLevel INFO\nStrictModes no\n",
                key.display(),
                dir.join("sshd.pid").display()
            ),
        )
        .unwrap();
        let log = dir.join("sshd.log");
        let sshd = rampart_core::cmd::which("sshd").unwrap();
        let child = Command::new("ip")
            .args(["netns", "exec", &ns.0])
            .arg(sshd)
            .args(["-D", "-f", cfg.to_str().unwrap(), "-E", log.to_str().unwrap()])
            .stdin(Stdio::null())
            .spawn()
            .expect("sshd");
        let start = Instant::now();
        while !std::fs::read_to_string(&log)
            .unwrap_or_default()
            .contains("Server listening")
        {
            assert!(start.elapsed() < Duration::from_secs(10), "sshd did not start");
            std::thread::sleep(Duration::from_millis(50));
        }
        Sshd { child, log }
    }
}

impl Drop for Sshd {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// What an ssh login attempt from `source` saw.
#[derive(Debug, PartialEq, Eq)]
pub enum Attempt {
    /// sshd answered and refused the password.
    Refused,
    /// No answer: the connection was dropped.
    TimedOut,
    Other(String),
}

/// One password login as `user` with a wrong password, from `source` (127.0.0.x).
pub fn ssh_attempt(ns: &Netns, source: &str, user: &str) -> Attempt {
    let out = Command::new("ip")
        .args([
            "netns",
            "exec",
            &ns.0,
            "sshpass",
            "-p",
            "wrong-password",
            "ssh",
            "-b",
            source,
            "-p",
            "2222",
        ])
        .args([
            "-o",
            "StrictHostKeyChecking=no",
            "-o",
            "UserKnownHostsFile=/dev/null",
            "-o",
            "PreferredAuthentications=password",
            "-o",
            "PubkeyAuthentication=no",
            "-o",
            "NumberOfPasswordPrompts=1",
            "-o",
            "ConnectTimeout=2",
            "-o",
            "LogLevel=ERROR",
        ])
        .arg(format!("{user}@127.0.0.1"))
        .arg("true")
        .stdin(Stdio::null())
        .output()
        .expect("ssh");
    let err = String::from_utf8_lossy(&out.stderr).to_string();
    if err.contains("Permission denied") {
        Attempt::Refused
    } else if err.contains("timed out") {
        Attempt::TimedOut
    } else {
        Attempt::Other(err)
    }
}

pub fn guard_config(dir: &Path, log: &Path, netns: Option<&str>) -> GuardConfig {
    GuardConfig {
        db: dir.join("rampart.db"),
        status_file: dir.join("status.json"),
        allow_loopback_bans: true,
        burst: Rule {
            count: 3,
            window: Secs(60),
        },
        sources: vec![SourceConfig {
            path: log.to_path_buf(),
        }],
        auto_sources: false,
        journal: JournalMode::Off,
        netns: netns.map(str::to_string),
        dry_run: netns.is_none(),
        ..GuardConfig::default()
    }
}

/// The daemon on a thread; stopped and joined on drop.
pub struct Guard {
    stop: StopHandle,
    thread: Option<std::thread::JoinHandle<Counters>>,
}

impl Guard {
    pub fn start(cfg: GuardConfig) -> Guard {
        let mut opts = Options::new(cfg);
        // 127.0.0.1 is this host's own address: never banned.
        opts.own_addresses = Some(vec!["127.0.0.1".parse().unwrap()]);
        let daemon = Daemon::new(opts).expect("guard starts");
        let stop = daemon.stop_handle();
        let thread = std::thread::spawn(move || daemon.run().expect("guard runs"));
        Guard {
            stop,
            thread: Some(thread),
        }
    }

    pub fn stop(mut self) -> Counters {
        self.stop.stop();
        self.thread.take().unwrap().join().expect("guard thread")
    }
}

impl Drop for Guard {
    fn drop(&mut self) {
        self.stop.stop();
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// Waits up to `limit` for `f` to hold.
pub fn wait_for(limit: Duration, mut f: impl FnMut() -> bool) -> bool {
    let start = Instant::now();
    while start.elapsed() < limit {
        if f() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(25));
    }
    f()
}
