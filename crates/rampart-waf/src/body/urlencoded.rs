//! `application/x-www-form-urlencoded` (and query strings).

use super::Pairs;
use crate::transformations::url_decode_bytes;

/// Splits on `sep`, then on the first `=`; names and values are URL-decoded (`+` is a space).
/// A parameter without `=` has an empty value; empty parameters are skipped.
pub(crate) fn parse(input: &[u8], sep: u8) -> Pairs {
    let mut out = Vec::new();
    for part in input.split(|&c| c == sep) {
        if part.is_empty() {
            continue;
        }
        let (name, value) = match memchr::memchr(b'=', part) {
            Some(eq) => (&part[..eq], &part[eq + 1..]),
            None => (part, &b""[..]),
        };
        out.push((url_decode_bytes(name), url_decode_bytes(value)));
    }
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn parses_pairs() {
        let p = super::parse(b"a=1&b=x+y%21&&c&=v", b'&');
        assert_eq!(
            p,
            vec![
                (b"a".to_vec(), b"1".to_vec()),
                (b"b".to_vec(), b"x y!".to_vec()),
                (b"c".to_vec(), b"".to_vec()),
                (b"".to_vec(), b"v".to_vec()),
            ]
        );
    }
}
