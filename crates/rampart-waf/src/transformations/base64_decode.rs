/// Standard base64 (padding optional); decoding stops at the first character outside the alphabet.
pub(crate) fn base64_decode(input: &[u8]) -> Option<Vec<u8>> {
    let end = input
        .iter()
        .position(|&c| sextet(c).is_none())
        .unwrap_or(input.len());
    Some(decode_sextets(input[..end].iter().filter_map(|&c| sextet(c))))
}

pub(super) fn sextet(c: u8) -> Option<u8> {
    match c {
        b'A'..=b'Z' => Some(c - b'A'),
        b'a'..=b'z' => Some(c - b'a' + 26),
        b'0'..=b'9' => Some(c - b'0' + 52),
        b'+' | b'-' => Some(62),
        b'/' | b'_' => Some(63),
        _ => None,
    }
}

pub(super) fn decode_sextets(it: impl Iterator<Item = u8>) -> Vec<u8> {
    let mut out = Vec::new();
    let (mut acc, mut bits) = (0u32, 0u32);
    for v in it {
        acc = acc << 6 | v as u32;
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
            acc &= (1 << bits) - 1;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn decodes() {
        let t = |s| super::super::t(super::base64_decode, s);
        assert_eq!(t("aGVsbG8gd29ybGQ="), "hello world");
        assert_eq!(t("aGVsbG8"), "hello");
        assert_eq!(t("aGVs.bG8"), "hel");
    }
}
