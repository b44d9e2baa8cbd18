//! `@rx`: PCRE-style regular expressions on bytes, compiled with the `regex` crate.
//!
//! ModSecurity compiles patterns with DOTALL and without UTF-8 mode, so Unicode is off here
//! (`\xhh` is a byte, `\w` is ASCII) and `.` matches newlines. PCRE-only syntax that has the same
//! matching result is rewritten: possessive quantifiers and atomic groups become plain ones.

use aho_corasick::{AhoCorasick, AhoCorasickBuilder, AhoCorasickKind, MatchKind};
use regex::bytes::{Regex, RegexBuilder};

use super::{required_literals, Captures};

#[derive(Debug, Clone)]
pub(crate) struct Rx {
    re: Regex,
    /// Literals one of which every match contains (see [`required_literals`]).
    prefilter: Option<AhoCorasick>,
    /// The same literals (ASCII-lowercased), for the engine's per-chain rule screen.
    literals: Option<Vec<Vec<u8>>>,
    /// The pattern matches any input as a whole (`^.*$` with DOTALL, CRS 920450 on every header
    /// name): no regex run, the one group is the input.
    whole: bool,
}

impl Rx {
    pub(crate) fn new(pattern: &str) -> Result<Rx, String> {
        let re = compile_regex(pattern, true)?;
        let literals = required_literals_of(pattern, true);
        Ok(Rx {
            re,
            prefilter: literals.as_deref().and_then(automaton),
            literals,
            whole: matches!(pattern, "^.*$" | "^.*" | ".*"),
        })
    }

    /// Literals one of which every match contains (ASCII-lowercased, compared case-insensitively).
    pub(crate) fn literals(&self) -> Option<&[Vec<u8>]> {
        self.literals.as_deref()
    }

    pub(crate) fn matches(&self, input: &[u8], caps: Option<&mut Captures>) -> bool {
        if self.whole {
            if let Some(caps) = caps {
                super::set_captures(caps, std::iter::once(input));
            }
            return true;
        }
        if let Some(p) = &self.prefilter {
            if !p.is_match(input) {
                return false;
            }
        }
        match caps {
            None => self.re.is_match(input),
            Some(caps) => {
                // Most values do not match: find that out without paying for capture slots.
                if !self.re.is_match(input) {
                    return false;
                }
                let Some(c) = self.re.captures(input) else {
                    return false;
                };
                let groups = (0..c.len().min(10)).map(|i| c.get(i).map_or(&b""[..], |m| m.as_bytes()));
                super::set_captures(caps, groups);
                true
            }
        }
    }
}

/// Compiles a PCRE pattern the way ModSecurity would run it (see the module comment).
pub(crate) fn compile_regex(pattern: &str, dotall: bool) -> Result<Regex, String> {
    let translated = translate(pattern);
    RegexBuilder::new(&translated)
        .unicode(false)
        .dot_matches_new_line(dotall)
        .size_limit(256 << 20)
        .dfa_size_limit(64 << 20)
        .build()
        .map_err(|e| format!("regular expression does not compile: {e}"))
}

/// The pattern's required literals, when it has some.
fn required_literals_of(pattern: &str, dotall: bool) -> Option<Vec<Vec<u8>>> {
    let hir = regex_syntax::ParserBuilder::new()
        .unicode(false)
        .utf8(false)
        .dot_matches_new_line(dotall)
        .build()
        .parse(&translate(pattern))
        .ok()?;
    required_literals::required(&hir)
}

/// An ASCII case-insensitive automaton of required literals.
fn automaton(lits: &[Vec<u8>]) -> Option<AhoCorasick> {
    // A full DFA: these automata are small and run on nearly every value of a request.
    AhoCorasickBuilder::new()
        .ascii_case_insensitive(true)
        .match_kind(MatchKind::LeftmostFirst)
        .kind(Some(AhoCorasickKind::DFA))
        .build(lits)
        .ok()
}

