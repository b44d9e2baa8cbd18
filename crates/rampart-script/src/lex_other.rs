//! Lexers for the server-side code of JSP (Java), ASP.NET (C#, JScript) and classic ASP
//! (VBScript), and the extraction of code regions (`<% … %>`, `<script runat=server>`,
//! `<jsp:scriptlet>`) from the page around them.

use crate::lex_php::find;
use crate::token::*;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dialect {
    /// Java, C#, JScript: C-like syntax.
    CLike,
    VbScript,
}

/// A region of server code inside a page: byte range and starting line.
pub struct Region {
    pub start: usize,
    pub end: usize,
    pub line: u32,
}

/// Code regions of a page: `<% … %>` blocks, `<script runat="server">` bodies and JSPX
/// scriptlet elements. A file without any is treated as code throughout (a `.java` or
/// `.cs` file, or a payload).
pub fn regions(src: &[u8]) -> Vec<Region> {
    let mut out = Vec::new();
    let mut i = 0;
    while i < src.len() && out.len() < 100_000 {
        let rest = &src[i..];
        let next_pct = find(rest, b"<%");
        let next_script = find_ci(rest, b"<script");
        let next_jsp = find(rest, b"<jsp:");
        let cands = [next_pct, next_script, next_jsp];
        let Some(p) = cands.iter().flatten().min().copied() else {
            break;
        };
        let at = i + p;
        if Some(p) == next_pct {
            let mut s = at + 2;
            // Directives (`<%@ Page Language="C#" %>`) and comments (`<%-- --%>`) carry no code.
            // `<% @ Page %>` with a space is a directive too.
            let ws = src[s..]
                .iter()
                .take(8)
                .take_while(|b| matches!(b, b' ' | b'\t'))
                .count();
            let skip = matches!(src.get(s + ws), Some(b'@')) || src[s..].starts_with(b"--");
            if matches!(src.get(s), Some(b'=' | b'!' | b'#' | b':')) {
                s += 1;
            }
            let close: &[u8] = if src[s.min(src.len())..].starts_with(b"--") {
                b"--%>"
            } else {
                b"%>"
            };
            let e = find(&src[s.min(src.len())..], close)
                .map(|q| s + q)
                .unwrap_or(src.len());
            if !skip {
                out.push(Region {
                    start: s.min(src.len()),
                    end: e,
                    line: line_of(src, s),
                });
            }
            i = (e + close.len()).min(src.len()).max(at + 2);
        } else if Some(p) == next_script {
            let tag_end = find(&src[at..], b">").map(|q| at + q + 1).unwrap_or(src.len());
            let tag = &src[at..tag_end];
            let close = find_ci(&src[tag_end..], b"</script")
                .map(|q| tag_end + q)
                .unwrap_or(src.len());
            if find_ci(tag, b"runat").is_some() {
                out.push(Region {
                    start: tag_end,
                    end: close,
                    line: line_of(src, tag_end),
                });
            }
            i = close.max(at + 7);
        } else {
            let tag_end = find(&src[at..], b">").map(|q| at + q + 1).unwrap_or(src.len());
            let tag = &src[at..tag_end];
            let is_code = tag.starts_with(b"<jsp:scriptlet")
                || tag.starts_with(b"<jsp:declaration")
                || tag.starts_with(b"<jsp:expression");
            if is_code && !tag.ends_with(b"/>") {
                let close = find(&src[tag_end..], b"</jsp:")
                    .map(|q| tag_end + q)
                    .unwrap_or(src.len());
                out.push(Region {
                    start: tag_end,
                    end: close,
                    line: line_of(src, tag_end),
                });
                i = close.max(at + 5);
            } else {
                i = tag_end.max(at + 5);
            }
        }
    }
    out
}

fn line_of(src: &[u8], at: usize) -> u32 {
    1 + src[..at.min(src.len())].iter().filter(|&&b| b == b'\n').count() as u32
}

pub fn find_ci(hay: &[u8], needle: &[u8]) -> Option<usize> {
    if needle.is_empty() || hay.len() < needle.len() {
        return None;
    }
    let f0 = needle[0].to_ascii_lowercase();
    let f1 = needle[0].to_ascii_uppercase();
    let last = hay.len() - needle.len();
    let mut i = 0;
    while i <= last {
        let p = memchr::memchr2(f0, f1, &hay[i..=last])?;
        i += p;
        if hay[i..i + needle.len()].eq_ignore_ascii_case(needle) {
            return Some(i);
        }
        i += 1;
    }
    None
}

