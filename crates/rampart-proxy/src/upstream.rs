//! The HTTP/1.1 client to the upstream server, driven inside the client connection's own
//! task.
//!
//! A general client (hyper's pooled one) runs every upstream connection as a task of its
//! own and hands requests and responses over channels: two task switches per request and,
//! on a multi-threaded runtime, a wake-up of another worker thread. For one request at a
//! time on a keep-alive connection that is most of the proxy's own cost, so the exchange
//! here is written and read directly by the task that serves the client: one `write` for
//! the request head and buffered body, one `read` for a small response. Idle connections
//! wait in a small LIFO pool shared by all client connections.

use crate::http1::wire::{BodyState, Wire, WireError};
use bytes::Bytes;
use std::net::SocketAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};
use tokio::io::AsyncWriteExt;
use tokio::net::tcp::{OwnedReadHalf, OwnedWriteHalf};
use tokio::net::TcpStream;

#[derive(Debug, thiserror::Error)]
pub enum UpstreamError {
    #[error("upstream URL {0:?}: only http://host[:port][/prefix] is supported")]
    BadUrl(String),
}

/// Why an exchange with the upstream failed.
#[derive(Debug, thiserror::Error)]
pub enum ExchangeError {
    #[error("cannot connect to {0}: {1}")]
    Connect(String, std::io::Error),
    #[error("connecting to {0} timed out")]
    ConnectTimeout(String),
    #[error("upstream connection failed: {0}")]
    Io(#[from] std::io::Error),
    #[error("upstream closed the connection before a complete response head")]
    Closed,
    #[error("malformed upstream response head: {0}")]
    BadHead(&'static str),
    #[error("upstream response head larger than {0} bytes")]
    HeadTooLarge(usize),
    #[error("the upstream server did not answer in time")]
    Timeout,
}

impl ExchangeError {
    /// What a pooled connection the server has closed in the meantime looks like.
    pub fn is_stale_connection(&self) -> bool {
        use std::io::ErrorKind::*;
        match self {
            ExchangeError::Closed => true,
            ExchangeError::Io(e) => matches!(e.kind(), ConnectionReset | BrokenPipe | ConnectionAborted),
            _ => false,
        }
    }
}

impl From<WireError> for ExchangeError {
    fn from(e: WireError) -> Self {
        match e {
            WireError::Io(e) => ExchangeError::Io(e),
            WireError::HeadTooLarge(n) => ExchangeError::HeadTooLarge(n),
            // Part of a response arrived: not a stale connection, never sent again.
            WireError::UnexpectedEof => ExchangeError::BadHead("connection closed inside the response head"),
            WireError::BadChunk(r) => ExchangeError::BadHead(r),
        }
    }
}

const MAX_RESPONSE_HEAD: usize = 64 * 1024;
const MAX_RESPONSE_HEADERS: usize = 128;

/// Where requests go, parsed once, and the idle connections to it.
pub struct Upstream {
    /// "host:port" as given (sent as Host when the client sent none).
    pub authority: String,
    /// Path prefix without trailing slash ("" for none).
    pub prefix: String,
    /// The address when the authority is an IP literal (no resolution per connect).
    addr: Option<SocketAddr>,
    connect_timeout: Duration,
    idle_timeout: Duration,
    max_idle: usize,
    idle: Mutex<Vec<UpConn>>,
}

/// One connection to the upstream.
pub struct UpConn {
    pub rd: Wire<OwnedReadHalf>,
    pub wr: OwnedWriteHalf,
    /// Taken from the pool (a failure before any response byte may be a stale connection).
    pub reused: bool,
    idle_since: Instant,
}

impl Upstream {
    pub fn new(url: &str) -> Result<Upstream, UpstreamError> {
        let rest = url
            .strip_prefix("http://")
            .ok_or_else(|| UpstreamError::BadUrl(url.into()))?;
        let (authority, path) = match rest.find('/') {
            Some(i) => (&rest[..i], &rest[i..]),
            None => (rest, ""),
        };
        let parsed = authority
            .parse::<http::uri::Authority>()
            .map_err(|_| UpstreamError::BadUrl(url.into()))?;
        if authority.is_empty() || parsed.host().is_empty() {
            return Err(UpstreamError::BadUrl(url.into()));
        }
        let port = parsed.port_u16().unwrap_or(80);
        let host = parsed.host().trim_start_matches('[').trim_end_matches(']');
        let addr = host
            .parse::<std::net::IpAddr>()
            .ok()
            .map(|ip| SocketAddr::new(ip, port));
        Ok(Upstream {
            authority: if parsed.port().is_some() {
                authority.to_string()
            } else {
                parsed.host().to_string()
            },
            prefix: path.trim_end_matches('/').to_string(),
            addr,
            connect_timeout: Duration::from_secs(10),
            idle_timeout: Duration::from_secs(30),
            max_idle: 256,
            idle: Mutex::new(Vec::new()),
        })
    }

    /// The same upstream with a pool of its own (one per worker thread: a pooled connection
    /// belongs to the runtime that registered it).
    pub fn with_own_pool(&self) -> Upstream {
        Upstream {
            authority: self.authority.clone(),
            prefix: self.prefix.clone(),
            addr: self.addr,
            connect_timeout: self.connect_timeout,
            idle_timeout: self.idle_timeout,
            max_idle: self.max_idle,
            idle: Mutex::new(Vec::new()),
        }
    }

    fn connect_target(&self) -> String {
        match self.addr {
            Some(a) => a.to_string(),
            None if self.authority.contains(':') => self.authority.clone(),
            None => format!("{}:80", self.authority),
        }
    }

    /// An idle pooled connection that still looks open, or a new one. (A close by the
    /// server that races the request is retried by the caller for idempotent methods.)
    pub async fn checkout(&self) -> Result<UpConn, ExchangeError> {
        while let Some(conn) = self.pop_idle() {
            if conn.still_open() {
                return Ok(conn);
            }
        }
        self.connect().await
    }

    fn pop_idle(&self) -> Option<UpConn> {
        let mut idle = self.idle.lock().unwrap_or_else(|e| e.into_inner());
        let now = Instant::now();
        idle.retain(|c| now.duration_since(c.idle_since) < self.idle_timeout);
        idle.pop().map(|mut c| {
            c.reused = true;
            c
        })
    }

    /// A new connection (never pooled before).
    pub async fn connect(&self) -> Result<UpConn, ExchangeError> {
        let target = self.connect_target();
        let connecting = async {
            match self.addr {
                Some(a) => TcpStream::connect(a).await,
                None => TcpStream::connect(target.as_str()).await,
            }
        };
        let stream = match tokio::time::timeout(self.connect_timeout, connecting).await {
            Err(_) => return Err(ExchangeError::ConnectTimeout(target)),
            Ok(Err(e)) => return Err(ExchangeError::Connect(target, e)),
            Ok(Ok(s)) => s,
        };
        // Request heads go out in one write; waiting for an ACK (Nagle) would add latency.
        let _ = stream.set_nodelay(true);
        let (rd, wr) = stream.into_split();
        Ok(UpConn {
            rd: Wire::new(rd),
            wr,
            reused: false,
            idle_since: Instant::now(),
        })
    }

    /// Returns a connection whose exchange ended cleanly, for the next request.
    pub fn checkin(&self, mut conn: UpConn) {
        if conn.rd.has_buffered() {
            return; // bytes after the response: the connection is out of step.
        }
        conn.idle_since = Instant::now();
        let mut idle = self.idle.lock().unwrap_or_else(|e| e.into_inner());
        if idle.len() < self.max_idle {
            idle.push(conn);
        }
    }

    /// The request target for the upstream: path and query, prefixed, with bytes that are
    /// not valid in a URI (the WAF has already seen them raw) percent-encoded.
    pub fn path_for(&self, target: &[u8], out: &mut Vec<u8>) {
        let path: &[u8] = if target.first() == Some(&b'/') {
            target
        } else if let Some(i) = target.windows(3).position(|w| w == b"://") {
            // absolute-form: keep only path and query.
            let after = &target[i + 3..];
            match after.iter().position(|&b| b == b'/' || b == b'?') {
                Some(p) => &after[p..],
                None => b"/",
            }
        } else {
            // asterisk-form and authority-form have no path to forward.
            b"/"
        };
        out.extend_from_slice(self.prefix.as_bytes());
        if path.first() != Some(&b'/') {
            out.push(b'/');
        }
        for &b in path {
            if needs_escape(b) {
                const HEX: &[u8; 16] = b"0123456789ABCDEF";
                out.extend_from_slice(&[b'%', HEX[(b >> 4) as usize], HEX[(b & 15) as usize]]);
            } else {
                out.push(b);
            }
        }
    }
}

impl UpConn {
    /// False when the server has closed the connection (or sent something unasked). Costs
    /// no system call while the socket has not been reported readable since the last read.
    fn still_open(&self) -> bool {
        let mut probe = [0u8; 1];
        matches!(self.rd.io().try_read(&mut probe), Err(e) if e.kind() == std::io::ErrorKind::WouldBlock)
    }

    pub async fn send(&mut self, bytes: &[u8], limit: Duration) -> Result<(), ExchangeError> {
        match tokio::time::timeout(limit, self.wr.write_all(bytes)).await {
            Ok(r) => Ok(r?),
            Err(_) => Err(std::io::Error::from(std::io::ErrorKind::TimedOut).into()),
        }
    }
}

/// Reads the next final response head (interim 1xx responses are skipped).
pub async fn read_head(
    rd: &mut Wire<OwnedReadHalf>,
    request_was_head: bool,
) -> Result<ResponseHead, ExchangeError> {
    loop {
        let Some(raw) = rd.read_until_head(MAX_RESPONSE_HEAD, find_response_end).await? else {
            return Err(ExchangeError::Closed);
        };
        let head = parse_response_head(raw, request_was_head)?;
        match head.status {
            101 => {
                // The proxy never forwards Upgrade, so a switch is a protocol error.
                return Err(ExchangeError::BadHead("unrequested 101 Switching Protocols"));
            }
            100..=199 => continue,
            _ => return Ok(head),
        }
    }
}

fn needs_escape(b: u8) -> bool {
    b <= 0x20 || b >= 0x7f || b"\"<>\\^`{|}#".contains(&b)
}

/// A parsed upstream response head; names and values are slices of the received bytes.
#[derive(Debug)]
pub struct ResponseHead {
    pub status: u16,
    pub minor: u8,
    pub headers: Vec<(Bytes, Bytes)>,
    pub body: BodyState,
    /// The server lets the connection be used for another request.
    pub keep_alive: bool,
    /// The length of the body when the head says it.
    pub length: Option<u64>,
}

fn find_response_end(buf: &[u8]) -> Option<usize> {
    crate::http1::head::blank_line_end(buf, 0)
}

fn parse_response_head(raw: Bytes, request_was_head: bool) -> Result<ResponseHead, ExchangeError> {
    let mut slots = [httparse::EMPTY_HEADER; MAX_RESPONSE_HEADERS];
    let mut resp = httparse::Response::new(&mut slots);
    match resp.parse(&raw) {
        Ok(httparse::Status::Complete(_)) => {}
        Ok(httparse::Status::Partial) => return Err(ExchangeError::BadHead("incomplete head")),
        Err(httparse::Error::TooManyHeaders) => return Err(ExchangeError::BadHead("too many headers")),
        Err(_) => return Err(ExchangeError::BadHead("invalid status line or header")),
    }
    let status = resp.code.ok_or(ExchangeError::BadHead("no status code"))?;
    let minor = resp.version.unwrap_or(1);
    let mut headers = Vec::with_capacity(resp.headers.len());
    let mut length: Option<u64> = None;
    let mut chunked = false;
    let mut has_te = false;
    let mut close = false;
    let mut keep_alive_token = false;
    for h in resp.headers.iter() {
        let name = h.name.as_bytes();
        if name.eq_ignore_ascii_case(b"content-length") {
            let s = std::str::from_utf8(h.value)
                .ok()
                .map(str::trim)
                .ok_or(ExchangeError::BadHead("invalid Content-Length"))?;
            let n: u64 = s
                .parse()
                .map_err(|_| ExchangeError::BadHead("invalid Content-Length"))?;
            if length.is_some_and(|l| l != n) {
                return Err(ExchangeError::BadHead("conflicting Content-Length"));
            }
            length = Some(n);
        } else if name.eq_ignore_ascii_case(b"transfer-encoding") {
            has_te = true;
            let last = h.value.rsplit(|&b| b == b',').next().unwrap_or_default();
            chunked = last.trim_ascii().eq_ignore_ascii_case(b"chunked");
        } else if name.eq_ignore_ascii_case(b"connection") {
            for t in h.value.split(|&b| b == b',') {
                let t = t.trim_ascii();
                close |= t.eq_ignore_ascii_case(b"close");
                keep_alive_token |= t.eq_ignore_ascii_case(b"keep-alive");
            }
        }
        headers.push((raw.slice_ref(name), raw.slice_ref(h.value)));
    }
    // RFC 9112 §6.3, in order.
    let no_body = request_was_head || (100..200).contains(&status) || status == 204 || status == 304;
    let (body, delimited) = if no_body {
        (BodyState::Done, true)
    } else if has_te && chunked {
        length = None;
        (BodyState::ChunkSize, true)
    } else if has_te {
        (BodyState::UntilEof, false)
    } else if let Some(n) = length {
        (BodyState::Length(n), true)
    } else {
        (BodyState::UntilEof, false)
    };
    let keep_alive = delimited && !close && (minor >= 1 || keep_alive_token);
    Ok(ResponseHead {
        status,
        minor,
        headers,
        body,
        keep_alive,
        length: if no_body { None } else { length },
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn path(u: &Upstream, target: &[u8]) -> String {
        let mut out = Vec::new();
        u.path_for(target, &mut out);
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn builds_upstream_paths() {
        let u = Upstream::new("http://127.0.0.1:8080/app/").unwrap();
        assert_eq!(u.authority, "127.0.0.1:8080");
        assert_eq!(path(&u, b"/a?b=<c>"), "/app/a?b=%3Cc%3E");
        assert_eq!(path(&u, b"*"), "/app/");
        assert_eq!(path(&u, b"http://x.org/p?q"), "/app/p?q");
        assert_eq!(path(&u, "/①".as_bytes()), "/app/%E2%91%A0");
        assert_eq!(path(&u, b"http://x.org?q"), "/app/?q");
        let u = Upstream::new("http://localhost").unwrap();
        assert_eq!(path(&u, b"/x"), "/x");
        assert_eq!(u.connect_target(), "localhost:80");
        assert!(Upstream::new("https://x").is_err());
        assert!(Upstream::new("http://").is_err());
        assert!(Upstream::new("http://[::1]:81").unwrap().addr.is_some());
    }

    fn head(raw: &str, was_head: bool) -> Result<ResponseHead, ExchangeError> {
        parse_response_head(Bytes::copy_from_slice(raw.as_bytes()), was_head)
    }

    #[test]
    fn frames_response_bodies() {
        let h = head("HTTP/1.1 200 OK\r\nContent-Length: 5\r\nX-A: b\r\n\r\n", false).unwrap();
        assert_eq!(
            (h.status, h.body, h.keep_alive, h.length),
            (200, BodyState::Length(5), true, Some(5))
        );
        assert_eq!(&h.headers[1].0[..], b"X-A");
        let h = head(
            "HTTP/1.1 200 OK\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n",
            false,
        )
        .unwrap();
        assert_eq!((h.body, h.length), (BodyState::ChunkSize, None));
        let h = head("HTTP/1.0 200 OK\r\n\r\n", false).unwrap();
        assert_eq!((h.body, h.keep_alive), (BodyState::UntilEof, false));
        let h = head(
            "HTTP/1.0 200 OK\r\nConnection: keep-alive\r\nContent-Length: 0\r\n\r\n",
            false,
        )
        .unwrap();
        assert!(h.keep_alive);
        let h = head(
            "HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 1\r\n\r\n",
            false,
        )
        .unwrap();
        assert!(!h.keep_alive);
        let h = head("HTTP/1.1 304 Not Modified\r\nContent-Length: 9\r\n\r\n", false).unwrap();
        assert_eq!((h.body, h.length, h.keep_alive), (BodyState::Done, None, true));
        let h = head("HTTP/1.1 200 OK\r\nContent-Length: 9\r\n\r\n", true).unwrap();
        assert_eq!(h.body, BodyState::Done);
        assert!(head(
            "HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n",
            false
        )
        .is_err());
        assert!(head("HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n", false).is_err());
        assert!(head("HTTX/1.1 200 OK\r\n\r\n", false).is_err());
        assert_eq!(find_response_end(b"HTTP/1.1 200\r\nA: b\r\n\r\nrest"), Some(22));
        assert_eq!(find_response_end(b"HTTP/1.1 200\nA: b\n\nrest"), Some(19));
        assert_eq!(find_response_end(b"HTTP/1.1 200\r\nA: b\r\n"), None);
    }
}
