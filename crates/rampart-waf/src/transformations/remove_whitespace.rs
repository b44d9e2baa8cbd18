pub(crate) fn remove_whitespace(input: &[u8]) -> Option<Vec<u8>> {
    if !input.iter().any(|&c| super::is_space(c)) {
        return None;
    }
    // Sized up front: collecting a filter would grow the buffer step by step (a 1 KB page took
    // eight allocations).
    let mut out = Vec::with_capacity(input.len());
    out.extend(input.iter().copied().filter(|&c| !super::is_space(c)));
    Some(out)
}

#[cfg(test)]
mod tests {
    #[test]
    fn removes() {
        assert_eq!(super::super::t(super::remove_whitespace, " a \t\nb\u{0b}"), "ab");
    }
}
