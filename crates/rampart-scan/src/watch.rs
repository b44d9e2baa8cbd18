//! Real-time watching: a recursive inotify watch of the given roots that scans every file
//! when it is closed after writing (`IN_CLOSE_WRITE`) or moved in (`IN_MOVED_TO`), and
//! quarantines detections (or only reports them).
//!
//! New directories get a watch as soon as they appear (and their existing files are
//! scanned, since they may have been written before the watch existed). When the kernel's
//! per-user watch limit is exhausted an event says so and which directory is unwatched;
//! when the event queue overflows the roots are rescanned in full so nothing is lost.

use crate::engine::Engine;
use crate::walk::{self, Detection, Progress};
use rampart_quarantine::{Item, Quarantine};
use std::collections::HashMap;
use std::ffi::CString;
use std::fs::File;
use std::io::Read;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::{MetadataExt, OpenOptionsExt};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Instant;

#[derive(Debug, thiserror::Error)]
pub enum WatchError {
    #[error("inotify: {0}")]
    Init(std::io::Error),
    #[error("{path}: {source}")]
    Root { path: PathBuf, source: std::io::Error },
}

pub struct WatchOptions<'a> {
    pub max_file_size: u64,
    /// Quarantine detections here; `None` only reports them.
    pub quarantine: Option<&'a Quarantine>,
    /// Score from which a file is acted upon.
    pub threshold: u32,
    /// Set to stop the watcher (checked at least every 100 ms).
    pub stop: &'a AtomicBool,
}

#[derive(Debug)]
pub enum Event {
    /// Watches are in place on this many directories.
    Ready {
        dirs: usize,
    },
    /// A file scored at or above the threshold.
    Detection {
        detection: Box<Detection>,
        quarantined: Option<Result<Item, String>>,
        /// When the write was noticed (the inotify event was read).
        noticed: Instant,
    },
    /// A file was scanned and found clean (below the threshold).
    Clean {
        path: PathBuf,
    },
    /// The per-user inotify watch limit is exhausted: `path` is not watched.
    WatchLimit {
        path: PathBuf,
    },
    /// The kernel queue overflowed: events were lost, the roots were rescanned.
    Overflow {
        rescanned_files: u64,
    },
    Error {
        path: PathBuf,
        message: String,
    },
}

const DIR_MASK: u32 = libc::IN_CLOSE_WRITE
    | libc::IN_MOVED_TO
    | libc::IN_CREATE
    | libc::IN_DELETE_SELF
    | libc::IN_MOVE_SELF
    | libc::IN_ONLYDIR
    | libc::IN_DONT_FOLLOW
    | libc::IN_EXCL_UNLINK;

struct Watcher<'a, 'e> {
    fd: OwnedFd,
    wds: HashMap<i32, PathBuf>,
    engine: &'e Engine,
    scanner: crate::engine::FileScanner<'e>,
    opts: &'a WatchOptions<'a>,
    buf: Vec<u8>,
}

/// Watches `roots` until `opts.stop` is set, calling `on_event` for every event.
pub fn run(
    roots: &[PathBuf],
    engine: &Engine,
    opts: &WatchOptions<'_>,
    on_event: &mut dyn FnMut(Event),
) -> Result<(), WatchError> {
    // SAFETY: plain syscall; the descriptor is owned below.
    let fd = unsafe { libc::inotify_init1(libc::IN_CLOEXEC | libc::IN_NONBLOCK) };
    if fd < 0 {
        return Err(WatchError::Init(std::io::Error::last_os_error()));
    }
    let mut w = Watcher {
        fd: unsafe { OwnedFd::from_raw_fd(fd) },
        wds: HashMap::new(),
        engine,
        scanner: engine.scanner(),
        opts,
        buf: Vec::new(),
    };
    for r in roots {
        let m = std::fs::symlink_metadata(r).map_err(|source| WatchError::Root {
            path: r.clone(),
            source,
        })?;
        if !m.is_dir() {
            return Err(WatchError::Root {
                path: r.clone(),
                source: std::io::Error::from(std::io::ErrorKind::NotADirectory),
            });
        }
        w.add_tree(r, false, on_event);
    }
    on_event(Event::Ready { dirs: w.wds.len() });
    let mut events = vec![0u8; 256 << 10];
    while !opts.stop.load(Ordering::Relaxed) {
        let mut pfd = libc::pollfd {
            fd: w.fd.as_raw_fd(),
            events: libc::POLLIN,
            revents: 0,
        };
        // SAFETY: one valid pollfd.
        let r = unsafe { libc::poll(&mut pfd, 1, 100) };
        if r <= 0 {
            continue;
        }
        // SAFETY: reading into our buffer from our descriptor.
        let n = unsafe { libc::read(w.fd.as_raw_fd(), events.as_mut_ptr().cast(), events.len()) };
        if n <= 0 {
            continue;
        }
        let noticed = Instant::now();
        let mut off = 0usize;
        let n = n as usize;
        let hdr = std::mem::size_of::<libc::inotify_event>();
        while off + hdr <= n {
            // SAFETY: the kernel wrote whole inotify_event records; read_unaligned copes
            // with the byte buffer's alignment.
            let ev: libc::inotify_event = unsafe { std::ptr::read_unaligned(events[off..].as_ptr().cast()) };
            let name_bytes = &events[off + hdr..(off + hdr + ev.len as usize).min(n)];
            let name_end = name_bytes
                .iter()
                .position(|&b| b == 0)
                .unwrap_or(name_bytes.len());
            let name = std::ffi::OsStr::from_bytes(&name_bytes[..name_end]).to_owned();
            off += hdr + ev.len as usize;
            if ev.mask & libc::IN_Q_OVERFLOW != 0 {
                let files = w.rescan(roots, on_event);
                on_event(Event::Overflow {
                    rescanned_files: files,
                });
                continue;
            }
            if ev.mask & libc::IN_IGNORED != 0 {
                w.wds.remove(&ev.wd);
                continue;
            }
            let Some(dir) = w.wds.get(&ev.wd).cloned() else {
                continue;
            };
            if name.is_empty() {
                continue;
            }
            let path = dir.join(&name);
            if ev.mask & libc::IN_ISDIR != 0 {
                if ev.mask & (libc::IN_CREATE | libc::IN_MOVED_TO) != 0 {
                    w.add_tree(&path, true, on_event);
                }
                continue;
            }
            if ev.mask & (libc::IN_CLOSE_WRITE | libc::IN_MOVED_TO) != 0 {
                w.scan_file(&path, noticed, on_event);
            }
        }
    }
    Ok(())
}

