//! One client connection: read requests, run the WAF phases around the upstream
//! exchange, write responses, log.

use crate::config::Limits;
use crate::http1::head::{parse_head_bytes, BodyFraming, RequestHead};
use crate::http1::response::{self, head_bytes_into, is_hop_by_hop, ResponseFraming};
use crate::http1::wire::{BodyState, Wire, WireError};
use crate::logs::{apache_timestamp, LogFile};
use crate::rules::Rules;
use crate::upstream::{self, ExchangeError, ResponseHead, UpConn, Upstream};
use bytes::{Bytes, BytesMut};
use rampart_waf::{AuditEngineMode, ConnInfo, Disruptive, Engine, Intervention, Transaction, TxBuffers};
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, SystemTime};
use tokio::io::{AsyncRead, AsyncWrite, AsyncWriteExt};
use tokio::net::tcp::OwnedWriteHalf;
use tokio::time::timeout;

/// Everything a connection needs: one per worker thread. The rules and the logs are the
/// same objects in all of them; the upstream pool is the worker's own.
pub struct Shared {
    pub limits: Limits,
    pub rules: Arc<Rules>,
    pub upstream: Upstream,
    pub error_log: Option<Arc<LogFile>>,
    pub audit_log: Option<Arc<LogFile>>,
}

struct Peer {
    info: ConnInfo,
    /// The client's address as text, for X-Forwarded-For.
    ip: String,
    tls: bool,
}

/// What happens to the connection after an exchange.
#[derive(Debug, PartialEq, Eq)]
enum Next {
    KeepAlive,
    Close,
}

pub async fn serve<S>(io: S, client: SocketAddr, local: SocketAddr, tls: bool, shared: Arc<Shared>)
where
    S: AsyncRead + AsyncWrite + Unpin + Send,
{
    let peer = Peer {
        info: ConnInfo {
            client_ip: client.ip(),
            client_port: client.port(),
            server_ip: local.ip(),
            server_port: local.port(),
        },
        ip: client.ip().to_string(),
        tls,
    };
    let (r, mut w) = tokio::io::split(io);
    let mut wire = Wire::new(r);
    let limits = &shared.limits;
    // The engine's scratch buffers pass from one transaction to the next on this connection.
    let mut buffers = TxBuffers::default();
    loop {
        let raw = match timeout(limits.header_read_timeout, wire.read_head(limits.max_head_bytes)).await {
            Err(_) => {
                // Slow or idle client: a partial request gets a 408, an idle one just closes.
                if wire.has_buffered() {
                    let page = response::status_page(408, "The request head did not arrive in time.");
                    let _ = send(&mut w, &response::simple(1, 408, &[], &page, false), limits).await;
                }
                break;
            }
            Ok(Ok(None)) => break,
            Ok(Ok(Some(raw))) => raw,
            Ok(Err(WireError::HeadTooLarge(_))) => {
                let page = response::status_page(431, "The request head is too large.");
                let _ = send(&mut w, &response::simple(1, 431, &[], &page, false), limits).await;
                break;
            }
            Ok(Err(_)) => break,
        };
        let head = match parse_head_bytes(&raw, &limits.head) {
            Ok(h) => h,
            Err(e) => {
                tracing::debug!("Refused a malformed request from {client}: {}.", e.reason);
                let page = response::status_page(e.status, "The request could not be understood.");
                let _ = send(&mut w, &response::simple(1, e.status, &[], &page, false), limits).await;
                break;
            }
        };
        match exchange(&mut wire, &mut w, head, &peer, &shared, &mut buffers).await {
            Next::KeepAlive => continue,
            Next::Close => break,
        }
    }
    let _ = timeout(Duration::from_secs(1), w.shutdown()).await;
}

async fn send<W: AsyncWrite + Unpin>(w: &mut W, bytes: &[u8], limits: &Limits) -> std::io::Result<()> {
    match timeout(limits.send_timeout, w.write_all(bytes)).await {
        Ok(r) => r,
        Err(_) => Err(std::io::ErrorKind::TimedOut.into()),
    }
}

