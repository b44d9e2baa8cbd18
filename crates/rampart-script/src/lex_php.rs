//! PHP lexer over bytes. Inline markup between `?>` and `<?php` becomes one [`Tok::End`];
//! comments are dropped; strings come out with escapes decoded.

use crate::token::*;

/// Lexes `src`. With `code_first` the input starts in PHP mode (an `eval`ed payload has no
/// open tag); otherwise it starts in markup.
/// Index of the next byte after `i` that is not whitespace or inside a comment.
fn next_significant(s: &[u8], mut i: usize) -> Option<usize> {
    while i < s.len() {
        match s[i] {
            b' ' | b'\t' | b'\r' | b'\n' => i += 1,
            b'/' if s.get(i + 1) == Some(&b'*') => {
                i = memchr::memmem::find(&s[i + 2..], b"*/").map(|e| i + 2 + e + 2)?;
            }
            b'#' | b'/' if s[i] == b'#' || s.get(i + 1) == Some(&b'/') => {
                i = memchr::memchr(b'\n', &s[i..]).map(|e| i + e)?;
            }
            _ => return Some(i),
        }
    }
    None
}

pub fn lex(src: &[u8], code_first: bool, max_tokens: usize) -> Vec<Token> {
    let rewritten = script_tags_to_php(src);
    let src = rewritten.as_deref().unwrap_or(src);
    let mut lx = Lexer {
        s: src,
        i: 0,
        line: 1,
        out: Vec::new(),
        max_tokens,
    };
    if !code_first {
        lx.skip_markup();
    }
    lx.code();
    lx.out
}

/// Whether `src` has a PHP open tag.
pub fn has_open_tag(src: &[u8]) -> bool {
    if script_tag_php(src).is_some() {
        return true;
    }
    let mut from = 0;
    while let Some(p) = find(&src[from..], b"<?") {
        let at = from + p + 2;
        if open_tag_len(&src[from + p..]).is_some() {
            return true;
        }
        from = at;
        if from >= src.len() {
            break;
        }
    }
    false
}

/// Position and length of a `<script language="php">` open tag (old PHP's fourth tag style).
fn script_tag_php(src: &[u8]) -> Option<(usize, usize)> {
    let mut from = 0;
    while let Some(p) = crate::lex_other::find_ci(&src[from..], b"<script") {
        let at = from + p;
        let end = find(&src[at..src.len().min(at + 100)], b">").map(|e| at + e + 1)?;
        let tag: Vec<u8> = src[at..end]
            .iter()
            .filter(|b| !b" \t\"'".contains(b))
            .map(|b| b.to_ascii_lowercase())
            .collect();
        if find(&tag, b"language=php").is_some() {
            return Some((at, end - at));
        }
        from = end;
    }
    None
}

/// Rewrites `<script language="php">…</script>` into `<?php …?>` of the same length.
fn script_tags_to_php(src: &[u8]) -> Option<Vec<u8>> {
    let (mut at, mut len) = script_tag_php(src)?;
    let mut out = src.to_vec();
    loop {
        out[at..at + len].fill(b' ');
        out[at..at + 5].copy_from_slice(b"<?php");
        let body = at + len;
        match crate::lex_other::find_ci(&out[body..], b"</script>") {
            Some(e) => {
                let c = body + e;
                out[c..c + 9].copy_from_slice(b"?>       ");
                match script_tag_php(&out[c + 9..]) {
                    Some((a, l)) => {
                        at = c + 9 + a;
                        len = l;
                    }
                    None => return Some(out),
                }
            }
            None => return Some(out),
        }
    }
}

/// Length of a PHP open tag at the start of `s`: `<?php`, `<?=`, or a short `<?` followed
/// by white space or `$`.
fn open_tag_len(s: &[u8]) -> Option<usize> {
    if !s.starts_with(b"<?") {
        return None;
    }
    if s.len() >= 5 && s[2..5].eq_ignore_ascii_case(b"php") {
        return Some(5);
    }
    match s.get(2) {
        Some(b'=') => Some(3),
        Some(b) if b.is_ascii_whitespace() || *b == b'$' || *b == b'@' || *b == b'/' => Some(2),
        None => Some(2),
        _ => None,
    }
}

pub fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    if needle.is_empty() {
        return None;
    }
    memchr::memmem::find(hay, needle)
}

