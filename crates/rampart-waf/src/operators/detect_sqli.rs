use super::Captures;

/// libinjection's SQL injection detection; the capture is the token fingerprint.
pub(crate) fn detect_sqli(input: &[u8], caps: Option<&mut Captures>) -> bool {
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

#[cfg(test)]
mod tests {
    #[test]
    fn detects() {
        let mut caps = Vec::new();
        assert!(super::detect_sqli(b"1' OR '1'='1", Some(&mut caps)));
        assert!(!caps[0].is_empty());
        assert!(!super::detect_sqli(b"hello world", None));
    }
}
