use super::atoi;

pub(crate) fn eq(input: &[u8], operand: &[u8]) -> bool {
    atoi(input) == atoi(operand)
}

#[cfg(test)]
mod tests {
    #[test]
    fn compares_numbers() {
        assert!(super::eq(b"0", b""));
        assert!(super::eq(b"5", b"5"));
        assert!(!super::eq(b"5", b"6"));
        assert!(super::super::ge::ge(b"5", b"5"));
        assert!(super::super::gt::gt(b"6", b"5"));
        assert!(super::super::le::le(b"5", b"5"));
        assert!(super::super::lt::lt(b"abc", b"1"));
    }
}
