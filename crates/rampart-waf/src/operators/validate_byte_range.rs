/// `@validateByteRange 1-255`: matches when a byte falls outside every listed range.
#[derive(Debug)]
pub(crate) struct ByteRanges {
    allowed: [bool; 256],
}

impl ByteRanges {
    pub(crate) fn parse(arg: &str) -> Result<ByteRanges, String> {
        let mut allowed = [false; 256];
        for part in arg.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            let num = |s: &str| {
                s.trim()
                    .parse::<u8>()
                    .map_err(|_| format!("`{part}` is not a byte or byte range (0-255)"))
            };
            let (lo, hi) = match part.split_once('-') {
                Some((a, b)) => (num(a)?, num(b)?),
                None => (num(part)?, num(part)?),
            };
            if lo > hi {
                return Err(format!("byte range `{part}` is empty"));
            }
            for b in lo..=hi {
                allowed[b as usize] = true;
            }
        }
        Ok(ByteRanges { allowed })
    }

    pub(crate) fn matches(&self, input: &[u8]) -> bool {
        input.iter().any(|&b| !self.allowed[b as usize])
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn ranges() {
        let r = super::ByteRanges::parse("9,10, 32-126").unwrap();
        assert!(!r.matches(b"abc\t"));
        assert!(r.matches(b"a\x00"));
        assert!(super::ByteRanges::parse("300").is_err());
    }
}
