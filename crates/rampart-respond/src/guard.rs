//! Confirm-or-rollback (like `iptables-apply`). Before a guarded action changes anything,
//! [`arm`] records a deadline and starts a rollback that does not depend on this process:
//! a `systemd-run --on-active` timer when systemd is PID 1, otherwise a detached child in
//! its own session (`setsid`) running `rampart respond rollback-after ID`. Killing
//! Rampart, closing the terminal or losing the SSH session does not stop it.

use crate::engine;
use crate::env::Env;
use crate::error::{RespondError, Result};
use crate::fsutil;
use crate::journal::{Entry, Journal};
use std::io::Read;
use std::os::unix::process::CommandExt;
use std::process::{Command, Stdio};
use std::time::Duration;

/// Sets the deadline in `entry`, commits it, and starts the detached rollback.
pub fn arm(env: &Env, entry: &mut Entry) -> Result<()> {
    entry.record.confirm_deadline = Some(fsutil::now() + env.confirm_timeout_secs);
    entry.commit()?;
    start_rollback(env, entry, env.confirm_timeout_secs)
}

/// Starts the detached rollback of `entry` (whose deadline is already committed), due in
/// `delay_secs`. The rollback itself re-reads the deadline, so an early start is harmless.
fn start_rollback(env: &Env, entry: &mut Entry, delay_secs: u64) -> Result<()> {
    let exe = env.rollback_exe.clone().ok_or_else(|| {
        RespondError::Precondition("no rampart binary to run the automatic rollback".into())
    })?;
    let id = entry.record.id.clone();
    let journal = env.journal_dir.display().to_string();
    if systemd_is_init() && env.netns.is_none() {
        let unit = timer_unit(&id);
        let out = rampart_core::cmd::run(
            "systemd-run",
            [
                format!("--on-active={}", delay_secs.max(1)),
                format!("--unit={unit}"),
                "--timer-property=AccuracySec=1s".to_string(),
                exe.display().to_string(),
                "respond".into(),
                "rollback-after".into(),
                "--journal".into(),
                journal,
                id,
            ],
        )?;
        if !out.success() {
            return Err(RespondError::failed("systemd-run", out.stderr_line()));
        }
        entry.note(format!("rollback timer {unit}.timer armed"));
        return entry.commit();
    }
    let mut cmd = Command::new(&exe);
    cmd.args(["respond", "rollback-after", "--journal", &journal, &id])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .env_remove("RAMPART_CRASH_AT");
    // SAFETY: setsid is async-signal-safe; called between fork and exec.
    unsafe {
        cmd.pre_exec(|| {
            if libc::setsid() < 0 {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }
    let child = cmd
        .spawn()
        .map_err(|e| RespondError::failed(exe.display().to_string(), e))?;
    entry.record.rollback_pid = Some(child.id());
    // The child is never waited for: it outlives us and is reaped by init.
    std::mem::forget(child);
    entry.commit()
}

fn systemd_is_init() -> bool {
    std::path::Path::new("/run/systemd/system").is_dir()
}

fn timer_unit(id: &str) -> String {
    format!("rampart-rollback-{id}")
}

/// Whether the detached rollback of `entry` is still there to run. A reboot (or a killed
/// process) loses it: transient systemd timers and setsid children do not survive.
pub fn rollback_pending(env: &Env, entry: &Entry) -> bool {
    let id = &entry.record.id;
    if systemd_is_init() && env.netns.is_none() {
        let unit = format!("{}.timer", timer_unit(id));
        return rampart_core::cmd::run("systemctl", ["is-active", "--quiet", unit.as_str()])
            .is_ok_and(|o| o.success());
    }
    // A recycled PID after a reboot belongs to some other program: the journal id on its
    // command line tells ours apart.
    entry.record.rollback_pid.is_some_and(|pid| {
        let mut cmdline = Vec::new();
        std::fs::File::open(format!("/proc/{pid}/cmdline"))
            .and_then(|f| f.take(64 * 1024).read_to_end(&mut cmdline))
            .is_ok()
            && cmdline.split(|&b| b == 0).any(|arg| arg == id.as_bytes())
    })
}

/// What `resume` did with one change that was waiting for confirmation.
#[derive(Debug)]
pub enum Resumed {
    /// Its deadline had passed: rolled back now (what was done).
    RolledBack(String, Vec<String>),
    /// Still inside its window and its rollback was gone: a new one is due in this many s.
    Rearmed(String, u64),
    /// Its rollback is still waiting.
    StillArmed(String),
}

/// The body of `rampart respond resume` (run at boot by rampart-respond-resume.service):
/// every change still waiting for confirmation gets its automatic rollback back, or is
/// rolled back now when its deadline passed while nothing was watching it.
pub fn resume(env: &Env) -> Result<Vec<Resumed>> {
    let journal = Journal::open(&env.journal_dir)?;
    let (records, _) = journal.list()?;
    let mut out = Vec::new();
    for r in records.iter().filter(|r| r.awaiting_confirm()) {
        let mut entry = journal.load(&r.id)?;
        let _lock = entry.lock()?;
        entry.reload()?;
        let Some(deadline) = entry
            .record
            .confirm_deadline
            .filter(|_| entry.record.awaiting_confirm())
        else {
            continue;
        };
        let now = fsutil::now();
        let id = entry.record.id.clone();
        if now >= deadline {
            let why = "rolled back at resume: its deadline passed while no rollback was waiting (reboot?)";
            let lines = engine::undo_entry(env, &mut entry, why)?;
            out.push(Resumed::RolledBack(id, lines));
        } else if rollback_pending(&entry.record.env, &entry) {
            out.push(Resumed::StillArmed(id));
        } else {
            let mut target = entry.record.env.clone();
            target.rollback_exe = env.rollback_exe.clone().or(target.rollback_exe);
            start_rollback(&target, &mut entry, deadline - now)?;
            entry.note(format!(
                "rollback re-armed at resume, due in {} s",
                deadline - now
            ));
            entry.commit()?;
            out.push(Resumed::Rearmed(id, deadline - now));
        }
    }
    Ok(out)
}

/// The body of `rampart respond rollback-after`: waits for the deadline, then reverts
/// the entry unless it was confirmed (or undone) meanwhile.
pub fn rollback_after(journal_dir: &std::path::Path, id: &str) -> Result<Option<Vec<String>>> {
    let journal = Journal::open(journal_dir)?;
    loop {
        let entry = journal.load(id)?;
        let Some(deadline) = entry.record.confirm_deadline else {
            return Ok(None);
        };
        if !entry.record.awaiting_confirm() {
            return Ok(None);
        }
        let now = fsutil::now();
        if now >= deadline {
            break;
        }
        std::thread::sleep(Duration::from_millis(((deadline - now) * 1000).min(500)));
    }
    let mut entry = journal.load(id)?;
    let _lock = entry.lock()?;
    entry.reload()?;
    if !entry.record.awaiting_confirm() {
        return Ok(None);
    }
    let why = format!(
        "rolled back automatically: not confirmed within {} s",
        entry.record.env.confirm_timeout_secs
    );
    let env = entry.record.env.clone();
    engine::undo_entry(&env, &mut entry, &why).map(Some)
}
