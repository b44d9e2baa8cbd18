//! Sockets and the processes behind them, read from `/proc` (what `ss -tulpn` and
//! `netstat -anp` show): `/proc/net/{tcp,tcp6,udp,udp6}` for the sockets, the
//! `/proc/[pid]/fd` links (`socket:[inode]`) for their owners, and
//! `/proc/[pid]/{comm,exe,status,stat}` for who the owner is.
//!
//! Shared by triage, `rampart respond` (which process to kill) and the guard. The
//! `/proc` directory is injectable so that a missing or unreadable one can be tested.

use rampart_core::HostRoot;
use std::collections::{HashMap, HashSet};
use std::fs;
use std::io;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};
use thiserror::Error;

/// `/proc/net/tcp` of a busy server is a few MB; the cap only stops a runaway read.
const NET_TABLE_LIMIT: u64 = 256 * 1024 * 1024;
const SMALL_FILE_LIMIT: u64 = 64 * 1024;

#[derive(Debug, Error)]
pub enum ProcNetError {
    #[error(
        "{path}: /proc is not mounted or not readable ({source}); sockets and processes cannot be listed"
    )]
    NoProc { path: String, source: io::Error },
    #[error("{path}: {source}")]
    Io { path: String, source: io::Error },
    #[error("{path}:{line}: {message}")]
    Parse {
        path: String,
        line: u64,
        message: String,
    },
}

impl ProcNetError {
    /// The file (with line) the error is about, for a report's subject.
    pub fn subject(&self) -> String {
        match self {
            ProcNetError::NoProc { path, .. } | ProcNetError::Io { path, .. } => path.clone(),
            ProcNetError::Parse { path, line, .. } => format!("{path}:{line}"),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Proto {
    Tcp,
    Udp,
}

impl Proto {
    pub fn as_str(self) -> &'static str {
        match self {
            Proto::Tcp => "tcp",
            Proto::Udp => "udp",
        }
    }
}

/// TCP states as the kernel numbers them in `/proc/net/tcp`.
pub mod tcp_state {
    pub const ESTABLISHED: u8 = 0x01;
    pub const SYN_SENT: u8 = 0x02;
    pub const CLOSE: u8 = 0x07;
    pub const LISTEN: u8 = 0x0A;
}

/// One socket of the current network namespace.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Socket {
    pub proto: Proto,
    pub local: SocketAddr,
    pub remote: SocketAddr,
    /// The kernel's state number (see [`tcp_state`]); UDP uses 7 (unconnected) and 1.
    pub state: u8,
    /// The uid that created the socket (from the socket table, visible without root).
    pub uid: u32,
    pub inode: u64,
    /// The processes holding it open; empty when none could be seen.
    pub pids: Vec<u32>,
}

impl Socket {
    /// A listening TCP socket or an unconnected bound UDP socket (what `ss -tul` lists).
    pub fn is_listening(&self) -> bool {
        match self.proto {
            Proto::Tcp => self.state == tcp_state::LISTEN,
            Proto::Udp => self.remote.port() == 0 && self.remote.ip().is_unspecified(),
        }
    }

    /// Bound to loopback only: not reachable from the network.
    pub fn is_loopback(&self) -> bool {
        match self.local.ip() {
            IpAddr::V4(a) => a.is_loopback(),
            IpAddr::V6(a) => a.is_loopback() || a.to_ipv4_mapped().is_some_and(|m| m.is_loopback()),
        }
    }

    /// `tcp 0.0.0.0:3306`, `udp [::]:53`.
    pub fn label(&self) -> String {
        format!("{} {}", self.proto.as_str(), self.local)
    }
}

/// What is known about one process.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProcessInfo {
    pub pid: u32,
    pub ppid: Option<u32>,
    /// `comm` (at most 15 bytes, set by the process itself: attackers fake it).
    pub name: String,
    /// The executable the kernel ran, or why it could not be read.
    pub exe: Result<Exe, String>,
    /// Real uid.
    pub uid: Option<u32>,
    pub start: Option<SystemTime>,
    /// A kernel thread: no executable, no user space.
    pub kernel_thread: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Exe {
    /// The path without the kernel's ` (deleted)` suffix.
    pub path: String,
    /// The file was deleted (or replaced) after the process started.
    pub deleted: bool,
}

impl ProcessInfo {
    /// `/usr/sbin/mariadbd`, `/tmp/x (deleted)`, or why the exe is unknown.
    pub fn exe_display(&self) -> String {
        match &self.exe {
            Ok(e) if e.deleted => format!("{} (deleted)", e.path),
            Ok(e) => e.path.clone(),
            Err(why) => format!("exe unknown: {why}"),
        }
    }
}

/// A `/proc` file system: `/proc` on the running host, any directory in tests.
#[derive(Debug, Clone)]
pub struct ProcFs {
    dir: PathBuf,
}

impl ProcFs {
    pub fn new(dir: impl Into<PathBuf>) -> Self {
        ProcFs { dir: dir.into() }
    }

