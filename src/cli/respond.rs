//! `rampart respond`: plan (the default), apply, undo, log, confirm.

use anyhow::{bail, Context as _};
use rampart_respond::engine::{self, Which};
use rampart_respond::{ActionSpec, Env, Journal, Secret, Session};
use std::io::{BufRead, IsTerminal, Write};
use std::path::PathBuf;

#[derive(clap::Args)]
#[command(args_conflicts_with_subcommands = true)]
pub struct Args {
    #[command(subcommand)]
    command: Option<Sub>,
    /// Without a subcommand: the action to plan (`rampart respond account-lock user=toor`).
    #[arg(value_name = "ACTION [KEY=VALUE]...")]
    action: Vec<String>,
    #[command(flatten)]
    common: Common,
}

#[derive(clap::Args, Clone)]
pub struct Common {
    /// Journal directory (what was changed and how to undo it).
    #[arg(
        long,
        global = true,
        value_name = "DIR",
        default_value = "/var/lib/rampart/journal"
    )]
    journal: PathBuf,
    /// Act on the root file system at DIR (account tools get --prefix DIR).
    #[arg(long, global = true, value_name = "DIR")]
    root: Option<PathBuf>,
    /// Run firewall and socket steps inside this network namespace.
    #[arg(long, global = true, value_name = "NAME")]
    netns: Option<String>,
    #[arg(
        long,
        global = true,
        value_name = "FILE",
        default_value = "/etc/ssh/sshd_config"
    )]
    sshd_config: PathBuf,
    #[arg(long, global = true, value_name = "FILE", default_value = "/run/sshd.pid")]
    sshd_pid_file: PathBuf,
    /// Where kill-quarantine moves executables.
    #[arg(
        long,
        global = true,
        value_name = "DIR",
        default_value = "/var/lib/rampart/quarantine"
    )]
    quarantine_dir: PathBuf,
    /// Seconds a guarded change (firewall, SSH port) waits for `rampart respond confirm`
    /// before it rolls back by itself.
    #[arg(long, global = true, value_name = "SECS", default_value_t = 300)]
    timeout: u64,
    /// Do it even when it would lock out root, your own user or your own SSH session.
    #[arg(long, global = true)]
    force: bool,
}

#[derive(clap::Subcommand)]
enum Sub {
    /// Print what the action would change (changes nothing).
    Plan {
        #[arg(value_name = "ACTION [KEY=VALUE]...", required = true)]
        action: Vec<String>,
    },
    /// Apply an action (after showing the plan) or the fixes of chosen triage findings.
    Apply {
        #[arg(value_name = "ACTION [KEY=VALUE]...")]
        action: Vec<String>,
        /// Do not ask; required when stdin is not a terminal.
        #[arg(long)]
        yes: bool,
        /// Write generated passwords to FILE (created 0600) instead of printing them.
        #[arg(long, value_name = "FILE")]
        out: Option<PathBuf>,
        /// Run triage and apply the actions of chosen findings.
        #[arg(long, conflicts_with = "action")]
        from_triage: bool,
        /// With --from-triage --yes: finding ids (or list numbers) to fix, comma-separated.
        #[arg(long, value_delimiter = ',', requires = "from_triage")]
        only: Vec<String>,
    },
    /// Revert journaled actions.
    Undo {
        /// The journal id to revert.
        id: Option<String>,
        /// Revert the newest action that is not undone yet.
        #[arg(long, conflicts_with_all = ["id", "all"])]
        last: bool,
        /// Revert every action, newest first.
        #[arg(long, conflicts_with = "id")]
        all: bool,
    },
    /// List journaled actions.
    Log {
        #[arg(long)]
        json: bool,
    },
    /// Keep the firewall or SSH-port change waiting for confirmation (run it from a new
    /// login; for an SSH port move, a login on the new port).
    Confirm,
    /// After a reboot: roll back the changes whose confirmation deadline passed and re-arm
    /// the automatic rollback of those still inside their window (run at boot by
    /// packaging/rampart-respond-resume.service; harmless to run any time).
    Resume,
    /// Internal: the detached automatic rollback of a guarded action.
    #[command(hide = true)]
    RollbackAfter { id: String },
}

