pub(crate) fn streq(input: &[u8], operand: &[u8]) -> bool {
    input == operand
}

#[cfg(test)]
mod tests {
    #[test]
    fn exact() {
        assert!(super::streq(b"POST", b"POST"));
        assert!(!super::streq(b"post", b"POST"));
    }
}
