//! Log rotation in the middle of an attack loses no line: rename rotation and
//! copytruncate, while lines keep coming.

mod common;

use common::*;
use std::io::Write;
use std::time::Duration;

fn append(path: &std::path::Path, lines: &[String]) {
    let mut f = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .unwrap();
    for l in lines {
        f.write_all(l.as_bytes()).unwrap();
        f.write_all(b"\n").unwrap();
    }
}

fn attack(from: u32, n: u32) -> Vec<String> {
    (from..from + n)
        .map(|i| {
            format!(
                "Nov 25 14:57:00 h sshd[{i}]: Failed password for root from 198.51.{}.{} port {} ssh2",
                i / 250,
                i % 250 + 1,
                1000 + i % 60000
            )
        })
        .collect()
}

#[test]
fn rotation_in_the_middle_of_an_attack_loses_no_line() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("auth.log");
    append(
        &log,
        &["Nov 25 14:56:00 h sshd[1]: Server listening on 0.0.0.0 port 22.".to_string()],
    );
    // No firewall here (dry run): the counters tell whether every line was read.
    let mut cfg = guard_config(dir.path(), &log, None);
    cfg.burst.count = 30; // no bans: only counting
    let guard = Guard::start(cfg);
    let status = dir.path().join("status.json");
    let seen = || {
        rampart_guard::status::Status::read(&status)
            .map(|s| s.counters.lines)
            .unwrap_or(0)
    };
    assert!(wait_for(Duration::from_secs(5), || status.exists()));

    let mut sent = 0;
    for round in 0..6u32 {
        // Rotations are far apart in practice: let the reader see each new file once.
        assert!(
            wait_for(Duration::from_secs(5), || seen() >= sent),
            "before round {round}: {}",
            seen()
        );
        append(&log, &attack(round * 1000, 500));
        sent += 500;
        match round % 3 {
            // logrotate's default: rename, then the writer reopens a new file — and
            // writes a few more lines to the old one before it does.
            0 => {
                let old = dir.path().join(format!("auth.log.{round}"));
                std::fs::rename(&log, &old).unwrap();
                append(&old, &attack(round * 1000 + 500, 100));
                append(&log, &attack(round * 1000 + 600, 100));
                sent += 200;
            }
            // copytruncate: copy, truncate in place. Lines are only safe once read,
            // so wait for the reader first (as logrotate's copy would race too).
            1 => {
                assert!(
                    wait_for(Duration::from_secs(5), || seen() >= sent),
                    "round {round}: read {} of {sent}: {}",
                    seen(),
                    std::fs::read_to_string(&status).unwrap_or_default()
                );
                std::fs::copy(&log, dir.path().join(format!("auth.log.{round}"))).unwrap();
                std::fs::OpenOptions::new()
                    .write(true)
                    .truncate(true)
                    .open(&log)
                    .unwrap();
                append(&log, &attack(round * 1000 + 500, 300));
                sent += 300;
            }
            // Deleted and created again later.
            _ => {
                assert!(
                    wait_for(Duration::from_secs(5), || seen() >= sent),
                    "round {round}: read {} of {sent}: {}",
                    seen(),
                    std::fs::read_to_string(&status).unwrap_or_default()
                );
                std::fs::remove_file(&log).unwrap();
                std::thread::sleep(Duration::from_millis(300));
                append(&log, &attack(round * 1000 + 500, 50));
                sent += 50;
            }
        }
    }
    assert!(
        wait_for(Duration::from_secs(10), || seen() >= sent),
        "read {} of {sent} lines",
        seen()
    );
    let c = guard.stop();
    assert_eq!(c.lines, sent, "{c:?}");
    assert_eq!(c.failures, sent, "{c:?}");
    assert_eq!(c.unparsed, 0);
}
