//! `rampart respond` from the command line: plan is the default and changes nothing,
//! apply refuses to run unasked without a terminal, generated passwords go to a 0600
//! file and not to stdout, log and undo work from the journal.

use std::os::unix::fs::PermissionsExt;
use std::process::{Command, Output, Stdio};

fn rampart(root: &std::path::Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_rampart"))
        .arg("respond")
        .args(args)
        .args([
            "--root",
            root.to_str().unwrap(),
            "--journal",
            root.join("journal").to_str().unwrap(),
        ])
        .env_remove("SUDO_USER")
        .env_remove("SSH_CONNECTION")
        .stdin(Stdio::null())
        .output()
        .unwrap()
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

#[test]
fn plan_apply_log_undo_from_the_command_line() {
    if !rampart_testkit::require::root("usermod --prefix") {
        return;
    }
    let d = tempfile::tempdir().unwrap();
    let etc = d.path().join("etc");
    rampart_testkit::fs::write_accounts(
        d.path(),
        "root:x:0:0::/root:/bin/sh\nalice:x:1000:1000::/home/alice:/bin/sh\n",
        "root:*:19000::::::\nalice:!:19000:0:99999:7:::\n",
        "root:x:0:\nalice:x:1000:\n",
    );
    let shadow0 = std::fs::read(etc.join("shadow")).unwrap();

    let out = rampart(d.path(), &["account-lock", "user=alice"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(text(&out.stdout).contains("Plan for `account-lock user=alice`"));
    assert!(text(&out.stdout).contains("Nothing was changed"));

    let out = rampart(d.path(), &["apply", "passwd-rotate", "user=alice"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("--yes"), "{}", text(&out.stderr));
    assert_eq!(std::fs::read(etc.join("shadow")).unwrap(), shadow0);

    let secrets = d.path().join("new-passwords");
    let out = rampart(
        d.path(),
        &[
            "apply",
            "passwd-rotate",
            "user=alice",
            "--yes",
            "--out",
            secrets.to_str().unwrap(),
        ],
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    let file = std::fs::read_to_string(&secrets).unwrap();
    let pw = file.strip_prefix("alice\t").unwrap().trim();
    assert_eq!(pw.len(), 20);
    assert_eq!(
        std::fs::metadata(&secrets).unwrap().permissions().mode() & 0o777,
        0o600
    );
    assert!(!text(&out.stdout).contains(pw) && !text(&out.stderr).contains(pw));

    let out = rampart(d.path(), &["log", "--json"]);
    let line: serde_json::Value = serde_json::from_str(text(&out.stdout).lines().next().unwrap()).unwrap();
    assert_eq!(line["state"], "verified");
    assert_eq!(line["action"], "passwd-rotate user=alice");

    let passwd0 = std::fs::read(etc.join("passwd")).unwrap();
    let out = rampart(d.path(), &["apply", "account-lock", "user=alice", "--yes"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_ne!(std::fs::read(etc.join("passwd")).unwrap(), passwd0);

    // Newest first: the lock is undone, then the rotation.
    let out = rampart(d.path(), &["undo", "--all"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let undone = text(&out.stdout)
        .lines()
        .filter(|l| l.starts_with("Undone"))
        .count();
    assert_eq!(undone, 2, "{}", text(&out.stdout));
    assert!(
        text(&out.stdout).find("account-lock").unwrap() < text(&out.stdout).find("passwd-rotate").unwrap()
    );
    assert_eq!(std::fs::read(etc.join("shadow")).unwrap(), shadow0);
    assert_eq!(std::fs::read(etc.join("passwd")).unwrap(), passwd0);
    let out = rampart(d.path(), &["undo", "--last"]);
    assert_eq!(out.status.code(), Some(2), "nothing left to undo");
}

#[test]
fn from_triage_without_a_choice_is_refused_non_interactively() {
    let d = tempfile::tempdir().unwrap();
    let out = rampart(d.path(), &["apply", "--from-triage"]);
    let (o, e) = (text(&out.stdout), text(&out.stderr));
    if o.contains("Triage found nothing") {
        assert!(out.status.success());
    } else {
        assert_eq!(out.status.code(), Some(2), "{o}{e}");
        assert!(e.contains("not a terminal") && e.contains("--only"), "{e}");
    }
}

/// nft or sshd missing: run the real binary in a private mount namespace where the tool
/// is hidden behind /dev/null (the host is not touched), and expect a clear error and an
/// empty journal.
#[test]
fn missing_nft_or_sshd_is_a_clear_error_before_any_change() {
    if !rampart_testkit::require::root_with(&["unshare"], "a private mount namespace") {
        return;
    }
    let d = tempfile::tempdir().unwrap();
    let conf = d.path().join("sshd_config");
    std::fs::write(&conf, "Port 22\n").unwrap();
    let journal = d.path().join("journal");
    for (tool, action, want) in [
        ("nft", "firewall-baseline", "nft is not installed"),
        ("sshd", "ssh-port port=2299", "sshd is not installed"),
    ] {
        let Some(path) = rampart_core::cmd::which(tool) else {
            continue;
        };
        let script = format!(
            "mount --bind /dev/null {} && exec {} respond apply {action} --yes --journal {} --sshd-config {}",
            path.display(),
            env!("CARGO_BIN_EXE_rampart"),
            journal.display(),
            conf.display()
        );
        let out = Command::new("unshare")
            .args(["--mount", "--propagation", "private", "sh", "-c", &script])
            .env_remove("SSH_CONNECTION")
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(2), "{tool}: {}", text(&out.stderr));
        assert!(text(&out.stderr).contains(want), "{tool}: {}", text(&out.stderr));
        assert!(!journal.exists() || std::fs::read_dir(&journal).unwrap().next().is_none());
    }
    assert_eq!(std::fs::read_to_string(&conf).unwrap(), "Port 22\n");
}
