//! `kill-quarantine pid=N`: stop the process (SIGSTOP, so it cannot react), record the
//! evidence (executable, command line, working directory, user, parent, open sockets),
//! copy its executable out of `/proc/PID/exe` if the file was deleted, kill it (SIGKILL)
//! and move the executable into the restorable quarantine. Refuses PID 1, Rampart itself,
//! its own ancestors (the operator's shell and SSH session), kernel threads and sshd
//! unless `--force`. Undo restores the executable byte for byte; the process stays dead.

use crate::action::{Action, Outcome, Plan};
use crate::env::Env;
use crate::error::{RespondError, Result};
use crate::journal::Entry;
use crate::spec::ActionSpec;
use rampart_quarantine::Quarantine;
use serde::{Deserialize, Serialize};
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

pub struct KillQuarantine {
    pid: i32,
}

/// What the process was, recorded before it dies.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Evidence {
    pub pid: i32,
    pub exe: String,
    pub exe_deleted: bool,
    pub cmdline: String,
    pub cwd: String,
    pub uid: Option<u32>,
    pub ppid: Option<i32>,
    pub sockets: Vec<String>,
}

fn proc_path(pid: i32, what: &str) -> PathBuf {
    PathBuf::from(format!("/proc/{pid}/{what}"))
}

fn status_field(pid: i32, key: &str) -> Option<String> {
    let text = std::fs::read_to_string(proc_path(pid, "status")).ok()?;
    text.lines().find_map(|l| {
        l.strip_prefix(key)
            .map(|v| v.trim_start_matches(':').trim().to_string())
    })
}

fn ppid_of(pid: i32) -> Option<i32> {
    status_field(pid, "PPid").and_then(|v| v.parse().ok())
}

/// The sockets the process holds, as `proto local -> remote state` from its own netns view.
fn sockets_of(pid: i32) -> Vec<String> {
    let mut inodes = Vec::new();
    if let Ok(rd) = std::fs::read_dir(proc_path(pid, "fd")) {
        for e in rd.flatten().take(4096) {
            if let Ok(t) = std::fs::read_link(e.path()) {
                let t = t.to_string_lossy().into_owned();
                if let Some(ino) = t.strip_prefix("socket:[").and_then(|s| s.strip_suffix(']')) {
                    inodes.push(ino.to_string());
                }
            }
        }
    }
    let mut out = Vec::new();
    for proto in ["tcp", "tcp6", "udp", "udp6"] {
        let Ok(text) = std::fs::read_to_string(proc_path(pid, &format!("net/{proto}"))) else {
            continue;
        };
        for line in text.lines().skip(1) {
            let f: Vec<&str> = line.split_whitespace().collect();
            if f.len() > 9 && inodes.iter().any(|i| i == f[9]) {
                out.push(format!(
                    "{proto} {} -> {} state {}",
                    hex_addr(f[1]),
                    hex_addr(f[2]),
                    f[3]
                ));
            }
        }
    }
    out
}

/// `0100007F:1F90` → `127.0.0.1:8080` (IPv6 left in kernel hex).
fn hex_addr(s: &str) -> String {
    let Some((a, p)) = s.split_once(':') else {
        return s.to_string();
    };
    let port = u16::from_str_radix(p, 16).unwrap_or(0);
    if a.len() == 8 {
        if let Ok(v) = u32::from_str_radix(a, 16) {
            return format!("{}:{port}", std::net::Ipv4Addr::from(v.swap_bytes()));
        }
    }
    format!("[{a}]:{port}")
}

impl KillQuarantine {
    pub fn from_spec(spec: &ActionSpec) -> Result<Self> {
        spec.only_keys(&["pid"])?;
        let v = spec.required("pid")?;
        let pid = v
            .parse::<i32>()
            .ok()
            .filter(|p| *p > 0)
            .ok_or_else(|| RespondError::Input(format!("kill-quarantine: pid={v}: not a process id")))?;
        Ok(KillQuarantine { pid })
    }