/// Rewrites PCRE-only constructs that `regex` lacks into equivalents.
fn translate(p: &str) -> String {
    let b = p.as_bytes();
    let mut out = String::with_capacity(p.len());
    let mut i = 0;
    let mut in_class = false;
    while i < b.len() {
        let c = b[i];
        if c == b'\\' && i + 1 < b.len() {
            let n = b[i + 1];
            if n == b'x' && b.get(i + 2) == Some(&b'{') {
                // `\x{hh}` is a code point to `regex` (refused in classes without Unicode) but a
                // byte to PCRE in byte mode: spell it `\xhh`.
                if let Some(close) = p[i + 3..].find('}') {
                    if let Ok(v) = u32::from_str_radix(&p[i + 3..i + 3 + close], 16) {
                        if v <= 0xff {
                            out.push_str(&format!("\\x{v:02x}"));
                            i += 4 + close;
                            continue;
                        }
                    }
                }
            }
            match n {
                b'Z' if !in_class => out.push('$'),
                // `\/` is a common needless escape; `regex` accepts it, so copy as is.
                _ => {
                    out.push('\\');
                    // Copy the whole (possibly multi-byte) escaped character.
                    let ch = p[i + 1..].chars().next().expect("in bounds");
                    out.push(ch);
                    i += 1 + ch.len_utf8();
                    continue;
                }
            }
            i += 2;
            continue;
        }
        if in_class {
            if c == b']' {
                in_class = false;
            }
            let ch = p[i..].chars().next().expect("in bounds");
            if ch.is_ascii() {
                out.push(ch);
            } else {
                // PCRE in byte mode sees each byte of a non-ASCII character as a class member.
                for byte in &b[i..i + ch.len_utf8()] {
                    out.push_str(&format!("\\x{byte:02x}"));
                }
            }
            i += ch.len_utf8();
            continue;
        }
        match c {
            b'[' => {
                in_class = true;
                out.push('[');
                i += 1;
                // A `]` (or `^]`) right after the opening bracket is literal.
                if b.get(i) == Some(&b'^') {
                    out.push('^');
                    i += 1;
                }
                if b.get(i) == Some(&b']') {
                    out.push_str("\\]");
                    i += 1;
                }
                continue;
            }
            b'(' if p[i..].starts_with("(?>") => {
                out.push_str("(?:");
                i += 3;
                continue;
            }
            b'*' | b'+' | b'?' | b'}' => {
                out.push(c as char);
                // A `+` right after a quantifier makes it possessive; drop it.
                let is_quant = c != b'?' || !out[..out.len() - 1].ends_with('(');
                if is_quant && b.get(i + 1) == Some(&b'+') {
                    i += 2;
                    continue;
                }
                i += 1;
                continue;
            }
            _ => {}
        }
        let ch = p[i..].chars().next().expect("in bounds");
        out.push(ch);
        i += ch.len_utf8();
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn translates_pcre_isms() {
        assert_eq!(translate(r"a++b*+c?+(?>d)e{2}+"), r"a+b*c?(?:d)e{2}");
        assert_eq!(translate(r"[+*]+\+"), r"[+*]+\+");
        assert_eq!(translate(r"[]a]"), r"[\]a]");
        assert_eq!(translate(r"x\Z"), r"x$");
        assert_eq!(translate(r"[\x7f-\x{ff}]\x{41}"), r"[\x7f-\xff]\x41");
        assert_eq!(translate("[\u{e9}]"), r"[\xc3\xa9]");
    }

    #[test]
    fn whole_input_patterns_agree_with_the_regex() {
        let inputs: [&[u8]; 6] = [b"", b"user-agent", b"a\nb", b"\xff\x00x", b"\n", b"Host: x\r\n"];
        for p in ["^.*$", "^.*", ".*"] {
            let r = Rx::new(p).unwrap();
            assert!(r.whole, "{p}");
            let mut slow = r.clone();
            slow.whole = false;
            for inp in inputs {
                let (mut a, mut b) = (vec![b"stale".to_vec(); 3], Vec::new());
                assert_eq!(
                    r.matches(inp, Some(&mut a)),
                    slow.matches(inp, Some(&mut b)),
                    "{p}"
                );
                assert_eq!(a, b, "{p} {inp:?}");
                assert_eq!(r.matches(inp, None), slow.matches(inp, None));
            }
        }
        assert!(!Rx::new("^.*x$").unwrap().whole);
    }

    #[test]
    fn captures_reuse_buffers_without_stale_groups() {
        let r = Rx::new(r"^(a)(b)?(c)").unwrap();
        let mut caps = vec![b"old".to_vec(); 12];
        assert!(r.matches(b"ac", Some(&mut caps)));
        assert_eq!(
            caps,
            vec![b"ac".to_vec(), b"a".to_vec(), b"".to_vec(), b"c".to_vec()]
        );
        assert!(r.matches(b"abc", Some(&mut caps)));
        assert_eq!(
            caps,
            vec![b"abc".to_vec(), b"a".to_vec(), b"b".to_vec(), b"c".to_vec()]
        );
    }

    #[test]
    fn byte_semantics_and_dotall() {
        let r = Rx::new(r"\xff.b").unwrap();
        assert!(r.matches(b"\xff\nb", None));
        let r = Rx::new(r"(?i)^(sel)ect (\d+)").unwrap();
        let mut caps = Vec::new();
        assert!(r.matches(b"SELECT 42", Some(&mut caps)));
        assert_eq!(caps, vec![b"SELECT 42".to_vec(), b"SEL".to_vec(), b"42".to_vec()]);
        assert!(Rx::new("(").is_err());
        // The required-literal prefilter must not change results.
        let r = Rx::new(r"(?i)\bunion\s+select\b").unwrap();
        assert!(r.prefilter.is_some());
        assert!(r.matches(b"1 UNION  SeLeCt 2", None));
        assert!(!r.matches(b"union of selected", None));
        assert!(!r.matches(b"nothing here", None));
    }
}
