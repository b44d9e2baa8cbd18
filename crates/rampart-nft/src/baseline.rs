//! The input policy of `rampart respond firewall-baseline` and `ssh-port`.
//!
//! It lives in its own base chains of `inet rampart` (`baseline_input`, `admin_ports`),
//! so it never touches another table nor the ban sets and chains of `rampart guard` in
//! the same table. [`snapshot`] captures exactly these chains and [`restore_commands`]
//! puts them back in one atomic batch, which is how undo and the automatic rollback work.

use crate::{add_table, Nft, NftError, FAMILY, TABLE};
use serde_json::{json, Value};
use std::net::IpAddr;

/// Default-drop input chain of the baseline.
pub const CHAIN: &str = "baseline_input";
/// Accept-policy chain that limits chosen ports to chosen sources (used by `ssh-port`
/// when there is no baseline to carry the restriction).
pub const ADMIN_CHAIN: &str = "admin_ports";
/// Every chain this module owns.
pub const OWN_CHAINS: &[&str] = &[CHAIN, ADMIN_CHAIN];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Proto {
    Tcp,
    Udp,
}

impl Proto {
    pub fn as_str(self) -> &'static str {
        match self {
            Proto::Tcp => "tcp",
            Proto::Udp => "udp",
        }
    }
}

/// A port with its protocol: `443`, `53/udp`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Port {
    pub port: u16,
    pub proto: Proto,
}

impl Port {
    pub fn tcp(port: u16) -> Port {
        Port {
            port,
            proto: Proto::Tcp,
        }
    }

    pub fn parse(s: &str) -> Result<Port, String> {
        let (p, proto) = match s.split_once('/') {
            Some((p, "tcp")) => (p, Proto::Tcp),
            Some((p, "udp")) => (p, Proto::Udp),
            Some((_, other)) => return Err(format!("{s:?}: protocol {other:?} is not tcp or udp")),
            None => (s, Proto::Tcp),
        };
        match p.parse::<u16>() {
            Ok(n) if n > 0 => Ok(Port { port: n, proto }),
            _ => Err(format!("{s:?} is not a port number (1-65535)")),
        }
    }
}

impl std::fmt::Display for Port {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.proto {
            Proto::Tcp => write!(f, "{}", self.port),
            Proto::Udp => write!(f, "{}/udp", self.port),
        }
    }
}

/// The well-known ports of services the playbook says to restrict to trusted sources.
pub fn service_ports(name: &str) -> Option<Vec<Port>> {
    let tcp = |p: &[u16]| p.iter().map(|&p| Port::tcp(p)).collect::<Vec<_>>();
    Some(match name.to_ascii_lowercase().as_str() {
        "ftp" => tcp(&[21]),
        "ssh" => tcp(&[22]),
        "mysql" | "mariadb" => tcp(&[3306]),
        "postgresql" | "postgres" => tcp(&[5432]),
        "redis" => tcp(&[6379]),
        "memcached" => vec![
            Port::tcp(11211),
            Port {
                port: 11211,
                proto: Proto::Udp,
            },
        ],
        "mongodb" => tcp(&[27017]),
        "elasticsearch" => tcp(&[9200, 9300]),
        "rdp" => tcp(&[3389]),
        "vnc" => tcp(&[5900]),
        _ => return None,
    })
}

pub const SERVICE_NAMES: &str =
    "ftp, ssh, mysql, mariadb, postgresql, redis, memcached, mongodb, elasticsearch, rdp, vnc";

/// A source address block (`203.0.113.0/24`) as nft JSON wants it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Source {
    pub addr: IpAddr,
    pub len: u8,
}

impl Source {
    fn json(&self) -> Value {
        let full = if self.addr.is_ipv4() { 32 } else { 128 };
        if self.len == full {
            json!(self.addr.to_string())
        } else {
            json!({"prefix": {"addr": self.addr.to_string(), "len": self.len}})
        }
    }
}

