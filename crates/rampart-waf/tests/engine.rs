//! Engine semantics through the public API: actions, variables, body processors and limits,
//! compared with what ModSecurity/Coraza do.

use rampart_waf::{ConnInfo, Disruptive, Engine, Intervention, Transaction};

fn engine(rules: &str) -> Engine {
    let text = format!("SecRuleEngine On\nSecRequestBodyAccess On\nSecResponseBodyAccess On\n{rules}");
    Engine::from_str(&text, "<test>").unwrap_or_else(|e| panic!("{e}"))
}

struct Req<'a> {
    method: &'a str,
    uri: &'a str,
    headers: Vec<(&'a str, &'a str)>,
    body: &'a [u8],
}

fn get(uri: &str) -> Req<'_> {
    Req {
        method: "GET",
        uri,
        headers: vec![("Host", "example")],
        body: b"",
    }
}

fn post<'a>(uri: &'a str, ct: &'a str, body: &'a [u8]) -> Req<'a> {
    Req {
        method: "POST",
        uri,
        headers: vec![("Host", "example"), ("Content-Type", ct)],
        body,
    }
}

fn run<'e>(e: &'e Engine, r: &Req<'_>) -> (Transaction<'e>, Option<Intervention>) {
    let mut tx = e.transaction(ConnInfo::default());
    tx.process_uri(r.method, r.uri, "HTTP/1.1");
    for (k, v) in &r.headers {
        tx.add_request_header(k.as_bytes(), v.as_bytes());
    }
    let mut iv = tx.process_request_headers();
    if iv.is_none() {
        iv = tx.append_request_body(r.body);
    }
    if iv.is_none() {
        iv = tx.process_request_body();
    }
    (tx, iv)
}

fn ids(tx: &Transaction<'_>) -> Vec<u64> {
    tx.matched_rules().iter().map(|m| m.id).collect()
}

#[test]
fn setvar_forms_and_macros() {
    let e = engine(
        r#"
SecAction "id:1,phase:1,pass,nolog,setvar:tx.a=5,setvar:tx.a=+3,setvar:tx.b=10,setvar:tx.b=-4,setvar:tx.c,setvar:tx.d=x,setvar:!tx.d"
SecAction "id:2,phase:1,pass,nolog,setvar:'tx.name_%{tx.a}=%{tx.b}-%{REQUEST_METHOD}'"
SecRule TX:name_8 "@streq 6-GET" "id:3,phase:1,pass,log,msg:'a=%{tx.a} c=%{TX.C}'"
"#,
    );
    let (tx, _) = run(&e, &get("/"));
    assert_eq!(tx.tx_var("a"), Some(&b"8"[..]));
    assert_eq!(tx.tx_var("b"), Some(&b"6"[..]));
    assert_eq!(tx.tx_var("c"), Some(&b"1"[..]));
    assert_eq!(tx.tx_var("d"), None);
    assert_eq!(ids(&tx), [3]);
    assert_eq!(tx.matched_rules()[0].msg, "a=8 c=1");
}

#[test]
fn chain_skip_and_skip_after() {
    let e = engine(
        r#"
SecRule ARGS:a "@eq 1" "id:10,phase:1,pass,log,chain"
    SecRule ARGS:b "@eq 2" "setvar:tx.chained=1"
SecRule ARGS:a "@eq 1" "id:11,phase:1,pass,nolog,skip:1"
SecAction "id:12,phase:1,pass,log"
SecAction "id:13,phase:1,pass,log"
SecRule ARGS:a "@eq 1" "id:14,phase:1,pass,nolog,skipAfter:END"
SecAction "id:15,phase:1,pass,log"
SecMarker END
SecAction "id:16,phase:1,pass,log"
"#,
    );
    let (tx, _) = run(&e, &get("/?a=1&b=2"));
    assert_eq!(ids(&tx), [10, 13, 16]);
    assert_eq!(tx.tx_var("chained"), Some(&b"1"[..]));
    let (tx, _) = run(&e, &get("/?a=1&b=3"));
    assert_eq!(ids(&tx), [13, 16], "a broken chain does not match");
    assert_eq!(tx.tx_var("chained"), None);
    let (tx, _) = run(&e, &get("/?a=0"));
    assert_eq!(ids(&tx), [12, 13, 15, 16]);
}

