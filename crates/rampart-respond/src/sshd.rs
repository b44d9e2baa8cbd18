//! sshd: the ports in its configuration, edits that keep every other byte, validation
//! with `sshd -t -f` before anything is reloaded, reload by SIGHUP, socket activation
//! and SELinux detection.

use crate::env::Env;
use crate::error::{RespondError, Result};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// The `Port` lines of the main configuration (before any `Match` block).
pub fn ports_in(text: &str) -> Vec<u16> {
    let mut ports = Vec::new();
    for line in text.lines() {
        let mut w = line.split_whitespace();
        match w.next().map(str::to_ascii_lowercase).as_deref() {
            Some("match") => break,
            Some("port") => ports.extend(w.next().and_then(|p| p.parse::<u16>().ok())),
            _ => {}
        }
    }
    ports
}

/// Files pulled in by `Include` (glob `*` in the last component only, as Debian uses it).
pub fn included_files(env: &Env, text: &str) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let base = env.sshd_config.parent().unwrap_or(Path::new("/")).to_path_buf();
    for line in text.lines() {
        let mut w = line.split_whitespace();
        if !w.next().is_some_and(|k| k.eq_ignore_ascii_case("include")) {
            continue;
        }
        for pat in w {
            let p = if pat.starts_with('/') {
                env.path(pat)
            } else {
                base.join(pat)
            };
            let (dir, name) = (
                p.parent().unwrap_or(Path::new("/")),
                p.file_name().unwrap_or_default(),
            );
            let name = name.to_string_lossy();
            match name.split_once('*') {
                Some((pre, suf)) => {
                    if let Ok(rd) = std::fs::read_dir(dir) {
                        let mut v: Vec<PathBuf> = rd
                            .flatten()
                            .filter(|e| {
                                let n = e.file_name().to_string_lossy().into_owned();
                                n.starts_with(pre) && n.ends_with(suf)
                            })
                            .map(|e| e.path())
                            .collect();
                        v.sort();
                        out.extend(v);
                    }
                }
                None => out.push(p),
            }
        }
    }
    out
}

pub fn read_config(env: &Env) -> Result<String> {
    std::fs::read_to_string(&env.sshd_config).map_err(|e| match e.kind() {
        std::io::ErrorKind::NotFound => RespondError::Precondition(format!(
            "{}: no sshd configuration there",
            env.sshd_config.display()
        )),
        _ => RespondError::io(&env.sshd_config, e),
    })
}

/// The ports sshd is configured for (22 when none is set).
pub fn ports(env: &Env) -> Result<Vec<u16>> {
    let text = read_config(env)?;
    let mut ports = ports_in(&text);
    for f in included_files(env, &text) {
        if let Ok(t) = std::fs::read_to_string(&f) {
            ports.extend(ports_in(&t));
        }
    }
    if ports.is_empty() {
        ports.push(22);
    }
    ports.sort_unstable();
    ports.dedup();
    Ok(ports)
}

/// Included files that set `Port` (backed up at apply, their `Port` lines removed at confirm:
/// sshd adds up every `Port` line wherever it is, so the old port lives on there otherwise).
pub fn ports_in_includes(env: &Env) -> Result<Vec<PathBuf>> {
    let text = read_config(env)?;
    Ok(included_files(env, &text)
        .into_iter()
        .filter(|f| std::fs::read_to_string(f).is_ok_and(|t| !ports_in(&t).is_empty()))
        .collect())
}

/// `text` with a `Port new` line after the last `Port` line (or, without one, `Port new` at
/// the top, with the implicit `Port 22` made explicit unless `ports_elsewhere`: an included
/// file sets the ports), so the old port keeps working.
pub fn add_port(text: &str, new: u16, ports_elsewhere: bool) -> String {
    let lines: Vec<&str> = text.split_inclusive('\n').collect();
    let mut last_port = None;
    for (i, l) in lines.iter().enumerate() {
        let k = l.split_whitespace().next().map(str::to_ascii_lowercase);
        match k.as_deref() {
            Some("match") => break,
            Some("port") => last_port = Some(i),
            _ => {}
        }
    }
    let mut out = String::with_capacity(text.len() + 40);
    match last_port {
        Some(i) => {
            for (j, l) in lines.iter().enumerate() {
                out.push_str(l);
                if j == i {
                    if !l.ends_with('\n') {
                        out.push('\n');
                    }
                    out.push_str(&format!("Port {new}\n"));
                }
            }
        }
        None => {
            out.push_str("# Added by rampart respond ssh-port\n");
            if !ports_elsewhere {
                out.push_str("Port 22\n");
            }
            out.push_str(&format!("Port {new}\n"));
            out.push_str(text);
        }
    }
    out
}

