//! Static evaluation of constant string expressions: literals, concatenation, chr() and
//! the decoding functions obfuscators chain. What cannot be known statically is `None`.

use crate::decode;
use crate::token::{Tok, Token};
use std::collections::HashMap;

/// A value with the decoding steps that produced it (`["base64_decode", "gzinflate"]`).
#[derive(Debug, Clone, Default)]
pub struct Value {
    pub bytes: Vec<u8>,
    /// Functions applied, innermost first.
    pub steps: Vec<&'static str>,
    /// Number of pieces concatenated.
    pub pieces: usize,
}

pub struct Evaluator<'a> {
    pub toks: &'a [Token],
    pub consts: &'a HashMap<String, Option<Vec<u8>>>,
    /// Variables assigned several times: their value after each assignment (token index of
    /// the `=`), in order; a read takes the last one before it.
    pub seq: &'a Seq,
    /// Identifiers (not only `$vars`) can name constants: Java, C#, VBScript.
    pub idents_are_vars: bool,
    pub budget: std::cell::Cell<u32>,
}

/// Ordered values of reassigned variables: name → (token index of the assignment, value).
pub type Seq = HashMap<String, Vec<(usize, Option<Vec<u8>>)>>;

const DECODERS: &[&str] = &[
    "base64_decode",
    "gzinflate",
    "gzuncompress",
    "gzdecode",
    "str_rot13",
    "strrev",
    "strreverse",
    "hex2bin",
    "urldecode",
    "rawurldecode",
    "stripslashes",
    "strtolower",
    "strtoupper",
    "trim",
    "ltrim",
    "rtrim",
    "convert_uudecode",
    "str_replace",
    "substr",
    "pack",
    "chr",
    "chrw",
    "chrb",
    "ucfirst",
    "lcfirst",
    "implode",
    "join",
    "sprintf",
    "frombase64string",
    "decodebuffer",
    "unescape",
    "decode",
    "getstring",
    "replace",
];

pub fn is_decoder(name: &str) -> bool {
    DECODERS.contains(&name)
}

fn static_name(name: &str) -> Option<&'static str> {
    DECODERS.iter().find(|d| **d == name).copied()
}

