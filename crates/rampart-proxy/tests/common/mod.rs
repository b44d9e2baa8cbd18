//! Helpers shared by the proxy's integration tests: an albedo-compatible backend,
//! a raw HTTP/1 client, and the CRS rule set layout.
#![allow(dead_code)]

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use std::convert::Infallible;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

pub use rampart_testkit::crs::{base_conf, crs_dir, TEST_SETUP_RULE};

/// The log marker rule the runner finds its stages by.
pub const MARKER_RULE: &str = r#"SecRule REQUEST_HEADERS:X-CRS-Test "@rx ^.*$" \
  "id:999999,\
  phase:1,\
  pass,\
  t:none,\
  log,\
  msg:'X-CRS-Test %{MATCHED_VAR}',\
  ctl:ruleRemoveById=1-999999"
"#;

/// Rule files in load order for the CRS regression run: engine base config,
/// crs-setup.conf.example, the two test rules, rules/*.conf sorted.
pub fn crs_rule_paths(tmp: &Path) -> Vec<PathBuf> {
    let crs = crs_dir();
    let setup = tmp.join("crs-test-setup.conf");
    std::fs::write(&setup, format!("{TEST_SETUP_RULE}\n{MARKER_RULE}")).unwrap();
    // The rules directory is expanded the way `rampart waf --rules DIR` expands it.
    let rules = rampart_proxy::paths::expand_rule_paths(&[crs.join("rules").display().to_string()])
        .expect("CRS rules directory");
    let mut paths = vec![base_conf(), crs.join("crs-setup.conf.example"), setup];
    paths.extend(rules);
    paths
}

/// An albedo-compatible backend: every path answers 200 with an empty body, and
/// `POST /reflect` answers with the status, headers and body described by its JSON.
pub async fn start_albedo() -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        loop {
            let Ok((stream, _)) = listener.accept().await else {
                continue;
            };
            tokio::spawn(async move {
                let svc = service_fn(albedo);
                let _ = hyper::server::conn::http1::Builder::new()
                    .serve_connection(TokioIo::new(stream), svc)
                    .with_upgrades()
                    .await;
            });
        }
    });
    addr
}

async fn albedo(
    req: hyper::Request<hyper::body::Incoming>,
) -> Result<hyper::Response<Full<Bytes>>, Infallible> {
    let (method, path) = (req.method().to_string(), req.uri().path().to_string());
    let body = req
        .into_body()
        .collect()
        .await
        .map(|b| b.to_bytes())
        .unwrap_or_default();
    let reply = rampart_testkit::crs::reflect(&method, &path, &body);
    let mut builder = hyper::Response::builder().status(reply.status);
    for (k, v) in &reply.headers {
        // Invalid names or values are dropped, as albedo does.
        if let (Ok(n), Ok(v)) = (
            hyper::header::HeaderName::from_bytes(k.as_bytes()),
            hyper::header::HeaderValue::from_str(v),
        ) {
            builder = builder.header(n, v);
        }
    }
    Ok(builder
        .body(Full::new(Bytes::from(reply.body)))
        .unwrap_or_else(|_| hyper::Response::new(Full::new(Bytes::new()))))
}

/// What came back for a raw request.
#[derive(Default)]
pub struct RawResponse {
    pub status: Option<u16>,
    pub bytes: Vec<u8>,
    /// Why no complete response was read (connection refused, closed early, timeout…).
    pub error: Option<String>,
}

impl std::fmt::Debug for RawResponse {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let shown = String::from_utf8_lossy(&self.bytes[..self.bytes.len().min(400)]).into_owned();
        f.debug_struct("RawResponse")
            .field("status", &self.status)
            .field("error", &self.error)
            .field("len", &self.bytes.len())
            .field("start", &shown)
            .finish()
    }
}

/// Sends raw bytes, reads one response (by its framing, or to EOF), within `limit`.
pub async fn raw_exchange(addr: SocketAddr, request: &[u8], limit: Duration) -> RawResponse {
    let deadline = Instant::now() + limit;
    let mut stream = match TcpStream::connect(addr).await {
        Ok(s) => s,
        Err(e) => {
            return RawResponse {
                error: Some(format!("connect: {e}")),
                ..Default::default()
            }
        }
    };
    let _ = stream.set_nodelay(true);
    if let Err(e) = stream.write_all(request).await {
        return RawResponse {
            error: Some(format!("write: {e}")),
            ..Default::default()
        };
    }
    read_response(&mut stream, deadline).await
}