/// Runs one request/response exchange through phases 1–5.
async fn exchange<R, W>(
    wire: &mut Wire<R>,
    w: &mut W,
    head: RequestHead,
    peer: &Peer,
    shared: &Shared,
    buffers: &mut TxBuffers,
) -> Next
where
    R: AsyncRead + Unpin + Send,
    W: AsyncWrite + Unpin + Send,
{
    let engine = shared.rules.current();
    let mut tx = engine.transaction_reusing(peer.info, std::mem::take(buffers));
    let next = run_phases(wire, w, head, peer, shared, &engine, &mut tx).await;
    *buffers = tx.into_buffers();
    next
}

/// The exchange proper, on a transaction whose buffers the connection passes on.
async fn run_phases<R, W>(
    wire: &mut Wire<R>,
    w: &mut W,
    head: RequestHead,
    peer: &Peer,
    shared: &Shared,
    engine: &Engine,
    tx: &mut Transaction<'_>,
) -> Next
where
    R: AsyncRead + Unpin + Send,
    W: AsyncWrite + Unpin + Send,
{
    let limits = &shared.limits;
    // Raw bytes: the rules see the request target exactly as sent.
    tx.process_uri_bytes(head.method.as_bytes(), &head.target, head.version.as_bytes());
    for (n, v) in &head.headers {
        tx.add_request_header(n, v);
    }
    let minor = if head.major == 1 && head.minor == 0 { 0 } else { 1 };
    let mut ctx = Ctx {
        w,
        minor,
        http09: head.is_http09(),
        shared,
        status: 0,
    };

    // Phase 1.
    if let Some(iv) = tx.process_request_headers() {
        return ctx.intervene(tx, iv).await;
    }

    // Request body: buffered (and inspected) up to the engine's limit, streamed after it.
    let mut state = BodyState::new(head.framing);
    if let BodyFraming::Length(n) = head.framing {
        if n > limits.max_request_body {
            return ctx.error(tx, 413, "The request body is too large.").await;
        }
    }
    if head.expect_continue
        && state != BodyState::Done
        && ctx.write(b"HTTP/1.1 100 Continue\r\n\r\n").await.is_err()
    {
        ctx.finish(tx);
        return Next::Close;
    }
    let inspect = tx.request_body_wanted();
    let buffer_limit = if inspect {
        engine.config().request_body_limit
    } else {
        0
    };
    let mut prefix = BytesMut::new();
    let mut total: u64 = 0;
    let mut overflow: Option<Bytes> = None;
    while state != BodyState::Done {
        let want = if prefix.len() < buffer_limit {
            (buffer_limit - prefix.len()).min(64 * 1024)
        } else {
            64 * 1024
        };
        let chunk = match timeout(limits.body_read_timeout, wire.read_body(&mut state, want)).await {
            Err(_) => {
                return ctx
                    .error(tx, 408, "The request body did not arrive in time.")
                    .await
            }
            Ok(Err(e)) => {
                tracing::debug!("Bad request body: {e}.");
                return ctx.error(tx, 400, "The request body is malformed.").await;
            }
            Ok(Ok(None)) => break,
            Ok(Ok(Some(c))) => c,
        };
        total += chunk.len() as u64;
        if total > limits.max_request_body {
            return ctx.error(tx, 413, "The request body is too large.").await;
        }
        if inspect {
            if let Some(iv) = tx.append_request_body(&chunk) {
                return ctx.intervene(tx, iv).await;
            }
        }
        if prefix.len() + chunk.len() <= buffer_limit {
            prefix.extend_from_slice(&chunk);
        } else {
            // Past the inspection limit (ProcessPartial, or no inspection): stream the rest.
            overflow = Some(chunk);
            break;
        }
    }
    // Phase 2.
    if let Some(iv) = tx.process_request_body() {
        return ctx.intervene(tx, iv).await;
    }

    // Forward.
    let streaming = overflow.is_some();
    let length = match head.framing {
        BodyFraming::Length(n) => Some(n),
        BodyFraming::Chunked if !streaming => Some(prefix.len() as u64),
        BodyFraming::None if matches!(head.method.as_str(), "POST" | "PUT" | "PATCH") => Some(0),
        BodyFraming::None | BodyFraming::Chunked => None,
    };
    let chunked_up = streaming && length.is_none();
    let mut req = Vec::with_capacity(512 + if streaming { 0 } else { prefix.len() });
    request_head(&mut req, &head, peer, &shared.upstream, length, chunked_up);
    let was_head = head.method == "HEAD";
    let sent = if !streaming {
        req.extend_from_slice(&prefix);
        round_trip(&shared.upstream, &req, was_head, idempotent(&head.method), limits)
            .await
            .map(|(up, rhead)| (up, rhead, true))
    } else {
        match shared.upstream.checkout().await {
            Err(e) => Err(e),
            Ok(mut up) => {
                let first = [prefix.freeze(), overflow.unwrap_or_default()];
                let pump = pump_body(wire, &mut state, &mut up.wr, req, first, chunked_up, limits);
                let read = timeout(limits.upstream_timeout, upstream::read_head(&mut up.rd, was_head));
                let (pumped, resp) = tokio::join!(pump, read);
                match resp {
                    Err(_) => Err(ExchangeError::Timeout),
                    Ok(Err(e)) if pumped.is_err() => {
                        tracing::debug!("No upstream answer after a failed request body: {e}.");
                        return ctx.error(tx, 400, "The request body is malformed.").await;
                    }
                    Ok(r) => r.map(|h| (up, h, pumped.is_ok() && state == BodyState::Done)),
                }
            }
        }
    };
    let (mut up, rhead, body_consumed) = match sent {
        Ok(r) => r,
        Err(ExchangeError::Timeout) => {
            return ctx
                .error(tx, 504, "The upstream server did not answer in time.")
                .await
        }
        Err(e) => {
            tracing::warn!("Upstream request failed: {e}.");
            return ctx
                .error(tx, 502, "The upstream server could not be reached.")
                .await;
        }
    };
    // The upstream connection can serve another request once this response is read whole.
    let reusable = rhead.keep_alive && body_consumed;

    // Phase 3.
    let status = rhead.status;
    for (n, v) in &rhead.headers {
        tx.add_response_header(n, v);
    }
    if let Some(iv) = tx.process_response_headers(status, "HTTP/1.1") {
        return ctx.intervene(tx, iv).await;
    }

    // Phase 4: buffer (and inspect) up to the engine's response limit, stream the rest.
    // A small body of known length is buffered even when not inspected, so that head and
    // body leave in one write.
    let no_body = was_head || (100..200).contains(&status) || status == 204 || status == 304;
    let mut rstate = rhead.body;
    // The buffered pieces as read (no copy: most small bodies arrive in one piece).
    let mut rprefix = Pieces::default();
    let inspect = !no_body && tx.response_body_wanted();
    let small = rhead.length.is_some_and(|n| n <= SMALL_BODY);
    let mut rdone = rstate == BodyState::Done;
    if !rdone && (inspect || small) {
        let limit = if inspect {
            engine.config().response_body_limit
        } else {
            SMALL_BODY as usize
        };
        while rprefix.len() <= limit {
            match timeout(limits.upstream_timeout, up.rd.read_body(&mut rstate, 64 * 1024)).await {
                Err(_) => return ctx.error(tx, 504, "The upstream response stalled.").await,
                Ok(Ok(None)) => {
                    rdone = true;
                    break;
                }
                Ok(Err(e)) => {
                    tracing::warn!("Upstream response body failed: {e}.");
                    return ctx.error(tx, 502, "The upstream response was cut.").await;
                }
                Ok(Ok(Some(data))) => {
                    if inspect {
                        if let Some(iv) = tx.append_response_body(&data) {
                            return ctx.intervene(tx, iv).await;
                        }
                    }
                    rprefix.push(data);
                }
            }
        }
    }
    if let Some(iv) = tx.process_response_body() {
        return ctx.intervene(tx, iv).await;
    }
    // Write the response.
    let mut keep_alive = head.keep_alive && body_consumed;
    let mut headers: Vec<(Bytes, Bytes)> = Vec::with_capacity(rhead.headers.len());
    for (n, v) in rhead.headers {
        if is_hop_by_hop(&n) || (!no_body && n.eq_ignore_ascii_case(b"content-length")) {
            continue;
        }
        headers.push((n, v));
    }
    let framing = if no_body {
        ResponseFraming::NoBody
    } else if rdone {
        ResponseFraming::Length(rprefix.len() as u64)
    } else if let BodyState::Length(n) = rstate {
        ResponseFraming::Length(rprefix.len() as u64 + n)
    } else if minor >= 1 {
        ResponseFraming::Chunked
    } else {
        keep_alive = false;
        ResponseFraming::UntilClose
    };
    ctx.status = status;
    let chunked = framing == ResponseFraming::Chunked;
    let mut out = Vec::with_capacity(if no_body { 0 } else { rprefix.len() } + 512);
    if !ctx.http09 {
        head_bytes_into(&mut out, minor, status, &headers, framing, keep_alive);
    }
    if !no_body && !rprefix.is_empty() {
        // Head and buffered body in one write: one segment for small pages.
        if chunked {
            out.extend_from_slice(format!("{:x}\r\n", rprefix.len()).as_bytes());
        }
        for piece in &rprefix.0 {
            out.extend_from_slice(piece);
        }
        if chunked {
            out.extend_from_slice(b"\r\n");
        }
    }
    let next = if keep_alive && !ctx.http09 {
        Next::KeepAlive
    } else {
        Next::Close
    };
    // Phase 5 and the log lines go out before the last byte of the response, so a client
    // that has read the whole response also finds the transaction in the logs.
    if no_body || rdone {
        if reusable {
            shared.upstream.checkin(up);
        }
        ctx.finish(tx);
        return if ctx.write(&out).await.is_ok() {
            next
        } else {
            Next::Close
        };
    }
    if !out.is_empty() && ctx.write(&out).await.is_err() {
        ctx.finish(tx);
        return Next::Close;
    }
    // Stream the rest, one piece behind, so the final piece can wait for the logs.
    let mut held: Option<Bytes> = None;
    loop {
        match timeout(limits.upstream_timeout, up.rd.read_body(&mut rstate, 64 * 1024)).await {
            Ok(Ok(None)) => break,
            Ok(Ok(Some(data))) => {
                if data.is_empty() {
                    continue;
                }
                if let Some(prev) = held.replace(data) {
                    if ctx.write_body(&prev, chunked).await.is_err() {
                        ctx.finish(tx);
                        return Next::Close;
                    }
                }
            }
            // The head is out already: all we can do is cut the connection.
            Ok(Err(_)) | Err(_) => {
                ctx.finish(tx);
                return Next::Close;
            }
        }
    }
    if reusable {
        shared.upstream.checkin(up);
    }
    ctx.finish(tx);
    let mut last = Vec::new();
    if let Some(data) = held {
        if chunked {
            push_chunk(&mut last, &data);
        } else {
            last.extend_from_slice(&data);
        }
    }
    if chunked {
        last.extend_from_slice(b"0\r\n\r\n");
    }
    if !last.is_empty() && ctx.write(&last).await.is_err() {
        return Next::Close;
    }
    next
}