    fn evidence(&self) -> Result<Evidence> {
        let pid = self.pid;
        if !proc_path(pid, "").exists() {
            return Err(RespondError::Precondition(format!("no process {pid}")));
        }
        let exe = std::fs::read_link(proc_path(pid, "exe"))
            .map(|p| p.to_string_lossy().into_owned())
            .map_err(|e| {
                RespondError::Precondition(format!("process {pid}: no executable ({e}); a kernel thread?"))
            })?;
        let cmdline = std::fs::read(proc_path(pid, "cmdline"))
            .map(|b| {
                String::from_utf8_lossy(&b)
                    .trim_end_matches('\0')
                    .replace('\0', " ")
                    .chars()
                    .take(4096)
                    .collect()
            })
            .unwrap_or_default();
        let cwd = std::fs::read_link(proc_path(pid, "cwd"))
            .map(|p| p.to_string_lossy().into_owned())
            .unwrap_or_default();
        let uid = status_field(pid, "Uid").and_then(|v| v.split_whitespace().next()?.parse().ok());
        let exe_deleted = exe.ends_with(" (deleted)");
        Ok(Evidence {
            pid,
            exe: exe.trim_end_matches(" (deleted)").to_string(),
            exe_deleted,
            cmdline,
            cwd,
            uid,
            ppid: ppid_of(pid),
            sockets: sockets_of(pid),
        })
    }

    /// Refusals that need no evidence (PID 1, Rampart and its parents), checked first.
    fn refuse_early(&self, env: &Env) -> Result<()> {
        let me = std::process::id() as i32;
        let mut ancestors = Vec::new();
        let mut p = Some(me);
        while let Some(x) = p.filter(|x| *x > 1 && ancestors.len() < 64) {
            ancestors.push(x);
            p = ppid_of(x);
        }
        let why = if self.pid == 1 {
            Some("it is PID 1 (init); killing it stops the machine".to_string())
        } else if ancestors.contains(&self.pid) {
            Some(format!(
                "process {} is Rampart or one of its parents (your own session)",
                self.pid
            ))
        } else {
            None
        };
        match why {
            Some(w) if !env.force => Err(RespondError::Refused(format!(
                "refusing to kill {}: {w}",
                self.pid
            ))),
            _ => Ok(()),
        }
    }

    fn refuse(&self, env: &Env, ev: &Evidence) -> Result<()> {
        // The listener (not a session's sshd): started by init, or holding a listening socket.
        let listening = ev.sockets.iter().any(|s| s.ends_with("state 0A"));
        let sshd =
            Path::new(&ev.exe).file_name().is_some_and(|n| n == "sshd") && (ev.ppid == Some(1) || listening);
        if sshd && !env.force {
            return Err(RespondError::Refused(format!(
                "refusing to kill {}: it is the SSH server; killing it can lock you out",
                self.pid
            )));
        }
        Ok(())
    }

    fn signal(&self, sig: i32) -> Result<()> {
        // SAFETY: kill(2) with a checked positive pid.
        if unsafe { libc::kill(self.pid, sig) } != 0 {
            return Err(RespondError::failed(
                format!("pid {}", self.pid),
                std::io::Error::last_os_error(),
            ));
        }
        Ok(())
    }
}

fn gone_or_zombie(pid: i32) -> bool {
    match std::fs::read_to_string(proc_path(pid, "stat")) {
        Err(_) => true,
        Ok(s) => s
            .rsplit(')')
            .next()
            .is_some_and(|r| r.trim_start().starts_with(['Z', 'X'])),
    }
}

