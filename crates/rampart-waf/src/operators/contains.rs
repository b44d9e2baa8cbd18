pub(crate) fn contains(input: &[u8], operand: &[u8]) -> bool {
    memchr::memmem::find(input, operand).is_some()
}

#[cfg(test)]
mod tests {
    #[test]
    fn substring() {
        assert!(super::contains(b"abcdef", b"cd"));
        assert!(!super::contains(b"abc", b"x"));
    }
}
