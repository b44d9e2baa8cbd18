//! Lenient-but-safe HTTP/1.x request head parser.
//!
//! A WAF must see what the client really sent, including the odd requests attackers
//! (and the CRS regression suite) produce, so this parser accepts what Apache httpd
//! accepts with `HttpProtocolOptions Strict LenientMethods Allow0.9` and refuses the rest
//! with the status Apache answers. Parsing is a pure function over bytes: no I/O here.

use bytes::Bytes;

/// Hard limits applied while parsing (the reader enforces the total head size).
#[derive(Debug, Clone, Copy)]
pub struct HeadLimits {
    /// Longest request line (Apache `LimitRequestLine`).
    pub max_request_line: usize,
    /// Longest single header line (Apache `LimitRequestFieldSize`).
    pub max_header_line: usize,
    /// Most header fields (Apache `LimitRequestFields`).
    pub max_headers: usize,
}

impl Default for HeadLimits {
    fn default() -> Self {
        HeadLimits {
            max_request_line: 8190,
            max_header_line: 8190,
            max_headers: 100,
        }
    }
}

/// How the request body is framed on the wire.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BodyFraming {
    None,
    Length(u64),
    Chunked,
}

/// The parsed request head. Header names keep the client's spelling; duplicates are
/// merged with ", " the way Apache merges them (ModSecurity v2 sees merged values).
#[derive(Debug, Clone)]
pub struct RequestHead {
    pub method: String,
    /// The request target exactly as sent (may hold non-ASCII bytes).
    pub target: Bytes,
    /// "HTTP/1.1", "HTTP/1.0", "HTTP/4.0" …; "HTTP/0.9" for a request line without version.
    pub version: String,
    pub major: u8,
    pub minor: u8,
    pub headers: Vec<(Bytes, Bytes)>,
    pub framing: BodyFraming,
    /// The client asked to keep the connection open after this exchange.
    pub keep_alive: bool,
    pub expect_continue: bool,
}

impl RequestHead {
    pub fn header(&self, name: &str) -> Option<&[u8]> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name.as_bytes()))
            .map(|(_, v)| &v[..])
    }

    pub fn is_http09(&self) -> bool {
        self.major == 0
    }

    pub fn target_str(&self) -> String {
        String::from_utf8_lossy(&self.target).into_owned()
    }
}

/// Why a head was refused, with the status to answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HeadError {
    pub status: u16,
    pub reason: &'static str,
}

fn bad(reason: &'static str) -> HeadError {
    HeadError { status: 400, reason }
}

/// Finds the end of the head: returns the length including the terminating empty line.
/// Lines may end with CRLF or a bare LF. Leading empty lines (allowed by RFC 9112 §2.2)
/// are part of the head and skipped by [`parse_head`].
pub fn find_head_end(buf: &[u8]) -> Option<usize> {
    let mut start = 0;
    // Skip leading empty lines.
    loop {
        if buf[start..].starts_with(b"\r\n") {
            start += 2;
        } else if buf[start..].starts_with(b"\n") {
            start += 1;
        } else {
            break;
        }
    }
    let first_nl = start + memchr(b'\n', &buf[start..])?;
    // An HTTP/0.9 request is one line with no version: it ends the head.
    if is_simple_request_line(&buf[start..first_nl]) {
        return Some(first_nl + 1);
    }
    blank_line_end(buf, start)
}

/// The end of the first empty line (CRLF or bare LF) after a line break at or after
/// `from`: where a request or response head ends.
pub fn blank_line_end(buf: &[u8], from: usize) -> Option<usize> {
    let mut i = from;
    while let Some(off) = memchr(b'\n', &buf[i..]) {
        let next = i + off + 1;
        if buf[next..].starts_with(b"\r\n") {
            return Some(next + 2);
        }
        if buf[next..].starts_with(b"\n") {
            return Some(next + 1);
        }
        i = next;
    }
    None
}

fn memchr(needle: u8, hay: &[u8]) -> Option<usize> {
    hay.iter().position(|&b| b == needle)
}

fn trim_cr(line: &[u8]) -> &[u8] {
    line.strip_suffix(b"\r").unwrap_or(line)
}

/// A request line without protocol ("GET /" or "GET / "): HTTP/0.9.
fn is_simple_request_line(line: &[u8]) -> bool {
    let line = trim_cr(line);
    let parts: Vec<&[u8]> = line.split(|&b| b == b' ').collect();
    matches!(parts.len(), 2) || (parts.len() == 3 && parts[2].is_empty())
}

pub fn is_tchar(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b)
}

