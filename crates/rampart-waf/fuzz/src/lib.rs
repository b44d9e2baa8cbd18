//! Shared harness: an engine whose rules read everything the body processors produce.

use std::sync::OnceLock;

use rampart_waf::{ConnInfo, Engine};

const RULES: &str = r#"
SecRuleEngine On
SecRequestBodyAccess On
SecRule REQUEST_HEADERS:Content-Type "^application/json" "id:1,phase:1,pass,nolog,ctl:requestBodyProcessor=JSON"
SecRule REQUEST_HEADERS:Content-Type "^text/xml" "id:2,phase:1,pass,nolog,ctl:requestBodyProcessor=XML"
SecRule ARGS|ARGS_NAMES|FILES|FILES_NAMES|MULTIPART_PART_HEADERS|XML:/*|XML://@*|REQUEST_BODY "@rx (?i)<script" "id:3,phase:2,pass,log,t:none,t:urlDecodeUni,t:htmlEntityDecode"
SecRule REQBODY_ERROR|MULTIPART_STRICT_ERROR "!@eq 0" "id:4,phase:2,pass,log"
"#;

pub fn run(content_type: &str, body: &[u8]) {
    static ENGINE: OnceLock<Engine> = OnceLock::new();
    let e = ENGINE.get_or_init(|| Engine::from_str(RULES, "<fuzz>").expect("fuzz rules load"));
    let mut tx = e.transaction(ConnInfo::default());
    tx.process_uri("POST", "/", "HTTP/1.1");
    tx.add_request_header(b"Content-Type", content_type.as_bytes());
    tx.process_request_headers();
    tx.append_request_body(body);
    tx.process_request_body();
    tx.process_logging();
}
