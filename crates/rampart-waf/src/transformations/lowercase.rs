pub(crate) fn lowercase(input: &[u8]) -> Option<Vec<u8>> {
    if !input.iter().any(u8::is_ascii_uppercase) {
        return None;
    }
    Some(input.to_ascii_lowercase())
}

#[cfg(test)]
mod tests {
    #[test]
    fn lowers_ascii_only() {
        assert_eq!(super::super::t(super::lowercase, "AbC\u{c9}"), "abc\u{c9}");
        assert!(super::lowercase(b"abc").is_none());
    }
}