impl Watcher<'_, '_> {
    fn add_watch(&mut self, dir: &Path, on_event: &mut dyn FnMut(Event)) -> bool {
        let Ok(c) = CString::new(dir.as_os_str().as_bytes()) else {
            return false;
        };
        // SAFETY: valid inotify descriptor and NUL-terminated path.
        let wd = unsafe { libc::inotify_add_watch(self.fd.as_raw_fd(), c.as_ptr(), DIR_MASK) };
        if wd < 0 {
            let e = std::io::Error::last_os_error();
            if e.raw_os_error() == Some(libc::ENOSPC) {
                on_event(Event::WatchLimit {
                    path: dir.to_path_buf(),
                });
            } else {
                on_event(Event::Error {
                    path: dir.to_path_buf(),
                    message: e.to_string(),
                });
            }
            return false;
        }
        self.wds.insert(wd, dir.to_path_buf());
        true
    }

    /// Watches `dir` and every directory below it (never through symlinks); with
    /// `scan_existing`, scans the files already there.
    fn add_tree(&mut self, dir: &Path, scan_existing: bool, on_event: &mut dyn FnMut(Event)) {
        let mut stack = vec![dir.to_path_buf()];
        let root_dev = std::fs::symlink_metadata(dir).map(|m| m.dev()).ok();
        while let Some(d) = stack.pop() {
            if !self.add_watch(&d, on_event) {
                continue;
            }
            let Ok(rd) = std::fs::read_dir(&d) else { continue };
            for e in rd.flatten() {
                let Ok(ft) = e.file_type() else { continue };
                let p = e.path();
                if ft.is_dir() {
                    if std::fs::symlink_metadata(&p).ok().map(|m| m.dev()) == root_dev {
                        stack.push(p);
                    }
                } else if ft.is_file() && scan_existing {
                    self.scan_file(&p, Instant::now(), on_event);
                }
            }
        }
    }

    fn rescan(&mut self, roots: &[PathBuf], on_event: &mut dyn FnMut(Event)) -> u64 {
        let opts = walk::Options {
            max_file_size: self.opts.max_file_size,
            ..Default::default()
        };
        let found = std::sync::Mutex::new(Vec::new());
        let sum = walk::scan(roots, self.engine, &opts, &Progress::default(), &|d| {
            if d.verdict.score >= self.opts.threshold {
                found.lock().unwrap_or_else(|e| e.into_inner()).push(d);
            }
        });
        for d in found.into_inner().unwrap_or_else(|e| e.into_inner()) {
            self.act(d, Instant::now(), on_event);
        }
        sum.files_scanned
    }

    fn scan_file(&mut self, path: &Path, noticed: Instant, on_event: &mut dyn FnMut(Event)) {
        let f = match std::fs::OpenOptions::new()
            .read(true)
            .custom_flags(libc::O_NOFOLLOW | libc::O_NONBLOCK | libc::O_NOCTTY)
            .open(path)
        {
            Ok(f) => f,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return,
            // A symlink dropped in the web root is not followed (ELOOP): nothing to read.
            Err(e) if e.raw_os_error() == Some(libc::ELOOP) => return,
            Err(e) => {
                on_event(Event::Error {
                    path: path.to_path_buf(),
                    message: e.to_string(),
                });
                return;
            }
        };
        let Ok(meta) = f.metadata() else { return };
        if !meta.is_file() || meta.len() > self.opts.max_file_size {
            return;
        }
        self.buf.clear();
        if let Err(e) = (&f as &File)
            .take(self.opts.max_file_size)
            .read_to_end(&mut self.buf)
        {
            on_event(Event::Error {
                path: path.to_path_buf(),
                message: e.to_string(),
            });
            return;
        }
        let verdict = self.scanner.scan(path, &self.buf);
        if verdict.score < self.opts.threshold {
            on_event(Event::Clean {
                path: path.to_path_buf(),
            });
            return;
        }
        let d = Detection {
            path: path.to_path_buf(),
            size: self.buf.len() as u64,
            dev: meta.dev(),
            ino: meta.ino(),
            nlink: meta.nlink(),
            verdict,
        };
        self.act(d, noticed, on_event);
    }

    fn act(&mut self, d: Detection, noticed: Instant, on_event: &mut dyn FnMut(Event)) {
        let quarantined = self.opts.quarantine.map(|q| {
            q.quarantine_checked(
                &d.path,
                &format!("rampart watch: score {}", d.verdict.score),
                Some((d.dev, d.ino)),
            )
            .map_err(|e| e.to_string())
        });
        on_event(Event::Detection {
            detection: Box::new(d),
            quarantined,
            noticed,
        });
    }
}
