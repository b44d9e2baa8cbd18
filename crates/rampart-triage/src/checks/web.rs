//! The web root: sites found in nginx and Apache configs, files in their roots owned by
//! or writable by the web server's user (a webshell can then rewrite the site), scripts
//! in upload directories, and well-known admin paths the local server answers (probed
//! over loopback with the site's own name). Every script walked also goes through the
//! script analyzer `rampart scan` uses ([`scripts`], bounded); signatures and quarantine
//! stay `rampart scan`'s job.

pub mod config;
pub mod scripts;

use crate::context::{Context, Out};
use crate::http_probe::{self, Timeouts};
use crate::runner::Check;
use config::{Server, Site, WebConfig};
use rampart_core::{Evidence, Finding, HostRoot, Severity, Step};
use std::collections::{BTreeMap, BTreeSet};
use std::net::SocketAddr;
use std::os::unix::fs::MetadataExt;
use std::path::PathBuf;

/// Web roots are walked up to this many entries each; the rest is reported as not checked.
pub const MAX_ENTRIES: usize = 50_000;
const MAX_DEPTH: usize = 32;
/// Site listeners probed at most (one thread each, a few short requests).
const MAX_PROBED_SITES: usize = 32;
/// Evidence kept per finding; the title gives the full count.
const MAX_EVIDENCE: usize = 50;

/// Directory names that hold user uploads (and so must never hold scripts).
pub const UPLOAD_DIRS: &[&str] = &[
    "uploads",
    "upload",
    "files",
    "images",
    "img",
    "cache",
    "tmp",
    "temp",
    "media",
    "attachments",
    "userfiles",
    "user_uploads",
    "pictures",
    "photos",
    "avatars",
    "documents",
];

/// Extensions a web server may run as code.
pub const SCRIPT_EXTS: &[&str] = &[
    "php", "phtml", "php3", "php4", "php5", "php7", "php8", "phar", "pht", "phps", "inc", "jsp", "jspx",
    "asp", "aspx", "ashx", "asmx", "cer", "cgi", "pl", "py", "sh",
];

/// Admin paths attackers brute-force; the playbook says to hide them.
pub const ADMIN_PATHS: &[&str] = &[
    "/wp-login.php",
    "/wp-admin/",
    "/phpmyadmin/",
    "/phpMyAdmin/",
    "/pma/",
    "/adminer.php",
    "/administrator/",
    "/admin/",
    "/admin.php",
    "/manager/html",
    "/user/login",
    "/typo3/",
    "/backend/",
    "/cpanel",
    "/webmail/",
    "/install.php",
];

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ProbeMode {
    /// Probe only a live host, and only without `--no-probe`.
    #[default]
    Live,
    /// Probe the listeners the configs name even under `--root` (tests).
    Always,
    Never,
}

#[derive(Default)]
pub struct Web {
    pub probe: ProbeMode,
}

impl Web {
    pub fn new() -> Self {
        Web::default()
    }

    pub fn probing(mode: ProbeMode) -> Self {
        Web { probe: mode }
    }
}

/// The uid and groups of the web server's user.
#[derive(Debug, Clone)]
struct Who {
    name: String,
    uid: u32,
    gids: Vec<u32>,
}

#[derive(Debug, Default)]
pub struct RootScan {
    /// (host path, why) of entries owned by or writable by the web user, outside uploads.
    pub exposed: Vec<(String, String)>,
    /// Upload directories the web user can write (legitimately).
    pub upload_dirs: BTreeSet<String>,
    pub scripts_in_uploads: Vec<(String, String)>,
    /// (local path, size) of every script file walked, for the analyzer.
    pub scripts: Vec<(PathBuf, u64)>,
    pub entries: usize,
    pub truncated: bool,
    /// The configured root does not exist (a stale site config).
    pub missing: bool,
    pub errors: Vec<(String, String)>,
}

fn is_upload_dir(name: &str) -> bool {
    UPLOAD_DIRS.iter().any(|u| name.eq_ignore_ascii_case(u))
}

