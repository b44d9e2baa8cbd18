//! Ban sets against the real nft, in a network namespace made by the test.

use rampart_nft::bans::{self, Ban};
use rampart_nft::Nft;
use std::net::IpAddr;
use std::process::Command;
use std::time::{Duration, Instant};

struct Netns(String);

impl Netns {
    fn new(tag: &str) -> Option<Netns> {
        if unsafe { libc_geteuid() } != 0 {
            eprintln!("skipping: needs root (network namespaces, nft)");
            return None;
        }
        let name = format!("rampart-nb-{tag}-{}", std::process::id());
        let ok = Command::new("ip")
            .args(["netns", "add", &name])
            .status()
            .map(|s| s.success());
        assert!(matches!(ok, Ok(true)), "ip netns add {name}");
        Some(Netns(name))
    }
}

impl Drop for Netns {
    fn drop(&mut self) {
        let _ = Command::new("ip").args(["netns", "del", &self.0]).status();
    }
}

extern "C" {
    #[link_name = "geteuid"]
    fn libc_geteuid() -> u32;
}

fn ip(s: &str) -> IpAddr {
    s.parse().unwrap()
}

#[test]
fn sets_chain_batches_and_kernel_expiry() {
    let Some(ns) = Netns::new("a") else { return };
    let nft = Nft::in_netns(&ns.0);
    // Somebody else's table must survive untouched.
    nft.apply(
        vec![serde_json::json!({"add": {"table": {"family": "ip", "name": "other"}}})],
        "other table",
    )
    .unwrap();
    bans::ensure(&nft).unwrap();
    bans::ensure(&nft).unwrap(); // idempotent: still two rules
    let table = nft.list_table("inet", "rampart").unwrap().unwrap();
    let rules = table["nftables"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|i| i.get("rule").is_some())
        .count();
    assert_eq!(rules, 2, "{table}");
    assert!(nft.list_table("ip", "other").unwrap().is_some());

    // A batch of 2000 long bans plus a short one of each family.
    let mut batch: Vec<Ban> = (0..2000u32)
        .map(|i| Ban {
            addr: IpAddr::V4(std::net::Ipv4Addr::from(0xC633_6400 + i)),
            prefix: 32,
            timeout_secs: 3600,
        })
        .collect();
    batch.push(Ban {
        addr: ip("192.0.2.1"),
        prefix: 32,
        timeout_secs: 2,
    });
    batch.push(Ban {
        addr: ip("2001:db8:1:2::77"),
        prefix: 64,
        timeout_secs: 2,
    });
    bans::add(&nft, &batch).unwrap();
    let listed = bans::list(&nft).unwrap();
    assert_eq!(listed.len(), 2002);
    assert!(bans::is_banned(&nft, ip("192.0.2.1")).unwrap());
    assert!(
        bans::is_banned(&nft, ip("2001:db8:1:2::1234")).unwrap(),
        "whole /64"
    );
    assert!(!bans::is_banned(&nft, ip("2001:db8:1:3::1")).unwrap());
    let v6 = listed.iter().find(|e| e.addr.is_ipv6()).unwrap();
    assert_eq!((v6.prefix, v6.addr), (64, ip("2001:db8:1:2::")));
    // Adding again is harmless.
    bans::add(&nft, &batch[2000..]).unwrap();

    // Removal skips absent elements.
    assert_eq!(
        bans::remove(&nft, &[(ip("198.51.100.0"), 32), (ip("203.0.113.99"), 32)]).unwrap(),
        1
    );
    assert!(!bans::is_banned(&nft, ip("198.51.100.0")).unwrap());

    // The kernel expires the 2 s bans.
    let start = Instant::now();
    while bans::is_banned(&nft, ip("192.0.2.1")).unwrap()
        || bans::is_banned(&nft, ip("2001:db8:1:2::1")).unwrap()
    {
        assert!(start.elapsed() < Duration::from_secs(10), "bans did not expire");
        std::thread::sleep(Duration::from_millis(200));
    }
    assert!(start.elapsed() >= Duration::from_millis(500));
    assert!(bans::is_banned(&nft, ip("198.51.100.1")).unwrap());
}

#[test]
fn ipv4_cidr_bans_are_refused_clearly() {
    let Some(ns) = Netns::new("b") else { return };
    let nft = Nft::in_netns(&ns.0);
    bans::ensure(&nft).unwrap();
    let err = bans::add(
        &nft,
        &[Ban {
            addr: ip("10.0.0.0"),
            prefix: 24,
            timeout_secs: 5,
        }],
    )
    .unwrap_err();
    assert!(err.to_string().contains("10.0.0.0/24"), "{err}");
}