/// `text` with every `Port` line other than `keep` removed (before any `Match`).
pub fn keep_only_port(text: &str, keep: u16) -> String {
    let mut out = String::with_capacity(text.len());
    let mut in_match = false;
    for l in text.split_inclusive('\n') {
        let mut w = l.split_whitespace();
        let k = w.next().map(str::to_ascii_lowercase);
        if k.as_deref() == Some("match") {
            in_match = true;
        }
        if !in_match
            && k.as_deref() == Some("port")
            && w.next().and_then(|p| p.parse::<u16>().ok()) != Some(keep)
        {
            continue;
        }
        out.push_str(l);
    }
    out
}

/// Runs `sshd -t -f` on `text` written next to the real file (so relative `Include`s
/// resolve the same); the real file is not touched.
pub fn validate(env: &Env, text: &str) -> Result<()> {
    let sshd = rampart_core::cmd::which("sshd").ok_or_else(|| {
        RespondError::Precondition("sshd is not installed (no sshd in the system path)".into())
    })?;
    let dir = env.sshd_config.parent().unwrap_or(Path::new("/"));
    let tmp = dir.join(format!(".rampart-sshd-check.{}", std::process::id()));
    std::fs::write(&tmp, text).map_err(|e| RespondError::io(&tmp, e))?;
    let out = rampart_core::cmd::run(
        &sshd.display().to_string(),
        ["-t", "-f", &tmp.display().to_string()],
    );
    let _ = std::fs::remove_file(&tmp);
    let out = out?;
    if !out.success() {
        return Err(RespondError::Precondition(format!(
            "sshd -t rejects the new configuration: {}",
            String::from_utf8_lossy(&out.stderr)
                .trim()
                .replace(&tmp.display().to_string(), "<new config>")
        )));
    }
    Ok(())
}

/// The pid of the running sshd from its pid file, or a clear error before any change.
pub fn running_pid(env: &Env) -> Result<i32> {
    let text = std::fs::read_to_string(&env.sshd_pid_file).map_err(|e| {
        RespondError::Precondition(format!("{}: {e} (is sshd running?)", env.sshd_pid_file.display()))
    })?;
    let pid: i32 = text
        .trim()
        .parse()
        .map_err(|_| RespondError::Precondition(format!("{}: not a pid", env.sshd_pid_file.display())))?;
    // SAFETY: signal 0 only checks that the process exists.
    if pid <= 1 || unsafe { libc::kill(pid, 0) } != 0 {
        return Err(RespondError::Precondition(format!(
            "{}: sshd (pid {pid}) is not running",
            env.sshd_pid_file.display()
        )));
    }
    Ok(pid)
}

