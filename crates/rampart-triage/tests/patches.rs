//! Pending updates from planted dpkg status and apt lists.

mod common;

use common::{expect_id, expect_no_id, FakeHost};
use rampart_core::{HostRoot, Report, Severity};
use rampart_triage::checks::patches::Patches;
use rampart_triage::{Check, Context, Options};
use std::io::Write;
use std::time::{Duration, SystemTime};

const MAIN: &str = "/var/lib/apt/lists/deb.debian.org_debian_dists_bookworm_main_binary-amd64_Packages";
const SECURITY: &str =
    "/var/lib/apt/lists/deb.debian.org_debian-security_dists_bookworm-security_main_binary-amd64_Packages.lz4";

fn host() -> FakeHost {
    let h = FakeHost::new();
    h.write(
        "/var/lib/dpkg/status",
        "Package: openssl\nStatus: install ok installed\nVersion: 3.0.11-1~deb12u1\nArchitecture: amd64\n\n\
         Package: bash\nStatus: install ok installed\nVersion: 5.2.15-2+b2\nArchitecture: amd64\n\n\
         Package: tzdata\nStatus: install ok installed\nVersion: 2024a-0+deb12u1\nArchitecture: all\n\n\
         Package: removed\nStatus: deinstall ok config-files\nVersion: 1.0\nArchitecture: amd64\n",
    );
    h.write(
        MAIN,
        "Package: bash\nVersion: 5.2.15-2+b7\nArchitecture: amd64\nDescription: shell\n continued\n\n\
         Package: openssl\nVersion: 3.0.11-1~deb12u1\nArchitecture: amd64\n\n\
         Package: tzdata\nVersion: 2024a-0+deb12u1\nArchitecture: all\n\n\
         Package: removed\nVersion: 9.0\nArchitecture: amd64\n\n\
         Package: bash\nVersion: 9.9\nArchitecture: arm64\n",
    );
    let mut enc = lz4_flex::frame::FrameEncoder::new(Vec::new());
    enc.write_all(b"Package: openssl\nVersion: 3.0.13-1~deb12u1\nArchitecture: amd64\n\n")
        .unwrap();
    h.write(SECURITY, enc.finish().unwrap());
    h
}

fn run(h: &FakeHost) -> Report {
    let ctx = Context::new(HostRoot::at(h.dir.path()).unwrap(), Options::default());
    rampart_triage::run(&ctx, &[Box::new(Patches) as Box<dyn Check>])
}

#[test]
fn security_and_other_updates_are_told_apart() {
    let h = host();
    let r = run(&h);
    assert!(r.errors.is_empty(), "{:#?}", r.errors);
    let sec = expect_id(&r, "patches.security");
    assert_eq!(sec.severity, Severity::High);
    assert_eq!(sec.title, "1 security updates pending");
    assert_eq!(sec.evidence[0].location, "openssl");
    assert_eq!(
        sec.evidence[0].detail,
        "3.0.11-1~deb12u1 → 3.0.13-1~deb12u1 (bookworm-security)"
    );
    assert_eq!(sec.evidence[0].path.as_deref(), Some(SECURITY));
    let other = expect_id(&r, "patches.pending");
    assert_eq!(other.severity, Severity::Low);
    // bash for arm64 and the removed package do not count; tzdata is current.
    assert_eq!(other.evidence.len(), 1, "{other:#?}");
    assert_eq!(other.evidence[0].location, "bash");
    assert_eq!(other.evidence[0].detail, "5.2.15-2+b2 → 5.2.15-2+b7 (bookworm)");
    expect_no_id(&r, "patches.stale-metadata");
}

#[test]
fn up_to_date_host_has_no_update_finding() {
    let h = host();
    h.write(
        SECURITY,
        lz4_flex::frame::FrameEncoder::new(Vec::new()).finish().unwrap(),
    );
    h.write(MAIN, "Package: bash\nVersion: 5.2.15-2+b2\nArchitecture: amd64\n");
    let r = run(&h);
    assert!(r.findings.is_empty(), "{:#?}", r.findings);
}

#[test]
fn old_lists_are_stale_and_missing_lists_too() {
    let h = host();
    let old = SystemTime::now() - Duration::from_secs(30 * 86_400);
    for p in [MAIN, SECURITY] {
        std::fs::File::options()
            .write(true)
            .open(h.path(p))
            .unwrap()
            .set_modified(old)
            .unwrap();
    }
    let f = expect_id(&run(&h), "patches.stale-metadata").clone();
    assert!(f.title.contains("30 days old"), "{}", f.title);

    let bare = FakeHost::new();
    bare.write(
        "/var/lib/dpkg/status",
        "Package: bash\nStatus: install ok installed\nVersion: 1\n",
    );
    let f = expect_id(&run(&bare), "patches.stale-metadata").clone();
    assert!(f.title.contains("No apt package lists"), "{}", f.title);
}

#[test]
fn corrupt_list_is_an_error_naming_the_file() {
    let h = host();
    h.write(SECURITY, b"\x04\x22\x4d\x18garbage-not-lz4");
    let r = run(&h);
    assert!(
        r.errors
            .iter()
            .any(|e| e.subject == SECURITY && e.check == "patches"),
        "{:#?}",
        r.errors
    );
    // The other list was still read.
    expect_id(&r, "patches.pending");
}

#[test]
fn security_origin_from_the_release_label() {
    let h = host();
    let name = "/var/lib/apt/lists/mirror.example_ubuntu_dists_jammy-updates_main_binary-amd64_Packages";
    h.write(name, "Package: bash\nVersion: 5.3\nArchitecture: amd64\n");
    h.write(
        "/var/lib/apt/lists/mirror.example_ubuntu_dists_jammy-updates_InRelease",
        "Origin: Ubuntu\nLabel: Ubuntu\nSuite: jammy-updates\n",
    );
    let r = run(&h);
    expect_id(&r, "patches.pending");
    h.write(
        "/var/lib/apt/lists/mirror.example_ubuntu_dists_jammy-updates_InRelease",
        "Origin: Ubuntu\nLabel: Ubuntu-Security\nSuite: jammy-updates\n",
    );
    let r = run(&h);
    let sec = expect_id(&r, "patches.security");
    assert!(
        sec.evidence
            .iter()
            .any(|e| e.location == "bash" && e.detail == "5.2.15-2+b2 → 5.3 (jammy-updates)"),
        "{sec:#?}"
    );
}
