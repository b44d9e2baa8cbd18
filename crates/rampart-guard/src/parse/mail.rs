//! Mail (Dovecot, Postfix SASL) and the PAM lines every service shares.

use super::{addr_field, find, rfind, Event, Kind, Malformed, Outcome, Service};
use memchr::memchr;

/// `pam_unix(SERVICE:auth): authentication failure; logname= uid=0 euid=0 tty=T
/// ruser=R rhost=ADDR  user=U`. `ruser` (before) and `user` (after) are both the
/// client's text, so `rhost=` must occur exactly once.
pub fn pam_unix(msg: &[u8]) -> Outcome<'_> {
    let Some(r) = msg.strip_prefix(b"pam_unix(") else {
        return Outcome::Ignored;
    };
    let Some(colon) = memchr(b':', r) else {
        return Outcome::Ignored;
    };
    let service = &r[..colon];
    if !r[colon..].starts_with(b":auth): authentication failure;") {
        return Outcome::Ignored;
    }
    let mut hits = memchr::memmem::find_iter(r, b" rhost=");
    let (Some(i), None) = (hits.next(), hits.next()) else {
        return Outcome::Malformed(Malformed::Ambiguous);
    };
    let v = &r[i + 7..];
    // rhost often ends the line; a line near syslog's 1 KiB truncation limit may have
    // been cut inside the address (the client controls its length through ruser).
    let end = match memchr(b' ', v) {
        Some(e) => e,
        None if msg.len() < 900 => v.len(),
        None => return Outcome::Malformed(Malformed::BadAddress),
    };
    if end == 0 {
        return Outcome::Ignored; // local login attempt
    }
    let svc = match service {
        b"sshd" => Service::Ssh,
        b"vsftpd" | b"proftpd" | b"pure-ftpd" => Service::Ftp,
        b"dovecot" | b"smtp" | b"imap" | b"pop3" => Service::Mail,
        _ => return Outcome::Ignored,
    };
    let user = find(v, b"user=").map(|u| &v[u + 5..]);
    match addr_field(&v[..end]) {
        Ok(a) => {
            let mut e = Event::new(svc, Kind::Failure, a);
            e.user = user;
            Outcome::Event(e)
        }
        Err(o) => o,
    }
}

/// Dovecot's syslog messages: login processes (`imap-login: Disconnected (auth failed,
/// 2 attempts): user=<u>, method=PLAIN, rip=IP, lip=IP, …`) and passdb lines.
pub fn dovecot(msg: &[u8]) -> Outcome<'_> {
    if msg.starts_with(b"pam_unix(") {
        return pam_unix(msg);
    }
    if let Some(o) = login(msg) {
        return o;
    }
    passdb(msg).unwrap_or(Outcome::Ignored)
}

/// Dovecot's own log file (`2013-08-11 03:56:40 imap-login: …`).
pub fn dovecot_file(line: &[u8]) -> Option<Outcome<'_>> {
    if line.len() < 20 || !line[0].is_ascii_digit() {
        return None;
    }
    let msg = &line[20..];
    login(msg).or_else(|| passdb(msg))
}

fn login(msg: &[u8]) -> Option<Outcome<'_>> {
    let i = find(&msg[..msg.len().min(40)], b"-login: ")?;
    let m = &msg[i + 8..];
    // The reason before ": user=<" is Dovecot's; everything after may be the client's.
    let u = find(m, b": user=<").or_else(|| find(m, b"user=<"))?;
    let reason = &m[..u];
    let kind = if find(reason, b"auth failed").is_some() {
        Kind::Failure
    } else if reason == b"Login" {
        Kind::Success
    } else {
        return Some(Outcome::Ignored);
    };
    let attempts = find(reason, b"auth failed, ")
        .map(|a| {
            let n = &reason[a + 13..];
            let digits = n.iter().take_while(|c| c.is_ascii_digit()).count();
            std::str::from_utf8(&n[..digits])
                .ok()
                .and_then(|s| s.parse::<u32>().ok())
                .unwrap_or(1)
        })
        .unwrap_or(1);
    let Some(r) = rfind(m, b", rip=") else {
        return Some(Outcome::Malformed(Malformed::BadAddress));
    };
    let v = &m[r + 6..];
    // `, lip=` always follows: without it the line may be cut inside the address.
    let Some(end) = memchr(b',', v) else {
        return Some(Outcome::Malformed(Malformed::BadAddress));
    };
    Some(match addr_field(&v[..end]) {
        Ok(a) => Outcome::Event(
            Event::new(Service::Mail, kind, a).weight(if kind == Kind::Failure {
                attempts.clamp(1, 10) as u8
            } else {
                0
            }),
        ),
        Err(o) => o,
    })
}

/// `auth-worker(default): Info: pam(USER,IP): pam_authenticate() failed: …`,
/// `auth: passwd-file(USER,IP): Password mismatch`: the login process's line counts
/// the same attempts, so these are informational (weight 0).
fn passdb(msg: &[u8]) -> Option<Outcome<'_>> {
    let anchors: [&[u8]; 3] = [
        b"): pam_authenticate() failed",
        b"): Password mismatch",
        b"): unknown user",
    ];
    let i = anchors.iter().filter_map(|a| rfind(msg, a)).max()?;
    let mut inner = &msg[..i];
    if inner.ends_with(b">") {
        // sql(user,ip,<session>)
        inner = &inner[..inner.iter().rposition(|&c| c == b',')?];
    }
    let c = inner.iter().rposition(|&c| c == b',')?;
    Some(match addr_field(&inner[c + 1..]) {
        Ok(a) => Outcome::Event(Event::new(Service::Mail, Kind::Failure, a).weight(0)),
        Err(o) => o,
    })
}

/// Postfix smtpd: `warning: HOST[IP]: SASL MECH authentication failed: …`. HOST is a
/// validated DNS name or `unknown`, so the first `[` is Postfix's.
pub fn postfix(msg: &[u8]) -> Outcome<'_> {
    let Some(r) = msg.strip_prefix(b"warning: ") else {
        return Outcome::Ignored;
    };
    let Some(lb) = memchr(b'[', r) else {
        return Outcome::Ignored;
    };
    let Some(rb) = memchr(b']', &r[lb..]).map(|x| x + lb) else {
        return Outcome::Ignored;
    };
    let after = &r[rb + 1..];
    if !after.starts_with(b": SASL ") || find(after, b" authentication failed").is_none() {
        return Outcome::Ignored;
    }
    match addr_field(&r[lb + 1..rb]) {
        Ok(a) => Outcome::Event(Event::new(Service::Mail, Kind::Failure, a)),
        Err(o) => o,
    }
}
