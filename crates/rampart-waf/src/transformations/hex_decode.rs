use super::hex_val;

pub(crate) fn hex_decode(input: &[u8]) -> Option<Vec<u8>> {
    Some(
        input
            .chunks(2)
            .filter_map(|p| Some(hex_val(p[0])? << 4 | hex_val(*p.get(1)?)?))
            .collect(),
    )
}

#[cfg(test)]
mod tests {
    #[test]
    fn decodes() {
        assert_eq!(super::super::t(super::hex_decode, "414243"), "ABC");
    }
}
