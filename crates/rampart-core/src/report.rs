//! A report: the findings of a run, what could not be checked, and what was skipped.

use crate::finding::{Finding, Severity};
use serde::{Deserialize, Serialize};
use std::time::Duration;

/// Something a check could not look at: an unreadable file, garbage input, a missing
/// `/proc`. Counted and reported; the run goes on. Any error makes the exit code 2.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CheckError {
    pub check: String,
    /// The file, process or command that could not be read.
    pub subject: String,
    pub message: String,
}

/// A check that did not run, with the reason (needs root, needs a live host, tool missing).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Skipped {
    pub check: String,
    pub reason: String,
}

/// Exit codes shared by every command that reports findings.
pub mod exit {
    /// Nothing at or above the `--fail-on` severity.
    pub const CLEAN: i32 = 0;
    /// Findings at or above `--fail-on`.
    pub const FINDINGS: i32 = 1;
    /// Something could not be checked (or a usage error).
    pub const ERROR: i32 = 2;
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Report {
    pub findings: Vec<Finding>,
    pub errors: Vec<CheckError>,
    pub skipped: Vec<Skipped>,
    pub checks_run: usize,
    #[serde(with = "duration_ms")]
    pub elapsed: Duration,
}

/// One line of `--json` output. The `type` field tells them apart; the last line is
/// always the summary.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "lowercase")]
pub enum Record {
    Finding(Finding),
    Error(CheckError),
    Skipped(Skipped),
    Summary(Summary),
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Summary {
    /// Version of this JSON schema; bumped on any incompatible change.
    pub schema: u32,
    pub checks_run: usize,
    pub findings: usize,
    pub critical: usize,
    pub high: usize,
    pub medium: usize,
    pub low: usize,
    pub info: usize,
    pub errors: usize,
    pub skipped: usize,
    pub elapsed_ms: u64,
    pub exit_code: i32,
}

pub const JSON_SCHEMA_VERSION: u32 = 1;

impl Report {
    pub fn merge(&mut self, other: Report) {
        self.findings.extend(other.findings);
        self.errors.extend(other.errors);
        self.skipped.extend(other.skipped);
        self.checks_run += other.checks_run;
    }

    /// Most severe first, then grouped by playbook step, then by id so output is stable.
    pub fn sort(&mut self) {
        self.findings.sort_by(|a, b| {
            b.severity
                .cmp(&a.severity)
                .then(a.step.cmp(&b.step))
                .then_with(|| a.id.cmp(&b.id))
                .then_with(|| a.title.cmp(&b.title))
        });
    }

    pub fn count(&self, severity: Severity) -> usize {
        self.findings.iter().filter(|f| f.severity == severity).count()
    }

    pub fn exit_code(&self, fail_on: Severity) -> i32 {
        if !self.errors.is_empty() {
            exit::ERROR
        } else if self.findings.iter().any(|f| f.severity >= fail_on) {
            exit::FINDINGS
        } else {
            exit::CLEAN
        }
    }

    pub fn summary(&self, fail_on: Severity) -> Summary {
        Summary {
            schema: JSON_SCHEMA_VERSION,
            checks_run: self.checks_run,
            findings: self.findings.len(),
            critical: self.count(Severity::Critical),
            high: self.count(Severity::High),
            medium: self.count(Severity::Medium),
            low: self.count(Severity::Low),
            info: self.count(Severity::Info),
            errors: self.errors.len(),
            skipped: self.skipped.len(),
            elapsed_ms: self.elapsed.as_millis() as u64,
            exit_code: self.exit_code(fail_on),
        }
    }

    /// The `--json` lines: findings, errors, skipped checks, then the summary.
    pub fn records(&self, fail_on: Severity) -> Vec<Record> {
        let mut out: Vec<Record> =
            Vec::with_capacity(self.findings.len() + self.errors.len() + self.skipped.len() + 1);
        out.extend(self.findings.iter().cloned().map(Record::Finding));
        out.extend(self.errors.iter().cloned().map(Record::Error));
        out.extend(self.skipped.iter().cloned().map(Record::Skipped));
        out.push(Record::Summary(self.summary(fail_on)));
        out
    }
}

mod duration_ms {
    use serde::{Deserialize, Deserializer, Serializer};
    use std::time::Duration;

    pub fn serialize<S: Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_u64(d.as_millis() as u64)
    }
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Duration, D::Error> {
        Ok(Duration::from_millis(u64::deserialize(d)?))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::finding::Step;

    fn finding(sev: Severity) -> Finding {
        Finding::new("t.x", sev, Step::Accounts, "x")
    }

    #[test]
    fn exit_code_follows_fail_on_and_errors() {
        let mut r = Report::default();
        assert_eq!(r.exit_code(Severity::High), exit::CLEAN);
        r.findings.push(finding(Severity::Medium));
        assert_eq!(r.exit_code(Severity::High), exit::CLEAN);
        assert_eq!(r.exit_code(Severity::Medium), exit::FINDINGS);
        r.errors.push(CheckError {
            check: "c".into(),
            subject: "/etc/shadow".into(),
            message: "denied".into(),
        });
        assert_eq!(r.exit_code(Severity::Info), exit::ERROR);
    }

    #[test]
    fn sort_puts_most_severe_first() {
        let mut r = Report {
            findings: vec![
                finding(Severity::Low),
                finding(Severity::Critical),
                finding(Severity::Medium),
            ],
            ..Default::default()
        };
        r.sort();
        let sev: Vec<_> = r.findings.iter().map(|f| f.severity).collect();
        assert_eq!(sev, vec![Severity::Critical, Severity::Medium, Severity::Low]);
    }

    #[test]
    fn summary_is_last_record() {
        let mut r = Report::default();
        r.findings.push(finding(Severity::High));
        let recs = r.records(Severity::High);
        assert!(matches!(recs.last(), Some(Record::Summary(s)) if s.high == 1 && s.exit_code == 1));
    }
}