/// What the baseline lets in.
#[derive(Debug, Clone, Default)]
pub struct Baseline {
    /// Open to everyone (web, mail…).
    pub allow: Vec<Port>,
    /// Only from `admin_from` (the SSH port, databases, FTP…); from everyone when
    /// `admin_from` is empty.
    pub restricted: Vec<Port>,
    pub admin_from: Vec<Source>,
    /// TCP port ranges (an FTP server's passive data ports).
    pub ranges: Vec<PortRange>,
}

/// A TCP port range the baseline accepts, open to everyone or only from `admin_from`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PortRange {
    pub first: u16,
    pub last: u16,
    pub restricted: bool,
    /// The rule comment, which says what the range is for.
    pub comment: String,
}

impl PortRange {
    fn rules(&self, admin_from: &[Source]) -> Vec<Value> {
        let dport = json!({"match": {"op": "==", "left": {"payload": {"protocol": "tcp", "field": "dport"}},
            "right": {"range": [self.first, self.last]}}});
        let sources = if self.restricted { admin_from } else { &[] };
        if sources.is_empty() {
            return vec![rule(
                CHAIN,
                vec![dport, json!({"accept": null})],
                Some(&self.comment),
            )];
        }
        [false, true]
            .into_iter()
            .filter_map(|v6| {
                let fam: Vec<&Source> = sources.iter().filter(|s| s.addr.is_ipv6() == v6).collect();
                (!fam.is_empty()).then(|| {
                    rule(
                        CHAIN,
                        vec![saddr_match(v6, &fam), dport.clone(), json!({"accept": null})],
                        Some(&self.comment),
                    )
                })
            })
            .collect()
    }
}

fn rule(chain: &str, expr: Vec<Value>, comment: Option<&str>) -> Value {
    let mut r = json!({"family": FAMILY, "table": TABLE, "chain": chain, "expr": expr});
    if let Some(c) = comment {
        r["comment"] = json!(c);
    }
    json!({"add": {"rule": r}})
}

fn dport_match(proto: Proto, ports: &[u16]) -> Value {
    let right = if ports.len() == 1 {
        json!(ports[0])
    } else {
        json!({"set": ports})
    };
    json!({"match": {"op": "==", "left": {"payload": {"protocol": proto.as_str(), "field": "dport"}}, "right": right}})
}

fn saddr_match(v6: bool, sources: &[&Source]) -> Value {
    let right = if sources.len() == 1 {
        sources[0].json()
    } else {
        json!({"set": sources.iter().map(|s| s.json()).collect::<Vec<_>>()})
    };
    let proto = if v6 { "ip6" } else { "ip" };
    json!({"match": {"op": "==", "left": {"payload": {"protocol": proto, "field": "saddr"}}, "right": right}})
}

/// Rules admitting `ports` from `sources` (everyone if empty) with `verdict`.
fn port_rules(chain: &str, ports: &[Port], sources: &[Source], comment: &str) -> Vec<Value> {
    let mut out = Vec::new();
    for proto in [Proto::Tcp, Proto::Udp] {
        let nums: Vec<u16> = ports
            .iter()
            .filter(|p| p.proto == proto)
            .map(|p| p.port)
            .collect();
        if nums.is_empty() {
            continue;
        }
        if sources.is_empty() {
            out.push(rule(
                chain,
                vec![dport_match(proto, &nums), json!({"accept": null})],
                Some(comment),
            ));
            continue;
        }
        for v6 in [false, true] {
            let fam: Vec<&Source> = sources.iter().filter(|s| s.addr.is_ipv6() == v6).collect();
            if fam.is_empty() {
                continue;
            }
            out.push(rule(
                chain,
                vec![
                    saddr_match(v6, &fam),
                    dport_match(proto, &nums),
                    json!({"accept": null}),
                ],
                Some(comment),
            ));
        }
    }
    out
}

