//! A log file followed like `tail -F`: across rotation by rename (the old file is kept
//! open and read for a while after the new one appears, since its writer may not have
//! reopened yet), copytruncate (detected by size, or by the bytes before the read
//! position changing), deletion and late creation.
//!
//! Limit: a file created and rotated away again between two polls is never seen
//! (the daemon polls on every inotify event, so that takes two rotations within
//! microseconds).

use crate::engine::LineSplitter;
use std::fs::File;
use std::io::{Read, Seek, SeekFrom};
use std::os::unix::fs::{FileExt, MetadataExt};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

const TAIL: usize = 64;

/// Bytes read per poll at most, so one busy file cannot starve the others.
const MAX_PER_POLL: u64 = 64 << 20;
/// How long a rotated-away file is still read: its writer (rsyslog before its HUP)
/// may append to it after the new file exists.
const RETIRE_AFTER: Duration = Duration::from_secs(5);

/// An open file and the reader's place in it.
struct Open {
    file: File,
    id: (u64, u64),
    offset: u64,
    splitter: LineSplitter,
    /// The last bytes read: if the file no longer holds them where they were read, it
    /// was truncated and rewritten past the read position between two polls.
    tail: Vec<u8>,
}

impl Open {
    fn truncated(&self) -> bool {
        if self.tail.is_empty() {
            return false;
        }
        let mut now = vec![0u8; self.tail.len()];
        match self
            .file
            .read_exact_at(&mut now, self.offset - self.tail.len() as u64)
        {
            Ok(()) => now != self.tail,
            Err(_) => true,
        }
    }

    /// Reads what is new; returns the bytes read and the error, if any.
    fn drain(&mut self, f: &mut impl FnMut(&[u8])) -> (u64, Option<std::io::Error>) {
        if let Err(e) = self.file.seek(SeekFrom::Start(self.offset)) {
            return (0, Some(e));
        }
        let mut buf = [0u8; 64 * 1024];
        let mut read = 0u64;
        while read < MAX_PER_POLL {
            match self.file.read(&mut buf) {
                Ok(0) => break,
                Ok(n) => {
                    self.offset += n as u64;
                    read += n as u64;
                    self.splitter.feed(&buf[..n], f);
                    let keep = n.min(TAIL);
                    if keep == TAIL {
                        self.tail.clear();
                    } else {
                        let excess = (self.tail.len() + keep).saturating_sub(TAIL);
                        self.tail.drain(..excess);
                    }
                    self.tail.extend_from_slice(&buf[n - keep..n]);
                }
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                Err(e) => return (read, Some(e)),
            }
        }
        (read, None)
    }
}

pub struct Follower {
    pub path: PathBuf,
    cur: Option<Open>,
    /// The file rotated away, still read for a while, and when it last grew.
    retired: Option<(Open, Instant)>,
    /// Before the first open: start at the end (existing logs are history).
    start_at_end: bool,
    pub rotations: u64,
    pub truncations: u64,
    pub read_errors: u64,
    pub last_error: Option<String>,
}

impl Follower {
    /// `from_beginning`: read what the file holds already (else only what is appended).
    pub fn new(path: &Path, from_beginning: bool) -> Self {
        Follower {
            path: path.to_path_buf(),
            cur: None,
            retired: None,
            start_at_end: !from_beginning,
            rotations: 0,
            truncations: 0,
            read_errors: 0,
            last_error: None,
        }
    }

    pub fn is_open(&self) -> bool {
        self.cur.is_some()
    }

    pub fn offset(&self) -> u64 {
        self.cur.as_ref().map(|o| o.offset).unwrap_or(0)
    }

    fn open(&mut self) -> bool {
        let Ok(file) = File::open(&self.path) else {
            // Not there (yet): a file created later is read from its start.
            self.start_at_end = false;
            return false;
        };
        let Ok(m) = file.metadata() else { return false };
        if !m.is_file() {
            self.last_error = Some("not a regular file".into());
            return false;
        }
        let offset = if self.start_at_end { m.len() } else { 0 };
        self.start_at_end = false;
        let mut tail = Vec::new();
        if offset > 0 {
            let n = offset.min(TAIL as u64);
            let mut t = vec![0u8; n as usize];
            if file.read_exact_at(&mut t, offset - n).is_ok() {
                tail = t;
            }
        }
        self.cur = Some(Open {
            file,
            id: (m.dev(), m.ino()),
            offset,
            splitter: LineSplitter::default(),
            tail,
        });
        true
    }

    fn note(&mut self, err: Option<std::io::Error>) {
        if let Some(e) = err {
            self.read_errors += 1;
            self.last_error = Some(e.to_string());
        }
    }

