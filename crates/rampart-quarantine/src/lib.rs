//! Restorable quarantine.
//!
//! [`Quarantine::quarantine`] moves a file into a root-only store (directory mode 0700,
//! file contents mode 0400) and records its SHA-256, owner, group, mode, mtime and original
//! path in one JSON index file per item (written to a temporary name, fsynced, then
//! renamed, so a crash never leaves a half-written index). [`Quarantine::restore`] puts
//! the file back byte-identical with its owner, mode and mtime, and refuses to overwrite
//! an existing file unless forced.
//!
//! The source is opened with `O_NOFOLLOW` and checked to be the same inode as the path
//! named, so a symlink swapped in at the last moment cannot make Rampart move another file.

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::ffi::CString;
use std::fs::{self, File, OpenOptions};
use std::io::{self, Read, Write};
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::{MetadataExt, OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("{path}: {source}")]
    Io { path: PathBuf, source: io::Error },
    #[error("{0}: not a regular file (symlinks, devices and directories are never quarantined)")]
    NotRegular(PathBuf),
    #[error("{0}: changed while being quarantined (inode or size differs); left in place")]
    Changed(PathBuf),
    #[error("{0}: has {1} hard links (other names may lie outside the scanned tree); left in place")]
    HardLinked(PathBuf, u64),
    #[error("no quarantined item with id {0:?}")]
    NoSuchItem(String),
    #[error("{0}: exists; pass --force to overwrite it")]
    Exists(PathBuf),
    #[error("{path}: content does not match the recorded SHA-256 (store damaged?)")]
    HashMismatch { path: PathBuf },
    #[error("{path}: bad index: {message}")]
    BadIndex { path: PathBuf, message: String },
}

pub type Result<T> = std::result::Result<T, Error>;

fn io_err(path: &Path) -> impl FnOnce(io::Error) -> Error + '_ {
    move |source| Error::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// One quarantined file, as recorded in its index.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Item {
    pub id: String,
    pub original_path: PathBuf,
    pub sha256: String,
    pub size: u64,
    pub uid: u32,
    pub gid: u32,
    /// Permission bits (including setuid/setgid/sticky).
    pub mode: u32,
    pub mtime_sec: i64,
    pub mtime_nsec: i64,
    pub quarantined_at: u64,
    pub reason: String,
}

pub struct Quarantine {
    dir: PathBuf,
}

impl Quarantine {
    /// Default store of the root-run binary.
    pub const DEFAULT_DIR: &'static str = "/var/lib/rampart/quarantine";

    /// Opens (creating if needed, mode 0700) the store at `dir`.
    pub fn open(dir: impl Into<PathBuf>) -> Result<Quarantine> {
        let dir = dir.into();
        fs::create_dir_all(&dir).map_err(io_err(&dir))?;
        let meta = fs::symlink_metadata(&dir).map_err(io_err(&dir))?;
        if !meta.is_dir() {
            return Err(Error::NotRegular(dir));
        }
        fs::set_permissions(&dir, fs::Permissions::from_mode(0o700)).map_err(io_err(&dir))?;
        Ok(Quarantine { dir })
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    fn data_path(&self, id: &str) -> PathBuf {
        self.dir.join(format!("{id}.bin"))
    }

    fn index_path(&self, id: &str) -> PathBuf {
        self.dir.join(format!("{id}.json"))
    }

    /// Moves `path` into the store. A file with other hard links is refused: its other
    /// names may lie outside the scanned tree, and Rampart never changes what lies there.
    pub fn quarantine(&self, path: &Path, reason: &str) -> Result<Item> {
        self.quarantine_checked(path, reason, None)
    }

    /// As [`Quarantine::quarantine`], but only if `path` is still the file identified by
    /// `expect` (device, inode) — the one a scan looked at — and has no other hard links.
    pub fn quarantine_checked(&self, path: &Path, reason: &str, expect: Option<(u64, u64)>) -> Result<Item> {
        let before = fs::symlink_metadata(path).map_err(io_err(path))?;
        if !before.file_type().is_file() {
            return Err(Error::NotRegular(path.to_path_buf()));
        }
        if let Some((dev, ino)) = expect {
            if before.dev() != dev || before.ino() != ino {
                return Err(Error::Changed(path.to_path_buf()));
            }
        }
        if before.nlink() > 1 {
            return Err(Error::HardLinked(path.to_path_buf(), before.nlink()));
        }
        let mut src = OpenOptions::new()
            .read(true)
            .custom_flags(libc::O_NOFOLLOW | libc::O_NONBLOCK | libc::O_NOCTTY)
            .open(path)
            .map_err(io_err(path))?;
        let meta = src.metadata().map_err(io_err(path))?;
        if !meta.is_file() || meta.ino() != before.ino() || meta.dev() != before.dev() {
            return Err(Error::Changed(path.to_path_buf()));
        }
        let id = new_id(&meta);
        let data = self.data_path(&id);
        let tmp = self.dir.join(format!(".{id}.bin.tmp"));
        let mut out = OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o400)
            .custom_flags(libc::O_NOFOLLOW)
            .open(&tmp)
            .map_err(io_err(&tmp))?;
        let mut hasher = Sha256::new();
        let mut buf = vec![0u8; 256 << 10];
        let mut size = 0u64;
        loop {
            let n = src.read(&mut buf).map_err(io_err(path))?;
            if n == 0 {
                break;
            }
            hasher.update(&buf[..n]);
            out.write_all(&buf[..n]).map_err(io_err(&tmp))?;
            size += n as u64;
        }
        out.sync_all().map_err(io_err(&tmp))?;
        drop(out);
        if size != meta.len() {
            let _ = fs::remove_file(&tmp);
            return Err(Error::Changed(path.to_path_buf()));
        }
        let item = Item {
            id: id.clone(),
            original_path: absolute(path),
            sha256: hex(&hasher.finalize()),
            size,
            uid: meta.uid(),
            gid: meta.gid(),
            mode: meta.mode() & 0o7777,
            mtime_sec: meta.mtime(),
            mtime_nsec: meta.mtime_nsec(),
            quarantined_at: SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .map(|d| d.as_secs())
                .unwrap_or(0),
            reason: reason.to_string(),
        };
        fs::rename(&tmp, &data).map_err(io_err(&data))?;
        self.write_index(&item)?;
        // Remove the original only if the name still points at the inode we copied.
        let now = fs::symlink_metadata(path).map_err(io_err(path))?;
        if now.ino() != meta.ino() || now.dev() != meta.dev() {
            let _ = fs::remove_file(&data);
            let _ = fs::remove_file(self.index_path(&id));
            return Err(Error::Changed(path.to_path_buf()));
        }
        fs::remove_file(path).map_err(io_err(path))?;
        sync_dir(&self.dir);
        Ok(item)
    }