    /// The `/proc` of a host (only meaningful for a live host).
    pub fn of(host: &HostRoot) -> Self {
        ProcFs::new(host.root_dir().join("proc"))
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    fn path(&self, rel: &str) -> PathBuf {
        self.dir.join(rel)
    }

    fn shown(&self, rel: &str) -> String {
        self.path(rel).display().to_string()
    }

    /// Fails with a clear error when `/proc` is not there (a chroot, a container
    /// without procfs, a mistaken `--root`).
    pub fn ensure_mounted(&self) -> Result<(), ProcNetError> {
        let self_stat = self.path("self/stat");
        let probe = if self_stat.exists() {
            self_stat
        } else {
            self.path("net/tcp")
        };
        fs::metadata(&probe)
            .map(|_| ())
            .map_err(|source| ProcNetError::NoProc {
                path: self.dir.display().to_string(),
                source,
            })
    }

    /// Every TCP and UDP socket (IPv4 and IPv6) with the processes holding it. Problems
    /// with single tables or processes are returned next to the sockets.
    pub fn sockets(&self) -> Result<(Vec<Socket>, Vec<ProcNetError>), ProcNetError> {
        self.scan().map(|s| (s.sockets, s.errors))
    }

    /// Sockets, their owners and the per-process fd map from one pass over `/proc`.
    pub fn scan(&self) -> Result<Scan, ProcNetError> {
        self.scan_set(SocketSet::All)
    }

    /// Like [`ProcFs::scan`], but on the live host the kernel is asked only for listening
    /// TCP sockets (and all UDP ones), as `ss -tulpn` does: dumping the other TCP states
    /// walks the whole established hash table (a quarter million buckets per family on a
    /// machine with a few GB of RAM) even when it is empty. [`Scan::complete`] says whether
    /// connected TCP sockets are in; [`ProcFs::connected_sockets`] fetches them.
    pub fn scan_listening(&self) -> Result<Scan, ProcNetError> {
        self.scan_set(SocketSet::Listening)
    }

    fn scan_set(&self, set: SocketSet) -> Result<Scan, ProcNetError> {
        self.ensure_mounted()?;
        let mut errors = Vec::new();
        // The kernel filters out TIME_WAIT sockets over netlink; the /proc text tables
        // list them all (tens of thousands on a busy server), so netlink is preferred on
        // the live /proc and the tables are the fallback (and what tests plant).
        let netlink = match self.is_live() {
            true => match set {
                SocketSet::All => diag::dump_all(),
                SocketSet::Listening => diag::dump_listening(),
            }
            .ok(),
            false => None,
        };
        let complete = set == SocketSet::All || netlink.is_none();
        let mut sockets = match netlink {
            Some(v) => v,
            None => self.text_tables(&mut errors),
        };
        let owners = self.socket_owners();
        for s in &mut sockets {
            if let Some(p) = owners.by_inode.get(&s.inode) {
                s.pids = p.clone();
            }
        }
        Ok(Scan {
            sockets,
            owners,
            errors,
            complete,
        })
    }

    fn is_live(&self) -> bool {
        self.dir == Path::new("/proc")
    }

    /// Every socket of the text tables `/proc/net/{tcp,tcp6,udp,udp6}`.
    fn text_tables(&self, errors: &mut Vec<ProcNetError>) -> Vec<Socket> {
        let mut sockets = Vec::new();
        for (file, proto) in [
            ("net/tcp", Proto::Tcp),
            ("net/tcp6", Proto::Tcp),
            ("net/udp", Proto::Udp),
            ("net/udp6", Proto::Udp),
        ] {
            match read_limited(&self.path(file), NET_TABLE_LIMIT) {
                Ok(text) => parse_net_table(&self.shown(file), &text, proto, &mut sockets, errors),
                // IPv6 disabled: no tcp6/udp6 table.
                Err(e) if e.kind() == io::ErrorKind::NotFound && file.ends_with('6') => {}
                Err(source) => errors.push(ProcNetError::Io {
                    path: self.shown(file),
                    source,
                }),
            }
        }
        sockets
    }

    /// The TCP sockets a listening-only scan left out (connected, closing, connecting),
    /// with their owners from `owners`.
    pub fn connected_sockets(&self, owners: &SocketOwners) -> Result<Vec<Socket>, ProcNetError> {
        let mut v = diag::dump_connected().map_err(|source| ProcNetError::Io {
            path: "NETLINK_SOCK_DIAG".into(),
            source,
        })?;
        for s in &mut v {
            if let Some(p) = owners.by_inode.get(&s.inode) {
                s.pids = p.clone();
            }
        }
        Ok(v)
    }

    /// The inodes of every Unix-domain socket (none when they cannot be listed): the
    /// sockets a process holds that are neither these nor known inet ones are the
    /// only ones worth a full TCP dump.
    pub fn unix_socket_inodes(&self) -> HashSet<u64> {
        match self.is_live() {
            true => diag::unix_inodes().unwrap_or_default(),
            false => HashSet::new(),
        }
    }

    /// Listening TCP and unconnected UDP sockets, as `ss -tulpn` lists them.
    pub fn listening_sockets(&self) -> Result<(Vec<Socket>, Vec<ProcNetError>), ProcNetError> {
        let (mut v, errs) = self.sockets()?;
        v.retain(Socket::is_listening);
        Ok((v, errs))
    }

    /// The pids in `/proc`.
    pub fn pids(&self) -> Result<Vec<u32>, ProcNetError> {
        let rd = fs::read_dir(&self.dir).map_err(|source| ProcNetError::NoProc {
            path: self.dir.display().to_string(),
            source,
        })?;
        let mut v: Vec<u32> = rd
            .filter_map(|e| e.ok())
            .filter_map(|e| e.file_name().to_str().and_then(|s| s.parse().ok()))
            .collect();
        v.sort_unstable();
        Ok(v)
    }

    /// Maps socket inodes to the pids holding them, by reading every process's fd
    /// links. Processes whose fds cannot be read (other users' without root) are counted.
    pub fn socket_owners(&self) -> SocketOwners {
        let mut o = SocketOwners::default();
        let Ok(pids) = self.pids() else { return o };
        // Two threads halve the wall time of the readlink storm on a busy 2-core server;
        // for a few hundred processes a thread costs more than it saves.
        let threads = if pids.len() > 256 { 2 } else { 1 };
        let chunk = pids.len().div_ceil(threads).max(1);
        let parts: Vec<FdScan> = if threads == 1 {
            vec![self.scan_fds(&pids)]
        } else {
            std::thread::scope(|s| {
                let handles: Vec<_> = pids
                    .chunks(chunk)
                    .map(|c| s.spawn(move || self.scan_fds(c)))
                    .collect();
                handles
                    .into_iter()
                    .map(|h| h.join().unwrap_or_default())
                    .collect()
            })
        };
        for part in parts {
            o.unreadable.extend(part.unreadable);
            for (pid, fd, inode) in part.sockets {
                let holders = o.by_inode.entry(inode).or_default();
                if !holders.contains(&pid) {
                    holders.push(pid);
                }
                o.fds.entry(pid).or_default().push((fd, inode));
            }
        }
        o.pids = pids;
        o
    }

    fn scan_fds(&self, pids: &[u32]) -> FdScan {
        let mut r = FdScan::default();
        let mut path = Vec::with_capacity(self.dir.as_os_str().len() + 16);
        for &pid in pids {
            path.clear();
            path.extend_from_slice(self.dir.as_os_str().as_bytes());
            path.extend_from_slice(format!("/{pid}/fd").as_bytes());
            match fd_links::socket_fds(&path, |fd, inode| r.sockets.push((pid, fd, inode))) {
                Ok(()) => {}
                Err(e) if e.kind() == io::ErrorKind::PermissionDenied => r.unreadable.push(pid),
                // Gone since the listing.
                Err(_) => {}
            }
        }
        r
    }

    /// What `/proc/[pid]` says about one process; `None` when it is gone.
    pub fn process(&self, pid: u32, clock: &Clock) -> Option<ProcessInfo> {
        let base = self.dir.join(pid.to_string());
        let stat = read_limited(&base.join("stat"), SMALL_FILE_LIMIT).ok()?;
        let parsed = parse_stat(&stat);
        let name = read_limited(&base.join("comm"), SMALL_FILE_LIMIT)
            .map(|s| s.trim_end_matches('\n').to_string())
            .unwrap_or_else(|_| parsed.as_ref().map(|p| p.comm.clone()).unwrap_or_default());
        let kernel_thread = parsed.as_ref().is_some_and(|p| p.flags & PF_KTHREAD != 0);
        let exe = match self.exe(pid) {
            Ok(e) => Ok(e),
            Err(e) if e.kind() == io::ErrorKind::PermissionDenied => {
                Err("not readable without root".to_string())
            }
            Err(e) if e.kind() == io::ErrorKind::NotFound && kernel_thread => {
                Err("kernel thread".to_string())
            }
            Err(e) => Err(e.to_string()),
        };
        let uid = read_limited(&base.join("status"), SMALL_FILE_LIMIT)
            .ok()
            .and_then(|s| {
                s.lines()
                    .find_map(|l| l.strip_prefix("Uid:"))
                    .and_then(|v| v.split_whitespace().next()?.parse().ok())
            });
        let start = parsed.as_ref().and_then(|p| clock.start_time(p.start_ticks));
        Some(ProcessInfo {
            pid,
            ppid: parsed.as_ref().map(|p| p.ppid),
            name,
            exe,
            uid,
            start,
            kernel_thread,
        })
    }

    /// The `comm` name of a process, without reading anything else.
    pub fn comm(&self, pid: u32) -> Option<String> {
        read_limited(&self.dir.join(pid.to_string()).join("comm"), SMALL_FILE_LIMIT)
            .ok()
            .map(|s| s.trim_end_matches('\n').to_string())
    }

    /// The executable of a process (the `exe` link), without reading anything else.
    pub fn exe(&self, pid: u32) -> io::Result<Exe> {
        let p = fs::read_link(self.dir.join(pid.to_string()).join("exe"))?;
        let s = p.to_string_lossy();
        Ok(match s.strip_suffix(" (deleted)") {
            Some(path) => Exe {
                path: path.to_string(),
                deleted: true,
            },
            None => Exe {
                path: s.into_owned(),
                deleted: false,
            },
        })
    }

    /// Boot time and clock ticks, needed to turn a process's start into wall time.
    pub fn clock(&self) -> Clock {
        let btime = read_limited(&self.path("stat"), SMALL_FILE_LIMIT)
            .ok()
            .and_then(|s| {
                s.lines()
                    .find_map(|l| l.strip_prefix("btime "))
                    .and_then(|v| v.trim().parse::<u64>().ok())
            });
        // SAFETY: sysconf has no preconditions.
        let tck = unsafe { libc::sysconf(libc::_SC_CLK_TCK) };
        Clock {
            boot: btime.map(|b| SystemTime::UNIX_EPOCH + Duration::from_secs(b)),
            ticks_per_sec: if tck > 0 { tck as u64 } else { 100 },
        }
    }
}

/// NETLINK_SOCK_DIAG: the socket dump `ss` uses, filtered by state in the kernel.
mod diag {
    use super::{Proto, Socket};
    use std::collections::HashSet;
    use std::io;
    use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
    use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};

