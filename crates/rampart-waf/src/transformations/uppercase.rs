pub(crate) fn uppercase(input: &[u8]) -> Option<Vec<u8>> {
    if !input.iter().any(u8::is_ascii_lowercase) {
        return None;
    }
    Some(input.to_ascii_uppercase())
}

#[cfg(test)]
mod tests {
    #[test]
    fn uppers() {
        assert_eq!(super::super::t(super::uppercase, "aB1"), "AB1");
    }
}