/// Decodes the XML entities JSPX pages use for code (`&quot;`, `&lt;`, numeric ones).
pub fn xml_unescape(s: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(s.len());
    let mut i = 0;
    while i < s.len() {
        if s[i] == b'&' {
            let end = s[i..].iter().take(12).position(|&b| b == b';');
            if let Some(e) = end {
                let ent = &s[i + 1..i + e];
                let rep: Option<u32> = match ent {
                    b"quot" => Some('"' as u32),
                    b"amp" => Some('&' as u32),
                    b"lt" => Some('<' as u32),
                    b"gt" => Some('>' as u32),
                    b"apos" => Some('\'' as u32),
                    _ if ent.first() == Some(&b'#') => {
                        let num = String::from_utf8_lossy(&ent[1..]).to_string();
                        if let Some(h) = num.strip_prefix(['x', 'X']) {
                            u32::from_str_radix(h, 16).ok()
                        } else {
                            num.parse().ok()
                        }
                    }
                    _ => None,
                };
                if let Some(cp) = rep {
                    push_utf8(&mut out, cp);
                    i += e + 1;
                    continue;
                }
            }
        }
        out.push(s[i]);
        i += 1;
    }
    out
}

/// Lexes one code region (or a whole file) in `dialect`, appending to `out`.
pub fn lex(src: &[u8], dialect: Dialect, line: u32, out: &mut Vec<Token>, max_tokens: usize) {
    let mut lx = Lexer {
        s: src,
        i: 0,
        line,
        out,
        max_tokens,
    };
    match dialect {
        Dialect::CLike => lx.clike(),
        Dialect::VbScript => lx.vbs(),
    }
    lx.push(Tok::End);
}

struct Lexer<'a, 'o> {
    s: &'a [u8],
    i: usize,
    line: u32,
    out: &'o mut Vec<Token>,
    max_tokens: usize,
}

impl Lexer<'_, '_> {
    fn push(&mut self, tok: Tok) {
        if self.out.len() < self.max_tokens {
            self.out.push(Token { tok, line: self.line });
        }
    }

    fn ident(&mut self) {
        let s = self.s;
        let start = self.i;
        while self.i < s.len() && is_ident_byte(s[self.i]) {
            self.i += 1;
        }
        self.push(Tok::Ident(lower(&s[start..self.i])));
    }

    fn clike(&mut self) {
        let s = self.s;
        while self.i < s.len() && self.out.len() < self.max_tokens {
            let b = s[self.i];
            match b {
                b'\n' => {
                    self.line += 1;
                    self.i += 1;
                }
                b' ' | b'\t' | b'\r' | 0x0b | 0x0c | 0 => self.i += 1,
                b'/' if s.get(self.i + 1) == Some(&b'/') => {
                    while self.i < s.len() && s[self.i] != b'\n' {
                        self.i += 1;
                    }
                }
                b'/' if s.get(self.i + 1) == Some(&b'*') => {
                    let end = find(&s[self.i + 2..], b"*/")
                        .map(|p| self.i + 2 + p + 2)
                        .unwrap_or(s.len());
                    self.line += s[self.i..end].iter().filter(|&&c| c == b'\n').count() as u32;
                    self.i = end;
                }
                b'@' if s.get(self.i + 1) == Some(&b'"') => {
                    // C# verbatim string: `""` is a quote, no other escapes.
                    self.i += 2;
                    let mut v = Vec::new();
                    while self.i < s.len() {
                        if s[self.i] == b'"' {
                            if s.get(self.i + 1) == Some(&b'"') {
                                push_capped(&mut v, b'"');
                                self.i += 2;
                                continue;
                            }
                            self.i += 1;
                            break;
                        }
                        if s[self.i] == b'\n' {
                            self.line += 1;
                        }
                        push_capped(&mut v, s[self.i]);
                        self.i += 1;
                    }
                    self.push(Tok::Str {
                        val: v,
                        vars: Vec::new(),
                    });
                }
                b'"' | b'\'' => {
                    self.i += 1;
                    let v = self.c_string(b);
                    self.push(Tok::Str {
                        val: v,
                        vars: Vec::new(),
                    });
                }
                b'0'..=b'9' => {
                    let (v, end) = lex_number(s, self.i);
                    self.i = end;
                    self.push(Tok::Num(v));
                }
                b'$' if s.get(self.i + 1).is_some_and(|&c| is_ident_start(c)) => {
                    // JScript/Java identifiers may contain `$`.
                    self.i += 1;
                    self.ident();
                }
                b if is_ident_start(b) => self.ident(),
                _ => {
                    if let Some(op) = op_at(&s[self.i..]) {
                        self.i += op.len();
                        self.push(Tok::Op(op));
                    } else {
                        self.i += 1;
                        self.push(Tok::Op(op1(b)));
                    }
                }
            }
        }
    }

