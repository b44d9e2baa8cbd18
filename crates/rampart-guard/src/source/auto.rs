//! The usual log paths of Debian/Ubuntu and RHEL-family systems.

use std::path::{Path, PathBuf};

/// Candidates, in order; globs have one `*` in the file name.
pub const CANDIDATES: &[&str] = &[
    // sshd, PAM (Debian / RHEL)
    "/var/log/auth.log",
    "/var/log/secure",
    // FTP
    "/var/log/vsftpd.log",
    "/var/log/proftpd/proftpd.log",
    // databases
    "/var/log/mysql/error.log",
    "/var/log/mariadb/mariadb.log",
    "/var/log/mysqld.log",
    "/var/log/postgresql/*.log",
    "/var/lib/pgsql/data/log/*.log",
    // mail
    "/var/log/mail.log",
    "/var/log/maillog",
    // web
    "/var/log/nginx/error.log",
    "/var/log/nginx/access.log",
    "/var/log/apache2/error.log",
    "/var/log/apache2/access.log",
    "/var/log/httpd/error_log",
    "/var/log/httpd/access_log",
];

/// The syslog files that carry sshd; when none exists the journal is the source.
pub const AUTH_LOGS: &[&str] = &["/var/log/auth.log", "/var/log/secure"];

/// Existing candidate files under `root` (`/` on a live host).
pub fn detect(root: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for c in CANDIDATES {
        let p = root.join(c.trim_start_matches('/'));
        for f in super::file::expand(&p) {
            if f.is_file() {
                out.push(f);
            }
        }
    }
    out
}

pub fn has_auth_log(root: &Path) -> bool {
    AUTH_LOGS
        .iter()
        .any(|p| root.join(p.trim_start_matches('/')).is_file())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_debian_and_rhel_paths() {
        let dir = tempfile::tempdir().unwrap();
        let r = dir.path();
        for p in [
            "var/log/secure",
            "var/log/postgresql/postgresql-15-main.log",
            "var/log/nginx/access.log",
        ] {
            std::fs::create_dir_all(r.join(p).parent().unwrap()).unwrap();
            std::fs::write(r.join(p), "").unwrap();
        }
        let found = detect(r);
        assert_eq!(found.len(), 3, "{found:?}");
        assert!(has_auth_log(r));
        assert!(!has_auth_log(&r.join("var/log/nginx")));
    }
}
