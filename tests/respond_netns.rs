//! `rampart respond` firewall-baseline and ssh-port against a real sshd and nft in
//! network namespaces made by the test: logins from allowed and other addresses, confirm
//! from a session on the new port, automatic rollback when nobody confirms.

mod respond_support;

use respond_support::*;
use std::time::Duration;

#[test]
fn firewall_baseline_admits_the_admin_source_and_drops_others() {
    let Some(lab) = Lab::new(2201) else { return };
    assert!(lab.login(ALLOWED, 2201) && lab.login(OTHER, 2201));
    let before = lab.nft_chains();

    let out = lab.rampart_ok(&[
        "apply",
        "firewall-baseline",
        "admin-from=192.0.2.2/32",
        "allow=80",
        "--yes",
        "--timeout",
        "8",
    ]);
    assert!(
        stdout(&out).contains("rampart respond confirm"),
        "{}",
        stdout(&out)
    );
    assert!(lab.login(ALLOWED, 2201), "the admin source must get in");
    assert!(!lab.login(OTHER, 2201), "another source must be dropped");
    // One guarded change at a time: their rollbacks would undo each other out of order.
    let second = lab.rampart(&["apply", "ssh-harden", "MaxAuthTries=3", "--yes"], &[]);
    assert!(
        stderr(&second).contains("still waiting for `rampart respond confirm`"),
        "{}",
        stderr(&second)
    );

    let c = lab.confirm_over_ssh(ALLOWED, 2201);
    assert!(c.status.success(), "confirm: {}", stderr(&c));
    sleep_past_deadline(&lab);
    assert!(
        !lab.login(OTHER, 2201),
        "a confirmed baseline must stay after the timeout"
    );
    assert!(lab.login(ALLOWED, 2201));

    lab.rampart_ok(&["undo", "--last"]);
    assert!(lab.login(OTHER, 2201));
    assert_eq!(lab.nft_chains(), before, "undo must restore the previous ruleset");
}

#[test]
fn unconfirmed_firewall_rolls_back_by_itself() {
    let Some(lab) = Lab::new(2211) else { return };
    let before = lab.nft_chains();
    // A policy that locks the operator out, forced: only the rollback can save them. The
    // window leaves room for the locked-out login attempt on a loaded machine (CI saw a 2 s
    // window expire before that attempt).
    lab.rampart_ok(&locking_firewall("6"));
    assert!(!lab.login(ALLOWED, 2211));
    assert!(lab.wait_settled(Duration::from_secs(20)), "rollback did not run");
    assert!(lab.login(ALLOWED, 2211), "locked out after the rollback window");
    assert_eq!(lab.nft_chains(), before);
    let log = stdout(&lab.rampart(&["log"], &[]));
    assert!(log.contains("undone"), "{log}");
}

#[test]
fn refuses_to_drop_the_current_ssh_session_and_bad_input() {
    let Some(lab) = Lab::new(2221) else { return };
    let before = lab.nft_chains();
    let session = [("SSH_CONNECTION", "192.0.2.3 50000 192.0.2.1 2221")];
    let out = lab.rampart(
        &["apply", "firewall-baseline", "admin-from=192.0.2.2/32", "--yes"],
        &session,
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("would drop your own SSH session"),
        "{}",
        stderr(&out)
    );
    let out = lab.rampart(
        &["apply", "firewall-baseline", "admin-from=192.0.2.300/24", "--yes"],
        &[],
    );
    assert!(
        stderr(&out).contains("admin-from=192.0.2.300/24"),
        "{}",
        stderr(&out)
    );
    let out = lab.rampart(&["apply", "ssh-port", "port=2221", "--yes"], &[]);
    assert!(
        stderr(&out).contains("already configured for port 2221"),
        "{}",
        stderr(&out)
    );
    let out = lab.rampart(&["apply", "ssh-port", "port=70000", "--yes"], &[]);
    assert!(stderr(&out).contains("not a port number"), "{}", stderr(&out));
    // A port some other program listens on.
    let other = rampart_testkit::KillOnDrop(
        lab.srv
            .command("/usr/sbin/sshd")
            .args(["-D", "-p", "2229", "-o"])
            .arg(format!("PidFile={}", lab.path("other.pid").display()))
            .args(["-f", lab.sshd_config.to_str().unwrap()])
            .spawn()
            .unwrap(),
    );
    assert!(lab.wait_listening(2229, true));
    let out = lab.rampart(&["apply", "ssh-port", "port=2229", "--yes"], &[]);
    drop(other);
    assert!(stderr(&out).contains("port 2229 is in use"), "{}", stderr(&out));
    // Nothing changed, nothing journaled.
    assert_eq!(lab.nft_chains(), before);
    let log = stdout(&lab.rampart(&["log"], &[]));
    assert!(
        !log.contains("firewall-baseline") && !log.contains("ssh-port"),
        "{log}"
    );
}