/// Buffered pieces of a body.
#[derive(Default)]
struct Pieces(Vec<Bytes>, usize);

impl Pieces {
    fn push(&mut self, b: Bytes) {
        self.1 += b.len();
        self.0.push(b);
    }

    fn len(&self) -> usize {
        self.1
    }

    fn is_empty(&self) -> bool {
        self.1 == 0
    }
}

/// Bodies of known length up to this size are read whole before the response is written.
const SMALL_BODY: u64 = 64 * 1024;

fn push_chunk(out: &mut Vec<u8>, data: &[u8]) {
    out.extend_from_slice(format!("{:x}\r\n", data.len()).as_bytes());
    out.extend_from_slice(data);
    out.extend_from_slice(b"\r\n");
}

/// Methods a client may repeat without changing anything (RFC 9110 §9.2.2): only these are
/// sent again after a pooled connection turned out to be closed by the server.
fn idempotent(method: &str) -> bool {
    matches!(method, "GET" | "HEAD" | "OPTIONS" | "TRACE" | "PUT" | "DELETE")
}

/// Sends a fully buffered request and reads the response head. A pooled connection the
/// server closed meanwhile shows up as a close or reset before any response byte; then
/// the request goes out once more on a new connection when repeating it is safe.
async fn round_trip(
    upstream: &Upstream,
    request: &[u8],
    was_head: bool,
    idempotent: bool,
    limits: &Limits,
) -> Result<(UpConn, ResponseHead), ExchangeError> {
    let mut up = upstream.checkout().await?;
    loop {
        let written = up.send(request, limits.send_timeout).await;
        let write_failed = written.is_err();
        let result = match written {
            Ok(()) => match timeout(limits.upstream_timeout, upstream::read_head(&mut up.rd, was_head)).await
            {
                Err(_) => Err(ExchangeError::Timeout),
                Ok(r) => r,
            },
            Err(e) => Err(e),
        };
        match result {
            Ok(h) => return Ok((up, h)),
            Err(e) if up.reused && e.is_stale_connection() && (idempotent || write_failed) => {
                tracing::debug!("Pooled upstream connection was closed ({e}); sending again.");
                up = upstream.connect().await?;
            }
            Err(e) => return Err(e),
        }
    }
}

