//! `rampart waf`: the reverse proxy with the SecLang rule engine in front of a web app.

use anyhow::Context as _;
use rampart_guard::config::{Config, DEFAULT_PATH};
use rampart_proxy::{Limits, ProxyConfig, TlsFiles};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

#[derive(clap::Args)]
pub struct Args {
    /// Address to listen on, e.g. 0.0.0.0:80 or 127.0.0.1:8080 (or `[waf] listen`).
    #[arg(long, value_name = "ADDR")]
    listen: Option<SocketAddr>,
    /// The protected server, e.g. http://127.0.0.1:8080 (or `[waf] upstream`).
    #[arg(long, value_name = "URL")]
    upstream: Option<String>,
    /// SecLang files, directories (their *.conf, sorted) or globs, loaded in the order
    /// given. For the OWASP CRS: an engine base config, crs-setup.conf, then rules/
    /// (or `[waf] rules`).
    #[arg(long, value_name = "PATH", num_args = 1..)]
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
    /// Seconds a client gets to send a complete request head (slowloris defence; default 20).
    #[arg(long, value_name = "SECS")]
    header_timeout: Option<u64>,
    /// Largest request body accepted at all, in bytes (inspection limits come from the
    /// rules; default 1 GiB).
    #[arg(long, value_name = "BYTES")]
    max_body: Option<u64>,
    /// Threads serving connections (default: half the cores, at least one; the web server
    /// behind usually needs the others).
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u16).range(1..))]
    workers: Option<u16>,
    /// Configuration file with a `[waf]` table (default /etc/rampart/rampart.toml, if present).
    #[arg(long, value_name = "FILE")]
    config: Option<PathBuf>,
}

pub fn run(args: Args) -> anyhow::Result<i32> {
    let file = Config::load(args.config.as_deref())?.waf;
    let shown = args.config.clone().unwrap_or_else(|| PathBuf::from(DEFAULT_PATH));
    let missing = |flag: &str, key: &str| {
        anyhow::anyhow!(
            "no {flag}: give --{flag} or set `{key}` in the [waf] table of {}",
            shown.display()
        )
    };
    let listen = args
        .listen
        .or(file.listen)
        .ok_or_else(|| missing("listen", "listen"))?;
    let upstream = args
        .upstream
        .or(file.upstream)
        .ok_or_else(|| missing("upstream", "upstream"))?;
    let rule_args = if args.rules.is_empty() {
        file.rules
    } else {
        args.rules
    };
    if rule_args.is_empty() {
        return Err(missing("rules", "rules"));
    }
    let rules = rampart_proxy::paths::expand_rule_paths(&rule_args).context("rules")?;
    // Certificate and key come as a pair, from the command line or else from the file.
    let tls = match (args.tls_cert, args.tls_key) {
        (Some(cert), Some(key)) => Some(TlsFiles { cert, key }),
        _ => match (file.tls_cert, file.tls_key) {
            (Some(cert), Some(key)) => Some(TlsFiles { cert, key }),
            _ => None,
        },
    };
    let header_timeout = args
        .header_timeout
        .or(file.header_timeout.map(|s| s.0))
        .unwrap_or(20);
    let limits = Limits {
        header_read_timeout: Duration::from_secs(header_timeout.max(1)),
        max_request_body: args.max_body.or(file.max_body).unwrap_or(1 << 30),
        ..Limits::default()
    };
    let config = ProxyConfig {
        listen,
        upstream,
        rules,
        error_log: args.error_log.or(file.error_log),
        audit_log: args.audit_log.or(file.audit_log),
        tls,
        limits,
        workers: args.workers.map(usize::from).or(file.workers).unwrap_or(0),
    };
    rampart_proxy::run_blocking(config)?;
    Ok(0)
}
