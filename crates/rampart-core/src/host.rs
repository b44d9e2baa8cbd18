//! The host's file system as Rampart sees it.
//!
//! Every check reads through a [`HostRoot`]. On a live host the root is `/`; with
//! `--root DIR` it is a mounted disk image or a copy of a root file system, and symbolic
//! links inside it are resolved as the host would resolve them (an absolute link target
//! is taken relative to the root), so nothing outside the root is ever read. Reads are
//! bounded: a file larger than the caller's limit is an error, never an allocation the
//! size of an attacker's choosing.

use std::ffi::OsString;
use std::fs::{File, Metadata};
use std::io::{self, Read};
use std::os::unix::ffi::OsStrExt;
use std::path::{Component, Path, PathBuf};
use thiserror::Error;

/// The default cap for reading one configuration or account file.
pub const DEFAULT_READ_LIMIT: u64 = 16 * 1024 * 1024;

/// How many symbolic links one lookup may follow before it is called a loop (as Linux).
const MAX_SYMLINKS: usize = 40;

#[derive(Debug, Error)]
pub enum HostError {
    #[error("{path}: no such file or directory")]
    NotFound { path: String },
    #[error("{path}: permission denied")]
    PermissionDenied { path: String },
    #[error("{path}: too many levels of symbolic links")]
    SymlinkLoop { path: String },
    #[error("{path}: larger than the {limit}-byte limit for this file")]
    TooLarge { path: String, limit: u64 },
    #[error("{path}: {source}")]
    Io { path: String, source: io::Error },
}

impl HostError {
    pub fn is_not_found(&self) -> bool {
        matches!(self, HostError::NotFound { .. })
    }

    pub fn is_permission_denied(&self) -> bool {
        matches!(self, HostError::PermissionDenied { .. })
    }

    fn from_io(path: &str, e: io::Error) -> Self {
        match e.kind() {
            io::ErrorKind::NotFound => HostError::NotFound {
                path: path.to_string(),
            },
            io::ErrorKind::PermissionDenied => HostError::PermissionDenied {
                path: path.to_string(),
            },
            _ if e.raw_os_error() == Some(libc::ELOOP) => HostError::SymlinkLoop {
                path: path.to_string(),
            },
            _ => HostError::Io {
                path: path.to_string(),
                source: e,
            },
        }
    }
}

/// An entry of a directory listing: its name and its host path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DirEntry {
    pub name: OsString,
    /// The path as it is on the host (`/etc/cron.d/job`), for evidence and further reads.
    pub host_path: String,
}

#[derive(Debug, Clone)]
pub struct HostRoot {
    root: PathBuf,
    live: bool,
}

impl HostRoot {
    /// The running system.
    pub fn live() -> Self {
        HostRoot {
            root: PathBuf::from("/"),
            live: true,
        }
    }

    /// A root file system under `dir` (a mounted image or a copy). Checks that need a
    /// running system (processes, sockets, the loaded firewall) are skipped for it.
    pub fn at(dir: impl AsRef<Path>) -> Result<Self, HostError> {
        let shown = dir.as_ref().display().to_string();
        let root = std::fs::canonicalize(dir.as_ref()).map_err(|e| HostError::from_io(&shown, e))?;
        let live = root == Path::new("/");
        Ok(HostRoot { root, live })
    }

    /// True when this is the running system, so `/proc`, sockets and tools apply.
    pub fn is_live(&self) -> bool {
        self.live
    }

    /// The directory the host's `/` is at.
    pub fn root_dir(&self) -> &Path {
        &self.root
    }

