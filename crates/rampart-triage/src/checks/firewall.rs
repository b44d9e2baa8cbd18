//! Is a firewall loaded, does it filter anything, and can the SSH port be reached from
//! any address? The loaded nftables ruleset (`nft -j list ruleset`, which also shows
//! iptables-nft rules) and legacy iptables (`iptables-legacy-save`, converted to the
//! same shape) are evaluated for a probe packet: a new TCP connection from an arbitrary
//! public address, through every input hook chain, following jumps and named sets.

use crate::context::{Context, Out};
use crate::procnet::{tcp_state, ProcFs, Proto};
use crate::runner::Check;
use rampart_core::{cmd, Evidence, Finding, HostRoot, Severity, Step};
use serde_json::{json, Value};
use std::collections::BTreeSet;
use std::net::IpAddr;
use std::time::Duration;

pub struct Firewall;

pub const SSHD_CONFIG: &str = "/etc/ssh/sshd_config";

/// Ports no one opens on purpose: if a new connection to them from anywhere is
/// accepted, nothing filters input.
const PROBE_PORTS: [u16; 2] = [31337, 47811];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Family {
    V4,
    V6,
}

/// A new TCP connection from an arbitrary public address, arriving on an outside interface.
#[derive(Debug, Clone, Copy)]
pub struct Probe {
    pub family: Family,
    pub dport: u16,
}

/// Why a probe was let in (or not): the deciding rule or policy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Decision {
    pub accepted: bool,
    /// `nft inet filter input handle 8` or `nft inet filter input policy accept`.
    pub by: String,
}

/// Everything the firewall check reads, so the analysis is a pure function.
#[derive(Debug, Clone, Default)]
pub struct Inputs {
    /// `nft -j list ruleset`, plus legacy iptables converted by [`iptables_to_nft`].
    pub rulesets: Vec<Value>,
    pub ssh_ports: Vec<u16>,
    /// Addresses of current SSH clients (the admin, most likely).
    pub ssh_clients: Vec<IpAddr>,
    /// Where the rulesets came from, for evidence.
    pub sources: Vec<String>,
}

/// The findings for a loaded ruleset.
pub fn analyze(inp: &Inputs) -> Vec<Finding> {
    let mut out = Vec::new();
    let rules = Ruleset::new(&inp.rulesets);
    let hooks = rules.input_chains();
    let sources = inp.sources.join(", ");

    let open = |family| {
        PROBE_PORTS
            .iter()
            .all(|&dport| rules.evaluate(Probe { family, dport }).accepted)
    };
    let (open4, open6) = (open(Family::V4), open(Family::V6));
    if !hooks.is_empty() && (open4 != open6) {
        let (fam, family) = if open6 {
            ("IPv6", Family::V6)
        } else {
            ("IPv4", Family::V4)
        };
        let d = rules.evaluate(Probe {
            family,
            dport: PROBE_PORTS[0],
        });
        out.push(
            Finding::new(
                "firewall.family-open",
                Severity::High,
                Step::Firewall,
                format!("{fam} is not filtered: every incoming {fam} connection is accepted"),
            )
            .evidence(Evidence::at(
                sources.clone(),
                format!("a new {fam} connection to tcp port {} is accepted by {}", PROBE_PORTS[0], d.by),
            ))
            .remedy(format!(
                "Rules for one address family do not cover the other (iptables vs ip6tables, `table ip`). \
                 Filter {fam} too, or use one `inet` table for both: `rampart respond plan firewall-baseline`."
            ))
            .action("firewall-baseline"),
        );
    }
    if hooks.is_empty() || (open4 && open6) {
        let (title, detail) = if hooks.is_empty() {
            (
                "No firewall: no input filter is loaded".to_string(),
                "no chain on the input hook".to_string(),
            )
        } else {
            let d = rules.evaluate(Probe {
                family: Family::V4,
                dport: PROBE_PORTS[0],
            });
            (
                "No firewall: every incoming connection is accepted".to_string(),
                format!(
                    "a new connection to tcp port {} from any address is accepted by {}",
                    PROBE_PORTS[0], d.by
                ),
            )
        };
        out.push(
            Finding::new("firewall.none", Severity::High, Step::Firewall, title)
                .evidence(Evidence::at(sources.clone(), detail))
                .remedy(
                    "Load a default-drop input policy that admits only the services you run \
                     (`rampart respond plan firewall-baseline` shows the rules before applying them).",
                )
                .action("firewall-baseline"),
        );
    }

    for &port in &inp.ssh_ports {
        let open: Vec<Decision> = [Family::V4, Family::V6]
            .iter()
            .map(|&family| rules.evaluate(Probe { family, dport: port }))
            .filter(|d| d.accepted)
            .collect();
        let Some(d) = open.first() else { continue };
        let clients: BTreeSet<String> = inp
            .ssh_clients
            .iter()
            .filter(|a| !a.is_loopback())
            .map(|a| match a {
                IpAddr::V4(v) => format!("{v}/32"),
                IpAddr::V6(v) => format!("{v}/128"),
            })
            .collect();
        let mut f = Finding::new(
            "firewall.ssh-open",
            Severity::High,
            Step::RemoteLogin,
            format!("SSH port {port} is reachable from any address"),
        )
        .evidence(Evidence::at(
            d.by.clone(),
            format!("a new connection to tcp port {port} from an arbitrary public address is accepted"),
        ));
        if clients.is_empty() {
            f = f.remedy(format!(
                "Admit SSH only from your own addresses: `rampart respond plan firewall-baseline \
                 admin-from=YOUR-IP/32`; consider moving it off port {port} (`rampart respond plan ssh-port port=22022`)."
            ));
        } else {
            let from = clients.into_iter().collect::<Vec<_>>().join(",");
            f = f
                .remedy(format!(
                    "Admit SSH only from the addresses administrators use (current SSH clients: {from}); \
                     check the list before applying."
                ))
                .action(format!("firewall-baseline admin-from={from}"));
        }
        out.push(f);
    }
    out
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Tri {
    Yes,
    No,
    Unknown,
}

enum Outcome {
    Verdict(bool, String),
    /// Fell off the end of the chain or hit `return`.
    Continue,
}

struct Ruleset<'a> {
    items: Vec<&'a Value>,
}

