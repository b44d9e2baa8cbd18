//! The baseline against the real nft, in a network namespace made by the test: it
//! loads, snapshots and restores only Rampart's own chains, and leaves guard's ban set
//! and other tables alone.

use rampart_nft::baseline::{self, Baseline, Port, Source};
use rampart_nft::Nft;
use serde_json::json;

struct Netns(String);

impl Netns {
    fn new(tag: &str) -> Option<Netns> {
        // SAFETY: geteuid cannot fail.
        if unsafe { libc::geteuid() } != 0 || rampart_core::cmd::which("nft").is_none() {
            eprintln!("skipped: needs root and nft");
            return None;
        }
        let name = format!("rampart-nb-{tag}-{}", std::process::id());
        let out = rampart_core::cmd::run("ip", ["netns", "add", &name]).unwrap();
        assert!(out.success(), "ip netns add: {}", out.stderr_line());
        Some(Netns(name))
    }
}

impl Drop for Netns {
    fn drop(&mut self) {
        let _ = rampart_core::cmd::run("ip", ["netns", "del", &self.0]);
    }
}

#[test]
fn baseline_loads_and_restores_without_touching_others() {
    let Some(ns) = Netns::new("a") else { return };
    let nft = Nft::in_netns(ns.0.clone());
    // Another table, and guard's ban set in Rampart's table: both must survive.
    nft.apply(
        vec![
            json!({"add": {"table": {"family": "ip", "name": "other"}}}),
            json!({"add": {"chain": {"family": "ip", "table": "other", "name": "c"}}}),
            rampart_nft::add_table(),
            json!({"add": {"set": {"family": "inet", "table": "rampart", "name": "ban_v4", "type": "ipv4_addr"}}}),
            json!({"add": {"element": {"family": "inet", "table": "rampart", "name": "ban_v4", "elem": ["198.51.100.7"]}}}),
        ],
        "setup",
    )
    .unwrap();
    let before = baseline::snapshot(&nft).unwrap();
    assert!(before.objects.is_empty());

    let b = Baseline {
        allow: vec![Port::tcp(80), Port::parse("53/udp").unwrap()],
        restricted: vec![Port::tcp(22), Port::tcp(3306)],
        admin_from: vec![
            Source {
                addr: "192.0.2.0".parse().unwrap(),
                len: 24,
            },
            Source {
                addr: "2001:db8::".parse().unwrap(),
                len: 32,
            },
        ],
        ranges: vec![baseline::PortRange {
            first: 30000,
            last: 30010,
            restricted: true,
            comment: "rampart ftp passive".into(),
        }],
    };
    nft.apply(b.commands(), "baseline").unwrap();
    // Applying twice replaces, never duplicates.
    nft.apply(b.commands(), "baseline").unwrap();
    let after = baseline::snapshot(&nft).unwrap();
    assert!(after.has_chain(baseline::CHAIN));
    let chain = after.objects.iter().find(|o| o.get("chain").is_some()).unwrap();
    assert_eq!(chain["chain"]["policy"], "drop");
    assert_eq!(
        after
            .rule_handles(baseline::CHAIN, &baseline::admin_comment(22))
            .len(),
        2
    );
    let rules = after.objects.iter().filter(|o| o.get("rule").is_some()).count();
    assert_eq!(rules, 6 + 2 + 2 + 2 + 2, "{:#?}", after.objects);
    assert_eq!(
        after.rule_handles(baseline::CHAIN, "rampart ftp passive").len(),
        2
    );

    // A round trip through the JSON listing restores exactly.
    baseline::restore(&nft, &after).unwrap();
    let again = baseline::snapshot(&nft).unwrap();
    assert_eq!(strip_handles(&again), strip_handles(&after));

    baseline::restore(&nft, &before).unwrap();
    assert!(baseline::snapshot(&nft).unwrap().objects.is_empty());
    let table = nft.list_table("inet", "rampart").unwrap().unwrap().to_string();
    assert!(
        table.contains("ban_v4") && table.contains("198.51.100.7"),
        "{table}"
    );
    assert!(nft.list_table("ip", "other").unwrap().is_some());
}

fn strip_handles(s: &baseline::Snapshot) -> Vec<serde_json::Value> {
    s.objects
        .iter()
        .map(|o| {
            let mut o = o.clone();
            for k in ["chain", "rule"] {
                if let Some(m) = o.get_mut(k).and_then(|v| v.as_object_mut()) {
                    m.remove("handle");
                }
            }
            o
        })
        .collect()
}