pub async fn read_response(stream: &mut TcpStream, deadline: Instant) -> RawResponse {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 16384];
    loop {
        if let Some(total) = complete_len(&buf) {
            let status = parse_status(&buf);
            buf.truncate(total);
            return RawResponse {
                status,
                bytes: buf,
                error: None,
            };
        }
        let left = deadline.saturating_duration_since(Instant::now());
        match tokio::time::timeout(left, stream.read(&mut chunk)).await {
            Err(_) => {
                // A complete head without a delimited body (HEAD, keep-alive) still counts.
                let status = parse_status(&buf);
                let error = if status.is_some() && head_end(&buf).is_some() {
                    None
                } else {
                    Some("timeout".into())
                };
                return RawResponse {
                    status,
                    bytes: buf,
                    error,
                };
            }
            Ok(Err(e)) => {
                let status = parse_status(&buf);
                let error = if status.is_some() {
                    None
                } else {
                    Some(format!("read: {e}"))
                };
                return RawResponse {
                    status,
                    bytes: buf,
                    error,
                };
            }
            Ok(Ok(0)) => {
                let status = parse_status(&buf);
                let error = if status.is_some() && head_end(&buf).is_some() {
                    None
                } else {
                    Some("connection closed without a complete response".into())
                };
                return RawResponse {
                    status,
                    bytes: buf,
                    error,
                };
            }
            Ok(Ok(n)) => buf.extend_from_slice(&chunk[..n]),
        }
    }
}

fn head_end(buf: &[u8]) -> Option<usize> {
    buf.windows(4).position(|w| w == b"\r\n\r\n").map(|p| p + 4)
}

fn parse_status(buf: &[u8]) -> Option<u16> {
    let line_end = buf.windows(2).position(|w| w == b"\r\n")?;
    let line = std::str::from_utf8(&buf[..line_end]).ok()?;
    let mut parts = line.splitn(3, ' ');
    let version = parts.next()?;
    if !version.starts_with("HTTP/") {
        return None;
    }
    parts.next()?.parse().ok()
}

/// Length of a complete response in `buf`, if it is complete by its own framing.
fn complete_len(buf: &[u8]) -> Option<usize> {
    let end = head_end(buf)?;
    let head = String::from_utf8_lossy(&buf[..end]).to_ascii_lowercase();
    let status = parse_status(buf)?;
    if (100..200).contains(&status) {
        // Interim response: the final one follows.
        let rest = complete_len(&buf[end..])?;
        return Some(end + rest);
    }
    if status == 204 || status == 304 {
        return Some(end);
    }
    if head.contains("\r\ntransfer-encoding: chunked") {
        let mut i = end;
        loop {
            let line_end = i + buf[i..].windows(2).position(|w| w == b"\r\n")?;
            let size = usize::from_str_radix(std::str::from_utf8(&buf[i..line_end]).ok()?.trim(), 16).ok()?;
            i = line_end + 2;
            if size == 0 {
                return if buf.len() >= i + 2 { Some(i + 2) } else { None };
            }
            i += size + 2;
            if i > buf.len() {
                return None;
            }
        }
    }
    for line in head.split("\r\n") {
        if let Some(v) = line.strip_prefix("content-length:") {
            let n: usize = v.trim().parse().ok()?;
            return if buf.len() >= end + n { Some(end + n) } else { None };
        }
    }
    // Delimited by the end of the connection.
    None
}

/// HEAD responses carry a Content-Length but no body: read just the head.
pub async fn raw_head_exchange(addr: SocketAddr, request: &[u8], limit: Duration) -> RawResponse {
    let mut stream = match TcpStream::connect(addr).await {
        Ok(s) => s,
        Err(e) => {
            return RawResponse {
                error: Some(format!("connect: {e}")),
                ..Default::default()
            }
        }
    };
    if let Err(e) = stream.write_all(request).await {
        return RawResponse {
            error: Some(format!("write: {e}")),
            ..Default::default()
        };
    }
    let deadline = Instant::now() + limit;
    let mut buf = Vec::new();
    let mut chunk = [0u8; 4096];
    while head_end(&buf).is_none() {
        let left = deadline.saturating_duration_since(Instant::now());
        match tokio::time::timeout(left, stream.read(&mut chunk)).await {
            Ok(Ok(n)) if n > 0 => buf.extend_from_slice(&chunk[..n]),
            _ => break,
        }
    }
    let status = parse_status(&buf);
    let error = if head_end(&buf).is_some() {
        None
    } else {
        Some("no response head".into())
    };
    RawResponse {
        status,
        bytes: buf,
        error,
    }
}