impl<'a> Ruleset<'a> {
    fn new(rulesets: &'a [Value]) -> Self {
        let items = rulesets
            .iter()
            .filter_map(|r| r.get("nftables").and_then(Value::as_array))
            .flatten()
            .collect();
        Ruleset { items }
    }

    fn chains(&self) -> impl Iterator<Item = &'a Value> + '_ {
        self.items.iter().filter_map(|i| i.get("chain"))
    }

    /// Base chains on the input hook (families inet, ip, ip6), in priority order.
    fn input_chains(&self) -> Vec<&'a Value> {
        let mut v: Vec<&Value> = self
            .chains()
            .filter(|c| c.get("hook").and_then(Value::as_str) == Some("input"))
            .filter(|c| matches!(str_of(c, "family"), "inet" | "ip" | "ip6"))
            .filter(|c| matches!(c.get("type").and_then(Value::as_str), Some("filter") | None))
            .collect();
        v.sort_by_key(|c| c.get("prio").and_then(Value::as_i64).unwrap_or(0));
        v
    }

    fn rules_of(&self, family: &str, table: &str, chain: &str) -> Vec<&'a Value> {
        self.items
            .iter()
            .filter_map(|i| i.get("rule"))
            .filter(|r| {
                str_of(r, "family") == family && str_of(r, "table") == table && str_of(r, "chain") == chain
            })
            .collect()
    }

    fn set(&self, family: &str, table: &str, name: &str) -> Option<&'a Value> {
        self.items
            .iter()
            .filter_map(|i| i.get("set").or_else(|| i.get("map")))
            .find(|s| {
                str_of(s, "family") == family && str_of(s, "table") == table && str_of(s, "name") == name
            })
    }

    /// The verdict for `probe`: every input base chain of a matching family must accept.
    fn evaluate(&self, probe: Probe) -> Decision {
        let mut last = Decision {
            accepted: true,
            by: "no input chain (nothing filters)".into(),
        };
        for chain in self.input_chains() {
            let family = str_of(chain, "family");
            let applies = matches!(
                (family, probe.family),
                ("inet", _) | ("ip", Family::V4) | ("ip6", Family::V6)
            );
            if !applies {
                continue;
            }
            let table = str_of(chain, "table");
            let name = str_of(chain, "name");
            let (accepted, by) = match self.run_chain(family, table, name, probe, 0) {
                Outcome::Verdict(a, by) => (a, by),
                Outcome::Continue => {
                    let policy = chain.get("policy").and_then(Value::as_str).unwrap_or("accept");
                    (
                        policy == "accept",
                        format!("nft {family} {table} {name} policy {policy}"),
                    )
                }
            };
            if !accepted {
                return Decision { accepted, by };
            }
            last = Decision { accepted, by };
        }
        last
    }

    fn run_chain(&self, family: &str, table: &str, chain: &str, probe: Probe, depth: usize) -> Outcome {
        if depth > 16 {
            return Outcome::Continue;
        }
        for rule in self.rules_of(family, table, chain) {
            let Some(exprs) = rule.get("expr").and_then(Value::as_array) else {
                continue;
            };
            let mut matched = Tri::Yes;
            let by = format!(
                "nft {family} {table} {chain} handle {}",
                rule.get("handle")
                    .map(|h| h.to_string())
                    .unwrap_or_else(|| "?".into())
            );
            'exprs: for e in exprs {
                if let Some(m) = e.get("match") {
                    match self.eval_match(m, family, table, probe) {
                        Tri::Yes => {}
                        Tri::No => break 'exprs,
                        Tri::Unknown => matched = Tri::Unknown,
                    }
                    continue;
                }
                // Only a rule whose every match certainly applies decides.
                if matched != Tri::Yes {
                    break;
                }
                if e.get("accept").is_some() {
                    return Outcome::Verdict(true, by);
                }
                if e.get("drop").is_some() || e.get("reject").is_some() {
                    return Outcome::Verdict(false, by);
                }
                if e.get("return").is_some() {
                    return Outcome::Continue;
                }
                for (kind, is_goto) in [("jump", false), ("goto", true)] {
                    if let Some(target) = e.get(kind).and_then(|j| j.get("target")).and_then(Value::as_str) {
                        match self.run_chain(family, table, target, probe, depth + 1) {
                            Outcome::Verdict(a, by) => return Outcome::Verdict(a, by),
                            // After a goto the calling chain is done; its caller's
                            // policy applies.
                            Outcome::Continue if is_goto => return Outcome::Continue,
                            Outcome::Continue => {}
                        }
                    }
                }
            }
        }
        Outcome::Continue
    }

    fn eval_match(&self, m: &Value, family: &str, table: &str, probe: Probe) -> Tri {
        let op = m.get("op").and_then(Value::as_str).unwrap_or("==");
        let Some(left) = m.get("left") else {
            return Tri::Unknown;
        };
        let right = m.get("right").unwrap_or(&Value::Null);
        let resolved;
        let right = match right.as_str().and_then(|s| s.strip_prefix('@')) {
            Some(name) => match self.set(family, table, name) {
                Some(set) => {
                    resolved = json!({"set": set.get("elem").cloned().unwrap_or(json!([]))});
                    &resolved
                }
                None => return Tri::Unknown,
            },
            None => right,
        };
        let hit = if let Some(p) = left.get("payload") {
            let proto = str_of(p, "protocol");
            let field = str_of(p, "field");
            match (proto, field) {
                ("tcp", "dport") | ("th", "dport") => port_in(right, probe.dport),
                ("udp" | "sctp" | "dccp" | "udplite", _) => return Tri::No,
                ("ip", "saddr") if probe.family == Family::V4 => covers_everything(right),
                ("ip6", "saddr") if probe.family == Family::V6 => covers_everything(right),
                ("ip", _) if probe.family == Family::V6 => return Tri::No,
                ("ip6", _) if probe.family == Family::V4 => return Tri::No,
                ("ip", "protocol") | ("ip6", "nexthdr") => proto_is_tcp(right),
                _ => return Tri::Unknown,
            }
        } else if let Some(meta) = left.get("meta") {
            match str_of(meta, "key") {
                "l4proto" => proto_is_tcp(right),
                "nfproto" => right.as_str().map(|s| {
                    (s == "ipv4" && probe.family == Family::V4) || (s == "ipv6" && probe.family == Family::V6)
                }),
                // The probe arrives on an outside interface, never on loopback.
                "iif" | "iifname" => match right.as_str() {
                    Some("lo") => Some(false),
                    Some(_) => Some(true),
                    None => None,
                },
                _ => None,
            }
        } else if let Some(ct) = left.get("ct") {
            match str_of(ct, "key") {
                "state" => Some(strings_of(right).iter().any(|s| s == "new")),
                _ => None,
            }
        } else {
            None
        };
        let Some(hit) = hit else { return Tri::Unknown };
        let hit = match op {
            "!=" => !hit,
            "==" | "in" => hit,
            _ => return Tri::Unknown,
        };
        if hit {
            Tri::Yes
        } else {
            Tri::No
        }
    }
}