/// Sends the request head and what is buffered of the body, then feeds the rest of the
/// body from the client while the upstream may already answer.
async fn pump_body<R: AsyncRead + Unpin>(
    wire: &mut Wire<R>,
    state: &mut BodyState,
    up: &mut OwnedWriteHalf,
    head: Vec<u8>,
    first: [Bytes; 2],
    chunked: bool,
    limits: &Limits,
) -> Result<(), ()> {
    let mut out = head;
    for b in &first {
        if b.is_empty() {
            continue;
        }
        if chunked {
            push_chunk(&mut out, b);
        } else {
            out.extend_from_slice(b);
        }
    }
    send(up, &out, limits).await.map_err(|_| ())?;
    let mut total = 0u64;
    loop {
        match timeout(limits.body_read_timeout, wire.read_body(state, 64 * 1024)).await {
            Ok(Ok(None)) => {
                if chunked {
                    send(up, b"0\r\n\r\n", limits).await.map_err(|_| ())?;
                }
                return Ok(());
            }
            Ok(Ok(Some(chunk))) => {
                total += chunk.len() as u64;
                if total > limits.max_request_body {
                    return Err(());
                }
                let sent = if chunked {
                    let mut buf = Vec::with_capacity(chunk.len() + 16);
                    push_chunk(&mut buf, &chunk);
                    send(up, &buf, limits).await
                } else {
                    send(up, &chunk, limits).await
                };
                sent.map_err(|_| ())?;
            }
            Ok(Err(_)) | Err(_) => return Err(()),
        }
    }
}

