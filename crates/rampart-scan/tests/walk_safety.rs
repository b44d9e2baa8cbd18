//! The walk never reads or moves anything outside the scanned tree, and skips special and
//! oversized files with a counted reason.

use rampart_quarantine::{Error as QError, Quarantine};
use rampart_scan::{scan, Detection, Engine, Options, Progress, Summary};
use std::path::{Path, PathBuf};
use std::sync::Mutex;

const SHELL: &[u8] = b"<?php @eval($_POST['x']); ?>";

fn is_root() -> bool {
    // SAFETY: geteuid has no preconditions.
    unsafe { libc::geteuid() == 0 }
}

fn run(root: &Path) -> (Vec<Detection>, Summary) {
    let engine = Engine::new(None).unwrap();
    let found = Mutex::new(Vec::new());
    let sum = scan(
        &[root.to_path_buf()],
        &engine,
        &Options::default(),
        &Progress::default(),
        &|d| found.lock().unwrap().push(d),
    );
    (found.into_inner().unwrap(), sum)
}

fn paths(d: &[Detection]) -> Vec<PathBuf> {
    d.iter()
        .filter(|d| d.verdict.score >= rampart_scan::DETECT)
        .map(|d| d.path.clone())
        .collect()
}

#[test]
fn symlinks_to_files_and_directories_outside_are_not_followed() {
    let tmp = tempfile::tempdir().unwrap();
    let outside = tmp.path().join("outside");
    std::fs::create_dir(&outside).unwrap();
    std::fs::write(outside.join("secret.php"), SHELL).unwrap();
    let tree = tmp.path().join("tree");
    std::fs::create_dir(&tree).unwrap();
    std::os::unix::fs::symlink(outside.join("secret.php"), tree.join("link.php")).unwrap();
    std::os::unix::fs::symlink(&outside, tree.join("dirlink")).unwrap();
    std::fs::write(tree.join("inside.php"), SHELL).unwrap();
    let (found, sum) = run(&tree);
    assert_eq!(paths(&found), vec![tree.join("inside.php")]);
    assert_eq!(sum.skipped.get("symlink"), Some(&2));
    assert_eq!(sum.files_scanned, 1);
}

#[test]
fn hard_link_to_outside_file_is_reported_but_never_moved() {
    let tmp = tempfile::tempdir().unwrap();
    let outside = tmp.path().join("outside.php");
    std::fs::write(&outside, SHELL).unwrap();
    let tree = tmp.path().join("tree");
    std::fs::create_dir(&tree).unwrap();
    let link = tree.join("hard.php");
    std::fs::hard_link(&outside, &link).unwrap();
    let (found, _) = run(&tree);
    let d = found.iter().find(|d| d.path == link).expect("hard link scanned");
    assert_eq!(d.nlink, 2);
    let q = Quarantine::open(tmp.path().join("q")).unwrap();
    let r = q.quarantine_checked(&d.path, "t", Some((d.dev, d.ino)));
    assert!(matches!(r, Err(QError::HardLinked(_, 2))), "{r:?}");
    assert_eq!(std::fs::read(&outside).unwrap(), SHELL);
    assert!(link.exists());
    assert!(q.list().unwrap().0.is_empty());
}

#[test]
fn sparse_4gb_file_is_skipped_unread() {
    let tmp = tempfile::tempdir().unwrap();
    let f = std::fs::File::create(tmp.path().join("big.php")).unwrap();
    f.set_len(4 << 30).unwrap();
    std::fs::write(tmp.path().join("small.php"), b"<?php echo 1;").unwrap();
    let (_, sum) = run(tmp.path());
    assert_eq!(sum.skipped.get("too-large"), Some(&1));
    assert_eq!(sum.files_scanned, 1);
    assert!(sum.bytes_scanned < 100);
}

#[test]
fn fifo_and_socket_are_skipped_without_blocking() {
    let tmp = tempfile::tempdir().unwrap();
    let fifo = std::ffi::CString::new(tmp.path().join("pipe.php").to_str().unwrap()).unwrap();
    // SAFETY: valid NUL-terminated path.
    assert_eq!(unsafe { libc::mkfifo(fifo.as_ptr(), 0o644) }, 0);
    let _sock = std::os::unix::net::UnixListener::bind(tmp.path().join("s.sock")).unwrap();
    let (_, sum) = run(tmp.path());
    assert_eq!(sum.skipped.get("fifo"), Some(&1));
    assert_eq!(sum.skipped.get("socket"), Some(&1));
}