/// Some(true) when the port is in `right` (a number, service name, range, set).
fn port_in(right: &Value, port: u16) -> Option<bool> {
    if let Some(n) = right.as_u64() {
        return Some(n == port as u64);
    }
    if let Some(s) = right.as_str() {
        let n = match s {
            "ssh" => 22,
            "http" => 80,
            "https" => 443,
            "ftp" => 21,
            other => other.parse().ok()?,
        };
        return Some(n == port);
    }
    if let Some(r) = right.get("range").and_then(Value::as_array) {
        let (lo, hi) = (r.first()?.as_u64()?, r.get(1)?.as_u64()?);
        return Some((lo..=hi).contains(&(port as u64)));
    }
    if let Some(set) = right
        .get("set")
        .and_then(Value::as_array)
        .or_else(|| right.as_array())
    {
        let mut any_unknown = false;
        for e in set {
            let e = e.get("elem").and_then(|el| el.get("val")).unwrap_or(e);
            match port_in(e, port) {
                Some(true) => return Some(true),
                Some(false) => {}
                None => any_unknown = true,
            }
        }
        return if any_unknown { None } else { Some(false) };
    }
    None
}

/// Some(true) when an address match admits every source (`0.0.0.0/0`, `::/0`).
fn covers_everything(right: &Value) -> Option<bool> {
    if let Some(p) = right.get("prefix") {
        return Some(p.get("len").and_then(Value::as_u64) == Some(0));
    }
    if right.is_string() {
        return Some(false);
    }
    if right.get("range").is_some() {
        return Some(false);
    }
    if let Some(set) = right
        .get("set")
        .and_then(Value::as_array)
        .or_else(|| right.as_array())
    {
        return Some(set.iter().any(|e| {
            let e = e.get("elem").and_then(|el| el.get("val")).unwrap_or(e);
            covers_everything(e) == Some(true)
        }));
    }
    None
}