    const NETLINK_SOCK_DIAG: i32 = 4;
    const SOCK_DIAG_BY_FAMILY: u16 = 20;
    const NLM_F_REQUEST: u16 = 0x1;
    const NLM_F_DUMP: u16 = 0x300;
    const NLMSG_ERROR: u16 = 2;
    const NLMSG_DONE: u16 = 3;
    /// Every TCP state but TIME_WAIT (6) and SYN_RECV (3): those have no owner.
    const TCP_STATES: u32 = 0xfff & !(1 << 6) & !(1 << 3);
    const ALL_STATES: u32 = 0xfff;
    const LISTEN: u32 = super::tcp_state::LISTEN as u32;

    /// TCP and UDP, IPv4 and IPv6. An error (no netlink here, a seccomp filter) means
    /// the caller falls back to the text tables.
    pub fn dump_all() -> io::Result<Vec<Socket>> {
        dump_states(TCP_STATES, ALL_STATES)
    }

    /// Listening TCP and every UDP socket (the UDP table has no separate listening hash).
    pub fn dump_listening() -> io::Result<Vec<Socket>> {
        dump_states(1 << LISTEN, ALL_STATES)
    }

    /// TCP sockets in every state but listening (and TIME_WAIT / SYN_RECV).
    pub fn dump_connected() -> io::Result<Vec<Socket>> {
        dump_states(TCP_STATES & !(1 << LISTEN), 0)
    }

