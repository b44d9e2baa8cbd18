//! One client connection: read requests, run the WAF phases around the upstream
//! exchange, write responses, log.

use crate::body::{channel_body, full_body, BodySender};
use crate::config::Limits;
use crate::http1::head::{parse_head, BodyFraming, RequestHead};
use crate::http1::response::{self, head_bytes, is_hop_by_hop, ResponseFraming};
use crate::http1::wire::{BodyState, Wire, WireError};
use crate::logs::{apache_timestamp, LogFile};
use crate::rules::Rules;
use crate::upstream::Upstream;
use bytes::{Bytes, BytesMut};
use http_body_util::BodyExt;
use rampart_waf::{AuditEngineMode, ConnInfo, Disruptive, Intervention, Transaction};
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, SystemTime};
use tokio::io::{AsyncRead, AsyncWrite, AsyncWriteExt};
use tokio::time::timeout;

/// Everything a connection needs, shared by all of them.
pub struct Shared {
    pub limits: Limits,
    pub rules: Arc<Rules>,
    pub upstream: Upstream,
    pub error_log: Option<LogFile>,
    pub audit_log: Option<LogFile>,
}

struct Peer {
    info: ConnInfo,
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
        tls,
    };
    let (r, mut w) = tokio::io::split(io);
    let mut wire = Wire::new(r);
    let limits = &shared.limits;
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
        let head = match parse_head(&raw, &limits.head) {
            Ok(h) => h,
            Err(e) => {
                tracing::debug!("Refused a malformed request from {client}: {}.", e.reason);
                let page = response::status_page(e.status, "The request could not be understood.");
                let _ = send(&mut w, &response::simple(1, e.status, &[], &page, false), limits).await;
                break;
            }
        };
        match exchange(&mut wire, &mut w, head, &peer, &shared).await {
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
) -> Next
where
    R: AsyncRead + Unpin + Send,
    W: AsyncWrite + Unpin + Send,
{
    let limits = &shared.limits;
    let engine = shared.rules.current();
    let mut tx = engine.transaction(peer.info);
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
        return ctx.intervene(&mut tx, iv).await;
    }

    // Request body: buffered (and inspected) up to the engine's limit, streamed after it.
    let mut state = BodyState::new(head.framing);
    if let BodyFraming::Length(n) = head.framing {
        if n > limits.max_request_body {
            return ctx.error(&mut tx, 413, "The request body is too large.").await;
        }
    }
    if head.expect_continue
        && state != BodyState::Done
        && ctx.write(b"HTTP/1.1 100 Continue\r\n\r\n").await.is_err()
    {
        ctx.finish(&mut tx);
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
                    .error(&mut tx, 408, "The request body did not arrive in time.")
                    .await
            }
            Ok(Err(e)) => {
                tracing::debug!("Bad request body: {e}.");
                return ctx.error(&mut tx, 400, "The request body is malformed.").await;
            }
            Ok(Ok(None)) => break,
            Ok(Ok(Some(c))) => c,
        };
        total += chunk.len() as u64;
        if total > limits.max_request_body {
            return ctx.error(&mut tx, 413, "The request body is too large.").await;
        }
        if inspect {
            if let Some(iv) = tx.append_request_body(&chunk) {
                return ctx.intervene(&mut tx, iv).await;
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
        return ctx.intervene(&mut tx, iv).await;
    }

    // Forward.
    let streaming = overflow.is_some();
    let (body, sender) = if streaming {
        let (body, sender) = channel_body();
        (body, Some(sender))
    } else {
        (full_body(prefix.clone().freeze()), None)
    };
    let length = match head.framing {
        BodyFraming::Length(n) => Some(n),
        BodyFraming::Chunked if !streaming => Some(prefix.len() as u64),
        BodyFraming::None => None,
        BodyFraming::Chunked => None,
    };
    let req = match build_request(&head, peer, shared, body, length) {
        Ok(r) => r,
        Err(e) => {
            tracing::debug!("Cannot forward the request: {e}.");
            return ctx.error(&mut tx, 400, "The request cannot be forwarded.").await;
        }
    };
    let call = timeout(limits.upstream_timeout, shared.upstream.client.request(req));
    let (resp, pumped) = match sender {
        Some(sender) => {
            let first = [prefix.freeze(), overflow.unwrap_or_default()];
            let pump = pump_body(wire, &mut state, sender, first, limits);
            tokio::join!(call, pump)
        }
        None => (call.await, Ok(())),
    };
    let resp = match resp {
        Err(_) => {
            return ctx
                .error(&mut tx, 504, "The upstream server did not answer in time.")
                .await
        }
        Ok(Err(e)) => {
            if pumped.is_err() {
                return ctx.error(&mut tx, 400, "The request body is malformed.").await;
            }
            tracing::warn!("Upstream request failed: {e}.");
            return ctx
                .error(&mut tx, 502, "The upstream server could not be reached.")
                .await;
        }
        Ok(Ok(r)) => r,
    };
    let body_consumed = pumped.is_ok() && state == BodyState::Done;

    // Phase 3.
    let (parts, mut upstream_body) = resp.into_parts();
    let status = parts.status.as_u16();
    for (n, v) in parts.headers.iter() {
        tx.add_response_header(n.as_str().as_bytes(), v.as_bytes());
    }
    if let Some(iv) = tx.process_response_headers(status, "HTTP/1.1") {
        return ctx.intervene(&mut tx, iv).await;
    }

    // Phase 4: buffer (and inspect) up to the engine's response limit, stream the rest.
    let no_body = head.method == "HEAD" || (100..200).contains(&status) || status == 204 || status == 304;
    let mut rprefix = BytesMut::new();
    // An empty body is complete already: treat it as buffered, so the head (which then
    // is the whole response) waits for the logs like any complete response.
    let mut rdone = no_body || http_body::Body::is_end_stream(&upstream_body);
    if !no_body && tx.response_body_wanted() {
        let limit = engine.config().response_body_limit;
        while rprefix.len() <= limit {
            match timeout(limits.upstream_timeout, upstream_body.frame()).await {
                Err(_) => return ctx.error(&mut tx, 504, "The upstream response stalled.").await,
                Ok(None) => {
                    rdone = true;
                    break;
                }
                Ok(Some(Err(e))) => {
                    tracing::warn!("Upstream response body failed: {e}.");
                    return ctx.error(&mut tx, 502, "The upstream response was cut.").await;
                }
                Ok(Some(Ok(frame))) => {
                    if let Ok(data) = frame.into_data() {
                        if let Some(iv) = tx.append_response_body(&data) {
                            return ctx.intervene(&mut tx, iv).await;
                        }
                        rprefix.extend_from_slice(&data);
                    }
                }
            }
        }
        if let Some(iv) = tx.process_response_body() {
            return ctx.intervene(&mut tx, iv).await;
        }
    } else if let Some(iv) = tx.process_response_body() {
        return ctx.intervene(&mut tx, iv).await;
    }

    // Write the response.
    let mut keep_alive = head.keep_alive && body_consumed;
    let mut headers: Vec<(Bytes, Bytes)> = Vec::with_capacity(parts.headers.len());
    for (n, v) in parts.headers.iter() {
        let name = n.as_str().as_bytes();
        if is_hop_by_hop(name) || (name == b"content-length" && !no_body) {
            continue;
        }
        headers.push((Bytes::copy_from_slice(name), Bytes::copy_from_slice(v.as_bytes())));
    }
    let framing = if no_body {
        ResponseFraming::NoBody
    } else if rdone {
        ResponseFraming::Length(rprefix.len() as u64)
    } else if let Some(n) = http_body::Body::size_hint(&upstream_body).exact() {
        ResponseFraming::Length(rprefix.len() as u64 + n)
    } else if minor >= 1 {
        ResponseFraming::Chunked
    } else {
        keep_alive = false;
        ResponseFraming::UntilClose
    };
    ctx.status = status;
    let chunked = framing == ResponseFraming::Chunked;
    let mut out = if ctx.http09 {
        Vec::new()
    } else {
        head_bytes(minor, status, &headers, framing, keep_alive)
    };
    if !no_body && !rprefix.is_empty() {
        // Head and buffered body in one write: one segment for small pages.
        if chunked {
            out.extend_from_slice(format!("{:x}\r\n", rprefix.len()).as_bytes());
            out.extend_from_slice(&rprefix);
            out.extend_from_slice(b"\r\n");
        } else {
            out.extend_from_slice(&rprefix);
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
        ctx.finish(&mut tx);
        return if ctx.write(&out).await.is_ok() {
            next
        } else {
            Next::Close
        };
    }
    if !out.is_empty() && ctx.write(&out).await.is_err() {
        ctx.finish(&mut tx);
        return Next::Close;
    }
    // Stream the rest, one frame behind, so the final piece can wait for the logs.
    let mut held: Option<Bytes> = None;
    loop {
        match timeout(limits.upstream_timeout, upstream_body.frame()).await {
            Ok(None) => break,
            Ok(Some(Ok(frame))) => {
                let Ok(data) = frame.into_data() else { continue };
                if data.is_empty() {
                    continue;
                }
                if let Some(prev) = held.replace(data) {
                    if ctx.write_body(&prev, chunked).await.is_err() {
                        ctx.finish(&mut tx);
                        return Next::Close;
                    }
                }
            }
            // The head is out already: all we can do is cut the connection.
            Ok(Some(Err(_))) | Err(_) => {
                ctx.finish(&mut tx);
                return Next::Close;
            }
        }
    }
    ctx.finish(&mut tx);
    let mut last = Vec::new();
    if let Some(data) = held {
        if chunked {
            last.extend_from_slice(format!("{:x}\r\n", data.len()).as_bytes());
            last.extend_from_slice(&data);
            last.extend_from_slice(b"\r\n");
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

/// Feeds the rest of the request body to the upstream while the request is in flight.
async fn pump_body<R: AsyncRead + Unpin>(
    wire: &mut Wire<R>,
    state: &mut BodyState,
    sender: BodySender,
    first: [Bytes; 2],
    limits: &Limits,
) -> Result<(), ()> {
    for b in first {
        if !b.is_empty() && sender.send(Ok(b)).await.is_err() {
            return Err(());
        }
    }
    let mut total = 0u64;
    loop {
        match timeout(limits.body_read_timeout, wire.read_body(state, 64 * 1024)).await {
            Ok(Ok(None)) => return Ok(()),
            Ok(Ok(Some(chunk))) => {
                total += chunk.len() as u64;
                if total > limits.max_request_body {
                    let _ = sender.send(Err("request body too large".into())).await;
                    return Err(());
                }
                if sender.send(Ok(chunk)).await.is_err() {
                    return Err(());
                }
            }
            Ok(Err(e)) => {
                let _ = sender.send(Err(e.to_string().into())).await;
                return Err(());
            }
            Err(_) => {
                let _ = sender.send(Err("request body timed out".into())).await;
                return Err(());
            }
        }
    }
}

fn build_request(
    head: &RequestHead,
    peer: &Peer,
    shared: &Shared,
    body: crate::upstream::UpBody,
    length: Option<u64>,
) -> Result<http::Request<crate::upstream::UpBody>, http::Error> {
    let uri = shared.upstream.uri_for(&head.target)?;
    let method = if head.is_http09() {
        http::Method::GET
    } else {
        http::Method::from_bytes(head.method.as_bytes()).map_err(http::Error::from)?
    };
    let mut b = http::Request::builder()
        .method(method)
        .uri(uri)
        .version(http::Version::HTTP_11);
    // Headers named in Connection are hop-by-hop too.
    let conn_tokens: Vec<Vec<u8>> = head
        .header("connection")
        .map(|v| {
            v.split(|&c| c == b',')
                .map(|t| t.trim_ascii().to_ascii_lowercase())
                .collect()
        })
        .unwrap_or_default();
    let mut xff: Option<String> = None;
    for (n, v) in &head.headers {
        let lower = n.to_ascii_lowercase();
        if is_hop_by_hop(&lower)
            || lower == b"content-length"
            || lower == b"expect"
            || conn_tokens.contains(&lower)
        {
            continue;
        }
        if lower == b"x-forwarded-for" {
            xff = Some(String::from_utf8_lossy(v).into_owned());
            continue;
        }
        b = b.header(
            http::HeaderName::from_bytes(n).map_err(http::Error::from)?,
            http::HeaderValue::from_bytes(v).map_err(http::Error::from)?,
        );
    }
    let ip = peer.info.client_ip.to_string();
    let xff = match xff {
        Some(prev) if !prev.trim().is_empty() => format!("{prev}, {ip}"),
        _ => ip,
    };
    b = b.header("x-forwarded-for", xff);
    b = b.header("x-forwarded-proto", if peer.tls { "https" } else { "http" });
    if let Some(n) = length {
        b = b.header(http::header::CONTENT_LENGTH, n);
    }
    b.body(body)
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
