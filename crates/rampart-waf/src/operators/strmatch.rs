pub(crate) fn strmatch(input: &[u8], needle: &[u8]) -> bool {
    memchr::memmem::find(input, needle).is_some()
}

#[cfg(test)]
mod tests {
    #[test]
    fn substring() {
        assert!(super::strmatch(b"WebZIP/1", b"WebZIP"));
    }
}
