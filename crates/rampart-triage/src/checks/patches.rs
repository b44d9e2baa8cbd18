//! Pending updates, from local metadata only (no network): installed versions from the
//! dpkg status file against candidate versions in apt's downloaded lists
//! (`/var/lib/apt/lists/*_Packages`, plain or lz4 as Debian's container images keep
//! them). Updates found in a security archive are reported apart; old lists and a
//! running kernel older than the installed one too.

use crate::context::{Context, Out};
use crate::dpkg::{for_each_stanza, Dpkg, DpkgError};
use crate::runner::Check;
use debversion::Version;
use rampart_core::{Evidence, Finding, HostRoot, Severity, Step};
use std::collections::HashMap;
use std::fs::File;
use std::io::{BufRead, BufReader, Read};
use std::time::SystemTime;

pub struct Patches;

pub const LISTS_DIR: &str = "/var/lib/apt/lists";
/// Lists older than this are stale: apt-get update has not run for a week.
pub const STALE_DAYS: u64 = 7;
/// Packages listed per finding; the count says how many there are in all.
const MAX_EVIDENCE: usize = 60;
/// A Packages file this large (decompressed) is not apt metadata.
const MAX_LIST_BYTES: u64 = 2 * 1024 * 1024 * 1024;

/// The best candidate for one installed package seen so far.
#[derive(Debug, Clone)]
struct Candidate {
    version: Version,
    raw: String,
    list: String,
    security: bool,
}

/// One pending update.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Update {
    pub package: String,
    pub installed: String,
    pub candidate: String,
    /// The list file the candidate came from.
    pub list: String,
    /// A newer version is in a security archive.
    pub security: bool,
}

enum Compression {
    Plain,
    Lz4,
}

fn list_kind(name: &str) -> Option<Result<Compression, &'static str>> {
    if name.ends_with("_Packages") {
        Some(Ok(Compression::Plain))
    } else if name.ends_with("_Packages.lz4") {
        Some(Ok(Compression::Lz4))
    } else if name.ends_with("_Packages.gz") {
        Some(Err("gzip"))
    } else if name.ends_with("_Packages.xz") {
        Some(Err("xz"))
    } else if name.ends_with("_Packages.zst") {
        Some(Err("zstd"))
    } else {
        None
    }
}

/// `deb.debian.org_debian-security_dists_bookworm-security_main_binary-amd64_Packages`
/// → `deb.debian.org_debian-security_dists_bookworm-security_` (where its Release is).
fn release_prefix(name: &str) -> Option<&str> {
    let at = name.find("_dists_")? + "_dists_".len();
    let end = at + name[at..].find('_')? + 1;
    Some(&name[..end])
}

/// Whether a list comes from a security archive: by its name, or by its Release file's
/// Label/Suite (Ubuntu's `jammy-security`, Debian's `Debian-Security`).
fn is_security(host: &HostRoot, name: &str) -> bool {
    if name.to_ascii_lowercase().contains("security") {
        return true;
    }
    let Some(prefix) = release_prefix(name) else {
        return false;
    };
    for release in ["InRelease", "Release"] {
        if let Ok(Some(text)) = host.read_text_opt(&format!("{LISTS_DIR}/{prefix}{release}")) {
            return text.lines().take(40).any(|l| {
                (l.starts_with("Label:") || l.starts_with("Suite:") || l.starts_with("Origin:"))
                    && l.to_ascii_lowercase().contains("security")
            });
        }
    }
    false
}

