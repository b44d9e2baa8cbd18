//! The `rampart triage` command as operators and scripts use it: the JSON schema,
//! exit codes, `--root`, and running without root.

use std::collections::BTreeSet;
use std::path::Path;
use std::process::Command;

fn rampart() -> Command {
    Command::new(env!("CARGO_BIN_EXE_rampart"))
}

/// A small compromised root: a second UID 0 account and an empty password.
fn planted_root() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let w = |p: &str, s: &str| {
        let path = dir.path().join(p);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, s).unwrap();
    };
    w(
        "etc/passwd",
        "root:x:0:0:root:/root:/bin/bash\ntoor:x:0:0::/root:/bin/bash\nbob:x:1001:1001::/home/bob:/bin/bash\n",
    );
    w(
        "etc/shadow",
        "root:$y$j9T$aaaaaaaaaaaaaaaaaaaaaa$bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb:19700:0:99999:7:::\n\
         toor:$1$SECRETSALT$SECRETHASHSECRETHASHSE:19700:0:99999:7:::\n\
         bob::19700:0:99999:7:::\n",
    );
    w("etc/group", "root:x:0:\nbob:x:1001:\n");
    dir
}

fn keys(v: &serde_json::Value) -> BTreeSet<String> {
    v.as_object().unwrap().keys().cloned().collect()
}

fn set(v: &[&str]) -> BTreeSet<String> {
    v.iter().map(|s| s.to_string()).collect()
}

#[test]
fn json_lines_follow_the_documented_schema() {
    let root = planted_root();
    let out = rampart()
        .args(["triage", "--json", "--no-probe", "--root"])
        .arg(root.path())
        .output()
        .unwrap();
    let text = String::from_utf8(out.stdout).unwrap();
    let lines: Vec<serde_json::Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON: {l}: {e}")))
        .collect();
    assert!(!lines.is_empty());

    // The schema README.md documents; changing it is a breaking change (bump `schema`).
    let finding_required = set(&["type", "id", "severity", "step", "title", "evidence", "remedy"]);
    let finding_optional = set(&["action"]);
    let evidence_required = set(&["location", "detail"]);
    let evidence_optional = set(&["path", "line", "pid"]);
    let severities = set(&["info", "low", "medium", "high", "critical"]);
    let steps = set(&[
        "passwords",
        "remote-login",
        "firewall",
        "ports",
        "malware",
        "accounts",
        "persistence",
        "web-root",
        "patches",
    ]);
    let summary_keys = set(&[
        "type",
        "schema",
        "checks_run",
        "findings",
        "critical",
        "high",
        "medium",
        "low",
        "info",
        "errors",
        "skipped",
        "elapsed_ms",
        "exit_code",
    ]);

    let (last, rest) = lines.split_last().unwrap();
    assert_eq!(last["type"], "summary", "the last line is the summary");
    assert_eq!(keys(last), summary_keys);
    assert_eq!(last["schema"], 1);

    let mut findings = 0;
    for v in rest {
        let k = keys(v);
        match v["type"].as_str().unwrap() {
            "finding" => {
                findings += 1;
                assert!(finding_required.is_subset(&k), "{v}");
                assert!(
                    k.is_subset(&finding_required.union(&finding_optional).cloned().collect()),
                    "{v}"
                );
                assert!(severities.contains(v["severity"].as_str().unwrap()), "{v}");
                assert!(steps.contains(v["step"].as_str().unwrap()), "{v}");
                let id = v["id"].as_str().unwrap();
                assert!(id.contains('.') && !id.contains(' '), "id {id} is family.what");
                for e in v["evidence"].as_array().unwrap() {
                    let ek = keys(e);
                    assert!(evidence_required.is_subset(&ek), "{e}");
                    assert!(ek.is_subset(&evidence_required.union(&evidence_optional).cloned().collect()));
                }
            }
            "error" => assert_eq!(keys(v), set(&["type", "check", "subject", "message"])),
            "skipped" => assert_eq!(keys(v), set(&["type", "check", "reason"])),
            other => panic!("unknown record type {other}"),
        }
    }
    assert_eq!(last["findings"], findings);
    // No secret material ever reaches the output.
    assert!(
        !text.contains("SECRETSALT") && !text.contains("SECRETHASH"),
        "{text}"
    );
    assert!(!text.contains("$y$j9T$aaaa"), "{text}");
    // Live-only checks are listed as skipped with --root, never silently dropped.
    assert!(text.contains("\"type\":\"skipped\""), "{text}");
}