/// `rampart passwd rotate USER…`: the `passwd-rotate` action under its own name.
#[derive(clap::Args)]
pub struct RotateArgs {
    /// The accounts to give new generated passwords.
    #[arg(required = true, value_name = "USER")]
    users: Vec<String>,
    /// Length of the generated passwords.
    #[arg(long, default_value_t = 20)]
    length: usize,
    /// Write the new passwords to FILE (created 0600) instead of printing them once.
    #[arg(long, value_name = "FILE")]
    out: Option<PathBuf>,
    /// Do not ask; required when stdin is not a terminal.
    #[arg(long)]
    yes: bool,
    #[command(flatten)]
    common: Common,
}

/// Called by `cli::passwd` for its `rotate` subcommand.
#[allow(dead_code)] // until cli::passwd (another helper's file) is committed with `rotate`
pub fn passwd_rotate(args: RotateArgs) -> anyhow::Result<i32> {
    let env = env_of(&args.common);
    let words = vec![
        "passwd-rotate".to_string(),
        format!("user={}", args.users.join(",")),
        format!("length={}", args.length),
    ];
    apply(&env, &words, args.yes, args.out.as_deref())
}

fn env_of(c: &Common) -> Env {
    let mut env = Env::live();
    if let Some(r) = &c.root {
        env.root = r.clone();
    }
    env.netns = c.netns.clone();
    env.sshd_config = c.sshd_config.clone();
    env.sshd_pid_file = c.sshd_pid_file.clone();
    env.journal_dir = c.journal.clone();
    env.quarantine_dir = c.quarantine_dir.clone();
    env.confirm_timeout_secs = c.timeout;
    env.force = c.force;
    env.session = Session::current();
    // Test hook of the lockout suite: die at a named step like `kill -9` would.
    env.crash_at = std::env::var("RAMPART_CRASH_AT").ok().filter(|s| !s.is_empty());
    env
}

pub fn run(args: Args) -> anyhow::Result<i32> {
    let env = env_of(&args.common);
    match args.command {
        None if args.action.is_empty() => {
            bail!("respond: name an action to plan, or a subcommand (see --help)")
        }
        None => plan(&env, &args.action),
        Some(Sub::Plan { action }) => plan(&env, &action),
        Some(Sub::Apply {
            action,
            yes,
            out,
            from_triage,
            only,
        }) => {
            if from_triage {
                from_triage_apply(&env, yes, &only, out.as_deref())
            } else if action.is_empty() {
                bail!("respond apply: name an action, or use --from-triage")
            } else {
                apply(&env, &action, yes, out.as_deref())
            }
        }
        Some(Sub::Undo { id, last, all }) => {
            let which = match (id, last, all) {
                (Some(id), _, _) => Which::Id(id),
                (None, _, true) => Which::All,
                (None, true, _) => Which::Last,
                (None, false, false) => bail!("respond undo: give an ID, --last or --all"),
            };
            let done = engine::undo(&env, &which)?;
            for (id, lines) in done {
                println!("Undone {id}:");
                for l in lines {
                    println!("  {l}");
                }
            }
            Ok(0)
        }
        Some(Sub::Log { json }) => log(&env, json),
        Some(Sub::Confirm) => {
            let done = engine::confirm(&env)?;
            for (id, lines) in done {
                println!("Confirmed {id}; the automatic rollback is cancelled.");
                for l in lines {
                    println!("  {l}");
                }
            }
            Ok(0)
        }
        Some(Sub::Resume) => {
            use rampart_respond::guard::Resumed;
            let done = rampart_respond::guard::resume(&env)?;
            if done.is_empty() {
                println!("Nothing is waiting for confirmation.");
            }
            for r in done {
                match r {
                    Resumed::RolledBack(id, lines) => {
                        println!("Rolled back {id}: its confirmation deadline has passed.");
                        for l in lines {
                            println!("  {l}");
                        }
                    }
                    Resumed::Rearmed(id, secs) => println!(
                        "{id} is still waiting for `rampart respond confirm`; its automatic rollback is re-armed and runs in {secs} s."
                    ),
                    Resumed::StillArmed(id) => println!(
                        "{id} is still waiting for `rampart respond confirm`; its automatic rollback is armed."
                    ),
                }
            }
            Ok(0)
        }
        Some(Sub::RollbackAfter { id }) => {
            match rampart_respond::guard::rollback_after(&env.journal_dir, &id)? {
                Some(lines) => {
                    for l in lines {
                        println!("{l}");
                    }
                }
                None => println!("{id}: confirmed or undone in time; nothing rolled back."),
            }
            Ok(0)
        }
    }
}

