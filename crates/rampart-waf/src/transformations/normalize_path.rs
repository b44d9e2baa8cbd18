/// Removes `./`, resolves `../` and collapses repeated slashes (ModSecurity `normalizePath`).
pub(crate) fn normalize_path(input: &[u8]) -> Option<Vec<u8>> {
    if input.is_empty() {
        return None;
    }
    let out = normalize(input);
    (out != input).then_some(out)
}

/// `normalizePath` after turning backslashes into slashes.
pub(crate) fn normalize_path_win(input: &[u8]) -> Option<Vec<u8>> {
    let converted: Vec<u8> = input.iter().map(|&c| if c == b'\\' { b'/' } else { c }).collect();
    let out = normalize(&converted);
    (out != input).then_some(out)
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
        assert_eq!(
            super::super::t(super::normalize_path_win, "c:\\windows\\..\\x"),
            "c:/x"
        );
    }
}
