//! Files of installed Debian packages that no longer match dpkg's md5sums. By default only
//! the binaries and libraries rootkits replace (ps, ls, ss, netstat, login, sshd, sudo,
//! PAM modules, libc, libkeyutils…), which keeps triage fast; with `--deep` every file of
//! every package, in parallel.

use crate::context::{Context, Out};
use crate::dpkg::{Dpkg, DpkgError, Md5Entry};
use crate::runner::Check;
use md5::{Digest, Md5};
use rampart_core::{Evidence, Finding, HostRoot, Severity, Step};
use std::collections::{HashMap, HashSet};
use std::fs::OpenOptions;
use std::io::Read;
use std::os::unix::fs::OpenOptionsExt;

pub struct Integrity;

/// Evidence kept per package; a package with thousands of changed files needs
/// reinstalling, not a thousand-line report.
const MAX_EVIDENCE: usize = 50;

pub const DIVERSIONS: &str = "/var/lib/dpkg/diversions";

/// Programs rootkits and trojans replace to hide themselves or to steal logins.
const TARGET_PROGRAMS: &[&str] = &[
    "ps",
    "ls",
    "ss",
    "netstat",
    "login",
    "sshd",
    "ssh",
    "scp",
    "sudo",
    "su",
    "top",
    "htop",
    "find",
    "lsof",
    "passwd",
    "chsh",
    "chfn",
    "crontab",
    "cron",
    "systemctl",
    "systemd",
    "bash",
    "sh",
    "dash",
    "w",
    "who",
    "last",
    "lastlog",
    "pstree",
    "pidof",
    "pgrep",
    "pkill",
    "kill",
    "killall",
    "ifconfig",
    "ip",
    "route",
    "grep",
    "egrep",
    "du",
    "df",
    "stat",
    "md5sum",
    "sha256sum",
    "dpkg",
    "dpkg-query",
    "debsums",
    "id",
    "rsyslogd",
    "mount",
    "tar",
    "which",
    "strings",
    "dmesg",
    "uname",
    "insmod",
    "modprobe",
    "lsmod",
    "rmmod",
    "init",
    "useradd",
    "usermod",
    "chpasswd",
    "nologin",
    "agetty",
    "getty",
    "vdir",
    "dir",
    "watch",
    "vmstat",
    "tcpdump",
    "iptables",
    "nft",
    "curl",
    "wget",
    "env",
    "nice",
    "crond",
    "atd",
    "sshd-session",
];

const BIN_DIRS: &[&str] = &["/bin/", "/sbin/", "/usr/bin/", "/usr/sbin/", "/usr/lib/openssh/"];

/// Libraries preloaded into every login or process (Ebury replaces libkeyutils).
const TARGET_LIBS: &[&str] = &[
    "libc.so",
    "ld-linux",
    "libkeyutils.so",
    "libpam.so",
    "libpam_misc.so",
    "libcrypt.so",
    "libproc2.so",
    "libprocps.so",
    "libaudit.so",
    "libselinux.so",
    "libsystemd.so",
    "libutil.so",
    "libdl.so",
    "libpthread.so",
    "libnss_files.so",
    "libresolv.so",
    "libssl.so",
    "libcrypto.so",
    "liblzma.so",
];

/// Whether `path` is something rootkits replace.
pub fn is_rootkit_target(path: &str) -> bool {
    let name = path.rsplit('/').next().unwrap_or(path);
    if BIN_DIRS
        .iter()
        .any(|d| path.strip_prefix(d).is_some_and(|rest| !rest.contains('/')))
        && TARGET_PROGRAMS.contains(&name)
    {
        return true;
    }
    let in_lib = path.starts_with("/lib") || path.starts_with("/usr/lib");
    if in_lib && path.contains("/security/") && name.ends_with(".so") {
        return true; // PAM modules
    }
    in_lib && TARGET_LIBS.iter().any(|l| name.starts_with(l))
}

/// One file to verify, with where dpkg's expectation came from.
struct Job<'a> {
    package: &'a str,
    version: &'a str,
    sums_file: String,
    entry: Md5Entry,
    /// Where the file really is (a diverted file lives elsewhere).
    actual_path: String,
    critical: bool,
}

