//! A small lab for the respond tests: two network namespaces joined by a veth pair
//! (server 192.0.2.1; client 192.0.2.2 and 192.0.2.3, documentation addresses that exist
//! only inside these namespaces), a real sshd in the server namespace with a temporary
//! config, host key and authorized key, and the real `rampart` binary.

#![allow(dead_code)]

use rampart_testkit::{require, sshd, Auth, Login, Netns, Sshd, SshdConfig};
use std::path::PathBuf;
use std::process::{Command, Output};
use std::time::{Duration, Instant};

pub use rampart_testkit::{stderr, stdout};

pub const SERVER: &str = "192.0.2.1";
pub const ALLOWED: &str = "192.0.2.2";
pub const OTHER: &str = "192.0.2.3";

/// `apply firewall-baseline` admitting only 198.51.100.0/24 (not the lab's client),
/// forced: it shuts the operator out, so only the rollback can let them back in.
pub fn locking_firewall(timeout: &str) -> [&str; 7] {
    [
        "apply",
        "firewall-baseline",
        "admin-from=198.51.100.0/24",
        "--yes",
        "--force",
        "--timeout",
        timeout,
    ]
}

pub struct Lab {
    // Dropped in this order: sshd first, then the namespaces, then the files.
    sshd: Sshd,
    pub srv: Netns,
    pub cli: Netns,
    pub sshd_config: PathBuf,
    pub pid_file: PathBuf,
    pub key: PathBuf,
    pub journal: PathBuf,
    pub port: u16,
    pub dir: tempfile::TempDir,
}

impl Lab {
    /// `None` (with the reason printed) when not root or a tool is missing.
    pub fn new(port: u16) -> Option<Lab> {
        if !require::root_with(
            &["sshd", "ssh", "nft", "ip", "ssh-keygen", "ss"],
            "network namespaces and sshd",
        ) {
            return None;
        }
        let srv = Netns::new("r-s");
        let cli = Netns::new("r-c");
        srv.link(
            "veth-s",
            &[&format!("{SERVER}/24")],
            &cli,
            "veth-c",
            &[&format!("{ALLOWED}/24"), &format!("{OTHER}/24")],
        );
        let dir = rampart_testkit::fs::temp_dir();
        let d = dir.path();
        let key = d.join("client_key");
        sshd::keygen(&key);
        std::fs::copy(d.join("client_key.pub"), d.join("authorized_keys")).unwrap();
        let config = SshdConfig::write(
            d,
            port,
            None,
            &format!(
                "AuthorizedKeysFile {}\nPermitRootLogin prohibit-password\nStrictModes no\nUsePAM no\n\
                 PasswordAuthentication no\nKbdInteractiveAuthentication no\nPrintMotd no\nLogLevel ERROR\n",
                d.join("authorized_keys").display()
            ),
        );
        let sshd = Sshd::start(config, Some(&srv), None);
        Some(Lab {
            sshd_config: sshd.config.path.clone(),
            pid_file: sshd.config.pid_file.clone(),
            journal: d.join("journal"),
            sshd,
            srv,
            cli,
            key,
            port,
            dir,
        })
    }

    pub fn listening(&self) -> Vec<u16> {
        self.srv.tcp_listening()
    }

    pub fn wait_listening(&self, port: u16, want: bool) -> bool {
        self.srv.wait_tcp_listening(port, want, Duration::from_secs(10))
    }

    fn ssh(&self, src: &str, port: u16, command: &[&str]) -> Output {
        Login {
            user: "root",
            host: SERVER,
            port,
            source: Some(src),
            auth: Auth::Key(&self.key),
        }
        .run(Some(&self.cli), command)
    }

    /// A real SSH login (key authentication, a command run) from `src` to `port`.
    pub fn login(&self, src: &str, port: u16) -> bool {
        self.ssh(src, port, &["true"]).status.success()
    }

