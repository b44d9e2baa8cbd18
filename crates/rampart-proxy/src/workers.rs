//! Connection workers: threads (half the cores by default, see
//! [`crate::default_workers`]), each running its own single-threaded tokio runtime, each
//! with its own pool of upstream connections.
//!
//! A request is a short burst of CPU (the rule engine) between a read from the client, a
//! write and a read on the upstream connection, and a write back. On tokio's work-stealing
//! runtime every I/O readiness event may wake another worker thread (a futex or eventfd
//! write and a context switch) and a connection's task migrates between threads, taking
//! its cache lines with it. Here a connection lives on one thread from accept to close,
//! like nginx's worker processes: the acceptor hands each new connection to the worker
//! with the fewest open ones, and nothing else crosses threads except the shared,
//! read-only rule set.

use crate::conn::{self, Shared};
use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use tokio::sync::{mpsc, OwnedSemaphorePermit};

/// A connection the acceptor hands to a worker.
pub(crate) struct Accepted {
    pub stream: std::net::TcpStream,
    pub client: SocketAddr,
    pub local: SocketAddr,
    /// The connection's slot under `Limits::max_connections`, freed when it closes.
    pub permit: OwnedSemaphorePermit,
}

/// The acceptor's side of one worker.
struct Worker {
    queue: mpsc::UnboundedSender<Accepted>,
    open: Arc<AtomicUsize>,
}

/// The acceptor's handle on all workers. Dropping it lets each worker finish the
/// connections it has and then end.
pub(crate) struct Workers {
    workers: Vec<Worker>,
}

impl Workers {
    /// Starts `n` worker threads (at least one). `shared` builds each worker's own
    /// `Shared` (its own upstream pool; rules and logs are the same objects for all).
    pub fn start(
        n: usize,
        shared: impl Fn() -> Arc<Shared>,
        tls: Option<tokio_rustls::TlsAcceptor>,
    ) -> std::io::Result<Workers> {
        let mut workers = Vec::with_capacity(n.max(1));
        for i in 0..n.max(1) {
            let (queue, inbox) = mpsc::unbounded_channel();
            let open = Arc::new(AtomicUsize::new(0));
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()?;
            let (shared, tls, count) = (shared(), tls.clone(), open.clone());
            std::thread::Builder::new()
                .name(format!("rampart-waf-{i}"))
                .spawn(move || rt.block_on(run(inbox, shared, tls, count)))?;
            workers.push(Worker { queue, open });
        }
        Ok(Workers { workers })
    }

    /// Hands a connection to the worker with the fewest open connections, the first one on
    /// a tie: a burst of new connections still spreads evenly (the count goes up here, at
    /// once), and a lightly loaded proxy keeps one warm worker and one upstream pool busy.
    pub fn dispatch(&self, conn: Accepted) {
        let pick = (0..self.workers.len())
            .min_by_key(|&i| self.workers[i].open.load(Ordering::Relaxed))
            .unwrap_or(0);
        let w = &self.workers[pick];
        w.open.fetch_add(1, Ordering::Relaxed);
        if let Err(mpsc::error::SendError(lost)) = w.queue.send(conn) {
            // The worker thread is gone (it cannot end while its queue is open unless it
            // panicked): the connection is closed rather than left hanging.
            w.open.fetch_sub(1, Ordering::Relaxed);
            tracing::error!(
                "Worker {pick} is gone; closing the connection from {}.",
                lost.client
            );
        }
    }
}

async fn run(
    mut inbox: mpsc::UnboundedReceiver<Accepted>,
    shared: Arc<Shared>,
    tls: Option<tokio_rustls::TlsAcceptor>,
    open: Arc<AtomicUsize>,
) {
    let mut conns = tokio::task::JoinSet::new();
    while let Some(a) = inbox.recv().await {
        while conns.try_join_next().is_some() {}
        let stream = match tokio::net::TcpStream::from_std(a.stream) {
            Ok(s) => s,
            Err(e) => {
                open.fetch_sub(1, Ordering::Relaxed);
                tracing::warn!("Cannot take over the connection from {}: {e}.", a.client);
                continue;
            }
        };
        let (shared, tls, open) = (shared.clone(), tls.clone(), Open(open.clone()));
        conns.spawn(async move {
            let _slots = (a.permit, open);
            serve(stream, a.client, a.local, tls, shared).await;
        });
    }
    // The acceptor stopped: connections in progress finish on their own.
    while conns.join_next().await.is_some() {}
}

/// Counts a connection as open until it ends, however it ends.
struct Open(Arc<AtomicUsize>);

impl Drop for Open {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::Relaxed);
    }
}

async fn serve(
    stream: tokio::net::TcpStream,
    client: SocketAddr,
    local: SocketAddr,
    tls: Option<tokio_rustls::TlsAcceptor>,
    shared: Arc<Shared>,
) {
    match tls {
        None => conn::serve(stream, client, local, false, shared).await,
        Some(acceptor) => {
            let handshake = tokio::time::timeout(shared.limits.header_read_timeout, acceptor.accept(stream));
            match handshake.await {
                Ok(Ok(tls_stream)) => conn::serve(tls_stream, client, local, true, shared).await,
                Ok(Err(e)) => tracing::debug!("TLS handshake with {client} failed: {e}."),
                Err(_) => tracing::debug!("TLS handshake with {client} timed out."),
            }
        }
    }
}
