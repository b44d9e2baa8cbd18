//! The proxy's own upstream client against a scripted raw-TCP backend: response framings
//! (chunked, close-delimited, HEAD, interim 1xx), connection reuse, a pooled connection
//! the server closed, and an unreachable upstream.

mod common;

use common::{body_of, header_of, raw_exchange, start_proxy_with_workers};
use rampart_proxy::Limits;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

const T: Duration = Duration::from_secs(5);

#[derive(Default)]
struct Counts {
    connections: AtomicUsize,
    requests: AtomicUsize,
}

/// Reads one request head and its Content-Length body; `None` at a clean close.
async fn read_request(s: &mut TcpStream, buf: &mut Vec<u8>) -> Option<(String, String)> {
    loop {
        if let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n").map(|p| p + 4) {
            let head = String::from_utf8_lossy(&buf[..end]).into_owned();
            let len: usize = head
                .lines()
                .find_map(|l| {
                    let (n, v) = l.split_once(':')?;
                    n.eq_ignore_ascii_case("content-length")
                        .then(|| v.trim().parse().ok())?
                })
                .unwrap_or(0);
            while buf.len() < end + len {
                let mut chunk = [0u8; 4096];
                let n = s.read(&mut chunk).await.ok()?;
                if n == 0 {
                    return None;
                }
                buf.extend_from_slice(&chunk[..n]);
            }
            buf.drain(..end + len);
            let mut first = head.split_whitespace();
            let method = first.next()?.to_string();
            let path = first.next()?.to_string();
            return Some((method, path));
        }
        let mut chunk = [0u8; 4096];
        let n = s.read(&mut chunk).await.ok()?;
        if n == 0 {
            return None;
        }
        buf.extend_from_slice(&chunk[..n]);
    }
}

/// A backend whose answer depends on the path; it counts connections and requests.
async fn start_scripted() -> (SocketAddr, Arc<Counts>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let counts = Arc::new(Counts::default());
    let c = counts.clone();
    tokio::spawn(async move {
        loop {
            let Ok((mut s, _)) = listener.accept().await else {
                continue;
            };
            c.connections.fetch_add(1, Ordering::SeqCst);
            let c = c.clone();
            tokio::spawn(async move {
                let mut buf = Vec::new();
                let mut drop_next = false;
                while let Some((method, path)) = read_request(&mut s, &mut buf).await {
                    c.requests.fetch_add(1, Ordering::SeqCst);
                    if drop_next {
                        // The request arrived just as the server closed: no answer.
                        return;
                    }
                    drop_next = path == "/drop-next";
                    let big = "x".repeat(100_000);
                    let reply: Vec<u8> = match path.as_str() {
                        "/chunked" => format!(
                            "HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\n\
                             Transfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n{:x}\r\n{big}\r\n0\r\n\r\n",
                            big.len()
                        )
                        .into_bytes(),
                        "/until-close" => {
                            let r = format!(
                                "HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\n\r\nuntil close {big}"
                            );
                            let _ = s.write_all(r.as_bytes()).await;
                            return;
                        }
                        "/interim" => b"HTTP/1.1 103 Early Hints\r\nLink: </a.css>\r\n\r\n\
                             HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nfinal"
                            .to_vec(),
                        "/then-close" => {
                            // Keep-alive framing, but the server closes right after (an idle
                            // timeout racing the next request).
                            let _ = s
                                .write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
                                .await;
                            return;
                        }
                        _ if method == "HEAD" => {
                            b"HTTP/1.1 200 OK\r\nContent-Length: 1234\r\nX-Head: yes\r\n\r\n".to_vec()
                        }
                        _ => format!("HTTP/1.1 200 OK\r\nContent-Length: {}\r\n\r\n{path}", path.len())
                            .into_bytes(),
                    };
                    if s.write_all(&reply).await.is_err() {
                        return;
                    }
                }
            });
        }
    });
    (addr, counts)
}