#[test]
fn capture_multimatch_and_transformations() {
    let e = engine(
        r#"
SecRule ARGS "@rx (s\w+)ct" "id:20,phase:1,pass,log,capture,t:none,t:lowercase,logdata:'%{TX.0}|%{TX.1}|%{MATCHED_VAR_NAME}'"
SecRule ARGS:q "@streq %41" "id:21,phase:1,pass,log,t:none,t:urlDecode,multiMatch"
SecRule ARGS:q "@streq %41" "id:22,phase:1,pass,log,t:none,t:urlDecode"
"#,
    );
    // %2541 decodes once to %41 in the query string, then to A by t:urlDecode.
    let (tx, _) = run(&e, &get("/?x=SELECT&q=%2541"));
    assert_eq!(ids(&tx), [20, 21]);
    assert_eq!(tx.matched_rules()[0].data, "select|sele|ARGS:x");
}

#[test]
fn exclusions_counts_and_regex_selectors() {
    let e = engine(
        r#"
SecRule ARGS|!ARGS:safe "@rx evil" "id:30,phase:1,pass,log"
SecRule &ARGS "@eq 3" "id:31,phase:1,pass,log"
SecRule &ARGS:missing "@eq 0" "id:32,phase:1,pass,log"
SecRule ARGS_NAMES:/^id_/ "@rx ^id_2$" "id:33,phase:1,pass,log"
SecRule REQUEST_COOKIES:/^sess/ "@streq abc" "id:34,phase:1,pass,log"
SecRule REQUEST_HEADERS:x-Custom "@streq v" "id:35,phase:1,pass,log"
"#,
    );
    let mut r = get("/?safe=evil&id_1=x&id_2=y");
    r.headers.push(("Cookie", "session=abc; other=1"));
    r.headers.push(("X-Custom", "v"));
    let (tx, _) = run(&e, &r);
    assert_eq!(ids(&tx), [31, 32, 33, 34, 35]);
    let (tx, _) = run(&e, &get("/?other=evil"));
    assert_eq!(ids(&tx), [30, 32]);
}

#[test]
fn ctl_actions() {
    let e = engine(
        r#"
SecRule ARGS:off "@eq 1" "id:40,phase:1,pass,nolog,ctl:ruleRemoveById=42-43"
SecRule ARGS:notarget "@eq 1" "id:41,phase:1,pass,nolog,ctl:ruleRemoveTargetById=44;ARGS:x"
SecAction "id:42,phase:1,pass,log"
SecAction "id:43,phase:2,pass,log"
SecRule ARGS "@rx bad" "id:44,phase:2,deny,log"
SecRule ARGS:detect "@eq 1" "id:45,phase:1,pass,nolog,ctl:ruleEngine=DetectionOnly"
SecRule ARGS:tag "@eq 1" "id:46,phase:1,pass,nolog,ctl:ruleRemoveByTag=skipme"
SecAction "id:47,phase:2,pass,log,tag:'skipme'"
"#,
    );
    let (tx, iv) = run(&e, &get("/?off=1&x=bad"));
    assert_eq!(ids(&tx), [44]);
    assert_eq!(iv.map(|i| (i.status, i.rule_id)), Some((403, Some(44))));
    let (tx, iv) = run(&e, &get("/?notarget=1&x=bad&tag=1"));
    assert!(iv.is_none());
    assert_eq!(ids(&tx), [42, 43]);
    let (tx, iv) = run(&e, &get("/?detect=1&x=bad"));
    assert!(iv.is_none(), "DetectionOnly never intervenes");
    assert_eq!(ids(&tx), [42, 43, 44, 47]);
    assert_eq!(tx.error_log_lines().len(), 4);
}

