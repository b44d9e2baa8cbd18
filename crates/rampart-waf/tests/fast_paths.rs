//! The engine's fast paths decide exactly as a plain evaluation would: phrase lists checked
//! through the rule screen and the gram index (long and short phrases, any case, overlapping),
//! and rule target removals by `ctl` that leave TX look-ups on their direct path.

use rampart_testkit::rng::Rng;
use rampart_waf::{ConnInfo, Engine};

fn matched_ids(e: &Engine, query: &str, headers: &[(&str, &str)]) -> Vec<u64> {
    let mut tx = e.transaction(ConnInfo::default());
    tx.process_uri("GET", &format!("/p?{query}"), "HTTP/1.1");
    for (k, v) in headers {
        tx.add_request_header(k.as_bytes(), v.as_bytes());
    }
    tx.process_request_headers();
    tx.process_request_body();
    let mut ids: Vec<u64> = tx.matched_rules().iter().map(|m| m.id).collect();
    ids.sort();
    ids
}

/// Percent-encodes every byte, so that any value reaches ARGS exactly.
fn encode(v: &[u8]) -> String {
    v.iter().map(|b| format!("%{b:02X}")).collect()
}

#[test]
fn phrase_lists_match_exactly_when_a_phrase_occurs() {
    let mut r = Rng(0x9e37_79b9_7f4a_7c15);
    // Few distinct bytes: phrases overlap, share grams and collide in the hashed buckets.
    let alphabet = b"abcXY<>/ ;$";
    for round in 0..25 {
        // Enough phrases for the gram index (32 or more), some of them 2 bytes (the short
        // automaton), in mixed case.
        let mut phrases: Vec<Vec<u8>> = (0..40).map(|_| r.word(alphabet, 3, 7)).collect();
        phrases.push(b"<$".to_vec());
        phrases.push(b"/;".to_vec());
        let list: Vec<String> = phrases
            .iter()
            .map(|p| String::from_utf8(p.clone()).unwrap())
            .filter(|p| !p.contains(' '))
            .collect();
        // One rule per way in: through the screen (t:none) and under a transformation chain.
        let rules = format!(
            "SecRuleEngine On\n\
             SecRule ARGS \"@pm {l}\" \"id:1,phase:2,pass,log,t:none,msg:'pm'\"\n\
             SecRule ARGS \"@pm {l}\" \"id:2,phase:2,pass,log,t:none,t:lowercase,msg:'pm lower'\"\n\
             SecRule REQUEST_HEADERS:X-Test \"@pm {l}\" \"id:3,phase:1,pass,log,t:none,msg:'header'\"\n",
            l = list.join(" ")
        );
        let e = Engine::from_str(&rules, "<fast paths>").unwrap();
        let lower: Vec<Vec<u8>> = list.iter().map(|p| p.to_ascii_lowercase().into_bytes()).collect();
        for _ in 0..30 {
            let value = r.word(alphabet, 0, 60);
            let hay = value.to_ascii_lowercase();
            let hit = lower
                .iter()
                .any(|p| hay.windows(p.len()).any(|w| w == p.as_slice()));
            let want: Vec<u64> = if hit { vec![1, 2] } else { vec![] };
            let got = matched_ids(&e, &format!("v={}", encode(&value)), &[]);
            assert_eq!(
                got,
                want,
                "round {round}: {:?} in {list:?}",
                String::from_utf8_lossy(&value)
            );
            // Header values cannot hold every byte; the alphabet is printable.
            let header = String::from_utf8(value.clone()).unwrap();
            let got = matched_ids(&e, "", &[("X-Test", header.trim())]);
            let hay = header.trim().to_ascii_lowercase().into_bytes();
            let hit = lower
                .iter()
                .any(|p| hay.windows(p.len()).any(|w| w == p.as_slice()));
            assert_eq!(got, if hit { vec![3] } else { vec![] }, "header {header:?}");
        }
    }
}

#[test]
fn crs_response_lists_on_a_page() {
    // A big phrase list from a file (CRS php-errors.data, 1,800 phrases) over a response body.
    let data = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../../shared/crs/rules/php-errors.data"
    );
    let rules = format!(
        "SecRuleEngine On\nSecResponseBodyAccess On\nSecResponseBodyMimeType text/html\n\
         SecRule RESPONSE_BODY \"@pmFromFile {data}\" \"id:1,phase:4,pass,log,t:none,msg:'php'\"\n"
    );
    let e = Engine::from_str(&rules, "<php>").unwrap();
    let run = |body: &[u8]| {
        let mut tx = e.transaction(ConnInfo::default());
        tx.process_uri("GET", "/", "HTTP/1.1");
        tx.process_request_headers();
        tx.process_request_body();
        tx.add_response_header(b"Content-Type", b"text/html");
        tx.process_response_headers(200, "HTTP/1.1");
        assert!(tx.response_body_wanted());
        tx.append_response_body(body);
        tx.process_response_body();
        tx.matched_rules().iter().map(|m| m.id).collect::<Vec<_>>()
    };
    let mut page = b"<html><body>".to_vec();
    for i in 0..20 {
        page.extend_from_slice(format!("<p>Static line {i} of the page.</p>\n").as_bytes());
    }
    assert!(run(&page).is_empty());
    let text = std::fs::read_to_string(data).unwrap();
    for phrase in text
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .step_by(97)
    {
        let mut p = page.clone();
        p.extend_from_slice(phrase.to_ascii_uppercase().as_bytes());
        assert_eq!(run(&p), [1], "{phrase}");
    }
}

