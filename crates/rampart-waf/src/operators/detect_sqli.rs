use super::Captures;

/// libinjection's SQL injection detection; the capture is the token fingerprint.
pub(crate) fn detect_sqli(input: &[u8], caps: Option<&mut Captures>) -> bool {
    if one_token(input) {
        return false;
    }
    let r = libinjectionrs::detect_sqli(input);
    if !r.is_injection() {
        return false;
    }
    if let Some(caps) = caps {
        caps.clear();
        caps.push(
            r.fingerprint
                .map(|f| f.to_string().into_bytes())
                .unwrap_or_default(),
        );
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
    fn detects() {
        let mut caps = Vec::new();
        assert!(super::detect_sqli(b"1' OR '1'='1", Some(&mut caps)));
        assert!(!caps[0].is_empty());
        assert!(!super::detect_sqli(b"hello world", None));
    }
}
