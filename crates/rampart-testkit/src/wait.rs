//! Polling with a deadline, so no test waits forever.

use std::net::{SocketAddr, TcpStream};
use std::time::{Duration, Instant};

/// Polls `f` every 25 ms until it holds or `limit` has passed; the last answer counts.
pub fn until(limit: Duration, mut f: impl FnMut() -> bool) -> bool {
    let start = Instant::now();
    while start.elapsed() < limit {
        if f() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(25));
    }
    f()
}

/// True once a TCP connection to `addr` (in this network namespace) succeeds.
pub fn tcp_accepts(addr: SocketAddr, limit: Duration) -> bool {
    until(limit, || {
        TcpStream::connect_timeout(&addr, Duration::from_millis(500)).is_ok()
    })
}
