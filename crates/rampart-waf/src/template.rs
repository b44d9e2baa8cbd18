//! The TX template: phase 1 begins with rules that read and write nothing but TX (crs-setup's
//! SecActions, REQUEST-901's `&TX:x "@eq 0"` defaults and score resets). Their outcome is the same
//! for every transaction, so they run once at load time; each transaction starts phase 1 from the
//! resulting TX instead of executing them again.
//!
//! From the start of phase 1, rules are taken in order (following `skip`/`skipAfter` as the
//! simulation runs them) while each is either
//! - *pure*: every link reads only TX (targets, operand macros), writes only TX (setvar, capture)
//!   and has no ctl, and the rule either does not match or neither logs, blocks nor has a
//!   severity, so it leaves no trace but TX and MATCHED_VAR; or
//! - *transparent*: it reads no TX and no MATCHED_VAR, writes no TX, does not change the flow
//!   (`pass`, no skip, no ctl but body settings): it cannot see or change what the pure rules do,
//!   so it still runs per transaction, before the rest of the phase.
//!
//! The first rule that is neither ends the template; it and everything after it run as usual.

use std::collections::HashSet;

use crate::actions::{Ctl, DisruptiveAction};
use crate::config::ConnInfo;
use crate::engine::{Engine, Fixed, FixedHit};
use crate::macros::{Macro, Part};
use crate::rule::Rule;
use crate::transaction::Transaction;
use crate::variables::Var;

#[derive(Debug, Default)]
pub(crate) struct Template {
    /// Phase-1 index where evaluation continues.
    pub upto: usize,
    /// `skip` still pending at `upto`.
    pub skip: u32,
    /// Transparent rules before `upto`, in order: they run per transaction.
    pub resume: Vec<usize>,
    /// TX after the pure rules.
    pub tx: Vec<(Box<str>, Box<[u8]>)>,
    /// MATCHED_VAR (name, value) as the last pure rule with hits left it, with that rule's index.
    pub matched: Option<(usize, String, Vec<u8>)>,
}

fn macro_reads_only_tx(m: &Macro) -> bool {
    m.parts
        .iter()
        .all(|p| matches!(p, Part::Lit(_) | Part::Var(Var::Tx, _)))
}

fn macro_reads_no_tx(m: &Macro) -> bool {
    m.parts.iter().all(|p| {
        !matches!(
            p,
            Part::Var(
                Var::Tx | Var::MatchedVar | Var::MatchedVarName | Var::MatchedVars | Var::MatchedVarsNames,
                _
            )
        )
    })
}

fn links(r: &Rule) -> impl Iterator<Item = &Rule> {
    std::iter::successors(Some(r), |l| l.chain.as_deref())
}

/// Whether a match of the rule leaves no trace but TX and MATCHED_VAR (no log line, no block, no
/// severity). A pure rule that is not quiet can still be part of the template while it does not
/// match (CRS 901001 denies only when crs-setup is missing).
pub(crate) fn quiet(r: &Rule) -> bool {
    !r.log && matches!(r.disruptive, DisruptiveAction::Pass) && r.severity.is_none()
}

/// Whether a rule (and its chain) reads and writes nothing but TX.
pub(crate) fn pure(r: &Rule) -> bool {
    links(r).all(|l| {
        l.targets.iter().all(|t| t.var == Var::Tx)
            && l.exclusions.iter().all(|e| e.var == Var::Tx)
            && l.operator
                .as_ref()
                .is_none_or(|o| o.operand().is_none_or(macro_reads_only_tx))
            && l.setvars.iter().all(|s| {
                s.collection == "tx" && macro_reads_only_tx(&s.name) && macro_reads_only_tx(&s.value)
            })
            && l.ctls.is_empty()
    })
}

