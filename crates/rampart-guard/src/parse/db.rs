//! Databases: MariaDB/MySQL and PostgreSQL.

use super::{addr_field, find, ip, rfind, Event, Kind, Malformed, Outcome, Service};
use memchr::memmem::Finder;
use std::collections::HashMap;
use std::net::IpAddr;

pub const MYSQL_ANCHOR: &[u8] = b"Access denied for user '";
pub const PG_FATAL: &[u8] = b"FATAL:  ";
pub const PG_CONN: &[u8] = b"connection received: host=";

/// `Access denied for user 'USER'@'HOST'[ (using password: YES|NO)]`. The user name may
/// hold `'@'`: the host is the quoted field that ENDS the message.
pub fn mysql<'a>(msg: &'a [u8], finder: &Finder<'_>) -> Outcome<'a> {
    let Some(i) = finder.find(msg) else {
        return Outcome::Ignored;
    };
    let r = &msg[i + MYSQL_ANCHOR.len()..];
    let r = r
        .strip_suffix(b" (using password: YES)")
        .or_else(|| r.strip_suffix(b" (using password: NO)"))
        .unwrap_or(r);
    let Some(r) = r.strip_suffix(b"'") else {
        // "… to database 'x'" and other authorization (not authentication) denials.
        return Outcome::Ignored;
    };
    let Some(at) = rfind(r, b"'@'") else {
        return Outcome::Malformed(Malformed::BadAddress);
    };
    let host = &r[at + 3..];
    if host.contains(&b'\'') {
        return Outcome::Ignored;
    }
    match addr_field(host) {
        Ok(a) => Outcome::Event(Event::new(Service::Mysql, Kind::Failure, a).user(&r[..at])),
        Err(o) => o,
    }
}

/// PostgreSQL connections by backend pid, from `connection received: host=IP` lines,
/// for failure lines whose prefix has no `%h`. Bounded.
#[derive(Default)]
pub struct PgJoin {
    map: HashMap<u32, IpAddr>,
    order: std::collections::VecDeque<u32>,
}

const PG_JOIN_CAP: usize = 4096;

impl PgJoin {
    fn insert(&mut self, pid: u32, addr: IpAddr) {
        if self.map.insert(pid, addr).is_none() {
            self.order.push_back(pid);
            if self.order.len() > PG_JOIN_CAP {
                if let Some(old) = self.order.pop_front() {
                    self.map.remove(&old);
                }
            }
        }
    }
    fn get(&self, pid: u32) -> Option<IpAddr> {
        self.map.get(&pid).copied()
    }
}

/// The `[pid]` of a PostgreSQL log line (`%m [%p] …`).
fn line_pid(line: &[u8]) -> Option<(u32, usize)> {
    let open = find(&line[..line.len().min(64)], b" [")?;
    let r = &line[open + 2..];
    let close = memchr::memchr(b']', &r[..r.len().min(11)])?;
    let pid = std::str::from_utf8(&r[..close]).ok()?.parse().ok()?;
    Some((pid, open + 2 + close + 1))
}

pub fn postgres<'a>(
    line: &'a [u8],
    syslog_pid: Option<u32>,
    join: &mut PgJoin,
    fatal: &Finder<'_>,
    conn: &Finder<'_>,
) -> Outcome<'a> {
    let pid = line_pid(line);
    let pidn = pid.map(|p| p.0).or(syslog_pid);
    if let Some(i) = conn.find(line) {
        let r = &line[i + PG_CONN.len()..];
        let end = memchr::memmem::find(r, b" port=").unwrap_or(0);
        if let (Some(p), Some(a)) = (pidn, ip::parse_ip(&r[..end])) {
            join.insert(p, a);
        }
        return Outcome::Ignored;
    }
    let Some(f) = fatal.find(line) else {
        return Outcome::Ignored;
    };
    let m = &line[f + PG_FATAL.len()..];
    if let Some(r) = m.strip_prefix(b"no pg_hba.conf entry for host \"") {
        // The address follows fixed text; the user and database named later are the client's.
        let Some(q) = memchr::memchr(b'"', r) else {
            return Outcome::Malformed(Malformed::BadAddress);
        };
        return match addr_field(&r[..q]) {
            Ok(a) => Outcome::Event(Event::new(Service::Postgres, Kind::Failure, a)),
            Err(o) => o,
        };
    }
    let user = if let Some(r) = m.strip_prefix(b"password authentication failed for user \"") {
        r.strip_suffix(b"\"").unwrap_or(r)
    } else if let Some(r) = m.strip_prefix(b"role \"") {
        if !r.ends_with(b"\" does not exist") {
            return Outcome::Ignored;
        }
        &r[..r.len() - 16]
    } else if m.starts_with(b"Ident authentication failed")
        || m.starts_with(b"md5 authentication failed")
        || m.starts_with(b"authentication failed for user")
    {
        &m[..0]
    } else {
        return Outcome::Ignored;
    };
    if let Some(a) = pidn.and_then(|p| join.get(p)) {
        return Outcome::Event(Event::new(Service::Postgres, Kind::Failure, a).user(user));
    }
    // `%h` in log_line_prefix: `… [pid] USER@DB HOST FATAL:`. User and database are
    // the client's: accept the host only when USER@DB is a single token.
    if let Some((_, after_pid)) = pid {
        let pre = line[after_pid..f].trim_ascii();
        let parts: Vec<&[u8]> = pre.split(|&c| c == b' ').collect();
        if let [ud, host] = parts[..] {
            if ud.contains(&b'@') {
                if let Some(a) = ip::parse_ip(host) {
                    return Outcome::Event(Event::new(Service::Postgres, Kind::Failure, a).user(user));
                }
            }
        }
    }
    Outcome::NoAddress
}

/// Any other PostgreSQL log line (`… [pid] … DETAIL:  …`): severity words are followed
/// by two spaces.
pub fn looks_like_postgres(line: &[u8]) -> bool {
    line.first().is_some_and(|c| c.is_ascii_digit())
        && line_pid(line).is_some()
        && memchr::memmem::find(line, b":  ").is_some()
}
