//! Synthetic hosts for triage tests: a temp dir laid out like a root file system, with
//! one planted problem per test, checked with `--root` semantics.
#![allow(dead_code)]

use rampart_core::{Finding, HostRoot, Report};
use rampart_triage::{Check, Context, Options};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

/// A clean minimal Debian-like host; tests plant problems into it.
pub struct FakeHost {
    pub dir: tempfile::TempDir,
}

pub const CLEAN_PASSWD: &str = "root:x:0:0:root:/root:/bin/bash\n\
daemon:x:1:1:daemon:/usr/sbin:/usr/sbin/nologin\n\
bin:x:2:2:bin:/bin:/usr/sbin/nologin\n\
www-data:x:33:33:www-data:/var/www:/usr/sbin/nologin\n\
sshd:x:100:65534::/run/sshd:/usr/sbin/nologin\n\
alice:x:1000:1000:Alice,,,:/home/alice:/bin/bash\n";

// Hashes below are dummies of the right shape, never real secrets.
pub const CLEAN_SHADOW: &str =
    "root:$y$j9T$abcdefghijklmnopqrstu.$0123456789012345678901234567890123456789012:19700:0:99999:7:::\n\
daemon:*:19700:0:99999:7:::\n\
bin:*:19700:0:99999:7:::\n\
www-data:*:19700:0:99999:7:::\n\
sshd:!:19700::::::\n\
alice:$y$j9T$zyxwvutsrqponmlkjihgf.$9876543210987654321098765432109876543210987:19700:0:99999:7:::\n";

pub const CLEAN_GROUP: &str = "root:x:0:\n\
daemon:x:1:\n\
bin:x:2:\n\
sudo:x:27:alice\n\
www-data:x:33:\n\
alice:x:1000:\n";

impl FakeHost {
    pub fn new() -> Self {
        let h = FakeHost {
            dir: tempfile::tempdir().expect("temp dir"),
        };
        h.write("/etc/passwd", CLEAN_PASSWD);
        h.write_mode("/etc/shadow", CLEAN_SHADOW, 0o640);
        h.write("/etc/group", CLEAN_GROUP);
        h
    }

    /// An empty root, for tests that want nothing but what they plant.
    pub fn empty() -> Self {
        FakeHost {
            dir: tempfile::tempdir().expect("temp dir"),
        }
    }

    pub fn path(&self, host_path: &str) -> PathBuf {
        self.dir.path().join(host_path.trim_start_matches('/'))
    }

    pub fn write(&self, host_path: &str, content: impl AsRef<[u8]>) -> &Self {
        let p = self.path(host_path);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(&p, content).unwrap();
        self
    }

    pub fn write_mode(&self, host_path: &str, content: impl AsRef<[u8]>, mode: u32) -> &Self {
        self.write(host_path, content);
        std::fs::set_permissions(self.path(host_path), std::fs::Permissions::from_mode(mode)).unwrap();
        self
    }

    pub fn mkdir(&self, host_path: &str) -> &Self {
        std::fs::create_dir_all(self.path(host_path)).unwrap();
        self
    }

    pub fn symlink(&self, target: impl AsRef<Path>, host_path: &str) -> &Self {
        let p = self.path(host_path);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::os::unix::fs::symlink(target, p).unwrap();
        self
    }

    pub fn context(&self) -> Context {
        Context::new(HostRoot::at(self.dir.path()).unwrap(), Options::default())
    }

    /// Runs the given checks against this host.
    pub fn run(&self, checks: &[Box<dyn Check>]) -> Report {
        rampart_triage::run(&self.context(), checks)
    }

    /// Runs every triage check against this host.
    pub fn run_all(&self) -> Report {
        self.run(&rampart_triage::checks::all())
    }
}

/// Findings with this id.
pub fn with_id<'a>(r: &'a Report, id: &str) -> Vec<&'a Finding> {
    r.findings.iter().filter(|f| f.id == id).collect()
}

/// Fails with the whole report when no finding has this id.
pub fn expect_id<'a>(r: &'a Report, id: &str) -> &'a Finding {
    r.findings
        .iter()
        .find(|f| f.id == id)
        .unwrap_or_else(|| panic!("no finding {id}; report: {:#?}", r.findings))
}

pub fn expect_no_id(r: &Report, id: &str) {
    let found = with_id(r, id);
    assert!(found.is_empty(), "unexpected finding {id}: {found:#?}");
}
