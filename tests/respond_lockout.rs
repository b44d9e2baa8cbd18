//! The lockout suite: the real `rampart` binary is killed (SIGKILL, through the
//! RAMPART_CRASH_AT test hook) at every step of an SSH port move and of a firewall
//! apply, and at the step of a confirm that closes the old port. Right after each kill
//! and again after the rollback window, the operator must still be able to log in on
//! the old or the new port; after the window, sshd_config must be byte-identical and the
//! ruleset as before. Prints the count of lockouts, which must be 0.

mod respond_support;

use respond_support::*;
use std::os::unix::process::ExitStatusExt;
use std::time::Duration;

struct Tally {
    scenarios: usize,
    lockouts: Vec<String>,
}

impl Tally {
    fn check(&mut self, lab: &Lab, what: &str, ports: &[u16]) {
        if !ports.iter().any(|&p| lab.login(ALLOWED, p)) {
            self.lockouts
                .push(format!("{what}: no login on any of {ports:?}"));
        }
    }
}

/// Killed by the crash hook (SIGKILL) when a step was named, else completed.
fn assert_killed_or_done(out: &std::process::Output, step: Option<&str>, what: &str) {
    match step {
        Some(_) => assert_eq!(out.status.signal(), Some(9), "{what}: {}", stderr(out)),
        None => assert!(out.status.success(), "{what}: {}", stderr(out)),
    }
}

#[test]
fn killing_rampart_at_any_step_never_locks_the_operator_out() {
    let Some(lab) = Lab::new(2301) else { return };
    let original = lab.config_bytes();
    let rules_before = lab.nft_chains();
    let mut tally = Tally {
        scenarios: 0,
        lockouts: Vec::new(),
    };
    let timeout = "2";

    // SSH port moves, killed at each step of apply (None: apply completes, nobody confirms).
    let steps = [
        Some("journaled"),
        Some("saved"),
        Some("armed"),
        Some("firewall-opened"),
        Some("config-written"),
        Some("reloaded"),
        None,
    ];
    for (i, step) in steps.iter().enumerate() {
        let new_port = 2310 + i as u16;
        let port_arg = format!("port={new_port}");
        let envs: Vec<(&str, &str)> = step.map(|s| vec![("RAMPART_CRASH_AT", s)]).unwrap_or_default();
        let out = lab.rampart(
            &[
                "apply",
                "ssh-port",
                &port_arg,
                "from=192.0.2.2/32",
                "--yes",
                "--timeout",
                timeout,
            ],
            &envs,
        );
        let what = format!(
            "ssh-port killed at {}",
            step.unwrap_or("(completed, not confirmed)")
        );
        assert_killed_or_done(&out, *step, &what);
        tally.scenarios += 1;
        tally.check(&lab, &format!("{what}, right after"), &[2301, new_port]);
        assert!(
            lab.wait_settled(Duration::from_secs(15)),
            "{what}: rollback did not run"
        );
        lab.wait_listening(new_port, false);
        tally.check(&lab, &format!("{what}, after the rollback window"), &[2301]);
        assert_eq!(
            lab.config_bytes(),
            original,
            "{what}: sshd_config not restored byte for byte"
        );
        assert_eq!(lab.nft_chains(), rules_before, "{what}: ruleset not restored");
    }

    // A confirm killed after it removed the old port, before it recorded the
    // confirmation: the rollback must bring the old port back.
    {
        lab.rampart_ok(&["apply", "ssh-port", "port=2320", "--yes", "--timeout", "4"]);
        let c = lab.rampart(
            &["confirm", "--force"],
            &[("RAMPART_CRASH_AT", "confirm-config-written")],
        );
        assert_eq!(c.status.signal(), Some(9), "{}", stderr(&c));
        tally.scenarios += 1;
        tally.check(
            &lab,
            "confirm killed after editing sshd_config, right after",
            &[2301, 2320],
        );
        assert!(lab.wait_settled(Duration::from_secs(15)));
        lab.wait_listening(2301, true);
        tally.check(
            &lab,
            "confirm killed after editing sshd_config, after the window",
            &[2301],
        );
        assert_eq!(lab.config_bytes(), original);
    }

    // Firewall applies with a policy that shuts the operator out (forced), killed at each step.
    for step in [
        Some("journaled"),
        Some("saved"),
        Some("armed"),
        Some("applied"),
        None,
    ] {
        let envs: Vec<(&str, &str)> = step.map(|s| vec![("RAMPART_CRASH_AT", s)]).unwrap_or_default();
        let out = lab.rampart(&locking_firewall(timeout), &envs);
        let what = format!(
            "firewall killed at {}",
            step.unwrap_or("(completed, not confirmed)")
        );
        assert_killed_or_done(&out, step, &what);
        tally.scenarios += 1;
        assert!(
            lab.wait_settled(Duration::from_secs(15)),
            "{what}: rollback did not run"
        );
        tally.check(&lab, &format!("{what}, after the rollback window"), &[2301]);
        assert_eq!(lab.nft_chains(), rules_before, "{what}: ruleset not restored");
    }

    println!(
        "lockout suite: {} scenarios, {} lockouts{}",
        tally.scenarios,
        tally.lockouts.len(),
        if tally.lockouts.is_empty() {
            String::new()
        } else {
            format!(": {:?}", tally.lockouts)
        }
    );
    assert!(tally.lockouts.is_empty(), "{:#?}", tally.lockouts);
}