/// The comment that marks the rules admitting the restricted port `port`; `ssh-port`
/// finds the old admin port's rules by it.
pub fn admin_comment(port: u16) -> String {
    format!("rampart admin port {port}")
}

impl Baseline {
    /// One batch that (re)creates `baseline_input` with this policy.
    pub fn commands(&self) -> Vec<Value> {
        let mut cmds = vec![
            add_table(),
            json!({"add": {"chain": {"family": FAMILY, "table": TABLE, "name": CHAIN,
                "type": "filter", "hook": "input", "prio": 0, "policy": "drop"}}}),
            json!({"flush": {"chain": {"family": FAMILY, "table": TABLE, "name": CHAIN}}}),
            rule(
                CHAIN,
                vec![
                    json!({"match": {"op": "in", "left": {"ct": {"key": "state"}}, "right": ["established", "related"]}}),
                    json!({"accept": null}),
                ],
                Some("rampart established"),
            ),
            rule(
                CHAIN,
                vec![
                    json!({"match": {"op": "in", "left": {"ct": {"key": "state"}}, "right": "invalid"}}),
                    json!({"drop": null}),
                ],
                None,
            ),
            rule(
                CHAIN,
                vec![
                    json!({"match": {"op": "==", "left": {"meta": {"key": "iif"}}, "right": "lo"}}),
                    json!({"accept": null}),
                ],
                Some("rampart loopback"),
            ),
            rule(
                CHAIN,
                vec![
                    json!({"match": {"op": "==", "left": {"payload": {"protocol": "icmp", "field": "type"}},
                        "right": {"set": ["echo-request", "destination-unreachable", "time-exceeded", "parameter-problem"]}}}),
                    json!({"accept": null}),
                ],
                Some("rampart icmp"),
            ),
            rule(
                CHAIN,
                vec![
                    json!({"match": {"op": "==", "left": {"payload": {"protocol": "icmpv6", "field": "type"}},
                        "right": {"set": ["echo-request", "destination-unreachable", "packet-too-big", "time-exceeded",
                            "parameter-problem", "nd-router-advert", "nd-neighbor-solicit", "nd-neighbor-advert",
                            "mld-listener-query"]}}}),
                    json!({"accept": null}),
                ],
                Some("rampart icmpv6"),
            ),
            // DHCPv6 replies come from link-local servers and are not tracked connections;
            // dropping them loses the address at the next renewal on many clouds.
            rule(
                CHAIN,
                vec![
                    json!({"match": {"op": "==", "left": {"payload": {"protocol": "ip6", "field": "saddr"}},
                        "right": {"prefix": {"addr": "fe80::", "len": 10}}}}),
                    json!({"match": {"op": "==", "left": {"payload": {"protocol": "udp", "field": "dport"}}, "right": 546}}),
                    json!({"accept": null}),
                ],
                Some("rampart dhcpv6 client"),
            ),
        ];
        cmds.extend(port_rules(CHAIN, &self.allow, &[], "rampart allow"));
        for p in &self.restricted {
            cmds.extend(port_rules(CHAIN, &[*p], &self.admin_from, &admin_comment(p.port)));
        }
        for r in &self.ranges {
            cmds.extend(r.rules(&self.admin_from));
        }
        cmds
    }

    /// True when a packet from `client` to local TCP port `port` is accepted.
    pub fn admits(&self, client: IpAddr, port: u16) -> bool {
        let p = Port::tcp(port);
        if self.allow.contains(&p) {
            return true;
        }
        let from_admin = self.admin_from.is_empty() || self.admin_from.iter().any(|s| contains(s, client));
        (self.restricted.contains(&p) && from_admin)
            || self
                .ranges
                .iter()
                .any(|r| (r.first..=r.last).contains(&port) && (!r.restricted || from_admin))
    }
}

