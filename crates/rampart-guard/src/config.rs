//! `/etc/rampart/rampart.toml`. Every key has its default here, unknown keys are
//! rejected, and the file is never looked for in the working directory.
//!
//! The file has one table per subsystem: `[guard]` and `[waf]`. Another subsystem adds its
//! own table as one more `#[serde(default)]` field of [`Config`].

use crate::net::Net;
use crate::parse::Service;
use serde::{Deserialize, Deserializer};
use std::path::{Path, PathBuf};
use thiserror::Error;

pub const DEFAULT_PATH: &str = "/etc/rampart/rampart.toml";

#[derive(Debug, Error)]
pub enum ConfigError {
    #[error("{path}: {source}")]
    Read { path: String, source: std::io::Error },
    #[error("{path}: {message}")]
    Invalid { path: String, message: String },
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Config {
    pub guard: GuardConfig,
    pub waf: WafConfig,
}

/// `rampart waf`'s settings; a command-line flag overrides the key of the same name.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct WafConfig {
    pub listen: Option<std::net::SocketAddr>,
    pub upstream: Option<String>,
    /// SecLang files, directories or globs, loaded in this order.
    pub rules: Vec<String>,
    pub error_log: Option<PathBuf>,
    pub audit_log: Option<PathBuf>,
    pub tls_cert: Option<PathBuf>,
    pub tls_key: Option<PathBuf>,
    /// Time a client gets to send a complete request head.
    pub header_timeout: Option<Secs>,
    /// Largest request body accepted at all, in bytes.
    pub max_body: Option<u64>,
    /// Threads serving connections (default: half the cores, at least one).
    pub workers: Option<usize>,
}

impl WafConfig {
    fn validate(&self) -> Result<(), String> {
        if self.tls_cert.is_some() != self.tls_key.is_some() {
            return Err("waf: tls_cert and tls_key go together (set both or neither)".into());
        }
        if let Some(u) = &self.upstream {
            if !(u.starts_with("http://") || u.starts_with("https://")) {
                return Err(format!("waf.upstream: `{u}` is not an http:// or https:// URL"));
            }
        }
        if self.header_timeout == Some(Secs(0)) {
            return Err("waf.header_timeout: must be at least 1 s".into());
        }
        if self.workers == Some(0) {
            return Err("waf.workers: must be at least 1 (leave it out for half the cores)".into());
        }
        Ok(())
    }
}

/// A duration written as seconds (`3600`) or with a unit (`"90s"`, `"10m"`, `"1h"`,
/// `"1d"`, `"1w"`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Secs(pub u64);

impl Secs {
    pub fn parse(s: &str) -> Result<Secs, String> {
        let s = s.trim();
        let split = s.find(|c: char| !c.is_ascii_digit()).unwrap_or(s.len());
        let (n, unit) = s.split_at(split);
        let n: u64 = n
            .parse()
            .map_err(|_| format!("`{s}` is not a duration (e.g. 90s, 10m, 1h, 1d, 1w)"))?;
        let mult = match unit.trim() {
            "" | "s" => 1,
            "m" => 60,
            "h" => 3600,
            "d" => 86400,
            "w" => 7 * 86400,
            u => return Err(format!("`{s}`: unknown unit `{u}` (s, m, h, d, w)")),
        };
        n.checked_mul(mult)
            .map(Secs)
            .ok_or_else(|| format!("`{s}` is too long"))
    }
}

impl<'de> Deserialize<'de> for Secs {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Secs, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Raw {
            N(u64),
            S(String),
        }
        match Raw::deserialize(d)? {
            Raw::N(n) => Ok(Secs(n)),
            Raw::S(s) => Secs::parse(&s).map_err(serde::de::Error::custom),
        }
    }
}

/// "`count` events within `window`".
#[derive(Debug, Clone, Copy, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct Rule {
    pub count: u32,
    pub window: Secs,
}

#[derive(Debug, Clone, Copy, Deserialize, PartialEq, Eq, Default)]
#[serde(rename_all = "lowercase")]
pub enum JournalMode {
    /// Read the journal when no syslog auth log exists (stock Debian 12).
    #[default]
    Auto,
    On,
    Off,
}