/// The operator's path after a crash (or a reboot that killed the rollback timer): the
/// process died mid-apply, and `rampart respond undo --last` run later from a fresh
/// process restores sshd_config and the ruleset byte for byte.
#[test]
fn undo_after_a_crash_restores_byte_identical_config_and_ruleset() {
    let Some(lab) = Lab::new(2401) else { return };
    let original = lab.config_bytes();
    let rules_before = lab.nft_chains();
    let out = lab.rampart(
        &[
            "apply",
            "ssh-port",
            "port=2402",
            "from=192.0.2.2/32",
            "--yes",
            "--timeout",
            "120",
        ],
        &[("RAMPART_CRASH_AT", "reloaded")],
    );
    assert_eq!(out.status.signal(), Some(9), "{}", stderr(&out));
    assert_ne!(
        lab.config_bytes(),
        original,
        "the crash came after the config was written"
    );
    assert!(lab.wait_listening(2402, true));

    lab.rampart_ok(&["undo", "--last"]);
    assert_eq!(lab.config_bytes(), original);
    assert_eq!(lab.nft_chains(), rules_before);
    assert!(lab.wait_listening(2402, false));
    assert!(lab.login(ALLOWED, 2401));
    let log = stdout(&lab.rampart(&["log"], &[]));
    assert!(log.contains("undone"), "{log}");
}

#[test]
fn undo_after_a_crash_restores_byte_identical_shadow() {
    if !rampart_testkit::require::root("usermod --prefix") {
        return;
    }
    let d = tempfile::tempdir().unwrap();
    let etc = d.path().join("etc");
    let shadow = "root:*:19000::::::\nbob:$6$saltsaltsaltsalt$8ZxZHDsmKuRS0HI8Ycj3wXj5Jv6XfK3x0d7Hb2z5yqfH9bLdJrQdXq6b6nNf1a8UuZQmJbqQZr0o7GQZp5dK0/:19001:0:99999:7:::\n";
    rampart_testkit::fs::write_accounts(
        d.path(),
        "root:x:0:0::/root:/bin/sh\nbob:x:1000:1000::/home/bob:/bin/sh\n",
        shadow,
        "root:x:0:\nbob:x:1000:\n",
    );
    let run = |args: &[&str], crash: Option<&str>| {
        let mut c = std::process::Command::new(env!("CARGO_BIN_EXE_rampart"));
        c.arg("respond")
            .args(args)
            .args([
                "--root",
                d.path().to_str().unwrap(),
                "--journal",
                d.path().join("j").to_str().unwrap(),
            ])
            .env_remove("RAMPART_CRASH_AT");
        if let Some(s) = crash {
            c.env("RAMPART_CRASH_AT", s);
        }
        c.output().unwrap()
    };
    let out = run(
        &["apply", "passwd-rotate", "user=bob", "--yes"],
        Some("passwd-set"),
    );
    assert_eq!(out.status.signal(), Some(9));
    assert_ne!(
        std::fs::read_to_string(etc.join("shadow")).unwrap(),
        shadow,
        "the crash came after the change"
    );
    let u = run(&["undo", "--last"], None);
    assert!(u.status.success(), "{}", stderr(&u));
    assert_eq!(std::fs::read_to_string(etc.join("shadow")).unwrap(), shadow);
}

