use crate::transformations::hex_val;

/// Matches when a `%` is not followed by two hex digits.
pub(crate) fn invalid(input: &[u8]) -> bool {
    let mut i = 0;
    while let Some(p) = memchr::memchr(b'%', &input[i..]) {
        let at = i + p;
        if at + 2 >= input.len() || hex_val(input[at + 1]).is_none() || hex_val(input[at + 2]).is_none() {
            return true;
        }
        i = at + 3;
    }
    false
}

#[cfg(test)]
mod tests {
    #[test]
    fn finds_bad_escapes() {
        assert!(!super::invalid(b"a%20b%7e"));
        assert!(super::invalid(b"a%2"));
        assert!(super::invalid(b"%zz"));
    }
}
