//! passwd-rotate and account-lock against the real shadow-utils tools: on a throwaway
//! root (`usermod --prefix`) and, as root, on a test user of this machine created and
//! removed by the test (`chpasswd -e`).

use rampart_respond::engine::{self, Which};
use rampart_respond::{ActionSpec, Env, Journal, State};
use rampart_testkit::require;
use std::path::Path;

fn throwaway_root(dir: &Path) -> Env {
    rampart_testkit::fs::write_accounts(
        dir,
        "root:x:0:0:root:/root:/bin/bash\nalice:x:1000:1000:Alice:/home/alice:/bin/bash\nbob:x:1001:1001::/home/bob:/bin/sh\n",
        "root:*:19000:0:99999:7:::\nalice:$6$abcdefghijklmnop$zR649rx2TbTWD6FUKFWRMZ1mqJ8nfOUWonL0TTvy/seH9/5KKhgTK/cSwi9YhSGtvlJ5DYnv1tp6JCafhMU5.1:19500:0:99999:7:::\nbob:!:19501::::::\n",
        "root:x:0:\nalice:x:1000:\nbob:x:1001:\n",
    );
    rampart_testkit::fs::write(dir, "etc/gshadow", "root:*::\nalice:!::\nbob:!::\n");
    rampart_testkit::fs::write(
        dir,
        "etc/pam.d/common-password",
        "password [success=1 default=ignore] pam_unix.so obscure yescrypt\n",
    );
    Env {
        root: dir.to_path_buf(),
        journal_dir: dir.join("journal"),
        ..Env::live()
    }
}

fn system_crypt(password: &str, setting: &str) -> String {
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
    .unwrap();
    out.stdout_text()
}

fn spec(s: &str) -> ActionSpec {
    ActionSpec::parse_str(s).unwrap()
}

#[test]
fn passwd_rotate_on_a_throwaway_root_and_undo_after_a_crash() {
    if !require::root("usermod --prefix") {
        return;
    }
    let d = tempfile::tempdir().unwrap();
    let env = throwaway_root(d.path());
    let shadow = d.path().join("etc/shadow");
    let before = std::fs::read(&shadow).unwrap();

    let plan = engine::plan(&env, &spec("passwd-rotate user=alice,bob")).unwrap();
    assert_eq!(plan.changes.len(), 2);
    assert!(plan.changes[0].contains("yescrypt"), "{:?}", plan.changes);
    assert_eq!(std::fs::read(&shadow).unwrap(), before, "plan changed the host");

    let applied = engine::apply(&env, &spec("passwd-rotate user=alice,bob")).unwrap();
    let text = std::fs::read_to_string(&shadow).unwrap();
    for secret in &applied.outcome.secrets {
        assert!(rampart_passwd::rate(&secret.value, &[]).ok());
        assert_eq!(secret.value.len(), 20);
        let line = text
            .lines()
            .find(|l| l.starts_with(&format!("{}:", secret.label)))
            .unwrap();
        let hash = line.split(':').nth(1).unwrap();
        assert!(hash.starts_with("$y$"), "{hash}");
        // What PAM does at login: libxcrypt's crypt(password, stored) == stored.
        assert_eq!(system_crypt(&secret.value, hash), hash);
        // The password is nowhere in the journal.
        for f in walk(&env.journal_dir) {
            let bytes = std::fs::read(&f).unwrap();
            assert!(
                !String::from_utf8_lossy(&bytes).contains(&secret.value),
                "{}",
                f.display()
            );
        }
    }
    // root's line untouched.
    assert!(text.starts_with("root:*:19000:0:99999:7:::\n"));

    // "Crash": a fresh process only has the journal on disk.
    let (records, _) = Journal::open(&env.journal_dir).unwrap().list().unwrap();
    assert_eq!(records[0].state, State::Verified);
    let fresh = Env {
        journal_dir: env.journal_dir.clone(),
        ..Env::live()
    };
    engine::undo(&fresh, &Which::Last).unwrap();
    assert_eq!(
        std::fs::read(&shadow).unwrap(),
        before,
        "undo is not byte-identical"
    );
}

fn walk(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).unwrap().flatten() {
        let p = e.path();
        if p.is_dir() {
            out.extend(walk(&p));
        } else {
            out.push(p);
        }
    }
    out
}