fn parse(words: &[String]) -> anyhow::Result<ActionSpec> {
    Ok(ActionSpec::parse(words)?)
}

fn print_plan(spec: &ActionSpec, plan: &rampart_respond::Plan) {
    println!("Plan for `{spec}`:");
    for c in &plan.changes {
        println!("  - {c}");
    }
    for w in &plan.warnings {
        println!("  ! {w}");
    }
    if plan.needs_confirm {
        println!("  (waits for `rampart respond confirm`; rolls back by itself otherwise)");
    }
}

fn plan(env: &Env, words: &[String]) -> anyhow::Result<i32> {
    let spec = parse(words)?;
    let plan = engine::plan(env, &spec)?;
    print_plan(&spec, &plan);
    println!("Nothing was changed. Apply with: rampart respond apply {spec}");
    Ok(0)
}

fn ask(question: &str) -> anyhow::Result<String> {
    print!("{question}");
    std::io::stdout().flush()?;
    let mut line = String::new();
    std::io::stdin().lock().read_line(&mut line)?;
    Ok(line.trim().to_string())
}

fn apply(env: &Env, words: &[String], yes: bool, out: Option<&std::path::Path>) -> anyhow::Result<i32> {
    let spec = parse(words)?;
    let plan = engine::plan(env, &spec)?;
    print_plan(&spec, &plan);
    if !yes {
        if !std::io::stdin().is_terminal() {
            bail!("respond apply: stdin is not a terminal; add --yes to apply without asking");
        }
        if !matches!(ask("Apply? [y/N] ")?.as_str(), "y" | "Y" | "yes") {
            println!("Nothing was changed.");
            return Ok(0);
        }
    }
    apply_one(env, &spec, out)
}

fn apply_one(env: &Env, spec: &ActionSpec, out: Option<&std::path::Path>) -> anyhow::Result<i32> {
    let applied = engine::apply(env, spec).with_context(|| format!("{spec}"))?;
    println!(
        "Applied {} (undo: rampart respond undo {}).",
        spec.name, applied.id
    );
    for d in &applied.outcome.done {
        println!("  {d}");
    }
    if let Some(deadline) = applied.confirm_deadline {
        let left = deadline.saturating_sub(rampart_respond::fsutil::now());
        println!(
            "Run `rampart respond confirm` within {left} s (from a new login) or this change rolls back by itself."
        );
    }
    show_secrets(&applied.outcome.secrets, out)?;
    Ok(0)
}

/// Generated passwords: printed once on stdout, or written to a new root-only file.
fn show_secrets(secrets: &[Secret], out: Option<&std::path::Path>) -> anyhow::Result<()> {
    if secrets.is_empty() {
        return Ok(());
    }
    match out {
        Some(path) => {
            use std::os::unix::fs::OpenOptionsExt;
            let mut f = std::fs::OpenOptions::new()
                .write(true)
                .create_new(true)
                .mode(0o600)
                .open(path)
                .with_context(|| format!("--out {}", path.display()))?;
            for s in secrets {
                writeln!(f, "{}\t{}", s.label, s.value)?;
            }
            f.sync_all()?;
            println!(
                "New passwords written to {} (mode 0600). They are not shown again.",
                path.display()
            );
        }
        None => {
            println!("New passwords (shown once, not stored anywhere):");
            for s in secrets {
                println!("  {}: {}", s.label, s.value);
            }
        }
    }
    Ok(())
}

