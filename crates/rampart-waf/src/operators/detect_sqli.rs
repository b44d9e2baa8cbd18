use libinjectionrs::{SqliFlags, SqliState};

use super::Captures;

/// libinjection's SQL injection detection; the capture is the token fingerprint.
pub(crate) fn detect_sqli(input: &[u8], caps: Option<&mut Captures>) -> bool {
    if one_token(input) {
        return false;
    }
    // `libinjectionrs::detect_sqli` is these two steps plus a second tokenizing pass for the
    // fingerprint, which it computes whether or not the input is an injection: only a match
    // needs it here (its capture), so a benign value costs one pass instead of two.
    let mut state = SqliState::new(input, SqliFlags::FLAG_NONE);
    if !state.detect() {
        return false;
    }
    if let Some(caps) = caps {
        let fp = state.get_fingerprint();
        super::set_captures(caps, std::iter::once(fp.as_str().as_bytes()));
    }
    true
}

/// Whether libinjection reads `input` as at most one word or one number, which it never reports:
/// a lone token's fingerprint is one character, and the only blacklisted fingerprint that short is
/// the type of characters outside words and numbers. Most argument names and many values of a
/// benign request are like that, and the tokenizer costs about a microsecond per value.
fn one_token(input: &[u8]) -> bool {
    input.iter().all(u8::is_ascii_alphabetic) || input.iter().all(u8::is_ascii_digit)
}

#[cfg(test)]
mod tests {
    #[test]
    fn lone_words_and_numbers_are_never_sqli() {
        // Every SQL keyword libinjection knows (the only words whose token type is not bareword),
        // plain words, numbers and the empty string: the shortcut must agree with libinjection.
        let mut inputs: Vec<Vec<u8>> = libinjectionrs::sqli::sqli_data::SQL_KEYWORDS
            .iter()
            .map(|k| k.word.as_bytes().to_vec())
            .filter(|w| super::one_token(w))
            .collect();
        assert!(inputs.len() > 300, "keyword table: {}", inputs.len());
        for w in [
            "",
            "hello",
            "SELECT",
            "union",
            "x",
            "0",
            "1",
            "42",
            "0000",
            "99999999999999999999",
        ] {
            inputs.push(w.as_bytes().to_vec());
        }
        inputs.push(vec![b'a'; 100]);
        for w in &inputs {
            assert!(super::one_token(w));
            assert!(
                !libinjectionrs::detect_sqli(w).is_injection(),
                "{}",
                String::from_utf8_lossy(w)
            );
        }
        assert!(!super::one_token(b"1union"));
        assert!(!super::one_token(b"a b"));
    }

    #[test]
    fn same_verdict_and_fingerprint_as_libinjection() {
        // Every quoting context and the MySQL re-parse (comments) are taken by some of these.
        let inputs: [&[u8]; 16] = [
            b"1' OR '1'='1",
            b"1\" or \"1\"=\"1",
            b"1 union select 1,2 -- x",
            b"1 union select 1 # x",
            b"1/*!union*/ select",
            b"admin'--",
            b"Mozilla/5.0 (X11; Linux x86_64) bench",
            b"index.html",
            b"1); drop table users",
            b"x' and sleep(5) and 'a'='a",
            b"hello world",
            b"a-b-c",
            b"it's",
            b"say \"hi\"",
            b"1 -- comment",
            b"@@version",
        ];
        let mut hits = 0;
        for inp in inputs {
            let r = libinjectionrs::detect_sqli(inp);
            let mut caps = Vec::new();
            let ours = super::detect_sqli(inp, Some(&mut caps));
            assert_eq!(ours, r.is_injection(), "{}", String::from_utf8_lossy(inp));
            if ours {
                hits += 1;
                let fp = r
                    .fingerprint
                    .map(|f| f.to_string().into_bytes())
                    .unwrap_or_default();
                assert_eq!(caps, vec![fp], "{}", String::from_utf8_lossy(inp));
            }
        }
        assert!(hits >= 6, "{hits}");
    }

    #[test]
    fn detects() {
        let mut caps = Vec::new();
        assert!(super::detect_sqli(b"1' OR '1'='1", Some(&mut caps)));
        assert!(!caps[0].is_empty());
        assert!(!super::detect_sqli(b"hello world", None));
    }
}