fn proto_is_tcp(right: &Value) -> Option<bool> {
    let names = strings_of(right);
    if !names.is_empty() {
        return Some(names.iter().any(|s| s == "tcp" || s == "6"));
    }
    right.as_u64().map(|n| n == 6)
}

fn strings_of(v: &Value) -> Vec<String> {
    match v {
        Value::String(s) => vec![s.clone()],
        Value::Array(a) => a.iter().flat_map(strings_of).collect(),
        Value::Object(o) => o.get("set").map(strings_of).unwrap_or_default(),
        Value::Number(n) => vec![n.to_string()],
        _ => Vec::new(),
    }
}

fn str_of<'a>(v: &'a Value, key: &str) -> &'a str {
    v.get(key).and_then(Value::as_str).unwrap_or("")
}

/// Converts the `*filter` table of `iptables-save` / `ip6tables-save` output into the
/// nft JSON shape (`family` `ip` or `ip6`), so one evaluator judges both. Options
/// Rampart does not model become a match it cannot decide (the rule is then not relied on).
pub fn iptables_to_nft(save: &str, family: &str) -> Value {
    let mut items = Vec::new();
    let mut in_filter = false;
    let mut handle = 0u64;
    for (i, line) in save.lines().enumerate() {
        let line = line.trim();
        if let Some(t) = line.strip_prefix('*') {
            in_filter = t == "filter";
            continue;
        }
        if !in_filter {
            continue;
        }
        if let Some(rest) = line.strip_prefix(':') {
            let mut w = rest.split_whitespace();
            let (Some(name), Some(policy)) = (w.next(), w.next()) else {
                continue;
            };
            let mut chain = json!({"family": family, "table": "filter", "name": name});
            let hook = match name {
                "INPUT" => Some("input"),
                "FORWARD" => Some("forward"),
                "OUTPUT" => Some("output"),
                _ => None,
            };
            if let Some(h) = hook {
                chain["hook"] = json!(h);
                chain["type"] = json!("filter");
                chain["policy"] = json!(policy.to_ascii_lowercase());
            }
            items.push(json!({ "chain": chain }));
            continue;
        }
        let Some(rest) = line.strip_prefix("-A ") else {
            continue;
        };
        handle += 1;
        let words: Vec<&str> = rest.split_whitespace().collect();
        let Some((&chain, args)) = words.split_first() else {
            continue;
        };
        let mut expr = Vec::new();
        let mut neg = false;
        let mut verdict = None;
        let mut k = 0;
        let unknown = || json!({"match": {"op": "==", "left": {"unmodelled": true}, "right": 0}});
        while k < args.len() {
            let a = args[k];
            let val = args.get(k + 1).copied().unwrap_or("");
            let op = if neg { "!=" } else { "==" };
            let mut used = 2;
            match a {
                "!" => {
                    neg = true;
                    k += 1;
                    continue;
                }
                "-p" | "--protocol" => expr
                    .push(json!({"match": {"op": op, "left": {"meta": {"key": "l4proto"}}, "right": val}})),
                "-s" | "--source" => {
                    let (addr, len) = val.split_once('/').unwrap_or((val, ""));
                    let len: u64 = len.parse().unwrap_or(if family == "ip" { 32 } else { 128 });
                    let proto = if family == "ip" { "ip" } else { "ip6" };
                    expr.push(
                        json!({"match": {"op": op, "left": {"payload": {"protocol": proto, "field": "saddr"}},
                        "right": {"prefix": {"addr": addr, "len": len}}}}),
                    )
                }
                "--dport" | "--destination-port" | "--dports" | "--destination-ports" => {
                    let set: Vec<Value> = val
                        .split(',')
                        .map(|p| match p.split_once(':') {
                            Some((a, b)) => json!({"range": [a.parse::<u64>().unwrap_or(0), b.parse::<u64>().unwrap_or(65535)]}),
                            None => p.parse::<u64>().map(Value::from).unwrap_or_else(|_| json!(p)),
                        })
                        .collect();
                    expr.push(
                        json!({"match": {"op": op, "left": {"payload": {"protocol": "th", "field": "dport"}},
                        "right": {"set": set}}}),
                    )
                }
                "-i" | "--in-interface" => expr
                    .push(json!({"match": {"op": op, "left": {"meta": {"key": "iifname"}}, "right": val}})),
                "--state" | "--ctstate" => {
                    let states: Vec<String> = val.split(',').map(|s| s.to_ascii_lowercase()).collect();
                    expr.push(json!({"match": {"op": op, "left": {"ct": {"key": "state"}}, "right": states}}))
                }
                // Module loads and counters carry no condition.
                "-m" | "--match" | "-c" => {
                    if a == "-c" {
                        used = 3;
                    }
                }
                "-j" | "--jump" | "-g" | "--goto" => {
                    verdict = Some(match val {
                        "ACCEPT" => json!({"accept": null}),
                        "DROP" => json!({"drop": null}),
                        "REJECT" => json!({"reject": null}),
                        "RETURN" => json!({"return": null}),
                        "LOG" => Value::Null,
                        target if a.starts_with("-g") || a == "--goto" => json!({"goto": {"target": target}}),
                        target => json!({"jump": {"target": target}}),
                    });
                    // Options of the target (--reject-with …) are not conditions.
                    break;
                }
                _ => {
                    expr.push(unknown());
                    // An option's value is not an option.
                    used = if val.starts_with('-') { 1 } else { 2 };
                }
            }
            neg = false;
            k += used;
        }
        if let Some(v) = verdict.filter(|v| !v.is_null()) {
            expr.push(v);
        }
        items.push(
            json!({"rule": {"family": family, "table": "filter", "chain": chain,
            "handle": format!("{handle} (iptables-save line {})", i + 1), "expr": expr}}),
        );
    }
    json!({ "nftables": items })
}

