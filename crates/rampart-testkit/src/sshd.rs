//! A real OpenSSH server for tests: a generated host key, a config file of the test's
//! own, and sshd in the foreground (`-D`) as a child of the test, killed on drop.

use crate::netns::Netns;
use crate::process::{run, KillOnDrop};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

/// How long sshd may take to start listening.
const START_LIMIT: Duration = Duration::from_secs(10);

/// Makes an ed25519 key pair without a passphrase at `path` (and `path.pub`).
pub fn keygen(path: &Path) {
    run(
        "ssh-keygen",
        &[
            "-q",
            "-t",
            "ed25519",
            "-N",
            "",
            "-f",
            path.to_str().expect("UTF-8 path"),
        ],
    );
}

/// The files of one test sshd, all in one directory.
#[derive(Debug, Clone)]
pub struct SshdConfig {
    /// The sshd_config file.
    pub path: PathBuf,
    pub host_key: PathBuf,
    /// Where sshd writes its pid (what `rampart respond` signals to reload it).
    pub pid_file: PathBuf,
    pub port: u16,
    /// `ListenAddress`, when not every address.
    pub listen: Option<String>,
}

impl SshdConfig {
    /// Writes `dir/sshd_config`: a comment, `Port`, `ListenAddress` (if given), a fresh
    /// host key, `PidFile`, then `directives` (one per line) as given.
    pub fn write(dir: &Path, port: u16, listen: Option<&str>, directives: &str) -> SshdConfig {
        let cfg = SshdConfig {
            path: dir.join("sshd_config"),
            host_key: dir.join("host_key"),
            pid_file: dir.join("sshd.pid"),
            port,
            listen: listen.map(str::to_string),
        };
        keygen(&cfg.host_key);
        let mut text = format!("# sshd for a Rampart test\nPort {port}\n");
        if let Some(a) = listen {
            text.push_str(&format!("ListenAddress {a}\n"));
        }
        text.push_str(&format!(
            "HostKey {}\nPidFile {}\n{directives}",
            cfg.host_key.display(),
            cfg.pid_file.display()
        ));
        if !text.ends_with('\n') {
            text.push('\n');
        }
        std::fs::write(&cfg.path, text).unwrap_or_else(|e| panic!("{}: {e}", cfg.path.display()));
        // sshd's privilege separation directory; Debian makes it only at boot.
        std::fs::create_dir_all("/run/sshd").expect("/run/sshd");
        cfg
    }
}

/// A running sshd; killed and reaped on drop.
pub struct Sshd {
    child: KillOnDrop,
    pub config: SshdConfig,
    /// sshd's log (`-E`), when one was asked for.
    pub log: Option<PathBuf>,
}

impl Sshd {
    /// Starts sshd with `config`, inside `netns` or in the test's own namespace, logging
    /// to `log` (or syslog), and waits until its port accepts connections.
    pub fn start(config: SshdConfig, netns: Option<&Netns>, log: Option<&Path>) -> Sshd {
        let sshd = rampart_core::cmd::which("sshd").expect("sshd is installed");
        let mut cmd = match netns {
            Some(ns) => ns.command(&sshd),
            None => Command::new(&sshd),
        };
        cmd.arg("-D").arg("-f").arg(&config.path);
        if let Some(l) = log {
            cmd.arg("-E").arg(l);
        }
        let child = KillOnDrop(cmd.stdin(Stdio::null()).spawn().expect("sshd starts"));
        let started = match netns {
            Some(ns) => ns.wait_tcp_listening(config.port, true, START_LIMIT),
            None => {
                let ip = config.listen.as_deref().unwrap_or("127.0.0.1");
                let addr = format!("{ip}:{}", config.port).parse().expect("listen address");
                crate::wait::tcp_accepts(addr, START_LIMIT)
            }
        };
        let log_text = || {
            log.and_then(|l| std::fs::read_to_string(l).ok())
                .unwrap_or_default()
        };
        assert!(
            started,
            "test sshd did not start on port {}; log:\n{}",
            config.port,
            log_text()
        );
        Sshd {
            child,
            config,
            log: log.map(Path::to_path_buf),
        }
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }
}
