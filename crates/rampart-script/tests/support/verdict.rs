//! Assertions on one analyzer verdict, shared by the snippet tests (signals.rs, unseen.rs).

use rampart_script::Verdict;

pub fn assert_detected(v: &Verdict, signal: &str) {
    assert!(v.is_malicious(), "not detected: {v:#?}");
    assert!(
        v.reasons.iter().any(|r| r.signal == signal),
        "no {signal} reason: {v:#?}"
    );
}

pub fn assert_clean(v: &Verdict) {
    assert!(!v.is_malicious(), "false positive: {v:#?}");
}
