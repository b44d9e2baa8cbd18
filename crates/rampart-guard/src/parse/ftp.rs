//! FTP servers: vsftpd, ProFTPD, Pure-FTPd.

use super::{addr_field, find, mail, rfind, Event, Kind, Malformed, Outcome, Service};
use memchr::memchr;

pub const VSFTPD_ANCHOR: &[u8] = b" LOGIN: Client \"";

fn ev(ipb: &[u8], kind: Kind) -> Outcome<'static> {
    match addr_field(ipb) {
        Ok(a) => Outcome::Event(Event::new(Service::Ftp, kind, a)),
        Err(o) => o,
    }
}

/// vsftpd, its own log (`… [pid 5782] [bfuser] FAIL LOGIN: Client "127.0.0.1"`) or
/// syslog (`[bfuser] FAIL LOGIN: …`, `pam_unix(vsftpd:auth): …`). The user name in
/// brackets is attacker-controlled: the LAST ` LOGIN: Client "` is vsftpd's own.
pub fn vsftpd(msg: &[u8]) -> Outcome<'_> {
    if msg.starts_with(b"pam_unix(") {
        return mail::pam_unix(msg);
    }
    let Some(i) = rfind(msg, VSFTPD_ANCHOR) else {
        return Outcome::Ignored;
    };
    let kind = if msg[..i].ends_with(b"] FAIL") {
        Kind::Failure
    } else if msg[..i].ends_with(b"] OK") {
        Kind::Success
    } else {
        return Outcome::Ignored;
    };
    let rest = &msg[i + VSFTPD_ANCHOR.len()..];
    let Some(q) = memchr(b'"', rest) else {
        return Outcome::Malformed(Malformed::BadAddress);
    };
    // After the address: nothing, or vsftpd's reason `, "User is not in the allow user list."`.
    let after = &rest[q + 1..];
    if !(after.is_empty() || after.starts_with(b", \"")) {
        return Outcome::Malformed(Malformed::BadAddress);
    }
    ev(&rest[..q], kind)
}

/// ProFTPD: `SERVER (CLIENTNAME[IP]): MESSAGE` or `… (CLIENTNAME[IP]) - MESSAGE`. The
/// client part comes before anything the client typed.
pub fn proftpd(msg: &[u8]) -> Outcome<'_> {
    let Some(open) = find(msg, b" (") else {
        return Outcome::Ignored;
    };
    let r = &msg[open + 2..];
    let (Some(lb), Some(rb)) = (memchr(b'[', r), memchr(b']', r)) else {
        return Outcome::Ignored;
    };
    if rb < lb || !r[rb + 1..].starts_with(b")") {
        return Outcome::Ignored;
    }
    let ipb = &r[lb + 1..rb];
    let text = &r[rb + 2..];
    let text = text
        .strip_prefix(b": ")
        .or_else(|| text.strip_prefix(b" - "))
        .unwrap_or(text);
    let kind = if text.starts_with(b"USER ") {
        if text.ends_with(b": Login successful.") {
            Kind::Success
        } else if find(text, b"(Login failed)").is_some() || find(text, b": no such user found").is_some() {
            Kind::Failure
        } else {
            return Outcome::Ignored;
        }
    } else if text.starts_with(b"Maximum login attempts") || text.starts_with(b"SECURITY VIOLATION:") {
        Kind::Failure
    } else {
        return Outcome::Ignored;
    };
    ev(ipb, kind)
}

/// Pure-FTPd: `(?@IP) [WARNING] Authentication failed for user [NAME]` — before login
/// the account part is `?`, so the address directly follows a fixed prefix.
pub fn pure_ftpd(msg: &[u8]) -> Outcome<'_> {
    let Some(r) = msg.strip_prefix(b"(?@") else {
        return Outcome::Ignored;
    };
    let Some(close) = memchr(b')', r) else {
        return Outcome::Malformed(Malformed::BadAddress);
    };
    if r[close + 1..].starts_with(b" [WARNING] Authentication failed for user [") {
        ev(&r[..close], Kind::Failure)
    } else {
        Outcome::Ignored
    }
}