#[test]
fn device_node_is_skipped() {
    if !is_root() {
        eprintln!("skipped: mknod of a device needs root");
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let p = std::ffi::CString::new(tmp.path().join("null.php").to_str().unwrap()).unwrap();
    // SAFETY: valid path; makedev(1, 3) is /dev/null's number.
    let r = unsafe { libc::mknod(p.as_ptr(), libc::S_IFCHR | 0o666, libc::makedev(1, 3)) };
    assert_eq!(r, 0, "{}", std::io::Error::last_os_error());
    let (_, sum) = run(tmp.path());
    assert_eq!(sum.skipped.get("device"), Some(&1));
    assert_eq!(sum.files_scanned, 0);
}

/// Runs in a child process that dropped root, so that a mode-000 file really fails to open.
#[test]
fn unreadable_file_is_counted_as_an_error() {
    let tmp = tempfile::tempdir().unwrap();
    let tree = tmp.path().join("tree");
    std::fs::create_dir(&tree).unwrap();
    std::fs::write(tree.join("locked.php"), SHELL).unwrap();
    std::fs::write(tree.join("open.php"), b"<?php echo 1;").unwrap();
    std::fs::set_permissions(
        tree.join("locked.php"),
        std::os::unix::fs::PermissionsExt::from_mode(0o000),
    )
    .unwrap();
    if is_root() {
        // Let `nobody` traverse the temp dirs; the child then drops privileges.
        for p in [tmp.path(), &tree] {
            std::fs::set_permissions(p, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
        }
        std::fs::set_permissions(
            tree.join("open.php"),
            std::os::unix::fs::PermissionsExt::from_mode(0o644),
        )
        .unwrap();
        let out = std::process::Command::new(std::env::current_exe().unwrap())
            .args(["--exact", "unreadable_child", "--nocapture", "--include-ignored"])
            .env("RAMPART_UNREADABLE_DIR", &tree)
            .output()
            .unwrap();
        let text = String::from_utf8_lossy(&out.stdout).to_string() + &String::from_utf8_lossy(&out.stderr);
        assert!(out.status.success(), "{text}");
        assert!(text.contains("CHILD-OK"), "{text}");
    } else {
        check_unreadable(&tree);
    }
}

fn check_unreadable(tree: &Path) {
    let (found, sum) = run(tree);
    assert_eq!(sum.skipped.get("unreadable"), Some(&1), "{sum:?}");
    assert_eq!(sum.errors.len(), 1);
    assert!(sum.errors[0].0.ends_with("locked.php"));
    assert_eq!(sum.files_scanned, 1);
    assert!(paths(&found).is_empty());
}

#[test]
#[ignore = "run by unreadable_file_is_counted_as_an_error in a child without root"]
fn unreadable_child() {
    let Some(dir) = std::env::var_os("RAMPART_UNREADABLE_DIR") else {
        return;
    };
    // SAFETY: dropping to nobody/nogroup in this single-purpose child process.
    unsafe {
        assert_eq!(libc::setgroups(0, std::ptr::null()), 0);
        assert_eq!(libc::setgid(65534), 0);
        assert_eq!(libc::setuid(65534), 0);
    }
    check_unreadable(Path::new(&dir));
    println!("CHILD-OK");
}

#[test]
fn walk_stays_on_one_file_system() {
    if !is_root() {
        eprintln!("skipped: mounting a tmpfs needs root");
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let mnt = tmp.path().join("mnt");
    std::fs::create_dir(&mnt).unwrap();
    std::fs::write(tmp.path().join("a.php"), SHELL).unwrap();
    let target = std::ffi::CString::new(mnt.to_str().unwrap()).unwrap();
    // SAFETY: valid NUL-terminated strings; unmounted below.
    let r = unsafe {
        libc::mount(
            c"tmpfs".as_ptr(),
            target.as_ptr(),
            c"tmpfs".as_ptr(),
            0,
            std::ptr::null(),
        )
    };
    if r != 0 {
        eprintln!(
            "skipped: cannot mount tmpfs here: {}",
            std::io::Error::last_os_error()
        );
        return;
    }
    std::fs::write(mnt.join("b.php"), SHELL).unwrap();
    let (found, sum) = run(tmp.path());
    // SAFETY: unmounting what we mounted.
    unsafe { libc::umount(target.as_ptr()) };
    assert_eq!(paths(&found), vec![tmp.path().join("a.php")]);
    assert_eq!(sum.skipped.get("other-file-system"), Some(&1));
}
