//! `rampart scan` as operators use it: a one-shot scan's findings and exit code, and
//! `--watch` noticing a webshell written after it started.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use rampart_testkit::KillOnDrop;

const SHELL: &str = "<?php if(isset($_POST['c'])){ @eval(base64_decode($_POST['c'])); } ?>\n";
const PAGE: &str = "<?php\n$n = htmlspecialchars($_GET['n'] ?? '');\necho \"Hello $n\";\n";

fn rampart() -> Command {
    Command::new(env!("CARGO_BIN_EXE_rampart"))
}

/// Kills the child on drop, so a failing test never leaves a watcher behind.
#[test]
fn one_shot_scan_reports_the_shell_and_exits_1() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("index.php"), PAGE).unwrap();
    std::fs::create_dir(dir.path().join("uploads")).unwrap();
    std::fs::write(dir.path().join("uploads/avatar.php"), SHELL).unwrap();
    let out = rampart()
        .args(["scan", "--json"])
        .arg(dir.path())
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let lines: Vec<serde_json::Value> = String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let findings: Vec<_> = lines.iter().filter(|v| v["type"] == "finding").collect();
    assert_eq!(findings.len(), 1, "{lines:#?}");
    assert!(findings[0]["title"]
        .as_str()
        .unwrap()
        .contains("uploads/avatar.php"));
    assert_eq!(findings[0]["id"], "malware.webshell");
}

#[test]
fn watch_reports_a_shell_written_after_the_start() {
    let dir = tempfile::tempdir().unwrap();
    let child = rampart()
        .args(["scan", "--watch", "--json"])
        .arg(dir.path())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut child = KillOnDrop(child);
    let stdout = child.0.stdout.take().unwrap();
    let (tx, rx) = mpsc::channel::<serde_json::Value>();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines() {
            let Ok(line) = line else { return };
            let v = serde_json::from_str(&line).unwrap_or_else(|e| panic!("not JSON: {line}: {e}"));
            if tx.send(v).is_err() {
                return;
            }
        }
    });
    let next = |what: &str| -> serde_json::Value {
        let end = Instant::now() + Duration::from_secs(20);
        loop {
            let left = end.saturating_duration_since(Instant::now());
            match rx.recv_timeout(left) {
                Ok(v) if v["type"] == what => return v,
                Ok(_) => continue,
                Err(e) => panic!("no {what} event: {e}"),
            }
        }
    };
    next("ready");
    std::fs::write(dir.path().join("page.php"), PAGE).unwrap();
    std::fs::create_dir(dir.path().join("new")).unwrap();
    std::thread::sleep(Duration::from_millis(100));
    std::fs::write(dir.path().join("new/shell.php"), SHELL).unwrap();
    let d = next("detection");
    assert!(d["path"].as_str().unwrap().ends_with("new/shell.php"), "{d}");
    assert!(d["score"].as_u64().unwrap() >= 100, "{d}");
    assert!(
        d["quarantine"].is_null(),
        "not quarantined without --quarantine: {d}"
    );
    assert!(dir.path().join("new/shell.php").exists());
}
