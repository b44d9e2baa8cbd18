//! kill-quarantine against real processes: a copy of `sleep` under a temporary name is
//! killed and its executable moved into the quarantine (also when it was deleted from disk
//! while running); undo puts the file back byte for byte.

use rampart_respond::engine::{self, Which};
use rampart_respond::{ActionSpec, Env};
use rampart_testkit::{Sshd, SshdConfig};
use std::os::unix::process::ExitStatusExt;
use std::process::Command;

fn env(dir: &std::path::Path) -> Env {
    Env {
        journal_dir: dir.join("journal"),
        quarantine_dir: dir.join("quarantine"),
        ..Env::live()
    }
}

/// Waits until the child has exec'd the copy (right after fork, /proc still shows the test).
fn wait_exec(pid: u32, bin: &std::path::Path) {
    let start = std::time::Instant::now();
    let execd = || {
        std::fs::read_link(format!("/proc/{pid}/exe")).ok().as_deref() == Some(bin)
            && std::fs::read(format!("/proc/{pid}/cmdline")).is_ok_and(|c| c.ends_with(b"300\0"))
    };
    while !execd() && start.elapsed() < std::time::Duration::from_secs(10) {
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
}

fn spawn_copy(bin: &std::path::Path) -> std::process::Child {
    rampart_testkit::process::spawn_fresh_copy(Command::new(bin).arg("300"))
}

fn evil_copy(dir: &std::path::Path) -> (std::path::PathBuf, Vec<u8>) {
    let bin = dir.join("kworker-evil");
    std::fs::copy("/bin/sleep", &bin).unwrap();
    (bin.clone(), std::fs::read(&bin).unwrap())
}

#[test]
fn kills_and_quarantines_then_undo_restores_the_file() {
    let d = tempfile::tempdir().unwrap();
    let (bin, bytes) = evil_copy(d.path());
    let mut child = spawn_copy(&bin);
    wait_exec(child.id(), &bin);
    let spec = ActionSpec::parse_str(&format!("kill-quarantine pid={}", child.id())).unwrap();
    let plan = engine::plan(&env(d.path()), &spec).unwrap();
    assert!(
        plan.changes.iter().any(|c| c.contains("kworker-evil")),
        "{:?}",
        plan.changes
    );
    assert!(plan.changes.iter().any(|c| c.contains("300")));

    let applied = engine::apply(&env(d.path()), &spec).unwrap();
    let status = child.wait().unwrap();
    assert_eq!(status.signal(), Some(libc::SIGKILL));
    assert!(!bin.exists(), "the executable must be moved out");
    let record =
        std::fs::read_to_string(d.path().join("journal").join(&applied.id).join("record.json")).unwrap();
    assert!(
        record.contains("kworker-evil 300"),
        "evidence must record the command line"
    );

    engine::undo(&env(d.path()), &Which::Last).unwrap();
    assert_eq!(std::fs::read(&bin).unwrap(), bytes);
}

#[test]
fn a_deleted_executable_is_recovered_from_proc() {
    let d = tempfile::tempdir().unwrap();
    let (bin, bytes) = evil_copy(d.path());
    let mut child = spawn_copy(&bin);
    wait_exec(child.id(), &bin);
    std::fs::remove_file(&bin).unwrap();
    let spec = ActionSpec::parse_str(&format!("kill-quarantine pid={}", child.id())).unwrap();
    engine::apply(&env(d.path()), &spec).unwrap();
    assert_eq!(child.wait().unwrap().signal(), Some(libc::SIGKILL));
    let q = rampart_quarantine::Quarantine::open(d.path().join("quarantine")).unwrap();
    let (items, _) = q.list().unwrap();
    assert_eq!(items.len(), 1);
    assert_eq!(
        items[0].sha256,
        rampart_quarantine::sha256_file(&write(d.path(), &bytes)).unwrap()
    );
    assert!(items[0].reason.contains("deleted on disk"));
}

fn write(dir: &std::path::Path, bytes: &[u8]) -> std::path::PathBuf {
    let p = dir.join("reference");
    std::fs::write(&p, bytes).unwrap();
    p
}

#[test]
fn refuses_init_itself_and_missing_processes() {
    let d = tempfile::tempdir().unwrap();
    let e = env(d.path());
    let err = engine::plan(&e, &ActionSpec::parse_str("kill-quarantine pid=1").unwrap()).unwrap_err();
    assert!(err.to_string().contains("PID 1"), "{err}");
    let me = std::process::id();
    let err = engine::plan(
        &e,
        &ActionSpec::parse_str(&format!("kill-quarantine pid={me}")).unwrap(),
    )
    .unwrap_err();
    assert!(err.to_string().contains("your own session"), "{err}");
    let err = engine::plan(
        &e,
        &ActionSpec::parse_str("kill-quarantine pid=999999999").unwrap(),
    )
    .unwrap_err();
    assert!(err.to_string().contains("no process"), "{err}");
    let err = engine::plan(&e, &ActionSpec::parse_str("kill-quarantine pid=abc").unwrap()).unwrap_err();
    assert!(err.to_string().contains("not a process id"), "{err}");
}

/// The SSH listener is refused (a running sshd started by the test, on a loopback port).
#[test]
fn refuses_the_ssh_listener() {
    if !rampart_testkit::require::root_with(&["sshd", "ssh-keygen"], "starts sshd") {
        return;
    }
    let d = tempfile::tempdir().unwrap();
    let conf = SshdConfig::write(d.path(), 2988, Some("127.0.0.1"), "");
    let sshd = Sshd::start(conf, None, None);
    let spec = ActionSpec::parse_str(&format!("kill-quarantine pid={}", sshd.pid())).unwrap();
    let res = engine::plan(&env(d.path()), &spec);
    drop(sshd);
    let err = res.unwrap_err();
    assert!(err.to_string().contains("SSH server"), "{err}");
}
