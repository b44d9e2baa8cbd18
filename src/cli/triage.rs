//! `rampart triage`.

use super::output::print_report;
use anyhow::Context as _;
use rampart_core::{HostRoot, Severity};
use rampart_triage::{checks, Context, Options};
use std::path::PathBuf;

#[derive(clap::Args)]
pub struct Args {
    /// Check the root file system mounted at DIR (a disk image or a copy) instead of
    /// this host; checks that need the running system are listed as skipped.
    #[arg(long, value_name = "DIR")]
    root: Option<PathBuf>,
    /// JSON lines: one finding, error or skipped check per line, then a summary.
    #[arg(long)]
    json: bool,
    /// Exit 1 when a finding at or above this severity is found.
    #[arg(long, value_name = "SEVERITY", default_value = "high")]
    fail_on: Severity,
    /// Slower and complete: verify every file of every installed package (not only the
    /// binaries rootkits replace) and search all of /home and /root for SUID files (not
    /// only five levels deep).
    #[arg(long)]
    deep: bool,
    /// Do not probe the local web server for admin paths.
    #[arg(long)]
    no_probe: bool,
    /// Run only these check families (comma-separated: network,firewall,…); for benchmarks.
    #[arg(long, value_name = "CHECKS", value_delimiter = ',', hide = true)]
    only: Vec<String>,
}

pub fn run(args: Args) -> anyhow::Result<i32> {
    let host = match &args.root {
        Some(dir) => HostRoot::at(dir).with_context(|| format!("--root {}", dir.display()))?,
        None => HostRoot::live(),
    };
    let title = if host.is_live() {
        format!("Rampart triage of {} (live)", hostname())
    } else {
        format!(
            "Rampart triage of the root file system at {}",
            host.root_dir().display()
        )
    };
    let ctx = Context::new(
        host,
        Options {
            deep_integrity: args.deep,
            no_probe: args.no_probe,
            recent_days: None,
        },
    );
    let mut selected = checks::all();
    if !args.only.is_empty() {
        let known: Vec<&str> = selected.iter().map(|c| c.name()).collect();
        if let Some(bad) = args.only.iter().find(|n| !known.contains(&n.as_str())) {
            anyhow::bail!("--only: unknown check {bad:?} (known: {})", known.join(", "));
        }
        selected.retain(|c| args.only.iter().any(|n| n == c.name()));
    }
    let mut report = rampart_triage::run(&ctx, &selected);
    if !ctx.is_root {
        report.skipped.push(rampart_core::Skipped {
            check: "triage".into(),
            reason: "not running as root: shadow passwords, other users' processes and the firewall \
                     ruleset cannot be read; run with sudo for the full picture"
                .into(),
        });
    }
    print_report(&report, &title, args.json, args.fail_on)
}

fn hostname() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|s| s.trim().to_string())
        .unwrap_or_else(|_| "this host".into())
}
