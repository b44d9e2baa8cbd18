//! Network namespaces made by a test: traffic to them never leaves this machine, and
//! nft rulesets or sshd ports inside them never touch the host's own.

use crate::process::{checked, run};
use std::process::{Command, Output};
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

static SEQ: AtomicU32 = AtomicU32::new(0);

/// A namespace named `rampart-<label>-<pid>-<n>` with loopback up; deleted on drop
/// (with every interface and process-less socket in it).
pub struct Netns {
    name: String,
}

impl Netns {
    pub fn new(label: &str) -> Netns {
        let n = SEQ.fetch_add(1, Ordering::SeqCst);
        let name = format!("rampart-{label}-{}-{n}", std::process::id());
        // Left over from a killed run of the same pid: start clean.
        let _ = Command::new("ip").args(["netns", "del", &name]).output();
        run("ip", &["netns", "add", &name]);
        let ns = Netns { name };
        ns.ip(&["link", "set", "lo", "up"]);
        ns
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    /// `program` to run inside the namespace (`ip netns exec NAME program`); add
    /// arguments to the returned command.
    pub fn command(&self, program: impl AsRef<std::ffi::OsStr>) -> Command {
        let mut c = Command::new("ip");
        c.args(["netns", "exec", &self.name]).arg(program);
        c
    }

    /// Runs `program args…` inside the namespace; panics with its stderr unless it succeeds.
    pub fn run(&self, program: &str, args: &[&str]) -> Output {
        checked(
            self.command(program).args(args),
            &format!("in {}: {program} {args:?}", self.name),
        )
    }

    /// `ip -n NAME args…`, checked.
    pub fn ip(&self, args: &[&str]) -> Output {
        let mut all = vec!["-n", &self.name];
        all.extend_from_slice(args);
        run("ip", &all)
    }

    /// Joins two namespaces with a veth pair (`dev` here, `peer_dev` there), gives each
    /// end its addresses (CIDR notation) and brings both up.
    pub fn link(&self, dev: &str, addrs: &[&str], peer: &Netns, peer_dev: &str, peer_addrs: &[&str]) {
        // Made inside the namespaces, so the names cannot clash with the host's or
        // another test run's interfaces.
        run(
            "ip",
            &[
                "link", "add", dev, "netns", &self.name, "type", "veth", "peer", "name", peer_dev, "netns",
                &peer.name,
            ],
        );
        for (ns, dev, addrs) in [(self, dev, addrs), (peer, peer_dev, peer_addrs)] {
            for a in addrs {
                ns.ip(&["addr", "add", a, "dev", dev]);
            }
            ns.ip(&["link", "set", dev, "up"]);
        }
    }

    /// The TCP ports something listens on inside the namespace (`ss -Htln`), whatever
    /// the firewall there lets through.
    pub fn tcp_listening(&self) -> Vec<u16> {
        let out = self.run("ss", &["-Htln"]);
        String::from_utf8_lossy(&out.stdout)
            .lines()
            .filter_map(|l| l.split_whitespace().nth(3)?.rsplit(':').next()?.parse().ok())
            .collect()
    }

    /// Waits up to `limit` until `port` is listening (`want`) or not; false on timeout.
    pub fn wait_tcp_listening(&self, port: u16, want: bool, limit: Duration) -> bool {
        crate::wait::until(limit, || self.tcp_listening().contains(&port) == want)
    }
}

impl Drop for Netns {
    fn drop(&mut self) {
        let _ = Command::new("ip").args(["netns", "del", &self.name]).output();
    }
}