    /// Reads everything new and passes each complete line to `f`.
    pub fn poll(&mut self, f: &mut impl FnMut(&[u8])) {
        if let Some((old, since)) = self.retired.as_mut() {
            let (n, err) = old.drain(f);
            if n > 0 {
                *since = Instant::now();
            }
            let expired = since.elapsed() >= RETIRE_AFTER;
            self.note(err);
            if expired {
                if let Some((mut old, _)) = self.retired.take() {
                    old.splitter.finish(f);
                }
            }
        }
        if self.cur.is_none() && !self.open() {
            return;
        }
        let Some(cur) = self.cur.as_mut() else { return };
        if cur.truncated() {
            self.truncations += 1;
            cur.splitter = LineSplitter::default();
            cur.offset = 0;
            cur.tail.clear();
        }
        let (_, err) = cur.drain(f);
        let id = cur.id;
        let offset = cur.offset;
        self.note(err);
        match std::fs::metadata(&self.path) {
            Ok(m) if (m.dev(), m.ino()) != id => {
                // Renamed away and replaced: keep reading the old file for a while.
                self.rotations += 1;
                if let Some(old) = self.cur.take() {
                    if let Some((mut older, _)) = self.retired.replace((old, Instant::now())) {
                        older.splitter.finish(f);
                    }
                }
                self.start_at_end = false;
                if self.open() {
                    if let Some(cur) = self.cur.as_mut() {
                        let (_, err) = cur.drain(f);
                        self.note(err);
                    }
                }
            }
            Ok(m) if m.len() < offset => {
                self.truncations += 1;
                if let Some(cur) = self.cur.as_mut() {
                    cur.splitter = LineSplitter::default();
                    cur.offset = 0;
                    cur.tail.clear();
                    let (_, err) = cur.drain(f);
                    self.note(err);
                }
            }
            Ok(_) => {}
            // Deleted or renamed without a replacement yet: keep the open file, whose
            // writer may still append to it, and look for the path again next time.
            Err(_) => {}
        }
    }
}

/// Expands one `*` in the file name of `pattern` (`/var/log/postgresql/*.log`);
/// a pattern without `*` is returned as is.
pub fn expand(pattern: &Path) -> Vec<PathBuf> {
    let Some(name) = pattern.file_name().and_then(|n| n.to_str()) else {
        return vec![pattern.to_path_buf()];
    };
    let Some((pre, post)) = name.split_once('*') else {
        return vec![pattern.to_path_buf()];
    };
    let dir = pattern.parent().unwrap_or(Path::new("/"));
    let mut out: Vec<PathBuf> = std::fs::read_dir(dir)
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|e| {
            let n = e.file_name().to_str()?.to_string();
            (n.len() >= pre.len() + post.len() && n.starts_with(pre) && n.ends_with(post)).then(|| e.path())
        })
        .collect();
    out.sort();
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    fn lines(f: &mut Follower) -> Vec<String> {
        let mut out = Vec::new();
        f.poll(&mut |l| out.push(String::from_utf8_lossy(l).into_owned()));
        out
    }

    fn append(p: &Path, s: &str) {
        std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(p)
            .unwrap()
            .write_all(s.as_bytes())
            .unwrap();
    }

    #[test]
    fn follows_rotation_truncation_and_late_creation() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("auth.log");
        append(&p, "old history\n");
        let mut f = Follower::new(&p, false);
        assert!(lines(&mut f).is_empty(), "starts at the end");
        append(&p, "a\nb");
        assert_eq!(lines(&mut f), ["a"]);
        append(&p, "c\n");
        assert_eq!(lines(&mut f), ["bc"]);
        // Rename rotation: lines written to the old file after the rename are not lost,
        // even after the new file exists (rsyslog writes on until its HUP).
        append(&p, "d\n");
        std::fs::rename(&p, dir.path().join("auth.log.1")).unwrap();
        append(&dir.path().join("auth.log.1"), "e\n");
        append(&p, "f\n");
        assert_eq!(lines(&mut f), ["d", "e", "f"]);
        assert_eq!(f.rotations, 1);
        append(&dir.path().join("auth.log.1"), "e2\n");
        append(&p, "f2\n");
        assert_eq!(lines(&mut f), ["e2", "f2"]);
        // copytruncate.
        std::fs::write(&p, "").unwrap();
        append(&p, "g\n");
        assert_eq!(lines(&mut f), ["g"]);
        assert_eq!(f.truncations, 1);
        // Deleted, then created again later: read from its start.
        std::fs::remove_file(&p).unwrap();
        assert!(lines(&mut f).is_empty());
        append(&p, "h\ni\n");
        assert_eq!(lines(&mut f), ["h", "i"]);
        // A file that did not exist when following began is read from its start.
        let late = dir.path().join("late.log");
        let mut g = Follower::new(&late, false);
        assert!(lines(&mut g).is_empty());
        append(&late, "first\n");
        assert_eq!(lines(&mut g), ["first"]);
    }

    #[test]
    fn globs() {
        let dir = tempfile::tempdir().unwrap();
        for n in ["postgresql-15-main.log", "postgresql-16-main.log", "other.txt"] {
            std::fs::write(dir.path().join(n), "").unwrap();
        }
        let got = expand(&dir.path().join("postgresql-*.log"));
        assert_eq!(got.len(), 2);
        assert_eq!(expand(Path::new("/x/y.log")), [PathBuf::from("/x/y.log")]);
    }
}