/// One log to follow. `path` may contain one `*` in its file name
/// (`/var/log/postgresql/*.log`).
#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct SourceConfig {
    pub path: PathBuf,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct GuardConfig {
    /// SQLite database holding bans (restored on start).
    pub db: PathBuf,
    /// Where the daemon writes its counters every second (`rampart guard status`).
    pub status_file: PathBuf,
    /// Ban events as JSON lines, appended to this file.
    pub events_file: Option<PathBuf>,
    /// Never banned.
    pub allow: Vec<Net>,
    /// Loopback is never banned unless this is set (tests ban 127.0.0.x inside a
    /// network namespace).
    pub allow_loopback_bans: bool,
    /// IPv6 sources are banned (and counted) per prefix of this length.
    pub ipv6_prefix: u8,
    pub ban_time: Secs,
    /// Repeat offenders' ban time doubles up to this.
    pub ban_time_max: Secs,
    /// How long an offence counts toward escalation.
    pub offence_memory: Secs,
    /// Many failures in a short time.
    pub burst: Rule,
    /// Slow brute force.
    pub slow: Rule,
    /// Distinct unknown user names tried from one address.
    pub enumeration: Rule,
    /// Count connections that never authenticated (scanners, banner grabbers).
    pub count_scanners: bool,
    /// Services to guard (default: all).
    pub services: Vec<String>,
    /// Also follow the usual log paths of this distribution that exist.
    pub auto_sources: bool,
    pub journal: JournalMode,
    /// Read followed files from the start instead of the end.
    pub from_beginning: bool,
    #[serde(rename = "source")]
    pub sources: Vec<SourceConfig>,
    /// Addresses/subnets tracked at most (memory bound); the oldest quiet ones go first.
    pub max_tracked: usize,
    /// Apply bans in this network namespace (`ip netns exec`); default: the current one.
    pub netns: Option<String>,
    /// Decide bans and report them (log, events, status) without changing the firewall
    /// or the database.
    pub dry_run: bool,
    /// Real-time webshell detection in the web roots (`[guard.webshell]`).
    pub webshell: crate::webshell::WebshellConfig,
}

impl Default for GuardConfig {
    fn default() -> Self {
        GuardConfig {
            db: PathBuf::from("/var/lib/rampart/rampart.db"),
            status_file: PathBuf::from("/run/rampart/guard-status.json"),
            events_file: None,
            allow: Vec::new(),
            allow_loopback_bans: false,
            ipv6_prefix: 64,
            ban_time: Secs(3600),
            ban_time_max: Secs(7 * 86400),
            offence_memory: Secs(30 * 86400),
            burst: Rule {
                count: 5,
                window: Secs(600),
            },
            slow: Rule {
                count: 20,
                window: Secs(12 * 3600),
            },
            enumeration: Rule {
                count: 4,
                window: Secs(3600),
            },
            count_scanners: true,
            services: Service::ALL.iter().map(|s| s.name().to_string()).collect(),
            auto_sources: true,
            journal: JournalMode::Auto,
            from_beginning: false,
            sources: Vec::new(),
            max_tracked: 20_000,
            netns: None,
            dry_run: false,
            webshell: Default::default(),
        }
    }
}

/// Most failure timestamps kept per address and service.
pub const MAX_RULE_COUNT: u32 = crate::detect::RING as u32;

impl Config {
    /// Reads `path`, or the default path (a missing default file means defaults).
    pub fn load(path: Option<&Path>) -> Result<Config, ConfigError> {
        let (path, explicit) = match path {
            Some(p) => (p.to_path_buf(), true),
            None => (PathBuf::from(DEFAULT_PATH), false),
        };
        let text = match std::fs::read_to_string(&path) {
            Ok(t) => t,
            Err(e) if !explicit && e.kind() == std::io::ErrorKind::NotFound => return Ok(Config::default()),
            Err(source) => {
                return Err(ConfigError::Read {
                    path: path.display().to_string(),
                    source,
                })
            }
        };
        Config::parse(&text, &path.display().to_string())
    }

    pub fn parse(text: &str, origin: &str) -> Result<Config, ConfigError> {
        let cfg: Config = toml::from_str(text).map_err(|e| ConfigError::Invalid {
            path: origin.to_string(),
            message: describe(text, &e),
        })?;
        cfg.guard
            .validate()
            .and_then(|()| cfg.waf.validate())
            .map_err(|message| ConfigError::Invalid {
                path: origin.to_string(),
                message,
            })?;
        Ok(cfg)
    }
}