impl Evaluator<'_> {
    /// A variable's constant value, or its value at token `at` when it is reassigned in order.
    fn lookup(&self, name: &str, at: usize) -> Option<&[u8]> {
        if let Some(v) = self.consts.get(name) {
            return v.as_deref();
        }
        let vals = self.seq.get(name)?;
        let k = vals.partition_point(|(eq, _)| *eq < at);
        vals.get(k.checked_sub(1)?)?.1.as_deref()
    }

    fn spend(&self) -> bool {
        let b = self.budget.get();
        if b == 0 {
            return false;
        }
        self.budget.set(b - 1);
        true
    }

    fn is_concat(&self, t: &Tok) -> bool {
        matches!(t, Tok::Op(".") | Tok::Op("+")) || self.idents_are_vars && matches!(t, Tok::Op("&"))
    }

    /// Evaluates a string expression starting at `i`, stopping before `end`: concatenation
    /// and, in PHP, the string bitwise operators obfuscators love (`'a8'^"\x12Q"`). Returns the
    /// value and the index after it.
    pub fn concat(&self, i: usize, end: usize, depth: u8) -> Option<(Value, usize)> {
        if self.idents_are_vars {
            self.cat(i, end, depth)
        } else {
            self.bitwise(i, end, depth, 0)
        }
    }

    /// PHP precedence: `|` binds loosest, then `^`, then `&`, then `.`.
    fn bitwise(&self, i: usize, end: usize, depth: u8, level: u8) -> Option<(Value, usize)> {
        const OPS: [&str; 3] = ["|", "^", "&"];
        let operand = |k: usize| {
            if level == 2 {
                self.cat(k, end, depth)
            } else {
                self.bitwise(k, end, depth, level + 1)
            }
        };
        let (mut v, mut j) = operand(i)?;
        let op = OPS[level as usize];
        while j + 1 < end && self.toks[j].is_op(op) {
            let Some((v2, j2)) = operand(j + 1) else { break };
            let (a, b) = (&v.bytes, &v2.bytes);
            v.bytes = match op {
                // `|` keeps the longer operand's tail; `^` and `&` stop at the shorter.
                "|" => (0..a.len().max(b.len()))
                    .map(|k| a.get(k).copied().unwrap_or(0) | b.get(k).copied().unwrap_or(0))
                    .collect(),
                "^" => a.iter().zip(b).map(|(x, y)| x ^ y).collect(),
                _ => a.iter().zip(b).map(|(x, y)| x & y).collect(),
            };
            v.pieces += v2.pieces;
            v.steps.extend(v2.steps);
            if v.steps.last() != Some(&op) {
                v.steps.push(op);
            }
            j = j2;
        }
        Some((v, j))
    }

    fn cat(&self, i: usize, end: usize, depth: u8) -> Option<(Value, usize)> {
        let (mut v, mut j) = self.primary(i, end, depth)?;
        while j + 1 < end && self.is_concat(&self.toks[j].tok) {
            // Java's `a.b` is member access, not concatenation: only treat `.` as concat
            // when followed by a literal, a variable or a call we understand.
            match self.primary(j + 1, end, depth) {
                Some((v2, j2)) => {
                    if v.bytes.len() + v2.bytes.len() > decode::MAX_OUT {
                        return None;
                    }
                    v.bytes.extend_from_slice(&v2.bytes);
                    v.pieces += v2.pieces;
                    for s in v2.steps {
                        v.steps.push(s);
                    }
                    j = j2;
                }
                None => break,
            }
        }
        Some((v, j))
    }

    fn number(&self, i: usize, end: usize) -> Option<(i64, usize)> {
        let mut j = i;
        let mut acc = match self.toks.get(j).map(|t| &t.tok) {
            Some(Tok::Num(n)) => *n,
            Some(Tok::Str { val, vars }) if vars.is_empty() => {
                std::str::from_utf8(val).ok()?.trim().parse().ok()?
            }
            _ => return None,
        };
        j += 1;
        while j + 1 < end {
            let op = match &self.toks[j].tok {
                Tok::Op(o @ ("+" | "-" | "*" | "^")) => *o,
                _ => break,
            };
            let Tok::Num(n) = self.toks[j + 1].tok else { break };
            acc = match op {
                "+" => acc.saturating_add(n),
                "-" => acc.saturating_sub(n),
                "*" => acc.saturating_mul(n),
                _ => acc ^ n,
            };
            j += 2;
        }
        Some((acc, j))
    }

    fn primary(&self, i: usize, end: usize, depth: u8) -> Option<(Value, usize)> {
        if i >= end || depth > 24 || !self.spend() {
            return None;
        }
        let t = &self.toks[i].tok;
        match t {
            Tok::Str { val, vars } if vars.is_empty() => Some((
                Value {
                    bytes: val.clone(),
                    steps: Vec::new(),
                    pieces: 1,
                },
                i + 1,
            )),
            Tok::Var(name) if name == "globals" => {
                // `$GLOBALS['x']` is `$x`.
                let Some(Tok::Str { val, vars }) = self.toks.get(i + 2).map(|t| &t.tok) else {
                    return None;
                };
                if !vars.is_empty() || !self.toks.get(i + 1)?.is_op("[") || !self.toks.get(i + 3)?.is_op("]")
                {
                    return None;
                }
                let key = String::from_utf8_lossy(val).to_ascii_lowercase();
                let v = self.consts.get(&key)?.as_ref()?;
                self.var_value(v, i + 3, end, depth)
            }
            // `'%70'.$b = '%72'`: an assignment inside an expression has the assigned value.
            Tok::Var(_) if !self.idents_are_vars && self.toks.get(i + 1).is_some_and(|t| t.is_op("=")) => {
                self.concat(i + 2, end, depth + 1)
            }
            Tok::Var(name) => {
                let v = self.lookup(name, i)?;
                self.var_value(v, i, end, depth)
            }
            _ => self.primary_rest(i, end, depth),
        }
    }

    /// The value of a constant variable whose last token is at `i`, with the call, index or
    /// nothing that follows it.
    fn var_value(&self, v: &[u8], i: usize, end: usize, depth: u8) -> Option<(Value, usize)> {
        // `$d($x)` where `$d` holds a decoder's name.
        if self.toks.get(i + 1).is_some_and(|t| t.is_op("(")) {
            let fname = static_name(std::str::from_utf8(v).ok()?.trim().to_ascii_lowercase().as_str())?;
            let close = matching(self.toks, i + 1, end)?;
            let args = split_args(self.toks, i + 2, close);
            let out = self.apply(fname, &args, depth)?;
            return Some((out, close + 1));
        }
        // `$s[3]` / `$s{3}`: one byte of a constant string, the alphabet trick.
        if let (Some(Tok::Op("[" | "{")), Some(Tok::Num(n)), Some(Tok::Op("]" | "}"))) = (
            self.toks.get(i + 1).map(|t| &t.tok),
            self.toks.get(i + 2).map(|t| &t.tok),
            self.toks.get(i + 3).map(|t| &t.tok),
        ) {
            let b = *v.get(usize::try_from(*n).ok()?)?;
            return Some((
                Value {
                    bytes: vec![b],
                    steps: Vec::new(),
                    pieces: 1,
                },
                i + 4,
            ));
        }
        Some((
            Value {
                bytes: v.to_vec(),
                steps: Vec::new(),
                pieces: 1,
            },
            i + 1,
        ))
    }

    fn primary_rest(&self, i: usize, end: usize, depth: u8) -> Option<(Value, usize)> {
        let t = &self.toks[i].tok;
        match t {
            Tok::Op("(") => {
                let (v, j) = self.concat(i + 1, end, depth + 1)?;
                if j < end && self.toks[j].is_op(")") {
                    Some((v, j + 1))
                } else {
                    None
                }
            }
            Tok::Op("@") => self.primary(i + 1, end, depth),
            Tok::Op("~") => {
                let (mut v, j) = self.primary(i + 1, end, depth + 1)?;
                for b in &mut v.bytes {
                    *b = !*b;
                }
                v.steps.push("~");
                Some((v, j))
            }
            Tok::Ident(name) => {
                let is_call = self.toks.get(i + 1).is_some_and(|t| t.is_op("("));
                if !is_call {
                    if self.idents_are_vars {
                        let v = self.lookup(name, i)?;
                        return Some((
                            Value {
                                bytes: v.to_vec(),
                                steps: Vec::new(),
                                pieces: 1,
                            },
                            i + 1,
                        ));
                    }
                    return None;
                }
                let fname = static_name(name)?;
                let close = matching(self.toks, i + 1, end)?;
                let args = split_args(self.toks, i + 2, close);
                let out = self.apply(fname, &args, depth)?;
                Some((out, close + 1))
            }
            _ => None,
        }
    }

    fn arg(&self, r: (usize, usize), depth: u8) -> Option<Value> {
        let (v, j) = self.concat(r.0, r.1, depth + 1)?;
        if j == r.1 {
            Some(v)
        } else {
            None
        }
    }

    fn apply(&self, f: &'static str, args: &[(usize, usize)], depth: u8) -> Option<Value> {
        let first = *args.first()?;
        if matches!(f, "chr" | "chrw" | "chrb") {
            let (n, j) = self.number(first.0, first.1)?;
            if j != first.1 {
                return None;
            }
            let mut out = Vec::new();
            crate::token::push_utf8(
                &mut out,
                (n.rem_euclid(if f == "chrw" { 0x11_0000 } else { 256 })) as u32,
            );
            if f != "chrw" {
                out = vec![n.rem_euclid(256) as u8];
            }
            return Some(Value {
                bytes: out,
                steps: vec![f],
                pieces: 1,
            });
        }
        let mut v = self.arg(first, depth)?;
        let b = std::mem::take(&mut v.bytes);
        let out = match f {
            "base64_decode" | "frombase64string" | "decodebuffer" | "decode" => decode::base64(&b),
            "unescape" => decode::unescape(&b),
            "gzinflate" => decode::inflate(&b)?,
            "gzuncompress" => decode::zlib(&b).or_else(|| decode::inflate(&b))?,
            "gzdecode" => decode::gunzip(&b)?,
            "str_rot13" => decode::rot13(&b),
            "strrev" | "strreverse" => decode::reverse(&b),
            "hex2bin" => decode::hex(&b)?,
            "urldecode" => decode::url(&b, true),
            "rawurldecode" => decode::url(&b, false),
            "stripslashes" => b.iter().copied().filter(|&c| c != b'\\').collect(),
            "strtolower" | "lcfirst" => b.to_ascii_lowercase(),
            "strtoupper" | "ucfirst" => b.to_ascii_uppercase(),
            "trim" | "ltrim" | "rtrim" | "getstring" => b.trim_ascii().to_vec(),
            "pack" => {
                if !b.eq_ignore_ascii_case(b"H*") {
                    return None;
                }
                let data = self.arg(*args.get(1)?, depth)?;
                decode::hex(&data.bytes)?
            }
            "str_replace" => {
                // str_replace(search, replace, subject): `b` is the search string.
                let rep = self.arg(*args.get(1)?, depth)?;
                let subj = self.arg(*args.get(2)?, depth)?;
                if b.is_empty() {
                    return None;
                }
                replace_all(&subj.bytes, &b, &rep.bytes)
            }
            "replace" => {
                // VBScript Replace(subject, find, with); a two-argument `.Replace` is a method.
                let find = self.arg(*args.get(1)?, depth)?;
                let with = self.arg(*args.get(2)?, depth)?;
                if find.bytes.is_empty() {
                    return None;
                }
                replace_all(&b, &find.bytes, &with.bytes)
            }
            "substr" => {
                let (start, _) = self.number(args.get(1)?.0, args.get(1)?.1)?;
                let len = match args.get(2) {
                    Some(r) => Some(self.number(r.0, r.1)?.0),
                    None => None,
                };
                substr(&b, start, len)
            }
            "implode" | "join" | "sprintf" | "convert_uudecode" => return None,
            _ => return None,
        };
        v.bytes = out;
        v.steps.push(f);
        Some(v)
    }
}

