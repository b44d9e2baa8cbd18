//! Planning an SSH port move on hosts this machine cannot be: socket-activated sshd
//! (ssh.socket) and SELinux enforcing. The plan must name the socket drop-in and the
//! semanage label; bad input is refused before anything changes.

use rampart_respond::{engine, ActionSpec, Env};

fn host(dir: &std::path::Path) -> Option<Env> {
    if !rampart_testkit::require::root_with(&["sshd", "ssh-keygen"], "sshd -t validates the plan") {
        return None;
    }
    let conf = rampart_testkit::SshdConfig::write(dir, 2990, None, "");
    // Planning only checks that the pid is alive (it never signals it): this process will do.
    std::fs::write(&conf.pid_file, format!("{}\n", std::process::id())).unwrap();
    Some(Env {
        root: dir.to_path_buf(),
        sshd_config: conf.path,
        sshd_pid_file: conf.pid_file,
        journal_dir: dir.join("journal"),
        ..Env::live()
    })
}

#[test]
fn socket_activation_and_selinux_are_planned() {
    let d = tempfile::tempdir().unwrap();
    let Some(env) = host(d.path()) else { return };
    let spec = ActionSpec::parse_str("ssh-port port=2991 from=198.51.100.0/24").unwrap();
    let plain = engine::plan(&env, &spec).unwrap();
    assert!(plain.needs_confirm);
    assert!(
        plain
            .changes
            .iter()
            .any(|c| c.contains("add `Port 2991` (keep 2990)")),
        "{:?}",
        plain.changes
    );
    assert!(!plain
        .changes
        .iter()
        .any(|c| c.contains("semanage") || c.contains("ssh.socket")));

    std::fs::create_dir_all(d.path().join("etc/systemd/system/sockets.target.wants")).unwrap();
    std::fs::write(
        d.path()
            .join("etc/systemd/system/sockets.target.wants/ssh.socket"),
        "",
    )
    .unwrap();
    std::fs::create_dir_all(d.path().join("sys/fs/selinux")).unwrap();
    std::fs::write(d.path().join("sys/fs/selinux/enforce"), "1").unwrap();
    let plan = engine::plan(&env, &spec).unwrap();
    let text = plan.changes.join("\n");
    assert!(
        text.contains("semanage port -a -t ssh_port_t -p tcp 2991"),
        "{text}"
    );
    assert!(text.contains("ssh.socket is in use"), "{text}");
    assert!(
        text.contains("/etc/systemd/system/ssh.socket.d/rampart-port.conf"),
        "{text}"
    );
    assert!(
        text.contains("drop TCP 2991 unless from 198.51.100.0/24"),
        "{text}"
    );
}

#[test]
fn bad_ssh_port_input_is_refused() {
    let d = tempfile::tempdir().unwrap();
    let Some(env) = host(d.path()) else { return };
    let before = std::fs::read(&env.sshd_config).unwrap();
    for (spec, want) in [
        ("ssh-port", "port=N is required"),
        ("ssh-port port=0", "not a port number"),
        ("ssh-port port=2990", "already configured"),
        ("ssh-port port=2992 from=10.0.0.1/8", "host bits set"),
        ("ssh-port port=2992 colour=blue", "unknown key"),
    ] {
        let err = engine::apply(&env, &ActionSpec::parse_str(spec).unwrap()).unwrap_err();
        assert!(err.to_string().contains(want), "{spec}: {err}");
    }
    let no_pid = Env {
        sshd_pid_file: d.path().join("no-such.pid"),
        ..env.clone()
    };
    let err = engine::plan(&no_pid, &ActionSpec::parse_str("ssh-port port=2993").unwrap()).unwrap_err();
    assert!(err.to_string().contains("is sshd running?"), "{err}");
    let missing = Env {
        sshd_config: d.path().join("nope"),
        ..env.clone()
    };
    let err = engine::plan(&missing, &ActionSpec::parse_str("ssh-port port=2993").unwrap()).unwrap_err();
    assert!(err.to_string().contains("no sshd configuration"), "{err}");
    assert_eq!(std::fs::read(&env.sshd_config).unwrap(), before);
    assert!(!env.journal_dir.exists());
}
