//! The decoders obfuscated scripts use, each capped so that a decompression bomb or a huge
//! literal costs bounded memory and time.

use std::io::Read;

/// Largest output any decoder produces.
pub const MAX_OUT: usize = 4 << 20;

/// Lenient base64 as PHP's `base64_decode` does it: skips bytes outside the alphabet,
/// accepts the URL-safe alphabet and missing padding.
pub fn base64(s: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(s.len() * 3 / 4);
    let mut acc: u32 = 0;
    let mut n = 0;
    for &b in s {
        let v = match b {
            b'A'..=b'Z' => b - b'A',
            b'a'..=b'z' => b - b'a' + 26,
            b'0'..=b'9' => b - b'0' + 52,
            b'+' | b'-' => 62,
            b'/' | b'_' => 63,
            b'=' => break,
            _ => continue,
        };
        acc = (acc << 6) | v as u32;
        n += 1;
        if n == 4 {
            out.extend_from_slice(&[(acc >> 16) as u8, (acc >> 8) as u8, acc as u8]);
            acc = 0;
            n = 0;
            if out.len() >= MAX_OUT {
                return out;
            }
        }
    }
    match n {
        2 => out.push((acc >> 4) as u8),
        3 => out.extend_from_slice(&[(acc >> 10) as u8, (acc >> 2) as u8]),
        _ => {}
    }
    out
}

/// Share of bytes in `s` that belong to the base64 alphabet (white space ignored).
pub fn base64_share(s: &[u8]) -> f64 {
    let mut total = 0usize;
    let mut ok = 0usize;
    for &b in s {
        if b.is_ascii_whitespace() {
            continue;
        }
        total += 1;
        if b.is_ascii_alphanumeric() || matches!(b, b'+' | b'/' | b'=' | b'-' | b'_') {
            ok += 1;
        }
    }
    if total == 0 {
        0.0
    } else {
        ok as f64 / total as f64
    }
}

fn capped(mut r: impl Read) -> Option<Vec<u8>> {
    let mut out = Vec::new();
    match r.by_ref().take(MAX_OUT as u64).read_to_end(&mut out) {
        Ok(_) => Some(out),
        // A truncated stream still gives what came before the damage.
        Err(_) if !out.is_empty() => Some(out),
        Err(_) => None,
    }
}

/// `gzinflate`: raw deflate.
pub fn inflate(s: &[u8]) -> Option<Vec<u8>> {
    capped(flate2::read::DeflateDecoder::new(s))
}

/// `gzuncompress`: zlib.
pub fn zlib(s: &[u8]) -> Option<Vec<u8>> {
    capped(flate2::read::ZlibDecoder::new(s))
}

/// `gzdecode`: gzip.
pub fn gunzip(s: &[u8]) -> Option<Vec<u8>> {
    capped(flate2::read::GzDecoder::new(s))
}

/// Any of the three, whichever the header says.
pub fn any_deflate(s: &[u8]) -> Option<Vec<u8>> {
    if s.starts_with(&[0x1f, 0x8b]) {
        gunzip(s)
    } else if s.len() > 2 && s[0] & 0x0f == 8 && ((s[0] as u16) << 8 | s[1] as u16) % 31 == 0 {
        zlib(s).or_else(|| inflate(s))
    } else {
        inflate(s)
    }
}

pub fn rot13(s: &[u8]) -> Vec<u8> {
    s.iter()
        .map(|&b| match b {
            b'a'..=b'z' => (b - b'a' + 13) % 26 + b'a',
            b'A'..=b'Z' => (b - b'A' + 13) % 26 + b'A',
            _ => b,
        })
        .collect()
}

pub fn reverse(s: &[u8]) -> Vec<u8> {
    s.iter().rev().copied().collect()
}

pub fn hex(s: &[u8]) -> Option<Vec<u8>> {
    let digits: Vec<u8> = s.iter().copied().filter(|b| !b.is_ascii_whitespace()).collect();
    if digits.len() % 2 != 0 || !digits.iter().all(|b| b.is_ascii_hexdigit()) {
        return None;
    }
    Some(
        digits
            .chunks(2)
            .take(MAX_OUT)
            .map(|c| {
                let h = (c[0] as char).to_digit(16).unwrap_or(0);
                let l = (c[1] as char).to_digit(16).unwrap_or(0);
                (h * 16 + l) as u8
            })
            .collect(),
    )
}