/// Parses a complete head (as delimited by [`find_head_end`]).
pub fn parse_head(head: &[u8], limits: &HeadLimits) -> Result<RequestHead, HeadError> {
    parse_head_bytes(&Bytes::copy_from_slice(head), limits)
}

/// [`parse_head`] for a head already in a `Bytes`: the target, header names and values
/// are slices of it (no copy), except values joined from folded or repeated lines.
pub fn parse_head_bytes(raw: &Bytes, limits: &HeadLimits) -> Result<RequestHead, HeadError> {
    let head: &[u8] = raw;
    let mut rest = head;
    while let Some(r) = rest.strip_prefix(b"\r\n").or_else(|| rest.strip_prefix(b"\n")) {
        rest = r;
    }
    let mut lines = rest.split(|&b| b == b'\n').map(trim_cr);
    let request_line = lines.next().unwrap_or_default();
    if request_line.len() > limits.max_request_line {
        return Err(HeadError {
            status: 414,
            reason: "request line too long",
        });
    }
    let (method, target, version, major, minor) = parse_request_line(request_line)?;
    let target = raw.slice_ref(target);

    let mut raw_headers: Vec<(Bytes, Bytes)> = Vec::with_capacity(16);
    let mut count = 0usize;
    if major > 0 {
        for line in lines {
            if line.is_empty() {
                break;
            }
            if line.len() > limits.max_header_line {
                return Err(bad("header line too long"));
            }
            if line[0] == b' ' || line[0] == b'\t' {
                // obs-fold: RFC 9112 lets a server replace it with a space.
                let Some(last) = raw_headers.last_mut() else {
                    return Err(bad("continuation line before any header"));
                };
                let extra = trim_ows(line);
                check_value(extra)?;
                let mut joined = Vec::with_capacity(last.1.len() + 1 + extra.len());
                joined.extend_from_slice(&last.1);
                joined.push(b' ');
                joined.extend_from_slice(extra);
                last.1 = Bytes::from(joined);
                continue;
            }
            count += 1;
            if count > limits.max_headers {
                return Err(bad("too many header fields"));
            }
            let colon = memchr(b':', line).ok_or_else(|| bad("header line without colon"))?;
            let name = &line[..colon];
            if name.is_empty() || !name.iter().all(|&b| is_tchar(b)) {
                return Err(bad("invalid header name"));
            }
            let value = trim_ows(&line[colon + 1..]);
            check_value(value)?;
            raw_headers.push((raw.slice_ref(name), raw.slice_ref(value)));
        }
    }

    // Content-Length: digits only; repeated values must agree (RFC 9112 §6.3).
    let mut content_length: Option<u64> = None;
    for (n, v) in &raw_headers {
        if n.eq_ignore_ascii_case(b"content-length") {
            for part in v.split(|&b| b == b',') {
                let part = trim_ows(part);
                if part.is_empty() || !part.iter().all(u8::is_ascii_digit) || part.len() > 18 {
                    return Err(bad("invalid Content-Length"));
                }
                let n: u64 = std::str::from_utf8(part)
                    .ok()
                    .and_then(|s| s.parse().ok())
                    .ok_or(bad("bad length"))?;
                if content_length.is_some_and(|c| c != n) {
                    return Err(bad("conflicting Content-Length"));
                }
                content_length = Some(n);
            }
        }
    }
    let mut chunked = false;
    let mut has_te = false;
    for (n, v) in &raw_headers {
        if n.eq_ignore_ascii_case(b"transfer-encoding") {
            has_te = true;
            let last = v.rsplit(|&b| b == b',').next().map(trim_ows).unwrap_or_default();
            chunked = last.eq_ignore_ascii_case(b"chunked");
        }
    }
    if has_te && !chunked {
        return Err(HeadError {
            status: 501,
            reason: "unsupported Transfer-Encoding",
        });
    }
    if has_te && major == 1 && minor == 0 {
        return Err(bad("Transfer-Encoding in an HTTP/1.0 request"));
    }
    if chunked {
        // Transfer-Encoding wins; Apache drops Content-Length so nothing downstream sees both.
        raw_headers.retain(|(n, _)| !n.eq_ignore_ascii_case(b"content-length"));
    }
    let framing = if chunked {
        BodyFraming::Chunked
    } else {
        match content_length {
            Some(0) | None => BodyFraming::None,
            Some(n) => BodyFraming::Length(n),
        }
    };

    let headers = merge_duplicates(raw_headers);
    let find = |name: &str| {
        headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name.as_bytes()))
            .map(|(_, v)| v.clone())
    };

    if let Some(host) = find("host") {
        if host.is_empty() {
            if (major, minor) >= (1, 1) {
                return Err(bad("empty Host in an HTTP/1.1 request"));
            }
        } else if !valid_host(&host) {
            return Err(bad("invalid Host"));
        }
    } else if (major, minor) >= (1, 1) && major < 2 && method != "CONNECT" {
        return Err(bad("HTTP/1.1 request without Host"));
    }

    let connection = find("connection").unwrap_or_default();
    let has_token = |tok: &[u8]| {
        connection
            .split(|&b| b == b',')
            .any(|t| trim_ows(t).eq_ignore_ascii_case(tok))
    };
    let keep_alive = if major == 0 {
        false
    } else if (major, minor) >= (1, 1) {
        !has_token(b"close")
    } else {
        has_token(b"keep-alive")
    };
    let expect_continue =
        (major, minor) >= (1, 1) && find("expect").is_some_and(|v| v.eq_ignore_ascii_case(b"100-continue"));

    Ok(RequestHead {
        method,
        target,
        version,
        major,
        minor,
        headers,
        framing,
        keep_alive,
        expect_continue,
    })
}

