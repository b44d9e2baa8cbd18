//! The token stream every lexer produces, so that one analysis serves PHP, Java, C#,
//! JScript and VBScript alike.

/// Longest string literal kept; longer literals are truncated (the analysis only needs
/// their start to decode payloads, and every decoder is capped again).
pub const MAX_STR: usize = 8 << 20;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Tok {
    /// A PHP variable without `$`, lowercased; `$` alone for `$$x` / `${expr}`.
    Var(String),
    /// An identifier or keyword, lowercased (all four languages match calls case-insensitively
    /// or are case-sensitive in ways attackers cannot exploit against us).
    Ident(String),
    /// A string literal with its escapes decoded; `vars` are variables interpolated in it.
    Str {
        val: Vec<u8>,
        vars: Vec<String>,
    },
    Num(i64),
    Op(&'static str),
    /// A PHP backtick command.
    Shell {
        val: Vec<u8>,
        vars: Vec<String>,
    },
    /// A statement boundary that is not punctuation: a close tag, markup, a VBScript newline.
    End,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Token {
    pub tok: Tok,
    pub line: u32,
}

impl Token {
    pub fn is_op(&self, op: &str) -> bool {
        matches!(&self.tok, Tok::Op(o) if *o == op)
    }
    pub fn ident(&self) -> Option<&str> {
        match &self.tok {
            Tok::Ident(s) => Some(s),
            _ => None,
        }
    }
    pub fn is_ident(&self, name: &str) -> bool {
        self.ident() == Some(name)
    }
}

/// Operators the lexers recognise as one token, longest first.
pub const OPS: &[&str] = &[
    "===", "!==", "<=>", "**=", "...", "<<=", ">>=", "??=", "==", "!=", "<>", "<=", ">=", "=>", "->", "::",
    "&&", "||", ".=", "+=", "-=", "*=", "/=", "%=", "&=", "|=", "^=", "++", "--", "??", "<<", ">>", "?->",
];

/// A one-byte operator token for `b`.
pub fn op1(b: u8) -> &'static str {
    const ONE: &[&str] = &[
        "!", "\"", "#", "$", "%", "&", "'", "(", ")", "*", "+", ",", "-", ".", "/", ":", ";", "<", "=", ">",
        "?", "@", "[", "\\", "]", "^", "_", "`", "{", "|", "}", "~",
    ];
    ONE.iter().find(|o| o.as_bytes()[0] == b).copied().unwrap_or("?")
}

/// Matches a multi-byte operator at the start of `rest`.
pub fn op_at(rest: &[u8]) -> Option<&'static str> {
    OPS.iter().find(|o| rest.starts_with(o.as_bytes())).copied()
}

pub fn is_ident_start(b: u8) -> bool {
    b.is_ascii_alphabetic() || b == b'_' || b >= 0x80
}

pub fn is_ident_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_' || b >= 0x80
}

pub fn lower(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).to_ascii_lowercase()
}

/// Pushes a decoded string, truncating it at [`MAX_STR`].
pub fn push_capped(out: &mut Vec<u8>, b: u8) {
    if out.len() < MAX_STR {
        out.push(b);
    }
}

pub fn push_utf8(out: &mut Vec<u8>, cp: u32) {
    let c = char::from_u32(cp).unwrap_or('\u{fffd}');
    let mut buf = [0u8; 4];
    for &b in c.encode_utf8(&mut buf).as_bytes() {
        push_capped(out, b);
    }
}

/// Parses a number literal (decimal, 0x, 0o/0 octal, 0b) starting at `i`; returns the value
/// (saturated) and the end.
pub fn lex_number(s: &[u8], mut i: usize) -> (i64, usize) {
    let start = i;
    let (radix, skip) = if s[i..].len() > 1 && s[i] == b'0' && matches!(s[i + 1], b'x' | b'X') {
        (16, 2)
    } else if s[i..].len() > 1 && s[i] == b'0' && matches!(s[i + 1], b'b' | b'B') {
        (2, 2)
    } else if s[i..].len() > 1 && s[i] == b'0' && matches!(s[i + 1], b'o' | b'O') {
        (8, 2)
    } else if s[i..].len() > 1 && s[i] == b'0' && s[i + 1].is_ascii_digit() {
        (8, 1)
    } else {
        (10, 0)
    };
    i += skip;
    let mut v: i64 = 0;
    while i < s.len() && (s[i].is_ascii_alphanumeric() || s[i] == b'_' || s[i] == b'.') {
        if let Some(d) = (s[i] as char).to_digit(radix) {
            v = v.saturating_mul(radix as i64).saturating_add(d as i64);
        }
        i += 1;
    }
    if i == start {
        i += 1;
    }
    (v, i)
}
