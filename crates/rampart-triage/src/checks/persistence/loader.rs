//! The dynamic loader's own persistence points besides /etc/ld.so.preload: library
//! directories in /etc/ld.so.conf(.d) that others can write to, and LD_PRELOAD,
//! LD_AUDIT or LD_LIBRARY_PATH set for every login session by pam_env
//! (/etc/environment, /etc/security/pam_env.conf).

use super::{entries, is_binary, read, show};
use crate::context::{Context, Out};
use crate::sshd_config::expand_glob;
use crate::suspicious;
use rampart_core::{Evidence, Finding, Severity, Step};
use std::os::unix::fs::MetadataExt;

const LD_SO_CONF: &str = "/etc/ld.so.conf";
const LD_SO_CONF_D: &str = "/etc/ld.so.conf.d";
const ENVIRONMENT: &str = "/etc/environment";
const PAM_ENV_CONF: &str = "/etc/security/pam_env.conf";
/// ld.so.conf include nesting deeper than this is a loop.
const MAX_INCLUDE_DEPTH: usize = 8;

pub fn check(ctx: &Context, out: &mut Out) {
    let mut seen = Vec::new();
    ld_so_conf(ctx, LD_SO_CONF, 0, &mut seen, out);
    // ldconfig reads ld.so.conf.d only through an include line; a file there that no
    // include names is inert, but Debian's ld.so.conf includes it all, so read it anyway.
    for e in entries(ctx, LD_SO_CONF_D, "loader configuration files", out) {
        if e.host_path.ends_with(".conf") {
            ld_so_conf(ctx, &e.host_path, 1, &mut seen, out);
        }
    }
    environment(ctx, out);
    pam_env_conf(ctx, out);
}

fn read_text(ctx: &Context, path: &str, out: &mut Out) -> Option<String> {
    let bytes = read(ctx, path, out)?;
    if is_binary(&bytes) {
        out.error(
            path,
            format!("{path}: binary data where a text configuration file belongs"),
        );
        return None;
    }
    Some(String::from_utf8_lossy(&bytes).into_owned())
}

/// Reads one ld.so.conf-format file and its includes; `seen` keeps each file to one read.
fn ld_so_conf(ctx: &Context, path: &str, depth: usize, seen: &mut Vec<String>, out: &mut Out) {
    if seen.iter().any(|s| s == path) {
        return;
    }
    seen.push(path.to_string());
    if depth > MAX_INCLUDE_DEPTH {
        out.error(
            path,
            format!("{path}: includes nest deeper than {MAX_INCLUDE_DEPTH} levels"),
        );
        return;
    }
    let Some(text) = read_text(ctx, path, out) else {
        return;
    };
    for (i, raw) in text.lines().enumerate() {
        let line = i as u64 + 1;
        let l = raw.split('#').next().unwrap_or("").trim();
        if l.is_empty() || l.starts_with("hwcap ") {
            continue;
        }
        if let Some(pattern) = l
            .strip_prefix("include")
            .filter(|r| r.starts_with(char::is_whitespace))
        {
            for pattern in pattern.split_whitespace() {
                let pattern = if pattern.starts_with('/') {
                    pattern.to_string()
                } else {
                    let dir = path.rsplit_once('/').map(|(d, _)| d).unwrap_or("");
                    format!("{dir}/{pattern}")
                };
                match expand_glob(&ctx.host, &pattern) {
                    Ok(files) => {
                        for f in files {
                            ld_so_conf(ctx, &f, depth + 1, seen, out);
                        }
                    }
                    Err(e) => out.error(format!("{path}:{line}"), e),
                }
            }
            continue;
        }
        // The old `DIR=TYPE` form names the library type after `=`.
        let dir = l.split_once('=').map(|(d, _)| d).unwrap_or(l).trim();
        if let Some((severity, why)) = library_dir_risk(ctx, dir) {
            out.finding(
                Finding::new(
                    "persistence.ld-so-conf",
                    severity,
                    Step::Persistence,
                    format!(
                        "The dynamic loader searches {} for libraries of every program: {why}",
                        show(dir)
                    ),
                )
                .evidence(Evidence::file(path.to_string(), Some(line), show(raw)))
                .remedy(format!(
                    "Whoever can write there can replace a library that root's programs load. Remove the \
                     line from {path} and run `ldconfig`, then examine every library in {} (copy it aside \
                     first) and treat the host as compromised if you did not add it.",
                    show(dir)
                )),
            );
        }
    }
}

/// Why a directory must not hold libraries that every program may load, if it must not.
fn library_dir_risk(ctx: &Context, dir: &str) -> Option<(Severity, String)> {
    if !dir.starts_with('/') {
        return Some((
            Severity::Medium,
            "a relative path, resolved from wherever ldconfig runs".into(),
        ));
    }
    let slashed = format!("{}/", dir.trim_end_matches('/'));
    if suspicious::is_temp_path(&slashed) {
        return Some((Severity::Critical, "a world-writable temp directory".into()));
    }
    if dir
        .split('/')
        .any(|c| c.starts_with('.') && c.len() > 1 && c != "..")
    {
        return Some((Severity::High, "a hidden (dot) directory".into()));
    }
    // The directory itself: anyone, or a user other than root, who can add files.
    if let Ok(md) = ctx.host.metadata(dir) {
        let mode = md.mode();
        if mode & 0o002 != 0 {
            return Some((
                Severity::Critical,
                format!("world-writable (mode {:o})", mode & 0o7777),
            ));
        }
        // In a copy of a root file system made without root, every file is the copier's.
        let root_uid = ctx.host.metadata("/").map(|m| m.uid()).unwrap_or(0);
        if md.uid() != 0 && md.uid() != root_uid {
            return Some((Severity::High, format!("owned by uid {}, not root", md.uid())));
        }
        if mode & 0o020 != 0
            && md.gid() != 0
            && md.gid() != ctx.host.metadata("/").map(|m| m.gid()).unwrap_or(0)
        {
            return Some((
                Severity::High,
                format!("writable by group {} (mode {:o})", md.gid(), mode & 0o7777),
            ));
        }
    }
    // A parent that others can write to lets them swap the whole directory.
    let mut parent = dir.trim_end_matches('/');
    while let Some((p, _)) = parent.rsplit_once('/') {
        let p = if p.is_empty() { "/" } else { p };
        if let Ok(md) = ctx.host.metadata(p) {
            let mode = md.mode();
            if mode & 0o002 != 0 && mode & 0o1000 == 0 {
                return Some((
                    Severity::High,
                    format!("its parent {p} is world-writable (mode {:o})", mode & 0o7777),
                ));
            }
        }
        if p == "/" {
            break;
        }
        parent = p;
    }
    None
}

