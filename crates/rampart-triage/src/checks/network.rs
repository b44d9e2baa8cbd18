//! Listening sockets and the processes behind them (the playbook's `netstat -anp`):
//! every listener with pid, name, exe, user and start time; database, cache, FTP and
//! admin services bound beyond loopback; processes running a deleted executable or one
//! from a temp dir; shells holding network sockets (reverse shells).

use crate::context::{Context, Out};
use crate::procnet::{ProcFs, ProcNetError, ProcessInfo, Proto, Socket, SocketOwners};
use crate::runner::Check;
use rampart_core::{Evidence, Finding, Severity, Step};
use std::collections::{BTreeSet, HashMap, HashSet};
use std::path::PathBuf;
use std::time::SystemTime;

/// The network check; `proc_dir` is `/proc` except in tests.
pub struct Network {
    proc_dir: Option<PathBuf>,
}

impl Network {
    pub fn new() -> Self {
        Network { proc_dir: None }
    }

    /// Reads processes and sockets from `dir` instead of the host's `/proc`.
    pub fn with_proc(dir: impl Into<PathBuf>) -> Self {
        Network {
            proc_dir: Some(dir.into()),
        }
    }
}

impl Default for Network {
    fn default() -> Self {
        Network::new()
    }
}

/// Services that must not be reachable from the internet: (port, name, kind).
const EXPOSED: &[(u16, &str, &str)] = &[
    (21, "FTP", "ftp"),
    (23, "telnet", "admin"),
    (111, "rpcbind", "admin"),
    (445, "SMB", "admin"),
    (873, "rsync", "admin"),
    (1433, "Microsoft SQL Server", "database"),
    (1521, "Oracle", "database"),
    (2049, "NFS", "admin"),
    (2375, "Docker API (unencrypted)", "admin"),
    (2376, "Docker API", "admin"),
    (2379, "etcd", "database"),
    (3306, "MySQL/MariaDB", "database"),
    (5432, "PostgreSQL", "database"),
    (5984, "CouchDB", "database"),
    (5900, "VNC", "admin"),
    (6379, "Redis", "cache"),
    (7001, "WebLogic admin", "admin"),
    (8080, "Tomcat manager / HTTP admin", "admin"),
    (8081, "phpMyAdmin / HTTP admin", "admin"),
    (8086, "InfluxDB", "database"),
    (8088, "Hadoop YARN", "admin"),
    (8443, "HTTPS admin panel", "admin"),
    (8888, "phpMyAdmin / admin panel", "admin"),
    (9000, "PHP-FPM / Portainer", "admin"),
    (9042, "Cassandra", "database"),
    (9090, "admin console", "admin"),
    (9200, "Elasticsearch", "database"),
    (9300, "Elasticsearch transport", "database"),
    (10000, "Webmin", "admin"),
    (10250, "kubelet", "admin"),
    (11211, "memcached", "cache"),
    (15672, "RabbitMQ management", "admin"),
    (27017, "MongoDB", "database"),
    (27018, "MongoDB", "database"),
];

const SHELLS: &[&str] = &[
    "sh",
    "bash",
    "dash",
    "zsh",
    "ksh",
    "mksh",
    "csh",
    "tcsh",
    "fish",
    "ash",
    "busybox",
    "nc",
    "ncat",
    "netcat",
    "nc.openbsd",
    "nc.traditional",
    "socat",
    "telnet",
];

const INTERPRETERS: &[&str] = &[
    "python", "perl", "php", "ruby", "node", "nodejs", "lua", "tclsh", "awk", "gawk", "java",
];

const TEMP_DIRS: &[&str] = &["/tmp/", "/var/tmp/", "/dev/shm/", "/run/shm/", "/dev/mqueue/"];

fn is_shell(name: &str) -> bool {
    SHELLS.contains(&name)
}

/// `python3.11`, `php8.2`, `perl5.36`: the interpreter with its version.
fn is_interpreter(name: &str) -> bool {
    INTERPRETERS.iter().any(|i| {
        name.strip_prefix(i)
            .is_some_and(|rest| rest.chars().all(|c| c.is_ascii_digit() || c == '.' || c == '-'))
    })
}

fn base_name(path: &str) -> &str {
    path.rsplit('/').next().unwrap_or(path)
}

fn in_temp_dir(path: &str) -> bool {
    TEMP_DIRS.iter().any(|d| path.starts_with(d))
}