/// A reboot kills the detached rollback: a confirm that comes after the deadline must
/// not keep the unverified change; it rolls it back and says so.
#[test]
fn a_lost_rollback_timer_is_made_up_for_by_the_next_confirm() {
    let Some(lab) = Lab::new(2501) else { return };
    let original = lab.config_bytes();
    // The window must outlast the apply itself (reload + listen check), even on a loaded
    // machine: a rollback that fires mid-apply makes the apply fail.
    lab.rampart_ok(&["apply", "ssh-port", "port=2502", "--yes", "--timeout", "3"]);
    // "Reboot": the rollback process dies.
    let entry = std::fs::read_dir(&lab.journal)
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .find(|p| p.is_dir())
        .unwrap();
    let record: serde_json::Value =
        serde_json::from_slice(&std::fs::read(entry.join("record.json")).unwrap()).unwrap();
    let pid = record["rollback_pid"].as_i64().expect("rollback pid recorded") as i32;
    // SAFETY: killing the rollback process this test's rampart started.
    unsafe {
        libc::kill(pid, libc::SIGKILL);
    }
    std::thread::sleep(Duration::from_secs(3 + 5 + 2));
    assert_ne!(
        lab.config_bytes(),
        original,
        "nothing rolled back without the timer"
    );
    let c = lab.rampart(&["confirm"], &[]);
    assert_eq!(c.status.code(), Some(2));
    assert!(stderr(&c).contains("too late"), "{}", stderr(&c));
    assert_eq!(lab.config_bytes(), original);
    assert!(lab.wait_listening(2502, false));
    assert!(lab.login(ALLOWED, 2501));
}

/// `rampart respond resume` (at boot): a change still inside its window whose rollback a
/// reboot killed gets a new rollback, which then runs on time; a change whose deadline
/// passed is rolled back at once.
#[test]
fn resume_after_a_reboot_rearms_or_rolls_back() {
    let Some(lab) = Lab::new(2601) else { return };
    let original = lab.config_bytes();

    lab.rampart_ok(&["apply", "ssh-port", "port=2602", "--yes", "--timeout", "6"]);
    lab.kill_rollback();
    let r = lab.rampart_ok(&["resume"]);
    assert!(stdout(&r).contains("re-armed"), "{}", stdout(&r));
    assert_ne!(
        lab.config_bytes(),
        original,
        "still inside the window: nothing undone yet"
    );
    // Resuming again must not start a second rollback.
    let again = lab.rampart_ok(&["resume"]);
    assert!(stdout(&again).contains("is armed"), "{}", stdout(&again));
    assert!(
        lab.wait_settled(Duration::from_secs(15)),
        "the re-armed rollback did not run"
    );
    assert_eq!(lab.config_bytes(), original);
    assert!(lab.wait_listening(2602, false));
    assert!(lab.login(ALLOWED, 2601));

    lab.rampart_ok(&["apply", "ssh-port", "port=2603", "--yes", "--timeout", "3"]);
    lab.kill_rollback();
    std::thread::sleep(Duration::from_secs(4));
    assert_ne!(
        lab.config_bytes(),
        original,
        "nothing rolled back without the timer"
    );
    let r = lab.rampart_ok(&["resume"]);
    assert!(stdout(&r).contains("Rolled back"), "{}", stdout(&r));
    assert_eq!(lab.config_bytes(), original);
    assert!(lab.wait_listening(2603, false));
    assert!(lab.login(ALLOWED, 2601));
    let none = lab.rampart_ok(&["resume"]);
    assert!(stdout(&none).contains("Nothing is waiting"), "{}", stdout(&none));
}
