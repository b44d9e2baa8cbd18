//! OpenSSH (`sshd`, `sshd-session`, `sshd-auth`). The verb of every message is at its
//! start and the address at its end (`… from IP port N ssh2`, `… IP port N
//! [preauth]`): the user name in between is attacker-controlled, so the address is
//! always taken from the end.

use super::{addr_field, find, ip, rfind, tail_ip_port, Event, Kind, Malformed, Outcome, Service};

/// Parses the message part of an sshd syslog line.
pub fn parse(msg: &[u8]) -> Outcome<'_> {
    classify(msg).unwrap_or(Outcome::Ignored)
}

/// A line without a syslog header (`sshd -E FILE`): `None` unless it starts like an
/// sshd message.
pub fn parse_raw(line: &[u8]) -> Option<Outcome<'_>> {
    classify(line)
}

fn classify(msg: &[u8]) -> Option<Outcome<'_>> {
    let m = msg
        .strip_prefix(b"error: ")
        .or_else(|| msg.strip_prefix(b"fatal: "))
        .unwrap_or(msg);
    let (m, preauth) = match m.strip_suffix(b" [preauth]") {
        Some(r) => (r, true),
        None => (m, false),
    };
    Some(match m.first()? {
        b'F' => failed(m.strip_prefix(b"Failed ")?, Kind::Failure)?,
        b'A' => failed(m.strip_prefix(b"Accepted ")?, Kind::Success)?,
        b'I' => {
            let r = m
                .strip_prefix(b"Invalid user ")
                .or_else(|| m.strip_prefix(b"Illegal user "))?;
            invalid_user(r)
        }
        b'C' => {
            if let Some(r) = m.strip_prefix(b"Connection closed by ") {
                closed(r, preauth, false)
            } else if let Some(r) = m.strip_prefix(b"Connection reset by ") {
                closed(r, preauth, false)
            } else if m.starts_with(b"Connection from ") {
                Outcome::Ignored
            } else {
                return None;
            }
        }
        b'D' => {
            if let Some(r) = m.strip_prefix(b"Disconnected from ") {
                if r.starts_with(b"user ") {
                    Outcome::Ignored
                } else {
                    closed(r, preauth, false)
                }
            } else if let Some(r) = m.strip_prefix(b"Disconnecting ") {
                match r.strip_suffix(b": Too many authentication failures") {
                    Some(r) => closed(r, true, true),
                    None => Outcome::Ignored,
                }
            } else if let Some(r) = m.strip_prefix(b"Did not receive identification string from ") {
                front(r, Kind::Scanner)
            } else {
                return None;
            }
        }
        b'R' => {
            let r = m.strip_prefix(b"Received disconnect from ")?;
            if preauth {
                front(r, Kind::Scanner).secondary()
            } else {
                Outcome::Ignored
            }
        }
        b'U' => {
            if let Some(r) = m.strip_prefix(b"User ") {
                not_allowed(r)
            } else if let Some(r) = m.strip_prefix(b"Unable to negotiate with ") {
                front(r, Kind::Scanner)
            } else {
                return None;
            }
        }
        b'T' => front(
            m.strip_prefix(b"Timeout before authentication for ")?,
            Kind::Scanner,
        ),
        b'b' => front(
            m.strip_prefix(b"banner exchange: Connection from ")?,
            Kind::Scanner,
        ),
        b'B' => {
            let r = m.strip_prefix(b"Bad protocol version identification ")?;
            match tail_from_ip_port(r) {
                Some((_, ipb, port)) => event(ipb, Kind::Scanner, Some(port), None, false),
                None => Outcome::Malformed(Malformed::BadAddress),
            }
        }
        b'm' => {
            let r = m.strip_prefix(b"maximum authentication attempts exceeded for ")?;
            match failed_tail(r) {
                Some((user, invalid, ipb, port)) => {
                    event(ipb, Kind::Failure, Some(port), Some(user), invalid).secondary()
                }
                None => Outcome::Malformed(Malformed::BadAddress),
            }
        }
        b'p' if m.starts_with(b"pam_unix(") => match super::mail::pam_unix(m) {
            // sshd logs its own "Failed password" line for the same attempt.
            Outcome::Event(e) => Outcome::Event(e.weight(0)),
            o => o,
        },
        b'k' if m.starts_with(b"kex_exchange_identification: ") => Outcome::Ignored,
        b'S' if m.starts_with(b"Server listening on ") || m.starts_with(b"Starting session: ") => {
            Outcome::Ignored
        }
        _ => return None,
    })
}

trait Secondary {
    fn secondary(self) -> Self;
}

impl Secondary for Outcome<'_> {
    fn secondary(self) -> Self {
        match self {
            Outcome::Event(e) => Outcome::Event(e.secondary()),
            o => o,
        }
    }
}

