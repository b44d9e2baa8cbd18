//! webroot-readonly on a real directory tree: ownership and modes change as planned,
//! symbolic links (to a file and a directory outside) are never followed, the named
//! upload directory stays writable, and undo restores every owner and mode.

use rampart_respond::engine::{self, Which};
use rampart_respond::{ActionSpec, Env};
use std::os::unix::fs::{symlink, MetadataExt, PermissionsExt};
use std::path::Path;

const WEB: u32 = 33; // www-data on Debian

fn meta(p: &Path) -> (u32, u32, u32) {
    let m = std::fs::symlink_metadata(p).unwrap();
    (m.uid(), m.gid(), m.mode() & 0o7777)
}

fn set(p: &Path, uid: u32, gid: u32, mode: u32) {
    std::os::unix::fs::lchown(p, Some(uid), Some(gid)).unwrap();
    std::fs::set_permissions(p, std::fs::Permissions::from_mode(mode)).unwrap();
}

#[test]
fn web_user_loses_write_links_are_not_followed_and_undo_restores() {
    if !rampart_testkit::require::root("chown") {
        return;
    }
    let d = tempfile::tempdir().unwrap();
    let host = d.path();
    std::fs::create_dir_all(host.join("etc")).unwrap();
    std::fs::write(
        host.join("etc/passwd"),
        "root:x:0:0:root:/root:/bin/bash\nwww-data:x:33:33:www-data:/var/www:/usr/sbin/nologin\ndeploy:x:1500:1500::/home/deploy:/bin/sh\n",
    )
    .unwrap();
    let www = host.join("srv/www");
    std::fs::create_dir_all(www.join("wp-content/uploads/2024")).unwrap();
    std::fs::create_dir_all(host.join("outside")).unwrap();
    std::fs::write(www.join("index.php"), "<?php echo 1;").unwrap();
    std::fs::write(www.join("wp-config.php"), "<?php // secrets").unwrap();
    std::fs::write(www.join("suid-bin"), "x").unwrap();
    std::fs::write(www.join("wp-content/uploads/2024/a.jpg"), "jpg").unwrap();
    std::fs::write(host.join("outside/target"), "not yours").unwrap();
    symlink(host.join("outside/target"), www.join("link-to-file")).unwrap();
    symlink(host.join("outside"), www.join("link-to-dir")).unwrap();
    set(&www, WEB, WEB, 0o775);
    set(&www.join("index.php"), WEB, WEB, 0o664);
    set(&www.join("wp-config.php"), WEB, WEB, 0o600);
    set(&www.join("suid-bin"), WEB, WEB, 0o4755);
    set(&www.join("wp-content"), WEB, WEB, 0o777);
    set(&www.join("wp-content/uploads"), WEB, WEB, 0o775);
    set(&www.join("wp-content/uploads/2024/a.jpg"), WEB, WEB, 0o664);
    set(&host.join("outside/target"), 4242, 4242, 0o666);
    set(&host.join("outside"), 4242, 4242, 0o777);

    let names = [
        "",
        "index.php",
        "wp-config.php",
        "suid-bin",
        "wp-content",
        "wp-content/uploads",
        "wp-content/uploads/2024/a.jpg",
    ];
    let before: Vec<_> = names.iter().map(|n| meta(&www.join(n))).collect();
    let outside_before = (meta(&host.join("outside/target")), meta(&host.join("outside")));

    let env = Env {
        root: host.to_path_buf(),
        journal_dir: host.join("journal"),
        ..Env::live()
    };
    let spec =
        ActionSpec::parse_str("webroot-readonly root=/srv/www user=www-data writable=wp-content/uploads")
            .unwrap();
    let plan = engine::plan(&env, &spec).unwrap();
    assert!(
        plan.warnings.iter().any(|w| w.contains("2 symbolic links")),
        "{:?}",
        plan.warnings
    );
    engine::apply(&env, &spec).unwrap();

    assert_eq!(meta(&www), (0, WEB, 0o755));
    assert_eq!(meta(&www.join("index.php")), (0, WEB, 0o644));
    // Still readable by the web server through its group, not writable.
    assert_eq!(meta(&www.join("wp-config.php")), (0, WEB, 0o640));
    // A set-uid file must never become set-uid root.
    assert_eq!(meta(&www.join("suid-bin")), (0, WEB, 0o755));
    assert_eq!(meta(&www.join("wp-content")), (0, WEB, 0o755));
    assert_eq!(
        meta(&www.join("wp-content/uploads")),
        (WEB, WEB, 0o775),
        "upload dir must stay writable"
    );
    assert_eq!(meta(&www.join("wp-content/uploads/2024/a.jpg")).0, WEB);
    assert_eq!(
        (meta(&host.join("outside/target")), meta(&host.join("outside"))),
        outside_before
    );

    // Bad input changes nothing.
    let bad = ActionSpec::parse_str("webroot-readonly root=/srv/www user=nosuchuser").unwrap();
    assert!(engine::plan(&env, &bad)
        .unwrap_err()
        .to_string()
        .contains("unknown user"));
    let bad = ActionSpec::parse_str("webroot-readonly root=/etc user=www-data").unwrap();
    assert!(engine::plan(&env, &bad)
        .unwrap_err()
        .to_string()
        .contains("system directory"));
    let bad =
        ActionSpec::parse_str("webroot-readonly root=/srv/www user=www-data writable=../../etc").unwrap();
    assert!(engine::plan(&env, &bad).is_err());

    engine::undo(&env, &Which::Last).unwrap();
    let after: Vec<_> = names.iter().map(|n| meta(&www.join(n))).collect();
    assert_eq!(after, before);
    assert_eq!(
        (meta(&host.join("outside/target")), meta(&host.join("outside"))),
        outside_before
    );
}
