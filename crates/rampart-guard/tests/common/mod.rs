//! Helpers of the end-to-end tests: network namespaces, a real sshd inside one, the
//! guard daemon on a thread — all cleaned up on drop, even when a test fails.
#![allow(dead_code)]

use rampart_guard::config::{GuardConfig, JournalMode, Rule, Secs, SourceConfig};
use rampart_guard::daemon::{Daemon, Options, StopHandle};
use rampart_guard::engine::Counters;
use rampart_testkit::{Auth, Login};
use std::path::Path;

pub use rampart_testkit::wait::until as wait_for;
pub use rampart_testkit::{Netns, Sshd};

/// Skips (returns false, printing why) unless root and every program is installed.
pub fn can_run(programs: &[&str]) -> bool {
    rampart_testkit::require::root_with(programs, "network namespaces, nft, sshd")
}

/// sshd on 127.0.0.1:2222 inside a namespace, with password logins, logging to
/// `dir/sshd.log` (`sshd -E`).
pub fn start_sshd(ns: &Netns, dir: &Path) -> Sshd {
    let cfg = rampart_testkit::SshdConfig::write(
        dir,
        2222,
        Some("127.0.0.1"),
        "UsePAM no\nPasswordAuthentication yes\nKbdInteractiveAuthentication no\nLogLevel INFO\nStrictModes no\n",
    );
    Sshd::start(cfg, Some(ns), Some(&dir.join("sshd.log")))
}

/// The log of a test sshd started with one.
pub fn log_of(sshd: &Sshd) -> &Path {
    sshd.log.as_deref().expect("sshd started with a log")
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
    let out = Login {
        user,
        host: "127.0.0.1",
        port: 2222,
        source: Some(source),
        auth: Auth::Password("wrong-password"),
    }
    .run(Some(ns), &["true"]);
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