/// `shell.php`, `x.PHP5`, and the double extension `x.php.jpg` Apache may still run.
pub fn is_script(name: &str) -> bool {
    let lower = name.to_ascii_lowercase();
    let mut parts = lower.split('.').skip(1);
    let ext = lower.rsplit('.').next().unwrap_or("");
    lower.contains('.') && (SCRIPT_EXTS.contains(&ext) || parts.any(|p| p.starts_with("php")))
}

/// Walks a web root without following symbolic links, at most [`MAX_ENTRIES`] entries.
fn scan_root(host: &HostRoot, root: &str, who: &Who) -> RootScan {
    let mut r = RootScan::default();
    let local = match host.resolve(root) {
        Ok(l) => l,
        Err(e) => {
            r.errors.push((root.into(), e.to_string()));
            return r;
        }
    };
    // (local path, depth, inside an upload dir)
    let mut stack: Vec<(PathBuf, usize, bool)> = vec![(local, 0, false)];
    while let Some((dir, depth, in_upload)) = stack.pop() {
        let rd = match std::fs::read_dir(&dir) {
            Ok(rd) => rd,
            Err(e) => {
                let hp = host.host_path_of(&dir);
                if depth == 0 && e.kind() == std::io::ErrorKind::NotFound {
                    r.missing = true;
                } else {
                    r.errors.push((hp.clone(), format!("{hp}: {e}")));
                }
                continue;
            }
        };
        if depth == 0 {
            if let Ok(md) = std::fs::symlink_metadata(&dir) {
                judge(host, &dir, &md, who, false, &mut r);
            }
        }
        for entry in rd {
            let Ok(entry) = entry else { continue };
            r.entries += 1;
            if r.entries > MAX_ENTRIES {
                r.truncated = true;
                return r;
            }
            let path = entry.path();
            let Ok(md) = std::fs::symlink_metadata(&path) else {
                continue;
            };
            if md.file_type().is_symlink() {
                continue;
            }
            let name = entry.file_name().to_string_lossy().into_owned();
            let upload_here = in_upload || (md.is_dir() && is_upload_dir(&name));
            if md.is_file() && is_script(&name) {
                r.scripts.push((path.clone(), md.len()));
            }
            if md.is_file() && in_upload && is_script(&name) {
                r.scripts_in_uploads.push((
                    host.host_path_of(&path),
                    format!("{}; mode {:04o}", owner_text(&md), md.mode() & 0o7777),
                ));
            }
            if md.is_dir() && !in_upload && upload_here && writable_by(&md, who).is_some() {
                r.upload_dirs.insert(host.host_path_of(&path));
            } else {
                judge(host, &path, &md, who, upload_here, &mut r);
            }
            if md.is_dir() && depth < MAX_DEPTH {
                stack.push((path, depth + 1, upload_here));
            }
        }
    }
    r
}

fn judge(
    host: &HostRoot,
    path: &std::path::Path,
    md: &std::fs::Metadata,
    who: &Who,
    in_upload: bool,
    r: &mut RootScan,
) {
    if in_upload {
        return;
    }
    let owned = md.uid() == who.uid;
    let why = match (owned, writable_by(md, who)) {
        (true, _) => format!("owned by {} (mode {:04o})", who.name, md.mode() & 0o7777),
        (false, Some(how)) => how,
        (false, None) => return,
    };
    r.exposed.push((host.host_path_of(path), why));
}

/// How the web user can write this entry, if it can.
fn writable_by(md: &std::fs::Metadata, who: &Who) -> Option<String> {
    let mode = md.mode() & 0o7777;
    if md.uid() == who.uid && mode & 0o200 != 0 {
        Some(format!("writable by its owner {} (mode {mode:04o})", who.name))
    } else if who.gids.contains(&md.gid()) && mode & 0o020 != 0 {
        Some(format!(
            "group-writable by gid {} of {} (mode {mode:04o})",
            md.gid(),
            who.name
        ))
    } else if mode & 0o002 != 0 {
        Some(format!("world-writable (mode {mode:04o})"))
    } else {
        None
    }
}

