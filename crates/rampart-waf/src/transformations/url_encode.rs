pub(crate) fn url_encode(input: &[u8]) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(input.len());
    for &c in input {
        if c == b' ' {
            out.push(b'+');
        } else if c.is_ascii_alphanumeric() || b"*-._".contains(&c) {
            out.push(c);
        } else {
            out.extend_from_slice(format!("%{c:02x}").as_bytes());
        }
    }
    (out != input).then_some(out)
}

#[cfg(test)]
mod tests {
    #[test]
    fn encodes() {
        assert_eq!(super::super::t(super::url_encode, "a b/c"), "a+b%2fc");
    }
}