/// Rules that add `port` to a default-drop `baseline_input` from `sources` (for ssh-port).
pub fn open_port_in_baseline(port: u16, sources: &[Source]) -> Vec<Value> {
    port_rules(CHAIN, &[Port::tcp(port)], sources, &admin_comment(port))
}

/// `admin_ports`: a policy-accept chain that drops `port` unless the source is allowed.
pub fn restrict_port(port: u16, sources: &[Source]) -> Vec<Value> {
    let mut cmds = vec![
        add_table(),
        json!({"add": {"chain": {"family": FAMILY, "table": TABLE, "name": ADMIN_CHAIN,
            "type": "filter", "hook": "input", "prio": 0, "policy": "accept"}}}),
    ];
    cmds.extend(port_rules(
        ADMIN_CHAIN,
        &[Port::tcp(port)],
        sources,
        &admin_comment(port),
    ));
    let comment = admin_comment(port);
    cmds.push(rule(
        ADMIN_CHAIN,
        vec![dport_match(Proto::Tcp, &[port]), json!({"drop": null})],
        Some(&comment),
    ));
    cmds
}

fn contains(s: &Source, ip: IpAddr) -> bool {
    let ip = match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map(IpAddr::V4).unwrap_or(ip),
        v4 => v4,
    };
    match (s.addr, ip) {
        (IpAddr::V4(a), IpAddr::V4(b)) => {
            let mask = if s.len == 0 { 0 } else { u32::MAX << (32 - s.len) };
            u32::from(a) & mask == u32::from(b) & mask
        }
        (IpAddr::V6(a), IpAddr::V6(b)) => {
            let mask = if s.len == 0 { 0 } else { u128::MAX << (128 - s.len) };
            u128::from(a) & mask == u128::from(b) & mask
        }
        _ => false,
    }
}

/// The chains this module owns, as listed by nft (chain objects and their rules).
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Snapshot {
    /// `{"chain": …}` and `{"rule": …}` objects, in listing order.
    pub objects: Vec<Value>,
}

impl Snapshot {
    pub fn has_chain(&self, name: &str) -> bool {
        self.objects.iter().any(|o| o["chain"]["name"] == name)
    }

    /// Handles of rules in `chain` whose comment is `comment`.
    pub fn rule_handles(&self, chain: &str, comment: &str) -> Vec<u64> {
        self.objects
            .iter()
            .filter(|o| o["rule"]["chain"] == chain && o["rule"]["comment"] == comment)
            .filter_map(|o| o["rule"]["handle"].as_u64())
            .collect()
    }
}

/// Captures Rampart's own input chains (nothing else of the table).
pub fn snapshot(nft: &Nft) -> Result<Snapshot, NftError> {
    let Some(listing) = nft.list_table(FAMILY, TABLE)? else {
        return Ok(Snapshot::default());
    };
    let objects = listing["nftables"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter(|o| {
                    let chain = o
                        .get("chain")
                        .map(|c| &c["name"])
                        .or_else(|| o.get("rule").map(|r| &r["chain"]));
                    chain
                        .and_then(Value::as_str)
                        .is_some_and(|c| OWN_CHAINS.contains(&c))
                })
                .cloned()
                .collect()
        })
        .unwrap_or_default();
    Ok(Snapshot { objects })
}

/// One batch that makes Rampart's own chains exactly as in `before`, given the state `now`.
pub fn restore_commands(before: &Snapshot, now: &Snapshot) -> Vec<Value> {
    let mut cmds = vec![add_table()];
    for name in OWN_CHAINS {
        if now.has_chain(name) {
            let c = json!({"family": FAMILY, "table": TABLE, "name": name});
            cmds.push(json!({"flush": {"chain": c.clone()}}));
            cmds.push(json!({"delete": {"chain": c}}));
        }
    }
    for o in &before.objects {
        if let Some(c) = o.get("chain") {
            let mut c = c.clone();
            if let Some(m) = c.as_object_mut() {
                m.remove("handle");
            }
            cmds.push(json!({"add": {"chain": c}}));
        } else if let Some(r) = o.get("rule") {
            let mut r = r.clone();
            if let Some(m) = r.as_object_mut() {
                m.remove("handle");
                m.remove("index");
            }
            cmds.push(json!({"add": {"rule": r}}));
        }
    }
    cmds
}

