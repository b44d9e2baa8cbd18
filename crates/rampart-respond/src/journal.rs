//! The on-disk journal: one directory per action under `/var/lib/rampart/journal/`,
//! holding `record.json` (what, when, state, the non-secret "before" state), byte-exact
//! backups of the files the action changes (`files/N` with owner and mode in the record)
//! and, for actions that replace secrets, a root-only `secret` file. Everything is
//! written atomically and fsynced before the host is changed.

use crate::env::Env;
use crate::error::{RespondError, Result};
use crate::fsutil::{self, Meta};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use std::fs::File;
use std::os::unix::fs::OpenOptionsExt;
use std::os::unix::io::AsRawFd;
use std::path::{Path, PathBuf};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum State {
    /// Journaled; the host may be partly changed (a crash during apply).
    Planned,
    /// Changed; for confirm-or-rollback actions, waiting for `confirm`.
    Applied,
    /// Changed and checked (and confirmed where needed).
    Verified,
    /// Reverted (by `undo` or by the automatic rollback).
    Undone,
    /// Apply failed; what could be reverted was.
    Failed,
}

impl State {
    pub fn as_str(self) -> &'static str {
        match self {
            State::Planned => "planned",
            State::Applied => "applied",
            State::Verified => "verified",
            State::Undone => "undone",
            State::Failed => "failed",
        }
    }
}

/// A file as it was before the action: restored byte for byte with owner and mode.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct FileBackup {
    pub path: PathBuf,
    /// `None`: the file did not exist, so undo removes it.
    pub meta: Option<Meta>,
    /// Name of the copy inside the entry's `files/` directory.
    pub blob: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Record {
    pub id: String,
    pub action: String,
    pub created: u64,
    /// Nanoseconds within `created`: actions applied within one second still undo newest
    /// first.
    #[serde(default)]
    pub created_nanos: u32,
    pub time: String,
    pub state: State,
    pub env: Env,
    /// What the plan said would change.
    pub plan: Vec<String>,
    /// Unix time after which the detached rollback reverts, unless confirmed.
    #[serde(default)]
    pub confirm_deadline: Option<u64>,
    #[serde(default)]
    pub confirmed: bool,
    #[serde(default)]
    pub rollback_pid: Option<u32>,
    #[serde(default)]
    pub notes: Vec<String>,
    #[serde(default)]
    pub error: Option<String>,
    /// The action's own "before" state (never secrets).
    #[serde(default)]
    pub data: Map<String, Value>,
    #[serde(default)]
    pub files: Vec<FileBackup>,
}

impl Record {
    pub fn awaiting_confirm(&self) -> bool {
        self.confirm_deadline.is_some()
            && !self.confirmed
            && matches!(self.state, State::Applied | State::Planned)
    }
}

#[derive(Debug, Clone)]
pub struct Journal {
    dir: PathBuf,
}

/// One action's directory and record.
#[derive(Debug)]
pub struct Entry {
    pub dir: PathBuf,
    pub record: Record,
}

/// An exclusive lock on one entry, so confirm, undo and the rollback never race.
pub struct EntryLock {
    _file: File,
}

