/// HTML entities as ModSecurity decodes them: numeric (`&#65;`, `&#x41;`, to a single byte) and
/// `&quot; &amp; &lt; &gt; &nbsp; &apos;`; the trailing `;` is optional.
pub(crate) fn html_entity_decode(input: &[u8]) -> Option<Vec<u8>> {
    if !input.contains(&b'&') {
        return None;
    }
    let mut out = Vec::with_capacity(input.len());
    let mut i = 0;
    while i < input.len() {
        if input[i] == b'&' {
            if let Some((byte, used)) = entity(&input[i + 1..]) {
                out.push(byte);
                i += 1 + used;
                continue;
            }
        }
        out.push(input[i]);
        i += 1;
    }
    Some(out)
}

/// Decodes the entity after `&`: (byte, bytes consumed after the `&`).
fn entity(s: &[u8]) -> Option<(u8, usize)> {
    let semi = |n: usize| if s.get(n) == Some(&b';') { n + 1 } else { n };
    if s.first() == Some(&b'#') {
        let (hex, start) = match s.get(1) {
            Some(b'x') | Some(b'X') => (true, 2),
            _ => (false, 1),
        };
        let mut j = start;
        let mut v: u32 = 0;
        while j < s.len() {
            let d = if hex {
                super::hex_val(s[j])
            } else {
                s[j].is_ascii_digit().then(|| s[j] - b'0')
            };
            let Some(d) = d else { break };
            v = v
                .saturating_mul(if hex { 16 } else { 10 })
                .saturating_add(d as u32);
            j += 1;
        }
        if j == start {
            return None;
        }
        return Some(((v & 0xff) as u8, semi(j)));
    }
    const NAMED: &[(&[u8], u8)] = &[
        (b"quot", b'"'),
        (b"amp", b'&'),
        (b"lt", b'<'),
        (b"gt", b'>'),
        (b"nbsp", 0xa0),
        (b"apos", b'\''),
    ];
    for (name, byte) in NAMED {
        if s.len() >= name.len() && s[..name.len()].eq_ignore_ascii_case(name) {
            return Some((*byte, semi(name.len())));
        }
    }
    None
}

#[cfg(test)]
mod tests {
    #[test]
    fn decodes_entities() {
        let t = |s| super::super::t(super::html_entity_decode, s);
        assert_eq!(
            t("&lt;script&gt;&#x61;&#98&amp;&QUOT;&foo;"),
            "<script>ab&\"&foo;"
        );
        assert_eq!(t("&#;&#x;"), "&#;&#x;");
    }
}