/// Computes pending updates; errors name the list file (and line).
pub fn pending_updates(
    host: &HostRoot,
    dpkg: &Dpkg,
    out: &mut Out,
) -> (Vec<Update>, Option<SystemTime>, usize) {
    let entries = match host.read_dir_opt(LISTS_DIR) {
        Ok(e) => e,
        Err(e) => {
            out.host_error(&e);
            return (Vec::new(), None, 0);
        }
    };
    // name → (installed version parsed, raw) per architecture.
    let mut installed: HashMap<&str, Vec<(&str, Version, &str)>> = HashMap::new();
    for p in dpkg.packages() {
        match p.version.parse::<Version>() {
            Ok(v) => installed.entry(p.name.as_str()).or_default().push((
                p.architecture.as_str(),
                v,
                p.version.as_str(),
            )),
            Err(_) => out.error(
                format!("{}:{}", crate::dpkg::STATUS, p.line),
                format!(
                    "{}:{}: version {:?} of {} cannot be parsed",
                    crate::dpkg::STATUS,
                    p.line,
                    p.version,
                    p.name
                ),
            ),
        }
    }
    let mut best: HashMap<(String, String), Candidate> = HashMap::new();
    let mut newest: Option<SystemTime> = None;
    let mut lists = 0usize;
    for e in entries {
        let name = e.name.to_string_lossy().into_owned();
        let Some(kind) = list_kind(&name) else { continue };
        let kind = match kind {
            Ok(k) => k,
            Err(comp) => {
                out.skip(format!("{}: {comp}-compressed lists are not read", e.host_path));
                continue;
            }
        };
        let local = match host.resolve(&e.host_path) {
            Ok(l) => l,
            Err(err) => {
                out.host_error(&err);
                continue;
            }
        };
        let file = match File::open(&local) {
            Ok(f) => f,
            Err(err) => {
                out.error(e.host_path.clone(), format!("{}: {err}", e.host_path));
                continue;
            }
        };
        if let Ok(m) = file.metadata().and_then(|m| m.modified()) {
            newest = Some(newest.map_or(m, |n| n.max(m)));
        }
        lists += 1;
        let security = is_security(host, &name);
        let reader: Box<dyn BufRead> = match kind {
            Compression::Plain => Box::new(BufReader::with_capacity(256 * 1024, file.take(MAX_LIST_BYTES))),
            Compression::Lz4 => Box::new(BufReader::with_capacity(
                256 * 1024,
                lz4_flex::frame::FrameDecoder::new(BufReader::new(file)).take(MAX_LIST_BYTES),
            )),
        };
        let mut errors: Vec<DpkgError> = Vec::new();
        let res = for_each_stanza(
            &e.host_path,
            reader,
            &["Package", "Version", "Architecture"],
            &mut errors,
            |st| {
                let (Some(pkg), Some(ver)) = (st.get("Package"), st.get("Version")) else {
                    return;
                };
                let Some(inst) = installed.get(pkg) else { return };
                let arch = st.get("Architecture").unwrap_or("");
                for (iarch, iver, _) in inst {
                    if !(arch == *iarch || arch == "all" || iarch.is_empty()) {
                        continue;
                    }
                    let Ok(v) = ver.parse::<Version>() else { continue };
                    if &v <= iver {
                        continue;
                    }
                    let key = (pkg.to_string(), iarch.to_string());
                    match best.get_mut(&key) {
                        Some(c) => {
                            if security {
                                c.security = true;
                            }
                            if v > c.version {
                                c.version = v;
                                c.raw = ver.to_string();
                                c.list = name.clone();
                            }
                        }
                        None => {
                            best.insert(
                                key,
                                Candidate {
                                    version: v,
                                    raw: ver.to_string(),
                                    list: name.clone(),
                                    security,
                                },
                            );
                        }
                    }
                }
            },
        );
        for err in errors {
            out.error(err.subject(), err.to_string());
        }
        if let Err(err) = res {
            out.error(e.host_path.clone(), format!("{}: {err}", e.host_path));
        }
    }
    let mut updates: Vec<Update> = best
        .into_iter()
        .map(|((pkg, arch), c)| {
            let installed_raw = installed
                .get(pkg.as_str())
                .and_then(|v| v.iter().find(|(a, _, _)| *a == arch))
                .map(|(_, _, raw)| raw.to_string())
                .unwrap_or_default();
            Update {
                package: pkg,
                installed: installed_raw,
                candidate: c.raw,
                list: c.list,
                security: c.security,
            }
        })
        .collect();
    updates.sort_by(|a, b| a.package.cmp(&b.package));
    updates.dedup_by(|a, b| a.package == b.package);
    (updates, newest, lists)
}

fn evidence_for(updates: &[&Update], lists_dir: &str) -> Vec<Evidence> {
    let mut ev: Vec<Evidence> = updates
        .iter()
        .take(MAX_EVIDENCE)
        .map(|u| Evidence {
            location: u.package.clone(),
            path: Some(format!("{lists_dir}/{}", u.list)),
            line: None,
            pid: None,
            detail: format!("{} → {} ({})", u.installed, u.candidate, origin_of(&u.list)),
        })
        .collect();
    if updates.len() > MAX_EVIDENCE {
        ev.push(Evidence::at(
            lists_dir,
            format!(
                "… and {} more (apt list --upgradable shows them all)",
                updates.len() - MAX_EVIDENCE
            ),
        ));
    }
    ev
}

/// `deb.debian.org_debian-security_dists_bookworm-security_main_…` → `bookworm-security`.
fn origin_of(list: &str) -> &str {
    list.split_once("_dists_")
        .and_then(|(_, rest)| rest.split('_').next())
        .unwrap_or(list)
}