/// The ports sshd is configured to listen on (`Port` lines of the main config and its
/// `Include`s are read simply; 22 when none, nothing when there is no sshd_config).
pub fn sshd_ports(host: &HostRoot, out: &mut Out) -> Vec<u16> {
    let mut ports = BTreeSet::new();
    let text = match host.read_text_opt(SSHD_CONFIG) {
        Ok(Some(t)) => t,
        // No SSH server configured: its port is not a question (a listening sshd is
        // still found from the sockets).
        Ok(None) => return vec![],
        Err(e) => {
            out.host_error(&e);
            return vec![22];
        }
    };
    let mut files = vec![(SSHD_CONFIG.to_string(), text)];
    let mut i = 0;
    while i < files.len() && i < 32 {
        let (path, text) = files[i].clone();
        for (n, line) in text.lines().enumerate() {
            let mut w = line.split_whitespace();
            let key = w.next().unwrap_or("").to_ascii_lowercase();
            if key == "match" {
                break; // Port is not allowed inside Match.
            }
            let value = w.next().unwrap_or("");
            match key.as_str() {
                "port" => match value.parse::<u16>() {
                    Ok(p) => {
                        ports.insert(p);
                    }
                    Err(_) => out.error(
                        format!("{path}:{}", n + 1),
                        format!("{path}:{}: Port {value:?} is not a port number", n + 1),
                    ),
                },
                "include" => {
                    for pat in line.split_whitespace().skip(1) {
                        let full = if pat.starts_with('/') {
                            pat.to_string()
                        } else {
                            format!("/etc/ssh/{pat}")
                        };
                        for inc in expand_glob(host, &full) {
                            if let Ok(Some(t)) = host.read_text_opt(&inc) {
                                files.push((inc, t));
                            }
                        }
                    }
                }
                _ => {}
            }
        }
        i += 1;
    }
    if ports.is_empty() {
        ports.insert(22);
    }
    ports.into_iter().collect()
}

