//! Randomised robustness test for the parser (a stand-in until a cargo-fuzz target exists):
//! mutated CRS-like text must parse or fail with an error inside the text, never panic.

use rampart_seclang::parse;

struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

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
        let mut v = SEED.as_bytes().to_vec();
        for _ in 0..1 + rng.below(6) {
            let at = rng.below(v.len() + 1);
            let b = if rng.below(2) == 0 {
                specials[rng.below(specials.len())]
            } else {
                rng.next() as u8
            };
            match rng.below(3) {
                0 if at < v.len() => v[at] = b,
                1 => v.insert(at, b),
                _ if at < v.len() => {
                    v.remove(at);
                }
                _ => {}
            }
        }
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