impl Check for Patches {
    fn name(&self) -> &'static str {
        "patches"
    }

    fn run(&self, ctx: &Context, out: &mut Out) {
        let Some(dpkg) = ctx.dpkg_or_report(out) else {
            return;
        };
        let (updates, newest, lists) = pending_updates(&ctx.host, dpkg, out);

        let age_days = newest
            .and_then(|t| ctx.now.duration_since(t).ok())
            .map(|d| d.as_secs() / 86_400);
        if lists == 0 {
            out.finding(
                Finding::new(
                    "patches.stale-metadata",
                    Severity::Medium,
                    Step::Patches,
                    "No apt package lists: pending updates cannot be known",
                )
                .evidence(Evidence::file(LISTS_DIR, None, "no *_Packages list"))
                .remedy("Run `apt-get update`, then `apt-get upgrade`, and run triage again."),
            );
        } else if let Some(days) = age_days.filter(|d| *d >= STALE_DAYS) {
            out.finding(
                Finding::new(
                    "patches.stale-metadata",
                    Severity::Medium,
                    Step::Patches,
                    format!("apt metadata is {days} days old: run apt-get update"),
                )
                .evidence(Evidence::file(
                    LISTS_DIR,
                    None,
                    format!("newest package list is {days} days old"),
                ))
                .remedy(
                    "Run `apt-get update` (and enable unattended-upgrades); updates published since \
                     then are not counted below.",
                ),
            );
        }

        let security: Vec<&Update> = updates.iter().filter(|u| u.security).collect();
        if !security.is_empty() {
            let mut f = Finding::new(
                "patches.security",
                Severity::High,
                Step::Patches,
                format!("{} security updates pending", security.len()),
            )
            .remedy(
                "Install them now: `apt-get update && apt-get upgrade` (then restart the services \
                 that use the updated libraries, or reboot).",
            );
            f.evidence = evidence_for(&security, LISTS_DIR);
            out.finding(f);
        }
        let other: Vec<&Update> = updates.iter().filter(|u| !u.security).collect();
        if !other.is_empty() {
            let mut f = Finding::new(
                "patches.pending",
                Severity::Low,
                Step::Patches,
                format!("{} other updates pending", other.len()),
            )
            .remedy("Install them in a maintenance window: `apt-get upgrade`.");
            f.evidence = evidence_for(&other, LISTS_DIR);
            out.finding(f);
        }

        if ctx.host.is_live() {
            kernel_check(ctx, dpkg, out);
        }
    }
}

/// The running kernel against the newest installed `linux-image-<release>` package.
fn kernel_check(ctx: &Context, dpkg: &Dpkg, out: &mut Out) {
    let running = match ctx.host.read_text("/proc/sys/kernel/osrelease") {
        Ok(s) => s.trim().to_string(),
        Err(e) => {
            out.host_error(&e);
            return;
        }
    };
    let images: Vec<(&str, Version, &str)> = dpkg
        .packages()
        .iter()
        .filter_map(|p| {
            let release = p.name.strip_prefix("linux-image-")?;
            // Meta packages (linux-image-amd64) name no release.
            if !release.chars().next()?.is_ascii_digit() {
                return None;
            }
            Some((release, p.version.parse().ok()?, p.version.as_str()))
        })
        .collect();
    let Some(current) = images.iter().find(|(r, _, _)| *r == running) else {
        if ctx
            .host
            .resolve("/var/run/reboot-required")
            .is_ok_and(|p| p.exists())
        {
            out.finding(reboot_finding(&running, "/var/run/reboot-required exists".into()));
        }
        return; // A custom or container kernel: nothing to compare.
    };
    if let Some(newer) = images
        .iter()
        .filter(|(r, v, _)| *r != running && (v > &current.1 || release_newer(r, &running)))
        .max_by(|a, b| a.1.cmp(&b.1))
    {
        out.finding(reboot_finding(
            &running,
            format!(
                "linux-image-{} {} is installed; running {running} ({})",
                newer.0, newer.2, current.2
            ),
        ));
    }
}

/// `6.1.0-18-amd64` vs `6.1.0-13-amd64`, compared as Debian versions.
fn release_newer(a: &str, b: &str) -> bool {
    match (a.parse::<Version>(), b.parse::<Version>()) {
        (Ok(a), Ok(b)) => a > b,
        _ => false,
    }
}

fn reboot_finding(running: &str, detail: String) -> Finding {
    Finding::new(
        "patches.reboot-needed",
        Severity::Medium,
        Step::Patches,
        format!("Running kernel {running} is older than the installed one: reboot needed"),
    )
    .evidence(Evidence::at("/proc/sys/kernel/osrelease", detail))
    .remedy("Reboot in a maintenance window so the patched kernel runs.")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn release_files_of_lists() {
        assert_eq!(
            release_prefix(
                "deb.debian.org_debian-security_dists_bookworm-security_main_binary-amd64_Packages"
            ),
            Some("deb.debian.org_debian-security_dists_bookworm-security_")
        );
        assert!(release_newer("6.1.0-18-amd64", "6.1.0-13-amd64"));
    }
}
