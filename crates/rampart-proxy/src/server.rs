//! Listening, accepting, TLS, and the signal that reloads the rules.

use crate::config::ProxyConfig;
use crate::conn::Shared;
use crate::logs::{apache_timestamp, LogFile};
use crate::rules::Rules;
use crate::upstream::Upstream;
use crate::workers::{Accepted, Workers};
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::SystemTime;
use tokio::net::TcpListener;
use tokio::sync::Semaphore;

#[derive(Debug, thiserror::Error)]
pub enum ProxyError {
    #[error("cannot listen on {addr}: {source}")]
    Listen {
        addr: SocketAddr,
        source: std::io::Error,
    },
    #[error("cannot open log file {path}: {source}")]
    Log { path: String, source: std::io::Error },
    #[error(transparent)]
    Upstream(#[from] crate::upstream::UpstreamError),
    #[error(transparent)]
    Tls(#[from] crate::tls::TlsError),
    #[error("cannot load rules")]
    Rules(#[from] rampart_waf::LoadError),
    #[error("cannot start the runtime")]
    Runtime(#[source] std::io::Error),
}

/// A proxy accepting connections in the background of the current tokio runtime.
pub struct RunningProxy {
    pub local_addr: SocketAddr,
    shared: Arc<Shared>,
    task: tokio::task::JoinHandle<()>,
}

impl RunningProxy {
    pub fn rules(&self) -> &Arc<Rules> {
        &self.shared.rules
    }

    /// Reloads the rules off the async workers; on error the old rules stay and the
    /// error (with file, line and column) goes to the error log and to tracing.
    pub async fn reload(&self) -> Result<(), String> {
        reload(self.shared.clone()).await
    }

    /// Stops accepting (connections in progress finish on their own).
    pub fn stop(&self) {
        self.task.abort();
    }
}

impl Drop for RunningProxy {
    fn drop(&mut self) {
        self.task.abort();
    }
}

async fn reload(shared: Arc<Shared>) -> Result<(), String> {
    let rules = shared.rules.clone();
    let result = tokio::task::spawn_blocking(move || rules.reload()).await;
    let outcome = match result {
        Ok(Ok(())) => Ok(()),
        Ok(Err(e)) => Err(e.to_string()),
        Err(e) => Err(format!("reload task failed: {e}")),
    };
    for log in [&shared.error_log, &shared.audit_log].into_iter().flatten() {
        if let Err(e) = log.reopen() {
            tracing::warn!("Cannot reopen a log file: {e}.");
        }
    }
    let ts = apache_timestamp(SystemTime::now());
    let pid = std::process::id();
    match &outcome {
        Ok(()) => {
            tracing::info!("Rules reloaded (generation {}).", shared.rules.generation());
            if let Some(log) = &shared.error_log {
                log.write_lines(&[format!("{ts} [rampart:notice] [pid {pid}] Rules reloaded.")]);
            }
        }
        Err(e) => {
            tracing::error!("Rule reload failed, the running rules stay in force: {e}.");
            if let Some(log) = &shared.error_log {
                log.write_lines(&[format!(
                    "{ts} [rampart:error] [pid {pid}] Rule reload failed, the running rules stay in force: {e}"
                )]);
            }
        }
    }
    outcome
}

/// Binds and starts serving with already loaded rules: the acceptor runs on the current
/// tokio runtime, the connections on `config.workers` threads of their own.
pub async fn start(config: &ProxyConfig, rules: Arc<Rules>) -> Result<RunningProxy, ProxyError> {
    let open = |p: &Option<std::path::PathBuf>| -> Result<Option<Arc<LogFile>>, ProxyError> {
        p.as_ref()
            .map(|p| {
                LogFile::open(p).map(Arc::new).map_err(|source| ProxyError::Log {
                    path: p.display().to_string(),
                    source,
                })
            })
            .transpose()
    };
    // What the workers' own copies are made from, and what a reload works on.
    let shared = Arc::new(Shared {
        limits: config.limits.clone(),
        rules,
        upstream: Upstream::new(&config.upstream)?,
        error_log: open(&config.error_log)?,
        audit_log: open(&config.audit_log)?,
    });
    let tls = match &config.tls {
        Some(t) => Some(crate::tls::acceptor(&t.cert, &t.key)?),
        None => None,
    };
    let listener = TcpListener::bind(config.listen)
        .await
        .map_err(|source| ProxyError::Listen {
            addr: config.listen,
            source,
        })?;
    let local_addr = listener.local_addr().map_err(|source| ProxyError::Listen {
        addr: config.listen,
        source,
    })?;
    let n = match config.workers {
        0 => default_workers(),
        n => n,
    };
    let per_worker = || {
        Arc::new(Shared {
            limits: shared.limits.clone(),
            rules: shared.rules.clone(),
            upstream: shared.upstream.with_own_pool(),
            error_log: shared.error_log.clone(),
            audit_log: shared.audit_log.clone(),
        })
    };
    let workers = Workers::start(n, per_worker, tls).map_err(ProxyError::Runtime)?;
    let task = tokio::spawn(accept_loop(listener, shared.limits.max_connections, workers));
    Ok(RunningProxy {
        local_addr,
        shared,
        task,
    })
}

/// Half the cores, at least one. The protected web server usually runs on the same host and
/// needs the other half; and on a shared core a worker with more connections sleeps and
/// wakes less often per request. On the 2-core bench machine (wrk, Apache and the proxy on
/// the same cores) one worker served as many requests/s as two at 20 % less CPU per
/// request and without two workers' 18–20 ms p99 stalls (bench/waf/README.md). A host that
/// only runs the WAF can give `--workers` its core count.
pub fn default_workers() -> usize {
    std::thread::available_parallelism().map_or(1, |n| (n.get() / 2).max(1))
}

async fn accept_loop(listener: TcpListener, max_connections: usize, workers: Workers) {
    let slots = Arc::new(Semaphore::new(max_connections));
    loop {
        let Ok(permit) = slots.clone().acquire_owned().await else {
            return;
        };
        let (stream, client) = match listener.accept().await {
            Ok(s) => s,
            Err(e) => {
                // EMFILE and friends: back off instead of spinning.
                tracing::warn!("Accept failed: {e}.");
                tokio::time::sleep(std::time::Duration::from_millis(50)).await;
                continue;
            }
        };
        let _ = stream.set_nodelay(true);
        let local = stream
            .local_addr()
            .unwrap_or_else(|_| listener.local_addr().expect("bound listener"));
        match stream.into_std() {
            Ok(stream) => workers.dispatch(Accepted {
                stream,
                client,
                local,
                permit,
            }),
            Err(e) => tracing::warn!("Cannot hand over the connection from {client}: {e}."),
        }
    }
}

/// Reloads the rules on every SIGHUP for as long as the proxy runs.
pub fn reload_on_sighup(proxy: &RunningProxy) -> std::io::Result<tokio::task::JoinHandle<()>> {
    let mut hup = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::hangup())?;
    let shared = proxy.shared.clone();
    Ok(tokio::spawn(async move {
        while hup.recv().await.is_some() {
            let _ = reload(shared.clone()).await;
        }
    }))
}

/// Loads the rules, serves until SIGINT/SIGTERM, reloads on SIGHUP. For the CLI.
pub fn run_blocking(config: ProxyConfig) -> Result<(), ProxyError> {
    // The acceptor, the signals and rule loading: the connections have threads of their own.
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(ProxyError::Runtime)?;
    rt.block_on(async move {
        // Cheap checks first: a bad upstream URL should not wait for the rules to compile.
        Upstream::new(&config.upstream)?;
        let paths = config.rules.clone();
        let rules = tokio::task::spawn_blocking(move || Rules::load(paths))
            .await
            .map_err(|e| ProxyError::Runtime(std::io::Error::other(e)))??;
        let proxy = start(&config, Arc::new(rules)).await?;
        let _hup = reload_on_sighup(&proxy).map_err(ProxyError::Runtime)?;
        tracing::info!("Listening on {} for {}.", proxy.local_addr, config.upstream);
        let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
            .map_err(ProxyError::Runtime)?;
        tokio::select! {
            _ = tokio::signal::ctrl_c() => {}
            _ = term.recv() => {}
        }
        tracing::info!("Shutting down.");
        Ok(())
    })
}
