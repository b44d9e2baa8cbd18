/// Matches invalid UTF-8 (overlong forms, surrogates and truncated sequences included).
pub(crate) fn invalid(input: &[u8]) -> bool {
    std::str::from_utf8(input).is_err()
}

#[cfg(test)]
mod tests {
    #[test]
    fn utf8() {
        assert!(!super::invalid("h\u{e9}".as_bytes()));
        assert!(super::invalid(b"\xc0\xaf"));
        assert!(super::invalid(b"\xe9"));
    }
}