impl Action for KillQuarantine {
    fn name(&self) -> &'static str {
        "kill-quarantine"
    }

    fn plan(&self, env: &Env) -> Result<Plan> {
        self.refuse_early(env)?;
        let ev = self.evidence()?;
        self.refuse(env, &ev)?;
        let exe_note = if ev.exe_deleted {
            " (deleted on disk: copied from /proc first)"
        } else {
            ""
        };
        let mut plan = Plan::default();
        plan.changes.push(format!(
            "stop process {} (SIGSTOP) and record its evidence",
            self.pid
        ));
        plan.changes.push(format!("  executable {}{exe_note}", ev.exe));
        plan.changes.push(format!("  command line: {}", ev.cmdline));
        for s in &ev.sockets {
            plan.changes.push(format!("  socket {s}"));
        }
        plan.changes.push(format!("kill process {} (SIGKILL)", self.pid));
        plan.changes.push(format!(
            "move {} into the quarantine at {} (restorable)",
            ev.exe,
            env.quarantine_dir.display()
        ));
        plan.warnings
            .push("a killed process cannot be brought back; undo restores only the file".into());
        Ok(plan)
    }

    fn apply(&self, env: &Env, entry: &mut Entry) -> Result<Outcome> {
        self.refuse_early(env)?;
        let ev = self.evidence()?;
        self.refuse(env, &ev)?;
        self.signal(libc::SIGSTOP)?;
        // Re-read while stopped: nothing changes under us any more.
        let ev = self.evidence().unwrap_or(ev);
        let exe_stat = std::fs::metadata(proc_path(self.pid, "exe")).ok();
        let prepared = (|| -> Result<(Quarantine, Option<PathBuf>)> {
            let q =
                Quarantine::open(&env.quarantine_dir).map_err(|e| RespondError::failed("quarantine", e))?;
            // A deleted executable only exists behind /proc/PID/exe: copy it while the process lives.
            let staged = if ev.exe_deleted || !Path::new(&ev.exe).exists() {
                let staging = env.quarantine_dir.with_file_name("quarantine-staging");
                crate::fsutil::private_dir(&staging)?;
                let name = Path::new(&ev.exe)
                    .file_name()
                    .map(|n| n.to_string_lossy().into_owned())
                    .unwrap_or_default();
                let dst = staging.join(format!("pid{}-{name}", self.pid));
                std::fs::copy(proc_path(self.pid, "exe"), &dst).map_err(|e| RespondError::io(&dst, e))?;
                Some(dst)
            } else {
                None
            };
            entry.put("evidence", &ev)?;
            entry.commit()?;
            Ok((q, staged))
        })();
        let (q, staged) = match prepared {
            Ok(v) => v,
            Err(e) => {
                // Never leave a process stopped because the evidence could not be saved.
                let _ = self.signal(libc::SIGCONT);
                return Err(e);
            }
        };
        self.signal(libc::SIGKILL)?;
        let start = Instant::now();
        while !gone_or_zombie(self.pid) && start.elapsed() < Duration::from_secs(5) {
            std::thread::sleep(Duration::from_millis(20));
        }
        let reason = format!(
            "rampart respond kill-quarantine: executable of pid {} ({}){}",
            self.pid,
            ev.cmdline,
            if ev.exe_deleted {
                format!("; deleted on disk, was {}", ev.exe)
            } else {
                String::new()
            }
        );
        let item = match &staged {
            Some(p) => q.quarantine(p, &reason),
            None => {
                // The name must still be the file the process ran (same device and inode).
                let same = std::fs::symlink_metadata(&ev.exe)
                    .ok()
                    .zip(exe_stat)
                    .is_some_and(|(a, b)| a.dev() == b.dev() && a.ino() == b.ino());
                if !same {
                    return Err(RespondError::failed(
                        ev.exe.clone(),
                        "no longer the file the process ran; left in place",
                    ));
                }
                q.quarantine(Path::new(&ev.exe), &reason)
            }
        }
        .map_err(|e| RespondError::failed("quarantine", e))?;
        entry.put("quarantine_id", &item.id)?;
        entry.put("quarantine_dir", &env.quarantine_dir)?;
        entry.commit()?;
        Ok(Outcome {
            done: vec![
                format!("process {} killed", self.pid),
                format!("{} quarantined as {} (sha256 {})", ev.exe, item.id, item.sha256),
            ],
            secrets: Vec::new(),
        })
    }

    fn verify(&self, _env: &Env, entry: &Entry) -> Result<()> {
        if !gone_or_zombie(self.pid) {
            return Err(RespondError::failed(format!("pid {}", self.pid), "still running"));
        }
        entry.get::<String>("quarantine_id").map(|_| ())
    }

    fn undo(&self, _env: &Env, entry: &Entry) -> Result<Vec<String>> {
        let Ok(id) = entry.get::<String>("quarantine_id") else {
            return Ok(vec!["nothing was quarantined".into()]);
        };
        let dir: PathBuf = entry.get("quarantine_dir")?;
        let q = Quarantine::open(&dir).map_err(|e| RespondError::failed("quarantine", e))?;
        let item = q
            .restore(&id, false)
            .map_err(|e| RespondError::failed("quarantine restore", e))?;
        Ok(vec![format!(
            "{} restored from the quarantine (the process stays dead)",
            item.original_path.display()
        )])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_decode() {
        assert_eq!(hex_addr("0100007F:1F90"), "127.0.0.1:8080");
    }
}