    /// Where the host path `host_path` (absolute, as on the host) is on this machine,
    /// with every symbolic link resolved inside the root.
    pub fn resolve(&self, host_path: &str) -> Result<PathBuf, HostError> {
        if self.live {
            return Ok(PathBuf::from(host_path));
        }
        let mut pending: Vec<OsString> = components_reversed(Path::new(host_path));
        let mut resolved = self.root.clone();
        let mut depth = 0usize; // components below the root
        let mut links = 0usize;
        while let Some(name) = pending.pop() {
            if name == ".." {
                if depth > 0 {
                    resolved.pop();
                    depth -= 1;
                }
                continue;
            }
            let candidate = resolved.join(&name);
            match std::fs::symlink_metadata(&candidate) {
                Ok(md) if md.file_type().is_symlink() => {
                    links += 1;
                    if links > MAX_SYMLINKS {
                        return Err(HostError::SymlinkLoop {
                            path: host_path.to_string(),
                        });
                    }
                    let target =
                        std::fs::read_link(&candidate).map_err(|e| HostError::from_io(host_path, e))?;
                    if target.is_absolute() {
                        resolved = self.root.clone();
                        depth = 0;
                    }
                    pending.extend(components_reversed(&target));
                }
                Ok(_) => {
                    resolved = candidate;
                    depth += 1;
                }
                Err(e) if e.kind() == io::ErrorKind::NotFound => {
                    // The rest cannot exist either; keep the path so the caller's open
                    // reports not-found for the name it asked for.
                    resolved = candidate;
                    for rest in pending.into_iter().rev() {
                        resolved.push(rest);
                    }
                    return Ok(resolved);
                }
                Err(e) => return Err(HostError::from_io(host_path, e)),
            }
        }
        Ok(resolved)
    }

    /// Where `host_path` itself is (the last component not followed if it is a link).
    pub fn resolve_parent(&self, host_path: &str) -> Result<PathBuf, HostError> {
        let p = Path::new(host_path);
        match (p.parent(), p.file_name()) {
            (Some(parent), Some(name)) => Ok(self.resolve(&parent.to_string_lossy())?.join(name)),
            _ => self.resolve(host_path),
        }
    }

    /// Reads a whole file, at most `limit` bytes.
    pub fn read_limited(&self, host_path: &str, limit: u64) -> Result<Vec<u8>, HostError> {
        let local = self.resolve(host_path)?;
        let file = File::open(&local).map_err(|e| HostError::from_io(host_path, e))?;
        let mut buf = Vec::new();
        file.take(limit + 1)
            .read_to_end(&mut buf)
            .map_err(|e| HostError::from_io(host_path, e))?;
        if buf.len() as u64 > limit {
            return Err(HostError::TooLarge {
                path: host_path.to_string(),
                limit,
            });
        }
        Ok(buf)
    }

    /// Reads a whole file with the default limit.
    pub fn read(&self, host_path: &str) -> Result<Vec<u8>, HostError> {
        self.read_limited(host_path, DEFAULT_READ_LIMIT)
    }