    fn dump_states(tcp: u32, udp: u32) -> io::Result<Vec<Socket>> {
        let mut out = Vec::new();
        for (family, proto, states) in [
            (libc::AF_INET, Proto::Tcp, tcp),
            (libc::AF_INET6, Proto::Tcp, tcp),
            (libc::AF_INET, Proto::Udp, udp),
            (libc::AF_INET6, Proto::Udp, udp),
        ] {
            if states != 0 {
                let protocol = match proto {
                    Proto::Tcp => libc::IPPROTO_TCP,
                    Proto::Udp => libc::IPPROTO_UDP,
                } as u8;
                // inet_diag_req_v2: family, protocol, ext, pad, states, sockid (48): no filter.
                let mut req = vec![family as u8, protocol, 0, 0];
                req.extend_from_slice(&states.to_ne_bytes());
                req.extend_from_slice(&[0u8; 48]);
                dump(&req, &mut |m| {
                    if let Some(s) = parse_msg(m, proto) {
                        out.push(s);
                    }
                })?;
            }
        }
        Ok(out)
    }

    /// Inodes of all Unix-domain sockets (unix_diag: family, protocol, pad, states,
    /// ino, show, cookie).
    pub fn unix_inodes() -> io::Result<HashSet<u64>> {
        let mut req = vec![libc::AF_UNIX as u8, 0, 0, 0];
        req.extend_from_slice(&u32::MAX.to_ne_bytes());
        req.extend_from_slice(&[0u8; 16]);
        let mut out = HashSet::new();
        // unix_diag_msg: family, type, state, pad, ino, cookie.
        dump(&req, &mut |m| {
            if let Some(b) = m.get(4..8) {
                out.insert(u32::from_ne_bytes(b.try_into().unwrap_or_default()) as u64);
            }
        })?;
        Ok(out)
    }