#[test]
fn ssh_port_move_confirmed_from_the_new_port() {
    let Some(lab) = Lab::new(2231) else { return };
    let original = lab.config_bytes();
    let out = lab.rampart(
        &[
            "apply",
            "ssh-port",
            "port=2232",
            "from=192.0.2.2/32",
            "--yes",
            "--timeout",
            "8",
        ],
        &[],
    );
    assert!(out.status.success(), "{}{}", stdout(&out), stderr(&out));
    assert!(lab.login(ALLOWED, 2232), "new port from the allowed source");
    assert!(
        !lab.login(OTHER, 2232),
        "new port from another source must be dropped"
    );
    assert!(
        lab.login(ALLOWED, 2231),
        "the old port stays open until confirmed"
    );

    // Confirming from the old port proves nothing and is refused.
    let c = lab.confirm_over_ssh(ALLOWED, 2231);
    assert!(!c.status.success());
    assert!(
        stderr(&c).contains("login on the new port 2232"),
        "{}",
        stderr(&c)
    );
    let c = lab.confirm_over_ssh(ALLOWED, 2232);
    assert!(c.status.success(), "confirm: {}{}", stdout(&c), stderr(&c));
    assert!(
        lab.wait_listening(2231, false),
        "old port still open after confirm"
    );
    assert!(!lab.login(ALLOWED, 2231));
    sleep_past_deadline(&lab);
    assert!(
        lab.login(ALLOWED, 2232),
        "a confirmed move must survive the timeout"
    );

    lab.rampart_ok(&["undo", "--last"]);
    assert_eq!(
        lab.config_bytes(),
        original,
        "undo must restore sshd_config byte for byte"
    );
    assert!(lab.wait_listening(2231, true));
    assert!(lab.login(ALLOWED, 2231));
}

#[test]
fn unconfirmed_ssh_port_move_rolls_back() {
    let Some(lab) = Lab::new(2241) else { return };
    let original = lab.config_bytes();
    lab.rampart_ok(&["apply", "ssh-port", "port=2242", "--yes", "--timeout", "3"]);
    assert!(lab.login(ALLOWED, 2242));
    assert!(lab.wait_settled(Duration::from_secs(10)), "rollback did not run");
    assert!(
        lab.wait_listening(2242, false),
        "new port still open after the rollback"
    );
    assert_eq!(lab.config_bytes(), original);
    assert!(lab.login(ALLOWED, 2241), "the old port must still accept logins");
}

/// Sleeps until one second after the newest action's confirm deadline, so the detached
/// rollback has woken up and (for a confirmed action) left it alone.
fn sleep_past_deadline(lab: &Lab) {
    let log = stdout(&lab.rampart(&["log", "--json"], &[]));
    let deadline = log
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .filter_map(|v| v["confirm_deadline"].as_u64())
        .max()
        .unwrap_or(0);
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    std::thread::sleep(Duration::from_secs(deadline.saturating_sub(now) + 1));
}

#[test]
fn ssh_harden_is_validated_confirmed_or_rolled_back() {
    let Some(lab) = Lab::new(2251) else { return };
    let original = lab.config_bytes();
    let out = lab.rampart(&["apply", "ssh-harden", "MaxAuthTries=bogus", "--yes"], &[]);
    assert!(stderr(&out).contains("sshd -t rejects"), "{}", stderr(&out));
    assert_eq!(lab.config_bytes(), original);

    // Not confirmed: rolled back.
    lab.rampart_ok(&["apply", "ssh-harden", "MaxAuthTries=2", "--yes", "--timeout", "2"]);
    assert!(String::from_utf8_lossy(&lab.config_bytes())
        .starts_with("# Set by rampart respond ssh-harden\nMaxAuthTries 2\n"));
    assert!(lab.wait_settled(Duration::from_secs(10)));
    assert_eq!(lab.config_bytes(), original);

    // Confirmed from a new login: kept, and verified with sshd -T.
    lab.rampart_ok(&[
        "apply",
        "ssh-harden",
        "MaxAuthTries=3",
        "--yes",
        "--timeout",
        "20",
    ]);
    let c = lab.confirm_over_ssh(ALLOWED, 2251);
    assert!(c.status.success(), "{}", stderr(&c));
    let log = stdout(&lab.rampart(&["log"], &[]));
    assert!(log.lines().last().unwrap().contains("verified"), "{log}");
    assert!(lab.login(ALLOWED, 2251));
}