/// Sends SIGHUP to the sshd in the pid file: it re-reads its configuration and keeps
/// running sessions.
pub fn reload(env: &Env) -> Result<()> {
    let pid = running_pid(env)?;
    let before = socket_inodes(pid);
    // SAFETY: sending a signal to the pid sshd wrote into its own pid file.
    if unsafe { libc::kill(pid, libc::SIGHUP) } != 0 {
        return Err(RespondError::failed(
            format!("sshd pid {pid}"),
            std::io::Error::last_os_error(),
        ));
    }
    // sshd closes its listeners and re-executes itself; a login in between is refused.
    // Done when it holds a new, non-empty set of sockets.
    let start = Instant::now();
    while start.elapsed() < Duration::from_secs(10) {
        let now = socket_inodes(pid);
        if !now.is_empty() && now != before {
            return Ok(());
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    Err(RespondError::failed(
        format!("sshd pid {pid}"),
        "did not come back within 10 s after SIGHUP",
    ))
}

/// The socket inodes a process holds, sorted.
fn socket_inodes(pid: i32) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(format!("/proc/{pid}/fd"))
        .map(|rd| {
            rd.flatten()
                .filter_map(|e| std::fs::read_link(e.path()).ok())
                .map(|t| t.to_string_lossy().into_owned())
                .filter(|t| t.starts_with("socket:"))
                .collect()
        })
        .unwrap_or_default();
    v.sort();
    v
}

/// TCP ports something listens on (in the env's network namespace).
pub fn listening_ports(env: &Env) -> Result<Vec<u16>> {
    let out = match &env.netns {
        Some(ns) => rampart_core::cmd::run("ip", ["netns", "exec", ns, "ss", "-Htln"])?,
        None => rampart_core::cmd::run("ss", ["-Htln"])?,
    };
    if !out.success() {
        return Err(RespondError::failed("ss", out.stderr_line()));
    }
    let text = out.stdout_text();
    let mut ports: Vec<u16> = text
        .lines()
        .filter_map(|l| l.split_whitespace().nth(3))
        .filter_map(|local| local.rsplit(':').next()?.parse().ok())
        .collect();
    ports.sort_unstable();
    ports.dedup();
    Ok(ports)
}

/// Waits until `port` is (or, with `want` false, is no longer) listening.
pub fn wait_listening(env: &Env, port: u16, want: bool, timeout: Duration) -> Result<bool> {
    let start = Instant::now();
    loop {
        if listening_ports(env)?.contains(&port) == want {
            return Ok(true);
        }
        if start.elapsed() > timeout {
            return Ok(false);
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// True when sshd is started by `ssh.socket` (then the port is the socket's ListenStream).
pub fn socket_activated(env: &Env) -> bool {
    if env
        .path("/etc/systemd/system/sockets.target.wants/ssh.socket")
        .exists()
    {
        return true;
    }
    env.is_live_root()
        && Path::new("/run/systemd/system").is_dir()
        && rampart_core::cmd::run("systemctl", ["is-active", "--quiet", "ssh.socket"])
            .is_ok_and(|o| o.success())
}

/// The drop-in that moves a socket-activated sshd (old ports kept until confirmed).
pub fn socket_dropin(ports: &[u16]) -> String {
    let mut s = String::from("# Written by rampart respond ssh-port\n[Socket]\nListenStream=\n");
    for p in ports {
        s.push_str(&format!("ListenStream={p}\n"));
    }
    s
}

pub const SOCKET_DROPIN: &str = "/etc/systemd/system/ssh.socket.d/rampart-port.conf";

/// True when SELinux is enforcing (then sshd may only bind ports labelled ssh_port_t).
pub fn selinux_enforcing(env: &Env) -> bool {
    std::fs::read_to_string(env.path("/sys/fs/selinux/enforce")).is_ok_and(|s| s.trim() == "1")
}

#[cfg(test)]
mod tests {
    use super::*;

    const CONF: &str = "Include /etc/ssh/sshd_config.d/*.conf\n#Port 22\nPort 22\nPermitRootLogin no\nMatch User bob\n  Port 9\n";

    #[test]
    fn adds_and_removes_ports_keeping_other_bytes() {
        assert_eq!(ports_in(CONF), vec![22]);
        let added = add_port(CONF, 2222, false);
        assert_eq!(ports_in(&added), vec![22, 2222]);
        assert!(
            added.starts_with("Include /etc/ssh/sshd_config.d/*.conf\n#Port 22\nPort 22\nPort 2222\nPermit")
        );
        let only = keep_only_port(&added, 2222);
        assert_eq!(ports_in(&only), vec![2222]);
        assert!(
            only.ends_with("Match User bob\n  Port 9\n"),
            "Match blocks are left alone"
        );
        let bare = add_port("PermitRootLogin no", 2200, false);
        assert_eq!(ports_in(&bare), vec![22, 2200]);
        assert!(bare.ends_with("PermitRootLogin no"));
        // The old port is set in an included file: no implicit 22 to keep alive.
        let inc = add_port("Include /etc/ssh/sshd_config.d/*.conf\n", 2200, true);
        assert_eq!(ports_in(&inc), vec![2200]);
        assert!(inc.ends_with("Include /etc/ssh/sshd_config.d/*.conf\n"));
    }

    #[test]
    fn socket_and_selinux_detection_from_the_root() {
        let d = tempfile::tempdir().unwrap();
        let env = Env {
            root: d.path().to_path_buf(),
            ..Env::live()
        };
        assert!(!socket_activated(&env));
        assert!(!selinux_enforcing(&env));
        std::fs::create_dir_all(d.path().join("etc/systemd/system/sockets.target.wants")).unwrap();
        std::fs::write(
            d.path()
                .join("etc/systemd/system/sockets.target.wants/ssh.socket"),
            "",
        )
        .unwrap();
        std::fs::create_dir_all(d.path().join("sys/fs/selinux")).unwrap();
        std::fs::write(d.path().join("sys/fs/selinux/enforce"), "1").unwrap();
        assert!(socket_activated(&env));
        assert!(selinux_enforcing(&env));
        assert_eq!(socket_dropin(&[22, 2222]), "# Written by rampart respond ssh-port\n[Socket]\nListenStream=\nListenStream=22\nListenStream=2222\n");
    }
}
