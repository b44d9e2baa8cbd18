pub(crate) fn hex_encode(input: &[u8]) -> Option<Vec<u8>> {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let mut out = Vec::with_capacity(input.len() * 2);
    for &c in input {
        out.push(HEX[(c >> 4) as usize]);
        out.push(HEX[(c & 15) as usize]);
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    #[test]
    fn encodes() {
        assert_eq!(super::super::t(super::hex_encode, "A\n"), "410a");
    }
}
