//! End to end, as root: a real sshd in a network namespace made by the test, password
//! failures from 127.0.0.x, and the guard daemon following sshd's log and banning in
//! the namespace's nftables.

mod common;

use common::*;
use rampart_guard::config::Secs;
use rampart_nft::bans;
use rampart_nft::Nft;
use std::net::IpAddr;
use std::time::{Duration, Instant};

fn ip(s: &str) -> IpAddr {
    s.parse().unwrap()
}

#[test]
fn failures_are_banned_dropped_and_the_ban_expires_on_time() {
    if !can_run(&["sshd", "ssh", "sshpass", "nft", "ip"]) {
        return;
    }
    let ns = Netns::new("g-ban");
    let dir = tempfile::tempdir().unwrap();
    let sshd = start_sshd(&ns, dir.path());
    let mut cfg = guard_config(dir.path(), log_of(&sshd), Some(ns.name()));
    cfg.ban_time = Secs(3);
    let guard = Guard::start(cfg);
    let nft = Nft::in_netns(ns.name());

    // Before: both sources reach sshd.
    assert_eq!(ssh_attempt(&ns, "127.0.0.6", "nobody"), Attempt::Refused);
    // Three failed logins (burst rule: 3 in 60 s) from 127.0.0.5; each logs a failure
    // and a closing line of the same connection, which is not counted again.
    for _ in 0..3 {
        assert_eq!(ssh_attempt(&ns, "127.0.0.5", "nobody"), Attempt::Refused);
    }
    assert!(
        wait_for(Duration::from_secs(5), || bans::is_banned(&nft, ip("127.0.0.5"))
            .unwrap()),
        "127.0.0.5 not banned; log:\n{}",
        std::fs::read_to_string(log_of(&sshd)).unwrap()
    );
    let banned_at = Instant::now();
    // The banned source's next connection is dropped; another source still connects.
    assert_eq!(ssh_attempt(&ns, "127.0.0.5", "nobody"), Attempt::TimedOut);
    assert_eq!(ssh_attempt(&ns, "127.0.0.7", "nobody"), Attempt::Refused);
    assert!(
        !bans::is_banned(&nft, ip("127.0.0.6")).unwrap(),
        "one failure is not a ban"
    );

    // The kernel lifts the 3 s ban on time.
    assert!(wait_for(Duration::from_secs(8), || !bans::is_banned(
        &nft,
        ip("127.0.0.5")
    )
    .unwrap()));
    let lasted = banned_at.elapsed();
    assert!(lasted < Duration::from_secs(6), "ban lasted {lasted:?}");
    assert_eq!(ssh_attempt(&ns, "127.0.0.5", "nobody"), Attempt::Refused);

    let counters = guard.stop();
    assert!(counters.failures >= 4, "{counters:?}");
    assert_eq!(counters.bans, 1, "{counters:?}");
    assert_eq!(counters.unparsed, 0, "{counters:?}");
    // The status file and the database saw it too.
    let st = rampart_guard::status::Status::read(&dir.path().join("status.json")).unwrap();
    assert_eq!(st.counters.bans, 1);
    let store = rampart_store::Store::open(&dir.path().join("rampart.db")).unwrap();
    let rec = store.bans().get("127.0.0.5").unwrap().expect("ban recorded");
    assert_eq!(
        (rec.service.as_str(), rec.rule.as_str(), rec.offence),
        ("ssh", "burst", 1)
    );
}

#[test]
fn bans_survive_a_restart_of_guard() {
    if !can_run(&["sshd", "ssh", "sshpass", "nft", "ip"]) {
        return;
    }
    let ns = Netns::new("g-restart");
    let dir = tempfile::tempdir().unwrap();
    let sshd = start_sshd(&ns, dir.path());
    let mut cfg = guard_config(dir.path(), log_of(&sshd), Some(ns.name()));
    cfg.ban_time = Secs(60);
    let nft = Nft::in_netns(ns.name());

    let guard = Guard::start(cfg.clone());
    for _ in 0..3 {
        assert_eq!(ssh_attempt(&ns, "127.0.0.8", "nobody"), Attempt::Refused);
    }
    assert!(wait_for(Duration::from_secs(5), || bans::is_banned(
        &nft,
        ip("127.0.0.8")
    )
    .unwrap()));
    guard.stop();

    // As after a reboot: the firewall forgot everything.
    ns.run("nft", &["delete", "table", "inet", "rampart"]);
    assert!(!bans::is_banned(&nft, ip("127.0.0.8")).unwrap());

    let guard = Guard::start(cfg);
    let elems = bans::list(&nft).unwrap();
    let e = elems
        .iter()
        .find(|e| e.contains(ip("127.0.0.8")))
        .expect("ban restored");
    let left = e.expires_secs.unwrap();
    assert!(left > 40 && left <= 60, "remaining {left} s");
    assert_eq!(ssh_attempt(&ns, "127.0.0.8", "nobody"), Attempt::TimedOut);
    assert_eq!(ssh_attempt(&ns, "127.0.0.9", "nobody"), Attempt::Refused);
    drop(guard);
}