fn owner_text(md: &std::fs::Metadata) -> String {
    format!("uid {} gid {}", md.uid(), md.gid())
}

impl Check for Web {
    fn name(&self) -> &'static str {
        "web"
    }

    fn run(&self, ctx: &Context, out: &mut Out) {
        let cfg = WebConfig::load(&ctx.host);
        for (subject, msg) in &cfg.errors {
            out.error(subject.clone(), msg.clone());
        }
        if cfg.sites.is_empty() {
            out.skip("no nginx or Apache site configuration found");
            return;
        }
        let mut sites = Finding::new(
            "web.sites",
            Severity::Info,
            Step::WebRoot,
            format!("{} web sites configured", cfg.sites.len()),
        )
        .remedy("Check that every site is one you serve; disable the others.");
        for s in &cfg.sites {
            let roots: Vec<&str> = s.roots.iter().map(|r| r.dir.as_str()).collect();
            let listens: Vec<String> = s
                .listens
                .iter()
                .map(|l| {
                    let a = l.addr.map(|a| a.to_string()).unwrap_or_else(|| "*".into());
                    format!("{a}:{}{}", l.port, if l.tls { " tls" } else { "" })
                })
                .collect();
            sites = sites.evidence(Evidence::at(
                s.at.clone(),
                format!(
                    "{} site {} root {} listen {} user {}",
                    s.server.name(),
                    if s.names.is_empty() {
                        "(no name)".into()
                    } else {
                        s.names.join(" ")
                    },
                    if roots.is_empty() {
                        "(none)".into()
                    } else {
                        roots.join(", ")
                    },
                    listens.join(", "),
                    cfg.user_of(s.server).name
                ),
            ));
        }
        out.finding(sites);

        let mut roots = distinct_roots(&cfg);
        // `root /var/www/$host;` names many roots, known only per request.
        roots.retain(|dir, (_, at)| {
            let templated = dir.contains('$');
            if templated {
                out.skip(format!(
                    "web root {dir} ({at}) depends on the request; not walked"
                ));
            }
            !templated
        });
        let mut budget = scripts::Budget::default();
        for (dir, (server, at)) in &roots {
            let user = cfg.user_of(*server);
            let Some(who) = resolve_user(ctx, &user.name) else {
                out.error(
                    user.at.clone(),
                    format!(
                        "web server user {:?} ({}) is not in /etc/passwd",
                        user.name, user.at
                    ),
                );
                continue;
            };
            let scan = scan_root(&ctx.host, dir, &who);
            for (s, m) in &scan.errors {
                out.error(s.clone(), m.clone());
            }
            if scan.missing {
                out.skip(format!("web root {dir} ({at}) does not exist"));
            }
            if scan.truncated {
                out.skip(format!(
                    "{dir}: more than {MAX_ENTRIES} entries; the rest was not checked"
                ));
            }
            if !scan.exposed.is_empty() {
                let mut action = format!("webroot-readonly root={dir} user={}", who.name);
                if !scan.upload_dirs.is_empty() {
                    action.push_str(" writable=");
                    action.push_str(&scan.upload_dirs.iter().cloned().collect::<Vec<_>>().join(","));
                }
                let mut f = Finding::new(
                    "web.root-writable",
                    Severity::High,
                    Step::WebRoot,
                    format!(
                        "{} entries of web root {dir} are owned by or writable by the web server user {}",
                        scan.exposed.len(),
                        who.name
                    ),
                )
                .remedy(format!(
                    "A script running as {} (a webshell, a plugin bug) can rewrite this site. Make the \
                     root owned by root or a deploy user and read-only for {}; keep only upload \
                     directories writable. (Web root from {at}; user from {}.)",
                    who.name, who.name, user.at
                ))
                .action(action);
                for (p, why) in scan.exposed.iter().take(MAX_EVIDENCE) {
                    f = f.evidence(Evidence::file(p.clone(), None, why.clone()));
                }
                if scan.exposed.len() > MAX_EVIDENCE {
                    f = f.evidence(Evidence::at(
                        dir.clone(),
                        format!("… and {} more", scan.exposed.len() - MAX_EVIDENCE),
                    ));
                }
                out.finding(f);
            }
            if !scan.scripts_in_uploads.is_empty() {
                let mut f = Finding::new(
                    "web.script-in-uploads",
                    Severity::High,
                    Step::WebRoot,
                    format!(
                        "{} scripts in upload directories of {dir}",
                        scan.scripts_in_uploads.len()
                    ),
                )
                .remedy(
                    "Uploads are data, never code: a script there is how webshells are planted. Check \
                     them with `rampart scan`, quarantine the bad ones, and deny script execution in \
                     upload directories in the web server config.",
                );
                for (p, d) in scan.scripts_in_uploads.iter().take(MAX_EVIDENCE) {
                    f = f.evidence(Evidence::file(p.clone(), None, d.clone()));
                }
                out.finding(f);
            }
            for (path, size) in &scan.scripts {
                if let Some(w) = budget.analyze(path, *size) {
                    out.finding(webshell_finding(&ctx.host.host_path_of(&w.path), &w));
                }
            }
        }
        for (path, e) in &budget.errors {
            let hp = ctx.host.host_path_of(path);
            out.error(hp.clone(), format!("{hp}: not analyzed: {e}"));
        }
        for s in budget.skipped() {
            out.skip(s);
        }

        let probe = match self.probe {
            ProbeMode::Always => true,
            ProbeMode::Never => false,
            ProbeMode::Live => ctx.host.is_live() && !ctx.options.no_probe,
        };
        if probe {
            probe_sites(&cfg.sites, out);
        } else if self.probe == ProbeMode::Live {
            out.skip(if ctx.host.is_live() {
                "admin paths not probed (--no-probe)"
            } else {
                "admin paths are probed only on the running system"
            });
        }
    }
}

