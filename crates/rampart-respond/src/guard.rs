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
use std::os::unix::process::CommandExt;
use std::process::{Command, Stdio};
use std::time::Duration;

/// Sets the deadline in `entry`, commits it, and starts the detached rollback.
pub fn arm(env: &Env, entry: &mut Entry) -> Result<()> {
    let exe = env.rollback_exe.clone().ok_or_else(|| {
        RespondError::Precondition("no rampart binary to run the automatic rollback".into())
    })?;
    entry.record.confirm_deadline = Some(fsutil::now() + env.confirm_timeout_secs);
    entry.commit()?;
    let id = entry.record.id.clone();
    let journal = env.journal_dir.display().to_string();
    if systemd_is_init() && env.netns.is_none() {
        let unit = format!("rampart-rollback-{id}");
        let out = rampart_core::cmd::run(
            "systemd-run",
            [
                format!("--on-active={}", env.confirm_timeout_secs),
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