    /// Sends one SOCK_DIAG_BY_FAMILY dump request with `body` and hands each reply
    /// message's payload to `each`.
    fn dump(body: &[u8], each: &mut dyn FnMut(&[u8])) -> io::Result<()> {
        // SAFETY: plain socket(2) call; the result is checked and owned below.
        let raw = unsafe {
            libc::socket(
                libc::AF_NETLINK,
                libc::SOCK_RAW | libc::SOCK_CLOEXEC,
                NETLINK_SOCK_DIAG,
            )
        };
        if raw < 0 {
            return Err(io::Error::last_os_error());
        }
        // SAFETY: raw is a fresh, valid descriptor that nothing else owns.
        let fd = unsafe { OwnedFd::from_raw_fd(raw) };
        let tv = libc::timeval {
            tv_sec: 2,
            tv_usec: 0,
        };
        // SAFETY: tv lives across the call and its size is passed.
        unsafe {
            libc::setsockopt(
                fd.as_raw_fd(),
                libc::SOL_SOCKET,
                libc::SO_RCVTIMEO,
                &tv as *const _ as *const libc::c_void,
                std::mem::size_of::<libc::timeval>() as u32,
            )
        };
        // nlmsghdr (16) + the request body
        let len = 16 + body.len() as u32;
        let mut req = Vec::with_capacity(len as usize);
        req.extend_from_slice(&len.to_ne_bytes());
        req.extend_from_slice(&SOCK_DIAG_BY_FAMILY.to_ne_bytes());
        req.extend_from_slice(&(NLM_F_REQUEST | NLM_F_DUMP).to_ne_bytes());
        req.extend_from_slice(&1u32.to_ne_bytes()); // seq
        req.extend_from_slice(&0u32.to_ne_bytes()); // pid
        req.extend_from_slice(body);
        // SAFETY: sockaddr_nl is plain data; zeroed is its valid "kernel" address.
        let mut addr: libc::sockaddr_nl = unsafe { std::mem::zeroed() };
        addr.nl_family = libc::AF_NETLINK as u16;
        // SAFETY: req and addr are valid for the lengths passed.
        let sent = unsafe {
            libc::sendto(
                fd.as_raw_fd(),
                req.as_ptr() as *const libc::c_void,
                req.len(),
                0,
                &addr as *const _ as *const libc::sockaddr,
                std::mem::size_of::<libc::sockaddr_nl>() as u32,
            )
        };
        if sent < 0 {
            return Err(io::Error::last_os_error());
        }
        let mut buf = vec![0u8; 64 * 1024];
        loop {
            // SAFETY: buf is valid for writes of its length.
            let n = unsafe {
                libc::recv(
                    fd.as_raw_fd(),
                    buf.as_mut_ptr() as *mut libc::c_void,
                    buf.len(),
                    0,
                )
            };
            if n < 0 {
                let e = io::Error::last_os_error();
                if e.kind() == io::ErrorKind::Interrupted {
                    continue;
                }
                return Err(e);
            }
            if n == 0 {
                return Ok(());
            }
            let mut msgs = &buf[..n as usize];
            while msgs.len() >= 16 {
                let len = u32::from_ne_bytes(msgs[0..4].try_into().unwrap()) as usize;
                let kind = u16::from_ne_bytes(msgs[4..6].try_into().unwrap());
                if len < 16 || len > msgs.len() {
                    return Err(io::Error::new(
                        io::ErrorKind::InvalidData,
                        "truncated netlink message",
                    ));
                }
                match kind {
                    NLMSG_DONE => return Ok(()),
                    NLMSG_ERROR => {
                        let errno = msgs
                            .get(16..20)
                            .map(|b| i32::from_ne_bytes(b.try_into().unwrap()))
                            .unwrap_or(0);
                        return Err(io::Error::from_raw_os_error(-errno));
                    }
                    _ => each(&msgs[16..len]),
                }
                msgs = &msgs[((len + 3) & !3).min(msgs.len())..];
            }
        }
    }

    /// inet_diag_msg: family, state, timer, retrans, sockid (48), expires, rqueue,
    /// wqueue, uid, inode.
    fn parse_msg(m: &[u8], proto: Proto) -> Option<Socket> {
        if m.len() < 72 {
            return None;
        }
        let be16 = |i: usize| u16::from_be_bytes([m[i], m[i + 1]]);
        let ne32 = |i: usize| u32::from_ne_bytes(m[i..i + 4].try_into().unwrap());
        let ip = |at: usize| -> Option<IpAddr> {
            match m[0] as i32 {
                libc::AF_INET => Some(IpAddr::V4(Ipv4Addr::new(m[at], m[at + 1], m[at + 2], m[at + 3]))),
                libc::AF_INET6 => {
                    let b: [u8; 16] = m[at..at + 16].try_into().ok()?;
                    Some(IpAddr::V6(Ipv6Addr::from(b)))
                }
                _ => None,
            }
        };
        Some(Socket {
            proto,
            local: SocketAddr::new(ip(8)?, be16(4)),
            remote: SocketAddr::new(ip(24)?, be16(6)),
            state: m[1],
            uid: ne32(64),
            inode: ne32(68) as u64,
            pids: Vec::new(),
        })
    }
}

/// The `/proc` of a host's listening sockets, as the guard and `respond` use them.
pub fn listening_sockets(host: &HostRoot) -> Result<(Vec<Socket>, Vec<ProcNetError>), ProcNetError> {
    ProcFs::of(host).listening_sockets()
}

#[derive(Debug, Clone, Copy)]
pub struct Clock {
    pub boot: Option<SystemTime>,
    pub ticks_per_sec: u64,
}

impl Clock {
    pub fn start_time(&self, ticks: u64) -> Option<SystemTime> {
        let ms = ticks.checked_mul(1000)? / self.ticks_per_sec.max(1);
        Some(self.boot? + Duration::from_millis(ms))
    }
}

/// What one pass over `/proc` found.
#[derive(Debug, Default)]
pub struct Scan {
    pub sockets: Vec<Socket>,
    pub owners: SocketOwners,
    /// Unreadable or malformed socket tables.
    pub errors: Vec<ProcNetError>,
    /// Connected TCP sockets are in `sockets` (false after a listening-only netlink dump).
    pub complete: bool,
}

/// The sockets a scan asks the kernel for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum SocketSet {
    All,
    Listening,
}

