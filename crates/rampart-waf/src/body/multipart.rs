//! `multipart/form-data` (RFC 7578): fields become ARGS_POST, file parts FILES/FILES_NAMES/FILES_SIZES,
//! every part's headers MULTIPART_PART_HEADERS. Malformations are flagged, not fatal.

#[derive(Debug, Default)]
pub(crate) struct Multipart {
    pub args: super::Pairs,
    /// (field name, file name, size).
    pub files: Vec<(Vec<u8>, Vec<u8>, usize)>,
    /// (field name, `Header: value`).
    pub part_headers: super::Pairs,
    pub unmatched_boundary: bool,
    pub data_before: bool,
    pub data_after: bool,
    pub lf_line: bool,
    pub crlf_line: bool,
    pub invalid_quoting: bool,
    pub invalid_part: bool,
    pub boundary_quoted: bool,
    pub boundary_whitespace: bool,
    pub header_folding: bool,
    pub missing_semicolon: bool,
    pub error: Option<String>,
}

impl Multipart {
    pub(crate) fn strict_error(&self) -> bool {
        self.error.is_some()
            || self.unmatched_boundary
            || self.data_before
            || self.data_after
            || (self.lf_line && self.crlf_line)
            || self.invalid_quoting
            || self.invalid_part
            || self.boundary_quoted
            || self.boundary_whitespace
            || self.header_folding
            || self.missing_semicolon
    }
}

/// The boundary parameter of a multipart Content-Type, with whether it was quoted.
pub(crate) fn boundary(content_type: &[u8]) -> Option<(Vec<u8>, bool, bool)> {
    let lower = content_type.to_ascii_lowercase();
    let at = memchr::memmem::find(&lower, b"boundary")?;
    let mut rest = &content_type[at + 8..];
    let ws_before = rest.first().is_some_and(u8::is_ascii_whitespace);
    while rest.first().is_some_and(u8::is_ascii_whitespace) {
        rest = &rest[1..];
    }
    rest = rest.strip_prefix(b"=")?;
    let ws_after = rest.first().is_some_and(u8::is_ascii_whitespace);
    let (b, quoted) = if let Some(r) = rest.strip_prefix(b"\"") {
        let end = memchr::memchr(b'"', r)?;
        (&r[..end], true)
    } else {
        let end = rest
            .iter()
            .position(|&c| c == b';' || c == b',' || c.is_ascii_whitespace())
            .unwrap_or(rest.len());
        (&rest[..end], false)
    };
    if b.is_empty() {
        return None;
    }
    Some((b.to_vec(), quoted, ws_before || ws_after))
}

pub(crate) fn parse(content_type: &[u8], body: &[u8]) -> Multipart {
    let mut m = Multipart::default();
    let Some((b, quoted, ws)) = boundary(content_type) else {
        m.error = Some("Multipart: boundary not found in Content-Type".into());
        return m;
    };
    m.boundary_quoted = quoted;
    m.boundary_whitespace = ws;
    let mut delim = b"--".to_vec();
    delim.extend_from_slice(&b);
    let finder = memchr::memmem::Finder::new(&delim);
    let positions: Vec<usize> = finder
        .find_iter(body)
        .filter(|&p| p == 0 || body[p - 1] == b'\n')
        .collect();
    let Some(&first) = positions.first() else {
        m.error = Some("Multipart: no boundaries found in payload".into());
        m.unmatched_boundary = true;
        return m;
    };
    if body[..first].iter().any(|c| !c.is_ascii_whitespace()) {
        m.data_before = true;
    }
    let mut finished = false;
    for (idx, &pos) in positions.iter().enumerate() {
        let after = pos + delim.len();
        if body[after..].starts_with(b"--") {
            finished = true;
            let tail = &body[after + 2..];
            if tail.iter().any(|c| !c.is_ascii_whitespace()) {
                m.data_after = true;
            }
            break;
        }
        let Some(next) = positions.get(idx + 1).copied() else {
            m.unmatched_boundary = true;
            break;
        };
        let mut start = after;
        // Anything after the boundary on its line other than the line end is malformed.
        while start < next && (body[start] == b' ' || body[start] == b'\t') {
            start += 1;
        }
        if body[start..].starts_with(b"\r\n") {
            start += 2;
            m.crlf_line = true;
        } else if body[start..].starts_with(b"\n") {
            start += 1;
            m.lf_line = true;
        } else {
            m.invalid_part = true;
        }
        // The part ends before the line break preceding the next delimiter.
        let mut end = next;
        if end > start && body[end - 1] == b'\n' {
            end -= 1;
            if end > start && body[end - 1] == b'\r' {
                end -= 1;
            }
        }
        part(&mut m, &body[start..end.max(start)]);
    }
    if !finished && !m.unmatched_boundary {
        m.unmatched_boundary = true;
    }
    m
}

