//! End to end, as root: a real vsftpd in a network namespace made by the test, failed
//! FTP logins from 127.0.0.5 (curl), the guard following vsftpd's own log and banning
//! in the namespace's nftables.

mod common;

use common::*;
use rampart_nft::bans;
use rampart_nft::Nft;
use rampart_testkit::KillOnDrop;
use std::process::Stdio;
use std::time::Duration;

/// curl's exit code for one FTP login with a wrong password from `source`.
fn ftp_login(ns: &Netns, source: &str) -> i32 {
    ns.command("curl")
        .args(["-s", "--connect-timeout", "5", "-m", "10", "--interface", source])
        .args(["--user", "ghost:wrong", "ftp://127.0.0.1:2121/"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .expect("curl")
        .code()
        .unwrap_or(-1)
}

const LOGIN_DENIED: i32 = 67;
const TIMED_OUT: i32 = 28;

#[test]
fn ftp_failures_are_banned() {
    if !can_run(&["vsftpd", "curl", "nft", "ip"]) {
        return;
    }
    let ns = Netns::new("g-ftp");
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("vsftpd.log");
    std::fs::create_dir_all(dir.path().join("empty")).unwrap();
    let conf = dir.path().join("vsftpd.conf");
    std::fs::write(
        &conf,
        format!(
            "listen=YES\nlisten_address=127.0.0.1\nlisten_port=2121\nbackground=NO\nanonymous_enable=NO\n\
             local_enable=YES\npam_service_name=vsftpd\nsecure_chroot_dir={}\nvsftpd_log_file={}\n\
             xferlog_enable=YES\ndual_log_enable=YES\nxferlog_std_format=NO\nseccomp_sandbox=NO\n",
            dir.path().join("empty").display(),
            log.display()
        ),
    )
    .unwrap();
    let vsftpd = rampart_core::cmd::which("vsftpd").unwrap();
    let _server = KillOnDrop(
        ns.command(vsftpd)
            .arg(&conf)
            .stdin(Stdio::null())
            .spawn()
            .expect("vsftpd"),
    );
    std::fs::write(&log, "").unwrap();
    let guard = Guard::start(guard_config(dir.path(), &log, Some(ns.name())));
    let nft = Nft::in_netns(ns.name());
    let mut seen = Vec::new();
    assert!(
        wait_for(Duration::from_secs(10), || {
            seen.push(ftp_login(&ns, "127.0.0.6"));
            seen.last() == Some(&LOGIN_DENIED)
        }),
        "vsftpd did not answer: curl said {seen:?}; log:\n{}",
        std::fs::read_to_string(&log).unwrap_or_default()
    );
    for _ in 0..3 {
        assert_eq!(ftp_login(&ns, "127.0.0.5"), LOGIN_DENIED);
    }
    assert!(
        wait_for(Duration::from_secs(5), || bans::is_banned(
            &nft,
            "127.0.0.5".parse().unwrap()
        )
        .unwrap()),
        "not banned; vsftpd log:\n{}",
        std::fs::read_to_string(&log).unwrap_or_default()
    );
    assert_eq!(ftp_login(&ns, "127.0.0.5"), TIMED_OUT);
    assert_eq!(ftp_login(&ns, "127.0.0.7"), LOGIN_DENIED);
    let c = guard.stop();
    assert!(c.failures >= 3 && c.bans == 1, "{c:?}");
}
