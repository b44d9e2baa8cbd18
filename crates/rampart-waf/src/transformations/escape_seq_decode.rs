use super::hex_val;

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
        if (n == b'x' || n == b'X') && i + 3 < input.len() {
            if let (Some(h), Some(l)) = (hex_val(input[i + 2]), hex_val(input[i + 3])) {
                out.push(h << 4 | l);
                i += 4;
                continue;
            }
        }
        if (b'0'..=b'7').contains(&n) {
            let mut j = i + 1;
            let mut v: u32 = 0;
            while j < input.len() && j < i + 4 && (b'0'..=b'7').contains(&input[j]) {
                v = v * 8 + (input[j] - b'0') as u32;
                j += 1;
            }
            out.push((v & 0xff) as u8);
            i = j;
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
