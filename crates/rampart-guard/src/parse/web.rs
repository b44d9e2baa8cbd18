//! Web logins: nginx and Apache basic-auth failures (error logs) and WordPress
//! login/XML-RPC POST floods (access logs).

use super::{addr_field, find, ip, Event, Kind, Malformed, Outcome, Service};
use memchr::{memchr, memmem};

/// nginx error log: `… [error] PID#TID: *CID user "NAME": password mismatch, client:
/// IP, server: …, request: "…", host: "…"` or `user "NAME" was not found in "FILE",
/// client: …`. The user name, the request line and the Host header are the client's
/// and unescaped, so `, client: ` must occur exactly once or the line is refused.
pub fn nginx_error(line: &[u8]) -> Option<Outcome<'_>> {
    if line.len() < 20 || line[4] != b'/' {
        return None;
    }
    let i = find(line, b" [error] ")?;
    let m = &line[i + 9..];
    let u = find(&m[..m.len().min(40)], b": *")?;
    let m = &m[u..];
    let r = memchr(b' ', &m[2..]).map(|x| &m[2 + x + 1..])?;
    if !r.starts_with(b"user \"") {
        return Some(Outcome::Ignored);
    }
    if find(r, b"\": password mismatch, client: ").is_none() && find(r, b"\" was not found in \"").is_none() {
        return Some(Outcome::Ignored);
    }
    let mut hits = memmem::find_iter(r, b", client: ");
    let (Some(c), None) = (hits.next(), hits.next()) else {
        return Some(Outcome::Malformed(Malformed::Ambiguous));
    };
    let v = &r[c + 10..];
    let Some(end) = memchr(b',', v) else {
        return Some(Outcome::Malformed(Malformed::BadAddress));
    };
    Some(match addr_field(&v[..end]) {
        Ok(a) => Outcome::Event(Event::new(Service::HttpAuth, Kind::Failure, a)),
        Err(o) => o,
    })
}

/// Apache error log: `[TIME] [auth_basic:error] [pid N:tid M] [client IP:PORT] AH01617:
/// user NAME: authentication failure for "/x": Password Mismatch` (2.4) or
/// `[TIME] [error] [client IP] user NAME not found: /` (2.2). The client field precedes
/// everything the client sent.
pub fn apache_error(line: &[u8]) -> Outcome<'_> {
    let Some(i) = find(line, b"] [client ") else {
        return Outcome::Malformed(Malformed::Unrecognised);
    };
    let head = &line[..i];
    let r = &line[i + 10..];
    let Some(close) = memchr(b']', r) else {
        return Outcome::Malformed(Malformed::BadAddress);
    };
    let msg = r[close + 1..].strip_prefix(b" ").unwrap_or(&r[close + 1..]);
    let msg = if msg.len() > 9 && msg.starts_with(b"AH") && msg[7] == b':' {
        &msg[9..]
    } else {
        msg
    };
    if !msg.starts_with(b"user ")
        || !(find(msg, b": authentication failure for \"").is_some() || find(msg, b" not found: ").is_some())
    {
        return Outcome::Ignored;
    }
    let field = &r[..close];
    // 2.4 (`[pid N:tid M]`) always logs a port; 2.2 never does, and an IPv6 address
    // cannot be told from address:port by itself.
    let with_port = find(head, b"] [pid ").is_some();
    let addr = if with_port {
        let c = field.iter().rposition(|&c| c == b':');
        match c {
            Some(c) if ip::parse_port(&field[c + 1..]).is_some() => {
                let a = &field[..c];
                let a = a
                    .strip_prefix(b"[")
                    .and_then(|x| x.strip_suffix(b"]"))
                    .unwrap_or(a);
                addr_field(a)
            }
            _ => Err(Outcome::Malformed(Malformed::BadAddress)),
        }
    } else {
        addr_field(field)
    };
    match addr {
        Ok(a) => Outcome::Event(Event::new(Service::HttpAuth, Kind::Failure, a)),
        Err(o) => o,
    }
}

/// Access log (common/combined): `IP - USER [TIME] "POST /wp-login.php HTTP/1.1" 200 …`.
/// A failed WordPress login answers 200 (success redirects with 302); every XML-RPC
/// POST may carry hundreds of guesses (system.multicall). The address is the first
/// field, before anything the client sent.
pub fn access(line: &[u8]) -> Option<Outcome<'_>> {
    let sp = memchr(b' ', &line[..line.len().min(46)])?;
    let addr = ip::parse_ip(&line[..sp])?;
    let q = find(line, b"] \"")?;
    let req = &line[q + 3..];
    let Some(path) = req.strip_prefix(b"POST ") else {
        return Some(Outcome::Ignored);
    };
    let pend = path
        .iter()
        .position(|&c| c == b' ' || c == b'?')
        .unwrap_or(path.len());
    let p = &path[..pend];
    let is_login = p.ends_with(b"/wp-login.php");
    if !(is_login || p.ends_with(b"/xmlrpc.php")) {
        return Some(Outcome::Ignored);
    }
    let close = find(path, b"\" ")?;
    let status = path.get(close + 2..close + 5)?;
    if status == b"200" || (!is_login && status != b"302") {
        Some(Outcome::Event(Event::new(
            Service::Wordpress,
            Kind::Failure,
            addr,
        )))
    } else if is_login && status == b"302" {
        Some(Outcome::Event(Event::new(
            Service::Wordpress,
            Kind::Success,
            addr,
        )))
    } else {
        Some(Outcome::Ignored)
    }
}
