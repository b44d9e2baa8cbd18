//! Webshells in the web roots: every script the web check walks goes through the same
//! analyzer `rampart scan` uses (`rampart_script::analyze`: de-obfuscation, request input
//! flowing into code or command execution, …). Triage stays quick and bounded: files
//! larger than [`MAX_FILE_BYTES`], and scripts beyond [`MAX_FILES`] or [`MAX_TOTAL_BYTES`]
//! per run are not read and are counted. Signatures and quarantine are `rampart scan`'s.

use rampart_script::{Lang, Reason};
use std::io::Read;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};

/// Scripts analyzed per triage run at most.
pub const MAX_FILES: usize = 20_000;
/// Bytes read per triage run at most.
pub const MAX_TOTAL_BYTES: u64 = 256 << 20;
/// Larger scripts are not read (packed shells are small; minified bundles are not shells).
pub const MAX_FILE_BYTES: u64 = 2 << 20;

/// One script the analyzer judged a webshell.
#[derive(Debug)]
pub struct Webshell {
    /// Local path (the caller maps it to the host path).
    pub path: PathBuf,
    pub score: u32,
    pub reasons: Vec<Reason>,
}

/// What [`Budget::analyze`] did over a whole run.
#[derive(Debug, Default)]
pub struct Budget {
    pub analyzed: usize,
    pub bytes: u64,
    pub too_large: usize,
    pub over_budget: usize,
    /// (local path, error) of scripts that could not be read.
    pub errors: Vec<(PathBuf, String)>,
}

impl Budget {
    /// Reads `path` (never through a symbolic link, never blocking on a FIFO) and analyzes
    /// it; `Some` when it scores as a webshell.
    pub fn analyze(&mut self, path: &Path, size: u64) -> Option<Webshell> {
        if size > MAX_FILE_BYTES {
            self.too_large += 1;
            return None;
        }
        if self.analyzed >= MAX_FILES || self.bytes + size > MAX_TOTAL_BYTES {
            self.over_budget += 1;
            return None;
        }
        let file = std::fs::OpenOptions::new()
            .read(true)
            .custom_flags(libc::O_NOFOLLOW | libc::O_NONBLOCK | libc::O_NOCTTY)
            .open(path);
        let mut buf = Vec::new();
        let read = file.and_then(|f| {
            if !f.metadata()?.is_file() {
                return Err(std::io::Error::other("not a regular file"));
            }
            f.take(MAX_FILE_BYTES).read_to_end(&mut buf)
        });
        if let Err(e) = read {
            self.errors.push((path.to_path_buf(), e.to_string()));
            return None;
        }
        self.analyzed += 1;
        self.bytes += buf.len() as u64;
        let v = rampart_script::analyze(&buf, Lang::from_path(path).unwrap_or(Lang::Unknown));
        v.is_malicious().then(|| Webshell {
            path: path.to_path_buf(),
            score: v.score,
            reasons: v.top_reasons(6).into_iter().cloned().collect(),
        })
    }

    /// "N scripts not analyzed …" lines for the report, if any were left out.
    pub fn skipped(&self) -> Vec<String> {
        let mut out = Vec::new();
        if self.too_large > 0 {
            out.push(format!(
                "{} scripts larger than {} MiB not analyzed for webshells (use `rampart scan`)",
                self.too_large,
                MAX_FILE_BYTES >> 20
            ));
        }
        if self.over_budget > 0 {
            out.push(format!(
                "{} scripts not analyzed for webshells: triage reads at most {MAX_FILES} scripts / {} MiB \
                 (use `rampart scan` for the rest)",
                self.over_budget,
                MAX_TOTAL_BYTES >> 20
            ));
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_shell_is_found_a_page_is_not_and_limits_are_counted() {
        let dir = tempfile::tempdir().unwrap();
        let shell = dir.path().join("x.php");
        std::fs::write(&shell, b"<?php @eval($_POST['a']); ?>").unwrap();
        let page = dir.path().join("index.php");
        std::fs::write(&page, b"<?php echo date('Y'); ?>").unwrap();
        let mut b = Budget::default();
        let w = b.analyze(&shell, 28).expect("webshell");
        assert!(w.score >= rampart_script::MALICIOUS && !w.reasons.is_empty());
        assert!(b.analyze(&page, 24).is_none());
        assert_eq!(b.analyzed, 2);
        assert!(b.analyze(&shell, MAX_FILE_BYTES + 1).is_none());
        assert_eq!(b.too_large, 1);
        let link = dir.path().join("link.php");
        std::os::unix::fs::symlink(&shell, &link).unwrap();
        assert!(b.analyze(&link, 28).is_none());
        assert_eq!(b.errors.len(), 1, "a symlink is not followed");
        b.analyzed = MAX_FILES;
        assert!(b.analyze(&shell, 28).is_none());
        assert_eq!(b.over_budget, 1);
        assert_eq!(b.skipped().len(), 2);
    }
}
