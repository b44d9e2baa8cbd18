//! Engine throughput with CRS loaded at paranoia level 1 (blocking mode, crs-setup defaults):
//! GET, URL-encoded POST, JSON POST and a 100 KB multipart upload, each a full transaction
//! (phases 1–5 with an empty 200 response). `cargo bench -p rampart-waf --bench engine`.

#[path = "../tests/crs_driver/mod.rs"]
mod crs_driver;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use rampart_waf::{ConnInfo, Engine};

fn crs_engine() -> Engine {
    crs_driver::load_crs_pl1()
}

fn run(e: &Engine, method: &str, uri: &str, headers: &[(&str, &str)], body: &[u8]) -> usize {
    let mut tx = e.transaction(ConnInfo::default());
    tx.process_uri(method, uri, "HTTP/1.1");
    for (k, v) in headers {
        tx.add_request_header(k.as_bytes(), v.as_bytes());
    }
    tx.process_request_headers();
    if !body.is_empty() {
        tx.append_request_body(body);
    }
    tx.process_request_body();
    tx.add_response_header(b"Content-Type", b"text/html");
    tx.process_response_headers(200, "HTTP/1.1");
    tx.process_response_body();
    tx.process_logging();
    tx.matched_rules().len()
}

const BASE: &[(&str, &str)] = &[
    ("Host", "www.example.com"),
    (
        "User-Agent",
        "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0",
    ),
    (
        "Accept",
        "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8",
    ),
    ("Accept-Language", "en-US,en;q=0.5"),
    ("Accept-Encoding", "gzip, deflate, br"),
    ("Cookie", "session=3f2a9c1b7d; theme=dark"),
    ("Connection", "keep-alive"),
];

fn with(extra: &[(&'static str, &'static str)]) -> Vec<(&'static str, &'static str)> {
    let mut h = BASE.to_vec();
    h.extend_from_slice(extra);
    h
}

fn bench(c: &mut Criterion) {
    let e = crs_engine();
    let mut g = c.benchmark_group("crs_pl1");

    g.throughput(Throughput::Elements(1));
    g.bench_function("get", |b| {
        b.iter(|| run(&e, "GET", "/products/view.php?id=42&sort=price&page=3", BASE, b""))
    });

    let form = b"username=alice&email=alice%40example.com&comment=Nice+product%2C+fast+shipping.&rating=5";
    let form_len = form.len().to_string();
    let h = {
        let mut h = with(&[("Content-Type", "application/x-www-form-urlencoded")]);
        h.push(("Content-Length", Box::leak(form_len.into_boxed_str())));
        h
    };
    g.bench_function("urlencoded_post", |b| {
        b.iter(|| run(&e, "POST", "/comment", &h, form))
    });

    let json = br#"{"user":{"name":"alice","email":"alice@example.com","roles":["editor","viewer"]},"items":[{"sku":"A-100","qty":2},{"sku":"B-7","qty":1}],"note":"leave at the door"}"#;
    let json_len = json.len().to_string();
    let h = {
        let mut h = with(&[("Content-Type", "application/json")]);
        h.push(("Content-Length", Box::leak(json_len.into_boxed_str())));
        h
    };
    g.bench_function("json_post", |b| {
        b.iter(|| run(&e, "POST", "/api/orders", &h, json))
    });

    let mut mp = Vec::new();
    mp.extend_from_slice(
        b"--BOUNDARY\r\nContent-Disposition: form-data; name=\"title\"\r\n\r\nHoliday photos\r\n",
    );
    mp.extend_from_slice(b"--BOUNDARY\r\nContent-Disposition: form-data; name=\"file\"; filename=\"notes.txt\"\r\nContent-Type: text/plain\r\n\r\n");
    let line = b"The quick brown fox jumps over the lazy dog, 0123456789.\n";
    while mp.len() < 100 * 1024 {
        mp.extend_from_slice(line);
    }
    mp.extend_from_slice(b"\r\n--BOUNDARY--\r\n");
    let mp_len = mp.len().to_string();
    let h = {
        let mut h = with(&[("Content-Type", "multipart/form-data; boundary=BOUNDARY")]);
        h.push(("Content-Length", Box::leak(mp_len.into_boxed_str())));
        h
    };
    g.throughput(Throughput::Bytes(mp.len() as u64));
    g.bench_function("multipart_100k", |b| {
        b.iter(|| run(&e, "POST", "/upload", &h, &mp))
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
