//! `rampart guard`: the protection daemon, `--replay FILE`, and `guard status`.

use anyhow::Context as _;
use rampart_guard::config::Config;
use rampart_guard::daemon::{Daemon, Options};
use rampart_guard::events;
use rampart_guard::replay;
use rampart_guard::status::Status;
use std::io::Write;
use std::path::PathBuf;

#[derive(clap::Args)]
#[command(args_conflicts_with_subcommands = true)]
pub struct Args {
    #[command(subcommand)]
    command: Option<Sub>,
    /// Configuration file (default /etc/rampart/rampart.toml; never the working directory).
    #[arg(long, value_name = "FILE")]
    config: Option<PathBuf>,
    /// Process FILE as fast as possible with the times written in it, print the ban
    /// decisions and counters, and exit.
    #[arg(long, value_name = "FILE")]
    replay: Option<PathBuf>,
    /// With --replay: JSON lines (ban events, then a summary).
    #[arg(long, requires = "replay")]
    json: bool,
    /// With --replay: also apply the decided bans (nft and the database), for their
    /// full time from now.
    #[arg(long, requires = "replay")]
    enforce: bool,
    /// Write ban/unban events as JSON lines to FILE (`-`: standard output).
    #[arg(long, value_name = "FILE")]
    json_events: Option<PathBuf>,
    /// Read followed files from their start instead of their end.
    #[arg(long)]
    from_beginning: bool,
    /// Decide and report bans without changing the firewall or the database.
    #[arg(long)]
    dry_run: bool,
}

#[derive(clap::Subcommand)]
enum Sub {
    /// Counters of the running daemon (lines read, parsed, failures, bans).
    Status {
        #[arg(long, value_name = "FILE")]
        config: Option<PathBuf>,
        #[arg(long)]
        json: bool,
    },
}

pub fn run(args: Args) -> anyhow::Result<i32> {
    if let Some(Sub::Status { config, json }) = args.command {
        return status(config, json);
    }
    let mut cfg = Config::load(args.config.as_deref())?.guard;
    if args.from_beginning {
        cfg.from_beginning = true;
    }
    if args.dry_run {
        cfg.dry_run = true;
    }
    if let Some(file) = &args.replay {
        return run_replay(file, cfg, args.json, args.enforce);
    }
    let events: Option<Box<dyn Write + Send>> = match args.json_events.as_ref().or(cfg.events_file.as_ref()) {
        None => None,
        Some(p) if p.as_os_str() == "-" => Some(Box::new(std::io::stdout())),
        Some(p) => Some(Box::new(
            std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(p)
                .with_context(|| format!("--json-events {}", p.display()))?,
        )),
    };
    let mut opts = Options::new(cfg);
    opts.events = events;
    let daemon = Daemon::new(opts).context("starting guard")?;
    let stop = daemon.stop_handle();
    for sig in [signal_hook::consts::SIGTERM, signal_hook::consts::SIGINT] {
        signal_hook::flag::register(sig, stop.flag()).context("installing signal handlers")?;
    }
    // The flag alone is seen within one tick; a watcher thread makes shutdown immediate.
    let s2 = stop.clone();
    std::thread::spawn(move || {
        let flag = s2.flag();
        while !flag.load(std::sync::atomic::Ordering::SeqCst) {
            std::thread::sleep(std::time::Duration::from_millis(50));
        }
        s2.stop();
    });
    tracing::info!("Guarding.");
    daemon.run()?;
    Ok(0)
}

fn run_replay(
    file: &std::path::Path,
    cfg: rampart_guard::config::GuardConfig,
    json: bool,
    enforce: bool,
) -> anyhow::Result<i32> {
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());
    let mut decisions = Vec::new();
    let source = file.display().to_string();
    let own = rampart_guard::daemon::own_addresses();
    let report = replay::replay(file, &cfg, &own, |d| {
        if json {
            let _ = serde_json::to_writer(&mut out, &events::ban(d, &source));
            let _ = out.write_all(b"\n");
        } else {
            let _ = writeln!(out, "{}", events::ban_text(d));
        }
        if enforce {
            decisions.push(d.clone());
        }
    })?;
    let secs = report.elapsed.as_secs_f64().max(1e-9);
    let rate = report.counters.lines as f64 / secs;
    if json {
        let mut v = serde_json::to_value(&report)?;
        v["type"] = "summary".into();
        v["lines_per_sec"] = serde_json::json!(rate.round());
        serde_json::to_writer(&mut out, &v)?;
        out.write_all(b"\n")?;
    } else {
        let c = &report.counters;
        writeln!(
            out,
            "{} lines in {:.3} s ({:.0} lines/s): {} parsed, {} failures, {} successes, {} unparsed \
             ({} too long, {} NUL, {} bad address, {} ambiguous, {} unrecognised), {} without address; {} bans.",
            c.lines,
            secs,
            rate,
            c.parsed,
            c.failures,
            c.successes,
            c.unparsed,
            c.too_long,
            c.nul_bytes,
            c.bad_address,
            c.ambiguous,
            c.unrecognised,
            c.no_address,
            c.bans
        )?;
    }
    out.flush()?;
    if enforce && !decisions.is_empty() {
        let store = rampart_store::Store::open(&cfg.db)?;
        rampart_guard::daemon::apply_decisions(&store, nft_of(&cfg).as_ref(), &decisions)?;
    }
    Ok(0)
}

pub fn nft_of(cfg: &rampart_guard::config::GuardConfig) -> Option<rampart_nft::Nft> {
    if cfg.dry_run {
        return None;
    }
    Some(match &cfg.netns {
        Some(ns) => rampart_nft::Nft::in_netns(ns.clone()),
        None => rampart_nft::Nft::new(),
    })
}

fn status(config: Option<PathBuf>, json: bool) -> anyhow::Result<i32> {
    let cfg = Config::load(config.as_deref())?.guard;
    let st = Status::read(&cfg.status_file)
        .with_context(|| format!("{} (is `rampart guard` running?)", cfg.status_file.display()))?;
    let age = rampart_guard::engine::unix_now() - st.updated;
    let running = age <= 5 && std::path::Path::new(&format!("/proc/{}", st.pid)).exists();
    if json {
        let mut v = serde_json::to_value(&st)?;
        v["running"] = running.into();
        println!("{v}");
    } else {
        let c = &st.counters;
        println!(
            "rampart guard: {} (pid {}, status {} s old)",
            if running { "running" } else { "NOT running" },
            st.pid,
            age
        );
        println!(
            "lines {}  parsed {}  failures {}  successes {}  unparsed {}  bans {}  active bans {}",
            c.lines, c.parsed, c.failures, c.successes, c.unparsed, c.bans, st.active_bans
        );
        for s in &st.sources {
            println!(
                "  {} {} offset {} rotations {} truncations {}{}",
                if s.open { "following" } else { "waiting for" },
                s.path,
                s.offset,
                s.rotations,
                s.truncations,
                s.error.as_deref().map(|e| format!(" ({e})")).unwrap_or_default()
            );
        }
        if st.journal {
            println!("  following the systemd journal");
        }
        if st.enforce_errors > 0 {
            println!(
                "  {} nft errors, last: {}",
                st.enforce_errors,
                st.last_enforce_error.as_deref().unwrap_or("")
            );
        }
    }
    Ok(if running { 0 } else { 2 })
}
