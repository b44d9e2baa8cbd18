//! Log line parsers. A line is bytes (`&[u8]`): logs carry attacker-controlled text
//! (user names, request lines) in any encoding.
//!
//! Speed comes from dispatch, not from clever matching: the syslog header names the
//! program, the program picks one family parser, and each family parser checks a
//! handful of fixed message prefixes with `starts_with`/`memchr`. Lines without a
//! syslog header (application log files, `sshd -E` output) are sniffed once by
//! a few substrings.
//!
//! Attacker-controlled fields (user names, request lines) must never decide which
//! address is reported: each parser takes the address from a position fixed by the
//! service's own format — the END of an OpenSSH message (`… from IP port N ssh2`),
//! the front of a Postfix warning, a field that can appear only once — and refuses
//! lines where that position is ambiguous.

pub mod db;
pub mod ftp;
pub mod header;
pub mod ip;
pub mod mail;
pub mod ssh;
pub mod time;
pub mod web;

use memchr::memmem;
use serde::Serialize;
use std::net::IpAddr;

/// Lines longer than this are not parsed (counted as malformed).
pub const MAX_LINE: usize = 8 * 1024;

/// The login service an event belongs to; detection counts per address and service.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Service {
    Ssh,
    Ftp,
    Mysql,
    Postgres,
    Mail,
    HttpAuth,
    Wordpress,
}

impl Service {
    pub const ALL: [Service; 7] = [
        Service::Ssh,
        Service::Ftp,
        Service::Mysql,
        Service::Postgres,
        Service::Mail,
        Service::HttpAuth,
        Service::Wordpress,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Service::Ssh => "ssh",
            Service::Ftp => "ftp",
            Service::Mysql => "mysql",
            Service::Postgres => "postgres",
            Service::Mail => "mail",
            Service::HttpAuth => "httpauth",
            Service::Wordpress => "wordpress",
        }
    }

    pub fn from_name(s: &str) -> Option<Service> {
        Service::ALL.into_iter().find(|x| x.name() == s)
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Kind {
    /// A password (or other credential) was refused, or an unknown user was tried.
    Failure,
    /// A connection that tried to authenticate and gave up (key-only probing).
    Probe,
    /// A connection that never tried to authenticate (banner grabbers, port scanners).
    Scanner,
    /// A login succeeded.
    Success,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Event<'a> {
    pub service: Service,
    pub kind: Kind,
    pub addr: IpAddr,
    pub port: Option<u16>,
    /// The user name as logged (attacker-controlled; used only as a hash).
    pub user: Option<&'a [u8]>,
    /// The user does not exist on the server (feeds user-enumeration detection).
    pub invalid_user: bool,
    /// How many failures this line stands for (0: informational, e.g. a PAM line that
    /// the service's own line repeats; N: Dovecot's "auth failed, N attempts").
    pub weight: u8,
    /// A closing line of a connection (`Connection closed by authenticating user …`):
    /// counted only when no event of the same connection (address and port) was.
    pub secondary: bool,
}

impl<'a> Event<'a> {
    pub fn new(service: Service, kind: Kind, addr: IpAddr) -> Self {
        Event {
            service,
            kind,
            addr,
            port: None,
            user: None,
            invalid_user: false,
            weight: 1,
            secondary: false,
        }
    }
    pub fn port(mut self, port: Option<u16>) -> Self {
        self.port = port;
        self
    }
    pub fn user(mut self, user: &'a [u8]) -> Self {
        self.user = Some(user);
        self
    }
    pub fn invalid(mut self, invalid: bool) -> Self {
        self.invalid_user = invalid;
        self
    }
    pub fn weight(mut self, w: u8) -> Self {
        self.weight = w;
        self
    }
    pub fn secondary(mut self) -> Self {
        self.secondary = true;
        self
    }
}

/// Why a line could not be used.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Malformed {
    TooLong,
    Nul,
    /// A known failure message whose address field is not an address (999.1.1.1,
    /// garbage, a truncated line).
    BadAddress,
    /// The address position is not unique (an injected copy of the anchor text).
    Ambiguous,
    /// No known log format.
    Unrecognised,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Outcome<'a> {
    Event(Event<'a>),
    /// A well-formed line that says nothing about logins.
    Ignored,
    /// A login failure logged with a host name instead of an address (never resolved:
    /// DNS answers are attacker-controlled).
    NoAddress,
    Malformed(Malformed),
}

/// A parsed line: the outcome and, when the line carries one, its time (Unix seconds;
/// zone-less timestamps are read as UTC — only differences matter to detection).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Parsed<'a> {
    pub time: Option<i64>,
    pub outcome: Outcome<'a>,
}

/// Per-source parser state: the PostgreSQL pid → client address join and the year
/// assumed for RFC 3164 timestamps.
pub struct Parser {
    pub(crate) pg: db::PgJoin,
    year: i32,
    finders: Finders,
}

struct Finders {
    mysql: memmem::Finder<'static>,
    pg_fatal: memmem::Finder<'static>,
    pg_conn: memmem::Finder<'static>,
    vsftpd: memmem::Finder<'static>,
}

impl Default for Parser {
    fn default() -> Self {
        Parser::new(time::current_year())
    }
}

impl Parser {
    pub fn new(year: i32) -> Self {
        Parser {
            pg: db::PgJoin::default(),
            year,
            finders: Finders {
                mysql: memmem::Finder::new(db::MYSQL_ANCHOR),
                pg_fatal: memmem::Finder::new(db::PG_FATAL),
                pg_conn: memmem::Finder::new(db::PG_CONN),
                vsftpd: memmem::Finder::new(ftp::VSFTPD_ANCHOR),
            },
        }
    }

