//! Quarantine and restore 1,000 files: each comes back byte-identical (SHA-256 checked),
//! with its mode and mtime; existing files are not overwritten without force.

use rampart_quarantine::{sha256_file, Error, Quarantine};
use std::os::unix::fs::{MetadataExt, PermissionsExt};

#[test]
fn thousand_files_round_trip_byte_identical() {
    let tmp = tempfile::tempdir().unwrap();
    let site = tmp.path().join("site");
    std::fs::create_dir(&site).unwrap();
    let q = Quarantine::open(tmp.path().join("store")).unwrap();
    assert_eq!(
        std::fs::metadata(q.dir()).unwrap().permissions().mode() & 0o777,
        0o700
    );
    let mut originals = Vec::new();
    for i in 0..1000u32 {
        let p = site.join(format!("f{i}.php"));
        // Varied sizes and binary content, including empty files.
        let body: Vec<u8> = (0..(i * 37 % 5000))
            .map(|k| (k.wrapping_mul(i + 7) % 251) as u8)
            .collect();
        std::fs::write(&p, &body).unwrap();
        let mode = [0o644, 0o600, 0o755, 0o4755][i as usize % 4];
        std::fs::set_permissions(&p, std::fs::Permissions::from_mode(mode)).unwrap();
        let m = std::fs::metadata(&p).unwrap();
        originals.push((
            p.clone(),
            sha256_file(&p).unwrap(),
            m.mode() & 0o7777,
            m.mtime(),
            m.mtime_nsec(),
        ));
    }
    let mut ids = Vec::new();
    for (p, hash, ..) in &originals {
        let item = q.quarantine(p, "test").unwrap();
        assert_eq!(&item.sha256, hash);
        assert!(!p.exists(), "{} still in place", p.display());
        ids.push(item.id);
    }
    let (listed, errors) = q.list().unwrap();
    assert_eq!(listed.len(), 1000);
    assert!(errors.is_empty());
    for (id, (p, hash, mode, mtime, mtime_ns)) in ids.iter().zip(&originals) {
        let item = q.restore(id, false).unwrap();
        assert_eq!(&item.original_path, p);
        assert_eq!(&sha256_file(p).unwrap(), hash, "{}", p.display());
        let m = std::fs::metadata(p).unwrap();
        assert_eq!(m.mode() & 0o7777, *mode, "{}", p.display());
        assert_eq!(
            (m.mtime(), m.mtime_nsec()),
            (*mtime, *mtime_ns),
            "{}",
            p.display()
        );
    }
    assert!(q.list().unwrap().0.is_empty());
}

#[test]
fn restore_refuses_to_overwrite_unless_forced_and_purge_deletes() {
    let tmp = tempfile::tempdir().unwrap();
    let q = Quarantine::open(tmp.path().join("store")).unwrap();
    let p = tmp.path().join("shell.php");
    std::fs::write(&p, b"<?php system($_GET[1]);").unwrap();
    let item = q.quarantine(&p, "t").unwrap();
    std::fs::write(&p, b"new content").unwrap();
    assert!(matches!(q.restore(&item.id, false), Err(Error::Exists(_))));
    assert_eq!(std::fs::read(&p).unwrap(), b"new content");
    q.restore(&item.id, true).unwrap();
    assert_eq!(std::fs::read(&p).unwrap(), b"<?php system($_GET[1]);");
    let item = q.quarantine(&p, "t").unwrap();
    q.purge(&item.id).unwrap();
    assert!(matches!(q.restore(&item.id, false), Err(Error::NoSuchItem(_))));
    assert!(matches!(q.get("../etc/passwd"), Err(Error::NoSuchItem(_))));
}

#[test]
fn symlinks_and_hard_links_are_never_moved() {
    let tmp = tempfile::tempdir().unwrap();
    let q = Quarantine::open(tmp.path().join("store")).unwrap();
    let outside = tmp.path().join("outside.txt");
    std::fs::write(&outside, b"precious").unwrap();
    let tree = tmp.path().join("tree");
    std::fs::create_dir(&tree).unwrap();
    let link = tree.join("link.php");
    std::os::unix::fs::symlink(&outside, &link).unwrap();
    assert!(matches!(q.quarantine(&link, "t"), Err(Error::NotRegular(_))));
    let hard = tree.join("hard.php");
    std::fs::hard_link(&outside, &hard).unwrap();
    assert!(matches!(q.quarantine(&hard, "t"), Err(Error::HardLinked(_, 2))));
    assert_eq!(std::fs::read(&outside).unwrap(), b"precious");
    assert!(hard.exists());
    // A file replaced after the scan (different inode) is left alone.
    let f = tree.join("f.php");
    std::fs::write(&f, b"a").unwrap();
    let m = std::fs::metadata(&f).unwrap();
    std::fs::remove_file(&f).unwrap();
    std::fs::write(tree.join("other"), b"pad").unwrap();
    std::fs::write(&f, b"b").unwrap();
    let now = std::fs::metadata(&f).unwrap();
    if now.ino() != m.ino() {
        assert!(matches!(
            q.quarantine_checked(&f, "t", Some((m.dev(), m.ino()))),
            Err(Error::Changed(_))
        ));
    }
}
