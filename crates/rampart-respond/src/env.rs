//! Where an action works: the host's root, the network namespace, sshd's files, the
//! journal. Saved in every journal record so that `undo` and the detached rollback act on
//! exactly the targets the action changed, whatever flags they are started with.

use serde::{Deserialize, Serialize};
use std::net::IpAddr;
use std::path::{Path, PathBuf};

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Env {
    /// The host's `/` (tests: a throwaway root; account tools get `--prefix`).
    pub root: PathBuf,
    /// nft and socket checks run inside this network namespace.
    pub netns: Option<String>,
    pub sshd_config: PathBuf,
    pub sshd_pid_file: PathBuf,
    pub journal_dir: PathBuf,
    /// Where `kill-quarantine` moves executables.
    #[serde(default = "default_quarantine_dir")]
    pub quarantine_dir: PathBuf,
    /// How long a confirm-or-rollback action waits for `rampart respond confirm`.
    pub confirm_timeout_secs: u64,
    /// The `rampart` binary the detached rollback runs (`rampart respond rollback-after`).
    pub rollback_exe: Option<PathBuf>,
    #[serde(skip)]
    pub force: bool,
    #[serde(skip)]
    pub session: Session,
    /// Test hook: the process kills itself (SIGKILL) when it reaches this step.
    #[serde(skip)]
    pub crash_at: Option<String>,
}

fn default_quarantine_dir() -> PathBuf {
    PathBuf::from(rampart_quarantine::Quarantine::DEFAULT_DIR)
}

/// Who is running Rampart, so actions can refuse to cut that person off.
#[derive(Debug, Clone, Default)]
pub struct Session {
    /// From `SSH_CONNECTION`: client address, client port, server address, server port.
    pub ssh: Option<SshConnection>,
    /// The login user behind sudo (`SUDO_USER`) or the audit login uid's name.
    pub login_user: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SshConnection {
    pub client: IpAddr,
    pub client_port: u16,
    pub server: IpAddr,
    pub server_port: u16,
}

impl SshConnection {
    /// Parses `SSH_CONNECTION` (`client cport server sport`) or `SSH_CLIENT` (`client cport sport`).
    pub fn parse(s: &str) -> Option<Self> {
        let w: Vec<&str> = s.split_whitespace().collect();
        match w.as_slice() {
            [c, cp, sv, sp] => Some(SshConnection {
                client: c.parse().ok()?,
                client_port: cp.parse().ok()?,
                server: sv.parse().ok()?,
                server_port: sp.parse().ok()?,
            }),
            _ => None,
        }
    }
}

impl Session {
    /// The session of the current process, from its environment and audit login uid.
    pub fn current() -> Self {
        let ssh = std::env::var("SSH_CONNECTION")
            .ok()
            .and_then(|s| SshConnection::parse(&s))
            .or_else(parent_sshd_connection);
        let login_user = std::env::var("SUDO_USER")
            .ok()
            .filter(|u| !u.is_empty())
            .or_else(|| {
                let uid: u32 = std::fs::read_to_string("/proc/self/loginuid")
                    .ok()?
                    .trim()
                    .parse()
                    .ok()?;
                if uid == u32::MAX {
                    return None;
                }
                user_name_of(Path::new("/"), uid)
            });
        Session { ssh, login_user }
    }
}

/// The connection of the nearest `sshd` ancestor (when sudo or su cleared SSH_CONNECTION):
/// its established TCP socket, found by inode in its own /proc/PID/net/tcp{,6}.
fn parent_sshd_connection() -> Option<SshConnection> {
    let mut pid = std::process::id() as i32;
    for _ in 0..64 {
        let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
        let field = |k: &str| {
            status.lines().find_map(|l| {
                l.strip_prefix(k)
                    .map(|v| v.trim_start_matches(':').trim().to_string())
            })
        };
        if field("Name").is_some_and(|n| n.starts_with("sshd")) {
            return sshd_socket(pid);
        }
        pid = field("PPid")?.parse().ok()?;
        if pid <= 1 {
            return None;
        }
    }
    None
}

fn sshd_socket(pid: i32) -> Option<SshConnection> {
    let inodes: Vec<String> = std::fs::read_dir(format!("/proc/{pid}/fd"))
        .ok()?
        .flatten()
        .filter_map(|e| std::fs::read_link(e.path()).ok())
        .filter_map(|t| {
            let t = t.to_string_lossy().into_owned();
            t.strip_prefix("socket:[")?.strip_suffix(']').map(str::to_string)
        })
        .collect();
    for table in ["tcp", "tcp6"] {
        let text = std::fs::read_to_string(format!("/proc/{pid}/net/{table}")).ok()?;
        for line in text.lines().skip(1) {
            let f: Vec<&str> = line.split_whitespace().collect();
            // State 01 is ESTABLISHED.
            if f.len() > 9 && f[3] == "01" && inodes.iter().any(|i| i == f[9]) {
                let (server, server_port) = parse_proc_addr(f[1])?;
                let (client, client_port) = parse_proc_addr(f[2])?;
                return Some(SshConnection {
                    client,
                    client_port,
                    server,
                    server_port,
                });
            }
        }
    }
    None
}

/// `0100007F:0016` or a 32-hex-digit IPv6 address with its port, as /proc/net/tcp{,6} write them.
pub fn parse_proc_addr(s: &str) -> Option<(IpAddr, u16)> {
    let (a, p) = s.split_once(':')?;
    let port = u16::from_str_radix(p, 16).ok()?;
    let ip = match a.len() {
        8 => IpAddr::V4(u32::from_str_radix(a, 16).ok()?.swap_bytes().into()),
        32 => {
            let mut bytes = [0u8; 16];
            for (i, chunk) in bytes.chunks_mut(4).enumerate() {
                let word = u32::from_str_radix(&a[i * 8..i * 8 + 8], 16).ok()?.swap_bytes();
                chunk.copy_from_slice(&word.to_be_bytes());
            }
            let v6 = std::net::Ipv6Addr::from(bytes);
            v6.to_ipv4_mapped().map(IpAddr::V4).unwrap_or(IpAddr::V6(v6))
        }
        _ => return None,
    };
    Some((ip, port))
}

fn user_name_of(root: &Path, uid: u32) -> Option<String> {
    let text = std::fs::read_to_string(root.join("etc/passwd")).ok()?;
    text.lines().find_map(|l| {
        let f: Vec<&str> = l.split(':').collect();
        (f.len() >= 3 && f[2].parse::<u32>().ok() == Some(uid)).then(|| f[0].to_string())
    })
}

impl Env {
    /// The live host with the standard paths.
    pub fn live() -> Self {
        Env {
            root: PathBuf::from("/"),
            netns: None,
            sshd_config: PathBuf::from("/etc/ssh/sshd_config"),
            sshd_pid_file: PathBuf::from("/run/sshd.pid"),
            journal_dir: PathBuf::from("/var/lib/rampart/journal"),
            quarantine_dir: default_quarantine_dir(),
            confirm_timeout_secs: 300,
            rollback_exe: std::env::current_exe().ok(),
            force: false,
            session: Session::default(),
            crash_at: None,
        }
    }