impl Journal {
    pub fn open(dir: &Path) -> Result<Journal> {
        fsutil::private_dir(dir).map_err(|e| jerr(dir, e))?;
        Ok(Journal {
            dir: dir.to_path_buf(),
        })
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// An exclusive lock on the whole journal (held while a guarded change is applied, so
    /// two operators cannot start two guarded changes at once).
    pub fn lock(&self) -> Result<EntryLock> {
        lock_file(&self.dir.join(".lock"))
    }

    /// Creates the entry for `action` (state planned) and writes it to disk.
    pub fn create(&self, action: &str, name: &str, env: &Env, plan: Vec<String>) -> Result<Entry> {
        let since_epoch = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap_or_default();
        let (created, created_nanos) = (since_epoch.as_secs(), since_epoch.subsec_nanos());
        let mut rnd = [0u8; 3];
        getrandom::fill(&mut rnd).map_err(|e| jerr(&self.dir, e))?;
        let stamp: String = fsutil::utc(created)
            .chars()
            .filter(|c| c.is_ascii_alphanumeric())
            .collect();
        let id = format!("{stamp}-{name}-{:02x}{:02x}{:02x}", rnd[0], rnd[1], rnd[2]);
        let dir = self.dir.join(&id);
        std::fs::create_dir(&dir).map_err(|e| jerr(&dir, e))?;
        fsutil::private_dir(&dir.join("files"))?;
        let record = Record {
            id,
            action: action.to_string(),
            created,
            created_nanos,
            time: fsutil::utc(created),
            state: State::Planned,
            env: env.clone(),
            plan,
            confirm_deadline: None,
            confirmed: false,
            rollback_pid: None,
            notes: Vec::new(),
            error: None,
            data: Map::new(),
            files: Vec::new(),
        };
        let entry = Entry { dir, record };
        entry.commit()?;
        fsutil::fsync_dir(&self.dir)?;
        Ok(entry)
    }

    pub fn load(&self, id: &str) -> Result<Entry> {
        if id.is_empty() || id.contains('/') || id.starts_with('.') {
            return Err(RespondError::Input(format!("{id:?} is not a journal id")));
        }
        let dir = self.dir.join(id);
        let path = dir.join("record.json");
        let text = std::fs::read(&path).map_err(|e| match e.kind() {
            std::io::ErrorKind::NotFound => {
                RespondError::Input(format!("no journal entry {id:?} in {}", self.dir.display()))
            }
            _ => jerr(&path, e),
        })?;
        let record: Record = serde_json::from_slice(&text).map_err(|e| jerr(&path, e))?;
        Ok(Entry { dir, record })
    }

    /// Every entry, oldest first. Unreadable entries are returned as errors, not skipped.
    pub fn list(&self) -> Result<(Vec<Record>, Vec<RespondError>)> {
        let mut records = Vec::new();
        let mut errors = Vec::new();
        let rd = std::fs::read_dir(&self.dir).map_err(|e| jerr(&self.dir, e))?;
        for ent in rd.flatten() {
            let name = ent.file_name().to_string_lossy().into_owned();
            if name.starts_with('.') || !ent.path().is_dir() {
                continue;
            }
            match self.load(&name) {
                Ok(e) => records.push(e.record),
                Err(e) => errors.push(e),
            }
        }
        records.sort_by(|a, b| (a.created, a.created_nanos, &a.id).cmp(&(b.created, b.created_nanos, &b.id)));
        Ok((records, errors))
    }
}

impl Entry {
    pub fn id(&self) -> &str {
        &self.record.id
    }

    /// Writes the record atomically.
    pub fn commit(&self) -> Result<()> {
        let data = serde_json::to_vec_pretty(&self.record).map_err(|e| jerr(&self.dir, e))?;
        fsutil::write_atomic(&self.dir.join("record.json"), &data, own_meta(0o600))
    }

    pub fn set_state(&mut self, state: State) -> Result<()> {
        self.record.state = state;
        self.commit()
    }

    pub fn note(&mut self, note: impl Into<String>) {
        self.record.notes.push(note.into());
    }

    pub fn put(&mut self, key: &str, value: impl Serialize) -> Result<()> {
        let v = serde_json::to_value(value).map_err(|e| jerr(&self.dir, e))?;
        self.record.data.insert(key.to_string(), v);
        Ok(())
    }

    pub fn get<T: serde::de::DeserializeOwned>(&self, key: &str) -> Result<T> {
        let v = self
            .record
            .data
            .get(key)
            .cloned()
            .ok_or_else(|| RespondError::Journal {
                path: self.dir.display().to_string(),
                message: format!("no {key:?} saved"),
            })?;
        serde_json::from_value(v).map_err(|e| jerr(&self.dir, e))
    }

    /// Copies `path` (byte for byte, with owner and mode) into the entry; call
    /// [`commit`](Self::commit) before changing the file.
    pub fn backup_file(&mut self, path: &Path) -> Result<()> {
        if self.record.files.iter().any(|f| f.path == path) {
            return Ok(());
        }
        let n = self.record.files.len();
        let backup = match std::fs::symlink_metadata(path) {
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => FileBackup {
                path: path.to_path_buf(),
                meta: None,
                blob: None,
            },
            Err(e) => return Err(RespondError::io(path, e)),
            Ok(md) if !md.is_file() => {
                return Err(RespondError::Precondition(format!(
                    "{}: not a regular file; refusing to replace it",
                    path.display()
                )))
            }
            Ok(_) => {
                let bytes = std::fs::read(path).map_err(|e| RespondError::io(path, e))?;
                let blob = format!("{n}");
                fsutil::write_atomic(&self.dir.join("files").join(&blob), &bytes, own_meta(0o600))?;
                FileBackup {
                    path: path.to_path_buf(),
                    meta: Some(Meta::of(path)?),
                    blob: Some(blob),
                }
            }
        };
        self.record.files.push(backup);
        Ok(())
    }

