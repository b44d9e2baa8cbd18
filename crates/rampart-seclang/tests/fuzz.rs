//! Randomised robustness test for the parser (a stand-in until a cargo-fuzz target exists):
//! mutated CRS-like text must parse or fail with an error inside the text, never panic.

use rampart_seclang::parse;
use rampart_testkit::rng::Rng;

const SEED: &str = r#"# comment
SecRuleEngine On
SecRule REQUEST_HEADERS:Content-Type|!ARGS:/^x(a|b)$/|&TX:y "!@rx ^a\"b\\" \
    "id:1,phase:1,block,t:none,msg:'it\'s, here',setvar:'tx.s=+%{tx.c}',chain"
    SecRule XML:/* "@pm a b" "ctl:ruleRemoveTargetById=2;ARGS:z"
SecAction "id:3,pass,nolog"
SecMarker "END"
Include rules/*.conf
"#;

#[test]
fn mutated_rules_never_panic() {
    let specials = b"\"'\\|:,!&@/%{}\n ";
    let mut rng = Rng(0x5eed_5ec1);
    let mut ok = 0;
    for _ in 0..20_000 {
        let v = rng.mutate(SEED.as_bytes(), specials);
        let text = String::from_utf8_lossy(&v);
        match parse(&text, "fuzz.conf") {
            Ok(_) => ok += 1,
            Err(e) => {
                let lines = text.split('\n').count();
                assert!(
                    e.location.line >= 1 && e.location.line <= lines,
                    "{e} (of {lines} lines)"
                );
                assert_eq!(&*e.location.file, "fuzz.conf");
            }
        }
    }
    assert!(ok > 100, "the seed should mostly survive light mutation ({ok})");
}