fn replace_all(s: &[u8], from: &[u8], to: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(s.len());
    let mut i = 0;
    while i < s.len() {
        if s[i..].starts_with(from) {
            out.extend_from_slice(to);
            i += from.len();
            if out.len() > decode::MAX_OUT {
                break;
            }
        } else {
            out.push(s[i]);
            i += 1;
        }
    }
    out
}

fn substr(s: &[u8], start: i64, len: Option<i64>) -> Vec<u8> {
    let n = s.len() as i64;
    let a = if start < 0 {
        (n + start).max(0)
    } else {
        start.min(n)
    };
    let b = match len {
        None => n,
        Some(l) if l < 0 => (n + l).max(a),
        Some(l) => (a.saturating_add(l)).min(n),
    };
    s[a as usize..b.max(a) as usize].to_vec()
}

/// Index of the `)`, `]` or `}` matching the opener at `open`, searching before `end`.
pub fn matching(toks: &[Token], open: usize, end: usize) -> Option<usize> {
    let (o, c) = match &toks.get(open)?.tok {
        Tok::Op("(") => ("(", ")"),
        Tok::Op("[") => ("[", "]"),
        Tok::Op("{") => ("{", "}"),
        _ => return None,
    };
    let mut depth = 0usize;
    let limit = end.min(toks.len()).min(open + 200_000);
    for (k, t) in toks.iter().enumerate().take(limit).skip(open) {
        if let Tok::Op(x) = t.tok {
            if x == o {
                depth += 1;
            } else if x == c {
                depth -= 1;
                if depth == 0 {
                    return Some(k);
                }
            }
        }
    }
    None
}

/// Splits the arguments between `start` and `close` at top-level commas.
pub fn split_args(toks: &[Token], start: usize, close: usize) -> Vec<(usize, usize)> {
    let mut out = Vec::new();
    let mut depth = 0i32;
    let mut from = start;
    for (k, t) in toks.iter().enumerate().take(close.min(toks.len())).skip(start) {
        match t.tok {
            Tok::Op("(" | "[" | "{") => depth += 1,
            Tok::Op(")" | "]" | "}") => depth -= 1,
            Tok::Op(",") if depth == 0 => {
                out.push((from, k));
                from = k + 1;
            }
            _ => {}
        }
        if out.len() > 64 {
            break;
        }
    }
    if from < close {
        out.push((from, close));
    }
    out
}
