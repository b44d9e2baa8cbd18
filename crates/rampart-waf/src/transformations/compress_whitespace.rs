pub(crate) fn compress_whitespace(input: &[u8]) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(input.len());
    let mut in_space = false;
    for &c in input {
        if super::is_space(c) {
            if !in_space {
                out.push(b' ');
            }
            in_space = true;
        } else {
            out.push(c);
            in_space = false;
        }
    }
    (out != input).then_some(out)
}

#[cfg(test)]
mod tests {
    #[test]
    fn compresses() {
        assert_eq!(
            super::super::t(super::compress_whitespace, "a \t\n b\tc"),
            "a b c"
        );
    }
}
