//! `rampart waf` as operators start it: from the `[waf]` table of the configuration file,
//! with command-line flags overriding it, and a clear error when something is missing.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use rampart_testkit::KillOnDrop;

fn rampart() -> Command {
    Command::new(env!("CARGO_BIN_EXE_rampart"))
}

/// A backend answering every request with a small 200 page, one connection at a time.
fn backend() -> u16 {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = l.local_addr().unwrap().port();
    std::thread::spawn(move || {
        for s in l.incoming() {
            let Ok(mut s) = s else { continue };
            let _ = s.set_read_timeout(Some(Duration::from_secs(5)));
            let mut buf = [0u8; 4096];
            let mut got = Vec::new();
            while !got.windows(4).any(|w| w == b"\r\n\r\n") {
                match s.read(&mut buf) {
                    Ok(0) | Err(_) => break,
                    Ok(n) => got.extend_from_slice(&buf[..n]),
                }
            }
            let _ = s.write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\nConnection: close\r\n\r\nhello");
        }
    });
    port
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Status code of a GET through the proxy, once it accepts connections.
fn get(port: u16, target: &str, deadline: Instant) -> u16 {
    loop {
        if let Ok(mut s) = TcpStream::connect(("127.0.0.1", port)) {
            s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
            let req = format!("GET {target} HTTP/1.1\r\nHost: localhost\r\nUser-Agent: test\r\nAccept: */*\r\nConnection: close\r\n\r\n");
            s.write_all(req.as_bytes()).unwrap();
            let mut resp = Vec::new();
            let _ = s.read_to_end(&mut resp);
            let line = String::from_utf8_lossy(&resp);
            return line.split(' ').nth(1).and_then(|c| c.parse().ok()).unwrap_or(0);
        }
        assert!(
            Instant::now() < deadline,
            "the proxy did not start listening on {port}"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn starts_from_the_waf_table_and_flags_override_it() {
    let dir = tempfile::tempdir().unwrap();
    let rules = dir.path().join("rules.conf");
    std::fs::write(
        &rules,
        "SecRuleEngine On\nSecRule ARGS \"@contains attack\" \"id:1,phase:1,deny,status:403,log\"\n",
    )
    .unwrap();
    let up = backend();
    let unused = free_port();
    let cfg = dir.path().join("rampart.toml");
    // The file's listen address is overridden by --listen; the rest comes from the file.
    std::fs::write(
        &cfg,
        format!(
            "[waf]\nlisten = \"127.0.0.1:{unused}\"\nupstream = \"http://127.0.0.1:{up}\"\nrules = [\"{}\"]\nerror_log = \"{}\"\n",
            rules.display(),
            dir.path().join("error.log").display()
        ),
    )
    .unwrap();
    let port = free_port();
    let _proxy = KillOnDrop(
        rampart()
            .args(["waf", "--config"])
            .arg(&cfg)
            .args(["--listen", &format!("127.0.0.1:{port}")])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    );
    let deadline = Instant::now() + Duration::from_secs(30);
    assert_eq!(get(port, "/?q=hello", deadline), 200);
    assert_eq!(get(port, "/?q=attack", deadline), 403);
    // The log line may be written after the response has gone out.
    let logged = || std::fs::read_to_string(dir.path().join("error.log")).unwrap_or_default();
    while !logged().contains("[id \"1\"]") {
        assert!(Instant::now() < deadline, "no [id \"1\"] line: {}", logged());
        std::thread::sleep(Duration::from_millis(20));
    }
    assert!(
        TcpStream::connect(("127.0.0.1", unused)).is_err(),
        "the file's listen address was used"
    );
}

#[test]
fn a_missing_setting_names_the_flag_and_the_key() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = dir.path().join("rampart.toml");
    std::fs::write(&cfg, "[waf]\nupstream = \"http://127.0.0.1:9\"\n").unwrap();
    let out = rampart().args(["waf", "--config"]).arg(&cfg).output().unwrap();
    assert_ne!(out.status.code(), Some(0));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("--listen") && err.contains(&cfg.display().to_string()),
        "{err}"
    );
    std::fs::write(&cfg, "[waf]\nlisten = \"127.0.0.1:9\"\nupstream = \"ftp://x\"\n").unwrap();
    let out = rampart().args(["waf", "--config"]).arg(&cfg).output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("waf.upstream") && err.contains("ftp://x"), "{err}");
}