fn event<'a>(
    ipb: &[u8],
    kind: Kind,
    port: Option<u16>,
    user: Option<&'a [u8]>,
    invalid: bool,
) -> Outcome<'a> {
    match addr_field(ipb) {
        Ok(addr) => {
            let mut e = Event::new(Service::Ssh, kind, addr).port(port).invalid(invalid);
            e.user = user;
            Outcome::Event(e)
        }
        Err(o) => o,
    }
}

/// `HEAD from IP port N` at the end of `s`.
fn tail_from_ip_port(s: &[u8]) -> Option<(&[u8], &[u8], u16)> {
    let (head, ipb, port) = tail_ip_port(s)?;
    let head = head.strip_suffix(b" from")?;
    Some((head, ipb, port))
}

/// `[invalid user ]USER from IP port N ssh2[: KEYTYPE FINGERPRINT]` →
/// (user, invalid, address bytes, port).
fn failed_tail(r: &[u8]) -> Option<(&[u8], bool, &[u8], u16)> {
    let r = match r.strip_suffix(b" ssh2") {
        Some(r) => r,
        None => {
            // Public-key lines end with ": ED25519 SHA256:…" — two tokens after " ssh2".
            let i = rfind(r, b" ssh2: ")?;
            let key = &r[i + 7..];
            if key.iter().filter(|&&c| c == b' ').count() > 1 {
                return None;
            }
            &r[..i]
        }
    };
    let (user, ipb, port) = tail_from_ip_port(r)?;
    let (user, invalid) = match user.strip_prefix(b"invalid user ") {
        Some(u) => (u, true),
        None => (user, false),
    };
    Some((user, invalid, ipb, port))
}

/// `METHOD for …` after "Failed " / "Accepted ".
fn failed(r: &[u8], kind: Kind) -> Option<Outcome<'_>> {
    let sp = find(r, b" for ")?;
    let method = &r[..sp];
    if method.is_empty() || method.contains(&b' ') {
        return None;
    }
    Some(match failed_tail(&r[sp + 5..]) {
        Some((user, invalid, ipb, port)) => event(ipb, kind, Some(port), Some(user), invalid),
        None => Outcome::Malformed(Malformed::BadAddress),
    })
}

/// `USER from IP port N`. (OpenSSH before 7.5 logged no port; such lines are refused:
/// a truncated modern line would look the same with a cut address.)
fn invalid_user(r: &[u8]) -> Outcome<'_> {
    match tail_from_ip_port(r) {
        Some((user, ipb, port)) => event(ipb, Kind::Failure, Some(port), Some(user), true),
        None => Outcome::Malformed(Malformed::BadAddress),
    }
}

/// After "Connection closed by " / "Disconnected from " / "Disconnecting ":
/// `authenticating user USER IP port N`, `invalid user USER IP port N`, `user USER IP
/// port N` or `IP port N`. A closing line repeats a connection already counted, hence
/// secondary; a bare `IP port N` is a scanner that never authenticated.
fn closed(r: &[u8], preauth: bool, too_many: bool) -> Outcome<'_> {
    let Some((head, ipb, port)) = tail_ip_port(r) else {
        return Outcome::Malformed(Malformed::BadAddress);
    };
    if head.is_empty() {
        return event(ipb, Kind::Scanner, Some(port), None, false).secondary();
    }
    let (user, invalid) = if let Some(u) = head.strip_prefix(b"authenticating user ") {
        (u, false)
    } else if let Some(u) = head.strip_prefix(b"invalid user ") {
        (u, true)
    } else if let Some(u) = head.strip_prefix(b"user ") {
        // An authenticated session ending.
        if !too_many {
            return Outcome::Ignored;
        }
        (u, false)
    } else {
        return Outcome::Malformed(Malformed::BadAddress);
    };
    if !preauth && !too_many {
        return Outcome::Ignored;
    }
    event(ipb, Kind::Probe, Some(port), Some(user), invalid).secondary()
}

/// `IP port N…` right after a fixed prefix: nothing attacker-controlled precedes it.
/// The port is required, so a line cut inside the address is not read as a shorter one.
fn front(r: &[u8], kind: Kind) -> Outcome<'_> {
    let Some(sp) = memchr::memchr(b' ', r) else {
        return Outcome::Malformed(Malformed::BadAddress);
    };
    let ipb = &r[..sp];
    let port = r[sp..].strip_prefix(b" port ").and_then(|p| {
        let end = p.iter().position(|c| !c.is_ascii_digit()).unwrap_or(p.len());
        ip::parse_port(&p[..end])
    });
    match port {
        Some(_) => event(ipb, kind, port, None, false),
        None => Outcome::Malformed(Malformed::BadAddress),
    }
}

/// `USER from IP not allowed because REASON` — REASON is sshd's own text.
fn not_allowed(r: &[u8]) -> Outcome<'_> {
    let Some(i) = rfind(r, b" not allowed because ") else {
        return Outcome::Ignored;
    };
    let head = &r[..i];
    match rfind(head, b" from ") {
        Some(j) => event(&head[j + 6..], Kind::Failure, None, Some(&head[..j]), false),
        None => Outcome::Malformed(Malformed::BadAddress),
    }
}
