//! Property test standing in for the fuzzer in CI: arbitrary bytes, and arbitrary
//! mutations of a packed shell, never make the analyzer panic.

use proptest::prelude::*;
use rampart_script::{analyze, Lang};

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, .. ProptestConfig::default() })]

    #[test]
    fn any_bytes(data in proptest::collection::vec(any::<u8>(), 0..4096)) {
        for lang in [Lang::Php, Lang::Jsp, Lang::Asp, Lang::Aspx, Lang::Unknown] {
            let _ = analyze(&data, lang);
        }
    }

    #[test]
    fn mutated_code(pos in 0usize..200, byte in any::<u8>(), cut in 0usize..200) {
        let base = b"<?php $a=\"\\x73ys\".'tem'; $b = <<<E\n{$_GET[1]}\nE;\n$a(`$b`); eval(gzinflate(base64_decode('S0lNzVFIySxRBAA='))); ?><% Execute(Request(\"x\")) %>".to_vec();
        let mut m = base.clone();
        let p = pos % m.len();
        m[p] = byte;
        m.truncate(cut.max(1).min(m.len()));
        let _ = analyze(&m, Lang::Php);
        let _ = analyze(&m, Lang::Asp);
    }
}