impl Check for Network {
    fn name(&self) -> &'static str {
        "network"
    }

    fn needs_live(&self) -> bool {
        true
    }

    fn run(&self, ctx: &Context, out: &mut Out) {
        let procfs = match &self.proc_dir {
            Some(d) => ProcFs::new(d),
            None => ProcFs::of(&ctx.host),
        };
        let crate::procnet::Scan {
            mut sockets,
            owners,
            errors,
            complete,
        } = match procfs.scan_listening() {
            Ok(v) => v,
            Err(e) => {
                out.error(e.subject(), e.to_string());
                return;
            }
        };
        for e in errors {
            report_error(out, &e);
        }
        let clock = procfs.clock();
        let mut procs: HashMap<u32, Option<ProcessInfo>> = HashMap::new();
        let mut info = |pid: u32| -> Option<ProcessInfo> {
            procs
                .entry(pid)
                .or_insert_with(|| procfs.process(pid, &clock))
                .clone()
        };
        let user = |uid: Option<u32>| -> String {
            match uid {
                Some(u) => ctx
                    .accounts()
                    .passwd
                    .iter()
                    .find(|p| p.uid == u)
                    .map(|p| p.name.clone())
                    .unwrap_or_else(|| format!("uid {u}")),
                None => "user unknown".into(),
            }
        };
        let describe = |p: &ProcessInfo| -> String {
            let mut s = format!(
                "pid {} {} ({}) user {}",
                p.pid,
                p.name,
                p.exe_display(),
                user(p.uid)
            );
            if let Some(t) = p.start {
                s.push_str(&format!(" since {}", utc_minute(t)));
            }
            s
        };
        let unknown_owner = if ctx.is_root {
            "owner unknown: no process in this PID namespace holds it (kernel socket, or a process in another container)"
        } else {
            "owner unknown: not visible without root"
        };

        // All listeners, one evidence each.
        let mut listeners: Vec<&Socket> = sockets.iter().filter(|s| s.is_listening()).collect();
        listeners.sort_by_key(|s| (s.proto, s.local.port(), s.local));
        let mut all = Finding::new(
            "network.listeners",
            Severity::Info,
            Step::Ports,
            format!("{} listening sockets", listeners.len()),
        )
        .remedy(
            "Check that every listener is a service you run; stop the others and close their \
             ports in the firewall (`rampart respond plan firewall-baseline`).",
        );
        for s in &listeners {
            let detail = if s.pids.is_empty() {
                format!("{unknown_owner}; socket uid {}", user(Some(s.uid)))
            } else {
                s.pids
                    .iter()
                    .map(|&pid| match info(pid) {
                        Some(p) => describe(&p),
                        None => format!("pid {pid} (exited while being read)"),
                    })
                    .collect::<Vec<_>>()
                    .join("; ")
            };
            all = all.evidence(Evidence::at(s.label(), detail).with_pid(s.pids.first().copied()));
        }
        out.finding(all);

        // Dangerous services beyond loopback.
        let public: Vec<&&Socket> = listeners.iter().filter(|s| !s.is_loopback()).collect();
        let mut flagged_ports = BTreeSet::new();
        let mut allowed_ports = BTreeSet::new();
        for s in &public {
            if EXPOSED.iter().any(|(p, _, _)| *p == s.local.port()) {
                flagged_ports.insert(s.local.port());
            } else if s.proto == Proto::Tcp {
                allowed_ports.insert(s.local.port());
            }
        }
        let allow = allowed_ports
            .iter()
            .map(u16::to_string)
            .collect::<Vec<_>>()
            .join(",");
        let action = if allow.is_empty() {
            "firewall-baseline".to_string()
        } else {
            format!("firewall-baseline allow={allow}")
        };
        for port in &flagged_ports {
            let (_, name, kind) = EXPOSED
                .iter()
                .find(|(p, _, _)| p == port)
                .copied()
                .unwrap_or_default();
            let mut f = Finding::new(
                format!("network.exposed-{kind}"),
                Severity::High,
                Step::Firewall,
                format!("{name} (port {port}) listens on a public address"),
            )
            .remedy(format!(
                "Bind {name} to 127.0.0.1 (or a private address) in its configuration, or admit only \
                 the hosts that need it with a firewall rule; the baseline drops port {port} from outside."
            ))
            .action(action.clone());
            for s in public.iter().filter(|s| s.local.port() == *port) {
                let who = match s.pids.first().and_then(|&p| info(p)) {
                    Some(p) => describe(&p),
                    None => unknown_owner.to_string(),
                };
                f = f.evidence(Evidence::at(s.label(), who).with_pid(s.pids.first().copied()));
            }
            out.finding(f);
        }

        // Reverse shells: a shell holding any network socket, or an interpreter whose
        // stdin/stdout is one. The connected TCP sockets are fetched only when such a
        // process holds a socket that is neither a listener nor a Unix socket.
        let listener_labels: HashMap<u32, Vec<String>> = listeners.iter().fold(HashMap::new(), |mut m, s| {
            for &pid in &s.pids {
                m.entry(pid).or_default().push(s.label());
            }
            m
        });
        if !complete && may_hold_reverse_shell(&procfs, &sockets, &owners) {
            match procfs.connected_sockets(&owners) {
                Ok(more) => sockets.extend(more),
                Err(e) => report_error(out, &e),
            }
        }
        let by_inode: HashMap<u64, &Socket> = sockets.iter().map(|s| (s.inode, s)).collect();
        let mut pids_with_sockets: Vec<&u32> = owners.fds.keys().collect();
        pids_with_sockets.sort();
        for &pid in pids_with_sockets {
            let fds = &owners.fds[&pid];
            let inet: Vec<(u32, &Socket)> = fds
                .iter()
                .filter_map(|(fd, inode)| by_inode.get(inode).map(|s| (*fd, *s)))
                .collect();
            if inet.is_empty() {
                continue;
            }
            let Some(p) = info(pid) else { continue };
            let exe_name = p
                .exe
                .as_ref()
                .map(|e| base_name(&e.path).to_string())
                .unwrap_or_default();
            let shell = is_shell(&p.name) || is_shell(&exe_name);
            let stdio = inet.iter().any(|(fd, _)| *fd <= 2);
            let interp = is_interpreter(&p.name) || is_interpreter(&exe_name);
            if !(shell || (interp && stdio)) {
                continue;
            }
            let mut f = Finding::new(
                "network.reverse-shell",
                Severity::Critical,
                Step::Ports,
                format!(
                    "{} (pid {pid}) holds a network connection: a reverse shell?",
                    p.name
                ),
            )
            .remedy(format!(
                "A shell or interpreter wired to the network is how attackers drive a hacked host. \
                 Note the remote address, kill the process (`kill -9 {pid}`), then find what started \
                 it (parent pid {}) and block the remote address.",
                p.ppid.map(|v| v.to_string()).unwrap_or_else(|| "unknown".into())
            ))
            .evidence(Evidence::process(pid, strip_pid(describe(&p))));
            for (fd, s) in inet {
                let peer = if s.is_listening() {
                    "listening".to_string()
                } else {
                    format!("connected to {}", s.remote)
                };
                f = f.evidence(Evidence::at(format!("{} fd {fd}", s.label()), peer).with_pid(Some(pid)));
            }
            out.finding(f);
        }

        // Executables that are deleted or live in temp dirs (every process, not only
        // socket holders: a miner or a backdoor need not listen).
        {
            for &pid in &owners.pids {
                // One readlink per process; the full record only for suspects.
                match procfs.exe(pid) {
                    Ok(e) if e.deleted || in_temp_dir(&e.path) => {}
                    _ => continue,
                }
                let Some(p) = info(pid) else { continue };
                let Ok(exe) = &p.exe else { continue };
                let temp = in_temp_dir(&exe.path);
                if !(exe.deleted || temp) {
                    continue;
                }
                if let Some(memfd) = exe.path.strip_prefix("/memfd:") {
                    // runc re-executes itself from a sealed memfd on purpose.
                    if !memfd.starts_with("runc") {
                        memfd_finding(out, &p, strip_pid(describe(&p)));
                    }
                    continue;
                }
                // After a package upgrade a daemon runs the old, replaced binary: the
                // path exists again and is not in a temp dir.
                let replaced = exe.deleted && !temp && ctx.host.resolve(&exe.path).is_ok_and(|l| l.exists());
                let listens: &[String] = listener_labels.get(&pid).map(Vec::as_slice).unwrap_or_default();
                let mut ev = strip_pid(describe(&p));
                if !listens.is_empty() {
                    ev.push_str(&format!("; listens on {}", listens.join(", ")));
                }
                if replaced {
                    out.finding(
                        Finding::new(
                            "network.exe-replaced",
                            Severity::Medium,
                            Step::Ports,
                            format!("{} (pid {pid}) runs an executable replaced on disk", p.name),
                        )
                        .evidence(Evidence::process(pid, ev))
                        .remedy(format!(
                            "Usually a package upgrade: restart the service so it runs the new, patched \
                         binary. If no upgrade replaced {}, treat it as a trojan.",
                            exe.path
                        )),
                    );
                    continue;
                }
                let (id, why) = if temp {
                    (
                        "network.exe-in-temp",
                        format!("runs from a temp directory ({})", exe.path),
                    )
                } else {
                    (
                        "network.deleted-exe",
                        format!("runs a deleted executable ({})", exe.path),
                    )
                };
                out.finding(
                    Finding::new(
                        id,
                        Severity::Critical,
                        Step::Ports,
                        format!("{} (pid {pid}) {why}", p.name),
                    )
                    .evidence(Evidence::process(pid, ev))
                    .remedy(format!(
                        "Malware deletes itself or runs from world-writable temp dirs. Copy \
                         /proc/{pid}/exe for analysis, then kill the process and quarantine the file."
                    ))
                    .action(format!("kill-quarantine pid={pid}")),
                );
            }
        }

        if !owners.unreadable.is_empty() {
            out.skip(format!(
                "the open files of {} processes of other users cannot be read without root; their \
                 sockets are listed as owner unknown",
                owners.unreadable.len()
            ));
        }
    }
}

