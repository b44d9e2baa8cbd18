//! systemd units, timers and drop-ins: Exec lines that download-and-run or start
//! programs in temp dirs, links to units outside the unit directories, and units no
//! package installed.

use super::{entries, is_binary, read, show, suspicious_finding, Owners, FILE_LIMIT};
use crate::context::{Context, Out};
use crate::suspicious;
use rampart_core::{Evidence, Finding, Severity, Step};
use std::collections::BTreeSet;
use std::path::PathBuf;

/// System unit directories; the first three are the admin's, the rest the vendor's.
const SYSTEM_DIRS: &[&str] = &[
    "/etc/systemd/system",
    "/run/systemd/system",
    "/usr/local/lib/systemd/system",
    "/lib/systemd/system",
    "/usr/lib/systemd/system",
    "/etc/systemd/user",
    "/usr/lib/systemd/user",
];
const VENDOR_DIRS: &[&str] = &[
    "/lib/systemd/system",
    "/usr/lib/systemd/system",
    "/usr/lib/systemd/user",
];
/// Unit directories nest at most `x.service.d/` or `x.target.wants/` deep.
const MAX_DEPTH: usize = 3;
/// A unit directory with more entries than this is cut (and said so).
const MAX_ENTRIES: usize = 20_000;
const EXEC_KEYS: &[&str] = &[
    "ExecStart",
    "ExecStartPre",
    "ExecStartPost",
    "ExecStop",
    "ExecStopPost",
    "ExecReload",
    "ExecCondition",
];
const UNIT_SUFFIXES: &[&str] = &[".service", ".timer", ".socket", ".path", ".conf"];

pub fn check(ctx: &Context, owners: &Owners, out: &mut Out) {
    let mut dirs: Vec<(String, bool)> = SYSTEM_DIRS.iter().map(|d| (d.to_string(), false)).collect();
    let mut homes = BTreeSet::new();
    for p in &ctx.accounts().passwd {
        if p.home.len() > 1 && homes.insert(p.home.clone()) {
            dirs.push((
                format!("{}/.config/systemd/user", p.home.trim_end_matches('/')),
                true,
            ));
        }
    }
    // /lib is /usr/lib on merged-/usr systems: read each real directory once.
    let mut seen_dirs: BTreeSet<PathBuf> = BTreeSet::new();
    for (dir, user) in dirs {
        match ctx.host.resolve(&dir) {
            Ok(local) if local.is_dir() => {
                if !seen_dirs.insert(local) {
                    continue;
                }
            }
            _ => continue,
        }
        let mut files = Vec::new();
        collect(ctx, &dir, 0, &mut files, out);
        for f in files {
            unit_file(ctx, owners, &dir, &f, user, out);
        }
    }
}

/// Unit files (and links) under `dir`, links to directories not followed.
fn collect(ctx: &Context, dir: &str, depth: usize, files: &mut Vec<String>, out: &mut Out) {
    for e in entries(ctx, dir, "units", out) {
        if files.len() >= MAX_ENTRIES {
            out.error(
                dir,
                format!("{dir}: more than {MAX_ENTRIES} unit files; the rest were not read"),
            );
            return;
        }
        let Ok(md) = ctx.host.symlink_metadata(&e.host_path) else {
            continue;
        };
        if md.is_dir() {
            if depth < MAX_DEPTH {
                collect(ctx, &e.host_path, depth + 1, files, out);
            }
        } else if UNIT_SUFFIXES.iter().any(|s| e.host_path.ends_with(s)) {
            files.push(e.host_path);
        }
    }
}