#[test]
fn target_removals_keep_tx_lookups_exact() {
    let rules = r#"
SecRuleEngine On
SecAction "id:10,phase:1,pass,nolog,setvar:tx.flag=1"
SecRule ARGS:a "@streq x" "id:11,phase:1,pass,nolog,ctl:ruleRemoveTargetById=13;TX:flag"
SecRule ARGS:b "@streq y" "id:12,phase:1,pass,nolog,ctl:ruleRemoveTargetById=14;ARGS:c"
SecRule TX:flag "@eq 1" "id:13,phase:1,pass,log,msg:'flag'"
SecRule TX:flag "@eq 1" "id:14,phase:1,pass,log,msg:'flag again'"
SecRule ARGS "@streq z" "id:15,phase:1,pass,log,msg:'args'"
"#;
    let e = Engine::from_str(rules, "<removals>").unwrap();
    assert_eq!(matched_ids(&e, "q=1", &[]), [13, 14]);
    // TX:flag removed from 13 only.
    assert_eq!(matched_ids(&e, "a=x", &[]), [14]);
    // A removal of another variable changes no TX look-up.
    assert_eq!(matched_ids(&e, "b=y", &[]), [13, 14]);
    assert_eq!(matched_ids(&e, "b=y&c=z", &[]), [13, 14, 15]);
    assert_eq!(matched_ids(&e, "a=x&b=y", &[]), [14]);
}

/// Rules on one TX variable are decided by a direct look-up (and recorded without the general
/// evaluation when they have one link and no capture); with a TX target removed by a ctl every
/// rule takes the general path. Both must leave the same matches, MATCHED_VAR(S) and TX.
#[test]
fn tx_rules_decided_by_lookup_match_the_full_evaluation() {
    let rules = r#"
SecRuleEngine On
SecRule ARGS:force "@streq 1" "id:1,phase:1,pass,nolog,ctl:ruleRemoveTargetById=999;TX:unrelated"
SecRule REQUEST_METHOD "@rx ." "id:2,phase:1,pass,nolog"
SecAction "id:3,phase:1,pass,nolog,setvar:tx.level=1,setvar:tx.score=0,setvar:tx.name=alice"
SecRule ARGS:lvl "@rx ^(\d)$" "id:4,phase:1,pass,nolog,capture,setvar:tx.level=%{tx.1}"
SecRule ARGS:who "@rx ^(\w+)$" "id:5,phase:1,pass,nolog,capture,setvar:tx.name=%{tx.1}"
SecRule TX:level "@lt 2" "id:6,phase:1,pass,nolog,skipAfter:END-LOW"
SecRule TX:level "@ge 2" "id:7,phase:1,pass,log,severity:'WARNING',msg:'high %{MATCHED_VAR_NAME}=%{MATCHED_VAR}',setvar:tx.score=+%{tx.level}"
SecRule TX:name "!@streq alice" "id:8,phase:1,pass,log,msg:'not alice: %{MATCHED_VAR}',logdata:'%{MATCHED_VAR_NAME}'"
SecMarker END-LOW
SecRule &TX:missing "@eq 0" "id:9,phase:1,pass,log,msg:'no missing %{MATCHED_VAR_NAME}=%{MATCHED_VAR}'"
SecRule &TX:name "@eq 1" "id:10,phase:1,pass,nolog,setvar:tx.seen=%{MATCHED_VAR_NAME}:%{MATCHED_VAR}"
SecRule TX:missing "@eq 0" "id:11,phase:1,pass,log,msg:'never'"
SecRule TX:missing "!@eq 0" "id:12,phase:1,pass,log,msg:'never either'"
SecRule MATCHED_VAR "@rx ." "id:13,phase:1,pass,log,msg:'after: %{MATCHED_VAR}'"
SecRule TX:name "@rx ^(b)" "id:15,phase:1,pass,log,capture,msg:'capture %{TX.1}'"
SecRule TX:level "@gt 3" "id:16,phase:1,pass,log,msg:'chain head',chain"
    SecRule TX:name "@rx ." "setvar:tx.chained=%{MATCHED_VAR}"
SecRule TX:score "@ge 5" "id:17,phase:2,block,log,severity:'CRITICAL',msg:'score %{tx.score}'"
SecRule TX:level "@eq 9" "id:18,phase:2,pass,log,msg:'nine %{MATCHED_VAR}'"
"#;
    let e = Engine::from_str(rules, "<tx lookups>").unwrap();
    type Outcome = (
        Vec<(u64, String, String, String, String, Option<u8>)>,
        Vec<Option<Vec<u8>>>,
    );
    let run = |query: &str| -> Outcome {
        let mut tx = e.transaction(ConnInfo::default());
        tx.process_uri("GET", &format!("/p?{query}"), "HTTP/1.1");
        tx.process_request_headers();
        tx.process_request_body();
        let m = tx
            .matched_rules()
            .iter()
            .filter(|m| m.id != 1)
            .map(|m| {
                let r = (m.id, m.msg.clone(), m.data.clone(), m.matched_var.clone());
                (r.0, r.1, r.2, r.3, m.matched_var_name.clone(), m.severity)
            })
            .collect();
        let vars = ["level", "score", "name", "seen", "chained", "0", "1"]
            .iter()
            .map(|v| tx.tx_var(v).map(<[u8]>::to_vec))
            .collect();
        (m, vars)
    };
    let mut seen = std::collections::BTreeSet::new();
    for lvl in ["", "0", "1", "2", "4", "9"] {
        for who in ["", "alice", "bob", "carol"] {
            let q = format!("lvl={lvl}&who={who}");
            let fast = run(&q);
            let full = run(&format!("force=1&{q}"));
            assert_eq!(fast, full, "{q}");
            seen.extend(fast.0.iter().map(|m| m.0));
        }
    }
    // The cases above reach every rule that can match.
    assert_eq!(
        seen.into_iter().collect::<Vec<_>>(),
        [7, 8, 9, 13, 15, 16, 17, 18]
    );
}