    fn write_index(&self, item: &Item) -> Result<()> {
        let path = self.index_path(&item.id);
        let tmp = self.dir.join(format!(".{}.json.tmp", item.id));
        let json = serde_json::to_vec_pretty(item).map_err(|e| Error::BadIndex {
            path: path.clone(),
            message: e.to_string(),
        })?;
        let mut f = OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(true)
            .mode(0o600)
            .custom_flags(libc::O_NOFOLLOW)
            .open(&tmp)
            .map_err(io_err(&tmp))?;
        f.write_all(&json).map_err(io_err(&tmp))?;
        f.sync_all().map_err(io_err(&tmp))?;
        fs::rename(&tmp, &path).map_err(io_err(&path))?;
        Ok(())
    }

    /// Every item in the store, oldest first; unreadable index files are returned as errors
    /// next to the good items so nothing is silently dropped.
    pub fn list(&self) -> Result<(Vec<Item>, Vec<Error>)> {
        let mut items = Vec::new();
        let mut errors = Vec::new();
        for entry in fs::read_dir(&self.dir).map_err(io_err(&self.dir))? {
            let entry = entry.map_err(io_err(&self.dir))?;
            let name = entry.file_name();
            let name = name.to_string_lossy();
            if name.starts_with('.') || !name.ends_with(".json") {
                continue;
            }
            match self.read_index(&entry.path()) {
                Ok(i) => items.push(i),
                Err(e) => errors.push(e),
            }
        }
        items.sort_by(|a, b| a.quarantined_at.cmp(&b.quarantined_at).then(a.id.cmp(&b.id)));
        Ok((items, errors))
    }

    fn read_index(&self, path: &Path) -> Result<Item> {
        let mut f = OpenOptions::new()
            .read(true)
            .custom_flags(libc::O_NOFOLLOW)
            .open(path)
            .map_err(io_err(path))?;
        let mut s = Vec::new();
        Read::by_ref(&mut f)
            .take(1 << 20)
            .read_to_end(&mut s)
            .map_err(io_err(path))?;
        serde_json::from_slice(&s).map_err(|e| Error::BadIndex {
            path: path.to_path_buf(),
            message: e.to_string(),
        })
    }

