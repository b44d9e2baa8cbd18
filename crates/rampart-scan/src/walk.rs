//! Parallel, race-safe directory walk.
//!
//! Every directory and file is opened relative to its parent's descriptor with
//! `O_NOFOLLOW` (`openat`), so neither a symlink nor a directory swapped for a symlink
//! mid-walk can lead outside a scanned root. The walk stays on the root's file system,
//! skips special files, and checks that the opened file is the inode it listed. Files
//! larger than the cap are skipped by their size, never read.

use crate::engine::{ContentVerdict, Engine};
use serde::Serialize;
use std::collections::BTreeMap;
use std::ffi::{CStr, CString, OsStr};
use std::fs::File;
use std::io::Read;
use std::os::fd::{AsRawFd, FromRawFd};
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Condvar, Mutex};
use std::time::{Duration, Instant};

#[derive(Debug, Clone)]
pub struct Options {
    /// Files larger than this are skipped (`too-large`), never read.
    pub max_file_size: u64,
    /// Worker threads (0: one per CPU).
    pub threads: usize,
    /// Stay on each root's file system.
    pub one_file_system: bool,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            max_file_size: 32 << 20,
            threads: 0,
            one_file_system: true,
        }
    }
}

/// A file the engine flagged (score above zero is reported to the caller, which decides
/// on thresholds).
#[derive(Debug, Clone, Serialize)]
pub struct Detection {
    pub path: PathBuf,
    pub size: u64,
    pub dev: u64,
    pub ino: u64,
    /// More than one hard link: the content is reachable under other names, possibly
    /// outside the scanned tree, so it is reported but never moved.
    pub nlink: u64,
    #[serde(flatten)]
    pub verdict: ContentVerdict,
}

/// Why a file was not scanned; counted per reason.
pub mod skip {
    pub const SYMLINK: &str = "symlink";
    pub const FIFO: &str = "fifo";
    pub const SOCKET: &str = "socket";
    pub const DEVICE: &str = "device";
    pub const TOO_LARGE: &str = "too-large";
    pub const OTHER_FS: &str = "other-file-system";
    pub const CHANGED: &str = "changed-while-scanning";
    pub const UNREADABLE: &str = "unreadable";
    pub const VANISHED: &str = "vanished";
}

#[derive(Debug, Default, Clone, Serialize)]
pub struct Summary {
    pub files_scanned: u64,
    pub bytes_scanned: u64,
    pub dirs: u64,
    pub skipped: BTreeMap<String, u64>,
    /// Paths that could not be read, with the error (also counted in `skipped`).
    pub errors: Vec<(PathBuf, String)>,
    #[serde(with = "ms")]
    pub elapsed: Duration,
}

mod ms {
    pub fn serialize<S: serde::Serializer>(d: &std::time::Duration, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_u64(d.as_millis() as u64)
    }
}

/// Live counters for a progress display.
#[derive(Default)]
pub struct Progress {
    pub files: AtomicU64,
    pub bytes: AtomicU64,
}

struct Job {
    dir: File,
    path: PathBuf,
    dev: u64,
}

struct Shared {
    queue: Mutex<(Vec<Job>, usize)>,
    cv: Condvar,
    summary: Mutex<Summary>,
    errors_cap: AtomicUsize,
}

fn cstr(name: &OsStr) -> Option<CString> {
    CString::new(name.as_bytes()).ok()
}

fn fstatat(dirfd: i32, name: &CStr) -> std::io::Result<libc::stat> {
    let mut st: libc::stat = unsafe { std::mem::zeroed() };
    // SAFETY: valid descriptor, NUL-terminated name, out-pointer to a zeroed stat.
    let r = unsafe { libc::fstatat(dirfd, name.as_ptr(), &mut st, libc::AT_SYMLINK_NOFOLLOW) };
    if r == 0 {
        Ok(st)
    } else {
        Err(std::io::Error::last_os_error())
    }
}