struct Lexer<'a> {
    s: &'a [u8],
    i: usize,
    line: u32,
    out: Vec<Token>,
    max_tokens: usize,
}

impl Lexer<'_> {
    fn push(&mut self, tok: Tok) {
        if self.out.len() < self.max_tokens {
            self.out.push(Token { tok, line: self.line });
        }
    }

    fn count_lines(&mut self, from: usize, to: usize) {
        self.line = self.line.saturating_add(
            self.s[from..to.min(self.s.len())]
                .iter()
                .filter(|&&b| b == b'\n')
                .count() as u32,
        );
    }

    /// Skips markup up to and including the next open tag (or to the end).
    fn skip_markup(&mut self) {
        let start = self.i;
        let mut j = self.i;
        loop {
            match find(&self.s[j..], b"<?") {
                None => {
                    self.count_lines(start, self.s.len());
                    self.i = self.s.len();
                    return;
                }
                Some(p) => {
                    let at = j + p;
                    if let Some(n) = open_tag_len(&self.s[at..]) {
                        self.count_lines(start, at);
                        self.i = at + n;
                        if n == 3 {
                            // `<?=` echoes: nothing to record beyond a boundary.
                        }
                        return;
                    }
                    j = at + 2;
                }
            }
        }
    }

    fn code(&mut self) {
        let s = self.s;
        while self.i < s.len() {
            if self.out.len() >= self.max_tokens {
                return;
            }
            let b = s[self.i];
            match b {
                b'\n' => {
                    self.line += 1;
                    self.i += 1;
                }
                b' ' | b'\t' | b'\r' | 0x0b | 0x0c | 0 => self.i += 1,
                b'?' if s.get(self.i + 1) == Some(&b'>') => {
                    self.push(Tok::End);
                    self.i += 2;
                    self.skip_markup();
                }
                b'#' if s.get(self.i + 1) != Some(&b'[') => self.line_comment(),
                b'/' if s.get(self.i + 1) == Some(&b'/') => self.line_comment(),
                b'/' if s.get(self.i + 1) == Some(&b'*') => {
                    let start = self.i;
                    let end = find(&s[self.i + 2..], b"*/")
                        .map(|p| self.i + 2 + p + 2)
                        .unwrap_or(s.len());
                    self.count_lines(start, end);
                    self.i = end;
                }
                b'$' => self.variable(),
                b'\'' => {
                    self.i += 1;
                    let v = self.single_quoted(b'\'');
                    self.push(Tok::Str {
                        val: v,
                        vars: Vec::new(),
                    });
                }
                b'"' => {
                    self.i += 1;
                    let (val, vars) = self.double_quoted(Some(b'"'));
                    self.push(Tok::Str { val, vars });
                }
                b'`' => {
                    self.i += 1;
                    let (val, vars) = self.double_quoted(Some(b'`'));
                    self.push(Tok::Shell { val, vars });
                }
                b'<' if s[self.i..].starts_with(b"<<<") => self.heredoc(),
                b'0'..=b'9' => {
                    let (v, end) = lex_number(s, self.i);
                    self.i = end;
                    self.push(Tok::Num(v));
                }
                b if is_ident_start(b) => {
                    let start = self.i;
                    while self.i < s.len() && is_ident_byte(s[self.i]) {
                        self.i += 1;
                    }
                    let raw = &s[start..self.i];
                    if raw.iter().any(|&c| c >= 0x80) && self.out.last().is_some_and(|t| t.is_op("~")) {
                        // `~<bytes>`: a bare word of high bytes is a string constant, inverted.
                        let val = raw.to_vec();
                        self.push(Tok::Str {
                            val,
                            vars: Vec::new(),
                        });
                    } else if self.bareword_string(raw) {
                        // PHP < 8 reads an undefined constant as its own name: obfuscators
                        // build strings from bare words XORed / ORed with literals.
                        self.push(Tok::Str {
                            val: raw.to_vec(),
                            vars: Vec::new(),
                        });
                    } else {
                        self.push(Tok::Ident(lower(raw)));
                    }
                }
                b'(' => {
                    // Casts like `(int)` sanitise; keep them as identifiers.
                    if let Some((cast, end)) = cast_at(&s[self.i..]) {
                        self.i += end;
                        self.push(Tok::Ident(cast.to_string()));
                    } else {
                        self.i += 1;
                        self.push(Tok::Op("("));
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

    /// Whether the bare word `raw` (just lexed, `self.i` after it) is an operand of a string
    /// bitwise operator, or a mixed-case word concatenated with `.`: a constant name used as a
    /// string, never a keyword or a call.
    fn bareword_string(&self, raw: &[u8]) -> bool {
        let lower_raw = raw.to_ascii_lowercase();
        if matches!(
            lower_raw.as_slice(),
            b"true" | b"false" | b"null" | b"as" | b"and" | b"or" | b"xor"
        ) || raw.starts_with(b"__")
        {
            return false;
        }
        let prev = self.out.last().map(|t| &t.tok);
        if matches!(prev, Some(Tok::Op("->" | "::" | "?->" | "\\"))) {
            return false;
        }
        let next = next_significant(self.s, self.i);
        let after = |k: usize| self.s.get(k + 1).copied();
        let next_op = match next {
            Some(k) => match self.s[k] {
                b'(' | b':' | b'\\' | b'$' => return false,
                b'^' => Some(b'^'),
                b'|' if after(k) != Some(b'|') => Some(b'|'),
                b'&' if after(k) != Some(b'&') => Some(b'&'),
                b'.' if !matches!(after(k), Some(b'=' | b'0'..=b'9')) => Some(b'.'),
                _ => None,
            },
            None => None,
        };
        // Random words (`vFlN`, `H0AA1`) are strings next to `.` or a bitwise operator; words
        // shaped like constants or types (`E_ALL`, `PHP_EOL`, `array|string`) only when the
        // other operand is a quoted literal.
        let random = raw.iter().any(u8::is_ascii_lowercase) && raw.iter().any(u8::is_ascii_uppercase)
            || raw.iter().any(u8::is_ascii_digit) && !raw.contains(&b'_');
        let prev_op = matches!(prev, Some(Tok::Op("^" | "|" | "&" | "~" | ".")));
        let literal_before = prev_op
            && (matches!(prev, Some(Tok::Op("~")))
                || matches!(
                    self.out.len().checked_sub(2).map(|k| &self.out[k].tok),
                    Some(Tok::Str { .. })
                ));
        let literal_after = match (next_op, next) {
            (Some(_), Some(k)) => {
                next_significant(self.s, k + 1).is_some_and(|q| matches!(self.s[q], b'\'' | b'"'))
            }
            _ => false,
        };
        if random {
            prev_op || next_op.is_some()
        } else {
            literal_before || literal_after
        }
    }

    fn line_comment(&mut self) {
        let s = self.s;
        while self.i < s.len() && s[self.i] != b'\n' {
            if s[self.i] == b'?' && s.get(self.i + 1) == Some(&b'>') {
                return;
            }
            self.i += 1;
        }
    }

    fn variable(&mut self) {
        let s = self.s;
        self.i += 1;
        let start = self.i;
        while self.i < s.len() && is_ident_byte(s[self.i]) {
            self.i += 1;
        }
        if self.i == start {
            self.push(Tok::Var("$".into()));
        } else {
            let name = lower(&s[start..self.i]);
            self.push(Tok::Var(name));
        }
    }

    fn single_quoted(&mut self, q: u8) -> Vec<u8> {
        let s = self.s;
        let mut out = Vec::new();
        while self.i < s.len() {
            let b = s[self.i];
            if b == q {
                self.i += 1;
                return out;
            }
            if b == b'\n' {
                self.line += 1;
            }
            if b == b'\\' && matches!(s.get(self.i + 1), Some(&c) if c == q || c == b'\\') {
                push_capped(&mut out, s[self.i + 1]);
                self.i += 2;
                continue;
            }
            push_capped(&mut out, b);
            self.i += 1;
        }
        out
    }

    /// A double-quoted string, backtick command or heredoc body (`close == None`: the
    /// whole remaining input, already cut by the caller).
    fn double_quoted(&mut self, close: Option<u8>) -> (Vec<u8>, Vec<String>) {
        let s = self.s;
        let mut out = Vec::new();
        let mut vars = Vec::new();
        while self.i < s.len() {
            let b = s[self.i];
            if Some(b) == close {
                self.i += 1;
                break;
            }
            match b {
                b'\n' => {
                    self.line += 1;
                    push_capped(&mut out, b);
                    self.i += 1;
                }
                b'\\' if self.i + 1 < s.len() => {
                    self.i += 1;
                    let e = s[self.i];
                    self.i += 1;
                    match e {
                        b'n' => push_capped(&mut out, b'\n'),
                        b't' => push_capped(&mut out, b'\t'),
                        b'r' => push_capped(&mut out, b'\r'),
                        b'v' => push_capped(&mut out, 0x0b),
                        b'e' => push_capped(&mut out, 0x1b),
                        b'f' => push_capped(&mut out, 0x0c),
                        b'0'..=b'7' => {
                            let mut v: u32 = (e - b'0') as u32;
                            let mut n = 1;
                            while n < 3 && self.i < s.len() && (b'0'..=b'7').contains(&s[self.i]) {
                                v = v * 8 + (s[self.i] - b'0') as u32;
                                self.i += 1;
                                n += 1;
                            }
                            push_capped(&mut out, (v & 0xff) as u8);
                        }
                        b'x' if self.i < s.len() && s[self.i].is_ascii_hexdigit() => {
                            let mut v: u32 = 0;
                            let mut n = 0;
                            while n < 2 && self.i < s.len() && s[self.i].is_ascii_hexdigit() {
                                v = v * 16 + (s[self.i] as char).to_digit(16).unwrap_or(0);
                                self.i += 1;
                                n += 1;
                            }
                            push_capped(&mut out, v as u8);
                        }
                        b'u' if s.get(self.i) == Some(&b'{') => {
                            let start = self.i + 1;
                            let mut j = start;
                            while j < s.len() && s[j].is_ascii_hexdigit() && j - start < 8 {
                                j += 1;
                            }
                            if s.get(j) == Some(&b'}') {
                                let cp = u32::from_str_radix(&String::from_utf8_lossy(&s[start..j]), 16)
                                    .unwrap_or(0xfffd);
                                push_utf8(&mut out, cp);
                                self.i = j + 1;
                            } else {
                                push_capped(&mut out, b'\\');
                                push_capped(&mut out, b'u');
                            }
                        }
                        b'\\' | b'$' | b'"' | b'`' => push_capped(&mut out, e),
                        b'\n' => {
                            self.line += 1;
                            push_capped(&mut out, b'\\');
                            push_capped(&mut out, b'\n');
                        }
                        _ => {
                            push_capped(&mut out, b'\\');
                            push_capped(&mut out, e);
                        }
                    }
                }
                b'$' if self.i + 1 < s.len() && is_ident_start(s[self.i + 1]) => {
                    let start = self.i + 1;
                    let mut j = start;
                    while j < s.len() && is_ident_byte(s[j]) {
                        j += 1;
                    }
                    vars.push(lower(&s[start..j]));
                    out.extend_from_slice(&s[self.i..j]);
                    self.i = j;
                }
                b'{' if s.get(self.i + 1) == Some(&b'$') => {
                    // `{$expr}`: record the first variable, copy through to the matching brace.
                    let start = self.i + 2;
                    let mut j = start;
                    while j < s.len() && is_ident_byte(s[j]) {
                        j += 1;
                    }
                    vars.push(lower(&s[start..j]));
                    let mut depth = 0usize;
                    let mut k = self.i;
                    while k < s.len() {
                        match s[k] {
                            b'{' => depth += 1,
                            b'}' => {
                                depth -= 1;
                                if depth == 0 {
                                    k += 1;
                                    break;
                                }
                            }
                            b'\n' => self.line += 1,
                            _ => {}
                        }
                        if Some(s[k]) == close && depth <= 1 && s[k] != b'}' {
                            break;
                        }
                        k += 1;
                    }
                    out.extend_from_slice(&s[self.i..k.min(s.len())]);
                    self.i = k;
                }
                b'$' if s.get(self.i + 1) == Some(&b'{') => {
                    let start = self.i + 2;
                    let mut j = start;
                    while j < s.len() && is_ident_byte(s[j]) {
                        j += 1;
                    }
                    vars.push(lower(&s[start..j]));
                    push_capped(&mut out, b'$');
                    self.i += 1;
                }
                _ => {
                    push_capped(&mut out, b);
                    self.i += 1;
                }
            }
        }
        (out, vars)
    }

    fn heredoc(&mut self) {
        let s = self.s;
        let mut j = self.i + 3;
        while j < s.len() && (s[j] == b' ' || s[j] == b'\t') {
            j += 1;
        }
        let quote = match s.get(j) {
            Some(&q @ (b'\'' | b'"')) => {
                j += 1;
                Some(q)
            }
            _ => None,
        };
        let start = j;
        while j < s.len() && is_ident_byte(s[j]) {
            j += 1;
        }
        if j == start {
            self.i += 2;
            self.push(Tok::Op("<<"));
            return;
        }
        let label = s[start..j].to_vec();
        if quote.is_some() && s.get(j) == quote.as_ref() {
            j += 1;
        }
        // Body starts after the newline; ends at a line whose first non-blank bytes are the label.
        while j < s.len() && s[j] != b'\n' {
            j += 1;
        }
        let body_start = (j + 1).min(s.len());
        let mut k = body_start;
        let mut body_end = s.len();
        let mut after = s.len();
        while k < s.len() {
            let mut t = k;
            while t < s.len() && (s[t] == b' ' || s[t] == b'\t') {
                t += 1;
            }
            if s[t..].starts_with(&label) && !s.get(t + label.len()).is_some_and(|&b| is_ident_byte(b)) {
                body_end = k.saturating_sub(1).max(body_start);
                after = t + label.len();
                break;
            }
            match find(&s[k..], b"\n") {
                Some(p) => k += p + 1,
                None => break,
            }
        }
        self.count_lines(self.i, body_start);
        let body = &s[body_start..body_end];
        if quote == Some(b'\'') {
            let val: Vec<u8> = body.iter().copied().take(MAX_STR).collect();
            self.count_lines(body_start, after);
            self.push(Tok::Str {
                val,
                vars: Vec::new(),
            });
        } else {
            let line0 = self.line;
            let mut sub = Lexer {
                s: body,
                i: 0,
                line: line0,
                out: Vec::new(),
                max_tokens: 0,
            };
            let (val, vars) = sub.double_quoted(None);
            self.push(Tok::Str { val, vars });
            self.count_lines(body_start, after);
        }
        self.i = after;
    }
}

/// `(int)`, `(string)` … casts at the start of `s`: the cast name and the length consumed.
fn cast_at(s: &[u8]) -> Option<(&'static str, usize)> {
    const CASTS: &[&str] = &[
        "int", "integer", "bool", "boolean", "float", "double", "string", "array", "object",
    ];
    let mut j = 1;
    while j < s.len() && (s[j] == b' ' || s[j] == b'\t') {
        j += 1;
    }
    let start = j;
    while j < s.len() && s[j].is_ascii_alphabetic() {
        j += 1;
    }
    let word = &s[start..j];
    while j < s.len() && (s[j] == b' ' || s[j] == b'\t') {
        j += 1;
    }
    if s.get(j) != Some(&b')') {
        return None;
    }
    let cast = CASTS.iter().find(|c| c.as_bytes().eq_ignore_ascii_case(word))?;
    let name = match *cast {
        "int" | "integer" => "(int)",
        "bool" | "boolean" => "(bool)",
        "float" | "double" => "(float)",
        "string" => "(string)",
        "array" => "(array)",
        _ => "(object)",
    };
    Some((name, j + 1))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn toks(s: &str) -> Vec<Tok> {
        lex(s.as_bytes(), false, 10_000)
            .into_iter()
            .map(|t| t.tok)
            .collect()
    }

    #[test]
    fn strings_decode_escapes_and_interpolation() {
        let t = toks(r#"<?php $a = "\x73ys\164em $b"; ?>html"#);
        assert_eq!(t[0], Tok::Var("a".into()));
        assert_eq!(
            t[2],
            Tok::Str {
                val: b"system $b".to_vec(),
                vars: vec!["b".into()]
            }
        );
        assert_eq!(t.last(), Some(&Tok::End));
    }

    #[test]
    fn heredoc_and_nowdoc() {
        let t = toks("<?php $a = <<<EOT\nhi $x\nEOT;\n$b = <<<'N'\nraw $y\nN;\n");
        assert!(matches!(&t[2], Tok::Str { val, vars } if val == b"hi $x" && vars == &["x".to_string()]));
        assert!(matches!(&t[6], Tok::Str { val, vars } if val == b"raw $y" && vars.is_empty()));
    }

    #[test]
    fn comments_skipped_and_lines_counted() {
        let t = lex(b"<?php\n// system($x)\n/* eval(1) */\n# x\nfoo();", false, 100);
        assert_eq!(t[0].tok, Tok::Ident("foo".into()));
        assert_eq!(t[0].line, 5);
    }
}