    fn c_string(&mut self, q: u8) -> Vec<u8> {
        let s = self.s;
        let mut out = Vec::new();
        while self.i < s.len() {
            let b = s[self.i];
            if b == q {
                self.i += 1;
                break;
            }
            if b == b'\n' {
                // Unterminated literal: stop at the line end so one stray quote does not eat the file.
                break;
            }
            if b == b'\\' && self.i + 1 < s.len() {
                let e = s[self.i + 1];
                self.i += 2;
                match e {
                    b'n' => push_capped(&mut out, b'\n'),
                    b't' => push_capped(&mut out, b'\t'),
                    b'r' => push_capped(&mut out, b'\r'),
                    b'0' => push_capped(&mut out, 0),
                    b'u' | b'x' => {
                        let max = if e == b'u' { 4 } else { 2 };
                        let mut j = self.i;
                        while j < s.len() && j - self.i < max && s[j].is_ascii_hexdigit() {
                            j += 1;
                        }
                        if j > self.i {
                            let cp = u32::from_str_radix(&String::from_utf8_lossy(&s[self.i..j]), 16)
                                .unwrap_or(0xfffd);
                            if e == b'x' {
                                push_capped(&mut out, cp as u8);
                            } else {
                                push_utf8(&mut out, cp);
                            }
                            self.i = j;
                        }
                    }
                    _ => push_capped(&mut out, e),
                }
                continue;
            }
            push_capped(&mut out, b);
            self.i += 1;
        }
        out
    }

    fn vbs(&mut self) {
        let s = self.s;
        while self.i < s.len() && self.out.len() < self.max_tokens {
            let b = s[self.i];
            match b {
                b'\n' => {
                    self.push(Tok::End);
                    self.line += 1;
                    self.i += 1;
                }
                b':' => {
                    self.push(Tok::End);
                    self.i += 1;
                }
                b' ' | b'\t' | b'\r' | 0x0b | 0x0c | 0 => self.i += 1,
                b'_' if s[self.i + 1..]
                    .iter()
                    .take_while(|&&c| c != b'\n')
                    .all(|c| c.is_ascii_whitespace()) =>
                {
                    // Line continuation.
                    while self.i < s.len() && s[self.i] != b'\n' {
                        self.i += 1;
                    }
                    self.i += 1;
                    self.line += 1;
                }
                b'\'' => {
                    while self.i < s.len() && s[self.i] != b'\n' {
                        self.i += 1;
                    }
                }
                b'"' => {
                    self.i += 1;
                    let mut v = Vec::new();
                    while self.i < s.len() {
                        if s[self.i] == b'"' {
                            if s.get(self.i + 1) == Some(&b'"') {
                                push_capped(&mut v, b'"');
                                self.i += 2;
                                continue;
                            }
                            self.i += 1;
                            break;
                        }
                        if s[self.i] == b'\n' {
                            break;
                        }
                        push_capped(&mut v, s[self.i]);
                        self.i += 1;
                    }
                    self.push(Tok::Str {
                        val: v,
                        vars: Vec::new(),
                    });
                }
                b'&' if s.get(self.i + 1).is_some_and(|c| matches!(c, b'h' | b'H')) => {
                    let mut j = self.i + 2;
                    let mut v: i64 = 0;
                    while j < s.len() && s[j].is_ascii_hexdigit() {
                        v = v
                            .saturating_mul(16)
                            .saturating_add((s[j] as char).to_digit(16).unwrap_or(0) as i64);
                        j += 1;
                    }
                    self.i = j;
                    self.push(Tok::Num(v));
                }
                b'0'..=b'9' => {
                    let (v, end) = lex_number(s, self.i);
                    self.i = end;
                    self.push(Tok::Num(v));
                }
                b if is_ident_start(b) => {
                    let start = self.i;
                    self.ident();
                    if s[start..self.i].eq_ignore_ascii_case(b"rem") {
                        self.out.pop();
                        while self.i < s.len() && s[self.i] != b'\n' {
                            self.i += 1;
                        }
                    }
                }
                _ => {
                    if let Some(op) = op_at(&s[self.i..]) {
                        self.i += op.len();
                        self.push(Tok::Op(op));
                    } else {
                        self.i += 1;
                        self.push(Tok::Op(op1(b)));
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn regions_skip_directives_and_find_scripts() {
        let src = b"<%@ Page Language=\"C#\" %>\n<html><% eval(x) %><script runat=\"server\">y();</script>";
        let r = regions(src);
        assert_eq!(r.len(), 2);
        assert_eq!(&src[r[0].start..r[0].end], b" eval(x) ");
        assert_eq!(&src[r[1].start..r[1].end], b"y();");
        assert_eq!(r[0].line, 2);
    }

    #[test]
    fn vbscript_strings_comments_and_lines() {
        let mut out = Vec::new();
        lex(
            b"x = \"a\"\"b\" ' c\nREM d\nExecute(x)",
            Dialect::VbScript,
            1,
            &mut out,
            100,
        );
        let toks: Vec<_> = out.iter().map(|t| t.tok.clone()).collect();
        assert_eq!(
            toks[2],
            Tok::Str {
                val: b"a\"b".to_vec(),
                vars: vec![]
            }
        );
        assert!(toks.contains(&Tok::Ident("execute".into())));
        assert!(!toks.contains(&Tok::Ident("rem".into())));
    }
}
