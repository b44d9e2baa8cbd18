use super::{hex_or_octal_escape, hex_val, unicode_to_byte};

/// JavaScript escapes: `\xHH`, `\uHHHH`, octal `\OOO`, the single-letter escapes, and `\c` as `c`.
pub(crate) fn js_decode(input: &[u8]) -> Option<Vec<u8>> {
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
        if (n == b'u' || n == b'U') && i + 5 < input.len() {
            let h = input[i + 2..i + 6]
                .iter()
                .try_fold(0u32, |a, &d| hex_val(d).map(|v| a << 4 | v as u32));
            if let Some(code) = h {
                out.push(unicode_to_byte(code));
                i += 6;
                continue;
            }
        }
        if let Some((byte, next)) = hex_or_octal_escape(input, i) {
            out.push(byte);
            i = next;
            continue;
        }
        out.push(match n {
            b'a' => 7,
            b'b' => 8,
            b'f' => 12,
            b'n' => b'\n',
            b'r' => b'\r',
            b't' => b'\t',
            b'v' => 11,
            other => other,
        });
        i += 2;
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    #[test]
    fn decodes_escapes() {
        let t = |s| super::super::t(super::js_decode, s);
        assert_eq!(t(r"\x3cscript\u003e\101\n\q\"), "<script>A\nq\\");
        assert_eq!(t(r"\uff1c\x4"), "<x4");
    }
}
