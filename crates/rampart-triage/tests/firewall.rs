//! The firewall analysis over rulesets loaded into real nftables / iptables inside a
//! network namespace this test creates (never the host's own firewall).

mod common;

use rampart_core::cmd;
use rampart_core::Finding;
use rampart_triage::checks::firewall::{analyze, iptables_to_nft, Inputs};
use serde_json::Value;
use std::sync::atomic::{AtomicUsize, Ordering};

static COUNTER: AtomicUsize = AtomicUsize::new(0);

/// A network namespace deleted on drop.
struct Netns(String);

impl Netns {
    fn new() -> Option<Netns> {
        // SAFETY: geteuid has no preconditions.
        if unsafe { libc::geteuid() } != 0 {
            eprintln!("skipped: creating network namespaces needs root");
            return None;
        }
        if cmd::which("nft").is_none() || cmd::which("ip").is_none() {
            eprintln!("skipped: nft or ip is not installed");
            return None;
        }
        let name = format!(
            "rampart-t-{}-{}",
            std::process::id(),
            COUNTER.fetch_add(1, Ordering::SeqCst)
        );
        let out = cmd::run("ip", ["netns", "add", &name]).unwrap();
        assert!(out.success(), "ip netns add: {}", out.stderr_line());
        Some(Netns(name))
    }

    fn exec(&self, args: &[&str]) -> cmd::Output {
        let mut full = vec!["netns", "exec", &self.0];
        full.extend_from_slice(args);
        let out = cmd::run("ip", full).unwrap();
        assert!(out.success(), "{args:?}: {}", out.stderr_line());
        out
    }

    fn load(&self, ruleset: &str) {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("rules.nft");
        std::fs::write(&file, ruleset).unwrap();
        self.exec(&["nft", "-f", file.to_str().unwrap()]);
    }

    fn ruleset(&self) -> Value {
        rampart_nft::Nft::in_netns(&self.0).list_ruleset().unwrap()
    }
}

impl Drop for Netns {
    fn drop(&mut self) {
        let _ = cmd::run("ip", ["netns", "del", &self.0]);
    }
}

fn inputs(rulesets: Vec<Value>) -> Inputs {
    Inputs {
        rulesets,
        ssh_ports: vec![22],
        ssh_clients: vec![],
        sources: vec!["nft list ruleset".into()],
    }
}

fn ids(f: &[Finding]) -> Vec<&str> {
    f.iter().map(|f| f.id.as_str()).collect()
}

#[test]
fn empty_ruleset_is_no_firewall_and_ssh_is_open() {
    let Some(ns) = Netns::new() else { return };
    let f = analyze(&inputs(vec![ns.ruleset()]));
    assert_eq!(ids(&f), vec!["firewall.none", "firewall.ssh-open"]);
    assert_eq!(f[0].action.as_deref(), Some("firewall-baseline"));
    assert!(f[0].title.contains("no input filter"), "{}", f[0].title);
}

#[test]
fn accept_policy_without_rules_is_no_firewall() {
    let Some(ns) = Netns::new() else { return };
    ns.load("table inet filter {\n chain input { type filter hook input priority 0; policy accept; }\n}\n");
    let f = analyze(&inputs(vec![ns.ruleset()]));
    assert_eq!(ids(&f), vec!["firewall.none", "firewall.ssh-open"]);
    assert!(
        f[0].evidence[0]
            .detail
            .contains("inet filter input policy accept"),
        "{:?}",
        f[0].evidence
    );
}

#[test]
fn default_drop_with_ssh_from_admin_set_only_is_clean() {
    let Some(ns) = Netns::new() else { return };
    ns.load(
        "table inet filter {\n\
         set admins { type ipv4_addr; flags interval; elements = { 10.0.0.0/8, 192.0.2.1 } }\n\
         chain input {\n type filter hook input priority 0; policy drop;\n\
           iif lo accept\n ct state established,related accept\n\
           tcp dport 22 ip saddr @admins accept\n tcp dport { 80, 443 } accept\n jump extra\n }\n\
         chain extra {\n udp dport 53 accept\n ip6 saddr 2001:db8::/32 tcp dport 22 accept\n }\n}\n",
    );
    let f = analyze(&inputs(vec![ns.ruleset()]));
    assert!(f.is_empty(), "{f:#?}");
}

#[test]
fn ssh_accepted_from_anywhere_names_the_rule() {
    let Some(ns) = Netns::new() else { return };
    ns.load(
        "table inet filter {\n chain input {\n type filter hook input priority 0; policy drop;\n\
         ct state established accept\n jump services\n }\n\
         chain services {\n tcp dport { 22, 80 } counter accept\n }\n}\n",
    );
    let mut inp = inputs(vec![ns.ruleset()]);
    inp.ssh_clients = vec!["203.0.113.9".parse().unwrap()];
    let f = analyze(&inp);
    assert_eq!(ids(&f), vec!["firewall.ssh-open"]);
    assert!(
        f[0].evidence[0]
            .location
            .starts_with("nft inet filter services handle"),
        "{:?}",
        f[0].evidence
    );
    assert_eq!(
        f[0].action.as_deref(),
        Some("firewall-baseline admin-from=203.0.113.9/32")
    );
}

