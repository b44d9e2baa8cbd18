pub(crate) fn replace_nulls(input: &[u8]) -> Option<Vec<u8>> {
    if !input.contains(&0) {
        return None;
    }
    Some(input.iter().map(|&c| if c == 0 { b' ' } else { c }).collect())
}

#[cfg(test)]
mod tests {
    #[test]
    fn replaces() {
        assert_eq!(super::super::t(super::replace_nulls, "a\0b"), "a b");
    }
}
