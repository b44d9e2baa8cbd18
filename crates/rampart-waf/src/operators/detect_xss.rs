pub(crate) fn detect_xss(input: &[u8]) -> bool {
    libinjectionrs::detect_xss(input).is_injection()
}

#[cfg(test)]
mod tests {
    #[test]
    fn detects() {
        assert!(super::detect_xss(b"<script>alert(1)</script>"));
        assert!(!super::detect_xss(b"hello"));
    }
}
