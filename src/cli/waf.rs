//! `rampart waf`: the reverse proxy with the SecLang rule engine in front of a web app.

use anyhow::Context as _;
use rampart_proxy::{Limits, ProxyConfig, TlsFiles};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

#[derive(clap::Args)]
pub struct Args {
    /// Address to listen on, e.g. 0.0.0.0:80 or 127.0.0.1:8080.
    #[arg(long, value_name = "ADDR")]
    listen: SocketAddr,
    /// The protected server, e.g. http://127.0.0.1:8080.
    #[arg(long, value_name = "URL")]
    upstream: String,
    /// SecLang files, directories (their *.conf, sorted) or globs, loaded in the order
    /// given. For the OWASP CRS: an engine base config, crs-setup.conf, then rules/.
    #[arg(long, value_name = "PATH", num_args = 1.., required = true)]
    rules: Vec<String>,
    /// ModSecurity-style error log (one line per matched rule with [id "…"]).
    #[arg(long, value_name = "FILE")]
    error_log: Option<PathBuf>,
    /// JSON audit log, one transaction per line.
    #[arg(long, value_name = "FILE")]
    audit_log: Option<PathBuf>,
    /// PEM certificate chain: serve HTTPS.
    #[arg(long, value_name = "FILE", requires = "tls_key")]
    tls_cert: Option<PathBuf>,
    /// PEM private key for --tls-cert.
    #[arg(long, value_name = "FILE", requires = "tls_cert")]
    tls_key: Option<PathBuf>,
    /// Seconds a client gets to send a complete request head (slowloris defence).
    #[arg(long, value_name = "SECS", default_value_t = 20)]
    header_timeout: u64,
    /// Largest request body accepted at all, in bytes (inspection limits come from the rules).
    #[arg(long, value_name = "BYTES", default_value_t = 1 << 30)]
    max_body: u64,
}

pub fn run(args: Args) -> anyhow::Result<i32> {
    let rules = rampart_proxy::paths::expand_rule_paths(&args.rules).context("--rules")?;
    let tls = match (args.tls_cert, args.tls_key) {
        (Some(cert), Some(key)) => Some(TlsFiles { cert, key }),
        _ => None,
    };
    let limits = Limits {
        header_read_timeout: Duration::from_secs(args.header_timeout.max(1)),
        max_request_body: args.max_body,
        ..Limits::default()
    };
    let config = ProxyConfig {
        listen: args.listen,
        upstream: args.upstream,
        rules,
        error_log: args.error_log,
        audit_log: args.audit_log,
        tls,
        limits,
    };
    rampart_proxy::run_blocking(config)?;
    Ok(0)
}
