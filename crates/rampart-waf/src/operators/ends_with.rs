pub(crate) fn ends_with(input: &[u8], operand: &[u8]) -> bool {
    input.ends_with(operand)
}

#[cfg(test)]
mod tests {
    #[test]
    fn suffix() {
        assert!(super::ends_with(b"a.php", b".php"));
        assert!(!super::ends_with(b"a.php", b".asp"));
    }
}