/// Captures are written into reused buffers (the operators', the matches', TX.0–TX.9): every
/// value still sees its own groups, never a longer or earlier value's.
#[test]
fn captures_per_value_with_reused_buffers() {
    let rules = r#"
SecRuleEngine On
SecAction "id:1,phase:1,pass,nolog,setvar:tx.0=constant"
SecRule REQUEST_HEADERS_NAMES "@rx ^.*$" "id:2,phase:1,pass,nolog,capture,t:none,t:lowercase,setvar:'tx.h_%{tx.0}=/%{tx.0}/'"
SecRule ARGS "@rx ^(\w)(\w)?" "id:3,phase:2,pass,nolog,capture,setvar:'tx.first_%{tx.1}=%{tx.2}|%{tx.0}'"
SecRule ARGS:x "@pm needle" "id:4,phase:2,pass,nolog,capture,setvar:'tx.pm=%{tx.0}'"
"#;
    let e = Engine::from_str(rules, "<captures>").unwrap();
    for _ in 0..2 {
        let mut tx = e.transaction(ConnInfo::default());
        tx.process_uri("GET", "/p?a=longword&b=z&c=q7&x=a%20NEEDLE%20b", "HTTP/1.1");
        tx.add_request_header(b"X-A-Much-Longer-Header-Name", b"1");
        tx.add_request_header(b"Host", b"h");
        tx.process_request_headers();
        tx.process_request_body();
        let v = |n: &str| tx.tx_var(n).map(|v| String::from_utf8_lossy(v).into_owned());
        assert_eq!(
            v("h_x-a-much-longer-header-name").as_deref(),
            Some("/x-a-much-longer-header-name/")
        );
        assert_eq!(v("h_host").as_deref(), Some("/host/"));
        assert_eq!(v("first_l").as_deref(), Some("o|lo"));
        assert_eq!(v("first_z").as_deref(), Some("|z"));
        assert_eq!(v("first_q").as_deref(), Some("7|q7"));
        assert_eq!(v("pm").as_deref(), Some("NEEDLE"));
        assert_eq!(v("0").as_deref(), Some("NEEDLE"));
        assert_eq!(v("first_a").as_deref(), Some("|a"));
        // From the last ARGS value of rule 3 (`a NEEDLE b`): the @pm match sets TX.0 only.
        assert_eq!(v("1").as_deref(), Some("a"));
        assert_eq!(v("2").as_deref(), Some(""));
    }
}