/// Whether some shell or interpreter holds a socket that a listening-only scan cannot
/// place (neither a listener nor a Unix socket): only then are the connected TCP sockets
/// worth their dump.
fn may_hold_reverse_shell(procfs: &ProcFs, sockets: &[Socket], owners: &SocketOwners) -> bool {
    let known: HashSet<u64> = sockets.iter().map(|s| s.inode).collect();
    let mut unix: Option<HashSet<u64>> = None;
    for (&pid, fds) in &owners.fds {
        if fds.iter().all(|(_, inode)| known.contains(inode)) {
            continue;
        }
        let unix = unix.get_or_insert_with(|| procfs.unix_socket_inodes());
        let unplaced: Vec<u32> = fds
            .iter()
            .filter(|(_, inode)| !known.contains(inode) && !unix.contains(inode))
            .map(|(fd, _)| *fd)
            .collect();
        if unplaced.is_empty() {
            continue;
        }
        let exe = procfs
            .exe(pid)
            .map(|e| base_name(&e.path).to_string())
            .unwrap_or_default();
        let comm = procfs.comm(pid).unwrap_or_default();
        let names = [comm.as_str(), exe.as_str()];
        if names.iter().any(|n| is_shell(n))
            || (unplaced.iter().any(|fd| *fd <= 2) && names.iter().any(|n| is_interpreter(n)))
        {
            return true;
        }
    }
    false
}

