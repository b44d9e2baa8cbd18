use super::base64_decode::{decode_sextets, sextet};

/// Forgiving base64: characters outside the alphabet are skipped.
pub(crate) fn base64_decode_ext(input: &[u8]) -> Option<Vec<u8>> {
    Some(decode_sextets(input.iter().filter_map(|&c| sextet(c))))
}

#[cfg(test)]
mod tests {
    #[test]
    fn skips_junk() {
        assert_eq!(super::super::t(super::base64_decode_ext, "aGV.sb G8="), "hello");
    }
}