    /// Puts every backed-up file back exactly (or removes it if it did not exist).
    pub fn restore_files(&self) -> Result<Vec<PathBuf>> {
        let mut restored = Vec::new();
        for f in &self.record.files {
            match (&f.meta, &f.blob) {
                (Some(meta), Some(blob)) => {
                    let src = self.dir.join("files").join(blob);
                    let bytes = std::fs::read(&src).map_err(|e| jerr(&src, e))?;
                    fsutil::write_atomic(&f.path, &bytes, *meta)?;
                }
                _ => match std::fs::remove_file(&f.path) {
                    Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
                        return Err(RespondError::io(&f.path, e))
                    }
                    _ => {}
                },
            }
            restored.push(f.path.clone());
        }
        Ok(restored)
    }

    /// The backed-up bytes of `path`.
    pub fn backup_of(&self, path: &Path) -> Result<Option<Vec<u8>>> {
        let Some(f) = self.record.files.iter().find(|f| f.path == path) else {
            return Ok(None);
        };
        match &f.blob {
            None => Ok(None),
            Some(blob) => {
                let src = self.dir.join("files").join(blob);
                std::fs::read(&src).map(Some).map_err(|e| jerr(&src, e))
            }
        }
    }

    /// Stores secret "before" state (a shadow line, a database password hash) in a
    /// root-only 0600 file, never in the record.
    pub fn write_secret(&self, data: &[u8]) -> Result<()> {
        fsutil::write_atomic(&self.dir.join("secret"), data, own_meta(0o600))
    }

    pub fn read_secret(&self) -> Result<Vec<u8>> {
        let p = self.dir.join("secret");
        std::fs::read(&p).map_err(|e| jerr(&p, e))
    }

    pub fn lock(&self) -> Result<EntryLock> {
        lock_file(&self.dir.join("lock"))
    }

    /// Re-reads the record from disk (another process may have changed it).
    pub fn reload(&mut self) -> Result<()> {
        let j = Journal {
            dir: self.dir.parent().unwrap_or(Path::new("/")).to_path_buf(),
        };
        let fresh = j.load(&self.record.id)?;
        self.record = fresh.record;
        Ok(())
    }
}

fn lock_file(p: &Path) -> Result<EntryLock> {
    let file = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .mode(0o600)
        .open(p)
        .map_err(|e| jerr(p, e))?;
    // SAFETY: flock on an fd we own; blocks until the other holder is done.
    if unsafe { libc::flock(file.as_raw_fd(), libc::LOCK_EX) } != 0 {
        return Err(jerr(p, std::io::Error::last_os_error()));
    }
    Ok(EntryLock { _file: file })
}

fn own_meta(mode: u32) -> Meta {
    // SAFETY: geteuid/getegid cannot fail.
    let (uid, gid) = unsafe { (libc::geteuid(), libc::getegid()) };
    Meta { uid, gid, mode }
}

fn jerr(path: &Path, e: impl std::fmt::Display) -> RespondError {
    RespondError::Journal {
        path: path.display().to_string(),
        message: e.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    fn env(dir: &Path) -> Env {
        Env {
            journal_dir: dir.to_path_buf(),
            ..Env::live()
        }
    }

    #[test]
    fn backups_restore_byte_identical_with_mode_and_secret_is_private() {
        let d = tempfile::tempdir().unwrap();
        let j = Journal::open(&d.path().join("journal")).unwrap();
        let target = d.path().join("sshd_config");
        let original = b"Port 22\r\n\xff binary \x00 tail".to_vec();
        std::fs::write(&target, &original).unwrap();
        std::fs::set_permissions(&target, std::fs::Permissions::from_mode(0o604)).unwrap();
        let absent = d.path().join("new.conf");
        let mut e = j
            .create("ssh-port port=2222", "ssh-port", &env(d.path()), vec!["x".into()])
            .unwrap();
        e.backup_file(&target).unwrap();
        e.backup_file(&absent).unwrap();
        e.write_secret(b"user:$y$secret:1:::::").unwrap();
        e.commit().unwrap();

        std::fs::write(&target, "Port 2222\n").unwrap();
        std::fs::set_permissions(&target, std::fs::Permissions::from_mode(0o644)).unwrap();
        std::fs::write(&absent, "made").unwrap();

        // A fresh process would only have the directory: load it from disk.
        let loaded = j.load(e.id()).unwrap();
        loaded.restore_files().unwrap();
        assert_eq!(std::fs::read(&target).unwrap(), original);
        assert_eq!(Meta::of(&target).unwrap().mode, 0o604);
        assert!(!absent.exists());
        let secret = loaded.dir.join("secret");
        assert_eq!(
            std::fs::metadata(&secret).unwrap().permissions().mode() & 0o777,
            0o600
        );
        let record = std::fs::read_to_string(loaded.dir.join("record.json")).unwrap();
        assert!(!record.contains("$y$secret"));
        let (list, errs) = j.list().unwrap();
        assert_eq!(list.len(), 1);
        assert!(errs.is_empty());
        assert!(j.load("../etc").is_err());
    }
}