    pub fn is_live_root(&self) -> bool {
        self.root == Path::new("/")
    }

    /// A host path (`/etc/shadow`) under the root.
    pub fn path(&self, host_path: &str) -> PathBuf {
        self.root.join(host_path.trim_start_matches('/'))
    }

    /// Test hook for the lockout suite: die here, like a `kill -9` at this step.
    pub fn step(&self, name: &str) {
        if self.crash_at.as_deref() == Some(name) {
            // SAFETY: raising a signal on our own process has no memory-safety preconditions.
            unsafe {
                libc::raise(libc::SIGKILL);
            }
        }
    }

    pub fn nft(&self) -> rampart_nft::Nft {
        match &self.netns {
            Some(ns) => rampart_nft::Nft::in_netns(ns.clone()),
            None => rampart_nft::Nft::new(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ssh_connection_parses() {
        let c = SshConnection::parse("192.0.2.9 51000 192.0.2.1 2222").unwrap();
        assert_eq!(c.server_port, 2222);
        assert_eq!(c.client, "192.0.2.9".parse::<IpAddr>().unwrap());
        assert!(SshConnection::parse("garbage").is_none());
    }

    #[test]
    fn proc_net_addresses_decode() {
        assert_eq!(
            parse_proc_addr("0100007F:0016"),
            Some(("127.0.0.1".parse().unwrap(), 22))
        );
        assert_eq!(
            parse_proc_addr("00000000000000000000000001000000:08AE"),
            Some(("::1".parse().unwrap(), 2222))
        );
        assert_eq!(
            parse_proc_addr("0000000000000000FFFF00000200A8C0:0016"),
            Some(("192.168.0.2".parse().unwrap(), 22))
        );
    }
}
