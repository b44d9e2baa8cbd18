//! SIGHUP reloads the rules; a broken rule file is rejected with its location and the
//! running rules stay in force. (Own test binary: it signals its own process.)

mod common;

use common::{raw_exchange, start_echo, start_proxy};
use rampart_proxy::Limits;
use std::path::Path;
use std::time::{Duration, Instant};
use tokio::io::AsyncWriteExt;

const T: Duration = Duration::from_secs(5);

fn get(path: &str) -> Vec<u8> {
    format!("GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n").into_bytes()
}

async fn wait_for_log(log: &Path, needle: &str) -> String {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let text = std::fs::read_to_string(log).unwrap_or_default();
        if text.contains(needle) {
            return text;
        }
        assert!(
            Instant::now() < deadline,
            "{needle:?} not in the error log:\n{text}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test]
async fn sighup_reload_keeps_old_rules_on_error_and_swaps_on_success() {
    let dir = tempfile::tempdir().unwrap();
    let rules = dir.path().join("rules.conf");
    std::fs::write(
        &rules,
        "SecRuleEngine On\nSecRule ARGS:a \"@streq one\" \"id:1,phase:1,deny,status:403,log,msg:'one'\"\n\
         SecRule REQUEST_HEADERS:User-Agent \"@rx evilbot\" \"id:3,phase:1,deny,status:403,log\"\n",
    )
    .unwrap();
    let (proxy, log) = start_proxy(
        dir.path(),
        start_echo().await,
        vec![rules.clone()],
        Limits::default(),
        None,
    )
    .await;
    let _hup = rampart_proxy::reload_on_sighup(&proxy).unwrap();
    assert_eq!(
        raw_exchange(proxy.local_addr, &get("/?a=one"), T).await.status,
        Some(403)
    );

    // A broken second line: the reload fails, names file and line, the old rules stay.
    std::fs::write(
        &rules,
        "SecRuleEngine On\nSecRule ARGS:a \"@streq two\" \"id:2,phase:1,deny,nosuchaction\"\n",
    )
    .unwrap();
    unsafe { libc::kill(libc::getpid(), libc::SIGHUP) };
    let text = wait_for_log(&log, "Rule reload failed").await;
    let line = text.lines().find(|l| l.contains("Rule reload failed")).unwrap();
    assert!(
        line.contains(&format!("{}:2", rules.display())),
        "location missing: {line}"
    );
    assert_eq!(
        raw_exchange(proxy.local_addr, &get("/?a=one"), T).await.status,
        Some(403)
    );
    assert_eq!(
        raw_exchange(proxy.local_addr, &get("/?a=two"), T).await.status,
        Some(200)
    );
    assert_eq!(proxy.rules().generation(), 0);

    // A keep-alive connection opened before the reload stays usable across it. Its User-Agent
    // is screened under the old rules (no "evilbot" in it) and remembered by the connection.
    let mut kept = tokio::net::TcpStream::connect(proxy.local_addr).await.unwrap();
    kept.write_all(b"GET /?a=two HTTP/1.1\r\nHost: x\r\nUser-Agent: goodbot/1\r\n\r\n")
        .await
        .unwrap();
    let before = common::read_response(&mut kept, Instant::now() + T).await;
    assert_eq!(before.status, Some(200), "{before:?}");

    // A good file: the new rules replace the old ones, on the same listening socket.
    std::fs::write(
        &rules,
        "SecRuleEngine On\nSecRule ARGS:a \"@streq two\" \"id:2,phase:1,deny,status:403,log\"\n\
         SecRule REQUEST_HEADERS:User-Agent \"@rx goodbot\" \"id:3,phase:1,deny,status:403,log\"\n",
    )
    .unwrap();
    unsafe { libc::kill(libc::getpid(), libc::SIGHUP) };
    wait_for_log(&log, "Rules reloaded").await;
    // The same User-Agent now matches: what the connection remembered under the old rules (the
    // same screen index, nothing found) must not be used under the new ones.
    kept.write_all(b"GET /?a=three HTTP/1.1\r\nHost: x\r\nUser-Agent: goodbot/1\r\n\r\n")
        .await
        .unwrap();
    let after = common::read_response(&mut kept, Instant::now() + T).await;
    assert_eq!(
        after.status,
        Some(403),
        "the old connection gets the new rules: {after:?}"
    );
    assert_eq!(proxy.rules().generation(), 1);
    assert_eq!(
        raw_exchange(proxy.local_addr, &get("/?a=two"), T).await.status,
        Some(403)
    );
    assert_eq!(
        raw_exchange(proxy.local_addr, &get("/?a=one"), T).await.status,
        Some(200)
    );
}