#[test]
fn account_lock_and_exact_undo() {
    if !require::root("usermod --prefix") {
        return;
    }
    let d = tempfile::tempdir().unwrap();
    let env = throwaway_root(d.path());
    let passwd = d.path().join("etc/passwd");
    let shadow = d.path().join("etc/shadow");
    let (p0, s0) = (std::fs::read(&passwd).unwrap(), std::fs::read(&shadow).unwrap());

    engine::apply(&env, &spec("account-lock user=alice")).unwrap();
    let p1 = std::fs::read_to_string(&passwd).unwrap();
    let s1 = std::fs::read_to_string(&shadow).unwrap();
    assert!(
        p1.contains("alice:x:1000:1000:Alice:/home/alice:/usr/sbin/nologin"),
        "{p1}"
    );
    let alice = s1.lines().find(|l| l.starts_with("alice:")).unwrap();
    let f: Vec<&str> = alice.split(':').collect();
    assert!(f[1].starts_with("!$6$"), "{alice}");
    assert_eq!(f[7], "1");

    engine::undo(&env, &Which::Last).unwrap();
    assert_eq!(std::fs::read(&passwd).unwrap(), p0);
    assert_eq!(std::fs::read(&shadow).unwrap(), s0);
    // A second undo of the same entry is refused, not repeated.
    assert!(engine::undo(&env, &Which::Last).is_err());
}

#[test]
fn bad_input_is_refused_before_anything_changes() {
    let d = tempfile::tempdir().unwrap();
    let mut env = throwaway_root(d.path());
    let before = std::fs::read(d.path().join("etc/shadow")).unwrap();
    let err = engine::apply(&env, &spec("account-lock user=mallory")).unwrap_err();
    assert!(err.to_string().contains("unknown user \"mallory\""), "{err}");
    let err = engine::apply(&env, &spec("account-lock user=root")).unwrap_err();
    assert!(err.to_string().contains("--force"), "{err}");
    env.session.login_user = Some("alice".into());
    let err = engine::apply(&env, &spec("account-lock user=alice")).unwrap_err();
    assert!(err.to_string().contains("your own login session"), "{err}");
    let err = engine::apply(&env, &spec("passwd-rotate user=-x")).unwrap_err();
    assert!(err.to_string().contains("not a valid user name"), "{err}");
    let err = engine::apply(&env, &spec("passwd-rotate user=alice colour=red")).unwrap_err();
    assert!(err.to_string().contains("unknown key \"colour\""), "{err}");
    let err = engine::apply(&env, &spec("self-destruct")).unwrap_err();
    assert!(err.to_string().contains("unknown action"), "{err}");
    assert_eq!(std::fs::read(d.path().join("etc/shadow")).unwrap(), before);
    // Nothing journaled for refused input.
    assert!(!env.journal_dir.exists() || std::fs::read_dir(&env.journal_dir).unwrap().next().is_none());
}

/// The live path: `chpasswd -e` on this machine, for a user the test creates and removes.
#[test]
fn passwd_rotate_live_test_user() {
    if !require::root("creates a test user") {
        return;
    }
    let user = format!("rampart-t{}", std::process::id());
    let ok = rampart_core::cmd::run("useradd", ["-M", "-s", "/usr/sbin/nologin", &user]).unwrap();
    assert!(ok.success(), "useradd: {}", ok.stderr_line());
    struct Cleanup(String);
    impl Drop for Cleanup {
        fn drop(&mut self) {
            let _ = rampart_core::cmd::run("userdel", [&self.0]);
        }
    }
    let _c = Cleanup(user.clone());
    let d = tempfile::tempdir().unwrap();
    let env = Env {
        journal_dir: d.path().join("journal"),
        ..Env::live()
    };
    let line = |u: &str| {
        std::fs::read_to_string("/etc/shadow")
            .unwrap()
            .lines()
            .find(|l| l.starts_with(&format!("{u}:")))
            .unwrap()
            .to_string()
    };
    let before = line(&user);
    let applied = engine::apply(&env, &spec(&format!("passwd-rotate user={user}"))).unwrap();
    let after = line(&user);
    let hash = after.split(':').nth(1).unwrap().to_string();
    let pw = &applied.outcome.secrets[0].value;
    assert_eq!(system_crypt(pw, &hash), hash);
    let expected_prefix =
        if rampart_respond::hash::host_method(&env).0 == rampart_respond::hash::Method::Yescrypt {
            "$y$"
        } else {
            "$6$"
        };
    assert!(hash.starts_with(expected_prefix), "{hash}");
    engine::undo(&env, &Which::Id(applied.id)).unwrap();
    assert_eq!(line(&user), before);
}