/// The phase-list entries (phase index, position) of rules that read one TX variable (their
/// `tx_check`) which keeps its template value for the whole transaction, and do not match that
/// value: they cannot match in any transaction (unless a ctl removes a TX target; the engine
/// then evaluates them). CRS has a few dozen (`TX:DETECTION_PARANOIA_LEVEL "@lt 1"`, checks of
/// settings left at their defaults), which the engine then passes over without reading the rule.
///
/// A variable keeps its template value when no rule that runs per transaction may write it:
/// every rule but the template's pure ones (phase 1 before `upto`, except the transparent rules
/// it resumes) is looked at, and a setvar name built from a macro counts as writing every
/// name that starts with its literal head (all names when it has none).
///
/// A rule whose outcome is a match is fixed too when the match does nothing but set
/// MATCHED_VAR(S) and maybe jump (the paranoia-level `skipAfter`s, `"@lt 2"` at PL1): no chain,
/// capture, setvar, ctl, log, severity, `skip` or disruptive action but `pass`.
pub(crate) fn fixed_outcomes(engine: &Engine, t: &Template) -> (Vec<(usize, usize, Fixed)>, Vec<FixedHit>) {
    // Set by the engine itself on body errors.
    let mut written: HashSet<Vec<u8>> = [&b"inbound_data_error"[..], b"outbound_data_error"]
        .iter()
        .map(|n| n.to_vec())
        .collect();
    let mut prefixes: Vec<Vec<u8>> = Vec::new();
    for (p, list) in engine.phases.iter().enumerate() {
        for (i, e) in list.iter().enumerate() {
            if p == 0 && i < t.upto && !t.resume.contains(&i) {
                continue;
            }
            for l in links(&e.rule) {
                if l.capture {
                    written.extend((b'0'..=b'9').map(|d| vec![d]));
                }
                for s in l.setvars.iter().filter(|s| s.collection == "tx") {
                    match (s.name.constant(), s.name.parts.first()) {
                        (Some(c), _) => {
                            written.insert(c.to_ascii_lowercase());
                        }
                        (None, Some(Part::Lit(head))) => prefixes.push(head.to_ascii_lowercase()),
                        // A name that is all macro may be any name.
                        (None, _) => return (Vec::new(), Vec::new()),
                    }
                }
            }
        }
    }
    let tx = Transaction::new(engine, ConnInfo::default());
    let mut fixed = Vec::new();
    let mut hits: Vec<FixedHit> = Vec::new();
    for (p, list) in engine.phases.iter().enumerate() {
        for (i, e) in list.iter().enumerate() {
            let r = &e.rule;
            // The template's own rules never run per transaction.
            let (true, Some((key, count)), Some(op)) = (p > 0 || i >= t.upto, &r.tx_check, &r.operator)
            else {
                continue;
            };
            let k = key.as_bytes();
            if op.operand().is_some() || written.contains(k) || prefixes.iter().any(|h| k.starts_with(h)) {
                continue;
            }
            let v = t.tx.iter().find(|(n, _)| n.as_bytes() == k).map(|(_, v)| &**v);
            let value: &[u8] = match (v, count) {
                (Some(_), true) => b"1",
                (None, true) => b"0",
                (Some(v), false) => v,
                (None, false) => {
                    fixed.push((p, i, Fixed::NoMatch));
                    continue;
                }
            };
            if op.matches(&tx, value, None) == r.negated {
                fixed.push((p, i, Fixed::NoMatch));
                continue;
            }
            let inert = r.chain.is_none()
                && !r.capture
                && !r.multi_match
                && r.setvars.is_empty()
                && r.ctls.is_empty()
                && !r.log
                && r.severity.is_none()
                && r.skip == 0
                && matches!(r.disruptive, DisruptiveAction::Pass);
            if !inert {
                continue;
            }
            // The hit the general evaluation records: `TX:<key>` (a count's is `TX`).
            let name = if *count {
                "TX".to_string()
            } else {
                format!("TX:{key}")
            };
            let at = match hits.iter().position(|(n, v)| *n == name && v == value) {
                Some(at) => at,
                None => {
                    hits.push((name, value.to_vec()));
                    hits.len() - 1
                }
            };
            let Ok(hit) = u16::try_from(at) else { continue };
            let skips = r.skip_after.is_some();
            fixed.push((p, i, Fixed::Match { hit, skips }));
        }
    }
    (fixed, hits)
}

/// Whether a rule (and its chain) can neither see nor change TX, MATCHED_VAR or the flow.
pub(crate) fn transparent(r: &Rule) -> bool {
    let flow = matches!(r.disruptive, DisruptiveAction::Pass) && r.skip == 0 && r.skip_after.is_none();
    flow && links(r).all(|l| {
        l.targets.iter().all(|t| {
            !matches!(
                t.var,
                Var::Tx
                    | Var::MatchedVar
                    | Var::MatchedVarName
                    | Var::MatchedVars
                    | Var::MatchedVarsNames
                    | Var::Rule
                    | Var::HighestSeverity
            )
        }) && l.operator.as_ref().is_none_or(|o| o.operand().is_none())
            && l.setvars.is_empty()
            && !l.capture
            && l.msg.as_ref().is_none_or(macro_reads_no_tx)
            && l.logdata.as_ref().is_none_or(macro_reads_no_tx)
            && l.ctls.iter().all(|c| {
                matches!(
                    c,
                    Ctl::RequestBodyProcessor(_)
                        | Ctl::ForceRequestBodyVariable(_)
                        | Ctl::RequestBodyAccess(_)
                        | Ctl::ResponseBodyAccess(_)
                        | Ctl::RequestBodyLimit(_)
                        | Ctl::ResponseBodyLimit(_)
                        | Ctl::Audit
                )
            })
    })
}

