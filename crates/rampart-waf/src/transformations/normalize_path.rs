/// Removes `./`, resolves `../` and collapses repeated slashes (ModSecurity `normalizePath`).
pub(crate) fn normalize_path(input: &[u8]) -> Option<Vec<u8>> {
    if input.is_empty() || !needs_normalizing(input) {
        return None;
    }
    let out = normalize(input);
    (out != input).then_some(out)
}

/// `normalizePath` after turning backslashes into slashes.
pub(crate) fn normalize_path_win(input: &[u8]) -> Option<Vec<u8>> {
    if memchr::memchr(b'\\', input).is_none() {
        return normalize_path(input);
    }
    let converted: Vec<u8> = input.iter().map(|&c| if c == b'\\' { b'/' } else { c }).collect();
    let out = normalize(&converted);
    (out != input).then_some(out)
}

/// Whether [`normalize`] would change the path: it has a `.` or `..` segment or an empty one
/// other than the leading (absolute) or trailing (directory) slash, i.e. `//`.
fn needs_normalizing(input: &[u8]) -> bool {
    let last = input.split(|&c| c == b'/').count() - 1;
    input
        .split(|&c| c == b'/')
        .enumerate()
        .any(|(i, seg)| seg == b"." || seg == b".." || (seg.is_empty() && i != 0 && i != last))
}

fn normalize(input: &[u8]) -> Vec<u8> {
    let absolute = input.first() == Some(&b'/');
    let trailing = input.last() == Some(&b'/')
        || input.ends_with(b"/.")
        || input.ends_with(b"/..")
        || input == b"."
        || input == b"..";
    let mut parts: Vec<&[u8]> = Vec::new();
    // Leading `..` of a relative path cannot be resolved and is kept.
    let mut leading_up = 0usize;
    for seg in input.split(|&c| c == b'/') {
        match seg {
            b"" | b"." => {}
            b".." => {
                if parts.pop().is_none() && !absolute {
                    leading_up += 1;
                }
            }
            s => parts.push(s),
        }
    }
    let mut out = Vec::with_capacity(input.len());
    if absolute {
        out.push(b'/');
    }
    for _ in 0..leading_up {
        out.extend_from_slice(b"../");
    }
    for (i, p) in parts.iter().enumerate() {
        if i > 0 {
            out.push(b'/');
        }
        out.extend_from_slice(p);
    }
    if trailing && !parts.is_empty() {
        out.push(b'/');
    }
    if !absolute && parts.is_empty() && leading_up > 0 && !trailing {
        out.pop();
    }
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn normalises() {
        let t = |s| super::super::t(super::normalize_path, s);
        assert_eq!(t("/a/./b//c/../d"), "/a/b/d");
        assert_eq!(t("/../../etc/passwd"), "/etc/passwd");
        assert_eq!(t("../../etc/"), "../../etc/");
        assert_eq!(t("a/b/.."), "a/");
        for unchanged in ["/a/b.c/d", "/", "a/", "/x/", "q=1&b=2", "..a/b..", "a"] {
            assert_eq!(super::normalize_path(unchanged.as_bytes()), None, "{unchanged}");
            assert!(!super::needs_normalizing(unchanged.as_bytes()));
            assert_eq!(super::normalize(unchanged.as_bytes()), unchanged.as_bytes());
        }
        for changed in ["//a", "/a//b", "./a", "a/./b", "a/..", ".", "..", "/a/."] {
            assert!(super::needs_normalizing(changed.as_bytes()), "{changed}");
        }
        assert_eq!(
            super::super::t(super::normalize_path_win, "c:\\windows\\..\\x"),
            "c:/x"
        );
    }
}