#[test]
fn ssh_on_a_moved_port_is_judged_on_that_port() {
    let Some(ns) = Netns::new() else { return };
    ns.load(
        "table ip filter {\n chain input {\n type filter hook input priority 0; policy drop;\n\
         tcp dport 2222 accept\n }\n}\n\
         table ip6 filter {\n chain input {\n type filter hook input priority 0; policy drop;\n }\n}\n",
    );
    let mut inp = inputs(vec![ns.ruleset()]);
    inp.ssh_ports = vec![2222];
    let f = analyze(&inp);
    assert_eq!(ids(&f), vec!["firewall.ssh-open"]);
    assert!(f[0].title.contains("2222"));
    inp.ssh_ports = vec![22];
    assert!(analyze(&inp).is_empty());
}

#[test]
fn iptables_nft_rules_are_seen_and_ipv6_left_open_is_reported() {
    let Some(ns) = Netns::new() else { return };
    if cmd::which("iptables").is_none() {
        eprintln!("skipped: iptables is not installed");
        return;
    }
    ns.exec(&["iptables", "-P", "INPUT", "DROP"]);
    ns.exec(&[
        "iptables",
        "-A",
        "INPUT",
        "-p",
        "tcp",
        "--dport",
        "22",
        "-s",
        "10.0.0.0/8",
        "-j",
        "ACCEPT",
    ]);
    let rules = ns.ruleset();
    let f = analyze(&inputs(vec![rules.clone()]));
    // IPv4 is filtered, but nothing filters IPv6: SSH is still open to the world there.
    assert_eq!(
        ids(&f),
        vec!["firewall.family-open", "firewall.ssh-open"],
        "{f:#?}"
    );
    assert!(f[0].title.starts_with("IPv6 is not filtered"), "{}", f[0].title);
    assert!(
        f[1].evidence[0].location.contains("no input chain"),
        "{:?}",
        f[1].evidence
    );
    ns.exec(&["ip6tables", "-P", "INPUT", "DROP"]);
    let f = analyze(&inputs(vec![ns.ruleset()]));
    assert!(f.is_empty(), "{f:#?}");
}

#[test]
fn legacy_iptables_rules_count_too() {
    let Some(ns) = Netns::new() else { return };
    if cmd::which("iptables-legacy").is_none() {
        eprintln!("skipped: iptables-legacy is not installed");
        return;
    }
    ns.exec(&["iptables-legacy", "-P", "INPUT", "DROP"]);
    ns.exec(&[
        "iptables-legacy",
        "-A",
        "INPUT",
        "-p",
        "tcp",
        "-m",
        "multiport",
        "--dports",
        "22,80",
        "-s",
        "10.1.0.0/16",
        "-j",
        "ACCEPT",
    ]);
    ns.exec(&[
        "iptables-legacy",
        "-A",
        "INPUT",
        "-p",
        "tcp",
        "--dport",
        "8080",
        "-j",
        "ACCEPT",
    ]);
    ns.exec(&["ip6tables-legacy", "-P", "INPUT", "DROP"]);
    let v4 = iptables_to_nft(&ns.exec(&["iptables-legacy-save"]).stdout_text(), "ip");
    let v6 = iptables_to_nft(&ns.exec(&["ip6tables-legacy-save"]).stdout_text(), "ip6");
    // nft sees nothing (legacy tables are not nftables); the legacy drop policy filters.
    let f = analyze(&inputs(vec![ns.ruleset(), v4.clone(), v6.clone()]));
    assert!(f.is_empty(), "{f:#?}");
    let mut inp = inputs(vec![ns.ruleset(), v4, v6]);
    inp.ssh_ports = vec![8080];
    let f = analyze(&inp);
    assert_eq!(ids(&f), vec!["firewall.ssh-open"]);
    assert!(
        f[0].evidence[0].location.contains("iptables-save line"),
        "{:?}",
        f[0].evidence
    );
}

/// Runs the whole firewall check (real `nft` and `iptables-legacy-save` processes) from a
/// thread moved into the namespace: threads and processes it starts inherit it.
fn check_in(ns: &Netns) -> rampart_core::Report {
    let path = format!("/run/netns/{}", ns.0);
    std::thread::scope(|s| {
        s.spawn(|| {
            let f = std::fs::File::open(&path).unwrap();
            use std::os::fd::AsRawFd;
            // SAFETY: f is an open netns file; setns only changes this thread.
            let rc = unsafe { libc::setns(f.as_raw_fd(), libc::CLONE_NEWNET) };
            assert_eq!(rc, 0, "setns: {}", std::io::Error::last_os_error());
            let ctx = rampart_triage::Context::new(rampart_core::HostRoot::live(), Default::default());
            let checks: Vec<Box<dyn rampart_triage::Check>> =
                vec![Box::new(rampart_triage::checks::firewall::Firewall)];
            rampart_triage::run(&ctx, &checks)
        })
        .join()
        .unwrap()
    })
}

#[test]
fn whole_check_reads_the_loaded_ruleset_of_its_namespace() {
    let Some(ns) = Netns::new() else { return };
    let r = check_in(&ns);
    assert!(r.errors.is_empty(), "{:#?}", r.errors);
    common::expect_id(&r, "firewall.none");

    ns.load(
        "table inet filter {\n chain input {\n type filter hook input priority 0; policy drop;\n\
         iif lo accept\n ct state established,related accept\n\
         ip saddr 10.0.0.0/8 accept\n }\n}\n",
    );
    let r = check_in(&ns);
    assert!(r.errors.is_empty(), "{:#?}", r.errors);
    assert!(r.findings.is_empty(), "{:#?}", r.findings);
}
