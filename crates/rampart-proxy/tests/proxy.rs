//! The proxy end to end over loopback: blocking, DetectionOnly, body limits, bad input,
//! slowloris, reload, TLS.

mod common;

use common::{body_of, header_of, raw_exchange, start_echo, start_proxy};
use rampart_proxy::Limits;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

const T: Duration = Duration::from_secs(5);

fn write_rules(dir: &Path, name: &str, text: &str) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, text).unwrap();
    p
}

const ATTACK_RULE: &str = r#"SecRule ARGS:attack "@streq yes" "id:1001,phase:1,deny,status:403,log,msg:'Attack parameter'"
"#;

fn get(path: &str) -> Vec<u8> {
    format!("GET {path} HTTP/1.1\r\nHost: app.example\r\nConnection: close\r\n\r\n").into_bytes()
}

fn log_text(p: &Path) -> String {
    std::fs::read_to_string(p).unwrap_or_default()
}

#[tokio::test]
async fn blocking_mode_denies_and_logs() {
    let dir = tempfile::tempdir().unwrap();
    let rules = write_rules(dir.path(), "r.conf", &format!("SecRuleEngine On\n{ATTACK_RULE}"));
    let (proxy, log) = start_proxy(
        dir.path(),
        start_echo().await,
        vec![rules],
        Limits::default(),
        None,
    )
    .await;

    let ok = raw_exchange(proxy.local_addr, &get("/?attack=no"), T).await;
    assert_eq!(ok.status, Some(200), "{ok:?}");
    assert_eq!(
        header_of(&ok, "x-echo-host").as_deref(),
        Some("app.example"),
        "Host is kept"
    );
    assert_eq!(
        header_of(&ok, "x-echo-xff").as_deref(),
        Some("127.0.0.1"),
        "X-Forwarded-For is set"
    );

    let blocked = raw_exchange(proxy.local_addr, &get("/?attack=yes"), T).await;
    assert_eq!(blocked.status, Some(403), "{blocked:?}");
    assert!(
        header_of(&blocked, "x-echo-host").is_none(),
        "a blocked request never reaches the upstream"
    );
    assert!(
        log_text(&log).contains(r#"[id "1001"]"#),
        "error log: {}",
        log_text(&log)
    );
    let audit = std::fs::read_to_string(dir.path().join("audit.log")).unwrap();
    let record: serde_json::Value = serde_json::from_str(audit.lines().last().unwrap()).unwrap();
    assert!(record.is_object());
}

#[tokio::test]
async fn detection_only_logs_but_passes() {
    let dir = tempfile::tempdir().unwrap();
    let rules = write_rules(
        dir.path(),
        "r.conf",
        &format!("SecRuleEngine DetectionOnly\n{ATTACK_RULE}"),
    );
    let (proxy, log) = start_proxy(
        dir.path(),
        start_echo().await,
        vec![rules],
        Limits::default(),
        None,
    )
    .await;
    let resp = raw_exchange(proxy.local_addr, &get("/?attack=yes"), T).await;
    assert_eq!(resp.status, Some(200), "{resp:?}");
    assert!(
        log_text(&log).contains(r#"[id "1001"]"#),
        "error log: {}",
        log_text(&log)
    );
}

fn post(body: &[u8]) -> Vec<u8> {
    let mut r = format!(
        "POST /upload HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Type: application/octet-stream\r\n\
         Content-Length: {}\r\n\r\n",
        body.len()
    )
    .into_bytes();
    r.extend_from_slice(body);
    r
}

#[tokio::test]
async fn request_body_limit_reject_gives_413() {
    let dir = tempfile::tempdir().unwrap();
    let rules = write_rules(
        dir.path(),
        "r.conf",
        "SecRuleEngine On\nSecRequestBodyAccess On\nSecRequestBodyLimit 1000\nSecRequestBodyLimitAction Reject\n",
    );
    let (proxy, _) = start_proxy(
        dir.path(),
        start_echo().await,
        vec![rules],
        Limits::default(),
        None,
    )
    .await;
    let small = raw_exchange(proxy.local_addr, &post(&[b'a'; 500]), T).await;
    assert_eq!(small.status, Some(200), "{small:?}");
    assert_eq!(header_of(&small, "x-echo-len").as_deref(), Some("500"));
    let big = raw_exchange(proxy.local_addr, &post(&[b'a'; 5000]), T).await;
    assert_eq!(big.status, Some(413), "{big:?}");
}

#[tokio::test]
async fn request_body_limit_process_partial_forwards_everything() {
    let dir = tempfile::tempdir().unwrap();
    let rules = write_rules(
        dir.path(),
        "r.conf",
        "SecRuleEngine On\nSecRequestBodyAccess On\nSecRequestBodyLimit 1000\nSecRequestBodyLimitAction ProcessPartial\n",
    );
    let (proxy, _) = start_proxy(
        dir.path(),
        start_echo().await,
        vec![rules],
        Limits::default(),
        None,
    )
    .await;
    let body: Vec<u8> = (0..300_000u32).map(|i| b'a' + (i % 26) as u8).collect();
    let resp = raw_exchange(proxy.local_addr, &post(&body), T).await;
    assert_eq!(resp.status, Some(200), "{:?}", resp.error);
    assert_eq!(header_of(&resp, "x-echo-len").as_deref(), Some("300000"));
    assert_eq!(
        body_of(&resp),
        body,
        "the body arrives intact past the inspection limit"
    );

    // The hard cap of the proxy applies whatever the rules say.
    let limits = Limits {
        max_request_body: 10_000,
        ..Limits::default()
    };
    let dir2 = tempfile::tempdir().unwrap();
    let rules = write_rules(dir2.path(), "r.conf", "SecRuleEngine On\n");
    let (proxy, _) = start_proxy(dir2.path(), start_echo().await, vec![rules], limits, None).await;
    let resp = raw_exchange(proxy.local_addr, &post(&body), T).await;
    assert_eq!(resp.status, Some(413), "{resp:?}");
}

#[tokio::test]
async fn chunked_request_bodies_are_decoded_and_forwarded() {
    let dir = tempfile::tempdir().unwrap();
    let rules = write_rules(
        dir.path(),
        "r.conf",
        "SecRuleEngine On\nSecRequestBodyAccess On\n",
    );
    let (proxy, _) = start_proxy(
        dir.path(),
        start_echo().await,
        vec![rules],
        Limits::default(),
        None,
    )
    .await;
    let req = b"POST / HTTP/1.1\r\nHost: x\r\nConnection: close\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nHi \r\n3\r\nCRS\r\n0\r\n\r\n";
    let resp = raw_exchange(proxy.local_addr, req, T).await;
    assert_eq!(resp.status, Some(200), "{resp:?}");
    assert_eq!(body_of(&resp), b"Hi CRS");
}

#[tokio::test]
async fn bad_input_gets_4xx_or_close_never_a_crash() {
    let dir = tempfile::tempdir().unwrap();
    let rules = write_rules(
        dir.path(),
        "r.conf",
        "SecRuleEngine On\nSecRequestBodyAccess On\n",
    );
    let limits = Limits {
        max_head_bytes: 16 * 1024,
        ..Limits::default()
    };
    let (proxy, _) = start_proxy(dir.path(), start_echo().await, vec![rules], limits, None).await;
    let huge_header = format!(
        "GET / HTTP/1.1\r\nHost: x\r\nX-Big: {}\r\n\r\n",
        "a".repeat(20_000)
    );
    let many_headers = format!(
        "GET / HTTP/1.1\r\nHost: x\r\n{}\r\n",
        (0..150).map(|i| format!("X-{i}: v\r\n")).collect::<String>()
    );
    let cases: Vec<(Vec<u8>, &[u16])> = vec![
        (
            b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03garbage\r\n\r\n".to_vec(),
            &[400],
        ),
        (
            b"GET / HTTP/1.1\r\nHost: x\r\nBad Header\r\n\r\n".to_vec(),
            &[400],
        ),
        (b"GET /a b c HTTP/1.1\r\nHost: x\r\n\r\n".to_vec(), &[400]),
        (huge_header.into_bytes(), &[431]),
        (many_headers.into_bytes(), &[400]),
        (
            b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 12abc\r\n\r\n".to_vec(),
            &[400],
        ),
        (
            b"POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nabc\r\n".to_vec(),
            &[400],
        ),
        (
            b"POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip\r\n\r\n".to_vec(),
            &[501],
        ),
        (b"GET / HTTP/1.1\r\nHost: x\r\nX: a\x00b\r\n\r\n".to_vec(), &[400]),
        // Invalid UTF-8 and percent-encodings are the rules' business: answered normally.
        (
            b"GET /\xff\xfe?a=%zz%%u12 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".to_vec(),
            &[200],
        ),
    ];
    for (req, want) in cases {
        let resp = raw_exchange(proxy.local_addr, &req, T).await;
        let shown = String::from_utf8_lossy(&req[..req.len().min(60)]).into_owned();
        match resp.status {
            Some(s) => assert!(want.contains(&s), "{shown:?}: status {s}, want {want:?}"),
            None => panic!("{shown:?}: no response ({:?})", resp.error),
        }
    }
    // A body shorter than its Content-Length: the client gives up; the proxy just closes.
    let mut s = TcpStream::connect(proxy.local_addr).await.unwrap();
    s.write_all(b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\nshort")
        .await
        .unwrap();
    s.shutdown().await.unwrap();
    let mut buf = Vec::new();
    let _ = tokio::time::timeout(T, s.read_to_end(&mut buf))
        .await
        .expect("closed in time");
    // Still serving afterwards.
    let ok = raw_exchange(proxy.local_addr, &get("/"), T).await;
    assert_eq!(ok.status, Some(200));
}

#[tokio::test]
async fn slowloris_is_cut_off() {
    let dir = tempfile::tempdir().unwrap();
    let rules = write_rules(dir.path(), "r.conf", "SecRuleEngine On\n");
    let limits = Limits {
        header_read_timeout: Duration::from_millis(400),
        ..Limits::default()
    };
    let (proxy, _) = start_proxy(dir.path(), start_echo().await, vec![rules], limits, None).await;
    let mut s = TcpStream::connect(proxy.local_addr).await.unwrap();
    let start = Instant::now();
    s.write_all(b"GET / HTTP/1.1\r\nHost: x\r\n").await.unwrap();
    let mut closed_after = None;
    for i in 0..40 {
        tokio::time::sleep(Duration::from_millis(100)).await;
        if s.write_all(format!("X-{i}: a\r\n").as_bytes()).await.is_err() {
            closed_after = Some(start.elapsed());
            break;
        }
        let mut b = [0u8; 512];
        if let Ok(Ok(n)) = tokio::time::timeout(Duration::from_millis(1), s.read(&mut b)).await {
            if n == 0 || String::from_utf8_lossy(&b[..n]).starts_with("HTTP/1.1 408") {
                closed_after = Some(start.elapsed());
                break;
            }
        }
    }
    let after = closed_after.expect("a client trickling its headers is cut off");
    assert!(after < Duration::from_secs(3), "cut off after {after:?}");
}

#[tokio::test]
async fn keep_alive_serves_several_requests_on_one_connection() {
    let dir = tempfile::tempdir().unwrap();
    let rules = write_rules(dir.path(), "r.conf", "SecRuleEngine On\n");
    let (proxy, _) = start_proxy(
        dir.path(),
        start_echo().await,
        vec![rules],
        Limits::default(),
        None,
    )
    .await;
    let mut s = TcpStream::connect(proxy.local_addr).await.unwrap();
    for i in 0..3 {
        s.write_all(format!("GET /{i} HTTP/1.1\r\nHost: x\r\n\r\n").as_bytes())
            .await
            .unwrap();
        let resp = common::read_response(&mut s, Instant::now() + T).await;
        assert_eq!(resp.status, Some(200), "request {i}: {resp:?}");
        assert_eq!(
            header_of(&resp, "x-echo-uri").as_deref(),
            Some(format!("/{i}").as_str())
        );
    }
}

#[tokio::test]
async fn drop_action_closes_without_a_response_and_redirect_redirects() {
    let dir = tempfile::tempdir().unwrap();
    let rules = write_rules(
        dir.path(),
        "r.conf",
        "SecRuleEngine On\n\
         SecRule ARGS:x \"@streq drop\" \"id:2001,phase:1,drop,log\"\n\
         SecRule ARGS:x \"@streq away\" \"id:2002,phase:1,redirect:http://example.org/blocked,log\"\n",
    );
    let (proxy, log) = start_proxy(
        dir.path(),
        start_echo().await,
        vec![rules],
        Limits::default(),
        None,
    )
    .await;
    let dropped = raw_exchange(proxy.local_addr, &get("/?x=drop"), T).await;
    assert!(dropped.status.is_none() && dropped.error.is_some(), "{dropped:?}");
    let moved = raw_exchange(proxy.local_addr, &get("/?x=away"), T).await;
    assert_eq!(moved.status, Some(302), "{moved:?}");
    assert_eq!(
        header_of(&moved, "location").as_deref(),
        Some("http://example.org/blocked")
    );
    let text = log_text(&log);
    assert!(
        text.contains(r#"[id "2001"]"#) && text.contains(r#"[id "2002"]"#),
        "{text}"
    );
}

#[tokio::test]
async fn response_phases_see_upstream_headers_and_body() {
    let dir = tempfile::tempdir().unwrap();
    let rules = write_rules(
        dir.path(),
        "r.conf",
        "SecRuleEngine On\nSecResponseBodyAccess On\nSecResponseBodyMimeType text/plain text/html\n\
         SecRule RESPONSE_BODY \"@contains secret-token\" \"id:3001,phase:4,deny,status:403,log\"\n",
    );
    let (proxy, log) = start_proxy(
        dir.path(),
        common::start_albedo().await,
        vec![rules],
        Limits::default(),
        None,
    )
    .await;
    let reflect = |body: &str| {
        let json = format!(r#"{{"status":200,"headers":{{"Content-Type":"text/plain"}},"body":"{body}"}}"#);
        format!(
            "POST /reflect HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Type: application/json\r\n\
             Content-Length: {}\r\n\r\n{json}",
            json.len()
        )
        .into_bytes()
    };
    let fine = raw_exchange(proxy.local_addr, &reflect("hello"), T).await;
    assert_eq!(fine.status, Some(200), "{fine:?}");
    assert_eq!(body_of(&fine), b"hello");
    let leak = raw_exchange(proxy.local_addr, &reflect("the secret-token is here"), T).await;
    assert_eq!(leak.status, Some(403), "{leak:?}");
    assert!(
        !String::from_utf8_lossy(&leak.bytes).contains("secret-token"),
        "the leaking body never reaches the client"
    );
    assert!(log_text(&log).contains(r#"[id "3001"]"#));
}
