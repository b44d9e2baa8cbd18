//! A transaction started from a finished one's buffers (`Engine::transaction_reusing`) decides
//! exactly as a fresh one: the same matches, data, interventions and TX, over a sequence of
//! benign and malicious requests with and without bodies, under the CRS.

mod crs_driver;

use rampart_waf::{ConnInfo, Engine, Transaction, TxBuffers};

struct Req {
    method: &'static str,
    uri: &'static str,
    headers: Vec<(&'static str, &'static str)>,
    body: &'static [u8],
    response_type: &'static str,
    response_body: &'static [u8],
}

fn requests() -> Vec<Req> {
    let get = |uri, ua| Req {
        method: "GET",
        uri,
        headers: vec![("Host", "localhost"), ("User-Agent", ua), ("Accept", "text/html")],
        body: b"",
        response_type: "text/html",
        response_body: b"<html><body><p>hello</p></body></html>",
    };
    let post = |ct, body| Req {
        method: "POST",
        uri: "/submit",
        headers: vec![
            ("Host", "localhost"),
            ("User-Agent", "Mozilla/5.0"),
            ("Accept", "*/*"),
            ("Content-Type", ct),
        ],
        body,
        response_type: "text/html",
        response_body: b"ok",
    };
    vec![
        get("/index.html", "Mozilla/5.0 (X11; Linux x86_64) bench"),
        get("/index.php?id=1%27%20or%201=1--", "Mozilla/5.0"),
        post(
            "application/x-www-form-urlencoded",
            b"name=alice&comment=<script>alert(1)</script>",
        ),
        get("/index.html", "Mozilla/5.0 (X11; Linux x86_64) bench"),
        post(
            "application/json",
            br#"{"q":"1 union select password from users"}"#,
        ),
        post("application/x-www-form-urlencoded", b"a=1&b=2"),
        get("/../../etc/passwd", "sqlmap/1.7"),
        Req {
            method: "GET",
            uri: "/page",
            headers: vec![
                ("Host", "localhost"),
                ("User-Agent", "Mozilla/5.0"),
                ("Accept", "*/*"),
            ],
            body: b"",
            response_type: "text/html",
            response_body: b"<b>Warning</b>: mysql_fetch_array() expects parameter 1 to be resource",
        },
        get("/index.html", "Mozilla/5.0 (X11; Linux x86_64) bench"),
        // More header buffers than are kept, one bigger than a kept buffer, an encoded path, a
        // cookie and an absolute-form target: then the short bench request again.
        Req {
            method: "GET",
            uri: "http://example.com/a%20b/c%2e%2e/x.php?q=%27%20union%20select%201--",
            headers: {
                let mut h = vec![
                    ("Host", "example.com"),
                    ("User-Agent", "Mozilla/5.0"),
                    ("Cookie", "session=abc; theme=dark' or 1=1--"),
                    (
                        "X-Long",
                        Box::leak("<script>x</script>".repeat(400).into_boxed_str()) as &'static str,
                    ),
                ];
                for i in 0..40 {
                    h.push((
                        Box::leak(format!("X-H{i}").into_boxed_str()) as &'static str,
                        Box::leak(format!("value {i}").into_boxed_str()) as &'static str,
                    ));
                }
                h
            },
            body: b"",
            response_type: "text/html",
            response_body: b"<html>ok</html>",
        },
        get("/index.html", "Mozilla/5.0 (X11; Linux x86_64) bench"),
        get("/x%2Fy/%41.html?a=1", "curl/8"),
    ]
}

/// What a transaction decided, without its unique id.
fn outcome(tx: &mut Transaction<'_>, r: &Req) -> String {
    tx.process_uri(r.method, r.uri, "HTTP/1.1");
    for (k, v) in &r.headers {
        tx.add_request_header(k.as_bytes(), v.as_bytes());
    }
    if !r.body.is_empty() {
        tx.add_request_header(b"Content-Length", r.body.len().to_string().as_bytes());
    }
    let mut out = String::new();
    let mut steps = vec![tx.process_request_headers()];
    if tx.request_body_wanted() {
        steps.push(tx.append_request_body(r.body));
    }
    steps.push(tx.process_request_body());
    tx.add_response_header(b"Content-Type", r.response_type.as_bytes());
    steps.push(tx.process_response_headers(200, "HTTP/1.1"));
    if tx.response_body_wanted() {
        steps.push(tx.append_response_body(r.response_body));
    }
    steps.push(tx.process_response_body());
    tx.process_logging();
    for s in steps {
        out.push_str(&format!("{:?}\n", s.map(|i| (i.status, i.rule_id))));
    }
    for m in tx.matched_rules() {
        out.push_str(&format!(
            "{} {} [{}] {} = {}\n",
            m.id, m.msg, m.data, m.matched_var_name, m.matched_var
        ));
    }
    for v in [
        "anomaly_score",
        "blocking_inbound_anomaly_score",
        "outbound_anomaly_score",
    ] {
        out.push_str(&format!("{v}={:?}\n", tx.tx_var(v)));
    }
    out
}