async fn proxy_for(upstream: SocketAddr) -> (rampart_proxy::RunningProxy, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let rules = dir.path().join("r.conf");
    std::fs::write(&rules, "SecRuleEngine On\n").unwrap();
    // One worker: these tests count upstream connections, and each worker has its own pool.
    let (proxy, _) =
        start_proxy_with_workers(dir.path(), upstream, vec![rules], Limits::default(), None, 1).await;
    (proxy, dir)
}

fn get(method: &str, path: &str) -> Vec<u8> {
    format!("{method} {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n").into_bytes()
}

#[tokio::test]
async fn response_framings_are_decoded_and_reframed() {
    let (up, _) = start_scripted().await;
    let (proxy, _dir) = proxy_for(up).await;

    let r = raw_exchange(proxy.local_addr, &get("GET", "/chunked"), T).await;
    assert_eq!(r.status, Some(200), "{r:?}");
    let body = dechunk(&body_of(&r));
    assert_eq!(body.len(), 100_005);
    assert!(body.starts_with(b"hellox") && body.ends_with(b"xxx"));

    let r = raw_exchange(proxy.local_addr, &get("GET", "/until-close"), T).await;
    assert_eq!(r.status, Some(200), "{r:?}");
    let body = dechunk(&body_of(&r));
    assert!(
        body.starts_with(b"until close x") && body.len() == 100_012,
        "{}",
        body.len()
    );

    let r = raw_exchange(proxy.local_addr, &get("GET", "/interim"), T).await;
    assert_eq!(r.status, Some(200), "interim 1xx responses are skipped: {r:?}");
    assert_eq!(body_of(&r), b"final");

    let r = common::raw_head_exchange(proxy.local_addr, &get("HEAD", "/h"), T).await;
    assert_eq!(r.status, Some(200), "{r:?}");
    assert_eq!(header_of(&r, "content-length").as_deref(), Some("1234"));
    assert_eq!(header_of(&r, "x-head").as_deref(), Some("yes"));
}

/// The body of a chunked response (as the proxy writes it to an HTTP/1.1 client), or the
/// bytes as they are when the response was not chunked.
fn dechunk(raw: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    let mut i = 0;
    loop {
        let Some(nl) = raw[i..].windows(2).position(|w| w == b"\r\n") else {
            return raw.to_vec();
        };
        let Ok(size) = usize::from_str_radix(std::str::from_utf8(&raw[i..i + nl]).unwrap_or("z"), 16) else {
            return raw.to_vec();
        };
        i += nl + 2;
        if size == 0 {
            return out;
        }
        out.extend_from_slice(&raw[i..i + size]);
        i += size + 2;
    }
}

#[tokio::test]
async fn upstream_connections_are_reused() {
    let (up, counts) = start_scripted().await;
    let (proxy, _dir) = proxy_for(up).await;
    for i in 0..5 {
        let r = raw_exchange(proxy.local_addr, &get("GET", &format!("/n{i}")), T).await;
        assert_eq!(body_of(&r), format!("/n{i}").as_bytes(), "{r:?}");
    }
    // Each client connection closed after its request; the upstream one stayed open.
    assert_eq!(counts.requests.load(Ordering::SeqCst), 5);
    assert_eq!(counts.connections.load(Ordering::SeqCst), 1);
}

/// One keep-alive exchange on an open client connection: the body of the echoed path.
async fn keep_alive_get(c: &mut TcpStream, path: &str) -> Vec<u8> {
    c.write_all(format!("GET {path} HTTP/1.1\r\nHost: x\r\n\r\n").as_bytes())
        .await
        .unwrap();
    let mut buf = Vec::new();
    loop {
        if let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n").map(|p| p + 4) {
            if buf.len() >= end + path.len() {
                return buf[end..].to_vec();
            }
        }
        let mut chunk = [0u8; 4096];
        let n = tokio::time::timeout(T, c.read(&mut chunk))
            .await
            .unwrap()
            .unwrap();
        assert!(n > 0, "proxy closed: {}", String::from_utf8_lossy(&buf));
        buf.extend_from_slice(&chunk[..n]);
    }
}

