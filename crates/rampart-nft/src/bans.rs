//! Ban sets of `rampart guard`: `banned4` (IPv4 addresses) and `banned6` (IPv6
//! prefixes, an interval set) in `inet rampart`, both with `flags timeout` so the
//! kernel expires each element on its own; and the chain `guard`, hooked at input
//! priority -10 (before a filter chain at 0), dropping packets from either set.
//!
//! Elements go in batches: one `nft -j -f -` per call, whatever the number of bans.

use crate::{add_table, Nft, NftError, FAMILY, TABLE};
use serde_json::{json, Value};
use std::net::IpAddr;

pub const SET4: &str = "banned4";
pub const SET6: &str = "banned6";
pub const CHAIN: &str = "guard";
pub const PRIORITY: i32 = -10;

/// Elements per `nft` process: large batches are fast, but one bad element fails
/// its whole batch.
const BATCH: usize = 20_000;

/// One ban: an IPv4 address (`prefix` 32) or an IPv6 prefix, for `timeout_secs`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Ban {
    pub addr: IpAddr,
    pub prefix: u8,
    pub timeout_secs: u64,
}

/// An element read back from the kernel.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Element {
    pub addr: IpAddr,
    pub prefix: u8,
    /// Seconds left, when the element has a timeout.
    pub expires_secs: Option<u64>,
}

impl Element {
    pub fn contains(&self, a: IpAddr) -> bool {
        match (self.addr, a) {
            (IpAddr::V4(n), IpAddr::V4(a)) => self.prefix >= 32 && n == a,
            (IpAddr::V6(n), IpAddr::V6(a)) => {
                let p = self.prefix.min(128) as u32;
                p == 0 || (u128::from(n) ^ u128::from(a)) >> (128 - p) == 0
            }
            _ => false,
        }
    }
}

fn set_of(addr: &IpAddr) -> &'static str {
    if addr.is_ipv4() {
        SET4
    } else {
        SET6
    }
}

/// Creates the table, both sets and the `guard` chain with its two rules; safe to run
/// at every start (the chain is flushed and refilled in the same atomic batch, other
/// chains and tables are not touched).
pub fn ensure(nft: &Nft) -> Result<(), NftError> {
    let rule = |proto: &str, set: &str| {
        json!({"add": {"rule": {"family": FAMILY, "table": TABLE, "chain": CHAIN, "expr": [
            {"match": {"op": "==", "left": {"payload": {"protocol": proto, "field": "saddr"}}, "right": format!("@{set}")}},
            {"drop": null}
        ]}}})
    };
    let cmds = vec![
        add_table(),
        json!({"add": {"set": {"family": FAMILY, "table": TABLE, "name": SET4,
            "type": "ipv4_addr", "flags": ["timeout"]}}}),
        json!({"add": {"set": {"family": FAMILY, "table": TABLE, "name": SET6,
            "type": "ipv6_addr", "flags": ["interval", "timeout"]}}}),
        json!({"add": {"chain": {"family": FAMILY, "table": TABLE, "name": CHAIN,
            "type": "filter", "hook": "input", "prio": PRIORITY, "policy": "accept"}}}),
        json!({"flush": {"chain": {"family": FAMILY, "table": TABLE, "name": CHAIN}}}),
        rule("ip", SET4),
        rule("ip6", SET6),
    ];
    nft.apply(cmds, "create the ban sets")
}

fn elem_value(addr: IpAddr, prefix: u8) -> Result<Value, NftError> {
    match addr {
        IpAddr::V4(a) if prefix == 32 => Ok(json!(a.to_string())),
        IpAddr::V4(_) => Err(NftError::Rejected {
            what: "ban".into(),
            message: format!("{addr}/{prefix}: IPv4 bans are single addresses"),
        }),
        IpAddr::V6(a) if prefix >= 128 => Ok(json!(a.to_string())),
        IpAddr::V6(a) => {
            let m = if prefix == 0 {
                0
            } else {
                u128::MAX << (128 - prefix as u32)
            };
            let net = std::net::Ipv6Addr::from(u128::from(a) & m);
            Ok(json!({"prefix": {"addr": net.to_string(), "len": prefix}}))
        }
    }
}

