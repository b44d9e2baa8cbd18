//! The passwords family (PAM password quality, hash method, login.defs aging).

mod common;

use common::*;
use rampart_core::{Report, Severity};
use rampart_triage::checks::passwords::Passwords;

fn run(h: &FakeHost) -> Report {
    h.run(&[Box::new(Passwords)])
}

const DEBIAN_COMMON_PASSWORD: &str = "\
# /etc/pam.d/common-password
password\t[success=1 default=ignore]\tpam_unix.so obscure yescrypt
password\trequisite\t\t\tpam_deny.so
password\trequired\t\t\tpam_permit.so
";

const WITH_PWQUALITY: &str = "\
password\trequisite\t\t\tpam_pwquality.so retry=3
password\t[success=1 default=ignore]\tpam_unix.so obscure use_authtok try_first_pass yescrypt
password\trequisite\t\t\tpam_deny.so
";

const GOOD_PWQUALITY: &str = "minlen = 12\nucredit = -1\nlcredit = -1\ndcredit = -1\nocredit = -1\n";

fn debian() -> FakeHost {
    let h = FakeHost::new();
    h.write("/etc/pam.d/common-password", DEBIAN_COMMON_PASSWORD);
    h.write(
        "/etc/pam.d/common-auth",
        "auth [success=1 default=ignore] pam_unix.so\n",
    );
    h.write("/etc/login.defs", "PASS_MAX_DAYS 90\nENCRYPT_METHOD YESCRYPT\n");
    h
}

#[test]
fn missing_quality_module() {
    let h = debian();
    let r = run(&h);
    let f = expect_id(&r, "passwords.no-quality-check");
    assert_eq!(f.severity, Severity::Medium);
    assert_eq!(f.evidence[0].location, "/etc/pam.d/common-password");
    expect_no_id(&r, "passwords.weak-hash-method");
    expect_no_id(&r, "passwords.no-aging");
    expect_no_id(&r, "passwords.nullok");
}

#[test]
fn pwquality_with_the_playbook_policy_passes() {
    let h = debian();
    h.write("/etc/pam.d/common-password", WITH_PWQUALITY);
    h.write("/etc/security/pwquality.conf", GOOD_PWQUALITY);
    let r = run(&h);
    expect_no_id(&r, "passwords.no-quality-check");
    expect_no_id(&r, "passwords.min-length");
    expect_no_id(&r, "passwords.char-classes");
}

#[test]
fn short_minimum_and_missing_classes() {
    let h = debian();
    h.write("/etc/pam.d/common-password", WITH_PWQUALITY);
    h.write("/etc/security/pwquality.conf", "# defaults\nminlen = 6\n");
    let r = run(&h);
    let f = expect_id(&r, "passwords.min-length");
    assert_eq!(f.evidence[0].location, "/etc/security/pwquality.conf:2");
    let c = expect_id(&r, "passwords.char-classes");
    assert!(
        c.title.contains("upper case") && c.title.contains("special"),
        "{}",
        c.title
    );
}

#[test]
fn module_arguments_override_the_conf_file() {
    let h = debian();
    h.write(
        "/etc/pam.d/common-password",
        WITH_PWQUALITY.replace("retry=3", "retry=3 minlen=5"),
    );
    h.write("/etc/security/pwquality.conf", GOOD_PWQUALITY);
    let r = run(&h);
    let f = expect_id(&r, "passwords.min-length");
    assert_eq!(f.evidence[0].location, "/etc/pam.d/common-password:1");
    // minclass = 4 satisfies the classes even without negative credits.
    let h = debian();
    h.write("/etc/pam.d/common-password", WITH_PWQUALITY);
    h.write(
        "/etc/security/pwquality.conf.d/50-site.conf",
        "minlen = 10\nminclass = 4\n",
    );
    let r = run(&h);
    expect_no_id(&r, "passwords.char-classes");
}

#[test]
fn weak_hash_method_in_pam_unix() {
    let h = debian();
    h.write(
        "/etc/pam.d/common-password",
        DEBIAN_COMMON_PASSWORD.replace("yescrypt", "md5"),
    );
    let r = run(&h);
    let f = expect_id(&r, "passwords.weak-hash-method");
    assert_eq!(f.severity, Severity::High);
    assert_eq!(f.evidence[0].location, "/etc/pam.d/common-password:2");
}

#[test]
fn hash_method_falls_back_to_login_defs() {
    let h = debian();
    h.write(
        "/etc/pam.d/common-password",
        DEBIAN_COMMON_PASSWORD.replace(" yescrypt", ""),
    );
    h.write("/etc/login.defs", "PASS_MAX_DAYS 90\nENCRYPT_METHOD MD5\n");
    let r = run(&h);
    let f = expect_id(&r, "passwords.weak-hash-method");
    assert_eq!(f.evidence[0].location, "/etc/login.defs:2");
    expect_id(&r, "passwords.login-defs-hash");
}

#[test]
fn aging_and_nullok() {
    let h = debian();
    h.write("/etc/login.defs", "PASS_MAX_DAYS\t99999\nPASS_MIN_LEN 5\n");
    h.write(
        "/etc/pam.d/common-auth",
        "auth [success=1 default=ignore] pam_unix.so nullok\n",
    );
    let r = run(&h);
    assert_eq!(
        expect_id(&r, "passwords.no-aging").evidence[0].location,
        "/etc/login.defs:1"
    );
    expect_id(&r, "passwords.login-defs-min-len");
    assert_eq!(
        expect_id(&r, "passwords.nullok").evidence[0].location,
        "/etc/pam.d/common-auth:1"
    );
}

#[test]
fn red_hat_system_auth() {
    let h = FakeHost::new();
    h.write(
        "/etc/pam.d/system-auth",
        "auth sufficient pam_unix.so\npassword requisite pam_pwquality.so local_users_only minlen=8 ucredit=-1 lcredit=-1 dcredit=-1 ocredit=-1\npassword sufficient pam_unix.so sha512 shadow use_authtok\n",
    );
    let r = run(&h);
    expect_no_id(&r, "passwords.no-quality-check");
    expect_no_id(&r, "passwords.min-length");
    expect_no_id(&r, "passwords.char-classes");
    expect_no_id(&r, "passwords.weak-hash-method");
}

#[test]
fn no_pam_stack_is_skipped() {
    let h = FakeHost::new();
    let r = run(&h);
    assert!(
        r.skipped
            .iter()
            .any(|s| s.reason.contains("no PAM password stack")),
        "{:#?}",
        r.skipped
    );
    assert!(r.errors.is_empty());
}

#[test]
fn hash_schemes_are_counted_not_shown() {
    let h = debian();
    let r = run(&h);
    let f = expect_id(&r, "passwords.hash-schemes");
    assert!(
        f.evidence[0].detail.contains("yescrypt: 2 (root, alice)"),
        "{}",
        f.evidence[0].detail
    );
    assert!(!f.evidence[0].detail.contains("$y$"));
}
