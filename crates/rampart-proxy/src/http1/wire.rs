//! Buffered reading of request heads and bodies (Content-Length and chunked) from a
//! client connection, with every read bounded.

use super::head::{find_head_end, BodyFraming};
use bytes::{Buf, Bytes, BytesMut};
use tokio::io::{AsyncRead, AsyncReadExt};

const READ_CHUNK: usize = 16 * 1024;
const MAX_CHUNK_LINE: usize = 4096;
const MAX_TRAILERS: usize = 16 * 1024;

#[derive(Debug, thiserror::Error)]
pub enum WireError {
    #[error("connection closed in the middle of a request")]
    UnexpectedEof,
    #[error("request head larger than {0} bytes")]
    HeadTooLarge(usize),
    #[error("malformed chunked body: {0}")]
    BadChunk(&'static str),
    #[error(transparent)]
    Io(#[from] std::io::Error),
}

/// The read side of a client connection with its buffer.
pub struct Wire<R> {
    io: R,
    buf: BytesMut,
}

impl<R: AsyncRead + Unpin> Wire<R> {
    pub fn new(io: R) -> Self {
        Wire {
            io,
            buf: BytesMut::with_capacity(READ_CHUNK),
        }
    }

    /// Bytes already received but not consumed (pipelined requests).
    pub fn has_buffered(&self) -> bool {
        !self.buf.is_empty()
    }

    pub fn io(&self) -> &R {
        &self.io
    }

    async fn fill(&mut self) -> Result<usize, WireError> {
        if self.buf.capacity() - self.buf.len() < 1024 {
            self.buf.reserve(READ_CHUNK);
        }
        Ok(self.io.read_buf(&mut self.buf).await?)
    }

    /// Reads one request head. `Ok(None)` is a clean close before any byte of a request
    /// (empty lines between keep-alive requests do not count).
    pub async fn read_head(&mut self, max_head: usize) -> Result<Option<Bytes>, WireError> {
        self.read_until(max_head, find_head_end, |rest| {
            rest.iter().all(|b| b.is_ascii_whitespace())
        })
        .await
    }

    /// Reads up to the end `find` reports (a response head). `Ok(None)` is a close before
    /// any byte arrived.
    pub async fn read_until_head(
        &mut self,
        max_head: usize,
        find: fn(&[u8]) -> Option<usize>,
    ) -> Result<Option<Bytes>, WireError> {
        self.read_until(max_head, find, <[u8]>::is_empty).await
    }

    /// Reads up to the end `find` reports, at most `max_head` bytes; at a close, `Ok(None)`
    /// when what is left is `nothing_yet`, else an unexpected end.
    async fn read_until(
        &mut self,
        max_head: usize,
        find: fn(&[u8]) -> Option<usize>,
        nothing_yet: fn(&[u8]) -> bool,
    ) -> Result<Option<Bytes>, WireError> {
        loop {
            if let Some(end) = find(&self.buf) {
                if end > max_head {
                    return Err(WireError::HeadTooLarge(max_head));
                }
                return Ok(Some(self.buf.split_to(end).freeze()));
            }
            if self.buf.len() > max_head {
                return Err(WireError::HeadTooLarge(max_head));
            }
            if self.fill().await? == 0 {
                return if nothing_yet(&self.buf) {
                    Ok(None)
                } else {
                    Err(WireError::UnexpectedEof)
                };
            }
        }
    }

    /// Reads the next piece of a body (at most `max` bytes); `Ok(None)` at its end.
    pub async fn read_body(&mut self, state: &mut BodyState, max: usize) -> Result<Option<Bytes>, WireError> {
        loop {
            match state {
                BodyState::Done => return Ok(None),
                BodyState::Length(0) => {
                    *state = BodyState::Done;
                    return Ok(None);
                }
                BodyState::Length(remaining) => {
                    if self.buf.is_empty() && self.fill().await? == 0 {
                        return Err(WireError::UnexpectedEof);
                    }
                    let n = (self.buf.len() as u64).min(*remaining).min(max as u64) as usize;
                    *remaining -= n as u64;
                    return Ok(Some(self.buf.split_to(n).freeze()));
                }
                BodyState::UntilEof => {
                    if self.buf.is_empty() && self.fill().await? == 0 {
                        *state = BodyState::Done;
                        return Ok(None);
                    }
                    let n = self.buf.len().min(max);
                    return Ok(Some(self.buf.split_to(n).freeze()));
                }
                BodyState::ChunkSize => {
                    let line = self.read_line(MAX_CHUNK_LINE).await?;
                    let hex = line.split(|&b| b == b';').next().unwrap_or_default();
                    let hex = trim(hex);
                    if hex.is_empty() || hex.len() > 15 || !hex.iter().all(u8::is_ascii_hexdigit) {
                        return Err(WireError::BadChunk("invalid chunk size"));
                    }
                    let size = u64::from_str_radix(std::str::from_utf8(hex).unwrap_or("0"), 16)
                        .map_err(|_| WireError::BadChunk("invalid chunk size"))?;
                    *state = if size == 0 {
                        BodyState::Trailers(0)
                    } else {
                        BodyState::ChunkData(size)
                    };
                }
                BodyState::ChunkData(remaining) => {
                    if self.buf.is_empty() && self.fill().await? == 0 {
                        return Err(WireError::UnexpectedEof);
                    }
                    let n = (self.buf.len() as u64).min(*remaining).min(max as u64) as usize;
                    *remaining -= n as u64;
                    let data = self.buf.split_to(n).freeze();
                    if *remaining == 0 {
                        *state = BodyState::ChunkEnd;
                    }
                    return Ok(Some(data));
                }
                BodyState::ChunkEnd => {
                    let line = self.read_line(2).await?;
                    if !line.is_empty() {
                        return Err(WireError::BadChunk("chunk data longer than its size"));
                    }
                    *state = BodyState::ChunkSize;
                }
                BodyState::Trailers(seen) => {
                    let line = self.read_line(MAX_CHUNK_LINE).await?;
                    *seen += line.len() + 2;
                    if *seen > MAX_TRAILERS {
                        return Err(WireError::BadChunk("trailers too large"));
                    }
                    if line.is_empty() {
                        *state = BodyState::Done;
                        return Ok(None);
                    }
                }
            }
        }
    }

    /// Reads one CRLF- or LF-terminated line (without the terminator).
    async fn read_line(&mut self, max: usize) -> Result<Bytes, WireError> {
        loop {
            if let Some(pos) = self.buf.iter().position(|&b| b == b'\n') {
                let mut line = self.buf.split_to(pos + 1);
                line.truncate(pos);
                if line.last() == Some(&b'\r') {
                    line.truncate(pos - 1);
                }
                return Ok(line.freeze());
            }
            if self.buf.len() > max + 2 {
                return Err(WireError::BadChunk("line too long"));
            }
            if self.fill().await? == 0 {
                return Err(WireError::UnexpectedEof);
            }
        }
    }

    /// Drops up to `max` buffered bytes (used to discard what follows a refused request).
    pub fn discard_buffered(&mut self) {
        let n = self.buf.len();
        self.buf.advance(n);
    }
}

fn trim(v: &[u8]) -> &[u8] {
    let s = v.iter().position(|b| !b.is_ascii_whitespace()).unwrap_or(v.len());
    let e = v
        .iter()
        .rposition(|b| !b.is_ascii_whitespace())
        .map_or(s, |e| e + 1);
    &v[s..e]
}

/// Where the body decoder is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BodyState {
    Length(u64),
    /// A response without length or chunking: the body ends when the server closes.
    UntilEof,
    ChunkSize,
    ChunkData(u64),
    ChunkEnd,
    Trailers(usize),
    Done,
}

impl BodyState {
    pub fn new(framing: BodyFraming) -> Self {
        match framing {
            BodyFraming::None => BodyState::Done,
            BodyFraming::Length(n) => BodyState::Length(n),
            BodyFraming::Chunked => BodyState::ChunkSize,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn body(raw: &[u8], framing: BodyFraming) -> Result<Vec<u8>, WireError> {
        let mut wire = Wire::new(raw);
        let mut st = BodyState::new(framing);
        let mut out = Vec::new();
        while let Some(b) = wire.read_body(&mut st, 3).await? {
            out.extend_from_slice(&b);
        }
        Ok(out)
    }

    #[tokio::test]
    async fn decodes_chunked_and_length_bodies() {
        let b = body(
            b"3\r\nHi \r\n3;ext=1\r\nCRS\r\n0\r\nX-T: 1\r\n\r\n",
            BodyFraming::Chunked,
        )
        .await
        .unwrap();
        assert_eq!(b, b"Hi CRS");
        let b = body(b"hello world", BodyFraming::Length(5)).await.unwrap();
        assert_eq!(b, b"hello");
    }

    #[tokio::test]
    async fn refuses_broken_chunks_and_short_bodies() {
        assert!(matches!(
            body(b"zz\r\n", BodyFraming::Chunked).await,
            Err(WireError::BadChunk(_))
        ));
        assert!(matches!(
            body(b"2\r\nabc\r\n0\r\n\r\n", BodyFraming::Chunked).await,
            Err(WireError::BadChunk(_))
        ));
        assert!(matches!(
            body(b"abc", BodyFraming::Length(5)).await,
            Err(WireError::UnexpectedEof)
        ));
    }

    #[tokio::test]
    async fn reads_pipelined_heads_and_caps_their_size() {
        let mut wire =
            Wire::new(&b"GET /a HTTP/1.1\r\nHost: x\r\n\r\nGET /b HTTP/1.1\r\nHost: x\r\n\r\n"[..]);
        let h1 = wire.read_head(1000).await.unwrap().unwrap();
        assert!(h1.starts_with(b"GET /a"));
        let h2 = wire.read_head(1000).await.unwrap().unwrap();
        assert!(h2.starts_with(b"GET /b"));
        assert!(wire.read_head(1000).await.unwrap().is_none());
        let big = format!("GET / HTTP/1.1\r\nX: {}\r\n\r\n", "a".repeat(2000));
        let mut wire = Wire::new(big.as_bytes());
        assert!(matches!(
            wire.read_head(1000).await,
            Err(WireError::HeadTooLarge(_))
        ));
    }

    #[tokio::test]
    async fn chunk_decoder_never_panics_on_random_input() {
        let mut seed: u64 = 0x2545_f491_4f6c_dd1d;
        let alphabet = b"0123456789abcdefABCDEF;=\r\n \tx\xff";
        for _ in 0..5_000 {
            let len = {
                seed ^= seed << 13;
                seed ^= seed >> 7;
                seed ^= seed << 17;
                (seed % 80) as usize
            };
            let input: Vec<u8> = (0..len)
                .map(|_| {
                    seed ^= seed << 13;
                    seed ^= seed >> 7;
                    seed ^= seed << 17;
                    alphabet[(seed % alphabet.len() as u64) as usize]
                })
                .collect();
            let _ = body(&input, BodyFraming::Chunked).await;
        }
    }
}
