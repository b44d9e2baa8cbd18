//! Runs N CRS transactions of one kind in a loop, for profiling (`perf record`/`perf stat`):
//! `cargo run -p rampart-waf --example perfloop --release -- get|form|json|multipart 20000` (CRS at PL1 in
//! blocking mode; PL4=1 for the regression-test setup, SHOW=1 lists the matches, FRESH=1 builds every
//! transaction from scratch instead of reusing the last one's buffers, VARY=1 makes every request
//! value new (a query string and header values with the transaction's number: nothing the
//! connection's screen memo saw before), EVICT=MB writes over that
//! much memory between transactions and reports the transactions' own time with cold caches).
//! `bench` is the request and response of `bench/waf/run.sh` (wrk's headers, Apache's response
//! headers and the ~1 KB text/html page, inspected in phase 4), the other kinds send no response body.

#[path = "../tests/crs_driver/mod.rs"]
mod crs_driver;

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicU64, Ordering};

use rampart_waf::ConnInfo;

/// Counts heap allocations, to see how far the hot path is from allocation-free.
struct Counting;

static ALLOCS: AtomicU64 = AtomicU64::new(0);

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, l: Layout) -> *mut u8 {
        ALLOCS.fetch_add(1, Ordering::Relaxed);
        unsafe { System.alloc(l) }
    }

    unsafe fn dealloc(&self, p: *mut u8, l: Layout) {
        unsafe { System.dealloc(p, l) }
    }

    unsafe fn realloc(&self, p: *mut u8, l: Layout, n: usize) -> *mut u8 {
        ALLOCS.fetch_add(1, Ordering::Relaxed);
        unsafe { System.realloc(p, l, n) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let kind = args.first().map(String::as_str).unwrap_or("get");
    let n: usize = args.get(1).and_then(|s| s.parse().ok()).unwrap_or(10_000);
    let pl4 = std::env::var_os("PL4").is_some();
    let engine = if pl4 {
        crs_driver::load_crs_for_tests()
    } else {
        crs_driver::load_crs_pl1()
    };
    let (method, uri, ct, body): (&str, &str, &str, &[u8]) = match kind {
        "form" => (
            "POST",
            "/comment",
            "application/x-www-form-urlencoded",
            b"username=alice&email=alice%40example.com&comment=Nice+product%2C+fast+shipping.&rating=5",
        ),
        "json" => (
            "POST",
            "/api",
            "application/json",
            br#"{"user":{"name":"alice","roles":["editor","viewer"]},"qty":2,"note":"leave at the door"}"#,
        ),
        "multipart" => (
            "POST",
            "/upload",
            "multipart/form-data; boundary=BOUNDARY",
            &MULTIPART[..],
        ),
        "bench" => ("GET", "/index.html", "", b""),
        _ => ("GET", "/products/view.php?id=42&sort=price&page=3", "", b""),
    };
    let bench = kind == "bench";
    let cpu0 = cpu_ns();
    let allocs0 = ALLOCS.load(Ordering::Relaxed);
    let t0 = std::time::Instant::now();
    let mut matched = 0;
    // As the proxy does on a connection: each transaction starts with the last one's buffers
    // (FRESH=1: every transaction from scratch).
    let fresh = std::env::var_os("FRESH").is_some();
    let vary = std::env::var_os("VARY").is_some();
    let mut uri_buf = String::new();
    let mut value_buf: Vec<u8> = Vec::new();
    let mut buffers = rampart_waf::TxBuffers::default();
    // EVICT=MB: between transactions, write one byte per cache line of that much memory, as the
    // proxy's other work (sockets, other connections) does to the caches; the transactions'
    // own wall time is then reported separately.
    let evict_mb: usize = std::env::var("EVICT")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    let mut evict = vec![0u8; evict_mb << 20];
    let mut in_tx = std::time::Duration::ZERO;
    for round in 0..n {
        if evict_mb > 0 {
            for i in (0..evict.len()).step_by(64) {
                evict[i] = evict[i].wrapping_add(round as u8);
            }
        }
        let started = std::time::Instant::now();
        let mut tx = if fresh {
            engine.transaction(ConnInfo::default())
        } else {
            engine.transaction_reusing(ConnInfo::default(), std::mem::take(&mut buffers))
        };
        let uri = if vary {
            uri_buf.clear();
            let sep = if uri.contains('?') { '&' } else { '?' };
            uri_buf.push_str(&format!("{uri}{sep}v={round}"));
            &uri_buf[..]
        } else {
            uri
        };
        tx.process_uri(method, uri, "HTTP/1.1");
        if bench {
            for (k, v) in BENCH_REQUEST_HEADERS {
                if vary {
                    value_buf.clear();
                    value_buf.extend_from_slice(v);
                    value_buf.extend_from_slice(format!(" {round}").as_bytes());
                    tx.add_request_header(k, &value_buf);
                } else {
                    tx.add_request_header(k, v);
                }
            }
        } else {
            tx.add_request_header(b"Host", b"www.example.com");
            tx.add_request_header(
                b"User-Agent",
                b"Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0",
            );
            tx.add_request_header(
                b"Accept",
                b"text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8",
            );
            tx.add_request_header(b"Cookie", b"session=3f2a9c1b7d; theme=dark");
        }
        if !ct.is_empty() {
            tx.add_request_header(b"Content-Type", ct.as_bytes());
            tx.add_request_header(b"Content-Length", body.len().to_string().as_bytes());
        }
        tx.process_request_headers();
        tx.append_request_body(body);
        tx.process_request_body();
        if bench {
            for (k, v) in BENCH_RESPONSE_HEADERS {
                tx.add_response_header(k, v);
            }
        } else {
            tx.add_response_header(b"Content-Type", b"text/html");
        }
        tx.process_response_headers(200, "HTTP/1.1");
        if bench && tx.response_body_wanted() {
            tx.append_response_body(&PAGE);
        }
        tx.process_response_body();
        tx.process_logging();
        matched += tx.matched_rules().len();
        if std::env::var_os("SHOW").is_some() {
            for m in tx.matched_rules() {
                println!("{} log={} {}", m.id, m.log, m.msg);
            }
        }
        buffers = tx.into_buffers();
        in_tx += started.elapsed();
    }
    let el = t0.elapsed();
    let cpu = cpu_ns().saturating_sub(cpu0);
    let allocs = ALLOCS.load(Ordering::Relaxed) - allocs0;
    if evict_mb > 0 {
        println!(
            "{kind}: {:.1} µs wall per transaction with {evict_mb} MB evicted in between",
            in_tx.as_secs_f64() * 1e6 / n as f64
        );
        std::hint::black_box(&evict);
        return;
    }
    println!(
        "{kind}: {n} transactions, {:.1} µs wall, {:.1} µs CPU, {} allocations each, {matched} matches",
        el.as_secs_f64() * 1e6 / n as f64,
        cpu as f64 / 1e3 / n as f64,
        allocs / n as u64
    );
}

/// This thread's time on a CPU (ns), from /proc: wall-clock is meaningless on a shared machine.
fn cpu_ns() -> u64 {
    std::fs::read_to_string("/proc/thread-self/schedstat")
        .ok()
        .and_then(|s| s.split_whitespace().next()?.parse().ok())
        .unwrap_or(0)
}

static MULTIPART: std::sync::LazyLock<Vec<u8>> = std::sync::LazyLock::new(|| {
    let mut mp = Vec::new();
    mp.extend_from_slice(
        b"--BOUNDARY\r\nContent-Disposition: form-data; name=\"title\"\r\n\r\nHoliday photos\r\n",
    );
    mp.extend_from_slice(
        b"--BOUNDARY\r\nContent-Disposition: form-data; name=\"file\"; filename=\"notes.txt\"\r\nContent-Type: text/plain\r\n\r\n",
    );
    while mp.len() < 100 * 1024 {
        mp.extend_from_slice(b"The quick brown fox jumps over the lazy dog, 0123456789.\n");
    }
    mp.extend_from_slice(b"\r\n--BOUNDARY--\r\n");
    mp
});

/// What wrk sends in bench/waf/run.sh.
const BENCH_REQUEST_HEADERS: [(&[u8], &[u8]); 4] = [
    (b"Host", b"localhost"),
    (b"User-Agent", b"Mozilla/5.0 (X11; Linux x86_64) bench"),
    (b"Accept", b"text/html,application/xhtml+xml"),
    (b"Accept-Language", b"en"),
];

/// What the upstream Apache of bench/waf/run.sh answers.
const BENCH_RESPONSE_HEADERS: [(&[u8], &[u8]); 7] = [
    (b"Date", b"Thu, 26 Nov 2026 00:34:14 GMT"),
    (b"Server", b"Apache/2.4.71 (Debian)"),
    (b"Last-Modified", b"Thu, 26 Nov 2026 00:34:13 GMT"),
    (b"ETag", b"\"3cf-661231a504900\""),
    (b"Accept-Ranges", b"bytes"),
    (b"Content-Length", b"975"),
    (b"Content-Type", b"text/html"),
];

/// The page of bench/waf/run.sh (975 bytes).
static PAGE: std::sync::LazyLock<Vec<u8>> = std::sync::LazyLock::new(|| {
    let mut p = b"<!DOCTYPE html><html><head><title>Rampart bench</title></head><body>\n".to_vec();
    for i in 1..=20 {
        p.extend_from_slice(format!("<p>Static line {i} of the benchmark page.</p>\n").as_bytes());
    }
    p.extend_from_slice(b"</body></html>\n");
    p
});
