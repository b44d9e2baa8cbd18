//! Files of synthetic hosts: temp dirs and files written with their parents and a mode.

use std::os::unix::fs::PermissionsExt;
use std::path::Path;

/// A temp dir removed on drop.
pub fn temp_dir() -> tempfile::TempDir {
    tempfile::Builder::new()
        .prefix("rampart-test-")
        .tempdir()
        .expect("temp dir")
}

/// Writes `root/rel` (parents created); `rel` may start with `/` like a host path.
pub fn write(root: &Path, rel: &str, content: impl AsRef<[u8]>) {
    let p = root.join(rel.trim_start_matches('/'));
    std::fs::create_dir_all(p.parent().expect("a file below the root"))
        .unwrap_or_else(|e| panic!("{}: {e}", p.display()));
    std::fs::write(&p, content).unwrap_or_else(|e| panic!("{}: {e}", p.display()));
}

/// Like [`write`], then sets the permission bits.
pub fn write_mode(root: &Path, rel: &str, content: impl AsRef<[u8]>, mode: u32) {
    write(root, rel, content);
    let p = root.join(rel.trim_start_matches('/'));
    std::fs::set_permissions(&p, std::fs::Permissions::from_mode(mode))
        .unwrap_or_else(|e| panic!("{}: {e}", p.display()));
}

/// A throwaway root's account files: `etc/passwd` and `etc/group` (0644) and
/// `etc/shadow` (0640, as Debian has it), for `usermod --prefix` and `--root` runs.
pub fn write_accounts(root: &Path, passwd: &str, shadow: &str, group: &str) {
    write_mode(root, "etc/passwd", passwd, 0o644);
    write_mode(root, "etc/shadow", shadow, 0o640);
    write_mode(root, "etc/group", group, 0o644);
}
