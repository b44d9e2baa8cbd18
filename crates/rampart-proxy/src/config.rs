//! Settings of the proxy itself (the rule engine has its own, from the SecLang files).

use crate::http1::head::HeadLimits;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

/// Limits that protect the proxy from slow, huge or numerous requests.
#[derive(Debug, Clone)]
pub struct Limits {
    pub head: HeadLimits,
    /// Largest request head (request line plus all header lines).
    pub max_head_bytes: usize,
    /// Time a client gets to send a complete request head, counted from the moment the
    /// proxy starts waiting for it (slowloris defence; also the keep-alive idle time).
    pub header_read_timeout: Duration,
    /// Longest pause between two pieces of a request body.
    pub body_read_timeout: Duration,
    /// Longest wait for the upstream's response head.
    pub upstream_timeout: Duration,
    /// Longest pause while writing to a client that does not read.
    pub send_timeout: Duration,
    /// Concurrent client connections; more wait in the kernel's accept queue.
    pub max_connections: usize,
    /// Largest request body accepted at all, inspected or not (413 above it).
    pub max_request_body: u64,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            head: HeadLimits::default(),
            max_head_bytes: 64 * 1024,
            header_read_timeout: Duration::from_secs(20),
            body_read_timeout: Duration::from_secs(30),
            upstream_timeout: Duration::from_secs(60),
            send_timeout: Duration::from_secs(60),
            max_connections: 4096,
            max_request_body: 1 << 30,
        }
    }
}

/// PEM files for TLS on the listening socket.
#[derive(Debug, Clone)]
pub struct TlsFiles {
    pub cert: PathBuf,
    pub key: PathBuf,
}

#[derive(Debug, Clone)]
pub struct ProxyConfig {
    pub listen: SocketAddr,
    /// `http://host:port` (an optional path prefix is prepended to every request path).
    pub upstream: String,
    /// SecLang files in load order (directories and globs already expanded).
    pub rules: Vec<PathBuf>,
    pub error_log: Option<PathBuf>,
    pub audit_log: Option<PathBuf>,
    pub tls: Option<TlsFiles>,
    pub limits: Limits,
    /// Threads serving connections (0: [`crate::default_workers`], half the cores).
    pub workers: usize,
}