#[test]
fn disruptive_actions_and_defaults() {
    let e = engine(
        r#"
SecDefaultAction "phase:2,log,auditlog,deny,status:406"
SecRule ARGS:a "@streq block" "id:50,phase:2,block"
SecRule ARGS:a "@streq drop" "id:51,phase:2,drop"
SecRule ARGS:a "@streq go" "id:52,phase:2,redirect:'https://example.com/?r=%{ARGS.a}'"
SecRule ARGS:a "@streq allow" "id:53,phase:2,allow,nolog"
SecRule ARGS:a "@rx ." "id:54,phase:2,pass"
"#,
    );
    let status = |q: &str| run(&e, &get(q)).1.map(|i| (i.status, i.action));
    assert_eq!(status("/?a=block"), Some((406, Disruptive::Deny)));
    assert_eq!(status("/?a=drop"), Some((406, Disruptive::Drop)));
    assert_eq!(
        status("/?a=go"),
        Some((406, Disruptive::Redirect("https://example.com/?r=go".into())))
    );
    assert_eq!(status("/?a=allow"), None);
    let (tx, _) = run(&e, &get("/?a=allow"));
    assert!(!ids(&tx).contains(&54), "allow stops the rules after it");
    let (tx, _) = run(&e, &get("/?a=x"));
    assert_eq!(ids(&tx), [54]);
}

