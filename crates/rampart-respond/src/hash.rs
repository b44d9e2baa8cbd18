//! Hashing a new password the way the host hashes: the method `passwd` would use (the
//! `pam_unix` option in `/etc/pam.d/common-password` or `system-auth`, else
//! `ENCRYPT_METHOD` in `/etc/login.defs`), yescrypt (`$y$`, Debian 12) or SHA-512 (`$6$`).

use crate::env::Env;
use crate::error::{RespondError, Result};
use yescrypt::{PasswordHasher as _, PasswordVerifier as _};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Method {
    Yescrypt,
    Sha512,
}

impl Method {
    pub fn name(self) -> &'static str {
        match self {
            Method::Yescrypt => "yescrypt",
            Method::Sha512 => "SHA-512",
        }
    }

    pub fn prefix(self) -> &'static str {
        match self {
            Method::Yescrypt => "$y$",
            Method::Sha512 => "$6$",
        }
    }
}

/// The method the host's own `passwd` would use, and where that was read.
pub fn host_method(env: &Env) -> (Method, String) {
    for pam in [
        "/etc/pam.d/common-password",
        "/etc/pam.d/system-auth",
        "/etc/pam.d/password-auth",
    ] {
        let Ok(text) = std::fs::read_to_string(env.path(pam)) else {
            continue;
        };
        for line in text.lines().map(str::trim).filter(|l| !l.starts_with('#')) {
            let words: Vec<&str> = line.split_whitespace().collect();
            if words.first() != Some(&"password") || !words.iter().any(|w| w.ends_with("pam_unix.so")) {
                continue;
            }
            if words.contains(&"yescrypt") {
                return (Method::Yescrypt, format!("{pam}: pam_unix yescrypt"));
            }
            if words.contains(&"sha512") {
                return (Method::Sha512, format!("{pam}: pam_unix sha512"));
            }
        }
    }
    if let Ok(text) = std::fs::read_to_string(env.path("/etc/login.defs")) {
        for line in text.lines().map(str::trim).filter(|l| !l.starts_with('#')) {
            let mut w = line.split_whitespace();
            if w.next() == Some("ENCRYPT_METHOD") {
                let m = w.next().unwrap_or("").to_ascii_uppercase();
                let method = if m == "YESCRYPT" {
                    Method::Yescrypt
                } else {
                    Method::Sha512
                };
                return (method, format!("/etc/login.defs: ENCRYPT_METHOD {m}"));
            }
        }
    }
    (
        Method::Sha512,
        "default (no pam_unix or login.defs setting found)".into(),
    )
}

/// The crypt(3) string for `password` with a fresh random salt.
pub fn hash(method: Method, password: &str) -> Result<String> {
    match method {
        Method::Yescrypt => yescrypt::Yescrypt::default()
            .hash_password(password.as_bytes())
            .map(|h| h.to_string())
            .map_err(|e| RespondError::failed("yescrypt", e)),
        Method::Sha512 => {
            // 12 random bytes encode to the 16 salt characters crypt(3) reads; a longer salt
            // is silently cut by libxcrypt, so its output would no longer equal the stored
            // string and PAM would reject the password.
            let mut salt = [0u8; 12];
            getrandom::fill(&mut salt).map_err(|e| RespondError::failed("salt", e))?;
            sha_crypt::PasswordHasher::hash_password_with_salt(
                &sha_crypt::ShaCrypt::SHA512,
                password.as_bytes(),
                &salt,
            )
            .map(|h| h.to_string())
            .map_err(|e| RespondError::failed("sha512-crypt", e))
        }
    }
}

/// True when `crypt` (a `$y$` or `$6$` string) is the hash of `password`.
pub fn verify(password: &str, crypt: &str) -> bool {
    if crypt.starts_with("$y$") {
        let Ok(h) = yescrypt::PasswordHash::new(crypt) else {
            return false;
        };
        yescrypt::Yescrypt::default()
            .verify_password(password.as_bytes(), &h)
            .is_ok()
    } else if crypt.starts_with("$6$") || crypt.starts_with("$5$") {
        sha_crypt::PasswordVerifier::<str>::verify_password(
            &sha_crypt::ShaCrypt::default(),
            password.as_bytes(),
            crypt,
        )
        .is_ok()
    } else {
        false
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// libxcrypt (through perl's crypt) must produce the same string from our salt: the
    /// hashes we write are what PAM will check at login.
    fn system_crypt(password: &str, setting: &str) -> Option<String> {
        let out = rampart_core::cmd::run_with(
            "perl",
            [
                "-e",
                "my $p = <STDIN>; chomp $p; print crypt($p, $ARGV[0])",
                setting,
            ],
            &rampart_core::cmd::Options {
                stdin: Some(format!("{password}\n").into_bytes()),
                ..Default::default()
            },
        )
        .ok()?;
        Some(out.stdout_text())
    }

    #[test]
    fn hashes_match_the_system_crypt_library() {
        for method in [Method::Yescrypt, Method::Sha512] {
            let pw = "k7#Vq!m2Rz@wL9xe";
            let h = hash(method, pw).unwrap();
            assert!(h.starts_with(method.prefix()), "{h}");
            assert!(verify(pw, &h));
            assert!(!verify("wrong", &h));
            match system_crypt(pw, &h) {
                Some(sys) => assert_eq!(sys, h, "{} hash differs from libxcrypt's", method.name()),
                None => eprintln!("skipped: perl not available to cross-check {}", method.name()),
            }
        }
    }

    #[test]
    fn method_follows_pam_then_login_defs() {
        let d = tempfile::tempdir().unwrap();
        let env = Env {
            root: d.path().to_path_buf(),
            ..Env::live()
        };
        assert_eq!(host_method(&env).0, Method::Sha512);
        std::fs::create_dir_all(d.path().join("etc/pam.d")).unwrap();
        std::fs::write(d.path().join("etc/login.defs"), "ENCRYPT_METHOD YESCRYPT\n").unwrap();
        assert_eq!(host_method(&env).0, Method::Yescrypt);
        std::fs::write(
            d.path().join("etc/pam.d/common-password"),
            "password [success=1 default=ignore] pam_unix.so obscure sha512\n",
        )
        .unwrap();
        let (m, why) = host_method(&env);
        assert_eq!(m, Method::Sha512);
        assert!(why.contains("common-password"));
    }
}
