//! The ssh family: sshd_config parsed through the host root (FakeHost is never live, so
//! `sshd -T` is not used here).

mod common;

use common::*;
use rampart_core::{Report, Severity};
use rampart_triage::checks::ssh::Ssh;

fn run(h: &FakeHost) -> Report {
    h.run(&[Box::new(Ssh)])
}

/// A hardened configuration: nothing to report.
const HARDENED: &str = "\
Include /etc/ssh/sshd_config.d/*.conf
Port 2222
PermitRootLogin no
PasswordAuthentication no
KbdInteractiveAuthentication no
UsePAM yes
MaxAuthTries 3
X11Forwarding no
";

fn host(config: &str) -> FakeHost {
    let h = FakeHost::new();
    h.write("/etc/ssh/sshd_config", config);
    h
}

#[test]
fn no_sshd_config_is_skipped() {
    let r = run(&FakeHost::new());
    assert!(r.findings.is_empty());
    assert!(
        r.skipped
            .iter()
            .any(|s| s.reason.contains("no /etc/ssh/sshd_config")),
        "{:#?}",
        r.skipped
    );
}

#[test]
fn hardened_config_has_no_findings() {
    let r = run(&host(HARDENED));
    assert!(r.findings.is_empty(), "{:#?}", r.findings);
    assert!(r.errors.is_empty(), "{:#?}", r.errors);
}

#[test]
fn defaults_are_judged_when_nothing_is_set() {
    let r = run(&host("# empty\n"));
    let p = expect_id(&r, "ssh.port-22");
    assert_eq!(p.severity, Severity::Medium);
    assert!(p.action.as_deref().unwrap().starts_with("ssh-port port="));
    assert!(
        p.evidence[0].detail.contains("default is 22"),
        "{}",
        p.evidence[0].detail
    );
    assert_eq!(expect_id(&r, "ssh.password-auth").severity, Severity::Medium);
    assert_eq!(expect_id(&r, "ssh.root-login").severity, Severity::Low);
    expect_id(&r, "ssh.max-auth-tries");
    expect_no_id(&r, "ssh.x11-forwarding");
}

#[test]
fn root_login_with_password() {
    let r = run(&host(
        &HARDENED.replace("PermitRootLogin no", "PermitRootLogin yes"),
    ));
    let f = expect_id(&r, "ssh.root-login");
    assert_eq!(f.severity, Severity::High);
    assert_eq!(f.evidence[0].location, "/etc/ssh/sshd_config:3");
    assert_eq!(f.action.as_deref(), Some("ssh-harden PermitRootLogin=no"));
}

#[test]
fn empty_passwords_are_critical() {
    let r = run(&host(&format!("{HARDENED}PermitEmptyPasswords yes\n")));
    let f = expect_id(&r, "ssh.empty-passwords");
    assert_eq!(f.severity, Severity::Critical);
    assert_eq!(f.evidence[0].location, "/etc/ssh/sshd_config:9");
}

#[test]
fn port_22_and_max_auth_tries() {
    let r = run(&host(
        &HARDENED
            .replace("Port 2222", "Port 22")
            .replace("MaxAuthTries 3", "MaxAuthTries 10"),
    ));
    assert_eq!(
        expect_id(&r, "ssh.port-22").evidence[0].location,
        "/etc/ssh/sshd_config:2"
    );
    let m = expect_id(&r, "ssh.max-auth-tries");
    assert!(m.title.contains("10"));
    assert_eq!(m.action.as_deref(), Some("ssh-harden MaxAuthTries=3"));
    // Two ports, one of them 22.
    let r = run(&host(&HARDENED.replace("Port 2222", "Port 2222\nPort 22")));
    assert_eq!(
        expect_id(&r, "ssh.port-22").evidence[0].location,
        "/etc/ssh/sshd_config:3"
    );
}

