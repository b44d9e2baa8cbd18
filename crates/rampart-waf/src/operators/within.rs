/// The input occurs somewhere in the operand (e.g. a method in the list of allowed methods).
/// An empty input is not within anything: CRS 920430 relies on that for an empty protocol.
pub(crate) fn within(input: &[u8], operand: &[u8]) -> bool {
    !input.is_empty() && memchr::memmem::find(operand, input).is_some()
}

#[cfg(test)]
mod tests {
    #[test]
    fn inside() {
        assert!(super::within(b"GET", b"GET HEAD POST"));
        assert!(!super::within(b"PUT", b"GET HEAD POST"));
        assert!(!super::within(b"", b"GET"));
    }
}
