pub(crate) fn remove_nulls(input: &[u8]) -> Option<Vec<u8>> {
    if !input.contains(&0) {
        return None;
    }
    Some(input.iter().copied().filter(|&c| c != 0).collect())
}

#[cfg(test)]
mod tests {
    #[test]
    fn removes() {
        assert_eq!(super::super::t(super::remove_nulls, "a\0b\0"), "ab");
    }
}