/// "line L, column C: message" from toml's span.
fn describe(text: &str, e: &toml::de::Error) -> String {
    let msg = e.message().trim().to_string();
    match e.span() {
        Some(span) => {
            let before = &text[..span.start.min(text.len())];
            let line = before.matches('\n').count() + 1;
            let col = before.len() - before.rfind('\n').map(|i| i + 1).unwrap_or(0) + 1;
            let src = text.lines().nth(line - 1).unwrap_or("").trim();
            format!("line {line}, column {col}: {msg} (`{src}`)")
        }
        None => msg,
    }
}

impl GuardConfig {
    pub fn validate(&self) -> Result<(), String> {
        for (name, r) in [
            ("guard.burst", self.burst),
            ("guard.slow", self.slow),
            ("guard.enumeration", self.enumeration),
        ] {
            if r.count == 0 || r.count > MAX_RULE_COUNT {
                return Err(format!(
                    "{name}.count must be 1–{MAX_RULE_COUNT}, not {}",
                    r.count
                ));
            }
            if r.window.0 == 0 || r.window.0 > u32::MAX as u64 {
                return Err(format!("{name}.window must be positive"));
            }
        }
        if self.enumeration.count > crate::detect::MAX_USERS as u32 {
            return Err(format!(
                "guard.enumeration.count must be at most {}, not {}",
                crate::detect::MAX_USERS,
                self.enumeration.count
            ));
        }
        self.webshell.validate()?;
        if self.ipv6_prefix == 0 || self.ipv6_prefix > 128 {
            return Err(format!(
                "guard.ipv6_prefix must be 1–128, not {}",
                self.ipv6_prefix
            ));
        }
        if self.ban_time.0 == 0 || self.ban_time_max < self.ban_time {
            return Err("guard.ban_time must be positive and at most guard.ban_time_max".into());
        }
        for s in &self.services {
            if Service::from_name(s).is_none() {
                let all: Vec<_> = Service::ALL.iter().map(|s| s.name()).collect();
                return Err(format!(
                    "guard.services: unknown service `{s}` (one of {})",
                    all.join(", ")
                ));
            }
        }
        for s in &self.sources {
            if !s.path.is_absolute() {
                return Err(format!(
                    "guard.source.path `{}` must be absolute",
                    s.path.display()
                ));
            }
        }
        if self.max_tracked < 100 {
            return Err("guard.max_tracked must be at least 100".into());
        }
        Ok(())
    }

