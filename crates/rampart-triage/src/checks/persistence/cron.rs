//! Crontabs: /etc/crontab and /etc/cron.d/* (with a user field), user crontabs in
//! /var/spool/cron/crontabs and /var/spool/cron (without), and the run-parts scripts in
//! /etc/cron.{hourly,daily,weekly,monthly}.

use super::{entries, is_binary, read, show, suspicious_finding, Owners};
use crate::context::{Context, Out};
use crate::suspicious;
use rampart_core::{Evidence, Finding, Severity, Step};

const SYSTEM_CRONTAB: &str = "/etc/crontab";
const CRON_D: &str = "/etc/cron.d";
const RUN_PARTS_DIRS: &[&str] = &[
    "/etc/cron.hourly",
    "/etc/cron.daily",
    "/etc/cron.weekly",
    "/etc/cron.monthly",
    "/etc/cron.yearly",
];
const USER_SPOOLS: &[&str] = &["/var/spool/cron/crontabs", "/var/spool/cron"];
/// Entries listed in one finding; the rest are counted.
const LISTED: usize = 20;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    pub line: u64,
    pub schedule: String,
    pub user: String,
    pub command: String,
}

/// Parses a crontab. `system` crontabs have a user field. Returns the entries and the
/// numbers of lines that are neither entries, variables nor comments.
pub fn parse(text: &str, system: bool, owner: &str) -> (Vec<Entry>, Vec<u64>) {
    let mut entries = Vec::new();
    let mut bad = Vec::new();
    for (i, raw) in text.lines().enumerate() {
        let line = i as u64 + 1;
        let l = raw.trim();
        if l.is_empty() || l.starts_with('#') {
            continue;
        }
        // `NAME=value` (spaces allowed around `=`) sets a variable.
        if let Some((name, _)) = l.split_once('=') {
            let name = name.trim();
            if !name.is_empty() && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
                continue;
            }
        }
        let fields = if l.starts_with('@') { 1 } else { 5 };
        let mut rest = l;
        let mut sched = Vec::new();
        for _ in 0..fields {
            let Some((f, r)) = split_word(rest) else { break };
            sched.push(f);
            rest = r;
        }
        let valid_schedule = sched.len() == fields
            && sched.iter().all(|f| {
                f.starts_with('@') || f.chars().all(|c| c.is_ascii_alphanumeric() || ",-*/".contains(c))
            });
        let (user, command) = if system {
            match split_word(rest) {
                Some((u, r)) => (u.to_string(), r.trim()),
                None => (String::new(), ""),
            }
        } else {
            (owner.to_string(), rest.trim())
        };
        if !valid_schedule || command.is_empty() || user.is_empty() {
            bad.push(line);
            continue;
        }
        entries.push(Entry {
            line,
            schedule: sched.join(" "),
            user,
            command: command.to_string(),
        });
    }
    (entries, bad)
}

fn split_word(s: &str) -> Option<(&str, &str)> {
    let s = s.trim_start();
    if s.is_empty() {
        return None;
    }
    let end = s.find(char::is_whitespace).unwrap_or(s.len());
    Some((&s[..end], &s[end..]))
}

pub fn check(ctx: &Context, owners: &Owners, out: &mut Out) {
    crontab_file(ctx, owners, SYSTEM_CRONTAB, true, "", out);
    for e in list(ctx, CRON_D, out) {
        crontab_file(ctx, owners, &e, true, "", out);
    }
    for spool in USER_SPOOLS {
        for path in list(ctx, spool, out) {
            let user = path.rsplit('/').next().unwrap_or("").to_string();
            // /var/spool/cron also holds Debian's crontabs/ and atjobs/ directories.
            if ctx
                .host
                .symlink_metadata(&path)
                .map(|m| !m.is_file())
                .unwrap_or(true)
            {
                continue;
            }
            crontab_file(ctx, owners, &path, false, &user, out);
        }
    }
    for dir in RUN_PARTS_DIRS {
        for path in list(ctx, dir, out) {
            script(ctx, owners, &path, &CRON_SCRIPT, out);
        }
    }
}