#[derive(Debug, Default)]
struct FdScan {
    /// (pid, fd, socket inode)
    sockets: Vec<(u32, u32, u64)>,
    unreadable: Vec<u32>,
}

#[derive(Debug, Default)]
pub struct SocketOwners {
    /// Every pid seen in `/proc` during the scan.
    pub pids: Vec<u32>,
    pub by_inode: HashMap<u64, Vec<u32>>,
    /// (fd number, socket inode) of each process that holds sockets.
    pub fds: HashMap<u32, Vec<(u32, u64)>>,
    /// Processes whose fd table could not be read (not root).
    pub unreadable: Vec<u32>,
}

const PF_KTHREAD: u64 = 0x0020_0000;

struct Stat {
    comm: String,
    ppid: u32,
    flags: u64,
    start_ticks: u64,
}

/// `/proc/[pid]/stat`: `pid (comm) state ppid … flags(9) … starttime(22) …`. The comm may
/// contain spaces and parentheses, so fields are counted after the last `)`.
fn parse_stat(s: &str) -> Option<Stat> {
    let open = s.find('(')?;
    let close = s.rfind(')')?;
    let comm = s.get(open + 1..close)?.to_string();
    let rest: Vec<&str> = s.get(close + 1..)?.split_whitespace().collect();
    // rest[0] is field 3 (state).
    Some(Stat {
        comm,
        ppid: rest.get(1)?.parse().ok()?,
        flags: rest.get(6)?.parse().ok()?,
        start_ticks: rest.get(19)?.parse().ok()?,
    })
}

/// The socket links of one `/proc/[pid]/fd` directory, read relative to the open
/// directory (`readlinkat`): a few hundred thousand links on a busy server, and a full
/// path walk through `/proc/[pid]` for each would cost as much again.
mod fd_links {
    use std::ffi::{CStr, CString};
    use std::io;
    use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};

    /// Calls `each(fd, inode)` for every `socket:[inode]` link in the directory `dir`.
    pub fn socket_fds(dir: &[u8], mut each: impl FnMut(u32, u64)) -> io::Result<()> {
        let c = CString::new(dir).map_err(|_| io::Error::from(io::ErrorKind::InvalidInput))?;
        // SAFETY: c is a valid NUL-terminated path; the result is checked.
        let fd = unsafe { libc::open(c.as_ptr(), libc::O_RDONLY | libc::O_DIRECTORY | libc::O_CLOEXEC) };
        if fd < 0 {
            return Err(io::Error::last_os_error());
        }
        // SAFETY: fd is a fresh descriptor that nothing else owns; OwnedFd closes it.
        let dir = unsafe { OwnedFd::from_raw_fd(fd) };
        // getdents64 straight into a buffer: fdopendir/readdir would add an fstat and two
        // fcntl calls per directory.
        let mut ents = [0u64; 512];
        let mut link = [0u8; 64];
        loop {
            // SAFETY: the buffer is valid for writes of its size in bytes.
            let n = unsafe {
                libc::syscall(
                    libc::SYS_getdents64,
                    dir.as_raw_fd(),
                    ents.as_mut_ptr() as *mut libc::c_void,
                    std::mem::size_of_val(&ents),
                )
            };
            if n < 0 {
                return Err(io::Error::last_os_error());
            }
            if n == 0 {
                return Ok(());
            }
            // procfs fills the buffer until an entry no longer fits, and fd names are
            // numbers (records of at most 32 bytes): room left over means the listing ended.
            let done = (n as usize) + 64 <= std::mem::size_of_val(&ents);
            // SAFETY: the kernel wrote n bytes; u64s viewed as bytes are always valid.
            let bytes = unsafe { std::slice::from_raw_parts(ents.as_ptr() as *const u8, n as usize) };
            // linux_dirent64: ino (8), off (8), reclen (2), type (1), NUL-terminated name.
            let mut at = 0;
            while at + 19 < bytes.len() {
                let reclen = u16::from_ne_bytes([bytes[at + 16], bytes[at + 17]]) as usize;
                if reclen < 20 || at + reclen > bytes.len() {
                    return Err(io::Error::new(
                        io::ErrorKind::InvalidData,
                        "bad getdents64 record",
                    ));
                }
                let name = &bytes[at + 19..at + reclen];
                at += reclen;
                let Ok(name) = CStr::from_bytes_until_nul(name) else {
                    continue;
                };
                let Some(num) = std::str::from_utf8(name.to_bytes())
                    .ok()
                    .and_then(|s| s.parse::<u32>().ok())
                else {
                    continue;
                };
                // SAFETY: the directory fd is valid, name is NUL-terminated, link's length is passed.
                let len = unsafe {
                    libc::readlinkat(
                        dir.as_raw_fd(),
                        name.as_ptr(),
                        link.as_mut_ptr() as *mut libc::c_char,
                        link.len(),
                    )
                };
                if len > 0 {
                    if let Some(inode) = inode_of(&link[..len as usize]) {
                        each(num, inode);
                    }
                }
            }
            if done {
                return Ok(());
            }
        }
    }

    /// `socket:[12345]` → 12345.
    pub fn inode_of(link: &[u8]) -> Option<u64> {
        std::str::from_utf8(link.strip_prefix(b"socket:[")?.strip_suffix(b"]")?)
            .ok()?
            .parse()
            .ok()
    }
}

