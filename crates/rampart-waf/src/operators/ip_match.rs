//! `@ipMatch` / `@ipMatchFromFile`: addresses and CIDR blocks, IPv4 and IPv6.

use std::net::IpAddr;
use std::path::Path;

#[derive(Debug)]
pub(crate) struct IpSet {
    nets: Vec<(IpAddr, u8)>,
}

impl IpSet {
    pub(crate) fn parse<'a>(items: impl Iterator<Item = &'a str>) -> Result<IpSet, String> {
        let mut nets = Vec::new();
        for item in items.map(str::trim).filter(|s| !s.is_empty()) {
            let (addr, len) = match item.split_once('/') {
                Some((a, l)) => (a, Some(l)),
                None => (item, None),
            };
            let ip: IpAddr = addr
                .parse()
                .map_err(|_| format!("`{item}` is not an IP address or CIDR block"))?;
            let max = if ip.is_ipv4() { 32 } else { 128 };
            let len = match len {
                Some(l) => l
                    .parse::<u8>()
                    .ok()
                    .filter(|&l| l <= max)
                    .ok_or(format!("bad prefix length in `{item}`"))?,
                None => max,
            };
            nets.push((ip, len));
        }
        Ok(IpSet { nets })
    }

    pub(crate) fn from_file(arg: &str, base: &Path) -> Result<IpSet, String> {
        let path = base.join(arg.trim());
        let text = super::pm_from_file::read_bounded(&path)
            .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
        IpSet::parse(text.lines().filter(|l| !l.trim_start().starts_with('#')))
    }

    pub(crate) fn matches(&self, input: &[u8]) -> bool {
        let Some(ip) = std::str::from_utf8(input)
            .ok()
            .and_then(|s| s.trim().parse::<IpAddr>().ok())
        else {
            return false;
        };
        self.nets.iter().any(|&(net, len)| in_net(ip, net, len))
    }
}

fn in_net(ip: IpAddr, net: IpAddr, len: u8) -> bool {
    match (ip, net) {
        (IpAddr::V4(a), IpAddr::V4(n)) => {
            let mask = if len == 0 { 0 } else { u32::MAX << (32 - len) };
            u32::from(a) & mask == u32::from(n) & mask
        }
        (IpAddr::V6(a), IpAddr::V6(n)) => {
            let mask = if len == 0 { 0 } else { u128::MAX << (128 - len) };
            u128::from(a) & mask == u128::from(n) & mask
        }
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn cidrs() {
        let s = super::IpSet::parse("127.0.0.1, 10.0.0.0/8,::1".split(',')).unwrap();
        assert!(s.matches(b"10.1.2.3"));
        assert!(s.matches(b"127.0.0.1"));
        assert!(s.matches(b"::1"));
        assert!(!s.matches(b"11.0.0.1"));
        assert!(!s.matches(b"junk"));
        assert!(super::IpSet::parse(std::iter::once("1.2.3.4/33")).is_err());
    }
}