enum Verdict {
    Ok,
    Changed { md5: [u8; 16] },
    Symlink { target: String },
    NotRegular,
    Missing,
    Unreadable(String),
}

impl Check for Integrity {
    fn name(&self) -> &'static str {
        "integrity"
    }

    fn run(&self, ctx: &Context, out: &mut Out) {
        let Some(dpkg) = ctx.dpkg_or_report(out) else {
            return;
        };
        for e in dpkg.errors() {
            out.error(e.subject(), e.to_string());
        }
        let deep = ctx.options.deep_integrity;
        let diversions = read_diversions(&ctx.host, out);
        let conffiles: HashSet<&str> = dpkg
            .packages()
            .iter()
            .flat_map(|p| p.conffiles.iter().map(|(c, _)| c.as_str()))
            .collect();

        let mut seen_pkgs = HashSet::new();
        let pkgs: Vec<&crate::dpkg::Package> = dpkg
            .packages()
            .iter()
            .filter(|p| seen_pkgs.insert((p.name.as_str(), p.architecture.as_str())))
            .collect();
        // Reading ~800 md5sums files is a good part of the time: spread it over the cores.
        let threads = std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(1)
            .clamp(1, 8);
        let chunk = pkgs.len().div_ceil(threads).max(1);
        let parts: Vec<(Vec<Job>, Vec<DpkgError>)> = std::thread::scope(|s| {
            let handles: Vec<_> = pkgs
                .chunks(chunk)
                .map(|c| {
                    let (dpkg, diversions, conffiles) = (&dpkg, &diversions, &conffiles);
                    s.spawn(move || collect_jobs(dpkg, c, diversions, conffiles, deep))
                })
                .collect();
            handles
                .into_iter()
                .map(|h| h.join().unwrap_or_default())
                .collect()
        });
        let mut jobs = Vec::new();
        for (j, errors) in parts {
            jobs.extend(j);
            for e in errors {
                out.error(e.subject(), e.to_string());
            }
        }

        let verdicts = verify_all(&ctx.host, &jobs);
        let mut changed_by_pkg: HashMap<&str, Vec<Evidence>> = HashMap::new();
        let mut checked = 0usize;
        for (job, verdict) in jobs.iter().zip(verdicts) {
            let source = format!("{}:{}", job.sums_file, job.entry.line);
            let expected = hex(&job.entry.md5);
            let problem = match verdict {
                Verdict::Ok => {
                    checked += 1;
                    continue;
                }
                Verdict::Changed { md5 } => format!(
                    "md5 {} but package {} {} installed {expected} ({source})",
                    hex(&md5),
                    job.package,
                    job.version
                ),
                Verdict::Symlink { target } => format!(
                    "replaced by a symbolic link to {target}; package {} {} installed a file ({source})",
                    job.package, job.version
                ),
                Verdict::NotRegular => format!(
                    "no longer a regular file; package {} {} installed one ({source})",
                    job.package, job.version
                ),
                Verdict::Missing => {
                    if job.critical {
                        out.finding(
                            Finding::new(
                                "integrity.missing",
                                Severity::Medium,
                                Step::Malware,
                                format!("{} from package {} is missing", job.entry.path, job.package),
                            )
                            .evidence(Evidence::file(
                                job.actual_path.clone(),
                                None,
                                format!("listed in {source}, not on disk"),
                            ))
                            .remedy(format!(
                                "Reinstall it: apt-get install --reinstall {}",
                                job.package
                            )),
                        );
                    }
                    // Docker-style images drop docs and man pages on purpose; only
                    // system binaries missing are worth a finding.
                    continue;
                }
                Verdict::Unreadable(msg) => {
                    out.error(job.actual_path.clone(), msg);
                    continue;
                }
            };
            checked += 1;
            let ev = Evidence::file(job.actual_path.clone(), None, problem);
            if job.critical {
                out.finding(
                    Finding::new(
                        "integrity.rootkit-target",
                        Severity::Critical,
                        Step::Malware,
                        format!(
                            "{} differs from package {}: replaced by a rootkit or trojan?",
                            job.actual_path, job.package
                        ),
                    )
                    .evidence(ev)
                    .remedy(format!(
                        "Do not trust this program's output. Keep a copy of the file for analysis, then \
                         reinstall the package from a trusted mirror (apt-get install --reinstall {}) and \
                         verify with debsums. A replaced system binary means root was compromised: plan \
                         to rebuild the host.",
                        job.package
                    )),
                );
            } else {
                changed_by_pkg.entry(job.package).or_default().push(ev);
            }
        }
        let mut pkgs: Vec<_> = changed_by_pkg.into_iter().collect();
        pkgs.sort_by(|a, b| a.0.cmp(b.0));
        for (pkg, evidence) in pkgs {
            let mut f = Finding::new(
                "integrity.changed",
                Severity::High,
                Step::Malware,
                format!(
                    "{} file(s) of package {pkg} changed since installation",
                    evidence.len()
                ),
            )
            .remedy(format!(
                "Find out who changed them (compare with a clean copy, check mtimes), then reinstall: \
                 apt-get install --reinstall {pkg}"
            ));
            let total = evidence.len();
            f.evidence = evidence.into_iter().take(MAX_EVIDENCE).collect();
            if total > MAX_EVIDENCE {
                f.evidence.push(Evidence::at(
                    dpkg.info_path(pkg, "md5sums"),
                    format!(
                        "… and {} more changed files (debsums -c {pkg} lists them all)",
                        total - MAX_EVIDENCE
                    ),
                ));
            }
            out.finding(f);
        }
        if checked == 0 && !jobs.is_empty() {
            out.skip("no package file could be verified");
        }
        if deep {
            conffiles_changed(&ctx.host, dpkg, out);
        }
    }
}