    /// Reads a text file; invalid UTF-8 is replaced, never an error (attackers write
    /// garbage into account files precisely to break parsers).
    pub fn read_text(&self, host_path: &str) -> Result<String, HostError> {
        self.read(host_path).map(|b| {
            String::from_utf8(b).unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned())
        })
    }

    /// Like [`read_text`](Self::read_text) but a missing file is `Ok(None)`.
    pub fn read_text_opt(&self, host_path: &str) -> Result<Option<String>, HostError> {
        match self.read_text(host_path) {
            Ok(s) => Ok(Some(s)),
            Err(e) if e.is_not_found() => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// Metadata, following links (inside the root).
    pub fn metadata(&self, host_path: &str) -> Result<Metadata, HostError> {
        let local = self.resolve(host_path)?;
        std::fs::metadata(&local).map_err(|e| HostError::from_io(host_path, e))
    }

    /// Metadata of the path itself (a link is not followed).
    pub fn symlink_metadata(&self, host_path: &str) -> Result<Metadata, HostError> {
        let local = self.resolve_parent(host_path)?;
        std::fs::symlink_metadata(&local).map_err(|e| HostError::from_io(host_path, e))
    }

    pub fn exists(&self, host_path: &str) -> bool {
        self.metadata(host_path).is_ok()
    }

    /// The target of a symbolic link, as written in the link.
    pub fn read_link(&self, host_path: &str) -> Result<PathBuf, HostError> {
        let local = self.resolve_parent(host_path)?;
        std::fs::read_link(&local).map_err(|e| HostError::from_io(host_path, e))
    }

    /// The entries of a directory, sorted by name so reports are stable.
    pub fn read_dir(&self, host_path: &str) -> Result<Vec<DirEntry>, HostError> {
        let local = self.resolve(host_path)?;
        let rd = std::fs::read_dir(&local).map_err(|e| HostError::from_io(host_path, e))?;
        let base = host_path.trim_end_matches('/');
        let mut out = Vec::new();
        for entry in rd {
            let entry = entry.map_err(|e| HostError::from_io(host_path, e))?;
            let name = entry.file_name();
            let host_path = format!("{base}/{}", String::from_utf8_lossy(name.as_bytes()));
            out.push(DirEntry { name, host_path });
        }
        out.sort_by(|a, b| a.name.cmp(&b.name));
        Ok(out)
    }

    /// Like [`read_dir`](Self::read_dir) but a missing directory is empty.
    pub fn read_dir_opt(&self, host_path: &str) -> Result<Vec<DirEntry>, HostError> {
        match self.read_dir(host_path) {
            Err(e) if e.is_not_found() => Ok(Vec::new()),
            other => other,
        }
    }

    /// The host path of a local path under the root (the inverse of `resolve` for
    /// paths found while walking).
    pub fn host_path_of(&self, local: &Path) -> String {
        if self.live {
            return local.display().to_string();
        }
        match local.strip_prefix(&self.root) {
            Ok(rest) => format!("/{}", rest.display()),
            Err(_) => local.display().to_string(),
        }
    }
}

fn components_reversed(p: &Path) -> Vec<OsString> {
    let mut v: Vec<OsString> = p
        .components()
        .filter_map(|c| match c {
            Component::Normal(n) => Some(n.to_os_string()),
            Component::ParentDir => Some(OsString::from("..")),
            _ => None,
        })
        .collect();
    v.reverse();
    v
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::symlink;

    fn tree() -> (tempfile::TempDir, HostRoot) {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("etc")).unwrap();
        std::fs::write(dir.path().join("etc/passwd"), "root:x:0:0::/root:/bin/sh\n").unwrap();
        let host = HostRoot::at(dir.path()).unwrap();
        (dir, host)
    }

    #[test]
    fn absolute_links_stay_inside_the_root() {
        let (dir, host) = tree();
        // A hostile image links its passwd to the analyst's own /etc/shadow.
        symlink("/etc/passwd", dir.path().join("etc/link")).unwrap();
        symlink("../../../../../../etc/passwd", dir.path().join("etc/rel")).unwrap();
        let inside = host.read_text("/etc/link").unwrap();
        assert!(inside.starts_with("root:x:0:0::/root"));
        assert_eq!(host.read_text("/etc/rel").unwrap(), inside);
    }

    #[test]
    fn symlink_loops_are_an_error_naming_the_file() {
        let (dir, host) = tree();
        symlink("/etc/b", dir.path().join("etc/a")).unwrap();
        symlink("/etc/a", dir.path().join("etc/b")).unwrap();
        let err = host.read("/etc/a").unwrap_err();
        assert!(matches!(err, HostError::SymlinkLoop { .. }), "{err}");
        assert!(err.to_string().contains("/etc/a"));
    }

    #[test]
    fn reads_are_bounded() {
        let (dir, host) = tree();
        std::fs::write(dir.path().join("etc/big"), vec![b'x'; 100]).unwrap();
        let err = host.read_limited("/etc/big", 10).unwrap_err();
        assert!(matches!(err, HostError::TooLarge { limit: 10, .. }));
        assert_eq!(host.read_limited("/etc/big", 100).unwrap().len(), 100);
    }

    #[test]
    fn missing_files_are_not_found_with_their_host_path() {
        let (_dir, host) = tree();
        let err = host.read("/etc/shadow").unwrap_err();
        assert!(err.is_not_found());
        assert_eq!(err.to_string(), "/etc/shadow: no such file or directory");
        assert_eq!(host.read_text_opt("/etc/shadow").unwrap(), None);
    }

    #[test]
    fn read_dir_lists_host_paths() {
        let (_dir, host) = tree();
        let names: Vec<_> = host
            .read_dir("/etc")
            .unwrap()
            .into_iter()
            .map(|e| e.host_path)
            .collect();
        assert_eq!(names, vec!["/etc/passwd"]);
        assert!(host.read_dir_opt("/nonexistent").unwrap().is_empty());
    }
}