fn element_cmds(op: &str, items: &[(IpAddr, u8, Option<u64>)]) -> Result<Vec<Value>, NftError> {
    let mut v4 = Vec::new();
    let mut v6 = Vec::new();
    for &(addr, prefix, timeout) in items {
        let val = elem_value(addr, prefix)?;
        let e = match timeout {
            Some(t) => json!({"elem": {"val": val, "timeout": t.max(1)}}),
            None => val,
        };
        if set_of(&addr) == SET4 {
            v4.push(e);
        } else {
            v6.push(e);
        }
    }
    let mut cmds = Vec::new();
    for (set, elems) in [(SET4, v4), (SET6, v6)] {
        if !elems.is_empty() {
            let mut m = serde_json::Map::new();
            m.insert(
                op.to_string(),
                json!({"element": {"family": FAMILY, "table": TABLE, "name": set, "elem": elems}}),
            );
            cmds.push(Value::Object(m));
        }
    }
    Ok(cmds)
}

/// Adds bans with their timeouts. An element already in the set keeps its old
/// timeout (nftables does not refresh it): call [`remove`] first to extend a ban.
pub fn add(nft: &Nft, bans: &[Ban]) -> Result<(), NftError> {
    for chunk in bans.chunks(BATCH) {
        let items: Vec<_> = chunk
            .iter()
            .map(|b| (b.addr, b.prefix, Some(b.timeout_secs)))
            .collect();
        let cmds = element_cmds("add", &items)?;
        if !cmds.is_empty() {
            nft.apply(cmds, "add bans")?;
        }
    }
    Ok(())
}

/// Removes the given elements that are present (absent ones are skipped; a batch
/// deleting a missing element would fail whole). Returns how many were removed.
pub fn remove(nft: &Nft, nets: &[(IpAddr, u8)]) -> Result<usize, NftError> {
    let present = list(nft)?;
    let items: Vec<_> = nets
        .iter()
        .filter(|(a, p)| {
            present
                .iter()
                .any(|e| e.addr == *a && (e.prefix == *p || (a.is_ipv4() && e.prefix == 32)))
        })
        .map(|&(a, p)| (a, p, None))
        .collect();
    if items.is_empty() {
        return Ok(0);
    }
    let cmds = element_cmds("delete", &items)?;
    nft.apply(cmds, "remove bans")?;
    Ok(items.len())
}

/// Elements of both sets (none when the table or a set does not exist yet).
pub fn list(nft: &Nft) -> Result<Vec<Element>, NftError> {
    let Some(table) = nft.list_table(FAMILY, TABLE)? else {
        return Ok(Vec::new());
    };
    let mut out = Vec::new();
    let items = table
        .get("nftables")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    for item in items {
        let Some(set) = item.get("set") else { continue };
        let name = set.get("name").and_then(Value::as_str).unwrap_or("");
        if name != SET4 && name != SET6 {
            continue;
        }
        for e in set.get("elem").and_then(Value::as_array).into_iter().flatten() {
            if let Some(el) = parse_elem(e) {
                out.push(el);
            }
        }
    }
    Ok(out)
}

fn parse_elem(e: &Value) -> Option<Element> {
    let (val, expires) = match e.get("elem") {
        Some(inner) => (inner.get("val")?, inner.get("expires").and_then(Value::as_u64)),
        None => (e, None),
    };
    let (addr, prefix) = if let Some(s) = val.as_str() {
        let a: IpAddr = s.parse().ok()?;
        (a, if a.is_ipv4() { 32 } else { 128 })
    } else if let Some(p) = val.get("prefix") {
        let a: IpAddr = p.get("addr")?.as_str()?.parse().ok()?;
        (a, u8::try_from(p.get("len")?.as_u64()?).ok()?)
    } else if let Some(r) = val.get("range") {
        // A range nft could not express as a prefix: report its start as a host.
        let a: IpAddr = r.get(0)?.as_str()?.parse().ok()?;
        (a, if a.is_ipv4() { 32 } else { 128 })
    } else {
        return None;
    };
    Some(Element {
        addr,
        prefix,
        expires_secs: expires,
    })
}

/// Whether `addr` is banned right now (in either set).
pub fn is_banned(nft: &Nft, addr: IpAddr) -> Result<bool, NftError> {
    Ok(list(nft)?.iter().any(|e| e.contains(addr)))
}