/// `dir/*.conf`-style globs: a `*` in the last component only (what configs use).
pub fn expand_glob(host: &HostRoot, pattern: &str) -> Vec<String> {
    let Some((dir, name)) = pattern.rsplit_once('/') else {
        return vec![];
    };
    if !name.contains('*') && !name.contains('?') {
        return vec![pattern.to_string()];
    }
    let (prefix, suffix) = match name.split_once('*') {
        Some((p, s)) => (p, s),
        None => (name, ""),
    };
    let dir = if dir.is_empty() { "/" } else { dir };
    host.read_dir_opt(dir)
        .unwrap_or_default()
        .into_iter()
        .filter(|e| {
            let n = e.name.to_string_lossy();
            n.starts_with(prefix) && n.ends_with(suffix) && n.len() >= prefix.len() + suffix.len()
        })
        .map(|e| e.host_path)
        .collect()
}

fn save_output(program: &str) -> Option<Result<String, String>> {
    cmd::which(program)?;
    let opts = cmd::Options {
        timeout: Duration::from_secs(10),
        max_output: 64 * 1024 * 1024,
        ..Default::default()
    };
    Some(match cmd::run_with(program, Vec::<&str>::new(), &opts) {
        Ok(o) if o.success() => Ok(o.stdout_text()),
        Ok(o) => Err(format!("{program}: {}", o.stderr_line())),
        Err(e) => Err(e.to_string()),
    })
}

