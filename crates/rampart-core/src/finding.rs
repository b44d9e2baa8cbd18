//! A finding: one thing an operator should look at, with the evidence and the fix.

use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// How urgent a finding is. Ordered: `Info < Low < Medium < High < Critical`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Info,
    Low,
    Medium,
    High,
    Critical,
}

impl Severity {
    pub const ALL: [Severity; 5] = [
        Severity::Info,
        Severity::Low,
        Severity::Medium,
        Severity::High,
        Severity::Critical,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Info => "info",
            Severity::Low => "low",
            Severity::Medium => "medium",
            Severity::High => "high",
            Severity::Critical => "critical",
        }
    }
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Severity {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Severity::ALL
            .into_iter()
            .find(|v| v.as_str().eq_ignore_ascii_case(s))
            .ok_or_else(|| format!("unknown severity {s:?} (expected info, low, medium, high or critical)"))
    }
}

/// The step of the hacked-server playbook a finding belongs to; the human report is
/// grouped by these, in this order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Step {
    /// Change the administrator password; password policy.
    Passwords,
    /// Move the remote-login port and restrict it.
    RemoteLogin,
    /// Open only the ports you need; firewall.
    Firewall,
    /// Find unauthorized ports and the processes behind them.
    Ports,
    /// Scan for viruses, trojans and webshells; tampered system files.
    Malware,
    /// Find hidden or unknown accounts.
    Accounts,
    /// What starts at boot or on login.
    Persistence,
    /// Web server account read-only on the web root; hidden admin paths.
    WebRoot,
    /// Current patches.
    Patches,
}

impl Step {
    pub fn title(self) -> &'static str {
        match self {
            Step::Passwords => "Administrator password and password policy",
            Step::RemoteLogin => "Remote login (SSH)",
            Step::Firewall => "Firewall and exposed services",
            Step::Ports => "Listening ports and the processes behind them",
            Step::Malware => "Trojans, rootkits and tampered system files",
            Step::Accounts => "Hidden, unknown and privileged accounts",
            Step::Persistence => "What starts at boot or login",
            Step::WebRoot => "Web root and website admin paths",
            Step::Patches => "System patches",
        }
    }
}

/// Where a finding was seen. `location` is always set (a file with its line, a process, a
/// socket); the structured fields are filled when they apply so that JSON consumers and
/// `rampart respond` need not parse `location`.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Evidence {
    pub location: String,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub path: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub line: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub pid: Option<u32>,
    /// What exactly was seen there. Never a password hash or other secret.
    pub detail: String,
}

impl Evidence {
    /// Evidence in a file, optionally at a 1-based line.
    pub fn file(path: impl Into<String>, line: Option<u64>, detail: impl Into<String>) -> Self {
        let path = path.into();
        let location = match line {
            Some(n) => format!("{path}:{n}"),
            None => path.clone(),
        };
        Evidence {
            location,
            path: Some(path),
            line,
            pid: None,
            detail: detail.into(),
        }
    }

    /// Evidence about a running process.
    pub fn process(pid: u32, detail: impl Into<String>) -> Self {
        Evidence {
            location: format!("pid {pid}"),
            path: None,
            line: None,
            pid: Some(pid),
            detail: detail.into(),
        }
    }

    /// Evidence with a free-form location (a socket, a service, a URL).
    pub fn at(location: impl Into<String>, detail: impl Into<String>) -> Self {
        Evidence {
            location: location.into(),
            detail: detail.into(),
            ..Default::default()
        }
    }

    pub fn with_pid(mut self, pid: Option<u32>) -> Self {
        self.pid = pid;
        self
    }
}

/// One thing the operator should look at.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Finding {
    /// Stable identifier, `family.what` (for example `accounts.uid0`). Never changes
    /// between releases for the same kind of problem, so operators can filter on it.
    pub id: String,
    pub severity: Severity,
    pub step: Step,
    pub title: String,
    pub evidence: Vec<Evidence>,
    /// What to do about it, in words an operator can act on.
    pub remedy: String,
    /// The `rampart respond` action that fixes it, when there is one
    /// (for example `account-lock user=toor`).
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub action: Option<String>,
}

impl Finding {
    pub fn new(id: impl Into<String>, severity: Severity, step: Step, title: impl Into<String>) -> Self {
        Finding {
            id: id.into(),
            severity,
            step,
            title: title.into(),
            evidence: Vec::new(),
            remedy: String::new(),
            action: None,
        }
    }

    pub fn evidence(mut self, e: Evidence) -> Self {
        self.evidence.push(e);
        self
    }

    pub fn remedy(mut self, remedy: impl Into<String>) -> Self {
        self.remedy = remedy.into();
        self
    }

    pub fn action(mut self, action: impl Into<String>) -> Self {
        self.action = Some(action.into());
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn severities_order_and_parse() {
        assert!(Severity::Critical > Severity::High);
        assert!(Severity::Info < Severity::Low);
        assert_eq!("HIGH".parse::<Severity>().unwrap(), Severity::High);
        let err = "urgent".parse::<Severity>().unwrap_err();
        assert!(err.contains("urgent"), "{err}");
    }

    #[test]
    fn evidence_location_names_file_and_line() {
        let e = Evidence::file("/etc/passwd", Some(3), "uid 0");
        assert_eq!(e.location, "/etc/passwd:3");
        assert_eq!(e.line, Some(3));
    }
}
