//! A small lab for the respond tests: two network namespaces joined by a veth pair
//! (server 192.0.2.1; client 192.0.2.2 and 192.0.2.3, documentation addresses that exist
//! only inside these namespaces), a real sshd in the server namespace with a temporary
//! config, host key and authorized key, and the real `rampart` binary.

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

pub const SERVER: &str = "192.0.2.1";
pub const ALLOWED: &str = "192.0.2.2";
pub const OTHER: &str = "192.0.2.3";

static SEQ: AtomicU32 = AtomicU32::new(0);

pub fn is_root() -> bool {
    // SAFETY: geteuid cannot fail.
    unsafe { libc::geteuid() == 0 }
}

fn run(program: &str, args: &[&str]) -> Output {
    let out = Command::new(program)
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("{program}: {e}"));
    assert!(
        out.status.success(),
        "{program} {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

pub struct Lab {
    pub srv: String,
    pub cli: String,
    pub dir: tempfile::TempDir,
    pub sshd_config: PathBuf,
    pub pid_file: PathBuf,
    pub key: PathBuf,
    pub journal: PathBuf,
    pub port: u16,
}

impl Lab {
    /// `None` (with the reason printed) when not root or a tool is missing.
    pub fn new(port: u16) -> Option<Lab> {
        if !is_root() {
            eprintln!("skipped: needs root for network namespaces and sshd");
            return None;
        }
        for tool in ["sshd", "ssh", "nft", "ip", "ssh-keygen", "ss"] {
            if rampart_core::cmd::which(tool).is_none() {
                eprintln!("skipped: {tool} is not installed (scripts/install-test-deps installs it)");
                return None;
            }
        }
        let n = (std::process::id() % 100_000) * 10 + SEQ.fetch_add(1, Ordering::SeqCst);
        let srv = format!("rampart-r-{n}-s");
        let cli = format!("rampart-r-{n}-c");
        let (va, vb) = (format!("rvs{n}"), format!("rvc{n}"));
        run("ip", &["netns", "add", &srv]);
        run("ip", &["netns", "add", &cli]);
        let dir = tempfile::tempdir().unwrap();
        let lab = Lab {
            sshd_config: dir.path().join("sshd_config"),
            pid_file: dir.path().join("sshd.pid"),
            key: dir.path().join("client_key"),
            journal: dir.path().join("journal"),
            srv,
            cli,
            dir,
            port,
        };
        run("ip", &["link", "add", &va, "type", "veth", "peer", "name", &vb]);
        run("ip", &["link", "set", &va, "netns", &lab.srv]);
        run("ip", &["link", "set", &vb, "netns", &lab.cli]);
        run(
            "ip",
            &["-n", &lab.srv, "addr", "add", &format!("{SERVER}/24"), "dev", &va],
        );
        run(
            "ip",
            &[
                "-n",
                &lab.cli,
                "addr",
                "add",
                &format!("{ALLOWED}/24"),
                "dev",
                &vb,
            ],
        );
        run(
            "ip",
            &["-n", &lab.cli, "addr", "add", &format!("{OTHER}/24"), "dev", &vb],
        );
        for (ns, dev) in [(&lab.srv, &va), (&lab.cli, &vb)] {
            run("ip", &["-n", ns, "link", "set", "lo", "up"]);
            run("ip", &["-n", ns, "link", "set", dev, "up"]);
        }
        std::fs::create_dir_all("/run/sshd").unwrap();
        let d = lab.dir.path();
        let host_key = d.join("host_key");
        run(
            "ssh-keygen",
            &["-q", "-t", "ed25519", "-N", "", "-f", host_key.to_str().unwrap()],
        );
        run(
            "ssh-keygen",
            &["-q", "-t", "ed25519", "-N", "", "-f", lab.key.to_str().unwrap()],
        );
        std::fs::copy(d.join("client_key.pub"), d.join("authorized_keys")).unwrap();
        let conf = format!(
            "# sshd for a Rampart test\nPort {port}\nHostKey {}\nPidFile {}\nAuthorizedKeysFile {}\n\
             PermitRootLogin prohibit-password\nStrictModes no\nUsePAM no\nPasswordAuthentication no\n\
             KbdInteractiveAuthentication no\nPrintMotd no\nLogLevel ERROR\n",
            host_key.display(),
            lab.pid_file.display(),
            d.join("authorized_keys").display()
        );
        std::fs::write(&lab.sshd_config, conf).unwrap();
        run(
            "ip",
            &[
                "netns",
                "exec",
                &lab.srv,
                "/usr/sbin/sshd",
                "-f",
                lab.sshd_config.to_str().unwrap(),
            ],
        );
        assert!(lab.wait_listening(port, true), "test sshd did not start");
        Some(lab)
    }

    pub fn listening(&self) -> Vec<u16> {
        let out = run("ip", &["netns", "exec", &self.srv, "ss", "-Htln"]);
        String::from_utf8_lossy(&out.stdout)
            .lines()
            .filter_map(|l| l.split_whitespace().nth(3)?.rsplit(':').next()?.parse().ok())
            .collect()
    }

    pub fn wait_listening(&self, port: u16, want: bool) -> bool {
        let start = Instant::now();
        while start.elapsed() < Duration::from_secs(10) {
            if self.listening().contains(&port) == want {
                return true;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        false
    }

    fn ssh(&self, src: &str, port: u16, command: &[&str]) -> Output {
        let port_s = port.to_string();
        let mut args = vec![
            "netns",
            "exec",
            &self.cli,
            "ssh",
            "-i",
            self.key.to_str().unwrap(),
            "-b",
            src,
            "-p",
            &port_s,
            "-o",
            "StrictHostKeyChecking=no",
            "-o",
            "UserKnownHostsFile=/dev/null",
            "-o",
            "BatchMode=yes",
            "-o",
            "ConnectTimeout=2",
            "-o",
            "LogLevel=ERROR",
            "root@192.0.2.1",
        ];
        args.extend_from_slice(command);
        Command::new("ip").args(&args).output().unwrap()
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
            .args(["--journal", self.journal.to_str().unwrap(), "--netns", &self.srv])
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

    pub fn nft_chains(&self) -> String {
        let out = Command::new("ip")
            .args([
                "netns", "exec", &self.srv, "nft", "-j", "list", "table", "inet", "rampart",
            ])
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

    pub fn config_bytes(&self) -> Vec<u8> {
        std::fs::read(&self.sshd_config).unwrap()
    }

    pub fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }
}

impl Drop for Lab {
    fn drop(&mut self) {
        if let Ok(pid) = std::fs::read_to_string(&self.pid_file) {
            if let Ok(pid) = pid.trim().parse::<i32>() {
                // SAFETY: terminating the test's own sshd.
                unsafe {
                    libc::kill(pid, libc::SIGTERM);
                }
            }
        }
        let _ = Command::new("ip").args(["netns", "del", &self.srv]).output();
        let _ = Command::new("ip").args(["netns", "del", &self.cli]).output();
    }
}

pub fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

pub fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

pub fn exists(p: &Path) -> bool {
    p.exists()
}
