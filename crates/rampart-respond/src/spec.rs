//! An action as the operator (or a triage finding's `action` field) writes it:
//! `name key=value key=value…`. Repeated keys accumulate (`user=a user=b`), and a value
//! may be a comma-separated list.

use crate::error::{RespondError, Result};
use std::net::IpAddr;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ActionSpec {
    pub name: String,
    pub args: Vec<(String, String)>,
}

impl ActionSpec {
    /// Parses `words` (the action name first). A word without `=` after the name is an error.
    pub fn parse<S: AsRef<str>>(words: &[S]) -> Result<Self> {
        let mut it = words.iter().map(|w| w.as_ref());
        let name = it
            .next()
            .filter(|n| !n.is_empty())
            .ok_or_else(|| RespondError::Input("no action given".into()))?;
        // A triage `action` string may arrive as one word.
        let mut all: Vec<&str> = name.split_whitespace().collect();
        let name = all.remove(0).to_string();
        all.extend(it.flat_map(|w| w.split_whitespace()));
        let mut args = Vec::new();
        for word in all {
            let (k, v) = word
                .split_once('=')
                .ok_or_else(|| RespondError::Input(format!("{name}: {word:?} is not key=value")))?;
            if k.is_empty() {
                return Err(RespondError::Input(format!("{name}: {word:?} has no key")));
            }
            args.push((k.to_string(), v.to_string()));
        }
        Ok(ActionSpec { name, args })
    }

    pub fn parse_str(s: &str) -> Result<Self> {
        let words: Vec<&str> = s.split_whitespace().collect();
        Self::parse(&words)
    }

    /// Rejects keys the action does not know, naming them.
    pub fn only_keys(&self, known: &[&str]) -> Result<()> {
        for (k, _) in &self.args {
            if !known.contains(&k.as_str()) {
                return Err(RespondError::Input(format!(
                    "{}: unknown key {k:?} (known: {})",
                    self.name,
                    if known.is_empty() {
                        "none".to_string()
                    } else {
                        known.join(", ")
                    }
                )));
            }
        }
        Ok(())
    }

    /// Every value of `key`, comma lists split, empty parts dropped.
    pub fn list(&self, key: &str) -> Vec<String> {
        self.args
            .iter()
            .filter(|(k, _)| k == key)
            .flat_map(|(_, v)| v.split(','))
            .map(|s| s.trim().to_string())
            .filter(|s| !s.is_empty())
            .collect()
    }

    /// The single value of `key`; given twice is an error.
    pub fn one(&self, key: &str) -> Result<Option<String>> {
        let vals: Vec<&String> = self
            .args
            .iter()
            .filter(|(k, _)| k == key)
            .map(|(_, v)| v)
            .collect();
        match vals.as_slice() {
            [] => Ok(None),
            [v] => Ok(Some((*v).clone())),
            _ => Err(RespondError::Input(format!(
                "{}: {key}= given more than once",
                self.name
            ))),
        }
    }

    pub fn required(&self, key: &str) -> Result<String> {
        self.one(key)?
            .filter(|v| !v.is_empty())
            .ok_or_else(|| RespondError::Input(format!("{}: {key}=… is required", self.name)))
    }

    pub fn port(&self, key: &str) -> Result<Option<u16>> {
        self.one(key)?
            .map(|v| parse_port(&self.name, key, &v))
            .transpose()
    }

    pub fn cidrs(&self, key: &str) -> Result<Vec<Cidr>> {
        self.list(key)
            .iter()
            .map(|c| {
                Cidr::parse(c).map_err(|e| RespondError::Input(format!("{}: {key}={c}: {e}", self.name)))
            })
            .collect()
    }
}

impl std::fmt::Display for ActionSpec {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.name)?;
        for (k, v) in &self.args {
            write!(f, " {k}={v}")?;
        }
        Ok(())
    }
}