/// What a directory of start-up scripts is called in findings.
pub struct ScriptKind {
    pub suspicious: &'static str,
    pub binary: &'static str,
    pub unowned: &'static str,
    /// "Cron script", "Init script"…
    pub label: &'static str,
}

const CRON_SCRIPT: ScriptKind = ScriptKind {
    suspicious: "persistence.cron-suspicious",
    binary: "persistence.cron-binary",
    unowned: "persistence.cron-job",
    label: "Cron script",
};

/// Runs `script` on every file of `dir` (missing directory: nothing).
pub fn scripts_in(ctx: &Context, owners: &Owners, dir: &str, kind: &ScriptKind, out: &mut Out) {
    for path in list(ctx, dir, out) {
        script(ctx, owners, &path, kind, out);
    }
}

/// The files (and links) of a directory; a missing directory is empty.
fn list(ctx: &Context, dir: &str, out: &mut Out) -> Vec<String> {
    entries(ctx, dir, "crontabs", out)
        .into_iter()
        .filter(|e| {
            let n = e.name.to_string_lossy();
            !n.starts_with(".placeholder") && n != "README"
        })
        .map(|e| e.host_path)
        .collect()
}

fn crontab_file(ctx: &Context, owners: &Owners, path: &str, system: bool, user: &str, out: &mut Out) {
    if ctx.host.metadata(path).map(|m| m.is_dir()).unwrap_or(false) {
        return;
    }
    let Some(bytes) = read(ctx, path, out) else { return };
    if is_binary(&bytes) {
        out.error(
            path,
            format!("{path}: binary data, not a crontab; cron ignores it but it should not be there"),
        );
        return;
    }
    let text = String::from_utf8_lossy(&bytes);
    let (entries, bad) = parse(&text, system, user);
    if !bad.is_empty() {
        out.error(
            format!("{path}:{}", bad[0]),
            format!(
                "{path}: {} line(s) are not crontab entries (first at line {}); cron skips them",
                bad.len(),
                bad[0]
            ),
        );
    }
    let mut plain = Vec::new();
    for e in &entries {
        let signals = suspicious::scan(&e.command);
        if signals.is_empty() {
            plain.push(e);
        } else {
            out.finding(suspicious_finding(
                "persistence.cron-suspicious",
                &format!("Cron job of {}", e.user),
                path,
                Some(e.line),
                &e.command,
                &signals,
            ));
        }
    }
    // Package-shipped system crontabs and Debian's run-parts lines are not news.
    let listed: Vec<&&Entry> = if system {
        let owned = path != SYSTEM_CRONTAB && matches!(owners.owner(path), Some(Some(_)));
        if owned {
            Vec::new()
        } else {
            plain
                .iter()
                .filter(|e| !(path == SYSTEM_CRONTAB && e.command.contains("run-parts")))
                .collect()
        }
    } else {
        plain.iter().collect()
    };
    if listed.is_empty() {
        return;
    }
    let (severity, what) = match (system, owners.owner(path)) {
        (false, _) => (Severity::Info, format!("User crontab of {user}")),
        (true, Some(None)) if path != SYSTEM_CRONTAB => {
            (Severity::Low, format!("{path} (not installed by any package)"))
        }
        _ => (Severity::Info, path.to_string()),
    };
    let mut f = Finding::new(
        "persistence.cron-job",
        severity,
        Step::Persistence,
        format!("{what}: {} scheduled job(s)", listed.len()),
    )
    .remedy(format!("Check that you know every job; remove unknown ones from {path} (crontab -e -u USER for user crontabs)."));
    for e in listed.iter().take(LISTED) {
        f = f.evidence(Evidence::file(
            path.to_string(),
            Some(e.line),
            format!("{} as {}: {}", e.schedule, e.user, show(&e.command)),
        ));
    }
    if listed.len() > LISTED {
        f = f.evidence(Evidence::file(
            path.to_string(),
            None,
            format!("and {} more", listed.len() - LISTED),
        ));
    }
    out.finding(f);
}