fn memfd_finding(out: &mut Out, p: &ProcessInfo, detail: String) {
    let pid = p.pid;
    out.finding(
        Finding::new(
            "network.memfd-exe",
            Severity::High,
            Step::Ports,
            format!(
                "{} (pid {pid}) runs from an anonymous memory file (fileless)",
                p.name
            ),
        )
        .evidence(Evidence::process(pid, detail))
        .remedy(format!(
            "Fileless malware runs from memfd to leave nothing on disk; some container tools do the \
             same. If you do not know this process, copy /proc/{pid}/exe for analysis and kill it."
        ))
        .action(format!("kill-quarantine pid={pid}")),
    );
}

/// Evidence located at `pid N` need not repeat it in the detail.
fn strip_pid(detail: String) -> String {
    match detail.strip_prefix("pid ").and_then(|r| r.split_once(' ')) {
        Some((_, rest)) => rest.to_string(),
        None => detail,
    }
}

fn report_error(out: &mut Out, e: &ProcNetError) {
    out.error(e.subject(), e.to_string());
}

/// `2026-11-25 16:05` (UTC).
pub(crate) fn utc_minute(t: SystemTime) -> String {
    let secs = t
        .duration_since(SystemTime::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    let (y, m, d, h, mi, _) = rampart_core::time::utc_parts(secs as i64);
    format!("{y:04}-{m:02}-{d:02} {h:02}:{mi:02}")
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn dates() {
        let t = SystemTime::UNIX_EPOCH + Duration::from_secs(1_795_623_900);
        assert_eq!(utc_minute(t), "2026-11-25 16:25");
        assert_eq!(utc_minute(SystemTime::UNIX_EPOCH), "1970-01-01 00:00");
    }

    #[test]
    fn names() {
        assert!(is_interpreter("python3.11"));
        assert!(is_interpreter("php8.2"));
        assert!(!is_interpreter("pythonista"));
        assert!(is_shell("bash"));
        assert!(in_temp_dir("/dev/shm/x"));
        assert!(!in_temp_dir("/tmpfoo/x"));
    }
}
