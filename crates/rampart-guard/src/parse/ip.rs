//! Address and port fields.

use std::net::IpAddr;
use std::str::FromStr;

/// Parses an IPv4 or IPv6 address (IPv4-mapped IPv6 becomes IPv4). Anything else —
/// `999.1.1.1`, a zone suffix, a host name, stray bytes — is `None`.
pub fn parse_ip(b: &[u8]) -> Option<IpAddr> {
    if b.is_empty() || b.len() > 45 {
        return None;
    }
    let s = std::str::from_utf8(b).ok()?;
    IpAddr::from_str(s).ok().map(normalise)
}

pub fn normalise(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => IpAddr::V4(v4),
            None => ip,
        },
        v4 => v4,
    }
}

/// A decimal port: 1–5 digits, at most 65535, nothing else.
pub fn parse_port(b: &[u8]) -> Option<u16> {
    if b.is_empty() || b.len() > 5 {
        return None;
    }
    let mut n: u32 = 0;
    for &c in b {
        if !c.is_ascii_digit() {
            return None;
        }
        n = n * 10 + (c - b'0') as u32;
    }
    u16::try_from(n).ok()
}

/// A DNS-looking name (services log those when they resolve clients): letters,
/// digits, dots and dashes, at least one letter.
pub fn looks_like_hostname(b: &[u8]) -> bool {
    !b.is_empty()
        && b.len() <= 253
        && b.iter()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, b'.' | b'-' | b'_'))
        && b.iter().any(|c| c.is_ascii_alphabetic())
        && !b.iter().all(|c| c.is_ascii_hexdigit() || *c == b'.')
}