/// Whether a header named `name` is listed in the client's Connection header (which makes
/// it hop-by-hop too).
fn listed_in_connection(connection: Option<&[u8]>, name: &[u8]) -> bool {
    connection.is_some_and(|v| {
        v.split(|&c| c == b',')
            .any(|t| t.trim_ascii().eq_ignore_ascii_case(name))
    })
}

/// Serialises the request head for the upstream: the client's headers as sent, minus the
/// hop-by-hop ones, plus X-Forwarded-For/-Proto and the body framing.
fn request_head(
    out: &mut Vec<u8>,
    head: &RequestHead,
    peer: &Peer,
    upstream: &Upstream,
    length: Option<u64>,
    chunked: bool,
) {
    let method = if head.is_http09() {
        "GET"
    } else {
        head.method.as_str()
    };
    out.extend_from_slice(method.as_bytes());
    out.push(b' ');
    upstream.path_for(&head.target, out);
    out.extend_from_slice(b" HTTP/1.1\r\n");
    let connection = head.header("connection");
    let mut xff: Option<&[u8]> = None;
    let mut has_host = false;
    for (n, v) in &head.headers {
        if is_hop_by_hop(n)
            || n.eq_ignore_ascii_case(b"content-length")
            || n.eq_ignore_ascii_case(b"expect")
            || listed_in_connection(connection, n)
        {
            continue;
        }
        if n.eq_ignore_ascii_case(b"x-forwarded-for") {
            xff = Some(v);
            continue;
        }
        has_host |= n.eq_ignore_ascii_case(b"host");
        push_header(out, n, v);
    }
    if !has_host {
        push_header(out, b"Host", upstream.authority.as_bytes());
    }
    out.extend_from_slice(b"X-Forwarded-For: ");
    if let Some(prev) = xff.filter(|p| !p.trim_ascii().is_empty()) {
        out.extend_from_slice(prev);
        out.extend_from_slice(b", ");
    }
    out.extend_from_slice(peer.ip.as_bytes());
    out.extend_from_slice(b"\r\n");
    push_header(
        out,
        b"X-Forwarded-Proto",
        if peer.tls { b"https" } else { b"http" },
    );
    if let Some(n) = length {
        use std::io::Write;
        let _ = write!(out, "Content-Length: {n}\r\n");
    } else if chunked {
        push_header(out, b"Transfer-Encoding", b"chunked");
    }
    out.extend_from_slice(b"\r\n");
}