pub fn url(s: &[u8], plus_is_space: bool) -> Vec<u8> {
    let mut out = Vec::with_capacity(s.len());
    let mut i = 0;
    while i < s.len() {
        match s[i] {
            b'%' if i + 2 < s.len() => {
                let h = (s[i + 1] as char).to_digit(16);
                let l = (s[i + 2] as char).to_digit(16);
                if let (Some(h), Some(l)) = (h, l) {
                    out.push((h * 16 + l) as u8);
                    i += 3;
                    continue;
                }
                out.push(b'%');
            }
            b'+' if plus_is_space => out.push(b' '),
            b => out.push(b),
        }
        i += 1;
    }
    out
}

/// JavaScript/VBScript `unescape`: `%XX` and `%uXXXX`.
pub fn unescape(s: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(s.len());
    let mut i = 0;
    while i < s.len() {
        if s[i] == b'%' {
            if s.get(i + 1) == Some(&b'u') && i + 6 <= s.len() {
                if let Ok(cp) = u32::from_str_radix(&String::from_utf8_lossy(&s[i + 2..i + 6]), 16) {
                    crate::token::push_utf8(&mut out, cp);
                    i += 6;
                    continue;
                }
            }
            if i + 3 <= s.len() {
                if let Ok(b) = u8::from_str_radix(&String::from_utf8_lossy(&s[i + 1..i + 3]), 16) {
                    out.push(b);
                    i += 3;
                    continue;
                }
            }
        }
        out.push(s[i]);
        i += 1;
    }
    out
}

/// Shannon entropy in bits per byte.
pub fn entropy(s: &[u8]) -> f64 {
    if s.is_empty() {
        return 0.0;
    }
    let mut counts = [0u32; 256];
    for &b in s {
        counts[b as usize] += 1;
    }
    let n = s.len() as f64;
    counts
        .iter()
        .filter(|&&c| c > 0)
        .map(|&c| {
            let p = c as f64 / n;
            -p * p.log2()
        })
        .sum()
}

/// A script saved as UTF-16 (byte-order mark, or ASCII text with every other byte NUL):
/// its text as UTF-8, so the lexers see `<%` rather than `<\0%\0`. `None` for anything else.
pub fn utf16_text(s: &[u8]) -> Option<Vec<u8>> {
    let (body, le) = match s {
        [0xff, 0xfe, rest @ ..] => (rest, true),
        [0xfe, 0xff, rest @ ..] => (rest, false),
        _ => {
            // No mark: ASCII text in either byte order shows NULs in every odd (LE) or even
            // (BE) position of its head.
            let head = &s[..s.len().min(64) & !1];
            if head.len() < 16 {
                return None;
            }
            let ascii = |b: u8| b.is_ascii_graphic() || b.is_ascii_whitespace();
            let le = head.chunks(2).all(|p| p[1] == 0 && ascii(p[0]));
            let be = head.chunks(2).all(|p| p[0] == 0 && ascii(p[1]));
            match (le, be) {
                (true, _) => (s, true),
                (_, true) => (s, false),
                _ => return None,
            }
        }
    };
    if body.len() < 4 {
        return None;
    }
    let units = body.chunks_exact(2).map(|p| {
        if le {
            u16::from_le_bytes([p[0], p[1]])
        } else {
            u16::from_be_bytes([p[0], p[1]])
        }
    });
    let mut out = Vec::with_capacity(body.len() / 2 + 16);
    for c in char::decode_utf16(units) {
        let c = c.unwrap_or(char::REPLACEMENT_CHARACTER);
        let mut buf = [0u8; 4];
        out.extend_from_slice(c.encode_utf8(&mut buf).as_bytes());
        if out.len() > MAX_OUT {
            break;
        }
    }
    Some(out)
}

