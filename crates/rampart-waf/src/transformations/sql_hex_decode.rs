use super::hex_val;

/// `0x414243` inside SQL becomes `ABC`.
pub(crate) fn sql_hex_decode(input: &[u8]) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(input.len());
    let mut i = 0;
    let mut changed = false;
    while i < input.len() {
        if input[i] == b'0'
            && i + 3 < input.len()
            && (input[i + 1] | 0x20) == b'x'
            && hex_val(input[i + 2]).is_some()
            && hex_val(input[i + 3]).is_some()
        {
            let mut j = i + 2;
            while j + 1 < input.len() {
                match (hex_val(input[j]), hex_val(input[j + 1])) {
                    (Some(h), Some(l)) => out.push(h << 4 | l),
                    _ => break,
                }
                j += 2;
            }
            i = j;
            changed = true;
        } else {
            out.push(input[i]);
            i += 1;
        }
    }
    changed.then_some(out)
}

#[cfg(test)]
mod tests {
    #[test]
    fn decodes() {
        assert_eq!(
            super::super::t(super::sql_hex_decode, "select 0x414243"),
            "select ABC"
        );
    }
}