fn fstat(fd: i32) -> std::io::Result<libc::stat> {
    let mut st: libc::stat = unsafe { std::mem::zeroed() };
    // SAFETY: valid descriptor and out-pointer.
    let r = unsafe { libc::fstat(fd, &mut st) };
    if r == 0 {
        Ok(st)
    } else {
        Err(std::io::Error::last_os_error())
    }
}

fn openat(dirfd: i32, name: &CStr, flags: i32) -> std::io::Result<File> {
    // SAFETY: valid descriptor and NUL-terminated name; the result is owned by File.
    let fd = unsafe {
        libc::openat(
            dirfd,
            name.as_ptr(),
            flags | libc::O_CLOEXEC | libc::O_NOFOLLOW | libc::O_NOCTTY,
        )
    };
    if fd < 0 {
        Err(std::io::Error::last_os_error())
    } else {
        Ok(unsafe { File::from_raw_fd(fd) })
    }
}

/// Opens a root directory (the operator's path; symlinks in it are the operator's choice).
fn open_root(path: &Path) -> std::io::Result<(File, libc::stat)> {
    let c = CString::new(path.as_os_str().as_bytes())
        .map_err(|_| std::io::Error::from(std::io::ErrorKind::InvalidInput))?;
    // SAFETY: NUL-terminated path; the result is owned by File.
    let fd = unsafe {
        libc::open(
            c.as_ptr(),
            libc::O_RDONLY | libc::O_CLOEXEC | libc::O_NONBLOCK | libc::O_NOCTTY,
        )
    };
    if fd < 0 {
        return Err(std::io::Error::last_os_error());
    }
    let f = unsafe { File::from_raw_fd(fd) };
    let st = fstat(f.as_raw_fd())?;
    Ok((f, st))
}

/// Raises the soft open-file limit to the hard limit: the walk keeps one descriptor per
/// pending directory.
fn raise_nofile() {
    let mut r = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: plain getrlimit/setrlimit with a valid struct.
    unsafe {
        if libc::getrlimit(libc::RLIMIT_NOFILE, &mut r) == 0 && r.rlim_cur < r.rlim_max {
            r.rlim_cur = r.rlim_max.min(1 << 20);
            libc::setrlimit(libc::RLIMIT_NOFILE, &r);
        }
    }
}

const MODE_MASK: u32 = libc::S_IFMT;

fn kind_skip(mode: u32) -> Option<&'static str> {
    match mode & MODE_MASK {
        libc::S_IFREG | libc::S_IFDIR => None,
        libc::S_IFLNK => Some(skip::SYMLINK),
        libc::S_IFIFO => Some(skip::FIFO),
        libc::S_IFSOCK => Some(skip::SOCKET),
        _ => Some(skip::DEVICE),
    }
}

impl Shared {
    fn count(&self, reason: &str) {
        let mut s = self.summary.lock().unwrap_or_else(|e| e.into_inner());
        *s.skipped.entry(reason.to_string()).or_insert(0) += 1;
    }

    fn error(&self, path: PathBuf, reason: &'static str, e: &std::io::Error) {
        let mut s = self.summary.lock().unwrap_or_else(|e| e.into_inner());
        *s.skipped.entry(reason.to_string()).or_insert(0) += 1;
        if self.errors_cap.fetch_add(1, Ordering::Relaxed) < 1000 {
            s.errors.push((path, e.to_string()));
        }
    }

    fn push(&self, job: Job) {
        let mut q = self.queue.lock().unwrap_or_else(|e| e.into_inner());
        q.0.push(job);
        self.cv.notify_one();
    }

    /// Next directory, or `None` when every worker is idle and the queue is empty.
    fn next(&self) -> Option<Job> {
        let mut q = self.queue.lock().unwrap_or_else(|e| e.into_inner());
        loop {
            if let Some(j) = q.0.pop() {
                q.1 += 1;
                return Some(j);
            }
            if q.1 == 0 {
                self.cv.notify_all();
                return None;
            }
            q = self.cv.wait(q).unwrap_or_else(|e| e.into_inner());
        }
    }