    pub fn get(&self, id: &str) -> Result<Item> {
        if id.is_empty() || !id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-') {
            return Err(Error::NoSuchItem(id.to_string()));
        }
        let p = self.index_path(id);
        if !p.exists() {
            return Err(Error::NoSuchItem(id.to_string()));
        }
        self.read_index(&p)
    }

    /// Puts item `id` back at its original path, byte-identical, with owner, mode and
    /// mtime; refuses to replace an existing file unless `force`.
    pub fn restore(&self, id: &str, force: bool) -> Result<Item> {
        let item = self.get(id)?;
        let data = self.data_path(id);
        let dest = &item.original_path;
        match fs::symlink_metadata(dest) {
            Ok(m) if !force => {
                let _ = m;
                return Err(Error::Exists(dest.clone()));
            }
            Ok(m) if m.is_dir() => return Err(Error::NotRegular(dest.clone())),
            _ => {}
        }
        let parent = dest.parent().unwrap_or(Path::new("/"));
        let tmp = parent.join(format!(".rampart-restore-{id}"));
        let mut src = OpenOptions::new()
            .read(true)
            .custom_flags(libc::O_NOFOLLOW)
            .open(&data)
            .map_err(io_err(&data))?;
        let mut out = OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .custom_flags(libc::O_NOFOLLOW)
            .open(&tmp)
            .map_err(io_err(&tmp))?;
        let mut hasher = Sha256::new();
        let mut buf = vec![0u8; 256 << 10];
        loop {
            let n = src.read(&mut buf).map_err(io_err(&data))?;
            if n == 0 {
                break;
            }
            hasher.update(&buf[..n]);
            out.write_all(&buf[..n]).map_err(io_err(&tmp))?;
        }
        if hex(&hasher.finalize()) != item.sha256 {
            let _ = fs::remove_file(&tmp);
            return Err(Error::HashMismatch { path: data });
        }
        let finish = || -> io::Result<()> {
            out.sync_all()?;
            // fchown before fchmod: chown clears setuid bits.
            fchown(&out, item.uid, item.gid)?;
            out.set_permissions(fs::Permissions::from_mode(item.mode))?;
            set_mtime(&out, item.mtime_sec, item.mtime_nsec)?;
            Ok(())
        };
        if let Err(e) = finish() {
            let _ = fs::remove_file(&tmp);
            return Err(Error::Io { path: tmp, source: e });
        }
        drop(out);
        fs::rename(&tmp, dest).map_err(io_err(dest))?;
        sync_dir(parent);
        fs::remove_file(&data).map_err(io_err(&data))?;
        fs::remove_file(self.index_path(id)).map_err(io_err(&self.index_path(id)))?;
        Ok(item)
    }

    /// Deletes item `id` from the store for good.
    pub fn purge(&self, id: &str) -> Result<Item> {
        let item = self.get(id)?;
        let data = self.data_path(id);
        match fs::remove_file(&data) {
            Ok(()) => {}
            Err(e) if e.kind() == io::ErrorKind::NotFound => {}
            Err(e) => {
                return Err(Error::Io {
                    path: data,
                    source: e,
                })
            }
        }
        fs::remove_file(self.index_path(id)).map_err(io_err(&self.index_path(id)))?;
        Ok(item)
    }
}

fn absolute(p: &Path) -> PathBuf {
    if p.is_absolute() {
        return p.to_path_buf();
    }
    std::env::current_dir()
        .map(|d| d.join(p))
        .unwrap_or_else(|_| p.to_path_buf())
}

fn new_id(meta: &fs::Metadata) -> String {
    use std::sync::atomic::{AtomicU64, Ordering};
    static SEQ: AtomicU64 = AtomicU64::new(0);
    let now = SystemTime::now().duration_since(UNIX_EPOCH).unwrap_or_default();
    let seq = SEQ.fetch_add(1, Ordering::Relaxed);
    format!(
        "{:x}-{:x}-{:x}-{:x}",
        now.as_secs(),
        now.subsec_nanos() ^ (meta.ino() as u32),
        std::process::id(),
        seq
    )
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

pub fn sha256_file(path: &Path) -> io::Result<String> {
    let mut f = OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NOFOLLOW)
        .open(path)?;
    let mut h = Sha256::new();
    let mut buf = vec![0u8; 256 << 10];
    loop {
        let n = f.read(&mut buf)?;
        if n == 0 {
            break;
        }
        h.update(&buf[..n]);
    }
    Ok(hex(&h.finalize()))
}

fn fchown(f: &File, uid: u32, gid: u32) -> io::Result<()> {
    use std::os::fd::AsRawFd;
    // SAFETY: fchown on a file descriptor we own.
    let r = unsafe { libc::fchown(f.as_raw_fd(), uid, gid) };
    if r == 0 {
        Ok(())
    } else {
        Err(io::Error::last_os_error())
    }
}

fn set_mtime(f: &File, sec: i64, nsec: i64) -> io::Result<()> {
    use std::os::fd::AsRawFd;
    let times = [
        libc::timespec {
            tv_sec: 0,
            tv_nsec: libc::UTIME_OMIT,
        },
        libc::timespec {
            tv_sec: sec as libc::time_t,
            tv_nsec: nsec as _,
        },
    ];
    // SAFETY: futimens on our own descriptor with a valid two-element array.
    let r = unsafe { libc::futimens(f.as_raw_fd(), times.as_ptr()) };
    if r == 0 {
        Ok(())
    } else {
        Err(io::Error::last_os_error())
    }
}

fn sync_dir(dir: &Path) {
    if let Ok(d) = File::open(dir) {
        let _ = d.sync_all();
    }
}

/// For callers that report paths: the path as bytes-safe text.
pub fn display(p: &Path) -> String {
    String::from_utf8_lossy(p.as_os_str().as_bytes()).into_owned()
}

#[allow(dead_code)]
fn cstr(p: &Path) -> Option<CString> {
    CString::new(p.as_os_str().as_bytes()).ok()
}
