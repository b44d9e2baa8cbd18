//! `webroot-readonly root=DIR user=WEBUSER [writable=DIR,…] [owner=root]`: the web
//! server's account may read its web root but not write it, except the upload and cache
//! directories the operator names (left exactly as they are).
//!
//! Every entry gets `owner` as its owner and loses group/other write; set-id bits are
//! stripped from files; an entry the web user owned keeps being readable through the web
//! user's group. Symbolic links are never followed: every change goes through a file
//! descriptor opened component by component with `O_NOFOLLOW | O_PATH` and re-checked
//! against the inode seen during the walk, so a link swapped in mid-way (to /etc) is
//! never touched. The previous owner and mode of every changed entry are journaled
//! compactly (one `mode uid gid path` line each) before the first change.

use crate::action::{Action, Outcome, Plan};
use crate::env::Env;
use crate::error::{RespondError, Result};
use crate::fsutil::{self, Meta};
use crate::journal::Entry;
use crate::pwfile;
use crate::spec::ActionSpec;
use std::ffi::CString;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::MetadataExt;
use std::path::{Component, Path, PathBuf};

pub struct WebrootReadonly {
    root: String,
    user: String,
    owner: String,
    writable: Vec<String>,
}

/// One entry to change: path relative to the web root, its inode, before and after.
#[derive(Debug, Clone)]
struct Change {
    rel: PathBuf,
    ino: u64,
    before: Meta,
    after: Meta,
}

#[derive(Debug, Default)]
struct Walk {
    changes: Vec<Change>,
    symlinks: usize,
    special: usize,
    unchanged: usize,
    errors: Vec<String>,
}

const PROTECTED: &[&str] = &[
    "/", "/etc", "/usr", "/bin", "/sbin", "/lib", "/boot", "/root", "/home", "/var", "/proc", "/sys", "/dev",
];

impl WebrootReadonly {
    pub fn from_spec(spec: &ActionSpec) -> Result<Self> {
        spec.only_keys(&["root", "user", "writable", "owner"])?;
        let root = spec.required("root")?;
        if !root.starts_with('/') {
            return Err(RespondError::Input(format!(
                "webroot-readonly: root={root}: must be an absolute path"
            )));
        }
        let user = spec.required("user")?;
        pwfile::valid_user_name(&user)?;
        let owner = spec.one("owner")?.unwrap_or_else(|| "root".into());
        pwfile::valid_user_name(&owner)?;
        Ok(WebrootReadonly {
            root: root.trim_end_matches('/').to_string(),
            user,
            owner,
            writable: spec.list("writable"),
        })
    }

    fn ids(env: &Env, user: &str) -> Result<(u32, u32)> {
        let f = pwfile::fields_of(env, "/etc/passwd", user)?;
        let uid = f.get(2).and_then(|s| s.parse().ok());
        let gid = f.get(3).and_then(|s| s.parse().ok());
        uid.zip(gid)
            .ok_or_else(|| RespondError::Precondition(format!("/etc/passwd: bad uid/gid for {user}")))
    }

    fn local_root(&self, env: &Env) -> PathBuf {
        env.path(&self.root)
    }

    /// The writable directories, relative to the root, checked to be real directories inside it.
    fn writable_rel(&self, env: &Env) -> Result<Vec<PathBuf>> {
        let mut out = Vec::new();
        for w in &self.writable {
            let rel = match w.strip_prefix(&format!("{}/", self.root)) {
                Some(r) => PathBuf::from(r),
                None if w.starts_with('/') => {
                    return Err(RespondError::Input(format!(
                        "webroot-readonly: writable={w}: not inside {}",
                        self.root
                    )))
                }
                None => PathBuf::from(w),
            };
            if rel.components().any(|c| !matches!(c, Component::Normal(_))) {
                return Err(RespondError::Input(format!(
                    "webroot-readonly: writable={w}: no `..` or `.` allowed"
                )));
            }
            let local = self.local_root(env).join(&rel);
            match std::fs::symlink_metadata(&local) {
                Ok(md) if md.is_dir() => out.push(rel),
                Ok(_) => {
                    return Err(RespondError::Input(format!(
                        "webroot-readonly: writable={w}: not a directory (symbolic links are not followed)"
                    )))
                }
                Err(_) => {
                    return Err(RespondError::Input(format!(
                        "webroot-readonly: writable={w}: no such directory"
                    )))
                }
            }
        }
        Ok(out)
    }

