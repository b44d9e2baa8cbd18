use super::{hex_val, unicode_to_byte};

/// CSS 2 escapes: `\` + 1–6 hex digits (one following whitespace eaten), `\` + newline removed,
/// `\` + any other character is that character.
pub(crate) fn css_decode(input: &[u8]) -> Option<Vec<u8>> {
    if !input.contains(&b'\\') {
        return None;
    }
    let mut out = Vec::with_capacity(input.len());
    let mut i = 0;
    while i < input.len() {
        if input[i] != b'\\' {
            out.push(input[i]);
            i += 1;
            continue;
        }
        if i + 1 >= input.len() {
            // A trailing backslash is dropped.
            i += 1;
            continue;
        }
        let mut j = i + 1;
        let mut code: u32 = 0;
        while j < input.len() && j < i + 7 {
            match hex_val(input[j]) {
                Some(d) => code = code << 4 | d as u32,
                None => break,
            }
            j += 1;
        }
        let digits = j - (i + 1);
        if digits > 0 {
            out.push(if digits >= 5 || (digits == 4 && code > 0xff) {
                unicode_to_byte(code)
            } else {
                (code & 0xff) as u8
            });
            if j < input.len() && super::is_space(input[j]) && input[j] != 0xa0 {
                j += 1;
            }
            i = j;
            continue;
        }
        if input[i + 1] == b'\n' {
            i += 2;
            continue;
        }
        out.push(input[i + 1]);
        i += 2;
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    #[test]
    fn decodes_css_escapes() {
        let t = |s| super::super::t(super::css_decode, s);
        assert_eq!(t(r"\6a \61vascript\:\"), "javascript:");
        assert_eq!(t("a\\\nb"), "ab");
        assert_eq!(t(r"\00ff1c"), "<");
    }
}
