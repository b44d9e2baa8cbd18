/// `operand` occurs in `input` with no word character right before or after it.
pub(crate) fn contains_word(input: &[u8], operand: &[u8]) -> bool {
    if operand.is_empty() {
        return true;
    }
    let word = |c: u8| c.is_ascii_alphanumeric() || c == b'_';
    memchr::memmem::find_iter(input, operand).any(|at| {
        let before = at == 0 || !word(input[at - 1]);
        let end = at + operand.len();
        let after = end == input.len() || !word(input[end]);
        before && after
    })
}

#[cfg(test)]
mod tests {
    #[test]
    fn whole_words() {
        assert!(super::contains_word(b"a select b", b"select"));
        assert!(!super::contains_word(b"selection", b"select"));
        assert!(super::contains_word(b"xselect select", b"select"));
    }
}
