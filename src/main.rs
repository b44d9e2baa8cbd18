//! `rampart`: the one binary. It parses flags, calls the library crates and prints;
//! every capability lives in a crate under `crates/`.

use clap::{Parser, Subcommand};
use std::process::ExitCode;

mod cli;

/// jemalloc instead of glibc's malloc: the WAF proxy allocates and frees many small buffers
/// per request on every worker thread, where jemalloc costs 7–15 % less CPU per proxied
/// request (bench/waf/README.md), and a rule reload frees a whole compiled rule set, which
/// jemalloc's background thread hands back to the kernel (glibc kept part of it).
#[global_allocator]
static GLOBAL: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

#[derive(Parser)]
#[command(
    name = "rampart",
    version,
    about = "Find, fix and stop break-ins on a Linux server.",
    long_about = "Rampart follows the hacked-server playbook: `triage` finds, `respond` fixes \
                  (planned first, always undoable), `scan` finds webshells and malware, `guard` \
                  protects, `waf` filters web traffic."
)]
struct Cli {
    /// More log output on stderr (repeat for more).
    #[arg(short, long, action = clap::ArgAction::Count, global = true)]
    verbose: u8,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Read-only check of this host (or of a disk image with --root) against the playbook.
    Triage(cli::triage::Args),
    /// Fix what triage found: plan (the default), apply, undo, log, confirm.
    Respond(cli::respond::Args),
    /// Passwords: `check` rates one (read from stdin) against the playbook's policy;
    /// `rotate` gives accounts strong generated ones.
    Passwd(cli::passwd::Args),
    /// Find webshells and malware in web roots and temporary directories (or PATHs);
    /// `--quarantine` moves detections into a restorable store, `--watch` keeps watching.
    Scan(cli::scan::Args),
    /// The quarantine store: list, restore or purge quarantined files.
    Quarantine(cli::quarantine::Args),
    /// Host password-cracking defense: follow auth logs, ban brute-force sources in nftables.
    Guard(cli::guard::Args),
    /// Bans of `rampart guard`: list, add, del.
    Bans(cli::bans::Args),
    /// Web application firewall: reverse proxy running ModSecurity SecLang rules (OWASP CRS).
    Waf(cli::waf::Args),
    /// The configuration file: `check` validates it.
    Config(cli::config::Args),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    init_logging(cli.verbose);
    if matches!(cli.command, Command::Waf(_) | Command::Guard(_)) {
        // Long-running: freed memory goes back to the kernel after a few seconds even
        // while the process is idle.
        if let Err(e) = tikv_jemalloc_ctl::background_thread::write(true) {
            tracing::debug!("jemalloc background thread not started: {e}");
        }
    }
    let code = match cli.command {
        Command::Triage(args) => cli::triage::run(args),
        Command::Respond(args) => cli::respond::run(args),
        Command::Passwd(args) => cli::passwd::run(args),
        Command::Scan(args) => cli::scan::run(args),
        Command::Quarantine(args) => cli::quarantine::run(args),
        Command::Guard(args) => cli::guard::run(args),
        Command::Bans(args) => cli::bans::run(args),
        Command::Waf(args) => cli::waf::run(args),
        Command::Config(args) => cli::config::run(args),
    };
    match code {
        Ok(code) => ExitCode::from(code as u8),
        Err(e) => {
            eprintln!("rampart: {e:#}");
            ExitCode::from(rampart_core::report::exit::ERROR as u8)
        }
    }
}

fn init_logging(verbose: u8) {
    let level = match verbose {
        0 => "warn",
        1 => "info",
        2 => "debug",
        _ => "trace",
    };
    let filter = tracing_subscriber::EnvFilter::try_from_env("RAMPART_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(level));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .init();
}