/// Negated phrase lists and regexes are decided from the rule screen when none of their
/// literals occurs (the operator is then false on every value): the rule matches exactly when
/// some value has none of the phrases, and MATCHED_VAR is the last such value.
#[test]
fn negated_screened_rules_match_values_without_the_literals() {
    let mut r = Rng(0x2545_f491_4f6c_dd1d);
    let alphabet = b"abcXY<>/;$";
    let mut cases = [0; 2];
    for round in 0..20 {
        let phrases: Vec<String> = (0..40)
            .map(|_| String::from_utf8(r.word(alphabet, 3, 6)).unwrap())
            .collect();
        let rules = format!(
            "SecRuleEngine On\n\
             SecRule ARGS \"!@pm {l}\" \"id:1,phase:2,pass,log,t:none,msg:'not pm'\"\n\
             SecRule ARGS \"!@pm {l}\" \"id:2,phase:2,pass,log,t:none,t:lowercase,msg:'not pm lower'\"\n\
             SecRule ARGS \"!@rx (?i)abc|XY<\" \"id:3,phase:2,pass,log,t:none,msg:'not rx'\"\n",
            l = phrases.join(" ")
        );
        let e = Engine::from_str(&rules, "<negated>").unwrap();
        let lower: Vec<Vec<u8>> = phrases
            .iter()
            .map(|p| p.to_ascii_lowercase().into_bytes())
            .collect();
        let has = |v: &[u8], lits: &[Vec<u8>]| {
            let hay = v.to_ascii_lowercase();
            lits.iter()
                .any(|p| hay.windows(p.len()).any(|w| w == p.as_slice()))
        };
        let rx_lits = [b"abc".to_vec(), b"xy<".to_vec()];
        for _ in 0..30 {
            let values: Vec<Vec<u8>> = (0..1 + r.next_u64() % 3)
                .map(|_| r.word(alphabet, 0, 40))
                .collect();
            let query: Vec<String> = values
                .iter()
                .enumerate()
                .map(|(i, v)| format!("v{i}={}", encode(v)))
                .collect();
            let mut tx = e.transaction(ConnInfo::default());
            tx.process_uri("GET", &format!("/p?{}", query.join("&")), "HTTP/1.1");
            tx.process_request_headers();
            tx.process_request_body();
            let got: Vec<(u64, String)> = tx
                .matched_rules()
                .iter()
                .map(|m| (m.id, m.matched_var.clone()))
                .collect();
            let mut want = Vec::new();
            let lacking = |lits: &[Vec<u8>], lower_case: bool| {
                values.iter().rev().find(|v| !has(v, lits)).map(|v| {
                    let v = if lower_case {
                        v.to_ascii_lowercase()
                    } else {
                        v.clone()
                    };
                    String::from_utf8(v).unwrap()
                })
            };
            if let Some(v) = lacking(&lower, false) {
                want.push((1, v));
            }
            if let Some(v) = lacking(&lower, true) {
                want.push((2, v));
            }
            if let Some(v) = lacking(&rx_lits, false) {
                want.push((3, v));
            }
            // Both ways are taken: no value with a phrase (the screen is clear) and some.
            cases[values.iter().any(|v| has(v, &lower)) as usize] += 1;
            assert_eq!(got, want, "round {round}: {values:?} in {phrases:?}");
        }
    }
    assert!(cases[0] > 50 && cases[1] > 50, "{cases:?}");
}

/// setvar values from TX macros: a copy stays what it was when the source changes afterwards,
/// `=+`/`=-` read the operand as a number.
#[test]
fn setvar_values_from_tx_macros() {
    let rules = r#"
SecRuleEngine On
SecAction "id:1,phase:2,pass,nolog,setvar:tx.a=5,setvar:tx.b=%{tx.a},setvar:tx.a=+2,setvar:tx.c=%{tx.a},setvar:tx.a=+1,setvar:tx.d=10,setvar:tx.d=-%{tx.a},setvar:tx.e=+%{tx.b},setvar:tx.f=%{tx.missing},setvar:tx.g=x%{tx.c}y"
SecRule ARGS:n "@rx ^(\d+)$" "id:2,phase:2,pass,nolog,capture,setvar:tx.h=%{tx.1},setvar:tx.a=+%{tx.1}"
"#;
    let e = Engine::from_str(rules, "<setvar>").unwrap();
    let mut tx = e.transaction(ConnInfo::default());
    tx.process_uri("GET", "/?n=12", "HTTP/1.1");
    tx.process_request_headers();
    tx.process_request_body();
    let v = |n: &str| tx.tx_var(n).map(|v| String::from_utf8_lossy(v).into_owned());
    for (name, want) in [
        ("a", "20"),
        ("b", "5"),
        ("c", "7"),
        ("d", "2"),
        ("e", "5"),
        ("f", ""),
        ("g", "x7y"),
        ("h", "12"),
    ] {
        assert_eq!(v(name).as_deref(), Some(want), "tx.{name}");
    }
}
