pub(crate) fn remove_whitespace(input: &[u8]) -> Option<Vec<u8>> {
    if !input.iter().any(|&c| super::is_space(c)) {
        return None;
    }
    Some(input.iter().copied().filter(|&c| !super::is_space(c)).collect())
}

#[cfg(test)]
mod tests {
    #[test]
    fn removes() {
        assert_eq!(super::super::t(super::remove_whitespace, " a \t\nb\u{0b}"), "ab");
    }
}
