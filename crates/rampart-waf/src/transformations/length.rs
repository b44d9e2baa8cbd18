pub(crate) fn length(input: &[u8]) -> Option<Vec<u8>> {
    Some(input.len().to_string().into_bytes())
}

#[cfg(test)]
mod tests {
    #[test]
    fn counts_bytes() {
        assert_eq!(super::super::t(super::length, "h\u{e9}"), "3");
    }
}