/// Debian-style layout: the port is set in an included `sshd_config.d/*.conf`. The move
/// adds the new port without re-adding 22, confirm removes the old one from the included
/// file too, and undo restores both files byte for byte.
#[test]
fn ssh_port_move_with_the_port_set_in_an_included_file() {
    let Some(lab) = Lab::new(2261) else { return };
    let dropins = lab.path("sshd_config.d");
    std::fs::create_dir_all(&dropins).unwrap();
    let dropin = dropins.join("10-port.conf");
    std::fs::write(&dropin, "# site port\nPort 2261\n").unwrap();
    let main = String::from_utf8(lab.config_bytes()).unwrap();
    assert!(main.contains("Port 2261\n"));
    let main = format!(
        "Include {}/*.conf\n{}",
        dropins.display(),
        main.replace("Port 2261\n", "")
    );
    std::fs::write(&lab.sshd_config, &main).unwrap();
    let dropin_before = std::fs::read(&dropin).unwrap();

    let plan = lab.rampart_ok(&["plan", "ssh-port", "port=2262"]);
    assert!(
        stdout(&plan).contains(&format!("also from {}", dropin.display())),
        "{}",
        stdout(&plan)
    );
    lab.rampart_ok(&["apply", "ssh-port", "port=2262", "--yes", "--timeout", "60"]);
    assert!(lab.login(ALLOWED, 2262));
    assert!(lab.login(ALLOWED, 2261));
    assert!(!lab.listening().contains(&22), "the move must not open port 22");
    let c = lab.confirm_over_ssh(ALLOWED, 2262);
    assert!(c.status.success(), "confirm: {}{}", stdout(&c), stderr(&c));
    assert!(
        lab.wait_listening(2261, false),
        "old port still open after confirm"
    );
    assert_eq!(
        std::fs::read_to_string(&dropin).unwrap(),
        "# site port\n",
        "the old Port line must go from the included file"
    );
    assert!(lab.login(ALLOWED, 2262));

    lab.rampart_ok(&["undo", "--last"]);
    assert_eq!(lab.config_bytes(), main.as_bytes());
    assert_eq!(std::fs::read(&dropin).unwrap(), dropin_before);
    assert!(lab.wait_listening(2261, true));
    assert!(lab.login(ALLOWED, 2261));
}

/// FTP through the baseline: a real vsftpd in the server namespace with a passive range.
/// `services=ftp` admits the control port and, read from the server's configuration, its
/// passive data ports, from the admin source only; without the range's rule a passive
/// transfer is dropped.
#[test]
fn firewall_baseline_admits_ftp_passive_transfers() {
    let Some(lab) = Lab::new(2271) else { return };
    let Some(vsftpd) = rampart_core::cmd::which("vsftpd") else {
        eprintln!("skipped: vsftpd is not installed");
        return;
    };
    let root = lab.path("host");
    let anon = lab.path("anon");
    let empty = lab.path("empty");
    for d in [&root.join("etc"), &anon, &empty] {
        std::fs::create_dir_all(d).unwrap();
    }
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&anon, std::fs::Permissions::from_mode(0o755)).unwrap();
    std::fs::write(anon.join("hello.txt"), "passive data\n").unwrap();
    // The configuration vsftpd runs with is the one Rampart reads under --root.
    let conf = root.join("etc/vsftpd.conf");
    std::fs::write(
        &conf,
        format!(
            "listen=YES\nlisten_address={SERVER}\nbackground=NO\nanonymous_enable=YES\nno_anon_password=YES\n\
             anon_root={}\nlocal_enable=NO\nsecure_chroot_dir={}\nseccomp_sandbox=NO\n\
             pasv_min_port=30000\npasv_max_port=30010\n",
            anon.display(),
            empty.display()
        ),
    )
    .unwrap();
    let _server = rampart_testkit::KillOnDrop(
        lab.srv
            .command(vsftpd)
            .arg(&conf)
            .stdin(std::process::Stdio::null())
            .spawn()
            .expect("vsftpd"),
    );
    let fetch = |src: &str| -> Option<String> {
        let out = lab
            .cli
            .command("curl")
            .args(["-s", "--connect-timeout", "3", "-m", "6", "--interface", src])
            .arg(format!("ftp://{SERVER}/hello.txt"))
            .output()
            .unwrap();
        out.status
            .success()
            .then(|| String::from_utf8_lossy(&out.stdout).into_owned())
    };
    assert!(lab.srv.wait_tcp_listening(21, true, Duration::from_secs(5)));
    assert_eq!(
        fetch(ALLOWED).as_deref(),
        Some("passive data\n"),
        "vsftpd does not serve"
    );

    let apply = |extra: &[&str]| {
        let mut args = vec![
            "apply",
            "firewall-baseline",
            "services=ftp",
            "admin-from=192.0.2.2/32",
            "--root",
            root.to_str().unwrap(),
            "--yes",
            "--timeout",
            "60",
        ];
        args.extend_from_slice(extra);
        lab.rampart_ok(&args)
    };
    let out = apply(&[]);
    assert!(
        stdout(&out).contains("FTP passive data ports 30000-30010 (from /etc/vsftpd.conf)"),
        "{}",
        stdout(&out)
    );
    assert_eq!(fetch(ALLOWED).as_deref(), Some("passive data\n"));
    assert_eq!(fetch(OTHER), None, "FTP from another source must be dropped");
    lab.rampart_ok(&["undo", "--last"]);

    // The same baseline with the data ports elsewhere: the transfer cannot get through.
    apply(&["ftp-passive=31000-31010"]);
    assert_eq!(
        fetch(ALLOWED),
        None,
        "passive data must not pass without its rule"
    );
    lab.rampart_ok(&["undo", "--last"]);
    assert_eq!(fetch(OTHER).as_deref(), Some("passive data\n"));
}