    fn walk(&self, env: &Env) -> Result<Walk> {
        let (web_uid, web_gid) = Self::ids(env, &self.user)?;
        let (own_uid, _) = Self::ids(env, &self.owner)?;
        let writable = self.writable_rel(env)?;
        let root = self.local_root(env);
        let mut walk = Walk::default();
        let mut stack = vec![PathBuf::new()];
        while let Some(rel) = stack.pop() {
            let local = if rel.as_os_str().is_empty() {
                root.clone()
            } else {
                root.join(&rel)
            };
            let md = match std::fs::symlink_metadata(&local) {
                Ok(m) => m,
                Err(e) => {
                    walk.errors.push(format!("{}: {e}", local.display()));
                    continue;
                }
            };
            let ft = md.file_type();
            if ft.is_symlink() {
                walk.symlinks += 1;
                continue;
            }
            if !ft.is_file() && !ft.is_dir() {
                walk.special += 1;
                continue;
            }
            if writable.iter().any(|w| rel.starts_with(w)) {
                continue;
            }
            let before = Meta {
                uid: md.uid(),
                gid: md.gid(),
                mode: md.mode() & 0o7777,
            };
            let mut mode = before.mode & !0o022;
            if ft.is_file() {
                mode &= !0o6000;
            }
            let mut gid = before.gid;
            if before.uid == web_uid && own_uid != web_uid {
                // The web user keeps read (and directory search) access through its group.
                mode |= (before.mode & 0o500) >> 3;
                gid = web_gid;
            }
            let after = Meta {
                uid: own_uid,
                gid,
                mode,
            };
            if after == before {
                walk.unchanged += 1;
            } else {
                walk.changes.push(Change {
                    rel: rel.clone(),
                    ino: md.ino(),
                    before,
                    after,
                });
            }
            if ft.is_dir() {
                match std::fs::read_dir(&local) {
                    Ok(rd) => {
                        let mut names: Vec<PathBuf> = rd.flatten().map(|e| rel.join(e.file_name())).collect();
                        names.sort();
                        stack.extend(names.into_iter().rev());
                    }
                    Err(e) => walk.errors.push(format!("{}: {e}", local.display())),
                }
            }
        }
        Ok(walk)
    }
}

/// Opens `rel` under `root` without following any symbolic link on the way (O_PATH: no
/// side effects even on device files).
fn open_beneath(root: &Path, rel: &Path) -> std::io::Result<OwnedFd> {
    let c = CString::new(root.as_os_str().as_bytes())?;
    // SAFETY: open with a valid C string; the fd is owned below.
    let fd = unsafe {
        libc::open(
            c.as_ptr(),
            libc::O_PATH | libc::O_DIRECTORY | libc::O_NOFOLLOW | libc::O_CLOEXEC,
        )
    };
    if fd < 0 {
        return Err(std::io::Error::last_os_error());
    }
    // SAFETY: fd is a fresh descriptor we own.
    let mut cur = unsafe { OwnedFd::from_raw_fd(fd) };
    for comp in rel.components() {
        let Component::Normal(name) = comp else {
            return Err(std::io::Error::new(
                std::io::ErrorKind::InvalidInput,
                "bad path component",
            ));
        };
        let c = CString::new(name.as_bytes())?;
        // SAFETY: openat relative to a descriptor we own.
        let fd = unsafe {
            libc::openat(
                cur.as_raw_fd(),
                c.as_ptr(),
                libc::O_PATH | libc::O_NOFOLLOW | libc::O_CLOEXEC,
            )
        };
        if fd < 0 {
            return Err(std::io::Error::last_os_error());
        }
        // SAFETY: fresh descriptor.
        cur = unsafe { OwnedFd::from_raw_fd(fd) };
    }
    Ok(cur)
}

