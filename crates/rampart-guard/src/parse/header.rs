//! Syslog headers: RFC 3164 (`Mar  1 00:00:01 host sshd[42]: msg`), rsyslog's ISO form
//! (`2026-11-25T14:57:00.123456+00:00 host sshd[42]: msg`), RFC 5424
//! (`<34>1 2026-11-25T14:57:00Z host sshd 42 - - msg`) and ProFTPD's own
//! (`2013-11-16 21:59:30,121 host proftpd[25891] server (…)`).

use super::time;
use memchr::memchr;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Header<'a> {
    pub time: Option<i64>,
    pub tag: &'a [u8],
    pub pid: Option<u32>,
    pub msg: &'a [u8],
    /// The date and time were separated by a space (`2026-11-25 14:57:21`): this may
    /// be an application log line rather than syslog, so an unknown tag is not final.
    pub iso_space: bool,
}

pub fn syslog(line: &[u8], year: i32) -> Option<Header<'_>> {
    let mut s = line;
    if s.first() == Some(&b'<') {
        let end = memchr(b'>', &s[..s.len().min(6)])?;
        s = &s[end + 1..];
        if let Some(rest) = s.strip_prefix(b"1 ") {
            return rfc5424(rest);
        }
    }
    let (time, rest, iso_space) = match s.first()? {
        b'A'..=b'Z' => {
            let (t, rest) = rfc3164_time(s, year)?;
            (Some(t), rest, false)
        }
        b'0'..=b'9' => {
            let (t, rest, space) = iso_time(s)?;
            (Some(t), rest, space)
        }
        _ => return None,
    };
    let sp = memchr(b' ', rest)?;
    let host = &rest[..sp];
    if host.is_empty() {
        return None;
    }
    let (tag, pid, msg) = tag(&rest[sp + 1..])?;
    Some(Header {
        time,
        tag,
        pid,
        msg,
        iso_space,
    })
}

/// `Mmm dd HH:MM:SS ` (day space-padded or not) → (time, rest after the space).
fn rfc3164_time(s: &[u8], year: i32) -> Option<(i64, &[u8])> {
    if s.len() < 15 || s[3] != b' ' {
        return None;
    }
    let m = time::month(&s[..3])?;
    let mut i = 4;
    if s[i] == b' ' {
        i += 1;
    }
    let mut d = 0u32;
    let start = i;
    while i < s.len() && s[i].is_ascii_digit() && i - start < 2 {
        d = d * 10 + (s[i] - b'0') as u32;
        i += 1;
    }
    if i == start || !(1..=31).contains(&d) || s.get(i) != Some(&b' ') {
        return None;
    }
    i += 1;
    let t = time::hms(s.get(i..i + 8)?)?;
    if s.get(i + 8) != Some(&b' ') {
        return None;
    }
    Some((time::days_from_civil(year, m, d) * 86400 + t, &s[i + 9..]))
}

/// `YYYY-MM-DD[T ]HH:MM:SS[.frac|,ms][zone] ` → (time, rest, separated by space).
fn iso_time(s: &[u8]) -> Option<(i64, &[u8], bool)> {
    if s.len() < 20 {
        return None;
    }
    let days = time::ymd(&s[..10])?;
    let space = match s[10] {
        b'T' => false,
        b' ' => true,
        _ => return None,
    };
    let t = time::hms(&s[11..19])?;
    let end = 19 + memchr(b' ', &s[19..])?;
    let mut tail = &s[19..end];
    if let [b'.' | b',', rest @ ..] = tail {
        let digits = rest.iter().take_while(|c| c.is_ascii_digit()).count();
        tail = &rest[digits..];
    }
    let off = if tail.is_empty() { 0 } else { time::zone(tail)? };
    Some((days * 86400 + t - off, &s[end + 1..], space))
}

/// `tag[pid]: msg`, `tag: msg` or ProFTPD's `tag[pid] msg`.
fn tag(s: &[u8]) -> Option<(&[u8], Option<u32>, &[u8])> {
    let end = s.iter().position(|&c| c == b'[' || c == b':' || c == b' ')?;
    if end == 0 {
        return None;
    }
    let tag = &s[..end];
    let mut rest = &s[end..];
    let mut pid = None;
    if rest[0] == b'[' {
        let close = memchr(b']', &rest[..rest.len().min(12)])?;
        pid = Some(std::str::from_utf8(&rest[1..close]).ok()?.parse().ok()?);
        rest = &rest[close + 1..];
    }
    let msg = if let Some(m) = rest.strip_prefix(b": ") {
        m
    } else if let Some(m) = rest.strip_prefix(b":") {
        m
    } else if pid.is_some() {
        rest.strip_prefix(b" ")?
    } else {
        return None;
    };
    Some((tag, pid, msg))
}

