/// Multi-byte UTF-8 sequences become `%uXXXX` (as ModSecurity writes them); invalid bytes stay.
pub(crate) fn utf8_to_unicode(input: &[u8]) -> Option<Vec<u8>> {
    if input.is_ascii() {
        return None;
    }
    let mut out = Vec::with_capacity(input.len() * 2);
    let mut i = 0;
    while i < input.len() {
        let c = input[i];
        let len = match c {
            0xc2..=0xdf => 2,
            0xe0..=0xef => 3,
            0xf0..=0xf4 => 4,
            _ => 1,
        };
        if len > 1 && i + len <= input.len() {
            if let Ok(s) = std::str::from_utf8(&input[i..i + len]) {
                let code = s.chars().next().map_or(0, |ch| ch as u32);
                out.extend_from_slice(format!("%u{code:04x}").as_bytes());
                i += len;
                continue;
            }
        }
        out.push(c);
        i += 1;
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    #[test]
    fn encodes_multibyte() {
        assert_eq!(
            super::super::t(super::utf8_to_unicode, "a\u{e9}\u{ff1c}"),
            "a%u00e9%uff1c"
        );
    }
}
