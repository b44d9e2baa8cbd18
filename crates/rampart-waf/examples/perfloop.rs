//! Runs N CRS transactions of one kind in a loop, for profiling (`perf record`/`perf stat`):
//! `cargo run -p rampart-waf --example perfloop --release -- get|form|json|multipart 20000` (CRS at PL1 in
//! blocking mode; PL4=1 for the regression-test setup, SHOW=1 lists the matches).

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
        _ => ("GET", "/products/view.php?id=42&sort=price&page=3", "", b""),
    };
    let cpu0 = cpu_ns();
    let allocs0 = ALLOCS.load(Ordering::Relaxed);
    let t0 = std::time::Instant::now();
    let mut matched = 0;
    for _ in 0..n {
        let mut tx = engine.transaction(ConnInfo::default());
        tx.process_uri(method, uri, "HTTP/1.1");
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
        if !ct.is_empty() {
            tx.add_request_header(b"Content-Type", ct.as_bytes());
            tx.add_request_header(b"Content-Length", body.len().to_string().as_bytes());
        }
        tx.process_request_headers();
        tx.append_request_body(body);
        tx.process_request_body();
        tx.add_response_header(b"Content-Type", b"text/html");
        tx.process_response_headers(200, "HTTP/1.1");
        tx.process_response_body();
        tx.process_logging();
        matched += tx.matched_rules().len();
        if std::env::var_os("SHOW").is_some() {
            for m in tx.matched_rules() {
                println!("{} log={} {}", m.id, m.log, m.msg);
            }
        }
    }
    let el = t0.elapsed();
    let cpu = cpu_ns().saturating_sub(cpu0);
    let allocs = ALLOCS.load(Ordering::Relaxed) - allocs0;
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