type RequestLine<'a> = (String, &'a [u8], String, u8, u8);

fn parse_request_line(line: &[u8]) -> Result<RequestLine<'_>, HeadError> {
    if line.is_empty() {
        return Err(bad("empty request line"));
    }
    if line[0] == b' ' || line[0] == b'\t' {
        return Err(bad("whitespace before the method"));
    }
    let parts: Vec<&[u8]> = line.split(|&b| b == b' ').collect();
    let (method, target, version) = match parts.len() {
        2 => (parts[0], parts[1], &b""[..]),
        3 => (parts[0], parts[1], parts[2]),
        _ => return Err(bad("malformed request line")),
    };
    if method.is_empty() || !method.iter().all(|&b| is_tchar(b)) {
        return Err(bad("invalid method"));
    }
    if target.is_empty() {
        return Err(bad("empty request target"));
    }
    if target.iter().any(|&b| b < 0x21 || b == 0x7f) {
        return Err(bad("control character in the request target"));
    }
    if target.contains(&b'#') {
        return Err(bad("fragment in the request target"));
    }
    let method = String::from_utf8_lossy(method).into_owned();
    let (version, major, minor) = if version.is_empty() {
        if method != "GET" {
            return Err(bad("HTTP/0.9 request with a method other than GET"));
        }
        ("HTTP/0.9".to_string(), 0, 9)
    } else {
        let v = version;
        let ok = v.len() == 8
            && v.starts_with(b"HTTP/")
            && v[5].is_ascii_digit()
            && v[6] == b'.'
            && v[7].is_ascii_digit();
        if !ok {
            return Err(bad("invalid protocol version"));
        }
        let (major, minor) = (v[5] - b'0', v[7] - b'0');
        if major == 0 {
            return Err(bad("protocol version below HTTP/1.0"));
        }
        (String::from_utf8_lossy(v).into_owned(), major, minor)
    };
    check_target_form(&method, target)?;
    Ok((method, target, version, major, minor))
}

/// origin-form, asterisk-form (OPTIONS), absolute-form, or authority-form (CONNECT).
fn check_target_form(method: &str, target: &[u8]) -> Result<(), HeadError> {
    if target[0] == b'/' {
        return Ok(());
    }
    if target == b"*" {
        return if method == "OPTIONS" {
            Ok(())
        } else {
            Err(bad("asterisk-form outside OPTIONS"))
        };
    }
    if method == "CONNECT" {
        // host:port with a numeric port is required.
        let ok = match target.iter().rposition(|&b| b == b':') {
            Some(c) => {
                c > 0
                    && c + 1 < target.len()
                    && target[c + 1..].iter().all(u8::is_ascii_digit)
                    && valid_host(target)
            }
            None => false,
        };
        return if ok {
            Ok(())
        } else {
            Err(bad("CONNECT target without host:port"))
        };
    }
    if let Some(pos) = target.windows(3).position(|w| w == b"://") {
        let scheme = &target[..pos];
        if !scheme.is_empty()
            && scheme[0].is_ascii_alphabetic()
            && scheme
                .iter()
                .all(|&b| b.is_ascii_alphanumeric() || b"+-.".contains(&b))
        {
            return Ok(());
        }
    }
    Err(bad("request target is not a path"))
}

fn trim_ows(v: &[u8]) -> &[u8] {
    let start = v.iter().position(|&b| b != b' ' && b != b'\t').unwrap_or(v.len());
    let end = v
        .iter()
        .rposition(|&b| b != b' ' && b != b'\t')
        .map_or(start, |e| e + 1);
    &v[start..end]
}