impl Check for Firewall {
    fn name(&self) -> &'static str {
        "firewall"
    }

    fn needs_live(&self) -> bool {
        true
    }

    fn run(&self, ctx: &Context, out: &mut Out) {
        if !ctx.is_root {
            out.skip("reading the loaded firewall ruleset needs root");
            return;
        }
        let mut inp = Inputs::default();
        let have_nft = cmd::which("nft").is_some();
        if have_nft {
            match rampart_nft::Nft::new().list_ruleset() {
                Ok(v) => {
                    inp.rulesets.push(v);
                    inp.sources.push("nft list ruleset".into());
                }
                Err(e) => {
                    out.error("nft list ruleset", e.to_string());
                    return;
                }
            }
        } else {
            out.skip("nft is not installed: only iptables rules were read");
        }
        // Legacy iptables hooks run next to nftables; with no nft, whatever backend
        // iptables-save has.
        let tools: [(&str, &str); 2] = if have_nft {
            [("iptables-legacy-save", "ip"), ("ip6tables-legacy-save", "ip6")]
        } else {
            [("iptables-save", "ip"), ("ip6tables-save", "ip6")]
        };
        let mut any_tool = have_nft;
        for (tool, family) in tools {
            match save_output(tool) {
                None => {}
                Some(Ok(text)) => {
                    any_tool = true;
                    if text.contains("*filter") {
                        inp.rulesets.push(iptables_to_nft(&text, family));
                        inp.sources.push(tool.to_string());
                    }
                }
                Some(Err(e)) => out.error(tool, e),
            }
        }
        if !any_tool {
            out.skip("neither nft nor iptables-save is installed: the loaded firewall cannot be read");
            return;
        }
        if inp.sources.is_empty() {
            inp.sources.push("iptables-save".into());
        }
        inp.ssh_ports = sshd_ports(&ctx.host, out);
        // Ports sshd really listens on, and who is connected now (likely the admin).
        if let Ok((sockets, _)) = ProcFs::of(&ctx.host).sockets() {
            let mut sshd_ports: BTreeSet<u16> = inp.ssh_ports.iter().copied().collect();
            let procfs = ProcFs::of(&ctx.host);
            let clock = procfs.clock();
            for s in sockets
                .iter()
                .filter(|s| s.proto == Proto::Tcp && s.is_listening() && !s.is_loopback())
            {
                let is_sshd = s
                    .pids
                    .iter()
                    .any(|&p| procfs.process(p, &clock).is_some_and(|i| i.name == "sshd"));
                if is_sshd {
                    sshd_ports.insert(s.local.port());
                }
            }
            inp.ssh_ports = sshd_ports.into_iter().collect();
            inp.ssh_clients = sockets
                .iter()
                .filter(|s| {
                    s.proto == Proto::Tcp
                        && s.state == tcp_state::ESTABLISHED
                        && inp.ssh_ports.contains(&s.local.port())
                })
                .map(|s| match s.remote.ip() {
                    IpAddr::V6(v6) => v6.to_ipv4_mapped().map(IpAddr::V4).unwrap_or(IpAddr::V6(v6)),
                    v4 => v4,
                })
                .collect();
        }
        for f in analyze(&inp) {
            out.finding(f);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn iptables_save_converts() {
        let save = "*filter\n:INPUT DROP [0:0]\n:FORWARD ACCEPT [0:0]\n\
                    -A INPUT -i lo -j ACCEPT\n-A INPUT -s 10.0.0.0/8 -p tcp -m tcp --dport 22 -j ACCEPT\n\
                    -A INPUT -p tcp -m multiport --dports 80,443 -j ACCEPT\nCOMMIT\n";
        let v = iptables_to_nft(save, "ip");
        let rules = Ruleset::new(std::slice::from_ref(&v));
        let d = rules.evaluate(Probe {
            family: Family::V4,
            dport: 22,
        });
        assert!(!d.accepted, "{d:?}");
        assert!(d.by.contains("policy drop"), "{d:?}");
        let d = rules.evaluate(Probe {
            family: Family::V4,
            dport: 443,
        });
        assert!(d.accepted && d.by.contains("iptables-save line 6"), "{d:?}");
    }

    #[test]
    fn nothing_loaded_is_no_firewall() {
        let inp = Inputs {
            rulesets: vec![json!({"nftables": [{"metainfo": {}}]})],
            ssh_ports: vec![22],
            ssh_clients: vec!["198.51.100.4".parse().unwrap()],
            sources: vec!["nft list ruleset".into()],
        };
        let f = analyze(&inp);
        assert_eq!(f[0].id, "firewall.none");
        assert_eq!(f[1].id, "firewall.ssh-open");
        assert_eq!(
            f[1].action.as_deref(),
            Some("firewall-baseline admin-from=198.51.100.4/32")
        );
    }
}
