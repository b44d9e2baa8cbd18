use super::{hex_val, unicode_to_byte};

/// `urlDecode` plus IIS-style `%uXXXX`.
pub(crate) fn url_decode_uni(input: &[u8]) -> Option<Vec<u8>> {
    if !input.iter().any(|&c| c == b'%' || c == b'+') {
        return None;
    }
    let mut out = Vec::with_capacity(input.len());
    let mut i = 0;
    while i < input.len() {
        let c = input[i];
        if c == b'%' {
            if i + 5 < input.len() && (input[i + 1] | 0x20) == b'u' {
                let h = input[i + 2..i + 6]
                    .iter()
                    .try_fold(0u32, |a, &d| hex_val(d).map(|v| a << 4 | v as u32));
                if let Some(code) = h {
                    out.push(unicode_to_byte(code));
                    i += 6;
                    continue;
                }
            }
            if i + 2 < input.len() {
                if let (Some(h), Some(l)) = (hex_val(input[i + 1]), hex_val(input[i + 2])) {
                    out.push(h << 4 | l);
                    i += 3;
                    continue;
                }
            }
            out.push(b'%');
        } else if c == b'+' {
            out.push(b' ');
        } else {
            out.push(c);
        }
        i += 1;
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    #[test]
    fn decodes_unicode_escapes() {
        let t = |s| super::super::t(super::url_decode_uni, s);
        assert_eq!(t("%u0041%uff1c%41+%u12"), "A<A %u12");
        assert_eq!(t("%2e%2E%u002f"), "../");
    }
}
