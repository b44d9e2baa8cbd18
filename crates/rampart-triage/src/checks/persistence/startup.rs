//! /etc/ld.so.preload, /etc/rc.local, and the shell start-up files every login reads.

use super::{entries, is_binary, read, show, suspicious_finding, FILE_LIMIT};
use crate::context::{Context, Out};
use crate::suspicious;
use rampart_core::{Evidence, Finding, Severity, Step};
use std::collections::BTreeSet;
use std::os::unix::fs::PermissionsExt;

const LD_SO_PRELOAD: &str = "/etc/ld.so.preload";
const RC_LOCAL: &str = "/etc/rc.local";
const SYSTEM_RC: &[&str] = &[
    "/etc/profile",
    "/etc/bash.bashrc",
    "/etc/zsh/zshrc",
    "/etc/zsh/zprofile",
    "/etc/zsh/zshenv",
];
const PROFILE_D: &str = "/etc/profile.d";
const USER_RC: &[&str] = &[
    ".bashrc",
    ".profile",
    ".bash_profile",
    ".bash_login",
    ".bash_logout",
    ".zshrc",
    ".zprofile",
    ".zshenv",
];
/// Commands an attacker wraps to steal passwords or hide.
const HIJACKED: &[&str] = &[
    "sudo", "su", "ssh", "passwd", "scp", "ls", "ps", "netstat", "ss", "top", "lsof", "kill",
];

pub fn check(ctx: &Context, out: &mut Out) {
    ld_so_preload(ctx, out);
    rc_local(ctx, out);
    let mut files: Vec<String> = SYSTEM_RC.iter().map(|s| s.to_string()).collect();
    files.extend(
        entries(ctx, PROFILE_D, "shell start-up files", out)
            .into_iter()
            .map(|e| e.host_path),
    );
    let mut homes = BTreeSet::new();
    for p in &ctx.accounts().passwd {
        let home = p.home.trim_end_matches('/');
        if home.is_empty() || !homes.insert(home.to_string()) {
            continue;
        }
        files.extend(USER_RC.iter().map(|f| format!("{home}/{f}")));
    }
    let mut denied = 0usize;
    for f in files {
        shell_file(ctx, &f, &mut denied, out);
    }
    if denied > 0 {
        out.skip(format!("{denied} shell start-up file(s) need root to read"));
    }
}

/// Lines that are not blank or comments.
fn content_lines(text: &str) -> Vec<(u64, &str)> {
    text.lines()
        .enumerate()
        .map(|(i, l)| (i as u64 + 1, l.trim()))
        .filter(|(_, l)| !l.is_empty() && !l.starts_with('#'))
        .collect()
}

fn ld_so_preload(ctx: &Context, out: &mut Out) {
    let Some(bytes) = read(ctx, LD_SO_PRELOAD, out) else {
        return;
    };
    let text = String::from_utf8_lossy(&bytes);
    let lines = content_lines(&text);
    if lines.is_empty() && !is_binary(&bytes) {
        return;
    }
    let mut f = Finding::new(
        "persistence.ld-preload",
        Severity::Critical,
        Step::Persistence,
        "/etc/ld.so.preload loads a library into every program (classic userland rootkit)",
    )
    .remedy(
        "Userland rootkits hide files, processes and sockets this way, so tools on this host may lie: \
         analyse the disk from a clean system (`rampart triage --root`), keep the library for analysis, \
         empty /etc/ld.so.preload, and plan to reinstall.",
    );
    for (line, l) in lines.iter().take(20) {
        f = f.evidence(Evidence::file(LD_SO_PRELOAD, Some(*line), show(l)));
    }
    if lines.is_empty() {
        f = f.evidence(Evidence::file(
            LD_SO_PRELOAD,
            None,
            format!("{} bytes of binary data", bytes.len()),
        ));
    }
    out.finding(f);
}