/// Restores `before` now (reads the current state first).
pub fn restore(nft: &Nft, before: &Snapshot) -> Result<(), NftError> {
    let now = snapshot(nft)?;
    nft.apply(restore_commands(before, &now), "restore Rampart's input chains")
}

/// Deletes the rules of `chain` with the given comment (closing an old admin port).
pub fn delete_rules(nft: &Nft, chain: &str, comment: &str) -> Result<usize, NftError> {
    let now = snapshot(nft)?;
    let handles = now.rule_handles(chain, comment);
    if handles.is_empty() {
        return Ok(0);
    }
    let cmds = handles
        .iter()
        .map(|h| json!({"delete": {"rule": {"family": FAMILY, "table": TABLE, "chain": chain, "handle": h}}}))
        .collect();
    nft.apply(cmds, "delete rules")?;
    Ok(handles.len())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ports_and_services_parse() {
        assert_eq!(
            Port::parse("53/udp").unwrap(),
            Port {
                port: 53,
                proto: Proto::Udp
            }
        );
        assert!(Port::parse("0").is_err());
        assert!(Port::parse("80/sctp").unwrap_err().contains("sctp"));
        assert_eq!(service_ports("MySQL").unwrap(), vec![Port::tcp(3306)]);
        assert!(service_ports("gopher").is_none());
    }

    #[test]
    fn admits_follows_the_rules() {
        let b = Baseline {
            allow: vec![Port::tcp(80)],
            restricted: vec![Port::tcp(22)],
            admin_from: vec![Source {
                addr: "203.0.113.0".parse().unwrap(),
                len: 24,
            }],
            ranges: vec![PortRange {
                first: 30000,
                last: 30010,
                restricted: true,
                comment: "rampart ftp passive".into(),
            }],
        };
        assert!(b.admits("203.0.113.9".parse().unwrap(), 30010));
        assert!(!b.admits("198.51.100.1".parse().unwrap(), 30000));
        assert!(!b.admits("203.0.113.9".parse().unwrap(), 30011));
        assert!(b.admits("198.51.100.1".parse().unwrap(), 80));
        assert!(b.admits("203.0.113.9".parse().unwrap(), 22));
        assert!(!b.admits("198.51.100.1".parse().unwrap(), 22));
        assert!(!b.admits("203.0.113.9".parse().unwrap(), 3306));
        let cmds = b.commands();
        let text = serde_json::to_string(&cmds).unwrap();
        assert!(text.contains("\"policy\":\"drop\""));
        assert!(text.contains("rampart admin port 22"));
        assert!(text.contains(r#""range":[30000,30010]"#), "{text}");
        assert!(
            !text.contains("\"delete\""),
            "a baseline never deletes other objects"
        );
    }

    #[test]
    fn restore_only_touches_own_chains() {
        let before = Snapshot {
            objects: vec![
                json!({"chain": {"family": "inet", "table": "rampart", "name": CHAIN, "handle": 3,
                "type": "filter", "hook": "input", "prio": 0, "policy": "accept"}}),
            ],
        };
        let now = Snapshot {
            objects: vec![json!({"chain": {"name": ADMIN_CHAIN}})],
        };
        let cmds = restore_commands(&before, &now);
        assert!(cmds.iter().any(|c| c["delete"]["chain"]["name"] == ADMIN_CHAIN));
        assert!(cmds.iter().any(|c| c["add"]["chain"]["policy"] == "accept"));
        let text = serde_json::to_string(&cmds).unwrap();
        assert!(!text.contains("\"handle\""));
        assert!(!text.contains("ban"));
    }
}
