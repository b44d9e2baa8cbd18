//! Integrity of package files against dpkg's md5sums, on synthetic hosts.

mod common;

use common::{expect_id, expect_no_id, with_id, FakeHost};
use md5::{Digest, Md5};
use rampart_core::{HostRoot, Severity};
use rampart_triage::checks::integrity::Integrity;
use rampart_triage::{Check, Context, Options};

const PS: &[u8] = b"\x7fELF the real ps";
const VIM: &[u8] = b"\x7fELF the real vim";

fn md5_hex(b: &[u8]) -> String {
    Md5::digest(b).iter().map(|x| format!("{x:02x}")).collect()
}

/// A host with procps (ps, a rootkit target) and vim (not one) installed and intact.
fn host() -> FakeHost {
    let h = FakeHost::new();
    h.write(
        "/var/lib/dpkg/status",
        format!(
            "Package: procps\nStatus: install ok installed\nVersion: 2:4.0.2-3\nArchitecture: amd64\n\n\
             Package: vim\nStatus: install ok installed\nVersion: 2:9.0.1378-2\nArchitecture: amd64\n\
             Conffiles:\n /etc/vim/vimrc {}\n",
            md5_hex(b"set nocompatible\n")
        ),
    );
    h.write("/var/lib/dpkg/info/procps.list", "/bin\n/bin/ps\n");
    h.write(
        "/var/lib/dpkg/info/procps.md5sums",
        format!("{}  bin/ps\n", md5_hex(PS)),
    );
    h.write(
        "/var/lib/dpkg/info/vim.list",
        "/usr/bin/vim.basic\n/etc/vim/vimrc\n",
    );
    h.write(
        "/var/lib/dpkg/info/vim.md5sums",
        format!("{}  usr/bin/vim.basic\n", md5_hex(VIM)),
    );
    h.write("/bin/ps", PS);
    h.write("/usr/bin/vim.basic", VIM);
    h.write("/etc/vim/vimrc", "set nocompatible\n");
    h
}

fn run(h: &FakeHost, deep: bool) -> rampart_core::Report {
    let ctx = Context::new(
        HostRoot::at(h.dir.path()).unwrap(),
        Options {
            deep_integrity: deep,
            ..Default::default()
        },
    );
    rampart_triage::run(&ctx, &[Box::new(Integrity) as Box<dyn Check>])
}

#[test]
fn intact_packages_give_no_finding() {
    let h = host();
    for deep in [false, true] {
        let r = run(&h, deep);
        assert!(r.findings.is_empty(), "{:#?}", r.findings);
        assert!(r.errors.is_empty(), "{:#?}", r.errors);
    }
}

#[test]
fn replaced_ps_is_critical_and_names_the_md5sums_line() {
    let h = host();
    h.write("/bin/ps", b"\x7fELF trojaned ps that hides pid 666");
    let r = run(&h, false);
    let f = expect_id(&r, "integrity.rootkit-target");
    assert_eq!(f.severity, Severity::Critical);
    assert_eq!(f.evidence[0].path.as_deref(), Some("/bin/ps"));
    let d = &f.evidence[0].detail;
    assert!(d.contains("procps 2:4.0.2-3"), "{d}");
    assert!(d.contains("/var/lib/dpkg/info/procps.md5sums:1"), "{d}");
    assert!(d.contains(&md5_hex(PS)), "{d}");
    assert!(f.remedy.contains("apt-get install --reinstall procps"));
}

#[test]
fn ps_replaced_by_a_symlink_is_reported() {
    let h = host();
    std::fs::remove_file(h.path("/bin/ps")).unwrap();
    h.symlink("/tmp/.x/ps", "/bin/ps");
    let r = run(&h, false);
    let f = expect_id(&r, "integrity.rootkit-target");
    assert!(
        f.evidence[0].detail.contains("symbolic link to /tmp/.x/ps"),
        "{f:#?}"
    );
}

#[test]
fn other_files_are_only_verified_in_deep_mode() {
    let h = host();
    h.write("/usr/bin/vim.basic", b"changed");
    expect_no_id(&run(&h, false), "integrity.changed");
    let r = run(&h, true);
    let f = expect_id(&r, "integrity.changed");
    assert_eq!(f.severity, Severity::High);
    assert!(f.title.contains("package vim"), "{}", f.title);
    assert_eq!(f.evidence[0].location, "/usr/bin/vim.basic");
}

#[test]
fn changed_conffiles_are_not_tampering() {
    let h = host();
    // dpkg would never list a conffile in md5sums, but a hostile image might: still skipped.
    h.write(
        "/var/lib/dpkg/info/vim.md5sums",
        format!(
            "{}  usr/bin/vim.basic\n0123456789abcdef0123456789abcdef  etc/vim/vimrc\n",
            md5_hex(VIM)
        ),
    );
    let r = run(&h, true);
    assert!(with_id(&r, "integrity.changed").is_empty(), "{:#?}", r.findings);
}

#[test]
fn garbage_md5sums_line_is_a_counted_error_naming_file_and_line() {
    let h = host();
    h.write(
        "/var/lib/dpkg/info/procps.md5sums",
        format!("{}  bin/ps\n\u{1}\u{2}\u{3}garbage\n", md5_hex(PS)),
    );
    let r = run(&h, false);
    assert_eq!(r.errors.len(), 1, "{:#?}", r.errors);
    assert_eq!(r.errors[0].subject, "/var/lib/dpkg/info/procps.md5sums:2");
    assert_eq!(r.errors[0].check, "integrity");
    // The good line was still checked.
    assert!(r.findings.is_empty());
}

#[test]
fn no_dpkg_database_is_skipped_with_a_reason() {
    let h = FakeHost::new();
    let r = run(&h, false);
    assert!(r.errors.is_empty());
    assert!(
        r.skipped
            .iter()
            .any(|s| s.reason.contains("/var/lib/dpkg/status")),
        "{:?}",
        r.skipped
    );
}

#[test]
fn diverted_files_are_checked_where_they_were_moved() {
    let h = host();
    // Another package diverted ps away and installed its own; procps's ps lives at ps.real.
    h.write(
        "/var/lib/dpkg/diversions",
        "/bin/ps\n/bin/ps.real\nmy-ps-wrapper\n",
    );
    h.write("/bin/ps.real", PS);
    h.write("/bin/ps", b"#!/bin/sh\nexec /bin/ps.real \"$@\"\n");
    let r = run(&h, false);
    assert!(r.findings.is_empty(), "{:#?}", r.findings);
    h.write("/bin/ps.real", b"evil");
    expect_id(&run(&h, false), "integrity.rootkit-target");
}

#[test]
fn changed_conffiles_are_listed_for_review_in_deep_mode() {
    let h = host();
    h.write(
        "/var/lib/dpkg/status",
        format!(
            "Package: vim\nStatus: install ok installed\nVersion: 2:9.0.1378-2\nArchitecture: amd64\n\
             Conffiles:\n /etc/vim/vimrc {}\n /etc/vim/gone newconffile\n",
            md5_hex(b"set nocompatible\n")
        ),
    );
    assert!(run(&h, true).findings.is_empty());
    h.write("/etc/vim/vimrc", "set nocompatible\nset mouse=a\n");
    expect_no_id(&run(&h, false), "integrity.conffile-changed");
    let r = run(&h, true);
    let f = expect_id(&r, "integrity.conffile-changed");
    assert_eq!(f.severity, Severity::Info);
    assert_eq!(f.evidence.len(), 1);
    assert_eq!(f.evidence[0].location, "/etc/vim/vimrc");
}
