//! A tiny blocking HTTP/1.1 client for probing the local web server: one `GET`, the
//! status line, short timeouts, nothing else read. No TLS (probes go to plain-HTTP
//! listeners over loopback).

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::Duration;
use thiserror::Error;

#[derive(Debug, Error)]
pub enum ProbeError {
    #[error("{addr}: cannot connect: {source}")]
    Connect {
        addr: SocketAddr,
        source: std::io::Error,
    },
    #[error("{addr}: {source}")]
    Io {
        addr: SocketAddr,
        source: std::io::Error,
    },
    #[error("{addr}: not an HTTP answer: {line:?}")]
    NotHttp { addr: SocketAddr, line: String },
}

#[derive(Debug, Clone, Copy)]
pub struct Timeouts {
    pub connect: Duration,
    pub io: Duration,
}

impl Default for Timeouts {
    fn default() -> Self {
        Timeouts {
            connect: Duration::from_millis(300),
            io: Duration::from_millis(800),
        }
    }
}

/// Sends `GET path` with `Host: host` to `addr` and returns the status code.
pub fn get_status(addr: SocketAddr, host: &str, path: &str, t: Timeouts) -> Result<u16, ProbeError> {
    let mut s = TcpStream::connect_timeout(&addr, t.connect)
        .map_err(|source| ProbeError::Connect { addr, source })?;
    let io = |source| ProbeError::Io { addr, source };
    s.set_read_timeout(Some(t.io)).map_err(io)?;
    s.set_write_timeout(Some(t.io)).map_err(io)?;
    // Header values come from config files of a possibly hostile host: no CR/LF.
    let clean = |v: &str| v.chars().filter(|c| !c.is_control()).collect::<String>();
    let req = format!(
        "GET {} HTTP/1.1\r\nHost: {}\r\nUser-Agent: rampart-triage\r\nAccept: */*\r\nConnection: close\r\n\r\n",
        clean(path),
        clean(host)
    );
    s.write_all(req.as_bytes()).map_err(io)?;
    // The status line is all we need: `HTTP/1.1 200 OK`.
    let mut buf = [0u8; 256];
    let mut got = 0;
    while got < buf.len() {
        match s.read(&mut buf[got..]) {
            Ok(0) => break,
            Ok(n) => {
                got += n;
                if buf[..got].contains(&b'\n') {
                    break;
                }
            }
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(io(e)),
        }
    }
    let line = String::from_utf8_lossy(&buf[..got]);
    let line = line.lines().next().unwrap_or("").to_string();
    let mut parts = line.split_whitespace();
    match (parts.next(), parts.next().and_then(|c| c.parse::<u16>().ok())) {
        (Some(v), Some(code)) if v.starts_with("HTTP/") => Ok(code),
        _ => Err(ProbeError::NotHttp { addr, line }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::TcpListener;

    #[test]
    fn reads_the_status_and_sends_the_host() {
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = l.local_addr().unwrap();
        let server = std::thread::spawn(move || {
            let (mut c, _) = l.accept().unwrap();
            let mut req = [0u8; 1024];
            let n = c.read(&mut req).unwrap();
            c.write_all(b"HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\n\r\n")
                .unwrap();
            String::from_utf8_lossy(&req[..n]).into_owned()
        });
        let code = get_status(addr, "example.test\r\nX: y", "/admin/", Timeouts::default()).unwrap();
        assert_eq!(code, 403);
        let req = server.join().unwrap();
        assert!(
            req.starts_with("GET /admin/ HTTP/1.1\r\nHost: example.testX: y\r\n"),
            "{req}"
        );
    }

    #[test]
    fn silent_server_times_out() {
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = l.local_addr().unwrap();
        let t = Timeouts {
            connect: Duration::from_millis(200),
            io: Duration::from_millis(100),
        };
        let err = get_status(addr, "x", "/", t).unwrap_err();
        assert!(
            matches!(err, ProbeError::Io { .. } | ProbeError::NotHttp { .. }),
            "{err}"
        );
        drop(l);
    }
}