pub fn parse_port(action: &str, key: &str, v: &str) -> Result<u16> {
    match v.parse::<u16>() {
        Ok(p) if p > 0 => Ok(p),
        _ => Err(RespondError::Input(format!(
            "{action}: {key}={v}: not a port number (1-65535)"
        ))),
    }
}

/// An address block such as `203.0.113.0/24`, `2001:db8::/32` or a single address.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cidr {
    pub addr: IpAddr,
    pub len: u8,
}

impl Cidr {
    pub fn parse(s: &str) -> std::result::Result<Cidr, String> {
        let (a, l) = match s.split_once('/') {
            Some((a, l)) => (a, Some(l)),
            None => (s, None),
        };
        let addr: IpAddr = a.parse().map_err(|_| format!("{a:?} is not an IP address"))?;
        let max = if addr.is_ipv4() { 32 } else { 128 };
        let len = match l {
            None => max,
            Some(l) => match l.parse::<u8>() {
                Ok(n) if n <= max => n,
                _ => return Err(format!("prefix length {l:?} is not 0-{max}")),
            },
        };
        let c = Cidr { addr, len };
        if c.network() != addr {
            return Err(format!("host bits set (did you mean {}/{len}?)", c.network()));
        }
        Ok(c)
    }

    pub fn network(&self) -> IpAddr {
        match self.addr {
            IpAddr::V4(a) => {
                let mask = if self.len == 0 {
                    0
                } else {
                    u32::MAX << (32 - self.len)
                };
                IpAddr::V4((u32::from(a) & mask).into())
            }
            IpAddr::V6(a) => {
                let mask = if self.len == 0 {
                    0
                } else {
                    u128::MAX << (128 - self.len)
                };
                IpAddr::V6((u128::from(a) & mask).into())
            }
        }
    }

    pub fn contains(&self, ip: IpAddr) -> bool {
        let ip = match ip {
            IpAddr::V6(v6) => v6.to_ipv4_mapped().map(IpAddr::V4).unwrap_or(ip),
            v4 => v4,
        };
        match (self.addr, ip) {
            (IpAddr::V4(_), IpAddr::V4(_)) | (IpAddr::V6(_), IpAddr::V6(_)) => {
                Cidr {
                    addr: ip,
                    len: self.len,
                }
                .network()
                    == self.network()
            }
            _ => false,
        }
    }
}

impl std::fmt::Display for Cidr {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.addr, self.len)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_name_and_pairs_also_from_one_triage_string() {
        let a = ActionSpec::parse(&["account-lock user=toor"]).unwrap();
        assert_eq!(a.name, "account-lock");
        assert_eq!(a.required("user").unwrap(), "toor");
        let b = ActionSpec::parse(&["passwd-rotate", "user=a,b", "user=c"]).unwrap();
        assert_eq!(b.list("user"), ["a", "b", "c"]);
        assert!(ActionSpec::parse(&["x", "oops"])
            .unwrap_err()
            .to_string()
            .contains("\"oops\""));
    }

    #[test]
    fn cidrs_are_validated() {
        assert!(Cidr::parse("203.0.113.0/24").is_ok());
        assert!(Cidr::parse("2001:db8::/32").is_ok());
        assert!(Cidr::parse("203.0.113.5/24").unwrap_err().contains("host bits"));
        assert!(Cidr::parse("300.1.1.1").is_err());
        assert!(Cidr::parse("10.0.0.0/33").is_err());
        let c = Cidr::parse("192.0.2.0/24").unwrap();
        assert!(c.contains("192.0.2.77".parse().unwrap()));
        assert!(c.contains("::ffff:192.0.2.77".parse().unwrap()));
        assert!(!c.contains("192.0.3.1".parse().unwrap()));
        let spec = ActionSpec::parse(&["firewall-baseline", "admin-from=1.2.3.4/8"]).unwrap();
        let err = spec.cidrs("admin-from").unwrap_err().to_string();
        assert!(err.contains("admin-from=1.2.3.4/8"), "{err}");
    }
}