/// One `NAME=value` of /etc/environment (`export` allowed, quotes removed).
fn assignment(line: &str) -> Option<(&str, &str)> {
    let l = line.trim();
    let l = l.strip_prefix("export ").unwrap_or(l).trim_start();
    let (name, value) = l.split_once('=')?;
    let value = value.trim();
    let value = value
        .strip_prefix('"')
        .and_then(|v| v.strip_suffix('"'))
        .or_else(|| value.strip_prefix('\'').and_then(|v| v.strip_suffix('\'')))
        .unwrap_or(value);
    Some((name.trim(), value))
}

fn environment(ctx: &Context, out: &mut Out) {
    let Some(text) = read_text(ctx, ENVIRONMENT, out) else {
        return;
    };
    for (i, raw) in text.lines().enumerate() {
        if raw.trim_start().starts_with('#') {
            continue;
        }
        if let Some((name, value)) = assignment(raw) {
            loader_variable(ctx, ENVIRONMENT, i as u64 + 1, raw, name, value, out);
        }
    }
}

/// pam_env.conf: `NAME [DEFAULT=value] [OVERRIDE=value]`.
fn pam_env_conf(ctx: &Context, out: &mut Out) {
    let Some(text) = read_text(ctx, PAM_ENV_CONF, out) else {
        return;
    };
    for (i, raw) in text.lines().enumerate() {
        let l = raw.trim();
        if l.is_empty() || l.starts_with('#') {
            continue;
        }
        let mut words = l.split_whitespace();
        let Some(name) = words.next() else { continue };
        for w in words {
            let value = w
                .strip_prefix("DEFAULT=")
                .or_else(|| w.strip_prefix("OVERRIDE="))
                .map(|v| v.trim_matches('"'));
            if let Some(v) = value {
                loader_variable(ctx, PAM_ENV_CONF, i as u64 + 1, raw, name, v, out);
            }
        }
    }
}

/// LD_PRELOAD / LD_AUDIT (always) and LD_LIBRARY_PATH / PATH entries (when risky) set
/// for every session.
fn loader_variable(ctx: &Context, file: &str, line: u64, raw: &str, name: &str, value: &str, out: &mut Out) {
    if value.is_empty() {
        return;
    }
    match name {
        "LD_PRELOAD" | "LD_AUDIT" => out.finding(
            Finding::new(
                "persistence.environment-preload",
                Severity::Critical,
                Step::Persistence,
                format!("{file} sets {name}: every login session loads {}", show(value)),
            )
            .evidence(Evidence::file(file.to_string(), Some(line), show(raw)))
            .remedy(format!(
                "A library forced into every program is how userland rootkits hide and steal passwords. \
                 Copy {} aside for analysis, remove the line from {file}, log in again, and treat the host \
                 as compromised.",
                show(value)
            )),
        ),
        "LD_LIBRARY_PATH" | "PATH" => {
            let risky: Vec<(Severity, String)> = value
                .split(':')
                .filter_map(|d| {
                    let d = if d.is_empty() { "." } else { d };
                    library_dir_risk(ctx, d).map(|(s, why)| (s, format!("{d}: {why}")))
                })
                .collect();
            let Some(worst) = risky.iter().map(|(s, _)| *s).max() else {
                return;
            };
            let what = if name == "PATH" { "programs" } else { "libraries" };
            let why: Vec<&str> = risky.iter().map(|(_, w)| w.as_str()).collect();
            out.finding(
                Finding::new(
                    if name == "PATH" {
                        "persistence.environment-path"
                    } else {
                        "persistence.environment-library-path"
                    },
                    worst,
                    Step::Persistence,
                    format!(
                        "{file} sets {name} so that every login session looks for {what} in a directory \
                         others can write to"
                    ),
                )
                .evidence(Evidence::file(
                    file.to_string(),
                    Some(line),
                    format!("{} ({})", show(raw), why.join("; ")),
                ))
                .remedy(format!(
                    "Remove those directories from {name} in {file}; check what {what} they hold and who \
                     put them there."
                )),
            );
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn environment_assignments() {
        assert_eq!(assignment("LD_PRELOAD=/x.so"), Some(("LD_PRELOAD", "/x.so")));
        assert_eq!(
            assignment("export PATH=\"/usr/bin:/tmp/.x\""),
            Some(("PATH", "/usr/bin:/tmp/.x"))
        );
        assert_eq!(assignment("LANG='C.UTF-8'"), Some(("LANG", "C.UTF-8")));
        assert_eq!(assignment("garbage"), None);
    }
}