#[tokio::test]
async fn open_connections_are_spread_over_the_workers_each_with_its_own_pool() {
    for workers in [1, 2] {
        let (up, counts) = start_scripted().await;
        let dir = tempfile::tempdir().unwrap();
        let rules = dir.path().join("r.conf");
        std::fs::write(&rules, "SecRuleEngine On\n").unwrap();
        let (proxy, _) =
            start_proxy_with_workers(dir.path(), up, vec![rules], Limits::default(), None, workers).await;
        // Two client connections open at once, used in turn (never two requests in flight).
        let mut a = TcpStream::connect(proxy.local_addr).await.unwrap();
        let mut b = TcpStream::connect(proxy.local_addr).await.unwrap();
        for i in 0..3 {
            assert_eq!(
                keep_alive_get(&mut a, &format!("/a{i}")).await,
                format!("/a{i}").as_bytes()
            );
            assert_eq!(
                keep_alive_get(&mut b, &format!("/b{i}")).await,
                format!("/b{i}").as_bytes()
            );
        }
        // One worker serves both through one pooled upstream connection; with two, each
        // client connection went to its own worker, which opened its own.
        assert_eq!(counts.requests.load(Ordering::SeqCst), 6);
        assert_eq!(
            counts.connections.load(Ordering::SeqCst),
            workers,
            "{workers} workers"
        );
    }
}

#[tokio::test]
async fn a_pooled_connection_the_server_closed_is_replaced() {
    let (up, counts) = start_scripted().await;
    let (proxy, _dir) = proxy_for(up).await;
    let started = Instant::now();
    for i in 0..4 {
        let r = raw_exchange(proxy.local_addr, &get("GET", "/then-close"), T).await;
        assert_eq!(r.status, Some(200), "request {i}: {r:?}");
        assert_eq!(body_of(&r), b"ok");
    }
    // Every request found the previous connection closed (with or without noticing before
    // sending) and was answered on a new one.
    assert_eq!(counts.connections.load(Ordering::SeqCst), 4);
    assert!(started.elapsed() < T);
    // A POST is never sent twice: either the close is seen before sending, or it fails.
    let post = b"POST /then-close HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Length: 1\r\n\r\na";
    let before = counts.requests.load(Ordering::SeqCst);
    let r = raw_exchange(proxy.local_addr, post, T).await;
    assert!(matches!(r.status, Some(200) | Some(502)), "{r:?}");
    assert_eq!(counts.requests.load(Ordering::SeqCst) - before, 1);
}

#[tokio::test]
async fn a_close_racing_the_request_is_retried_for_get_only() {
    let (up, counts) = start_scripted().await;
    let (proxy, _dir) = proxy_for(up).await;
    let r = raw_exchange(proxy.local_addr, &get("GET", "/drop-next"), T).await;
    assert_eq!(r.status, Some(200), "{r:?}");
    // Sent on the pooled connection, which the server then closes unanswered: a GET goes
    // out again on a new connection.
    let r = raw_exchange(proxy.local_addr, &get("GET", "/again"), T).await;
    assert_eq!(r.status, Some(200), "{r:?}");
    assert_eq!(body_of(&r), b"/again");
    assert_eq!(counts.connections.load(Ordering::SeqCst), 2);
    // A POST in the same situation is not sent twice: the client gets a 502.
    let r = raw_exchange(proxy.local_addr, &get("GET", "/drop-next"), T).await;
    assert_eq!(r.status, Some(200), "{r:?}");
    let before = counts.requests.load(Ordering::SeqCst);
    let post = b"POST /once HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Length: 1\r\n\r\na";
    let r = raw_exchange(proxy.local_addr, post, T).await;
    assert_eq!(r.status, Some(502), "{r:?}");
    assert_eq!(counts.requests.load(Ordering::SeqCst) - before, 1);
}

#[tokio::test]
async fn an_unreachable_upstream_gives_502() {
    // A port nobody listens on: bind, note the address, close.
    let addr = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap()
    };
    let (proxy, _dir) = proxy_for(addr).await;
    let r = raw_exchange(proxy.local_addr, &get("GET", "/"), T).await;
    assert_eq!(r.status, Some(502), "{r:?}");
}