/// Configuration files changed since their package installed them: normal local
/// configuration most of the time, so reported for review, not as tampering.
fn conffiles_changed(host: &HostRoot, dpkg: &Dpkg, out: &mut Out) {
    let mut ev = Vec::new();
    for p in dpkg.packages() {
        for (path, sum) in &p.conffiles {
            let Some(md5) = crate::dpkg::parse_hex16(sum.as_bytes()) else {
                continue;
            };
            if let Verdict::Changed { .. } | Verdict::Symlink { .. } = verify(host, path, &md5) {
                ev.push(Evidence::file(
                    path.clone(),
                    None,
                    format!("differs from what package {} {} installed", p.name, p.version),
                ));
            }
        }
    }
    if ev.is_empty() {
        return;
    }
    let total = ev.len();
    let mut f = Finding::new(
        "integrity.conffile-changed",
        Severity::Info,
        Step::Malware,
        format!("{total} package configuration files changed since installation"),
    )
    .remedy(
        "Usually local configuration. Review the ones you did not change (PAM, sudoers, cron, \
         sshd): compare with the package's version (apt-get download PKG; dpkg -x).",
    );
    f.evidence = ev.into_iter().take(MAX_EVIDENCE).collect();
    out.finding(f);
}

/// The files of `pkgs` to verify: rootkit targets, or everything when `deep`.
fn collect_jobs<'a>(
    dpkg: &Dpkg,
    pkgs: &[&'a crate::dpkg::Package],
    diversions: &HashMap<String, (String, String)>,
    conffiles: &HashSet<&str>,
    deep: bool,
) -> (Vec<Job<'a>>, Vec<DpkgError>) {
    let mut jobs = Vec::new();
    let mut errs = Vec::new();
    for p in pkgs {
        let sums_file = dpkg.info_path(&p.name, "md5sums");
        let (entries, errors) = match dpkg.md5sums(&p.name) {
            Ok(v) => v,
            Err(e) => {
                errs.push(e);
                continue;
            }
        };
        errs.extend(errors);
        for entry in entries {
            let critical = is_rootkit_target(&entry.path);
            if !(critical || deep) || conffiles.contains(entry.path.as_str()) {
                continue;
            }
            let actual_path = match diversions.get(entry.path.as_str()) {
                Some((to, by)) if by != &p.name => to.clone(),
                _ => entry.path.clone(),
            };
            jobs.push(Job {
                package: &p.name,
                version: &p.version,
                sums_file: sums_file.clone(),
                entry,
                actual_path,
                critical,
            });
        }
    }
    (jobs, errs)
}