    fn done(&self) {
        let mut q = self.queue.lock().unwrap_or_else(|e| e.into_inner());
        q.1 -= 1;
        if q.1 == 0 && q.0.is_empty() {
            self.cv.notify_all();
        }
    }
}

/// Scans the given roots (directories or single files). `on_detection` is called from the
/// worker threads for every file with a non-zero score.
pub fn scan(
    roots: &[PathBuf],
    engine: &Engine,
    opts: &Options,
    progress: &Progress,
    on_detection: &(dyn Fn(Detection) + Sync),
) -> Summary {
    let start = Instant::now();
    raise_nofile();
    let shared = Shared {
        queue: Mutex::new((Vec::new(), 0)),
        cv: Condvar::new(),
        summary: Mutex::new(Summary::default()),
        errors_cap: AtomicUsize::new(0),
    };
    let threads = if opts.threads == 0 {
        std::thread::available_parallelism().map(|n| n.get()).unwrap_or(2)
    } else {
        opts.threads
    };
    let mut single_files = Vec::new();
    for root in roots {
        match open_root(root) {
            Ok((f, st)) => match st.st_mode & MODE_MASK {
                libc::S_IFDIR => shared.push(Job {
                    dir: f,
                    path: root.clone(),
                    dev: st.st_dev,
                }),
                libc::S_IFREG => single_files.push((root.clone(), f, st)),
                m => shared.count(kind_skip(m).unwrap_or(skip::DEVICE)),
            },
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => shared.count(skip::VANISHED),
            Err(e) => shared.error(root.clone(), skip::UNREADABLE, &e),
        }
    }
    {
        let mut fs = engine.scanner();
        let mut buf = Vec::new();
        for (path, f, st) in single_files {
            scan_open_file(
                &shared,
                &mut fs,
                &mut buf,
                opts,
                progress,
                on_detection,
                path,
                f,
                st,
            );
        }
    }
    std::thread::scope(|s| {
        for _ in 0..threads {
            s.spawn(|| worker(&shared, engine, opts, progress, on_detection));
        }
    });
    let mut summary = shared.summary.into_inner().unwrap_or_else(|e| e.into_inner());
    summary.elapsed = start.elapsed();
    summary
}

fn worker(
    shared: &Shared,
    engine: &Engine,
    opts: &Options,
    progress: &Progress,
    on_detection: &(dyn Fn(Detection) + Sync),
) {
    let mut fs = engine.scanner();
    let mut buf = Vec::with_capacity(1 << 20);
    while let Some(job) = shared.next() {
        walk_dir(shared, &mut fs, &mut buf, opts, progress, on_detection, job);
        shared.done();
    }
}

