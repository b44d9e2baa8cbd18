use super::hex_val;

/// `%XX` and `+`; invalid escapes are kept as they are.
pub(crate) fn url_decode(input: &[u8]) -> Option<Vec<u8>> {
    if !input.iter().any(|&c| c == b'%' || c == b'+') {
        return None;
    }
    Some(decode(input))
}

pub(crate) fn decode(input: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(input.len());
    let mut i = 0;
    while i < input.len() {
        match input[i] {
            b'%' if i + 2 < input.len() => match (hex_val(input[i + 1]), hex_val(input[i + 2])) {
                (Some(h), Some(l)) => {
                    out.push(h << 4 | l);
                    i += 3;
                }
                _ => {
                    out.push(b'%');
                    i += 1;
                }
            },
            b'+' => {
                out.push(b' ');
                i += 1;
            }
            c => {
                out.push(c);
                i += 1;
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn decodes() {
        let t = |s| super::super::t(super::url_decode, s);
        assert_eq!(t("a%20b+c%2"), "a b c%2");
        assert_eq!(t("%zz%41"), "%zzA");
        assert_eq!(t("%"), "%");
    }
}
