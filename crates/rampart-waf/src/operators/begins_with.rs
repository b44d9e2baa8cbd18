pub(crate) fn begins_with(input: &[u8], operand: &[u8]) -> bool {
    input.starts_with(operand)
}

#[cfg(test)]
mod tests {
    #[test]
    fn prefix() {
        assert!(super::begins_with(b"/admin/x", b"/admin"));
        assert!(!super::begins_with(b"/x", b"/admin"));
    }
}