fn part(m: &mut Multipart, p: &[u8]) {
    // Headers end at the first empty line.
    let mut i = 0;
    let mut headers: Vec<Vec<u8>> = Vec::new();
    loop {
        let Some(nl) = memchr::memchr(b'\n', &p[i..]) else {
            m.invalid_part = true;
            return;
        };
        let mut line = &p[i..i + nl];
        if line.last() == Some(&b'\r') {
            line = &line[..line.len() - 1];
            m.crlf_line = true;
        } else {
            m.lf_line = true;
        }
        i += nl + 1;
        if line.is_empty() {
            break;
        }
        if line[0] == b' ' || line[0] == b'\t' {
            m.header_folding = true;
            if let Some(last) = headers.last_mut() {
                last.push(b' ');
                last.extend_from_slice(line.trim_ascii_start());
                continue;
            }
            m.invalid_part = true;
            continue;
        }
        headers.push(line.to_vec());
    }
    let content = &p[i..];
    let mut name: Option<Vec<u8>> = None;
    let mut filename: Option<Vec<u8>> = None;
    for h in &headers {
        let Some(colon) = memchr::memchr(b':', h) else {
            m.invalid_part = true;
            continue;
        };
        if h[..colon]
            .trim_ascii()
            .eq_ignore_ascii_case(b"content-disposition")
        {
            disposition(m, h[colon + 1..].trim_ascii(), &mut name, &mut filename);
        }
    }
    let Some(name) = name else {
        m.invalid_part = true;
        return;
    };
    for h in headers {
        m.part_headers.push((name.clone(), h));
    }
    match filename {
        Some(f) => m.files.push((name, f, content.len())),
        None => m.args.push((name, content.to_vec())),
    }
}

fn disposition(m: &mut Multipart, v: &[u8], name: &mut Option<Vec<u8>>, filename: &mut Option<Vec<u8>>) {
    let Some(rest) = v
        .strip_prefix(b"form-data")
        .or_else(|| (v.len() >= 9 && v[..9].eq_ignore_ascii_case(b"form-data")).then(|| &v[9..]))
    else {
        m.invalid_part = true;
        return;
    };
    let mut s = rest;
    loop {
        s = s.trim_ascii_start();
        if s.is_empty() {
            break;
        }
        if s[0] == b';' {
            s = &s[1..];
            continue;
        }
        let eq = s.iter().position(|&c| c == b'=' || c == b';').unwrap_or(s.len());
        let key = s[..eq].trim_ascii().to_ascii_lowercase();
        if eq >= s.len() || s[eq] != b'=' {
            m.invalid_part = true;
            s = &s[eq..];
            continue;
        }
        s = s[eq + 1..].trim_ascii_start();
        let value;
        if s.first() == Some(&b'"') {
            let mut out = Vec::new();
            let mut j = 1;
            let mut closed = false;
            while j < s.len() {
                if s[j] == b'\\' && j + 1 < s.len() && (s[j + 1] == b'"' || s[j + 1] == b'\\') {
                    out.push(s[j + 1]);
                    j += 2;
                } else if s[j] == b'"' {
                    closed = true;
                    j += 1;
                    break;
                } else {
                    out.push(s[j]);
                    j += 1;
                }
            }
            if !closed {
                m.invalid_quoting = true;
            }
            value = out;
            s = &s[j..];
        } else {
            let end = s.iter().position(|&c| c == b';').unwrap_or(s.len());
            let raw = s[..end].trim_ascii();
            if raw.contains(&b'\'') || raw.contains(&b'"') {
                m.invalid_quoting = true;
            }
            value = raw.to_vec();
            s = &s[end..];
        }
        if !s.is_empty() && s.trim_ascii_start().first().is_some_and(|&c| c != b';') {
            m.missing_semicolon = true;
        }
        match key.as_slice() {
            b"name" => *name = Some(value),
            b"filename" | b"filename*" => *filename = Some(value),
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn fields_and_files() {
        let body = b"--XX\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\nvalue 1\r\n--XX\r\n\
Content-Disposition: form-data; name=\"f\"; filename=\"x.php\"\r\nContent-Type: text/plain\r\n\r\n<?php\r\n--XX--\r\n";
        let m = super::parse(b"multipart/form-data; boundary=XX", body);
        assert_eq!(m.args, vec![(b"a".to_vec(), b"value 1".to_vec())]);
        assert_eq!(m.files, vec![(b"f".to_vec(), b"x.php".to_vec(), 5)]);
        assert_eq!(m.part_headers.len(), 3);
        assert!(!m.strict_error(), "{m:?}");
    }

    #[test]
    fn flags_malformations() {
        let m = super::parse(
            b"multipart/form-data; boundary=XX",
            b"junk\r\n--XX\r\nContent-Disposition: form-data; name=a\r\n\r\nv\r\n",
        );
        assert!(m.data_before && m.unmatched_boundary && m.strict_error());
        let m = super::parse(b"multipart/form-data", b"");
        assert!(m.error.is_some());
        assert_eq!(
            super::boundary(b"multipart/form-data; boundary=\"a b\"").unwrap(),
            (b"a b".to_vec(), true, false)
        );
    }
}
