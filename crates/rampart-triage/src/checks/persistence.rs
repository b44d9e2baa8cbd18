//! What starts at boot or login: crontabs, systemd units and timers, rc.local,
//! /etc/ld.so.preload, shell start-up files, and SUID/SGID files no package installed.
//!
//! The SUID walk is the slow part (every inode under /usr, /home, /root…), so it runs on
//! worker threads while the configuration files are read.

mod at;
mod cron;
mod loader;
mod pam;
mod startup;
mod suid;
mod systemd;

use crate::context::{Context, Out};
use crate::dpkg::Dpkg;
use crate::runner::Check;
use rampart_core::{Evidence, Finding, Severity, Step};

pub struct Persistence;

/// Bytes read of one crontab, unit, script or shell start-up file.
const FILE_LIMIT: u64 = 1024 * 1024;
/// Characters of a command shown in evidence.
const SHOWN_COMMAND: usize = 240;

impl Check for Persistence {
    fn name(&self) -> &'static str {
        "persistence"
    }

    fn run(&self, ctx: &Context, out: &mut Out) {
        let dpkg = match ctx.dpkg() {
            Ok(d) => Some(d),
            Err(e) => {
                out.skip(format!(
                    "no dpkg database ({e}): cron files, units and SUID files not compared with packages"
                ));
                None
            }
        };
        std::thread::scope(|s| {
            let walk = s.spawn(|| suid::walk(ctx));
            if let Some(d) = &dpkg {
                // Load the file lists now, while the walk runs.
                let _ = d.owner_of("/");
            }
            let owners = Owners(dpkg);
            startup::check(ctx, out);
            loader::check(ctx, out);
            cron::check(ctx, &owners, out);
            at::check(ctx, out);
            pam::check(ctx, &owners, out);
            for (dir, kind) in BOOT_SCRIPTS {
                cron::scripts_in(ctx, &owners, dir, kind, out);
            }
            systemd::check(ctx, &owners, out);
            match walk.join() {
                Ok(w) => suid::report(ctx, w, &owners, out),
                Err(_) => out.error("SUID search", "the SUID search crashed; this is a bug in Rampart"),
            }
        });
    }
}

/// Script directories that run as root at boot or at every login.
const BOOT_SCRIPTS: &[(&str, &cron::ScriptKind)] = &[
    (
        "/etc/init.d",
        &cron::ScriptKind {
            suspicious: "persistence.initd-suspicious",
            binary: "persistence.initd-binary",
            unowned: "persistence.initd-unowned",
            label: "Init script",
        },
    ),
    (
        "/etc/update-motd.d",
        &cron::ScriptKind {
            suspicious: "persistence.motd-suspicious",
            binary: "persistence.motd-binary",
            unowned: "persistence.motd-unowned",
            label: "Login (motd) script",
        },
    ),
];

/// Package ownership of files, when the host has a dpkg database.
pub(crate) struct Owners<'a>(Option<&'a Dpkg>);

impl Owners<'_> {
    /// None: no dpkg database; Some(None): no package ships it.
    fn owner(&self, path: &str) -> Option<Option<&str>> {
        self.0.map(|d| d.owner_of(path))
    }

    fn known(&self) -> bool {
        self.0.is_some()
    }
}

/// The entries of a directory. A missing directory is empty; one that needs root is a
/// skip saying which `things` were not read; any other failure is a counted error.
fn entries(ctx: &Context, dir: &str, things: &str, out: &mut Out) -> Vec<rampart_core::host::DirEntry> {
    match ctx.host.read_dir_opt(dir) {
        Ok(v) => v,
        Err(e) if e.is_permission_denied() && !ctx.is_root => {
            out.skip(format!("{dir} needs root: the {things} in it were not read"));
            Vec::new()
        }
        Err(e) => {
            out.host_error(&e);
            Vec::new()
        }
    }
}

/// A file's bytes (up to [`FILE_LIMIT`]). A missing file is None; one that needs root is
/// a skip; any other failure is a counted error.
fn read(ctx: &Context, path: &str, out: &mut Out) -> Option<Vec<u8>> {
    match ctx.host.read_limited(path, FILE_LIMIT) {
        Ok(b) => Some(b),
        Err(e) if e.is_not_found() => None,
        Err(e) if e.is_permission_denied() && !ctx.is_root => {
            out.skip(format!("{path} needs root: not read"));
            None
        }
        Err(e) => {
            out.host_error(&e);
            None
        }
    }
}

/// A command as shown in evidence: control characters replaced, long ones cut.
fn show(cmd: &str) -> String {
    let s = rampart_core::render::sanitize(cmd.trim());
    if s.chars().count() > SHOWN_COMMAND {
        let cut: String = s.chars().take(SHOWN_COMMAND).collect();
        format!("{cut}…")
    } else {
        s
    }
}

/// True when the bytes are not text (a NUL, or mostly non-printable).
fn is_binary(bytes: &[u8]) -> bool {
    let sample = &bytes[..bytes.len().min(4096)];
    if sample.contains(&0) {
        return true;
    }
    let text = String::from_utf8_lossy(sample);
    let odd = text
        .chars()
        .filter(|c| (c.is_control() && !matches!(c, '\n' | '\t' | '\r')) || *c == '\u{fffd}')
        .count();
    odd * 10 > text.chars().count().max(1)
}

/// A finding for one suspicious command line.
fn suspicious_finding(
    id: &'static str,
    what: &str,
    path: &str,
    line: Option<u64>,
    cmd: &str,
    signals: &[crate::suspicious::Signal],
) -> Finding {
    let severity = crate::suspicious::worst(signals).unwrap_or(Severity::Medium);
    Finding::new(
        id,
        severity,
        Step::Persistence,
        format!("{what} looks planted: {}", crate::suspicious::describe(signals)),
    )
    .evidence(Evidence::file(path.to_string(), line, show(cmd)))
    .remedy(format!(
        "Find out who added this and what it fetched or ran (copy {path} for evidence first), then remove \
         it and look for the payload. Treat the host as compromised."
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn binary_detection() {
        assert!(is_binary(b"\x7fELF\x02\x01\x01\0\0\0"));
        assert!(!is_binary(b"* * * * * root /usr/bin/true\n"));
        assert!(is_binary(&[0xff, 0xfe, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07]));
    }

    #[test]
    fn long_commands_are_cut() {
        let s = show(&"a".repeat(1000));
        assert_eq!(s.chars().count(), SHOWN_COMMAND + 1);
        assert_eq!(show("x\u{1b}[2Jy"), "x?[2Jy");
    }
}
