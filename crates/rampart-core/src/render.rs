//! The human report: grouped by playbook step, the most severe group first, colour only
//! when the caller says the output is a terminal.

use crate::finding::{Finding, Severity, Step};
use crate::report::Report;
use std::fmt::Write;

const RESET: &str = "\x1b[0m";
const BOLD: &str = "\x1b[1m";
const DIM: &str = "\x1b[2m";

fn colour(sev: Severity) -> &'static str {
    match sev {
        Severity::Critical => "\x1b[1;97;41m",
        Severity::High => "\x1b[1;31m",
        Severity::Medium => "\x1b[33m",
        Severity::Low => "\x1b[36m",
        Severity::Info => "\x1b[2m",
    }
}

struct Paint {
    on: bool,
}

impl Paint {
    fn wrap(&self, code: &str, text: &str) -> String {
        if self.on {
            format!("{code}{text}{RESET}")
        } else {
            text.to_string()
        }
    }
}

/// Strips control characters from text that came from the host (file contents, process
/// names) so a hostile file cannot drive the operator's terminal.
pub fn sanitize(s: &str) -> String {
    s.chars()
        .map(|c| if c.is_control() && c != '\t' { '?' } else { c })
        .collect()
}

/// Renders `report` for a person. `title` is the first line (for example
/// "Rampart triage of / (live)").
pub fn human(report: &Report, title: &str, fail_on: Severity, colour_on: bool) -> String {
    let p = Paint { on: colour_on };
    let mut out = String::new();
    let _ = writeln!(out, "{}", p.wrap(BOLD, title));

    let mut groups: Vec<(Step, Vec<&Finding>)> = Vec::new();
    for f in &report.findings {
        match groups.iter_mut().find(|(s, _)| *s == f.step) {
            Some((_, v)) => v.push(f),
            None => groups.push((f.step, vec![f])),
        }
    }
    for (_, v) in groups.iter_mut() {
        v.sort_by(|a, b| b.severity.cmp(&a.severity).then_with(|| a.id.cmp(&b.id)));
    }
    groups.sort_by(|(sa, a), (sb, b)| b[0].severity.cmp(&a[0].severity).then(sa.cmp(sb)));

    for (step, findings) in &groups {
        let _ = writeln!(out, "\n{}", p.wrap(BOLD, &format!("== {} ==", step.title())));
        for f in findings {
            let sev = format!("{:<8}", f.severity.as_str().to_uppercase());
            let _ = writeln!(
                out,
                "{} {} {}",
                p.wrap(colour(f.severity), &sev),
                sanitize(&f.title),
                p.wrap(DIM, &format!("[{}]", f.id))
            );
            for e in f.evidence.iter().take(20) {
                let detail = if e.detail.is_empty() {
                    String::new()
                } else {
                    format!("  {}", sanitize(&e.detail))
                };
                let _ = writeln!(out, "         {}{}", sanitize(&e.location), detail);
            }
            if f.evidence.len() > 20 {
                let _ = writeln!(out, "         … and {} more (see --json)", f.evidence.len() - 20);
            }
            if !f.remedy.is_empty() {
                let _ = writeln!(out, "         {} {}", p.wrap(BOLD, "fix:"), sanitize(&f.remedy));
            }
            if let Some(a) = &f.action {
                let _ = writeln!(
                    out,
                    "         {} rampart respond plan {}",
                    p.wrap(BOLD, "run:"),
                    a
                );
            }
        }
    }

    if !report.errors.is_empty() {
        let _ = writeln!(out, "\n{}", p.wrap(BOLD, "== Could not check =="));
        for e in &report.errors {
            let _ = writeln!(
                out,
                "  {} {}",
                p.wrap(DIM, &format!("[{}]", e.check)),
                sanitize(&e.message)
            );
        }
    }
    if !report.skipped.is_empty() {
        let _ = writeln!(out, "\n{}", p.wrap(BOLD, "== Skipped =="));
        for s in &report.skipped {
            let _ = writeln!(
                out,
                "  {} {}",
                p.wrap(DIM, &format!("[{}]", s.check)),
                sanitize(&s.reason)
            );
        }
    }

    let s = report.summary(fail_on);
    let _ = writeln!(
        out,
        "\n{} findings ({} critical, {} high, {} medium, {} low, {} info); {} checks in {:.2} s; {} could not be checked, {} skipped. Exit code {}.",
        s.findings, s.critical, s.high, s.medium, s.low, s.info, s.checks_run,
        report.elapsed.as_secs_f64(), s.errors, s.skipped, s.exit_code
    );
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::finding::Evidence;

    #[test]
    fn groups_most_severe_first_and_strips_escapes() {
        let mut r = Report::default();
        r.findings.push(Finding::new(
            "patches.pending",
            Severity::Low,
            Step::Patches,
            "3 updates",
        ));
        r.findings.push(
            Finding::new(
                "accounts.uid0",
                Severity::Critical,
                Step::Accounts,
                "UID 0: toor\x1b[2J",
            )
            .evidence(Evidence::file("/etc/passwd", Some(2), "toor"))
            .remedy("Lock it."),
        );
        let text = human(&r, "Rampart triage", Severity::High, false);
        let acc = text.find("Hidden, unknown").unwrap();
        let pat = text.find("System patches").unwrap();
        assert!(acc < pat, "{text}");
        assert!(text.contains("UID 0: toor?[2J"));
        assert!(text.contains("/etc/passwd:2  toor"));
        assert!(!text.contains('\x1b'));
    }
}
