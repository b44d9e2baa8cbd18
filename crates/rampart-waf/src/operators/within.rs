/// The input occurs somewhere in the operand (e.g. a method in the list of allowed methods).
/// The empty input is within anything, as in ModSecurity and Coraza.
pub(crate) fn within(input: &[u8], operand: &[u8]) -> bool {
    memchr::memmem::find(operand, input).is_some()
}

#[cfg(test)]
mod tests {
    #[test]
    fn inside() {
        assert!(super::within(b"GET", b"GET HEAD POST"));
        assert!(!super::within(b"PUT", b"GET HEAD POST"));
        assert!(super::within(b"", b"GET"));
    }
}