/// Each configured web root once, with the server that serves it and where it was
/// configured; a root inside another root is walked with it.
fn distinct_roots(cfg: &WebConfig) -> BTreeMap<String, (Server, String)> {
    let mut roots: BTreeMap<String, (Server, String)> = BTreeMap::new();
    for s in &cfg.sites {
        for r in &s.roots {
            roots.entry(r.dir.clone()).or_insert((s.server, r.at.clone()));
        }
    }
    let all: Vec<String> = roots.keys().cloned().collect();
    roots.retain(|dir, _| !all.iter().any(|o| o != dir && dir.starts_with(&format!("{o}/"))));
    roots
}

/// The web roots the nginx and Apache configurations of `host` name (host paths, one
/// per tree, request-dependent `$host` roots left out). `rampart scan` scans these by default.
pub fn web_roots(host: &HostRoot) -> Vec<String> {
    distinct_roots(&WebConfig::load(host))
        .into_keys()
        .filter(|d| !d.contains('$'))
        .collect()
}

fn webshell_finding(host_path: &str, w: &scripts::Webshell) -> Finding {
    let mut f = Finding::new(
        "web.webshell",
        Severity::Critical,
        Step::Malware,
        format!("Webshell in a web root: {host_path} (analyzer score {})", w.score),
    )
    .remedy(
        "Take it out of service now (`rampart scan --quarantine PATH` moves it into a restorable \
         store), find how it got there (web server logs around its mtime, the upload path, the \
         plugin it sits in), rotate the site's credentials and restore the site from a known-good copy.",
    );
    for r in &w.reasons {
        let line = (r.layer == 0 && r.line > 0).then_some(r.line as u64);
        let layer = if r.layer > 0 {
            format!(" [decoded layer {}, line {}]", r.layer, r.line)
        } else {
            String::new()
        };
        f = f.evidence(Evidence::file(
            host_path.to_string(),
            line,
            format!("{} (+{}): {}{layer}", r.signal, r.weight, r.detail),
        ));
    }
    f
}

