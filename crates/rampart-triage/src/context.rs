//! What every check gets: the host, the clock, who we run as, and shared parsed files.

use crate::dpkg::{Dpkg, DpkgError};
use crate::etc::Accounts;
use rampart_core::{CheckError, Finding, HostRoot, Skipped};
use std::sync::OnceLock;
use std::time::SystemTime;

#[derive(Debug, Clone, Default)]
pub struct Options {
    /// Verify every file of every installed package, not only the ones rootkits replace.
    pub deep_integrity: bool,
    /// Do not probe the local web server over loopback.
    pub no_probe: bool,
    /// Accounts created within this many days count as recent.
    pub recent_days: Option<u64>,
}

pub struct Context {
    pub host: HostRoot,
    pub now: SystemTime,
    /// Effective uid 0: shadow files, other users' processes and the firewall are readable.
    pub is_root: bool,
    pub options: Options,
    accounts: OnceLock<(Accounts, Vec<CheckError>)>,
    dpkg: OnceLock<Result<Dpkg, DpkgError>>,
}

impl Context {
    pub fn new(host: HostRoot, options: Options) -> Self {
        // SAFETY: geteuid has no preconditions and cannot fail.
        let is_root = unsafe { libc::geteuid() } == 0;
        Context {
            host,
            now: SystemTime::now(),
            is_root,
            options,
            accounts: OnceLock::new(),
            dpkg: OnceLock::new(),
        }
    }

    /// passwd, shadow and group, parsed once and shared by every check.
    pub fn accounts(&self) -> &Accounts {
        &self.accounts.get_or_init(|| Accounts::load(&self.host)).0
    }

    /// The problems met while parsing the account files (reported by the accounts check).
    pub fn account_errors(&self) -> &[CheckError] {
        &self.accounts.get_or_init(|| Accounts::load(&self.host)).1
    }

    /// The dpkg database, loaded once and shared by the checks that compare with it.
    pub fn dpkg(&self) -> Result<&Dpkg, &DpkgError> {
        self.dpkg.get_or_init(|| Dpkg::load(&self.host)).as_ref()
    }

    /// The dpkg database for a check that cannot work without it: a host without one is
    /// a skip, an unreadable one an error.
    pub fn dpkg_or_report(&self, out: &mut Out) -> Option<&Dpkg> {
        match self.dpkg() {
            Ok(d) => Some(d),
            Err(DpkgError::Host(e)) if e.is_not_found() => {
                out.skip("no dpkg database (/var/lib/dpkg/status): not a Debian-based system");
                None
            }
            Err(e) => {
                out.error(e.subject(), e.to_string());
                None
            }
        }
    }

    /// Days since the Unix epoch, as shadow counts them.
    pub fn today(&self) -> u64 {
        self.now
            .duration_since(SystemTime::UNIX_EPOCH)
            .map(|d| d.as_secs() / 86_400)
            .unwrap_or(0)
    }
}

/// Where one check puts what it found.
pub struct Out {
    check: &'static str,
    pub findings: Vec<Finding>,
    pub errors: Vec<CheckError>,
    pub skipped: Vec<Skipped>,
}

impl Out {
    pub fn new(check: &'static str) -> Self {
        Out {
            check,
            findings: Vec::new(),
            errors: Vec::new(),
            skipped: Vec::new(),
        }
    }

    pub fn finding(&mut self, f: Finding) {
        self.findings.push(f);
    }

    /// Something could not be checked: `subject` names the file, process or command.
    pub fn error(&mut self, subject: impl Into<String>, message: impl Into<String>) {
        self.errors.push(CheckError {
            check: self.check.to_string(),
            subject: subject.into(),
            message: message.into(),
        });
    }

    /// Reports a host read error; the message already names the file.
    pub fn host_error(&mut self, e: &rampart_core::HostError) {
        let msg = e.to_string();
        let subject = msg.split(": ").next().unwrap_or("").to_string();
        self.error(subject, msg);
    }

    /// A part of the check did not run, and why (needs root, needs a live host…).
    pub fn skip(&mut self, reason: impl Into<String>) {
        self.skipped.push(Skipped {
            check: self.check.to_string(),
            reason: reason.into(),
        });
    }
}