#[test]
fn exit_code_follows_fail_on() {
    let root = planted_root();
    let run = |fail_on: &str| {
        rampart()
            .args(["triage", "--json", "--no-probe", "--fail-on", fail_on, "--root"])
            .arg(root.path())
            .output()
            .unwrap()
    };
    let out = run("critical");
    let summary: serde_json::Value =
        serde_json::from_str(String::from_utf8_lossy(&out.stdout).lines().last().unwrap()).unwrap();
    // The summary states the exit code the process returns.
    assert_eq!(
        out.status.code().unwrap() as i64,
        summary["exit_code"].as_i64().unwrap()
    );
    if summary["errors"] == 0 {
        let expected = if summary["critical"].as_u64().unwrap() > 0 {
            1
        } else {
            0
        };
        assert_eq!(out.status.code(), Some(expected));
    } else {
        assert_eq!(out.status.code(), Some(2));
    }
}

#[test]
fn bad_root_is_a_clear_error() {
    let out = rampart()
        .args(["triage", "--root", "/nonexistent/rampart-root"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("/nonexistent/rampart-root"), "{err}");
}

#[test]
fn human_report_names_the_root_and_ends_with_a_summary() {
    let root = planted_root();
    let out = rampart()
        .args(["triage", "--no-probe", "--root"])
        .arg(root.path())
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.starts_with("Rampart triage of the root file system at"),
        "{text}"
    );
    assert!(
        text.trim_end()
            .ends_with(&format!("Exit code {}.", out.status.code().unwrap())),
        "{text}"
    );
    // Not a terminal: no colour codes.
    assert!(!text.contains('\x1b'));
}

/// Run as a normal user, triage still works and says what it could not see.
#[test]
fn works_without_root() {
    if unsafe_geteuid() != 0 || !Path::new("/usr/bin/setpriv").exists() {
        eprintln!("skipped: needs root to drop to an unprivileged user, and setpriv");
        return;
    }
    let bin = env!("CARGO_BIN_EXE_rampart");
    // The test binary may live under /root, which nobody cannot enter: copy it out.
    let dir = tempfile::tempdir().unwrap();
    let copy = dir.path().join("rampart");
    std::fs::copy(bin, &copy).unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
    // A fork in another test thread may briefly hold the fresh copy open for writing;
    // setpriv's exec then fails with "Text file busy": try again.
    let mut tries = 0;
    let out = loop {
        let out = Command::new("/usr/bin/setpriv")
            .args(["--reuid=65534", "--regid=65534", "--clear-groups", "--"])
            .arg(&copy)
            .args(["triage", "--json", "--no-probe"])
            .current_dir(dir.path())
            .output()
            .unwrap();
        if tries < 100 && String::from_utf8_lossy(&out.stderr).contains("Text file busy") {
            tries += 1;
            std::thread::sleep(std::time::Duration::from_millis(20));
            continue;
        }
        break out;
    };
    let text = String::from_utf8_lossy(&out.stdout);
    let code = out.status.code().unwrap();
    assert!(
        (0..=2).contains(&code),
        "exit {code}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let last: serde_json::Value = serde_json::from_str(text.lines().last().unwrap()).unwrap();
    assert_eq!(last["type"], "summary");
    assert!(text.contains("not running as root"), "{text}");
}

fn unsafe_geteuid() -> u32 {
    // Reading /proc avoids a libc dependency in the root package for one call.
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("Uid:"))
                .and_then(|l| l.split_whitespace().nth(2).map(|v| v.parse().unwrap_or(1)))
        })
        .unwrap_or(1)
}