fn log(env: &Env, json: bool) -> anyhow::Result<i32> {
    if !env.journal_dir.exists() {
        if !json {
            println!("No actions journaled in {}.", env.journal_dir.display());
        }
        return Ok(0);
    }
    let journal = Journal::open(&env.journal_dir)?;
    let (records, errors) = journal.list()?;
    for r in &records {
        if json {
            println!(
                "{}",
                serde_json::json!({
                    "type": "action", "id": r.id, "action": r.action, "time": r.time,
                    "state": r.state, "confirmed": r.confirmed,
                    "confirm_deadline": r.confirm_deadline, "plan": r.plan,
                    "notes": r.notes, "error": r.error,
                })
            );
        } else {
            let waiting = if r.awaiting_confirm() {
                " (waiting for confirm)"
            } else {
                ""
            };
            println!(
                "{}  {}  {}{}  {}",
                r.id,
                r.time,
                r.state.as_str(),
                waiting,
                r.action
            );
            if let Some(e) = &r.error {
                println!("    error: {e}");
            }
            if matches!(
                r.state,
                rampart_respond::State::Undone | rampart_respond::State::Failed
            ) {
                if let Some(n) = r.notes.last() {
                    println!("    {n}");
                }
            }
        }
    }
    for e in &errors {
        eprintln!("rampart: {e}");
    }
    Ok(if errors.is_empty() { 0 } else { 2 })
}

fn from_triage_apply(
    env: &Env,
    yes: bool,
    only: &[String],
    out: Option<&std::path::Path>,
) -> anyhow::Result<i32> {
    let host = rampart_core::HostRoot::live();
    let ctx = rampart_triage::Context::new(host, rampart_triage::Options::default());
    let report = rampart_triage::run(&ctx, &rampart_triage::checks::all());
    let fixable: Vec<&rampart_core::Finding> =
        report.findings.iter().filter(|f| f.action.is_some()).collect();
    if fixable.is_empty() {
        println!("Triage found nothing that `rampart respond` can fix.");
        return Ok(0);
    }
    println!("Findings with a fix:");
    for (i, f) in fixable.iter().enumerate() {
        println!(
            "  {:>2}. [{}] {} — {}\n      fix: {}",
            i + 1,
            f.severity,
            f.id,
            f.title,
            f.action.as_deref().unwrap_or("")
        );
    }
    let picks: Vec<String> = if yes {
        if only.is_empty() {
            bail!("respond apply --from-triage --yes needs --only ID,ID (finding ids or list numbers)");
        }
        only.to_vec()
    } else {
        if !std::io::stdin().is_terminal() {
            bail!("respond apply --from-triage: stdin is not a terminal; use --yes --only ID,ID");
        }
        let line = ask("Fix which? (numbers or finding ids, comma-separated; empty: none) ")?;
        line.split(',')
            .map(|s| s.trim().to_string())
            .filter(|s| !s.is_empty())
            .collect()
    };
    let mut chosen: Vec<&rampart_core::Finding> = Vec::new();
    for p in &picks {
        let hits: Vec<&rampart_core::Finding> = match p.parse::<usize>() {
            Ok(n) if (1..=fixable.len()).contains(&n) => vec![fixable[n - 1]],
            _ => fixable.iter().copied().filter(|f| &f.id == p).collect(),
        };
        if hits.is_empty() {
            bail!("--only {p}: no finding with a fix has that id or number");
        }
        chosen.extend(hits);
    }
    let (mut ok, mut failed) = (0, 0);
    for f in chosen {
        let spec = ActionSpec::parse_str(f.action.as_deref().unwrap_or(""))?;
        println!("\n{}: {}", f.id, f.title);
        match engine::plan(env, &spec) {
            Ok(plan) => print_plan(&spec, &plan),
            Err(e) => {
                eprintln!("rampart: {spec}: {e}");
                failed += 1;
                continue;
            }
        }
        match apply_one(env, &spec, out) {
            Ok(_) => ok += 1,
            Err(e) => {
                eprintln!("rampart: {e:#}");
                failed += 1;
            }
        }
    }
    println!("\n{ok} applied, {failed} failed.");
    Ok(if failed == 0 { 0 } else { 2 })
}