/// Sets owner then mode (chown clears set-id bits, so the mode goes last) on `rel`, only
/// if it is still the regular file or directory with inode `ino`.
fn set_meta(root: &Path, rel: &Path, ino: Option<u64>, m: Meta) -> std::io::Result<()> {
    let fd = open_beneath(root, rel)?;
    // SAFETY: fstat into a zeroed struct on a descriptor we own.
    let mut st: libc::stat = unsafe { std::mem::zeroed() };
    if unsafe { libc::fstat(fd.as_raw_fd(), &mut st) } != 0 {
        return Err(std::io::Error::last_os_error());
    }
    let kind = st.st_mode & libc::S_IFMT;
    if kind != libc::S_IFREG && kind != libc::S_IFDIR {
        return Err(std::io::Error::other(
            "no longer a regular file or directory; left alone",
        ));
    }
    if ino.is_some_and(|i| i != st.st_ino) {
        return Err(std::io::Error::other(
            "replaced since it was examined; left alone",
        ));
    }
    let empty = CString::new("").expect("no NUL");
    // SAFETY: fchownat on our O_PATH descriptor with AT_EMPTY_PATH changes exactly that inode.
    if unsafe { libc::fchownat(fd.as_raw_fd(), empty.as_ptr(), m.uid, m.gid, libc::AT_EMPTY_PATH) } != 0 {
        return Err(std::io::Error::last_os_error());
    }
    // The magic link resolves to the very inode we hold, never to a path an attacker controls.
    let proc = CString::new(format!("/proc/self/fd/{}", fd.as_raw_fd())).expect("no NUL");
    // SAFETY: chmod on a valid C string.
    if unsafe { libc::chmod(proc.as_ptr(), m.mode as libc::mode_t) } != 0 {
        return Err(std::io::Error::last_os_error());
    }
    Ok(())
}

fn escape(p: &Path) -> String {
    let mut s = String::new();
    for &b in p.as_os_str().as_bytes() {
        if b.is_ascii_graphic() && b != b'%' {
            s.push(b as char);
        } else {
            s.push_str(&format!("%{b:02x}"));
        }
    }
    s
}

fn unescape(s: &str) -> Option<PathBuf> {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' {
            let h = std::str::from_utf8(b.get(i + 1..i + 3)?).ok()?;
            out.push(u8::from_str_radix(h, 16).ok()?);
            i += 3;
        } else {
            out.push(b[i]);
            i += 1;
        }
    }
    Some(PathBuf::from(
        <std::ffi::OsString as std::os::unix::ffi::OsStringExt>::from_vec(out),
    ))
}