fn verify_all(host: &HostRoot, jobs: &[Job]) -> Vec<Verdict> {
    let threads = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1)
        .min(8);
    if jobs.len() < 8 || threads == 1 {
        return jobs
            .iter()
            .map(|j| verify(host, &j.actual_path, &j.entry.md5))
            .collect();
    }
    let chunk = jobs.len().div_ceil(threads);
    std::thread::scope(|s| {
        let handles: Vec<_> = jobs
            .chunks(chunk)
            .map(|c| {
                s.spawn(move || {
                    c.iter()
                        .map(|j| verify(host, &j.actual_path, &j.entry.md5))
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        handles
            .into_iter()
            .flat_map(|h| h.join().unwrap_or_default())
            .collect()
    })
}

fn verify(host: &HostRoot, path: &str, expected: &[u8; 16]) -> Verdict {
    let local = match host.resolve_parent(path) {
        Ok(l) => l,
        Err(e) if e.is_not_found() => return Verdict::Missing,
        Err(e) => return Verdict::Unreadable(e.to_string()),
    };
    let md = match std::fs::symlink_metadata(&local) {
        Ok(m) => m,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Verdict::Missing,
        Err(e) => return Verdict::Unreadable(format!("{path}: {e}")),
    };
    if md.file_type().is_symlink() {
        let target = std::fs::read_link(&local)
            .map(|t| t.display().to_string())
            .unwrap_or_else(|_| "?".into());
        return Verdict::Symlink { target };
    }
    if !md.is_file() {
        return Verdict::NotRegular;
    }
    // O_NOFOLLOW: the file may be swapped for a link between the stat and the open.
    let file = OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NOFOLLOW | libc::O_NONBLOCK)
        .open(&local);
    let mut file = match file {
        Ok(f) => f,
        Err(e) => return Verdict::Unreadable(format!("{path}: {e}")),
    };
    let mut hasher = Md5::new();
    let mut buf = vec![0u8; 256 * 1024];
    loop {
        match file.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => hasher.update(&buf[..n]),
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Verdict::Unreadable(format!("{path}: {e}")),
        }
    }
    let md5: [u8; 16] = hasher.finalize().into();
    if &md5 == expected {
        Verdict::Ok
    } else {
        Verdict::Changed { md5 }
    }
}

/// `/var/lib/dpkg/diversions`: triplets of lines (path, diverted-to, diverting package).
fn read_diversions(host: &HostRoot, out: &mut Out) -> HashMap<String, (String, String)> {
    let text = match host.read_text_opt(DIVERSIONS) {
        Ok(Some(t)) => t,
        Ok(None) => return HashMap::new(),
        Err(e) => {
            out.host_error(&e);
            return HashMap::new();
        }
    };
    let lines: Vec<&str> = text.lines().collect();
    if lines.len() % 3 != 0 {
        out.error(
            DIVERSIONS,
            format!("{DIVERSIONS}: {} lines, expected groups of three", lines.len()),
        );
    }
    lines
        .chunks_exact(3)
        .map(|c| (c[0].to_string(), (c[1].to_string(), c[2].to_string())))
        .collect()
}

fn hex(b: &[u8; 16]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rootkit_targets() {
        assert!(is_rootkit_target("/bin/ps"));
        assert!(is_rootkit_target("/usr/sbin/sshd"));
        assert!(is_rootkit_target("/lib/x86_64-linux-gnu/security/pam_unix.so"));
        assert!(is_rootkit_target("/usr/lib/x86_64-linux-gnu/libkeyutils.so.1.10"));
        assert!(is_rootkit_target("/lib/x86_64-linux-gnu/libc.so.6"));
        assert!(!is_rootkit_target("/usr/share/doc/procps/ps"));
        assert!(!is_rootkit_target("/usr/bin/vim"));
    }
}
