pub(crate) fn remove_nulls(input: &[u8]) -> Option<Vec<u8>> {
    if !input.contains(&0) {
        return None;
    }
    // Sized up front: collecting a filter would grow the buffer step by step (a 1 KB page took
    // eight allocations).
    let mut out = Vec::with_capacity(input.len());
    out.extend(input.iter().copied().filter(|&c| c != 0));
    Some(out)
}

#[cfg(test)]
mod tests {
    #[test]
    fn removes() {
        assert_eq!(super::super::t(super::remove_nulls, "a\0b\0"), "ab");
    }
}