fn rc_local(ctx: &Context, out: &mut Out) {
    let Some(bytes) = read(ctx, RC_LOCAL, out) else {
        return;
    };
    if is_binary(&bytes) {
        out.finding(
            Finding::new(
                "persistence.rc-local",
                Severity::High,
                Step::Persistence,
                "/etc/rc.local is a compiled program",
            )
            .evidence(Evidence::file(
                RC_LOCAL,
                None,
                format!("{} bytes, not a script", bytes.len()),
            ))
            .remedy("rc.local is a shell script; keep this binary for analysis and remove it."),
        );
        return;
    }
    let executable = ctx
        .host
        .metadata(RC_LOCAL)
        .map(|m| m.permissions().mode() & 0o111 != 0)
        .unwrap_or(false);
    let text = String::from_utf8_lossy(&bytes);
    let lines: Vec<(u64, &str)> = content_lines(&text)
        .into_iter()
        .filter(|(_, l)| *l != "exit 0" && !l.starts_with("#!"))
        .collect();
    let mut plain = Vec::new();
    for (line, l) in &lines {
        let signals = suspicious::scan(l);
        if signals.is_empty() {
            plain.push((*line, *l));
        } else {
            let mut f = suspicious_finding(
                "persistence.rc-local",
                "A line of /etc/rc.local",
                RC_LOCAL,
                Some(*line),
                l,
                &signals,
            );
            if !executable {
                f.title
                    .push_str(" (the file is not executable, so it does not run now)");
            }
            out.finding(f);
        }
    }
    if plain.is_empty() {
        return;
    }
    let mut f = Finding::new(
        "persistence.rc-local",
        if executable {
            Severity::Medium
        } else {
            Severity::Low
        },
        Step::Persistence,
        format!(
            "/etc/rc.local runs {} command(s) at boot{}",
            plain.len(),
            if executable {
                ""
            } else {
                " (not executable: inactive)"
            }
        ),
    )
    .remedy("rc.local is rarely used on current systems: check every line, remove what you did not write.");
    for (line, l) in plain.iter().take(20) {
        f = f.evidence(Evidence::file(RC_LOCAL, Some(*line), show(l)));
    }
    out.finding(f);
}

/// An alias or function that replaces a password-handling or listing command.
fn hijack(line: &str) -> Option<String> {
    let l = line.trim_start_matches("export ").trim();
    if let Some(rest) = l.strip_prefix("alias ") {
        for def in rest.split_whitespace() {
            let Some((name, _)) = def.split_once('=') else {
                continue;
            };
            if !HIJACKED.contains(&name) {
                continue;
            }
            // The value runs to the end of the quoted string, not just this word.
            let value = rest[rest.find(def).unwrap_or(0) + name.len() + 1..].trim();
            let value = value.trim_matches(|c| c == '\'' || c == '"');
            let first = value.split_whitespace().next().unwrap_or("");
            let same = first == name || first.rsplit('/').next() == Some(name) && !first.contains("/.");
            let hides = value.contains("grep -v") || value.contains("grep -V");
            if !same || hides {
                return Some(format!("alias {name} runs {}", show(value)));
            }
            // `alias sudo='sudo '` only lets aliases follow sudo: benign.
            if value.contains('|') || value.contains(';') {
                return Some(format!("alias {name} adds a pipeline: {}", show(value)));
            }
        }
        return None;
    }
    let name = l.strip_prefix("function ").unwrap_or(l);
    let name = name.split(['(', ' ', '{']).next().unwrap_or("");
    if HIJACKED.contains(&name) && (l.contains("()") || l.starts_with("function ")) {
        return Some(format!("redefines {name} as a shell function"));
    }
    None
}

fn shell_file(ctx: &Context, path: &str, denied: &mut usize, out: &mut Out) {
    let bytes = match ctx.host.read_limited(path, FILE_LIMIT) {
        Ok(b) => b,
        Err(e) if e.is_not_found() => return,
        Err(e) if e.is_permission_denied() && !ctx.is_root => {
            *denied += 1;
            return;
        }
        Err(e) => {
            out.host_error(&e);
            return;
        }
    };
    if ctx.host.metadata(path).map(|m| m.is_dir()).unwrap_or(false) {
        return;
    }
    if is_binary(&bytes) {
        out.error(path, format!("{path}: binary data in a shell start-up file"));
        return;
    }
    let text = String::from_utf8_lossy(&bytes);
    for (line, l) in content_lines(&text) {
        let mut signals = suspicious::scan(l);
        if let Some(why) = hijack(l) {
            signals.push(suspicious::Signal {
                kind: "hijack",
                severity: Severity::High,
                why,
            });
        }
        // Every shell start-up file sources something from a dot directory of a home.
        if suspicious::worst(&signals).is_none_or(|w| w < Severity::Medium) {
            continue;
        }
        out.finding(suspicious_finding(
            "persistence.shell-rc",
            &format!("A line of {path} (runs at every login)"),
            path,
            Some(line),
            l,
            &signals,
        ));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hijacks() {
        assert!(hijack("alias sudo='/tmp/.s/sudo'").is_some());
        assert!(hijack("alias sudo='sudo '").is_none());
        assert!(hijack("alias ls='ls --color=auto'").is_none());
        assert!(hijack("alias ps='ps aux | grep -v miner'").is_some());
        assert!(hijack("sudo() { /usr/bin/sudo \"$@\"; }").is_some());
        assert!(hijack("function ssh { command ssh \"$@\" 2>&1 | tee -a /tmp/k; }").is_some());
        assert!(hijack("alias ll='ls -alF'").is_none());
    }
}