fn token(s: &[u8]) -> Option<(&[u8], &[u8])> {
    let sp = memchr(b' ', s)?;
    Some((&s[..sp], &s[sp + 1..]))
}

fn rfc5424(s: &[u8]) -> Option<Header<'_>> {
    let (ts, s) = token(s)?;
    let time = if ts == b"-" {
        None
    } else {
        let mut with_space = ts.to_vec();
        with_space.push(b' ');
        iso_time(&with_space).map(|(t, _, _)| t)
    };
    let (_host, s) = token(s)?;
    let (app, s) = token(s)?;
    let (procid, s) = token(s)?;
    let (_msgid, mut s) = token(s)?;
    // Structured data: "-" or one or more [id param="value"...] elements; values may
    // hold escaped `]`.
    if let Some(r) = s.strip_prefix(b"-") {
        s = r;
    } else {
        while s.first() == Some(&b'[') {
            let mut i = 1;
            let mut quoted = false;
            while i < s.len() && (quoted || s[i] != b']') {
                match s[i] {
                    b'\\' => i += 1,
                    b'"' => quoted = !quoted,
                    _ => {}
                }
                i += 1;
            }
            s = s.get(i + 1..)?;
        }
    }
    let msg = s.strip_prefix(b" ").unwrap_or(s);
    let msg = msg.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(msg);
    let pid = std::str::from_utf8(procid).ok().and_then(|p| p.parse().ok());
    Some(Header {
        time,
        tag: app,
        pid,
        msg,
        iso_space: false,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc3164() {
        let h = syslog(b"Mar  1 00:00:01 web01 sshd[10019]: Failed password", 2026).unwrap();
        assert_eq!(h.tag, b"sshd");
        assert_eq!(h.pid, Some(10019));
        assert_eq!(h.msg, b"Failed password");
        assert_eq!(h.time, Some(time::days_from_civil(2026, 3, 1) * 86400 + 1));
        let h = syslog(
            b"Feb 1 00:00:00 myhost proftpd[12345] myhost.domain.com (x)",
            2026,
        )
        .unwrap();
        assert_eq!((h.tag, h.msg), (&b"proftpd"[..], &b"myhost.domain.com (x)"[..]));
        let h = syslog(b"Oct 23 21:15:42 vps vsftpd: pam_unix(vsftpd:auth)", 2026).unwrap();
        assert_eq!((h.tag, h.pid), (&b"vsftpd"[..], None));
        let h = syslog(b"Mar 10 13:33:30 gandalf postfix/smtpd[3937]: warning: x", 2026).unwrap();
        assert_eq!(h.tag, b"postfix/smtpd");
    }

    #[test]
    fn iso_and_5424() {
        let h = syslog(b"2026-11-25T14:57:00.123456+01:00 host sshd-session[4]: hi", 2026).unwrap();
        assert_eq!(h.tag, b"sshd-session");
        assert_eq!(
            h.time,
            Some(time::days_from_civil(2026, 11, 25) * 86400 + 13 * 3600 + 57 * 60)
        );
        assert!(!h.iso_space);
        let h = syslog(
            b"<34>1 2026-11-25T14:57:00Z host sshd 42 - [x a=\"]\\]\"] Failed x",
            2026,
        )
        .unwrap();
        assert_eq!((h.tag, h.pid, h.msg), (&b"sshd"[..], Some(42), &b"Failed x"[..]));
        let h = syslog(b"<13>1 - host sshd - - - msg", 2026).unwrap();
        assert_eq!((h.time, h.msg), (None, &b"msg"[..]));
    }

    #[test]
    fn not_syslog() {
        assert!(syslog(b"Failed password for root from 1.2.3.4 port 1 ssh2", 2026).is_none());
        assert!(syslog(b"", 2026).is_none());
        assert!(syslog(b"Mar", 2026).is_none());
        assert!(syslog(b"<999999999", 2026).is_none());
        let h = syslog(b"2026-11-25 14:57:21 4 [Warning] Access denied", 2026);
        assert!(h.is_none() || h.unwrap().iso_space);
    }
}
