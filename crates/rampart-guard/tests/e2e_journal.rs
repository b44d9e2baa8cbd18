//! The journal source against the real journalctl: a journal file written by
//! systemd-journal-remote from export-format entries (journald does not run here),
//! read by the daemon through `journalctl -f -o json --file`.

mod common;

use common::*;
use rampart_guard::config::JournalMode;
use std::fmt::Write as _;
use std::process::Command;
use std::time::Duration;

const JOURNAL_REMOTE: &str = "/lib/systemd/systemd-journal-remote";

#[test]
fn journal_entries_are_parsed_and_banned() {
    if !can_run(&["journalctl"]) {
        return;
    }
    if !std::path::Path::new(JOURNAL_REMOTE).exists() {
        eprintln!("skipping: {JOURNAL_REMOTE} is not installed (scripts/install-test-deps installs it)");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let now_us = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_micros();
    let mut export = String::new();
    let entries = [
        ("sshd-session", "Failed password for root from 203.0.113.5 port 1000 ssh2"),
        ("sshd-session", "Connection closed by authenticating user root 203.0.113.5 port 1000 [preauth]"),
        ("sshd-session", "Invalid user oracle from 203.0.113.5 port 1001"),
        ("CRON", "pam_unix(cron:session): session opened for user root(uid=0) by (uid=0)"),
        ("sshd-session", "Failed password for invalid user oracle from 203.0.113.5 port 1001 ssh2"),
        ("sshd", "Failed password for root from 203.0.113.5 port 1002 ssh2"),
        ("mariadbd", "2026-11-25 14:57:33 3 [Warning] Access denied for user 'app'@'198.51.100.3' (using password: YES)"),
        ("sshd", "Failed password for root from 203.0.113.5 port 1003 ssh2"),
        ("sshd", "Accepted publickey for ops from 192.0.2.10 port 1004 ssh2: ED25519 SHA256:abc"),
    ];
    for (i, (tag, msg)) in entries.iter().enumerate() {
        let ts = now_us + i as u128;
        write!(
            export,
            "__REALTIME_TIMESTAMP={ts}\n__MONOTONIC_TIMESTAMP={ts}\n_BOOT_ID=0123456789abcdef0123456789abcdef\n\
             _TRANSPORT=syslog\nSYSLOG_IDENTIFIER={tag}\n_PID={}\nMESSAGE={msg}\n\n",
            100 + i
        )
        .unwrap();
    }
    let export_path = dir.path().join("export.txt");
    std::fs::write(&export_path, export).unwrap();
    let journal = dir.path().join("test.journal");
    let out = Command::new(JOURNAL_REMOTE)
        .arg(format!("--output={}", journal.display()))
        .arg(&export_path)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));

    let mut cfg = guard_config(dir.path(), &dir.path().join("none.log"), None);
    cfg.sources.clear();
    cfg.journal = JournalMode::On;
    cfg.from_beginning = true;
    cfg.burst.count = 5;
    let mut opts = rampart_guard::daemon::Options::new(cfg);
    opts.journal_files = vec![journal];
    opts.own_addresses = Some(vec![]);
    let daemon = rampart_guard::daemon::Daemon::new(opts).unwrap();
    let stop = daemon.stop_handle();
    let t = std::thread::spawn(move || daemon.run().unwrap());
    let status = dir.path().join("status.json");
    let done = wait_for(Duration::from_secs(10), || {
        rampart_guard::status::Status::read(&status)
            .map(|s| s.counters.lines >= 8)
            .unwrap_or(false)
    });
    stop.stop();
    let c = t.join().unwrap();
    assert!(done, "{c:?}");
    // CRON is not among the identifiers journalctl is asked for.
    assert_eq!(c.lines, 8, "{c:?}");
    assert_eq!(c.failures, 7, "{c:?}"); // 6 sshd failure lines (one a closing line) and MariaDB
    assert_eq!(c.successes, 1, "{c:?}");
    assert_eq!(c.bans, 1, "{c:?}");
    // A dry run (no netns configured here) leaves the database alone.
    let store = rampart_store::Store::open(&dir.path().join("rampart.db")).unwrap();
    assert!(store.bans().get("203.0.113.5").unwrap().is_none());
}