fn resolve_user(ctx: &Context, name: &str) -> Option<Who> {
    let acc = ctx.accounts();
    let p = acc.user(name)?;
    let mut gids = vec![p.gid];
    for g in &acc.group {
        if g.members.iter().any(|m| m == name) && !gids.contains(&g.gid) {
            gids.push(g.gid);
        }
    }
    Some(Who {
        name: name.to_string(),
        uid: p.uid,
        gids,
    })
}

/// What one site answered for the admin paths.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Answer {
    pub url: String,
    pub host: String,
    pub status: u16,
}

/// Probes `ADMIN_PATHS` on `addr` with `Host: host`. A path counts when it answers with
/// something other than 404/410 and other than what a path that cannot exist gets (a
/// catch-all site answers everything alike).
pub fn probe_admin_paths(
    addr: SocketAddr,
    host: &str,
    t: Timeouts,
) -> Result<Vec<Answer>, http_probe::ProbeError> {
    let baseline = http_probe::get_status(addr, host, "/rampart-probe-does-not-exist-7f3a9c", t)?;
    let mut out = Vec::new();
    for path in ADMIN_PATHS {
        // A server that stops answering is not waited for again and again.
        let Ok(status) = http_probe::get_status(addr, host, path, t) else {
            break;
        };
        if status == 404 || status == 410 || status == baseline {
            continue;
        }
        out.push(Answer {
            url: format!("http://{addr}{path}"),
            host: host.to_string(),
            status,
        });
    }
    Ok(out)
}

fn probe_sites(sites: &[Site], out: &mut Out) {
    let mut jobs: Vec<(SocketAddr, String, &Site)> = sites
        .iter()
        .flat_map(|s| s.probe_targets().into_iter().map(move |a| (a, s.host_name(), s)))
        .collect();
    jobs.dedup_by(|a, b| a.0 == b.0 && a.1 == b.1);
    if jobs.len() > MAX_PROBED_SITES {
        out.skip(format!(
            "{} site listeners; admin paths probed on the first {MAX_PROBED_SITES} only",
            jobs.len()
        ));
        jobs.truncate(MAX_PROBED_SITES);
    }
    let results: Vec<_> = std::thread::scope(|scope| {
        let handles: Vec<_> = jobs
            .iter()
            .map(|(addr, host, _)| scope.spawn(move || probe_admin_paths(*addr, host, Timeouts::default())))
            .collect();
        handles.into_iter().map(|h| h.join()).collect()
    });
    for ((addr, host, site), res) in jobs.iter().zip(results) {
        match res {
            Ok(Ok(answers)) if !answers.is_empty() => {
                let mut f = Finding::new(
                    "web.admin-path",
                    Severity::Medium,
                    Step::WebRoot,
                    format!("{} admin paths answer on site {host} ({addr})", answers.len()),
                )
                .remedy(
                    "Hide the admin area: allow it only from administrators' addresses in the web \
                     server config (nginx `allow`/`deny`, Apache `Require ip`), move it to an \
                     unguessable path, or put it behind `rampart waf`.",
                );
                for a in answers {
                    f = f.evidence(Evidence::at(
                        format!("{} (Host: {})", a.url, a.host),
                        format!("HTTP {} (site defined at {})", a.status, site.at),
                    ));
                }
                out.finding(f);
            }
            Ok(Ok(_)) => {}
            // The server is down or not HTTP on that port: nothing answers there.
            Ok(Err(e)) => out.skip(format!("admin paths of {host} not probed: {e}")),
            Err(_) => out.error(addr.to_string(), "admin path probe crashed"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scripts() {
        assert!(is_script("shell.php"));
        assert!(is_script("x.PhTmL"));
        assert!(is_script("cat.php.jpg"));
        assert!(is_script("run.cgi"));
        assert!(!is_script("photo.jpg"));
        assert!(!is_script("php"));
    }
}