#[allow(clippy::too_many_arguments)]
fn walk_dir(
    shared: &Shared,
    fs: &mut crate::engine::FileScanner<'_>,
    buf: &mut Vec<u8>,
    opts: &Options,
    progress: &Progress,
    on_detection: &(dyn Fn(Detection) + Sync),
    job: Job,
) {
    {
        let mut s = shared.summary.lock().unwrap_or_else(|e| e.into_inner());
        s.dirs += 1;
    }
    let dirfd = job.dir.as_raw_fd();
    // Read the entries through the descriptor we hold, not the path (which may have changed).
    let entries = match std::fs::read_dir(format!("/proc/self/fd/{dirfd}")) {
        Ok(rd) => rd,
        Err(e) => {
            shared.error(job.path.clone(), skip::UNREADABLE, &e);
            return;
        }
    };
    for entry in entries {
        let entry = match entry {
            Ok(e) => e,
            Err(e) => {
                shared.error(job.path.clone(), skip::UNREADABLE, &e);
                continue;
            }
        };
        let name = entry.file_name();
        let path = job.path.join(&name);
        let Some(cname) = cstr(&name) else { continue };
        let st = match fstatat(dirfd, &cname) {
            Ok(st) => st,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                shared.count(skip::VANISHED);
                continue;
            }
            Err(e) => {
                shared.error(path, skip::UNREADABLE, &e);
                continue;
            }
        };
        if let Some(reason) = kind_skip(st.st_mode) {
            shared.count(reason);
            continue;
        }
        if opts.one_file_system && st.st_dev != job.dev {
            shared.count(skip::OTHER_FS);
            continue;
        }
        if st.st_mode & MODE_MASK == libc::S_IFDIR {
            match openat(
                dirfd,
                &cname,
                libc::O_RDONLY | libc::O_DIRECTORY | libc::O_NONBLOCK,
            ) {
                Ok(d) => match fstat(d.as_raw_fd()) {
                    Ok(now) if now.st_ino == st.st_ino && now.st_dev == st.st_dev => shared.push(Job {
                        dir: d,
                        path,
                        dev: job.dev,
                    }),
                    Ok(_) => shared.count(skip::CHANGED),
                    Err(e) => shared.error(path, skip::UNREADABLE, &e),
                },
                Err(e)
                    if e.raw_os_error() == Some(libc::ELOOP) || e.raw_os_error() == Some(libc::ENOTDIR) =>
                {
                    shared.count(skip::CHANGED)
                }
                Err(e) => shared.error(path, skip::UNREADABLE, &e),
            }
            continue;
        }
        if st.st_size as u64 > opts.max_file_size {
            shared.count(skip::TOO_LARGE);
            continue;
        }
        match openat(dirfd, &cname, libc::O_RDONLY | libc::O_NONBLOCK) {
            Ok(f) => match fstat(f.as_raw_fd()) {
                Ok(now)
                    if now.st_ino == st.st_ino
                        && now.st_dev == st.st_dev
                        && now.st_mode & MODE_MASK == libc::S_IFREG =>
                {
                    scan_open_file(shared, fs, buf, opts, progress, on_detection, path, f, now)
                }
                Ok(_) => shared.count(skip::CHANGED),
                Err(e) => shared.error(path, skip::UNREADABLE, &e),
            },
            Err(e) if e.raw_os_error() == Some(libc::ELOOP) => shared.count(skip::CHANGED),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => shared.count(skip::VANISHED),
            Err(e) => shared.error(path, skip::UNREADABLE, &e),
        }
    }
}

#[allow(clippy::too_many_arguments)]
fn scan_open_file(
    shared: &Shared,
    fs: &mut crate::engine::FileScanner<'_>,
    buf: &mut Vec<u8>,
    opts: &Options,
    progress: &Progress,
    on_detection: &(dyn Fn(Detection) + Sync),
    path: PathBuf,
    f: File,
    st: libc::stat,
) {
    let size = st.st_size as u64;
    if size > opts.max_file_size {
        shared.count(skip::TOO_LARGE);
        return;
    }
    buf.clear();
    // Read at most the cap (+1 to notice growth): a file growing under us stays bounded.
    if let Err(e) = (&f).take(opts.max_file_size + 1).read_to_end(buf) {
        shared.error(path, skip::UNREADABLE, &e);
        return;
    }
    if buf.len() as u64 > opts.max_file_size {
        shared.count(skip::TOO_LARGE);
        return;
    }
    if buf.capacity() > (8 << 20) && buf.len() < (1 << 20) {
        buf.shrink_to(1 << 20);
    }
    progress.files.fetch_add(1, Ordering::Relaxed);
    progress.bytes.fetch_add(buf.len() as u64, Ordering::Relaxed);
    {
        let mut s = shared.summary.lock().unwrap_or_else(|e| e.into_inner());
        s.files_scanned += 1;
        s.bytes_scanned += buf.len() as u64;
    }
    let verdict = fs.scan(&path, buf);
    if verdict.score > 0 {
        on_detection(Detection {
            path,
            size: buf.len() as u64,
            dev: st.st_dev,
            ino: st.st_ino,
            nlink: st.st_nlink,
            verdict,
        });
    }
}
