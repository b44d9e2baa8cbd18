//! The ssh check on the live host, where the effective configuration comes from the real
//! `sshd -T` (FakeHost tests only reach the parsing fallback). A config of the test's own
//! with a generated host key is judged; sshd is never started.

mod common;

use common::{expect_id, expect_no_id};
use rampart_core::{HostRoot, Report};
use rampart_testkit::{require, SshdConfig};
use rampart_triage::checks::ssh;
use rampart_triage::{Context, Options, Out};

fn live_check(config: &str) -> Report {
    let ctx = Context::new(HostRoot::live(), Options::default());
    let mut out = Out::new("ssh");
    ssh::check(&ctx, config, &mut out);
    Report {
        findings: out.findings,
        errors: out.errors,
        skipped: out.skipped,
        ..Report::default()
    }
}

/// The effective-configuration branch ran: no note that sshd -T failed or was missing.
fn assert_sshd_t_ran(r: &Report) {
    assert!(
        !r.skipped.iter().any(|s| s.reason.contains("sshd -T")),
        "sshd -T did not run: {:#?}",
        r.skipped
    );
}

fn can_run() -> bool {
    require::root_with(&["sshd", "ssh-keygen"], "sshd -T reads the host key")
}

#[test]
fn effective_config_comes_from_sshd_t() {
    if !can_run() {
        return;
    }
    let d = tempfile::tempdir().unwrap();
    let conf = SshdConfig::write(d.path(), 2993, None, "PermitRootLogin yes\nMaxAuthTries 10\n");
    let path = conf.path.to_str().unwrap();

    let eff = ssh::effective_config(path).unwrap();
    assert_eq!(eff.get("port").unwrap().value, "2993");
    assert_eq!(eff.get("permitrootlogin").unwrap().value, "yes");
    assert_eq!(eff.get("maxauthtries").unwrap().value, "10");
    // Not in the file: sshd's own default, which only sshd -T knows for sure.
    assert_eq!(eff.get("passwordauthentication").unwrap().value, "yes");

    let r = live_check(path);
    assert_sshd_t_ran(&r);
    assert!(r.errors.is_empty(), "{:#?}", r.errors);
    // File and line from the parsed config, value confirmed by sshd -T.
    let root = expect_id(&r, "ssh.root-login");
    assert_eq!(root.evidence[0].location, format!("{path}:5"));
    assert!(
        root.evidence[0].detail.contains("confirmed by sshd -T"),
        "{:#?}",
        root.evidence
    );
    assert_eq!(expect_id(&r, "ssh.password-auth").evidence[0].location, "sshd -T");
    expect_id(&r, "ssh.max-auth-tries");
    expect_no_id(&r, "ssh.port-22");
}

#[test]
fn hardened_config_is_quiet_under_sshd_t() {
    if !can_run() {
        return;
    }
    let d = tempfile::tempdir().unwrap();
    let conf = SshdConfig::write(
        d.path(),
        2994,
        None,
        "PermitRootLogin no\nPasswordAuthentication no\nKbdInteractiveAuthentication no\nMaxAuthTries 3\n\
         X11Forwarding no\n",
    );
    let r = live_check(conf.path.to_str().unwrap());
    assert_sshd_t_ran(&r);
    for id in [
        "ssh.root-login",
        "ssh.password-auth",
        "ssh.max-auth-tries",
        "ssh.port-22",
        "ssh.kbd-interactive",
    ] {
        expect_no_id(&r, id);
    }
}

#[test]
fn a_config_sshd_rejects_falls_back_to_parsing_and_says_so() {
    if !can_run() {
        return;
    }
    let d = tempfile::tempdir().unwrap();
    let conf = SshdConfig::write(d.path(), 2995, None, "PermitRootLogin yes\nNoSuchKeyword yes\n");
    let path = conf.path.to_str().unwrap();
    assert!(ssh::effective_config(path).is_err());
    let r = live_check(path);
    assert!(
        r.skipped
            .iter()
            .any(|s| s.reason.contains("sshd -T failed") && s.reason.contains(path)),
        "{:#?}",
        r.skipped
    );
    let root = expect_id(&r, "ssh.root-login");
    assert_eq!(root.evidence[0].location, format!("{path}:5"));
    assert!(
        !root.evidence[0].detail.contains("sshd -T"),
        "{:#?}",
        root.evidence
    );
}