    /// `rampart respond confirm` run inside an SSH session on `port` (so SSH_CONNECTION
    /// is the real one).
    pub fn confirm_over_ssh(&self, src: &str, port: u16) -> Output {
        let exe = env!("CARGO_BIN_EXE_rampart");
        self.ssh(
            src,
            port,
            &[
                exe,
                "respond",
                "confirm",
                "--journal",
                self.journal.to_str().unwrap(),
            ],
        )
    }

    /// `rampart respond ARGS…` against this lab, outside any SSH session.
    pub fn rampart(&self, args: &[&str], envs: &[(&str, &str)]) -> Output {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_rampart"));
        cmd.arg("respond")
            .args(args)
            .args([
                "--journal",
                self.journal.to_str().unwrap(),
                "--netns",
                self.srv.name(),
            ])
            .args(["--sshd-config", self.sshd_config.to_str().unwrap()])
            .args(["--sshd-pid-file", self.pid_file.to_str().unwrap()])
            .env_remove("SSH_CONNECTION")
            .env_remove("SSH_CLIENT")
            .env_remove("SUDO_USER")
            .env_remove("RAMPART_CRASH_AT");
        for (k, v) in envs {
            cmd.env(k, v);
        }
        cmd.output().unwrap()
    }

    /// `rampart respond ARGS…` that must succeed (its stderr is the failure message).
    pub fn rampart_ok(&self, args: &[&str]) -> Output {
        let out = self.rampart(args, &[]);
        assert!(out.status.success(), "rampart respond {args:?}: {}", stderr(&out));
        out
    }

    pub fn nft_chains(&self) -> String {
        let out = self
            .srv
            .command("nft")
            .args(["-j", "list", "table", "inet", "rampart"])
            .output()
            .unwrap();
        let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap_or(serde_json::Value::Null);
        // The chains and rules without handles: comparable across reloads.
        let mut items = Vec::new();
        for o in v["nftables"].as_array().cloned().unwrap_or_default() {
            for k in ["chain", "rule", "set"] {
                if let Some(mut x) = o.get(k).cloned() {
                    if let Some(m) = x.as_object_mut() {
                        m.remove("handle");
                    }
                    items.push(format!("{k}:{x}"));
                }
            }
        }
        items.join("\n")
    }

    /// Waits until the journal says no action is waiting for confirmation any more.
    pub fn wait_settled(&self, max: Duration) -> bool {
        let start = Instant::now();
        while start.elapsed() < max {
            let out = self.rampart(&["log", "--json"], &[]);
            let text = String::from_utf8_lossy(&out.stdout).into_owned();
            if !text.lines().any(|l| {
                let v: serde_json::Value = serde_json::from_str(l).unwrap_or_default();
                v["confirm_deadline"].is_u64()
                    && (v["state"] == "applied" || v["state"] == "planned")
                    && v["confirmed"] == false
            }) {
                return true;
            }
            std::thread::sleep(Duration::from_millis(200));
        }
        false
    }

    /// The PID of the detached rollback of the change waiting for confirmation.
    pub fn rollback_pid(&self) -> i32 {
        std::fs::read_dir(&self.journal)
            .unwrap()
            .flatten()
            .filter_map(|e| std::fs::read(e.path().join("record.json")).ok())
            .filter_map(|b| serde_json::from_slice::<serde_json::Value>(&b).ok())
            .filter(|v| v["state"] == "applied" && v["confirmed"] == false)
            .find_map(|v| v["rollback_pid"].as_i64())
            .expect("a pending change with a rollback pid") as i32
    }

    /// What a reboot does to the detached rollback: it is gone.
    pub fn kill_rollback(&self) {
        let pid = self.rollback_pid();
        // SAFETY: killing the rollback process this lab's rampart started.
        unsafe {
            libc::kill(pid, libc::SIGKILL);
        }
        // The setsid child is reparented to init, which reaps it: wait until it is gone.
        let start = Instant::now();
        while std::path::Path::new(&format!("/proc/{pid}")).exists()
            && start.elapsed() < Duration::from_secs(5)
        {
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    pub fn config_bytes(&self) -> Vec<u8> {
        std::fs::read(&self.sshd_config).unwrap()
    }

    pub fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }
}