/// A backend that answers every request with its body and, in headers, what it saw:
/// `x-echo-host`, `x-echo-xff`, `x-echo-len`, `x-echo-method`, `x-echo-uri`.
pub async fn start_echo() -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        loop {
            let Ok((stream, _)) = listener.accept().await else {
                continue;
            };
            tokio::spawn(async move {
                let svc = service_fn(|req: hyper::Request<hyper::body::Incoming>| async move {
                    let h = |n: &str| {
                        req.headers()
                            .get(n)
                            .map(|v| v.as_bytes().to_vec())
                            .unwrap_or_default()
                    };
                    let (host, xff) = (h("host"), h("x-forwarded-for"));
                    let method = req.method().to_string();
                    let uri = req.uri().to_string();
                    let body = req
                        .into_body()
                        .collect()
                        .await
                        .map(|b| b.to_bytes())
                        .unwrap_or_default();
                    let resp = hyper::Response::builder()
                        .header("x-echo-host", host)
                        .header("x-echo-xff", xff)
                        .header("x-echo-len", body.len())
                        .header("x-echo-method", method)
                        .header("x-echo-uri", uri)
                        .header("content-type", "application/octet-stream")
                        .body(Full::new(body))
                        .unwrap();
                    Ok::<_, Infallible>(resp)
                });
                let _ = hyper::server::conn::http1::Builder::new()
                    .serve_connection(TokioIo::new(stream), svc)
                    .await;
            });
        }
    });
    addr
}

/// Starts a proxy for `upstream` with the given rule files and limits; returns it with
/// the path of its error log. It has two worker threads, so that handing connections to
/// workers is part of every test.
pub async fn start_proxy(
    dir: &Path,
    upstream: SocketAddr,
    rules: Vec<PathBuf>,
    limits: rampart_proxy::Limits,
    tls: Option<rampart_proxy::TlsFiles>,
) -> (rampart_proxy::RunningProxy, PathBuf) {
    start_proxy_with_workers(dir, upstream, rules, limits, tls, 2).await
}

/// [`start_proxy`] with `workers` threads (each has its own pool of upstream connections).
pub async fn start_proxy_with_workers(
    dir: &Path,
    upstream: SocketAddr,
    rules: Vec<PathBuf>,
    limits: rampart_proxy::Limits,
    tls: Option<rampart_proxy::TlsFiles>,
    workers: usize,
) -> (rampart_proxy::RunningProxy, PathBuf) {
    let error_log = dir.join("error.log");
    let config = rampart_proxy::ProxyConfig {
        listen: "127.0.0.1:0".parse().unwrap(),
        upstream: format!("http://{upstream}"),
        rules: rules.clone(),
        error_log: Some(error_log.clone()),
        audit_log: Some(dir.join("audit.log")),
        tls,
        limits,
        workers,
    };
    let loaded = rampart_proxy::Rules::load(rules).expect("test rules load");
    let proxy = rampart_proxy::start(&config, std::sync::Arc::new(loaded))
        .await
        .expect("proxy starts");
    (proxy, error_log)
}

pub fn header_of(resp: &RawResponse, name: &str) -> Option<String> {
    let text = String::from_utf8_lossy(&resp.bytes);
    let head = text.split("\r\n\r\n").next()?;
    head.split("\r\n").skip(1).find_map(|l| {
        let (n, v) = l.split_once(':')?;
        n.trim().eq_ignore_ascii_case(name).then(|| v.trim().to_string())
    })
}

pub fn body_of(resp: &RawResponse) -> Vec<u8> {
    match resp.bytes.windows(4).position(|w| w == b"\r\n\r\n") {
        Some(p) => resp.bytes[p + 4..].to_vec(),
        None => Vec::new(),
    }
}