#[test]
fn body_processors() {
    let e = engine(
        r#"
SecRule REQUEST_HEADERS:Content-Type "^application/json" "id:1,phase:1,pass,nolog,ctl:requestBodyProcessor=JSON"
SecRule REQUEST_HEADERS:Content-Type "^text/xml" "id:2,phase:1,pass,nolog,ctl:requestBodyProcessor=XML"
SecRule ARGS:json.user.name "@streq alice" "id:60,phase:2,pass,log"
SecRule ARGS_POST:json.list "@eq 2" "id:61,phase:2,pass,log"
SecRule XML:/* "@streq hello" "id:62,phase:2,pass,log"
SecRule XML://@* "@streq attr" "id:63,phase:2,pass,log"
SecRule FILES "@endsWith .php" "id:64,phase:2,pass,log"
SecRule FILES_NAMES "@streq upload" "id:65,phase:2,pass,log"
SecRule MULTIPART_PART_HEADERS "@rx ^content-type: text/x-php" "id:66,phase:2,pass,log,t:lowercase"
SecRule ARGS:field "@streq v" "id:67,phase:2,pass,log"
SecRule REQBODY_ERROR "!@eq 0" "id:68,phase:2,pass,log"
SecRule REQUEST_BODY "@contains a=1" "id:69,phase:2,pass,log"
SecRule REQBODY_PROCESSOR "@streq URLENCODED" "id:70,phase:1,pass,log"
"#,
    );
    let (tx, _) = run(
        &e,
        &post(
            "/",
            "application/json",
            br#"{"user":{"name":"alice"},"list":[1,2]}"#,
        ),
    );
    assert_eq!(ids(&tx), [60, 61]);
    let (tx, _) = run(&e, &post("/", "text/xml", br#"<a k="attr"><b>hello</b></a>"#));
    assert_eq!(ids(&tx), [62, 63]);
    let body = b"--B\r\nContent-Disposition: form-data; name=\"field\"\r\n\r\nv\r\n--B\r\n\
Content-Disposition: form-data; name=\"upload\"; filename=\"x.php\"\r\nContent-Type: text/x-php\r\n\r\n<?php\r\n--B--\r\n";
    let (tx, _) = run(&e, &post("/", "multipart/form-data; boundary=B", body));
    assert_eq!(ids(&tx), [64, 65, 66, 67]);
    let (tx, _) = run(&e, &post("/", "application/json", b"{broken"));
    assert_eq!(ids(&tx), [68]);
    let (tx, _) = run(&e, &post("/", "application/x-www-form-urlencoded", b"a=1&b=2"));
    assert_eq!(ids(&tx), [70, 69]);
}

#[test]
fn body_limits() {
    let reject =
        engine("SecRequestBodyLimit 10\nSecRequestBodyNoFilesLimit 10\nSecRequestBodyLimitAction Reject\n");
    let (_, iv) = run(&reject, &post("/", "text/plain", b"0123456789abc"));
    assert_eq!(iv.map(|i| (i.status, i.rule_id)), Some((413, None)));
    let partial = engine(
        "SecRequestBodyLimit 10\nSecRequestBodyNoFilesLimit 10\nSecRequestBodyLimitAction ProcessPartial\n\
         SecRule ARGS:a \"@streq 12345678\" \"id:1,phase:2,pass,log\"\n",
    );
    let (tx, iv) = run(
        &partial,
        &post("/", "application/x-www-form-urlencoded", b"a=12345678901234"),
    );
    assert!(iv.is_none());
    assert_eq!(ids(&tx), [1], "only the first 10 bytes are inspected");
}

#[test]
fn response_phases() {
    let e = engine(
        r#"
SecRule RESPONSE_STATUS "@eq 500" "id:80,phase:3,pass,log"
SecRule RESPONSE_HEADERS:X-Leak "@rx secret" "id:81,phase:3,pass,log"
SecRule RESPONSE_BODY "@contains stack trace" "id:82,phase:4,deny,log"
"#,
    );
    let (mut tx, _) = run(&e, &get("/"));
    tx.add_response_header(b"Content-Type", b"text/html; charset=utf-8");
    tx.add_response_header(b"X-Leak", b"a secret");
    assert!(tx.process_response_headers(500, "HTTP/1.1").is_none());
    assert!(tx.response_body_wanted());
    assert!(tx.append_response_body(b"<pre>stack trace").is_none());
    let iv = tx.process_response_body().expect("denied");
    assert_eq!(iv.rule_id, Some(82));
    tx.process_logging();
    assert_eq!(ids(&tx), [80, 81, 82]);
    let (mut tx, _) = run(&e, &get("/"));
    tx.add_response_header(b"Content-Type", b"image/png");
    tx.process_response_headers(200, "HTTP/1.1");
    assert!(
        !tx.response_body_wanted(),
        "only the configured MIME types are inspected"
    );
}

#[test]
fn update_and_remove_directives() {
    let e = engine(
        r#"
SecRule ARGS "@rx x" "id:90,phase:1,pass,log,tag:'t1'"
SecRule ARGS "@rx x" "id:91,phase:1,pass,log,tag:'t2'"
SecRule ARGS "@rx x" "id:92,phase:1,pass,log"
SecRuleUpdateTargetById 90 "!ARGS:skip"
SecRuleUpdateTargetByTag t2 "REQUEST_HEADERS:X-Extra"
SecRuleRemoveById 92
"#,
    );
    let (tx, _) = run(&e, &get("/?skip=x"));
    assert_eq!(ids(&tx), [91]);
    let mut r = get("/");
    r.headers.push(("X-Extra", "x"));
    let (tx, _) = run(&e, &r);
    assert_eq!(ids(&tx), [91]);
}

#[test]
fn arguments_limit() {
    let e = engine("SecArgumentsLimit 5\nSecRule &ARGS_POST \"@eq 5\" \"id:1,phase:2,pass,log\"\nSecRule REQBODY_ERROR \"@eq 1\" \"id:2,phase:2,pass,log\"\n");
    let body = "a=1&".repeat(100);
    let (tx, _) = run(
        &e,
        &post("/", "application/x-www-form-urlencoded", body.as_bytes()),
    );
    assert_eq!(ids(&tx), [1, 2]);
}

#[test]
fn uri_variables() {
    let e = engine(
        r#"
SecRule REQUEST_FILENAME "@rx ^/a b/c\xff\.php$" "id:1,phase:1,pass,log"
SecRule REQUEST_BASENAME "@rx ^c\xff\.php$" "id:2,phase:1,pass,log"
SecRule REQUEST_URI "@streq /a%20b/c%ff.php?x=1" "id:3,phase:1,pass,log"
SecRule REQUEST_URI_RAW "@beginsWith http://h" "id:4,phase:1,pass,log"
SecRule QUERY_STRING "@streq x=1" "id:5,phase:1,pass,log"
SecRule REQUEST_LINE "@endsWith HTTP/1.0" "id:6,phase:1,pass,log"
SecRule ARGS_GET:x "@eq 1" "id:7,phase:1,pass,log"
"#,
    );
    let mut tx = e.transaction(ConnInfo::default());
    tx.process_uri_bytes(b"GET", b"http://h/a%20b/c%ff.php?x=1", b"HTTP/1.0");
    tx.process_request_headers();
    assert_eq!(ids(&tx), [1, 2, 3, 4, 5, 6, 7]);
}
