//! The account files (`/etc/passwd`, `/etc/shadow`): reading entries, and putting exact
//! previous lines back under the same locks shadow-utils takes (`/etc/.pwd.lock` with
//! `lckpwdf` semantics, and the `FILE.lock` link), so a concurrent `usermod` or `passwd`
//! never interleaves with an undo.

use crate::env::Env;
use crate::error::{RespondError, Result};
use crate::fsutil::{self, Meta};
use std::fs::File;
use std::os::unix::io::AsRawFd;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// The line of `user` in the colon-separated account file `host_path` (`/etc/shadow`).
pub fn line_of(env: &Env, host_path: &str, user: &str) -> Result<Option<String>> {
    let path = env.path(host_path);
    let text = std::fs::read(&path).map_err(|e| RespondError::io(&path, e))?;
    let text = String::from_utf8_lossy(&text);
    Ok(text
        .lines()
        .find(|l| l.split(':').next() == Some(user))
        .map(str::to_string))
}

/// The fields of `user`'s line, or a clear error naming the file.
pub fn fields_of(env: &Env, host_path: &str, user: &str) -> Result<Vec<String>> {
    line_of(env, host_path, user)?
        .map(|l| l.split(':').map(str::to_string).collect())
        .ok_or_else(|| RespondError::Precondition(format!("unknown user {user:?} (not in {host_path})")))
}

/// Checks a user name before it reaches any tool: no option-looking or odd names.
pub fn valid_user_name(name: &str) -> Result<()> {
    let ok = !name.is_empty()
        && name.len() <= 64
        && !name.starts_with('-')
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.' | '$'));
    if ok {
        Ok(())
    } else {
        Err(RespondError::Input(format!("{name:?} is not a valid user name")))
    }
}

/// Holds the password-file locks until dropped.
pub struct PwLock {
    _global: File,
    links: Vec<PathBuf>,
}

impl Drop for PwLock {
    fn drop(&mut self) {
        for l in &self.links {
            let _ = std::fs::remove_file(l);
        }
    }
}

/// Takes `/etc/.pwd.lock` (fcntl write lock, as `lckpwdf`) and `FILE.lock` for each of
/// `files` (host paths), waiting up to 15 s like shadow-utils.
pub fn lock(env: &Env, files: &[&str]) -> Result<PwLock> {
    let global_path = env.path("/etc/.pwd.lock");
    let global = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&global_path)
        .map_err(|e| RespondError::io(&global_path, e))?;
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        // SAFETY: a zeroed flock is a valid value; we fill the fields we use.
        let mut fl: libc::flock = unsafe { std::mem::zeroed() };
        fl.l_type = libc::F_WRLCK as i16;
        fl.l_whence = libc::SEEK_SET as i16;
        // SAFETY: fcntl on an fd we own with a valid flock struct.
        if unsafe { libc::fcntl(global.as_raw_fd(), libc::F_SETLK, &fl) } == 0 {
            break;
        }
        if Instant::now() > deadline {
            return Err(RespondError::Precondition(format!(
                "{}: the password files are locked by another program",
                global_path.display()
            )));
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    let mut guard = PwLock {
        _global: global,
        links: Vec::new(),
    };
    for f in files {
        let file = env.path(f);
        let lock = PathBuf::from(format!("{}.lock", file.display()));
        let tmp = PathBuf::from(format!("{}.{}", file.display(), std::process::id()));
        std::fs::write(&tmp, format!("{}\0", std::process::id())).map_err(|e| RespondError::io(&tmp, e))?;
        let res = loop {
            match std::fs::hard_link(&tmp, &lock) {
                Ok(()) => break Ok(()),
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
                    if stale(&lock) {
                        let _ = std::fs::remove_file(&lock);
                        continue;
                    }
                    if Instant::now() > deadline {
                        break Err(RespondError::Precondition(format!(
                            "{}: locked by another program",
                            lock.display()
                        )));
                    }
                    std::thread::sleep(Duration::from_millis(100));
                }
                Err(e) => break Err(RespondError::io(&lock, e)),
            }
        };
        let _ = std::fs::remove_file(&tmp);
        res?;
        guard.links.push(lock);
    }
    Ok(guard)
}

/// A lock file whose writer is gone.
fn stale(lock: &Path) -> bool {
    let Ok(text) = std::fs::read_to_string(lock) else {
        return false;
    };
    let Ok(pid) = text.trim_end_matches('\0').trim().parse::<i32>() else {
        return false;
    };
    // SAFETY: kill with signal 0 only checks that the process exists.
    pid > 0 && unsafe { libc::kill(pid, 0) } != 0
}

/// Puts `new_line` in place of `user`'s line in `host_path`, keeping every other byte.
/// The caller holds [`lock`].
pub fn replace_line(env: &Env, host_path: &str, user: &str, new_line: &str) -> Result<()> {
    let path = env.path(host_path);
    let text = std::fs::read(&path).map_err(|e| RespondError::io(&path, e))?;
    let meta = Meta::of(&path)?;
    let mut out = Vec::with_capacity(text.len() + new_line.len());
    let mut found = false;
    for chunk in text.split_inclusive(|&b| b == b'\n') {
        let name_end = chunk.iter().position(|&b| b == b':').unwrap_or(chunk.len());
        if !found && &chunk[..name_end] == user.as_bytes() && name_end < chunk.len() {
            found = true;
            out.extend_from_slice(new_line.as_bytes());
            if chunk.ends_with(b"\n") {
                out.push(b'\n');
            }
        } else {
            out.extend_from_slice(chunk);
        }
    }
    if !found {
        return Err(RespondError::Precondition(format!(
            "{}: user {user:?} is gone; cannot put the previous line back",
            path.display()
        )));
    }
    fsutil::write_atomic(&path, &out, meta)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replaces_only_the_users_line() {
        let d = tempfile::tempdir().unwrap();
        std::fs::create_dir(d.path().join("etc")).unwrap();
        let shadow = d.path().join("etc/shadow");
        std::fs::write(&shadow, "root:*:1::::::\nbob:!x:2:0:99999:7:::\nbobby:y:3::::::").unwrap();
        let env = Env {
            root: d.path().to_path_buf(),
            ..Env::live()
        };
        let _l = lock(&env, &["/etc/shadow"]).unwrap();
        assert!(d.path().join("etc/shadow.lock").exists());
        replace_line(&env, "/etc/shadow", "bob", "bob:$6$new:2:0:99999:7:::").unwrap();
        replace_line(&env, "/etc/shadow", "bobby", "bobby:z:3::::::").unwrap();
        assert_eq!(
            std::fs::read_to_string(&shadow).unwrap(),
            "root:*:1::::::\nbob:$6$new:2:0:99999:7:::\nbobby:z:3::::::"
        );
        assert!(replace_line(&env, "/etc/shadow", "nobody", "x").is_err());
        drop(_l);
        assert!(!d.path().join("etc/shadow.lock").exists());
        assert!(valid_user_name("-oops").is_err());
        assert!(valid_user_name("www-data").is_ok());
    }
}
