//! Transformations (`t:`), ModSecurity semantics. Each returns `None` when the input is unchanged,
//! so a chain allocates only when something actually changes.

mod base64_decode;
mod base64_decode_ext;
mod cmd_line;
mod compress_whitespace;
mod css_decode;
mod escape_seq_decode;
mod hex_decode;
mod hex_encode;
mod html_entity_decode;
mod js_decode;
mod length;
mod lowercase;
mod normalize_path;
mod remove_comments_char;
mod remove_nulls;
mod remove_whitespace;
mod replace_comments;
mod replace_nulls;
mod sha1;
mod sql_hex_decode;
mod trim;
mod uppercase;
mod url_decode;
mod url_decode_uni;
mod url_encode;
mod utf8_to_unicode;

pub(crate) type Transform = fn(&[u8]) -> Option<Vec<u8>>;

/// Looks a transformation up by its (case-insensitive) name; `none` is handled by the rule compiler.
pub(crate) fn lookup(name: &str) -> Option<Transform> {
    Some(match name.to_ascii_lowercase().as_str() {
        "lowercase" => lowercase::lowercase,
        "uppercase" => uppercase::uppercase,
        "urldecode" => url_decode::url_decode,
        "urldecodeuni" => url_decode_uni::url_decode_uni,
        "urlencode" => url_encode::url_encode,
        "htmlentitydecode" => html_entity_decode::html_entity_decode,
        "jsdecode" => js_decode::js_decode,
        "cssdecode" => css_decode::css_decode,
        "cmdline" => cmd_line::cmd_line,
        "utf8tounicode" => utf8_to_unicode::utf8_to_unicode,
        "normalizepath" | "normalisepath" => normalize_path::normalize_path,
        "normalizepathwin" | "normalisepathwin" => normalize_path::normalize_path_win,
        "removenulls" => remove_nulls::remove_nulls,
        "replacenulls" => replace_nulls::replace_nulls,
        "removewhitespace" => remove_whitespace::remove_whitespace,
        "replacecomments" => replace_comments::replace_comments,
        "removecommentschar" => remove_comments_char::remove_comments_char,
        "compresswhitespace" => compress_whitespace::compress_whitespace,
        "base64decode" => base64_decode::base64_decode,
        "base64decodeext" => base64_decode_ext::base64_decode_ext,
        "hexencode" => hex_encode::hex_encode,
        "hexdecode" => hex_decode::hex_decode,
        "sqlhexdecode" => sql_hex_decode::sql_hex_decode,
        "escapeseqdecode" => escape_seq_decode::escape_seq_decode,
        "length" => length::length,
        "sha1" => sha1::sha1,
        "trim" => trim::trim,
        "trimleft" => trim::trim_left,
        "trimright" => trim::trim_right,
        _ => return None,
    })
}

/// ModSecurity's whitespace set for the whitespace transformations (includes NBSP).
pub(crate) const fn is_space(c: u8) -> bool {
    matches!(c, b' ' | b'\t' | b'\n' | b'\r' | 0x0b | 0x0c | 0xa0)
}

pub(crate) fn hex_val(c: u8) -> Option<u8> {
    match c {
        b'0'..=b'9' => Some(c - b'0'),
        b'a'..=b'f' => Some(c - b'a' + 10),
        b'A'..=b'F' => Some(c - b'A' + 10),
        _ => None,
    }
}

/// `%uXXXX`/`\uXXXX` without a unicode map: full-width ASCII maps to ASCII, the rest to its low byte.
/// The numeric escapes C and JavaScript share, at a backslash at `i`: `\xHH` and octal
/// `\O` to `\OOO`. Returns the byte and the index after the escape.
pub(crate) fn hex_or_octal_escape(input: &[u8], i: usize) -> Option<(u8, usize)> {
    let n = *input.get(i + 1)?;
    if (n == b'x' || n == b'X') && i + 3 < input.len() {
        if let (Some(h), Some(l)) = (hex_val(input[i + 2]), hex_val(input[i + 3])) {
            return Some((h << 4 | l, i + 4));
        }
    }
    if (b'0'..=b'7').contains(&n) {
        let mut j = i + 1;
        let mut v: u32 = 0;
        while j < input.len() && j < i + 4 && (b'0'..=b'7').contains(&input[j]) {
            v = v * 8 + (input[j] - b'0') as u32;
            j += 1;
        }
        return Some(((v & 0xff) as u8, j));
    }
    None
}

pub(crate) fn unicode_to_byte(code: u32) -> u8 {
    if (0xff01..=0xff5e).contains(&code) {
        (code - 0xfee0) as u8
    } else {
        (code & 0xff) as u8
    }
}

#[cfg(test)]
pub(crate) fn t(f: Transform, input: &str) -> String {
    let out = f(input.as_bytes()).unwrap_or_else(|| input.as_bytes().to_vec());
    String::from_utf8_lossy(&out).into_owned()
}

/// URL-decodes (`%XX`, `+`) into a new buffer, for the body and query-string parsers.
pub(crate) fn url_decode_bytes(input: &[u8]) -> Vec<u8> {
    url_decode::decode(input)
}