fn push_header(out: &mut Vec<u8>, name: &[u8], value: &[u8]) {
    out.extend_from_slice(name);
    out.extend_from_slice(b": ");
    out.extend_from_slice(value);
    out.extend_from_slice(b"\r\n");
}
/// The client side of an exchange: writing and the end of a transaction.
struct Ctx<'a, W> {
    w: &'a mut W,
    minor: u8,
    http09: bool,
    shared: &'a Shared,
    status: u16,
}

impl<W: AsyncWrite + Unpin> Ctx<'_, W> {
    async fn write(&mut self, bytes: &[u8]) -> std::io::Result<()> {
        send(self.w, bytes, &self.shared.limits).await
    }

    async fn write_body(&mut self, data: &[u8], chunked: bool) -> std::io::Result<()> {
        if chunked {
            let mut buf = Vec::with_capacity(data.len() + 16);
            buf.extend_from_slice(format!("{:x}\r\n", data.len()).as_bytes());
            buf.extend_from_slice(data);
            buf.extend_from_slice(b"\r\n");
            self.write(&buf).await
        } else {
            self.write(data).await
        }
    }

    /// A response generated by the proxy (errors); the connection closes after it.
    async fn error(&mut self, tx: &mut Transaction<'_>, status: u16, detail: &str) -> Next {
        self.status = status;
        let page = response::status_page(status, detail);
        let bytes = if self.http09 {
            page.into_bytes()
        } else {
            response::simple(self.minor, status, &[], &page, false)
        };
        self.finish(tx);
        let _ = self.write(&bytes).await;
        Next::Close
    }

    /// Carries out a disruptive action of the rules.
    async fn intervene(&mut self, tx: &mut Transaction<'_>, iv: Intervention) -> Next {
        match &iv.action {
            Disruptive::Drop => {
                self.finish(tx);
                Next::Close
            }
            Disruptive::Redirect(url) => {
                let status = if (300..400).contains(&iv.status) {
                    iv.status
                } else {
                    302
                };
                self.status = status;
                let location = url.replace(['\r', '\n'], "");
                let page = response::status_page(status, "Redirected.");
                let extra = [(Bytes::from_static(b"Location"), Bytes::from(location))];
                self.finish(tx);
                let _ = self
                    .write(&response::simple(self.minor, status, &extra, &page, false))
                    .await;
                Next::Close
            }
            Disruptive::Deny => {
                let status = if (400..600).contains(&iv.status) {
                    iv.status
                } else {
                    403
                };
                let detail = format!(
                    "Request blocked by the web application firewall (id {}).",
                    tx.id()
                );
                self.error(tx, status, &detail).await
            }
        }
    }

    /// Phase 5 and the logs; runs before the last byte of the response is written so that
    /// a client that has seen the response also finds the log lines.
    fn finish(&mut self, tx: &mut Transaction<'_>) {
        tx.process_logging();
        let lines = tx.error_log_lines();
        if let Some(log) = &self.shared.error_log {
            if !lines.is_empty() {
                let prefix = format!(
                    "{} [rampart:warn] [pid {}] ",
                    apache_timestamp(SystemTime::now()),
                    std::process::id()
                );
                let lines: Vec<String> = lines.iter().map(|l| format!("{prefix}{l}")).collect();
                log.write_lines(&lines);
            }
        }
        if let Some(log) = &self.shared.audit_log {
            let relevant = !lines.is_empty() || tx.intervention().is_some() || self.status >= 400;
            let engine_mode = self.shared.rules.current().config().audit_engine;
            if engine_mode == AuditEngineMode::On || relevant {
                log.write_lines(&[tx.audit_record().to_string()]);
            }
        }
    }
}
