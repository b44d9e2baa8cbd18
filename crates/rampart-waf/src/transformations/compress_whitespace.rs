pub(crate) fn compress_whitespace(input: &[u8]) -> Option<Vec<u8>> {
    // Unchanged when every whitespace byte is a lone plain space: no copy for most values.
    let lone_spaces = input.iter().enumerate().all(|(i, &c)| {
        !super::is_space(c) || (c == b' ' && !input.get(i + 1).is_some_and(|&n| super::is_space(n)))
    });
    if lone_spaces {
        return None;
    }
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
        for s in ["a b", " a ", "a  b", "a\tb", "", " ", "  ", "a\u{a0}b"] {
            assert_eq!(
                super::compress_whitespace(s.as_bytes()).is_none(),
                super::super::t(super::compress_whitespace, s) == s,
                "{s:?}"
            );
        }
    }
}
