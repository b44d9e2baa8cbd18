/// Drops the comment markers `/*`, `*/`, `--` and `#`.
pub(crate) fn remove_comments_char(input: &[u8]) -> Option<Vec<u8>> {
    // Most values hold no marker: say so without building a copy.
    let marker = |w: &[u8]| matches!(w, b"/*" | b"*/" | b"--");
    if !input.contains(&b'#') && !input.windows(2).any(marker) {
        return None;
    }
    let mut out = Vec::with_capacity(input.len());
    let mut i = 0;
    while i < input.len() {
        let rest = &input[i..];
        if rest.starts_with(b"/*") || rest.starts_with(b"*/") || rest.starts_with(b"--") {
            i += 2;
        } else if rest[0] == b'#' {
            i += 1;
        } else {
            out.push(rest[0]);
            i += 1;
        }
    }
    (out != input).then_some(out)
}

#[cfg(test)]
mod tests {
    #[test]
    fn removes_markers() {
        assert_eq!(
            super::super::t(super::remove_comments_char, "a/*b*/c--d#e"),
            "abcde"
        );
    }
}
