/// Each C comment `/* … */` becomes one space; an unterminated one runs to the end.
pub(crate) fn replace_comments(input: &[u8]) -> Option<Vec<u8>> {
    memchr::memmem::find(input, b"/*")?;
    let mut out = Vec::with_capacity(input.len());
    let mut i = 0;
    while i < input.len() {
        if input[i..].starts_with(b"/*") {
            match memchr::memmem::find(&input[i + 2..], b"*/") {
                Some(end) => i += 2 + end + 2,
                None => i = input.len(),
            }
            out.push(b' ');
        } else {
            out.push(input[i]);
            i += 1;
        }
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    #[test]
    fn replaces() {
        let t = |s| super::super::t(super::replace_comments, s);
        assert_eq!(t("a/*x*/b/*c"), "a b ");
        assert_eq!(t("sel*/ect"), "sel*/ect");
    }
}
