//! Durable file writes: temp file in the same directory, fsync, rename, fsync the
//! directory — after a crash the file is either the old one or the new one.

use crate::error::{RespondError, Result};
use std::fs::{File, OpenOptions};
use std::io::Write;
use std::os::unix::fs::{MetadataExt, OpenOptionsExt, PermissionsExt};
use std::path::Path;

/// Owner and mode of a file, to put back exactly.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Meta {
    pub uid: u32,
    pub gid: u32,
    pub mode: u32,
}

impl Meta {
    pub fn of(path: &Path) -> Result<Meta> {
        let md = std::fs::symlink_metadata(path).map_err(|e| RespondError::io(path, e))?;
        Ok(Meta {
            uid: md.uid(),
            gid: md.gid(),
            mode: md.mode() & 0o7777,
        })
    }
}

pub fn fsync_dir(dir: &Path) -> Result<()> {
    let d = File::open(dir).map_err(|e| RespondError::io(dir, e))?;
    d.sync_all().map_err(|e| RespondError::io(dir, e))
}

/// Replaces `path` with `data` atomically, with owner and mode `meta`.
pub fn write_atomic(path: &Path, data: &[u8], meta: Meta) -> Result<()> {
    let dir = path.parent().unwrap_or(Path::new("."));
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let tmp = dir.join(format!(".{name}.rampart-tmp.{}", std::process::id()));
    let result = (|| {
        let mut f = OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(true)
            .mode(0o600)
            .custom_flags(libc::O_NOFOLLOW)
            .open(&tmp)
            .map_err(|e| RespondError::io(&tmp, e))?;
        f.write_all(data).map_err(|e| RespondError::io(&tmp, e))?;
        std::os::unix::fs::fchown(&f, Some(meta.uid), Some(meta.gid))
            .map_err(|e| RespondError::io(&tmp, e))?;
        f.set_permissions(std::fs::Permissions::from_mode(meta.mode))
            .map_err(|e| RespondError::io(&tmp, e))?;
        f.sync_all().map_err(|e| RespondError::io(&tmp, e))?;
        std::fs::rename(&tmp, path).map_err(|e| RespondError::io(path, e))?;
        fsync_dir(dir)
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result
}

/// Creates a root-only (0700) directory and its parents.
pub fn private_dir(dir: &Path) -> Result<()> {
    std::fs::create_dir_all(dir).map_err(|e| RespondError::io(dir, e))?;
    std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700))
        .map_err(|e| RespondError::io(dir, e))
}

/// Seconds since the epoch.
pub fn now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

/// `2026-11-25T16:15:48Z` for epoch seconds `t` (UTC).
pub fn utc(t: u64) -> String {
    rampart_core::time::utc_rfc3339(t as i64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn utc_formats() {
        assert_eq!(utc(0), "1970-01-01T00:00:00Z");
        assert_eq!(utc(1_795_623_348), "2026-11-25T16:15:48Z");
    }

    #[test]
    fn atomic_write_keeps_meta() {
        let d = tempfile::tempdir().unwrap();
        let p = d.path().join("f");
        std::fs::write(&p, "old").unwrap();
        write_atomic(
            &p,
            b"new",
            Meta {
                uid: 0,
                gid: 0,
                mode: 0o640,
            },
        )
        .unwrap();
        assert_eq!(std::fs::read(&p).unwrap(), b"new");
        assert_eq!(Meta::of(&p).unwrap().mode, 0o640);
    }
}