fn check_value(v: &[u8]) -> Result<(), HeadError> {
    if v.iter().any(|&b| (b < 0x20 && b != b'\t') || b == 0x7f) {
        return Err(bad("control character in a header value"));
    }
    Ok(())
}

/// Host syntax as Apache checks it: a name or IPv4 (letters, digits, '-', '.', '_'),
/// or a bracketed IPv6 literal, with an optional numeric port.
fn valid_host(host: &[u8]) -> bool {
    let (name, port) = if host.first() == Some(&b'[') {
        match host.iter().position(|&b| b == b']') {
            Some(end) => {
                let inner = &host[1..end];
                if inner.is_empty()
                    || !inner
                        .iter()
                        .all(|&b| b.is_ascii_hexdigit() || b == b':' || b == b'.')
                {
                    return false;
                }
                (&host[..0], &host[end + 1..])
            }
            None => return false,
        }
    } else {
        match host.iter().rposition(|&b| b == b':') {
            Some(c) => (&host[..c], &host[c..]),
            None => (host, &host[..0]),
        }
    };
    let port_ok = port.is_empty() || (port[0] == b':' && port[1..].iter().all(u8::is_ascii_digit));
    let name_ok = name
        .iter()
        .all(|&b| b.is_ascii_alphanumeric() || b"-._".contains(&b));
    port_ok && name_ok
}

