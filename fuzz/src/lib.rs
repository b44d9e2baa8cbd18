//! Shared pieces of the fuzz targets: an engine whose rules read everything a body processor
//! produces, so that each target drives its processor and the variables built from it.

use std::sync::OnceLock;

use rampart_waf::{ConnInfo, Engine};

/// Body processors are chosen from the Content-Type as the recommended configuration does;
/// the phase-2 rules touch every collection a processor fills, and the error flags.
const BODY_RULES: &str = r#"
SecRuleEngine On
SecRequestBodyAccess On
SecRequestBodyLimit 1048576
SecRequestBodyNoFilesLimit 1048576
SecRule REQUEST_HEADERS:Content-Type "^application/json" "id:1,phase:1,pass,nolog,t:lowercase,ctl:requestBodyProcessor=JSON"
SecRule REQUEST_HEADERS:Content-Type "^(?:application|text)/xml" "id:2,phase:1,pass,nolog,t:lowercase,ctl:requestBodyProcessor=XML"
SecRule ARGS|ARGS_NAMES|ARGS_POST|FILES|FILES_NAMES|FILES_SIZES|MULTIPART_PART_HEADERS "@rx (?i)a.?b" "id:3,phase:2,pass,log,t:none,t:urlDecodeUni,t:htmlEntityDecode"
SecRule XML:/* "@contains x" "id:4,phase:2,pass,log"
SecRule REQBODY_ERROR|MULTIPART_STRICT_ERROR|MULTIPART_UNMATCHED_BOUNDARY "!@eq 0" "id:5,phase:2,pass,log,logdata:'%{REQBODY_ERROR_MSG}'"
SecRule &ARGS "@gt 100" "id:6,phase:2,pass,log"
SecRule REQUEST_BODY "@detectSQLi" "id:7,phase:2,pass,log"
"#;

fn engine() -> &'static Engine {
    static ENGINE: OnceLock<Engine> = OnceLock::new();
    ENGINE.get_or_init(|| Engine::from_str(BODY_RULES, "<fuzz>").expect("fuzz rules load"))
}

/// One POST transaction with `content_type` and `body`, through phases 1, 2 and 5.
pub fn post_body(content_type: &[u8], body: &[u8]) {
    let mut tx = engine().transaction(ConnInfo::default());
    tx.process_uri("POST", "/upload?x=1", "HTTP/1.1");
    tx.add_request_header(b"Host", b"localhost");
    tx.add_request_header(b"Content-Type", content_type);
    tx.add_request_header(b"Content-Length", body.len().to_string().as_bytes());
    let _ = tx.process_request_headers();
    // Two chunks: the split point must not matter to the processor.
    let cut = body.len() / 2;
    let _ = tx.append_request_body(&body[..cut]);
    let _ = tx.append_request_body(&body[cut..]);
    let _ = tx.process_request_body();
    tx.process_logging();
    for line in tx.error_log_lines() {
        assert!(
            !line.contains('\n'),
            "an error-log line holds a newline: {line:?}"
        );
    }
}