fn read_limited(path: &Path, limit: u64) -> io::Result<String> {
    use io::Read;
    let f = fs::File::open(path)?;
    let mut buf = Vec::new();
    f.take(limit).read_to_end(&mut buf)?;
    Ok(String::from_utf8_lossy(&buf).into_owned())
}

/// Parses one `/proc/net/{tcp,udp}[6]` table into `out`.
pub fn parse_net_table(
    path: &str,
    text: &str,
    proto: Proto,
    out: &mut Vec<Socket>,
    errors: &mut Vec<ProcNetError>,
) {
    for (i, line) in text.lines().enumerate().skip(1) {
        if line.trim().is_empty() {
            continue;
        }
        match parse_net_line(line, proto) {
            Some(s) => out.push(s),
            None => errors.push(ProcNetError::Parse {
                path: path.to_string(),
                line: i as u64 + 1,
                message: "unexpected socket table line".into(),
            }),
        }
    }
}

fn parse_net_line(line: &str, proto: Proto) -> Option<Socket> {
    let f: Vec<&str> = line.split_whitespace().collect();
    if f.len() < 10 {
        return None;
    }
    Some(Socket {
        proto,
        local: parse_addr(f[1])?,
        remote: parse_addr(f[2])?,
        state: u8::from_str_radix(f[3], 16).ok()?,
        uid: f[7].parse().ok()?,
        inode: f[9].parse().ok()?,
        pids: Vec::new(),
    })
}