    pub fn guarded(&self) -> Vec<Service> {
        self.services
            .iter()
            .filter_map(|s| Service::from_name(s))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_and_durations() {
        let c = Config::parse("", "t").unwrap();
        assert_eq!(c.guard.burst.count, 5);
        assert_eq!(c.guard.ban_time, Secs(3600));
        let c = Config::parse(
            "[guard]\nban_time = \"2s\"\nallow = [\"10.0.0.0/8\", \"2001:db8::/32\"]\nburst = { count = 3, window = \"1m\" }\n[[guard.source]]\npath = \"/var/log/x.log\"\n",
            "t",
        )
        .unwrap();
        assert_eq!(c.guard.ban_time, Secs(2));
        assert_eq!(c.guard.burst.window, Secs(60));
        assert_eq!(c.guard.allow.len(), 2);
        assert_eq!(c.guard.sources[0].path, PathBuf::from("/var/log/x.log"));
        assert_eq!(Secs::parse("1w").unwrap(), Secs(604800));
    }

    #[test]
    fn the_waf_table() {
        let c = Config::parse(
            "[waf]\nlisten = \"127.0.0.1:8080\"\nupstream = \"http://127.0.0.1:80\"\nrules = [\"/etc/rampart/waf/base.conf\", \"/etc/rampart/waf/rules\"]\nheader_timeout = \"30s\"\n",
            "t",
        )
        .unwrap();
        assert_eq!(c.waf.listen, Some("127.0.0.1:8080".parse().unwrap()));
        assert_eq!(c.waf.rules.len(), 2);
        assert_eq!(c.waf.header_timeout, Some(Secs(30)));
        assert!(Config::parse("", "t").unwrap().waf.listen.is_none());
        let e = Config::parse("[waf]\nlisten = \"localhost\"\n", "f")
            .unwrap_err()
            .to_string();
        assert!(e.contains("line 2") && e.contains("listen"), "{e}");
        let e = Config::parse("[waf]\ntls_cert = \"/c.pem\"\n", "f")
            .unwrap_err()
            .to_string();
        assert!(e.contains("tls_key"), "{e}");
        let e = Config::parse("[waf]\nupstream = \"127.0.0.1:80\"\n", "f")
            .unwrap_err()
            .to_string();
        assert!(e.contains("waf.upstream"), "{e}");
        let e = Config::parse("[waf]\nlisten_addr = \"127.0.0.1:1\"\n", "f")
            .unwrap_err()
            .to_string();
        assert!(e.contains("listen_addr"), "{e}");
        assert_eq!(
            Config::parse("[waf]\nworkers = 3\n", "f").unwrap().waf.workers,
            Some(3)
        );
        let e = Config::parse("[waf]\nworkers = 0\n", "f")
            .unwrap_err()
            .to_string();
        assert!(e.contains("waf.workers"), "{e}");
    }

    #[test]
    fn errors_name_the_key_and_line() {
        let e = Config::parse("[guard]\nban_time = 5\nbantime = 3\n", "/etc/r.toml")
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("/etc/r.toml") && e.contains("line 3") && e.contains("bantime"),
            "{e}"
        );
        let e = Config::parse("[guard]\nallow = [\"10.0.0.0/33\"]\n", "f")
            .unwrap_err()
            .to_string();
        assert!(e.contains("line 2") && e.contains("10.0.0.0/33"), "{e}");
        let e = Config::parse("[guard]\nban_time = \"5 parsecs\"\n", "f")
            .unwrap_err()
            .to_string();
        assert!(e.contains("line 2") && e.contains("unit"), "{e}");
        let e = Config::parse("[guard.burst]\ncount = 0\nwindow = 1\n", "f")
            .unwrap_err()
            .to_string();
        assert!(e.contains("guard.burst.count"), "{e}");
        let e = Config::parse("[gaurd]\n", "f").unwrap_err().to_string();
        assert!(e.contains("gaurd"), "{e}");
        let e = Config::parse("[guard]\nservices = [\"telnet\"]\n", "f")
            .unwrap_err()
            .to_string();
        assert!(e.contains("telnet"), "{e}");
    }

    #[test]
    fn the_shipped_example_is_valid_and_shows_the_defaults() {
        let text = include_str!("../../../packaging/rampart.toml.example");
        let c = Config::parse(text, "rampart.toml.example").unwrap().guard;
        let d = GuardConfig::default();
        assert_eq!((c.burst, c.slow, c.enumeration), (d.burst, d.slow, d.enumeration));
        assert_eq!(
            (c.ban_time, c.ban_time_max, c.offence_memory),
            (d.ban_time, d.ban_time_max, d.offence_memory)
        );
        assert_eq!(
            (c.db, c.status_file, c.max_tracked, c.ipv6_prefix),
            (d.db, d.status_file, d.max_tracked, d.ipv6_prefix)
        );
        assert_eq!(c.services, d.services);
        // Uncommented, the example sources are accepted too.
        let uncommented = text
            .replace("# [[guard.source]]", "[[guard.source]]")
            .replace("# path =", "path =");
        assert_eq!(Config::parse(&uncommented, "x").unwrap().guard.sources.len(), 2);
        let waf_section = &text[text.find("[waf]").unwrap()..];
        let waf: String = waf_section
            .lines()
            .map(|l| l.strip_prefix("# ").filter(|k| k.contains(" = ")).unwrap_or(l))
            .map(|l| format!("{l}\n"))
            .collect();
        let w = Config::parse(&waf, "x").unwrap().waf;
        assert_eq!((w.rules.len(), w.header_timeout), (3, Some(Secs(20))));
        assert!(w.listen.is_some() && w.tls_key.is_some() && w.max_body.is_some());
    }

    #[test]
    fn missing_explicit_file_is_an_error() {
        let e = Config::load(Some(Path::new("/nonexistent/rampart.toml"))).unwrap_err();
        assert!(e.to_string().starts_with("/nonexistent/rampart.toml"), "{e}");
    }
}