/// A run-parts script: binary programs and planted lines are findings; unowned scripts
/// are listed.
fn script(ctx: &Context, owners: &Owners, path: &str, kind: &ScriptKind, out: &mut Out) {
    let Ok(md) = ctx.host.symlink_metadata(path) else {
        return;
    };
    if md.is_dir() {
        return;
    }
    if md.file_type().is_symlink() {
        if let Ok(target) = ctx.host.read_link(path) {
            let t = target.to_string_lossy();
            if suspicious::is_temp_path(&t) {
                out.finding(
                    Finding::new(
                        kind.suspicious,
                        Severity::Critical,
                        Step::Persistence,
                        format!("{path} runs a program in a temp directory"),
                    )
                    .evidence(Evidence::file(
                        path.to_string(),
                        None,
                        format!("link to {}", show(&t)),
                    ))
                    .remedy("Remove the link and examine its target; treat the host as compromised."),
                );
            }
        }
        return;
    }
    let Some(bytes) = read(ctx, path, out) else { return };
    let owner = owners.owner(path);
    if is_binary(&bytes) {
        if !matches!(owner, Some(Some(_))) {
            out.finding(
                Finding::new(
                    kind.binary,
                    Severity::High,
                    Step::Persistence,
                    format!("{path} is a compiled program that no package installed"),
                )
                .evidence(Evidence::file(
                    path.to_string(),
                    None,
                    format!("{} bytes, not a script", bytes.len()),
                ))
                .remedy(format!(
                    "{}s are shell scripts; copy this binary aside for analysis and remove it.",
                    kind.label
                )),
            );
        }
        return;
    }
    let text = String::from_utf8_lossy(&bytes);
    let mut flagged = false;
    for (i, l) in text.lines().enumerate() {
        let t = l.trim();
        if t.is_empty() || t.starts_with('#') {
            continue;
        }
        let signals = suspicious::scan(t);
        if !signals.is_empty() {
            flagged = true;
            out.finding(suspicious_finding(
                kind.suspicious,
                &format!("{} {path}", kind.label),
                path,
                Some(i as u64 + 1),
                t,
                &signals,
            ));
        }
    }
    if !flagged && owner == Some(None) {
        out.finding(
            Finding::new(
                kind.unowned,
                Severity::Low,
                Step::Persistence,
                format!("{} {path} is not installed by any package", kind.label),
            )
            .evidence(Evidence::file(
                path.to_string(),
                None,
                format!("{} lines, modified {}", text.lines().count(), modified(&md)),
            ))
            .remedy("Check that you wrote this script; remove it if not."),
        );
    }
}

fn modified(md: &std::fs::Metadata) -> String {
    use std::os::unix::fs::MetadataExt;
    crate::checks::accounts::date(md.mtime())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn system_and_user_formats() {
        let (e, bad) = parse(
            "SHELL=/bin/sh\nPATH = /usr/bin\n# c\n17 * * * * root cd / && run-parts --report /etc/cron.hourly\n@reboot root /opt/x\n*/5 * * * *\n",
            true,
            "",
        );
        assert_eq!(e.len(), 2);
        assert_eq!(e[0].user, "root");
        assert_eq!(e[0].line, 4);
        assert_eq!(e[1].schedule, "@reboot");
        assert_eq!(e[1].command, "/opt/x");
        assert_eq!(bad, vec![6]);
        let (e, bad) = parse("* * * * * /tmp/.x/run >/dev/null 2>&1\n", false, "www-data");
        assert!(bad.is_empty());
        assert_eq!(e[0].user, "www-data");
        assert_eq!(e[0].command, "/tmp/.x/run >/dev/null 2>&1");
    }

    #[test]
    fn garbage_lines_are_counted() {
        let (e, bad) = parse("\u{1}\u{2}\u{3} zz\nhello world\n", true, "");
        assert!(e.is_empty());
        assert_eq!(bad, vec![1, 2]);
    }
}