/// `0100007F:0CEA` → 127.0.0.1:3306. The kernel prints each 32-bit word of the address
/// in host byte order; the port is plain hex.
fn parse_addr(s: &str) -> Option<SocketAddr> {
    let (addr, port) = s.split_once(':')?;
    let port = u16::from_str_radix(port, 16).ok()?;
    let ip = match addr.len() {
        8 => IpAddr::V4(Ipv4Addr::from(u32::from_str_radix(addr, 16).ok()?.to_ne_bytes())),
        32 => {
            let mut bytes = [0u8; 16];
            for i in 0..4 {
                let word = u32::from_str_radix(addr.get(i * 8..i * 8 + 8)?, 16).ok()?;
                bytes[i * 4..i * 4 + 4].copy_from_slice(&word.to_ne_bytes());
            }
            IpAddr::V6(Ipv6Addr::from(bytes))
        }
        _ => return None,
    };
    Some(SocketAddr::new(ip, port))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    #[cfg(target_endian = "little")]
    fn parses_socket_tables() {
        let text = "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n   \
          0: 0100007F:0CEA 00000000:0000 0A 00000000:00000000 00:00000000 00000000   102        0 27704 1 0 100 0 0 10 0\n   \
          1: garbage\n";
        let mut v = Vec::new();
        let mut errs = Vec::new();
        parse_net_table("/proc/net/tcp", text, Proto::Tcp, &mut v, &mut errs);
        assert_eq!(v.len(), 1);
        assert_eq!(v[0].label(), "tcp 127.0.0.1:3306");
        assert!(v[0].is_listening() && v[0].is_loopback());
        assert_eq!((v[0].uid, v[0].inode), (102, 27704));
        assert_eq!(errs.len(), 1);
        assert_eq!(errs[0].subject(), "/proc/net/tcp:3");

        let six = "00000000000000000000000001000000:0016";
        assert_eq!(parse_addr(six).unwrap().to_string(), "[::1]:22");
        let any6 = "00000000000000000000000000000000:0035";
        assert_eq!(parse_addr(any6).unwrap().to_string(), "[::]:53");
    }

    #[test]
    fn stat_with_hostile_comm() {
        let s = "42 (a) b (c) S 1 42 42 0 -1 4194560 0 0 0 0 0 0 0 0 20 0 1 0 12345 0 0";
        let st = parse_stat(s).unwrap();
        assert_eq!(st.comm, "a) b (c");
        assert_eq!(st.ppid, 1);
        assert_eq!(st.start_ticks, 12345);
        assert_eq!(st.flags, 4194560);
    }

    #[test]
    fn fd_scan_pages_through_large_fd_tables() {
        // More entries than one getdents64 buffer (4 KB) holds.
        let socks: Vec<std::net::UdpSocket> = (0..400)
            .map(|_| std::net::UdpSocket::bind("127.0.0.1:0").unwrap())
            .collect();
        let files: Vec<std::fs::File> = (0..50)
            .map(|_| std::fs::File::open("/proc/self/stat").unwrap())
            .collect();
        let dir = format!("/proc/{}/fd", std::process::id());
        let mut seen = HashSet::new();
        fd_links::socket_fds(dir.as_bytes(), |fd, _| {
            seen.insert(fd as i32);
        })
        .unwrap();
        use std::os::fd::AsRawFd;
        for s in &socks {
            assert!(seen.contains(&s.as_raw_fd()), "fd {} missed", s.as_raw_fd());
        }
        assert!(
            files.iter().all(|f| !seen.contains(&f.as_raw_fd())),
            "a file taken for a socket"
        );
    }

    #[test]
    fn listening_scan_leaves_connections_to_the_on_demand_dump() {
        use std::os::fd::AsRawFd;
        let procfs = ProcFs::new("/proc");
        if diag::dump_listening().is_err() {
            eprintln!("skipped: no NETLINK_SOCK_DIAG here");
            return;
        }
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let client = std::net::TcpStream::connect(l.local_addr().unwrap()).unwrap();
        let (server, _) = l.accept().unwrap();
        let (u1, _u2) = std::os::unix::net::UnixStream::pair().unwrap();
        let inode = |fd: i32| {
            let mut st: libc::stat = unsafe { std::mem::zeroed() };
            // SAFETY: fd is open for the whole test and st is a valid out pointer.
            assert_eq!(unsafe { libc::fstat(fd, &mut st) }, 0);
            st.st_ino
        };
        let (li, ci, si, ui) = (
            inode(l.as_raw_fd()),
            inode(client.as_raw_fd()),
            inode(server.as_raw_fd()),
            inode(u1.as_raw_fd()),
        );
        let scan = procfs.scan_listening().unwrap();
        assert!(!scan.complete);
        let has = |v: &[Socket], i: u64| v.iter().any(|s| s.inode == i);
        assert!(has(&scan.sockets, li), "listener missing from the listening scan");
        assert!(!has(&scan.sockets, ci) && !has(&scan.sockets, si));
        let me = std::process::id();
        let held: Vec<u64> = scan.owners.fds[&me].iter().map(|(_, i)| *i).collect();
        assert!(
            [li, ci, si, ui].iter().all(|i| held.contains(i)),
            "fd scan missed one of ours"
        );
        let more = procfs.connected_sockets(&scan.owners).unwrap();
        let conn = more.iter().find(|s| s.inode == ci).expect("client connection");
        assert_eq!(conn.pids, vec![me]);
        assert!(has(&more, si) && !has(&more, li));
        assert!(procfs.unix_socket_inodes().contains(&ui));
        let full = procfs.scan().unwrap();
        assert!(full.complete && [li, ci, si].iter().all(|&i| has(&full.sockets, i)));
    }

    #[test]
    fn netlink_and_text_tables_agree_on_listeners() {
        if !Path::new("/proc/net/tcp").exists() {
            return;
        }
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = l.local_addr().unwrap().port();
        let Ok(nl) = diag::dump_all() else {
            eprintln!("skipped: no NETLINK_SOCK_DIAG here");
            return;
        };
        let mut text = Vec::new();
        let mut errs = Vec::new();
        for (f, proto) in [
            ("tcp", Proto::Tcp),
            ("tcp6", Proto::Tcp),
            ("udp", Proto::Udp),
            ("udp6", Proto::Udp),
        ] {
            if let Ok(t) = std::fs::read_to_string(format!("/proc/net/{f}")) {
                parse_net_table(f, &t, proto, &mut text, &mut errs);
            }
        }
        let key = |v: &[Socket]| {
            let mut k: Vec<_> = v
                .iter()
                .filter(|s| s.is_listening())
                .map(|s| (s.proto, s.local, s.inode, s.uid))
                .collect();
            k.sort();
            k
        };
        let (a, b) = (key(&nl), key(&text));
        assert!(a.iter().any(|k| k.1.port() == port), "{a:?}");
        // Sockets may come and go between the two reads (other tests run); ours is stable.
        let ours = |v: &[(Proto, SocketAddr, u64, u32)]| v.iter().find(|k| k.1.port() == port).copied();
        assert_eq!(ours(&a), ours(&b));
    }

    #[test]
    fn missing_proc_is_a_clear_error() {
        let p = ProcFs::new("/nonexistent-proc");
        let err = p.sockets().unwrap_err();
        assert!(err.to_string().contains("/proc is not mounted"), "{err}");
    }
}
