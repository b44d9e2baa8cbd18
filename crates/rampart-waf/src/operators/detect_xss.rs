/// libinjection's XSS detection.
pub(crate) fn detect_xss(input: &[u8]) -> bool {
    if plain(input) {
        return false;
    }
    libinjectionrs::detect_xss(input).is_injection()
}

/// Letters and digits only: no tag, attribute, quote, `=` or URL scheme can form in any of the
/// HTML contexts libinjection tries, so it never reports one. Most argument names and many
/// values of a benign request are like that.
fn plain(input: &[u8]) -> bool {
    input.iter().all(u8::is_ascii_alphanumeric)
}

#[cfg(test)]
mod tests {
    #[test]
    fn detects() {
        assert!(super::detect_xss(b"<script>alert(1)</script>"));
        assert!(!super::detect_xss(b"hello"));
    }

    #[test]
    fn plain_words_agree_with_libinjection() {
        let words = [
            "",
            "javascript",
            "JaVaScRiPt",
            "vbscript",
            "data",
            "script",
            "onerror",
            "onload",
            "style",
            "xmlns",
            "href",
            "src",
            "alert",
            "svg",
            "img",
            "iframe",
            "expression",
            "formaction",
            "srcdoc",
            "livescript",
            "viewsource",
            "0",
            "42",
            "abc123",
            "3f2a9c1b7d",
        ];
        for w in words {
            assert!(super::plain(w.as_bytes()));
            assert!(!libinjectionrs::detect_xss(w.as_bytes()).is_injection(), "{w}");
        }
        assert!(!super::plain(b"javascript:alert(1)"));
        assert!(!super::plain(b"a b"));
    }
}