/// UTF-7 text (an ASP page with `codepage=65000`): `+…-` runs are base64 of UTF-16 and
/// `+-` is a plus sign; everything else is itself.
pub fn utf7(s: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(s.len());
    let mut i = 0;
    while i < s.len() && out.len() < MAX_OUT {
        let c = s[i];
        if c != b'+' {
            out.push(c);
            i += 1;
            continue;
        }
        if s.get(i + 1) == Some(&b'-') {
            out.push(b'+');
            i += 2;
            continue;
        }
        let start = i + 1;
        let mut end = start;
        while end < s.len() && (s[end].is_ascii_alphanumeric() || s[end] == b'+' || s[end] == b'/') {
            end += 1;
        }
        let (mut bits, mut n) = (0u32, 0u32);
        let mut units = Vec::new();
        for &b in &s[start..end] {
            let v = match b {
                b'A'..=b'Z' => b - b'A',
                b'a'..=b'z' => b - b'a' + 26,
                b'0'..=b'9' => b - b'0' + 52,
                b'+' => 62,
                _ => 63,
            };
            bits = (bits << 6 | u32::from(v)) & 0x3f_ffff;
            n += 6;
            if n >= 16 {
                n -= 16;
                units.push((bits >> n) as u16);
            }
        }
        for c in char::decode_utf16(units) {
            let mut buf = [0u8; 4];
            out.extend_from_slice(
                c.unwrap_or(char::REPLACEMENT_CHARACTER)
                    .encode_utf8(&mut buf)
                    .as_bytes(),
            );
        }
        i = if s.get(end) == Some(&b'-') { end + 1 } else { end };
    }
    out
}

/// Whether decoded bytes look like program text worth analysing again (mostly printable,
/// with code punctuation), rather than an image or random bytes.
pub fn looks_like_code(s: &[u8]) -> bool {
    if s.len() < 8 {
        return false;
    }
    let sample = &s[..s.len().min(4096)];
    let printable = sample
        .iter()
        .filter(|&&b| b.is_ascii_graphic() || b.is_ascii_whitespace() || b >= 0x80)
        .count();
    if printable * 100 < sample.len() * 90 {
        return false;
    }
    sample.iter().any(|&b| matches!(b, b'(' | b';' | b'$' | b'='))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    #[test]
    fn base64_is_lenient() {
        assert_eq!(base64(b"c3lz\ndGVt"), b"system");
        assert_eq!(base64(b"c3lzdGVt=="), b"system");
        assert_eq!(base64(b"YQ"), b"a");
    }

    #[test]
    fn inflate_caps_bombs() {
        let mut e = flate2::write::DeflateEncoder::new(Vec::new(), flate2::Compression::best());
        let zeros = vec![0u8; 1 << 20];
        for _ in 0..64 {
            e.write_all(&zeros).unwrap();
        }
        let bomb = e.finish().unwrap();
        let out = inflate(&bomb).unwrap();
        assert_eq!(out.len(), MAX_OUT);
    }

    #[test]
    fn utf16_text_is_recognised_with_and_without_a_mark() {
        let le: Vec<u8> = "<% eval %>".encode_utf16().flat_map(u16::to_le_bytes).collect();
        let be: Vec<u8> = "<% eval request %>"
            .encode_utf16()
            .flat_map(u16::to_be_bytes)
            .collect();
        let mut marked = vec![0xff, 0xfe];
        marked.extend_from_slice(&le);
        assert_eq!(utf16_text(&marked).unwrap(), b"<% eval %>");
        assert_eq!(utf16_text(&be).unwrap(), b"<% eval request %>");
        assert!(utf16_text(b"<?php echo 1; ?> plain text here").is_none());
        assert!(utf16_text(&[0xff, 0xfe, 0x41]).is_none());
    }

    #[test]
    fn utf7_runs_are_decoded() {
        assert_eq!(utf7(b"e+x-v+x-al(+ACI-c+ACI-)"), b"eval(\"c\")");
        assert_eq!(utf7(b"1+-1"), b"1+1");
        assert_eq!(utf7(b"a+AGUAdgBhAGw-b"), b"aevalb");
        assert_eq!(utf7(b"+"), b"");
    }

    #[test]
    fn url_decoding_handles_truncated_escapes() {
        assert_eq!(url(b"a%20b%2", false), b"a b%2");
        assert_eq!(url(b"%", true), b"%");
    }
}