    /// Parses one line (without its newline).
    pub fn parse<'a>(&mut self, line: &'a [u8]) -> Parsed<'a> {
        let line = trim_end(line);
        if line.len() > MAX_LINE {
            return Parsed {
                time: None,
                outcome: Outcome::Malformed(Malformed::TooLong),
            };
        }
        if memchr::memchr(0, line).is_some() {
            return Parsed {
                time: None,
                outcome: Outcome::Malformed(Malformed::Nul),
            };
        }
        if let Some(h) = header::syslog(line, self.year) {
            if let Some(outcome) = self.dispatch(h.tag, h.pid, h.msg) {
                return Parsed {
                    time: h.time,
                    outcome,
                };
            }
            // A syslog line of a program no parser knows: nothing to see, unless the
            // "header" was really the date of an application log (MariaDB, PostgreSQL
            // files start with an ISO date too).
            if !h.iso_space {
                return Parsed {
                    time: h.time,
                    outcome: Outcome::Ignored,
                };
            }
        }
        self.sniff(line)
    }

    /// Parses a message whose program is known from elsewhere (journald's
    /// `SYSLOG_IDENTIFIER`); `None` when no parser handles `tag`.
    pub fn parse_message<'a>(&mut self, tag: &[u8], pid: Option<u32>, msg: &'a [u8]) -> Outcome<'a> {
        let msg = trim_end(msg);
        if msg.len() > MAX_LINE {
            return Outcome::Malformed(Malformed::TooLong);
        }
        if memchr::memchr(0, msg).is_some() {
            return Outcome::Malformed(Malformed::Nul);
        }
        self.dispatch(tag, pid, msg).unwrap_or(Outcome::Ignored)
    }

    fn dispatch<'a>(&mut self, tag: &[u8], pid: Option<u32>, msg: &'a [u8]) -> Option<Outcome<'a>> {
        Some(match tag {
            b"sshd" | b"sshd-session" | b"sshd-auth" => ssh::parse(msg),
            b"vsftpd" => ftp::vsftpd(msg),
            b"proftpd" => ftp::proftpd(msg),
            b"pure-ftpd" => ftp::pure_ftpd(msg),
            b"mysqld" | b"mariadbd" | b"mariadb" | b"mysql" => db::mysql(msg, &self.finders.mysql),
            b"postgres" | b"postgresql" => db::postgres(
                msg,
                pid,
                &mut self.pg,
                &self.finders.pg_fatal,
                &self.finders.pg_conn,
            ),
            b"dovecot" | b"imap-login" | b"pop3-login" | b"auth-worker" => mail::dovecot(msg),
            _ if tag.starts_with(b"postfix") && tag.ends_with(b"smtpd") => mail::postfix(msg),
            _ => return None,
        })
    }

    /// Lines without a syslog header: application log files and raw `sshd -E` output.
    fn sniff<'a>(&mut self, line: &'a [u8]) -> Parsed<'a> {
        let time = time::leading(line, self.year);
        let outcome = match line.first() {
            None => Outcome::Ignored,
            Some(b'[') => web::apache_error(line),
            _ => {
                if let Some(o) = ssh::parse_raw(line) {
                    o
                } else if self.finders.mysql.find(line).is_some() {
                    db::mysql(line, &self.finders.mysql)
                } else if self.finders.pg_fatal.find(line).is_some()
                    || self.finders.pg_conn.find(line).is_some()
                {
                    db::postgres(
                        line,
                        None,
                        &mut self.pg,
                        &self.finders.pg_fatal,
                        &self.finders.pg_conn,
                    )
                } else if db::looks_like_postgres(line) {
                    Outcome::Ignored
                } else if self.finders.vsftpd.find(line).is_some() {
                    ftp::vsftpd(line)
                } else if let Some(o) = web::nginx_error(line) {
                    o
                } else if let Some(o) = web::access(line) {
                    o
                } else if let Some(o) = mail::dovecot_file(line) {
                    o
                } else {
                    Outcome::Malformed(Malformed::Unrecognised)
                }
            }
        };
        Parsed { time, outcome }
    }
}

/// Strips trailing `\r`, `\n`, spaces and tabs.
pub fn trim_end(mut b: &[u8]) -> &[u8] {
    while let [rest @ .., last] = b {
        if matches!(last, b'\r' | b'\n' | b' ' | b'\t') {
            b = rest;
        } else {
            break;
        }
    }
    b
}

pub(crate) fn rfind(hay: &[u8], needle: &[u8]) -> Option<usize> {
    memmem::rfind(hay, needle)
}

pub(crate) fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    memmem::find(hay, needle)
}

/// `IP port N` at the very end of `s` (after the caller removed fixed suffixes):
/// returns what precedes the address (without the separating space), the address and
/// the port. The address is the last space-separated token before `port`, so text
/// injected earlier in `s` cannot move it.
pub(crate) fn tail_ip_port(s: &[u8]) -> Option<(&[u8], &[u8], u16)> {
    let p = rfind(s, b" port ")?;
    let port = ip::parse_port(&s[p + 6..])?;
    let before = &s[..p];
    let sp = memchr::memrchr(b' ', before);
    let (head, ip) = match sp {
        Some(i) => (&before[..i], &before[i + 1..]),
        None => (&before[..0], before),
    };
    Some((head, ip, port))
}

/// Maps an address field to an outcome-or-address: a valid address, a host name
/// (letters, no address), or a malformed field.
pub(crate) fn addr_field(b: &[u8]) -> Result<IpAddr, Outcome<'static>> {
    match ip::parse_ip(b) {
        Some(a) => Ok(a),
        None if ip::looks_like_hostname(b) => Err(Outcome::NoAddress),
        None => Err(Outcome::Malformed(Malformed::BadAddress)),
    }
}

#[cfg(test)]
mod tests;