fn merge_duplicates(mut raw: Vec<(Bytes, Bytes)>) -> Vec<(Bytes, Bytes)> {
    let mut i = 0;
    while i < raw.len() {
        let mut j = i + 1;
        while j < raw.len() {
            if raw[j].0.eq_ignore_ascii_case(&raw[i].0) {
                let (_, value) = raw.remove(j);
                let first = &raw[i].1;
                let mut joined = Vec::with_capacity(first.len() + 2 + value.len());
                joined.extend_from_slice(first);
                joined.extend_from_slice(b", ");
                joined.extend_from_slice(&value);
                raw[i].1 = Bytes::from(joined);
            } else {
                j += 1;
            }
        }
        i += 1;
    }
    raw
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(raw: &str) -> Result<RequestHead, HeadError> {
        let end = find_head_end(raw.as_bytes()).expect("complete head");
        parse_head(&raw.as_bytes()[..end], &HeadLimits::default())
    }

    #[test]
    fn parses_a_plain_get() {
        let h = parse("GET /a?b=c HTTP/1.1\r\nHost: x\r\nUser-Agent: t\r\n\r\n").unwrap();
        assert_eq!(h.method, "GET");
        assert_eq!(&h.target[..], b"/a?b=c");
        assert_eq!(h.version, "HTTP/1.1");
        assert_eq!(h.header("user-agent"), Some(&b"t"[..]));
        assert!(h.keep_alive);
        assert_eq!(h.framing, BodyFraming::None);
    }

    #[test]
    fn accepts_bare_lf_and_raw_bytes_in_the_target() {
        let h = parse("GET /x?a=<b>\"①\" HTTP/1.0\nHost: x\n\n").unwrap();
        assert_eq!(h.target_str(), "/x?a=<b>\"①\"");
        assert!(!h.keep_alive);
    }

    #[test]
    fn refuses_what_apache_refuses() {
        for raw in [
            "     GET / HTTP/1.1\r\nHost: x\r\n\r\n",
            "\tGET / HTTP/1.1\r\nHost: x\r\n\r\n",
            "GET \\ HTTP/1.1\r\nHost: x\r\n\r\n",
            "GET / HTTP\\1.0\r\nHost: x\r\n\r\n",
            "GET / HTTP/0.9\r\nHost: x\r\n\r\n",
            "GET / JUNK/1.0\r\nHost: x\r\n\r\n",
            "GET / 1.1\r\nHost: x\r\n\r\n",
            "GET /a b HTTP/1.1\r\nHost: x\r\n\r\n",
            "GET /#frag HTTP/1.1\r\nHost: x\r\n\r\n",
            "CONNECT www.example.org HTTP/1.1\r\nHost: x\r\n\r\n",
            "GET / HTTP/1.1\r\nHost: localhost%00\r\n\r\n",
            "GET / HTTP/1.1\r\nHost: \r\n\r\n",
            "GET / HTTP/1.1\r\nHost: x\r\nContent-Length: 3;\r\n\r\n",
            "GET / HTTP/1.1\r\nHost: x\r\nContent-Length: NotDigits\r\n\r\n",
            "GET / HTTP/1.1\r\nHost: x\r\nA: b\rInjected: c\r\n\r\n",
            "GET / HTTP/1.1\r\nHost: x\r\nBad Name: c\r\n\r\n",
        ] {
            let err = parse(raw).expect_err(raw);
            assert_eq!(err.status, 400, "{raw:?}: {}", err.reason);
        }
    }

    #[test]
    fn accepts_odd_but_legal_requests() {
        for raw in [
            "GET / HTTP/4.0\r\nHost: x\r\n\r\n",
            "|GET / HTTP/1.1\r\nHost: x\r\n\r\n",
            "OPTIONS * HTTP/1.1\r\nHost: x\r\n\r\n",
            "CONNECT 1.2.3.4:80 HTTP/1.1\r\nHost: x\r\n\r\n",
            "GET http://example.org/a HTTP/1.1\r\nHost: x\r\n\r\n",
            "GET / HTTP/1.0\r\nHost:\r\n\r\n",
            "GET / HTTP/1.0\r\n\r\n",
        ] {
            parse(raw).unwrap_or_else(|e| panic!("{raw:?}: {e:?}"));
        }
    }

    #[test]
    fn request_line_without_version_is_http09() {
        let raw = b"GET / \r\nHost: x\r\n\r\n";
        let end = find_head_end(raw).unwrap();
        assert_eq!(end, 8);
        let h = parse_head(&raw[..end], &HeadLimits::default()).unwrap();
        assert!(h.is_http09());
        assert!(h.headers.is_empty());
    }

    #[test]
    fn merges_duplicates_and_lets_chunked_win() {
        let h = parse(
            "POST / HTTP/1.1\r\nHost: x\r\nContent-Type: a\r\ncontent-type: b\r\nContent-Length: 7\r\n\
             Transfer-Encoding: chunked\r\n\r\n",
        )
        .unwrap();
        assert_eq!(h.header("content-type"), Some(&b"a, b"[..]));
        assert_eq!(h.header("content-length"), None);
        assert_eq!(h.framing, BodyFraming::Chunked);
    }

    #[test]
    fn enforces_limits() {
        let limits = HeadLimits {
            max_request_line: 20,
            max_header_line: 20,
            max_headers: 2,
        };
        let p = |raw: &str| {
            let end = find_head_end(raw.as_bytes()).unwrap();
            parse_head(&raw.as_bytes()[..end], &limits)
        };
        assert_eq!(
            p("GET /aaaaaaaaaaaaaaaaaaaaaa HTTP/1.1\r\nHost: x\r\n\r\n")
                .unwrap_err()
                .status,
            414
        );
        assert_eq!(
            p("GET / HTTP/1.1\r\nHost: x\r\nA: 1\r\nB: 2\r\n\r\n")
                .unwrap_err()
                .status,
            400
        );
        assert_eq!(
            p("GET / HTTP/1.1\r\nHost: xxxxxxxxxxxxxxxxxxxxxxx\r\n\r\n")
                .unwrap_err()
                .status,
            400
        );
    }

    #[test]
    fn conflicting_lengths_and_unknown_codings_are_refused() {
        assert_eq!(
            parse("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n")
                .unwrap_err()
                .status,
            400
        );
        assert_eq!(
            parse("POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip\r\n\r\n")
                .unwrap_err()
                .status,
            501
        );
        let h =
            parse("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nContent-Length: 5\r\n\r\n").unwrap();
        assert_eq!(h.framing, BodyFraming::Length(5));
    }

    #[test]
    fn never_panics_on_random_or_mutated_input() {
        // A small deterministic fuzz loop: random bytes and single-byte mutations of valid heads.
        let mut seed: u64 = 0x9e37_79b9_7f4a_7c15;
        let mut next = move || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed
        };
        let base =
            b"POST /a?b=c HTTP/1.1\r\nHost: x:80\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n"
                .to_vec();
        let alphabet = b" \t\r\n:/?#%HTTP1.0\x00\x7f\xff-,;chunked";
        for i in 0..20_000 {
            let input: Vec<u8> = if i % 2 == 0 {
                let len = (next() % 120) as usize;
                (0..len)
                    .map(|_| alphabet[(next() % alphabet.len() as u64) as usize])
                    .collect()
            } else {
                let mut m = base.clone();
                for _ in 0..(1 + next() % 4) {
                    let pos = (next() % m.len() as u64) as usize;
                    m[pos] = alphabet[(next() % alphabet.len() as u64) as usize];
                }
                m
            };
            if let Some(end) = find_head_end(&input) {
                let _ = parse_head(&input[..end], &HeadLimits::default());
            }
            let _ = parse_head(&input, &HeadLimits::default());
        }
    }
}