fn unit_file(ctx: &Context, owners: &Owners, dir: &str, path: &str, user: bool, out: &mut Out) {
    let Ok(md) = ctx.host.symlink_metadata(path) else {
        return;
    };
    if md.file_type().is_symlink() {
        let Ok(target) = ctx.host.read_link(path) else {
            return;
        };
        let t = target.to_string_lossy().into_owned();
        if t == "/dev/null" || !t.starts_with('/') {
            return;
        }
        let in_unit_dir = SYSTEM_DIRS.iter().any(|d| t.starts_with(&format!("{d}/")));
        if in_unit_dir {
            return;
        }
        // A link from a .wants directory to a unit outside every unit directory: read it
        // here, since no directory walk will.
        if suspicious::is_temp_path(&t) {
            out.finding(
                Finding::new(
                    "persistence.systemd-link",
                    Severity::Critical,
                    Step::Persistence,
                    format!("Unit {path} is a link into a temp directory"),
                )
                .evidence(Evidence::file(
                    path.to_string(),
                    None,
                    format!("link to {}", show(&t)),
                ))
                .remedy("Disable and remove the link (systemctl disable), keep the target for analysis."),
            );
        }
        exec_lines(ctx, &t, path, out);
        return;
    }
    let is_drop_in = path.ends_with(".conf");
    if !is_drop_in || path.contains(".d/") {
        exec_lines(ctx, path, path, out);
    }
    if is_drop_in || user {
        if user {
            user_unit(ctx, path, out);
        }
        return;
    }
    let vendor = VENDOR_DIRS.contains(&dir);
    if owners.owner(path) == Some(None) {
        let (severity, why) = if vendor {
            (
                Severity::Medium,
                "in the vendor directory, yet no package installed it",
            )
        } else {
            (Severity::Low, "not installed by any package")
        };
        let exec = read_execs(ctx, path).into_iter().next();
        let detail = match &exec {
            Some((line, key, v)) => format!("line {line}: {key}={}", show(v)),
            None => "no Exec line".to_string(),
        };
        out.finding(
            Finding::new(
                "persistence.systemd-unowned",
                severity,
                Step::Persistence,
                format!("Unit {} is {why}", path.rsplit('/').next().unwrap_or(path)),
            )
            .evidence(Evidence::file(path.to_string(), exec.as_ref().map(|e| e.0), detail))
            .remedy("Check that you (or your deployment) created this unit; if not, `systemctl disable --now` it and keep the file for analysis."),
        );
    }
}

/// (line, key, command) of every Exec line of a unit file.
fn read_execs(ctx: &Context, path: &str) -> Vec<(u64, &'static str, String)> {
    let Ok(bytes) = ctx.host.read_limited(path, FILE_LIMIT) else {
        return Vec::new();
    };
    if is_binary(&bytes) {
        return Vec::new();
    }
    let text = String::from_utf8_lossy(&bytes);
    let mut out = Vec::new();
    for (i, l) in text.lines().enumerate() {
        let t = l.trim();
        let Some((k, v)) = t.split_once('=') else { continue };
        let k = k.trim();
        if let Some(key) = EXEC_KEYS.iter().find(|e| **e == k) {
            // Prefixes: @ (argv0), - (ignore failure), : (no env), + ! !! (privileges).
            let v = v.trim().trim_start_matches(['@', '-', ':', '+', '!']);
            if !v.is_empty() {
                out.push((i as u64 + 1, *key, v.to_string()));
            }
        }
    }
    out
}

/// Judges every Exec line and Environment line of `read_path`; evidence names `shown_path`.
fn exec_lines(ctx: &Context, read_path: &str, shown_path: &str, out: &mut Out) {
    let Some(bytes) = read(ctx, read_path, out) else {
        return;
    };
    if is_binary(&bytes) {
        out.error(read_path, format!("{read_path}: binary data, not a unit file"));
        return;
    }
    let text = String::from_utf8_lossy(&bytes);
    let unit = shown_path.rsplit('/').next().unwrap_or(shown_path);
    for (i, l) in text.lines().enumerate() {
        let t = l.trim();
        let Some((k, v)) = t.split_once('=') else { continue };
        let k = k.trim();
        let judged = EXEC_KEYS.contains(&k) || k == "Environment" || k == "EnvironmentFile";
        if !judged {
            continue;
        }
        let v = v.trim().trim_start_matches(['@', '-', ':', '+', '!']);
        let mut signals = suspicious::scan(v);
        if k == "EnvironmentFile" && suspicious::is_temp_path(v) {
            signals.push(suspicious::Signal {
                kind: "temp-dir",
                severity: Severity::High,
                why: format!("reads its environment from {v} in a temp directory"),
            });
        }
        if signals.is_empty() {
            continue;
        }
        let mut f = suspicious_finding(
            "persistence.systemd-suspicious",
            &format!("Unit {unit} ({k})"),
            read_path,
            Some(i as u64 + 1),
            t,
            &signals,
        );
        if read_path != shown_path {
            f = f.evidence(Evidence::file(
                shown_path.to_string(),
                None,
                format!("enabled through this link to {read_path}"),
            ));
        }
        out.finding(f);
    }
}

/// Per-user units start at that user's login (or at boot with lingering): list them.
fn user_unit(ctx: &Context, path: &str, out: &mut Out) {
    if path.ends_with(".conf") {
        return;
    }
    let exec = read_execs(ctx, path).into_iter().next();
    let detail = match &exec {
        Some((line, key, v)) => format!("line {line}: {key}={}", show(v)),
        None => "no Exec line".to_string(),
    };
    out.finding(
        Finding::new(
            "persistence.systemd-user-unit",
            Severity::Low,
            Step::Persistence,
            format!("Per-user systemd unit {}", path.rsplit('/').next().unwrap_or(path)),
        )
        .evidence(Evidence::file(path.to_string(), exec.as_ref().map(|e| e.0), detail))
        .remedy("Check that the user set this up; user units run whenever the user logs in (or at boot with linger)."),
    );
}
