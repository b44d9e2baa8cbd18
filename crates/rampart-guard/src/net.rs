//! Networks: the unit Rampart bans (an IPv4 address, an IPv6 prefix) and allow-list
//! CIDRs. Both are kept as 128-bit values (IPv4 in its IPv4-mapped IPv6 form) so one
//! comparison serves both families.

use serde::{Deserialize, Serialize};
use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::str::FromStr;

/// An address with a prefix length in its own family (`/32` for one IPv4 address,
/// `/64` for an IPv6 subnet).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Net {
    pub addr: IpAddr,
    pub prefix: u8,
}

impl Net {
    /// The network of `prefix` bits containing `addr` (IPv4 addresses always /32 when
    /// `v4_prefix` is 32).
    pub fn of(addr: IpAddr, v4_prefix: u8, v6_prefix: u8) -> Net {
        let addr = crate::parse::ip::normalise(addr);
        let prefix = match addr {
            IpAddr::V4(_) => v4_prefix.min(32),
            IpAddr::V6(_) => v6_prefix.min(128),
        };
        Net {
            addr: mask(addr, prefix),
            prefix,
        }
    }

    pub fn host(addr: IpAddr) -> Net {
        Net::of(addr, 32, 128)
    }

    pub fn is_v4(&self) -> bool {
        self.addr.is_ipv4()
    }

    pub fn is_host(&self) -> bool {
        self.prefix == if self.is_v4() { 32 } else { 128 }
    }

    /// The 128-bit key and prefix in IPv6 terms.
    pub fn key(&self) -> (u128, u8) {
        match self.addr {
            IpAddr::V4(v4) => (u128::from(v4.to_ipv6_mapped()), self.prefix + 96),
            IpAddr::V6(v6) => (u128::from(v6), self.prefix),
        }
    }

    pub fn contains(&self, addr: IpAddr) -> bool {
        let (k, p) = self.key();
        let a = key_of(crate::parse::ip::normalise(addr));
        p == 0 || (a ^ k) >> (128 - p as u32) == 0
    }
}

pub fn key_of(addr: IpAddr) -> u128 {
    match addr {
        IpAddr::V4(v4) => u128::from(v4.to_ipv6_mapped()),
        IpAddr::V6(v6) => u128::from(v6),
    }
}

fn mask(addr: IpAddr, prefix: u8) -> IpAddr {
    match addr {
        IpAddr::V4(v4) => {
            let m = if prefix == 0 {
                0
            } else {
                u32::MAX << (32 - prefix as u32)
            };
            IpAddr::V4(Ipv4Addr::from(u32::from(v4) & m))
        }
        IpAddr::V6(v6) => {
            let m = if prefix == 0 {
                0
            } else {
                u128::MAX << (128 - prefix as u32)
            };
            IpAddr::V6(Ipv6Addr::from(u128::from(v6) & m))
        }
    }
}

impl fmt::Display for Net {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.is_host() {
            write!(f, "{}", self.addr)
        } else {
            write!(f, "{}/{}", self.addr, self.prefix)
        }
    }
}

impl FromStr for Net {
    type Err = String;
    fn from_str(s: &str) -> Result<Net, String> {
        let (a, p) = match s.split_once('/') {
            Some((a, p)) => (a, Some(p)),
            None => (s, None),
        };
        let addr: IpAddr = a
            .trim()
            .parse()
            .map_err(|_| format!("`{s}` is not an address or CIDR"))?;
        let addr = crate::parse::ip::normalise(addr);
        let max = if addr.is_ipv4() { 32 } else { 128 };
        let prefix = match p {
            None => max,
            Some(p) => p
                .trim()
                .parse::<u8>()
                .ok()
                .filter(|&p| p <= max)
                .ok_or_else(|| format!("`{s}`: prefix must be 0–{max}"))?,
        };
        Ok(Net {
            addr: mask(addr, prefix),
            prefix,
        })
    }
}

impl Serialize for Net {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Net {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Net, D::Error> {
        let s = String::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nets() {
        let n: Net = "10.1.2.3/8".parse().unwrap();
        assert_eq!(n.to_string(), "10.0.0.0/8");
        assert!(n.contains("10.200.0.1".parse().unwrap()));
        assert!(n.contains("::ffff:10.0.0.1".parse().unwrap()));
        assert!(!n.contains("11.0.0.1".parse().unwrap()));
        assert!(!n.contains("::a00:1".parse().unwrap()));
        let v6 = Net::of("2001:db8:1:2:3:4:5:6".parse().unwrap(), 32, 64);
        assert_eq!(v6.to_string(), "2001:db8:1:2::/64");
        assert!(v6.contains("2001:db8:1:2::99".parse().unwrap()));
        assert_eq!(Net::host("1.2.3.4".parse().unwrap()).to_string(), "1.2.3.4");
        assert!("1.2.3.4/33".parse::<Net>().is_err());
        assert!("999.1.1.1".parse::<Net>().is_err());
        let all: Net = "0.0.0.0/0".parse().unwrap();
        assert!(all.contains("8.8.8.8".parse().unwrap()));
    }
}