impl Action for WebrootReadonly {
    fn name(&self) -> &'static str {
        "webroot-readonly"
    }

    fn plan(&self, env: &Env) -> Result<Plan> {
        if PROTECTED.contains(&self.root.as_str()) || self.root.is_empty() {
            return Err(RespondError::Input(format!(
                "webroot-readonly: root={}: refusing a system directory",
                if self.root.is_empty() { "/" } else { &self.root }
            )));
        }
        match std::fs::symlink_metadata(self.local_root(env)) {
            Ok(md) if md.is_dir() => {}
            Ok(_) => {
                return Err(RespondError::Precondition(format!(
                    "{}: not a directory (a symbolic link is not followed)",
                    self.root
                )))
            }
            Err(e) => return Err(RespondError::Precondition(format!("{}: {e}", self.root))),
        }
        if self.user == self.owner {
            return Err(RespondError::Input(
                "webroot-readonly: owner= must differ from user=".into(),
            ));
        }
        let walk = self.walk(env)?;
        let mut plan = Plan::default();
        plan.changes.push(format!(
            "{}: {} entries get owner {} and lose group/other write ({} already fine)",
            self.root,
            walk.changes.len(),
            self.owner,
            walk.unchanged
        ));
        for c in walk.changes.iter().take(5) {
            plan.changes.push(format!(
                "  e.g. {}: {}:{} {:04o} -> {}:{} {:04o}",
                c.rel.display(),
                c.before.uid,
                c.before.gid,
                c.before.mode,
                c.after.uid,
                c.after.gid,
                c.after.mode
            ));
        }
        for w in &self.writable {
            plan.changes.push(format!("left writable as it is: {w}"));
        }
        if walk.symlinks > 0 {
            plan.warnings.push(format!(
                "{} symbolic links are not followed and not changed",
                walk.symlinks
            ));
        }
        if walk.special > 0 {
            plan.warnings.push(format!(
                "{} sockets, FIFOs or device files are left alone",
                walk.special
            ));
        }
        for e in walk.errors.iter().take(5) {
            plan.warnings.push(format!("could not read {e}"));
        }
        Ok(plan)
    }

    fn apply(&self, env: &Env, entry: &mut Entry) -> Result<Outcome> {
        let walk = self.walk(env)?;
        let mut tsv = String::new();
        for c in &walk.changes {
            tsv.push_str(&format!(
                "{:o} {} {} {}\n",
                c.before.mode,
                c.before.uid,
                c.before.gid,
                escape(&c.rel)
            ));
        }
        fsutil::write_atomic(
            &entry.dir.join("webroot.before"),
            tsv.as_bytes(),
            Meta {
                uid: 0,
                gid: 0,
                mode: 0o600,
            },
        )?;
        entry.put("root", self.local_root(env))?;
        entry.put("count", walk.changes.len())?;
        entry.commit()?;
        let root = self.local_root(env);
        let mut failed = Vec::new();
        for c in &walk.changes {
            if let Err(e) = set_meta(&root, &c.rel, Some(c.ino), c.after) {
                failed.push(format!("{}: {e}", c.rel.display()));
            }
        }
        let mut done = vec![format!(
            "{}: {} entries changed, {} failed",
            self.root,
            walk.changes.len() - failed.len(),
            failed.len()
        )];
        done.extend(failed.iter().take(20).cloned());
        if !failed.is_empty() {
            return Err(RespondError::failed(
                self.root.clone(),
                format!(
                    "{} entries could not be changed (first: {})",
                    failed.len(),
                    failed[0]
                ),
            ));
        }
        Ok(Outcome {
            done,
            secrets: Vec::new(),
        })
    }

    fn verify(&self, env: &Env, _entry: &Entry) -> Result<()> {
        let walk = self.walk(env)?;
        if walk.changes.is_empty() {
            Ok(())
        } else {
            Err(RespondError::failed(
                self.root.clone(),
                format!(
                    "{} entries are still writable by the web user",
                    walk.changes.len()
                ),
            ))
        }
    }

    fn undo(&self, _env: &Env, entry: &Entry) -> Result<Vec<String>> {
        let Ok(root) = entry.get::<PathBuf>("root") else {
            return Ok(vec!["nothing had been changed".into()]);
        };
        let p = entry.dir.join("webroot.before");
        let text = std::fs::read_to_string(&p).map_err(|e| RespondError::io(&p, e))?;
        let (mut ok, mut failed) = (0usize, Vec::new());
        for (n, line) in text.lines().enumerate() {
            let w: Vec<&str> = line.splitn(4, ' ').collect();
            let parsed = (|| {
                Some((
                    Meta {
                        mode: u32::from_str_radix(w.first()?, 8).ok()?,
                        uid: w.get(1)?.parse().ok()?,
                        gid: w.get(2)?.parse().ok()?,
                    },
                    unescape(w.get(3)?)?,
                ))
            })();
            let Some((meta, rel)) = parsed else {
                failed.push(format!("{}:{}: unreadable line", p.display(), n + 1));
                continue;
            };
            match set_meta(&root, &rel, None, meta) {
                Ok(()) => ok += 1,
                Err(e) => failed.push(format!("{}: {e}", rel.display())),
            }
        }
        if !failed.is_empty() {
            return Err(RespondError::failed(
                root.display().to_string(),
                format!("{ok} restored, {} failed (first: {})", failed.len(), failed[0]),
            ));
        }
        Ok(vec![format!(
            "{}: previous owner and mode of {ok} entries restored",
            root.display()
        )])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_escape_round_trip() {
        let p = PathBuf::from(<std::ffi::OsString as std::os::unix::ffi::OsStringExt>::from_vec(
            b"up loads/%x\n\xff".to_vec(),
        ));
        assert_eq!(unescape(&escape(&p)).unwrap(), p);
        assert!(!escape(&p).contains(' '));
    }
}