#[test]
fn reused_buffers_decide_as_fresh_transactions() {
    let engine: Engine = crs_driver::load_crs_pl1();
    let reqs = requests();
    let fresh: Vec<String> = reqs
        .iter()
        .map(|r| outcome(&mut engine.transaction(ConnInfo::default()), r))
        .collect();
    // The malicious ones do match (the comparison is not between two empty lists).
    assert!(fresh[1].contains("942100"), "{}", fresh[1]);
    assert!(fresh[7].contains("951"), "{}", fresh[7]);
    assert!(
        fresh[9].contains("942") && fresh[9].contains("941"),
        "{}",
        fresh[9]
    );
    let mut buffers = TxBuffers::default();
    // A connection's memo remembers a value the first time, drops the rules it did not match
    // the second time, and skips them from the third on: three rounds see all three.
    for round in 0..3 {
        for (i, r) in reqs.iter().enumerate() {
            let mut tx = engine.transaction_reusing(ConnInfo::default(), buffers);
            assert_eq!(outcome(&mut tx, r), fresh[i], "round {round}, request {i}");
            buffers = tx.into_buffers();
        }
    }
}

/// One connection sends requests mixed from a few header values, URIs and bodies, benign and
/// malicious, in a random order: the memo refines a value's rules from its second time on, and
/// every transaction must still decide as a fresh one does.
#[test]
fn a_connection_repeating_and_mixing_values_decides_as_fresh_transactions() {
    let engine: Engine = crs_driver::load_crs_pl1();
    let uas = [
        "Mozilla/5.0 (X11; Linux x86_64) bench",
        "sqlmap/1.7",
        "Mozilla/5.0 <script>alert(1)</script>",
        "() { :; }; /bin/cat /etc/passwd",
        "curl/8",
    ];
    let uris = [
        "/index.html",
        "/a/../../etc/passwd",
        "/index.php?id=1%27%20or%201=1--",
        "/search?q=hello+world",
        "/search?q=%3Cimg%20src%3Dx%20onerror%3Dalert(1)%3E",
    ];
    let cookies = ["", "session=abc", "theme=dark' or 1=1--"];
    let accepts = ["text/html", "*/*", "application/json"];
    let bodies: [&[u8]; 3] = [b"", b"a=1&b=2", b"comment=<script>alert(1)</script>"];
    let build = |k: [usize; 5]| {
        let mut headers = vec![
            ("Host", "localhost"),
            ("User-Agent", uas[k[0]]),
            ("Accept", accepts[k[3]]),
        ];
        if !cookies[k[2]].is_empty() {
            headers.push(("Cookie", cookies[k[2]]));
        }
        let body = bodies[k[4]];
        if !body.is_empty() {
            headers.push(("Content-Type", "application/x-www-form-urlencoded"));
        }
        Req {
            method: if body.is_empty() { "GET" } else { "POST" },
            uri: uris[k[1]],
            headers,
            body,
            response_type: "text/html",
            response_body: b"<html><body>ok</body></html>",
        }
    };
    let mut fresh = std::collections::HashMap::new();
    let mut seed: u64 = 0x9e37_79b9_7f4a_7c15;
    // The first value of each list is benign, and picked half the time.
    let mut next = |n: usize| {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        let r = (seed % (2 * n) as u64) as usize;
        if r >= n {
            0
        } else {
            r
        }
    };
    let mut buffers = TxBuffers::default();
    let mut blocked = 0;
    for i in 0..150 {
        let k = [
            next(uas.len()),
            next(uris.len()),
            next(cookies.len()),
            next(accepts.len()),
            next(bodies.len()),
        ];
        let r = build(k);
        let want = fresh
            .entry(k)
            .or_insert_with(|| outcome(&mut engine.transaction(ConnInfo::default()), &r))
            .clone();
        blocked += want.contains("Some((403") as usize;
        let mut tx = engine.transaction_reusing(ConnInfo::default(), buffers);
        assert_eq!(outcome(&mut tx, &r), want, "transaction {i}, {k:?}");
        buffers = tx.into_buffers();
    }
    // Both kinds were there, and values repeated (the memo had something to refine).
    assert!(blocked > 20 && blocked < 140, "{blocked} of 150 blocked");
    assert!(fresh.len() < 150, "{} distinct requests", fresh.len());
}
