//! Where lines come from: followed files ([`file`]), the systemd journal
//! ([`journal`]), and the usual paths of Debian and RHEL systems ([`auto`]).
//! [`Wake`] lets the daemon sleep until a watched directory changes.

pub mod auto;
pub mod file;
pub mod journal;

use std::ffi::CString;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::os::unix::ffi::OsStrExt;
use std::path::Path;
use std::time::Duration;

/// inotify on the directories of followed files (rotation creates and renames files,
/// so the directory is watched, not the file), plus a wake-up socket that other
/// threads (the journal reader, a signal handler, `stop`) write to.
pub struct Wake {
    inotify: Option<OwnedFd>,
    wake_rx: std::os::unix::net::UnixStream,
    wake_tx: std::os::unix::net::UnixStream,
    pub watches: usize,
}

impl Wake {
    pub fn new() -> std::io::Result<Wake> {
        let fd = unsafe { libc::inotify_init1(libc::IN_NONBLOCK | libc::IN_CLOEXEC) };
        // Without inotify (limits reached), the daemon still polls on its tick.
        let inotify = (fd >= 0).then(|| unsafe { OwnedFd::from_raw_fd(fd) });
        let (wake_rx, wake_tx) = std::os::unix::net::UnixStream::pair()?;
        wake_rx.set_nonblocking(true)?;
        wake_tx.set_nonblocking(true)?;
        Ok(Wake {
            inotify,
            wake_rx,
            wake_tx,
            watches: 0,
        })
    }

    /// Watches the directory holding `file`; false if it cannot be watched (it may not
    /// exist yet: the tick still finds the file later).
    pub fn watch_dir_of(&mut self, file: &Path) -> bool {
        let (Some(ino), Some(dir)) = (&self.inotify, file.parent()) else {
            return false;
        };
        let Ok(c) = CString::new(dir.as_os_str().as_bytes()) else {
            return false;
        };
        let mask = libc::IN_MODIFY
            | libc::IN_CREATE
            | libc::IN_MOVED_TO
            | libc::IN_MOVED_FROM
            | libc::IN_DELETE
            | libc::IN_CLOSE_WRITE
            | libc::IN_ATTRIB;
        let wd = unsafe { libc::inotify_add_watch(ino.as_raw_fd(), c.as_ptr(), mask) };
        if wd >= 0 {
            self.watches += 1;
        }
        wd >= 0
    }

    /// A handle other threads use to wake the loop.
    pub fn waker(&self) -> std::io::Result<std::os::unix::net::UnixStream> {
        self.wake_tx.try_clone()
    }

    /// Sleeps until something changed or `timeout` passed; drains what woke it.
    pub fn wait(&self, timeout: Duration) {
        let mut fds = vec![libc::pollfd {
            fd: self.wake_rx.as_raw_fd(),
            events: libc::POLLIN,
            revents: 0,
        }];
        if let Some(i) = &self.inotify {
            fds.push(libc::pollfd {
                fd: i.as_raw_fd(),
                events: libc::POLLIN,
                revents: 0,
            });
        }
        let ms = timeout.as_millis().min(i32::MAX as u128) as i32;
        unsafe { libc::poll(fds.as_mut_ptr(), fds.len() as libc::nfds_t, ms) };
        let mut buf = [0u8; 4096];
        drain(self.wake_rx.as_raw_fd(), &mut buf);
        if let Some(i) = &self.inotify {
            drain(i.as_raw_fd(), &mut buf);
        }
    }
}

fn drain(fd: RawFd, buf: &mut [u8]) {
    loop {
        let n = unsafe { libc::read(fd, buf.as_mut_ptr() as *mut libc::c_void, buf.len()) };
        if n <= 0 {
            break;
        }
    }
}

/// Wakes a [`Wake::wait`]; errors (a full socket buffer) mean it is awake anyway.
pub fn wake(tx: &std::os::unix::net::UnixStream) {
    use std::io::Write;
    let _ = (&*tx).write(&[1]);
}