#[cfg(test)]
mod tests {
    use std::path::{Path, PathBuf};

    use crate::engine::Fixed;
    use crate::{ConnInfo, Engine};

    fn crs_engine() -> Option<Engine> {
        let root = Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared/crs"));
        if !root.exists() {
            eprintln!("skipping: no CRS at {}", root.display());
            return None;
        }
        // One directory per call: the tests run in parallel and each removes its own.
        static CALLS: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
        let n = CALLS.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let dir = std::env::temp_dir().join(format!("rampart-waf-template-{}-{n}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let on = dir.join("on.conf");
        std::fs::write(&on, "SecRuleEngine On\n").unwrap();
        let mut files: Vec<PathBuf> = vec![
            Path::new(concat!(
                env!("CARGO_MANIFEST_DIR"),
                "/../rampart-proxy/conf/modsecurity-base.conf"
            ))
            .to_path_buf(),
            on,
            root.join("crs-setup.conf.example"),
        ];
        files.extend(crate::conf_files_in(&root.join("rules")).unwrap());
        let e = Engine::from_files(&files).unwrap();
        let _ = std::fs::remove_dir_all(&dir);
        Some(e)
    }

    /// Phase 1 and the rest of the transaction, as TX and matches, for one request.
    fn run(e: &Engine, uri: &str, headers: &[(&str, &str)]) -> (Vec<(String, Vec<u8>)>, Vec<String>) {
        let mut tx = e.transaction(ConnInfo::default());
        tx.process_uri("GET", uri, "HTTP/1.1");
        for (k, v) in headers {
            tx.add_request_header(k.as_bytes(), v.as_bytes());
        }
        tx.process_request_headers();
        let mut vars: Vec<(String, Vec<u8>)> = tx
            .tx
            .iter()
            .filter(|(k, _)| !k.starts_with("ua_hash"))
            .map(|(k, v)| (k.to_string(), v.to_vec()))
            .collect();
        vars.sort();
        tx.process_request_body();
        tx.process_response_headers(200, "HTTP/1.1");
        tx.process_response_body();
        tx.process_logging();
        let matched = tx
            .matched_rules()
            .iter()
            .map(|m| format!("{} {} {}", m.id, m.matched_var_name, m.data))
            .collect();
        (vars, matched)
    }

    fn fixed_ids(e: &Engine) -> Vec<u64> {
        e.phases
            .iter()
            .flatten()
            .filter(|x| x.fixed == Fixed::NoMatch)
            .map(|x| x.id)
            .collect()
    }

    #[test]
    fn fixed_rules_are_those_no_transaction_can_change() {
        let rules = r#"
SecRuleEngine On
SecAction "id:1,phase:1,pass,nolog,setvar:tx.level=1,setvar:tx.mode=off,setvar:tx.later=0,setvar:tx.dyn_a=1,setvar:tx.5=x"
SecRule ARGS:z "@rx ." "id:2,phase:1,pass,nolog,setvar:tx.z=1"
SecRule TX:level "@lt 1" "id:10,phase:1,pass,nolog,skipAfter:END"
SecRule TX:level "@lt 2" "id:11,phase:1,pass,nolog"
SecRule MATCHED_VAR "@rx ." "id:19,phase:1,pass,log,msg:'mv %{MATCHED_VAR_NAME}=%{MATCHED_VAR}'"
SecRule &TX:level "@eq 1" "id:22,phase:2,pass,nolog,skipAfter:END2"
SecRule ARGS "@rx ." "id:23,phase:2,pass,log,msg:'skipped'"
SecMarker END2
SecRule TX:mode "!@streq off" "id:12,phase:2,pass,log,msg:'mode'"
SecRule &TX:missing "@eq 1" "id:13,phase:2,pass,log,msg:'count'"
SecRule TX:missing "@eq 0" "id:14,phase:2,pass,log,msg:'absent'"
SecRule TX:later "@eq 5" "id:15,phase:2,pass,log,msg:'later'"
SecRule TX:dyn_a "@eq 9" "id:16,phase:2,pass,log,msg:'dynamic'"
SecRule TX:5 "@streq y" "id:17,phase:2,pass,log,msg:'capture'"
SecRule TX:level "@lt %{tx.later}" "id:18,phase:2,pass,log,msg:'macro operand'"
SecRule ARGS:n "@rx ^(\d)$" "id:20,phase:2,pass,nolog,capture,setvar:tx.later=%{tx.1},setvar:tx.dyn_%{tx.1}=9"
SecRule TX:later "@eq 5" "id:21,phase:2,pass,log,msg:'later again'"
SecMarker END
"#;
        let e = Engine::from_str(rules, "<fixed>").unwrap();
        // (The template ends at rule 2.) 11 matches, 15/21 read a variable rule 20 writes, 16 one a dynamic name may write, 17 a
        // capture slot, 18 has a macro operand.
        assert_eq!(fixed_ids(&e), [10, 12, 13, 14]);
        // 11 and 22 match in every transaction and do nothing else.
        let matches: Vec<u64> = e
            .phases
            .iter()
            .flatten()
            .filter(|x| matches!(x.fixed, Fixed::Match { .. }))
            .map(|x| x.id)
            .collect();
        assert_eq!(matches, [11, 22]);
        let run = |e: &Engine| {
            let mut tx = e.transaction(ConnInfo::default());
            tx.process_uri("GET", "/?n=5", "HTTP/1.1");
            tx.process_request_headers();
            tx.process_request_body();
            let m: Vec<String> = tx
                .matched_rules()
                .iter()
                .map(|m| format!("{} {} {}={}", m.id, m.msg, m.matched_var_name, m.matched_var))
                .collect();
            m
        };
        let fast = run(&e);
        assert_eq!(
            fast,
            // Rule 19 reads the MATCHED_VAR rule 11 left.
            ["19 mv MATCHED_VAR=1 MATCHED_VAR=1", "21 later again TX:later=5"]
        );
        let mut slow = Engine::from_str(rules, "<fixed>").unwrap();
        for x in slow.phases.iter_mut().flatten() {
            x.fixed = Fixed::No;
        }
        assert_eq!(fast, run(&slow));
        // A setvar whose name is all macro may write anything: nothing is fixed.
        let any = format!(
            "{rules}SecRule ARGS:v \"@rx .\" \"id:30,phase:3,pass,nolog,setvar:'tx.%{{MATCHED_VAR}}=1'\"\n"
        );
        assert!(fixed_ids(&Engine::from_str(&any, "<any>").unwrap()).is_empty());
    }

    /// A benign GET, an injection, an XML request without a body, and a bare request.
    const CRS_REQUESTS: [(&str, &[(&str, &str)]); 4] = [
        (
            "/index.html?a=1",
            &[("Host", "example.com"), ("User-Agent", "Mozilla/5.0")],
        ),
        (
            "/?id=1%27%20or%201=1--",
            &[("Host", "example.com"), ("User-Agent", "curl/8")],
        ),
        ("/x", &[("Host", "1.2.3.4"), ("Content-Type", "text/xml")]),
        ("/", &[]),
    ];

    #[test]
    fn crs_fixed_rules_decide_as_evaluated() {
        let Some(with) = crs_engine() else { return };
        let Some(mut without) = crs_engine() else { return };
        let n = fixed_ids(&with).len();
        assert!(n >= 50, "only {n} CRS rules found fixed");
        for x in without.phases.iter_mut().flatten() {
            x.fixed = Fixed::No;
        }
        for (uri, headers) in CRS_REQUESTS {
            assert_eq!(run(&with, uri, headers), run(&without, uri, headers), "{uri}");
        }
    }

    /// The template must leave every transaction exactly as running the init rules would.
    #[test]
    fn crs_template_gives_the_same_tx_as_the_init_rules() {
        let Some(with) = crs_engine() else { return };
        let Some(mut without) = crs_engine() else { return };
        let t = with
            .template
            .as_ref()
            .expect("CRS phase 1 starts with TX-only rules");
        assert!(t.tx.len() > 30, "template holds only {} TX variables", t.tx.len());
        assert!(t.upto > 20, "template covers only {} rules", t.upto);
        without.template = None;
        for (uri, headers) in CRS_REQUESTS {
            let a = run(&with, uri, headers);
            let b = run(&without, uri, headers);
            assert_eq!(a.0, b.0, "TX after phase 1 differs for {uri}");
            assert_eq!(a.1, b.1, "matches differ for {uri}");
        }
    }
}