#[test]
fn included_file_sets_the_value_first() {
    // Debian's layout: the drop-in directory is included first, so it wins.
    let h = host(&HARDENED.replace("PasswordAuthentication no", "PasswordAuthentication yes"));
    h.write(
        "/etc/ssh/sshd_config.d/10-site.conf",
        "PasswordAuthentication no\n",
    );
    expect_no_id(&run(&h), "ssh.password-auth");
    // And a drop-in that weakens it is named with its own file and line.
    let h = host(HARDENED);
    h.write(
        "/etc/ssh/sshd_config.d/50-cloud.conf",
        "# cloud-init\nPasswordAuthentication yes\n",
    );
    h.write("/etc/ssh/sshd_config.d/ignored.conf.bak", "PermitRootLogin yes\n");
    let r = run(&h);
    let f = expect_id(&r, "ssh.password-auth");
    assert_eq!(f.evidence[0].location, "/etc/ssh/sshd_config.d/50-cloud.conf:2");
    expect_no_id(&r, "ssh.root-login");
}

#[test]
fn relative_include_is_under_etc_ssh() {
    let h = host("Include extra/*.conf\n");
    h.write("/etc/ssh/extra/a.conf", "PermitRootLogin yes\n");
    let r = run(&h);
    assert_eq!(
        expect_id(&r, "ssh.root-login").evidence[0].location,
        "/etc/ssh/extra/a.conf:1"
    );
}

#[test]
fn match_blocks_are_reported_separately() {
    let h = host(&format!("{HARDENED}Match User backup Address 10.0.0.0/8\n    PasswordAuthentication yes\n    PermitRootLogin yes\n"));
    let r = run(&h);
    let pw = expect_id(&r, "ssh.password-auth");
    assert!(pw.title.contains("Match User backup"), "{}", pw.title);
    assert_eq!(pw.evidence[0].location, "/etc/ssh/sshd_config:10");
    let root = expect_id(&r, "ssh.root-login");
    assert!(root.title.contains("Match"));
    // The global value (no) is not overridden by the Match block.
    assert_eq!(with_id(&r, "ssh.password-auth").len(), 1);
}

#[test]
fn weak_crypto_and_obsolete_options() {
    let r = run(&host(&format!(
        "{HARDENED}Ciphers aes128-ctr,3des-cbc\nProtocol 2,1\nUsePrivilegeSeparation no\n"
    )));
    assert!(expect_id(&r, "ssh.weak-crypto").title.contains("3des-cbc"));
    assert_eq!(expect_id(&r, "ssh.protocol-1").severity, Severity::High);
    assert_eq!(expect_id(&r, "ssh.obsolete-option").evidence.len(), 2);
}

#[test]
fn include_loop_is_an_error_not_a_hang() {
    let h = host("Include /etc/ssh/sshd_config\nPort 2222\n");
    let r = run(&h);
    assert!(
        r.errors
            .iter()
            .any(|e| e.message.contains("Include nested more than")),
        "{:#?}",
        r.errors
    );
    expect_no_id(&r, "ssh.port-22");
}

#[test]
fn symlink_loop_and_garbage_are_errors_naming_the_file() {
    let h = host(HARDENED);
    h.symlink("/etc/ssh/sshd_config.d/b.conf", "/etc/ssh/sshd_config.d/a.conf");
    h.symlink("/etc/ssh/sshd_config.d/a.conf", "/etc/ssh/sshd_config.d/b.conf");
    h.write("/etc/ssh/sshd_config.d/c.conf", b"\x00\x01\x02binary\xff\n");
    let r = run(&h);
    assert!(
        r.errors
            .iter()
            .any(|e| e.subject == "/etc/ssh/sshd_config.d/a.conf"),
        "{:#?}",
        r.errors
    );
    assert!(
        r.errors
            .iter()
            .any(|e| e.subject == "/etc/ssh/sshd_config.d/c.conf:1"),
        "{:#?}",
        r.errors
    );
    // The rest of the configuration was still judged.
    expect_no_id(&r, "ssh.port-22");
}
