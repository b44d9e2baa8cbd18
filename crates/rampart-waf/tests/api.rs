//! The public API end to end: load rules, run a transaction, check matches and interventions.

use rampart_waf::{ConnInfo, Disruptive, Engine, RuleEngineMode};

const RULES: &str = r#"
SecRuleEngine On
SecRequestBodyAccess On
SecDefaultAction "phase:1,log,auditlog,pass"
SecDefaultAction "phase:2,log,auditlog,pass"
SecRule ARGS "@rx attack" "id:1,phase:2,deny,status:403,t:none,t:lowercase,msg:'attack in %{MATCHED_VAR_NAME}',logdata:'%{MATCHED_VAR}'"
SecRule REQUEST_HEADERS:User-Agent "@pm nikto sqlmap" "id:2,phase:1,pass,capture,setvar:tx.ua=%{TX.0},msg:'scanner'"
SecRule TX:ua "@streq sqlmap" "id:3,phase:1,pass,nolog,setvar:tx.score=+5"
SecRule &ARGS "@gt 2" "id:4,phase:2,pass,msg:'many args'"
"#;

fn engine() -> Engine {
    Engine::from_str(RULES, "<test>").unwrap()
}

#[test]
fn blocks_and_logs() {
    let e = engine();
    assert_eq!(e.config().rule_engine, RuleEngineMode::On);
    let mut tx = e.transaction(ConnInfo::default());
    tx.process_uri("POST", "/x?a=1&b=ATTACK", "HTTP/1.1");
    tx.add_request_header(b"Host", b"example");
    tx.add_request_header(b"User-Agent", b"sqlmap/1.0");
    tx.add_request_header(b"Content-Type", b"application/x-www-form-urlencoded");
    assert!(tx.process_request_headers().is_none());
    assert_eq!(tx.tx_var("score"), Some(&b"5"[..]));
    assert!(tx.request_body_wanted());
    assert!(tx.append_request_body(b"c=3").is_none());
    let iv = tx.process_request_body().expect("denied");
    assert_eq!(
        (iv.status, iv.action.clone(), iv.rule_id),
        (403, Disruptive::Deny, Some(1))
    );
    let ids: Vec<u64> = tx.matched_rules().iter().map(|m| m.id).collect();
    // Rule 3 matched (score 5) but, being nolog and pass, is not reported.
    assert_eq!(ids, [2, 1]);
    let m = &tx.matched_rules()[1];
    assert_eq!((m.msg.as_str(), m.data.as_str()), ("attack in ARGS:b", "attack"));
    let lines = tx.error_log_lines();
    assert_eq!(lines.len(), 2, "{lines:?}");
    assert!(
        lines[1].contains("[id \"1\"]") && lines[1].contains("Access denied with code 403"),
        "{}",
        lines[1]
    );
    assert!(!lines.iter().any(|l| l.contains("[id \"3\"]")));
    let audit = tx.audit_record();
    assert_eq!(audit["transaction"]["intervention"]["rule_id"], 1);
}

#[test]
fn bad_rules_name_their_location() {
    let err = Engine::from_str(
        "SecRuleEngine On\nSecRule ARGS \"@rx (\" \"id:1,deny\"\n",
        "bad.conf",
    )
    .unwrap_err();
    assert_eq!(err.location().line, 2);
    assert!(err.to_string().starts_with("bad.conf:2:1:"), "{err}");
    let err = Engine::from_str("SecRule NOPE \"@rx a\" \"id:1\"\n", "x.conf").unwrap_err();
    assert!(err.to_string().contains("unknown variable"), "{err}");
    let err = Engine::from_str("SecFrobnicate On\n", "x.conf").unwrap_err();
    assert!(err.to_string().contains("SecFrobnicate"), "{err}");
}

#[test]
fn engine_and_transaction_cross_threads() {
    fn send<T: Send>() {}
    fn sync<T: Sync>() {}
    send::<Engine>();
    sync::<Engine>();
    send::<rampart_waf::Transaction<'static>>();
}
