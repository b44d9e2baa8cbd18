use super::hex_or_octal_escape;

/// ANSI C escapes: `\a \b \f \n \r \t \v \\ \? \' \"`, `\xHH` and octal `\OOO`.
pub(crate) fn escape_seq_decode(input: &[u8]) -> Option<Vec<u8>> {
    if !input.contains(&b'\\') {
        return None;
    }
    let mut out = Vec::with_capacity(input.len());
    let mut i = 0;
    while i < input.len() {
        if input[i] != b'\\' || i + 1 >= input.len() {
            out.push(input[i]);
            i += 1;
            continue;
        }
        let n = input[i + 1];
        let simple = match n {
            b'a' => Some(7),
            b'b' => Some(8),
            b'f' => Some(12),
            b'n' => Some(b'\n'),
            b'r' => Some(b'\r'),
            b't' => Some(b'\t'),
            b'v' => Some(11),
            b'\\' | b'?' | b'\'' | b'"' => Some(n),
            _ => None,
        };
        if let Some(c) = simple {
            out.push(c);
            i += 2;
            continue;
        }
        if let Some((byte, next)) = hex_or_octal_escape(input, i) {
            out.push(byte);
            i = next;
            continue;
        }
        // Unknown escapes keep their backslash, as in ModSecurity.
        out.push(b'\\');
        out.push(n);
        i += 2;
    }
    (out != input).then_some(out)
}

#[cfg(test)]
mod tests {
    #[test]
    fn decodes() {
        assert_eq!(
            super::super::t(super::escape_seq_decode, r"a\x41\101\n\q"),
            "aAA\n\\q"
        );
    }
}
