//! Operators (`@rx`, `@pm`, …), compiled at load time. Arguments of the comparison operators may
//! contain macros, expanded per evaluation.

mod begins_with;
mod contains;
mod contains_word;
mod detect_sqli;
mod detect_xss;
mod ends_with;
mod eq;
mod ge;
pub(crate) mod gram_index;
mod gt;
mod ip_match;
mod le;
mod lt;
mod no_match;
mod pm;
mod pm_from_file;
mod required_literals;
mod rx;
mod streq;
mod strmatch;
mod unconditional_match;
mod validate_byte_range;
mod validate_url_encoding;
mod validate_utf8_encoding;
mod within;

use std::borrow::Cow;
use std::path::Path;

use crate::macros::Macro;
use crate::screen_memo;
use crate::transaction::Transaction;

#[cfg(test)]
pub(crate) use rx::compile_regex;
pub(crate) use rx::Rx;

/// Up to ten capture groups, for `capture` (TX.0–TX.9).
pub(crate) type Captures = Vec<Vec<u8>>;

/// Sets the capture groups to `groups`, writing into the buffers the last match left (one
/// allocation per group and match otherwise: CRS 920450 captures every header name).
pub(crate) fn set_captures<'a>(caps: &mut Captures, groups: impl ExactSizeIterator<Item = &'a [u8]>) {
    caps.truncate(groups.len());
    for (i, g) in groups.enumerate() {
        match caps.get_mut(i) {
            Some(buf) => {
                buf.clear();
                buf.extend_from_slice(g);
            }
            None => caps.push(g.to_vec()),
        }
    }
}

/// An operator argument: constant, or with macros to expand per evaluation.
#[derive(Debug)]
pub(crate) enum Operand {
    Const(Vec<u8>),
    Macro(Macro),
}

impl Operand {
    fn new(arg: &str) -> Operand {
        let m = Macro::parse(arg);
        match m.constant() {
            Some(c) => Operand::Const(c.to_vec()),
            None => Operand::Macro(m),
        }
    }

    fn get<'a>(&'a self, tx: &'a Transaction<'_>) -> Cow<'a, [u8]> {
        match self {
            Operand::Const(c) => Cow::Borrowed(c),
            Operand::Macro(m) => tx.expand_cow(m),
        }
    }
}

#[derive(Debug)]
#[allow(clippy::large_enum_variant)] // Few per rule, built once.
pub(crate) enum Operator {
    Rx(rx::Rx),
    Pm(pm::Pm),
    DetectSqli,
    DetectXss,
    ValidateByteRange(validate_byte_range::ByteRanges),
    ValidateUrlEncoding,
    ValidateUtf8Encoding,
    IpMatch(ip_match::IpSet),
    Eq(Operand),
    Ge(Operand),
    Gt(Operand),
    Le(Operand),
    Lt(Operand),
    Streq(Operand),
    Strmatch(Vec<u8>),
    BeginsWith(Operand),
    EndsWith(Operand),
    Contains(Operand),
    ContainsWord(Operand),
    Within(Operand),
    UnconditionalMatch,
    NoMatch,
}

impl Operator {
    /// `base` is the directory of the rule file, for `@pmFromFile` and `@ipMatchFromFile`.
    pub(crate) fn compile(name: &str, arg: &str, base: &Path) -> Result<Operator, String> {
        Ok(match name.to_ascii_lowercase().as_str() {
            "rx" => Operator::Rx(rx::Rx::new(arg)?),
            "pm" => Operator::Pm(pm::Pm::new(
                arg.split_whitespace().map(|s| s.as_bytes().to_vec()).collect(),
            )?),
            "pmfromfile" | "pmf" => Operator::Pm(pm_from_file::load(arg, base)?),
            "detectsqli" => Operator::DetectSqli,
            "detectxss" => Operator::DetectXss,
            "validatebyterange" => Operator::ValidateByteRange(validate_byte_range::ByteRanges::parse(arg)?),
            "validateurlencoding" => Operator::ValidateUrlEncoding,
            "validateutf8encoding" => Operator::ValidateUtf8Encoding,
            "ipmatch" => Operator::IpMatch(ip_match::IpSet::parse(arg.split([',', ' ']))?),
            "ipmatchfromfile" | "ipmatchf" => Operator::IpMatch(ip_match::IpSet::from_file(arg, base)?),
            "eq" => Operator::Eq(Operand::new(arg)),
            "ge" => Operator::Ge(Operand::new(arg)),
            "gt" => Operator::Gt(Operand::new(arg)),
            "le" => Operator::Le(Operand::new(arg)),
            "lt" => Operator::Lt(Operand::new(arg)),
            "streq" => Operator::Streq(Operand::new(arg)),
            "strmatch" => Operator::Strmatch(arg.as_bytes().to_vec()),
            "beginswith" => Operator::BeginsWith(Operand::new(arg)),
            "endswith" => Operator::EndsWith(Operand::new(arg)),
            "contains" => Operator::Contains(Operand::new(arg)),
            "containsword" => Operator::ContainsWord(Operand::new(arg)),
            "within" => Operator::Within(Operand::new(arg)),
            "unconditionalmatch" => Operator::UnconditionalMatch,
            "nomatch" => Operator::NoMatch,
            other => return Err(format!("unsupported operator `@{other}`")),
        })
    }

    /// Literals one of which every matching input contains (ASCII case-insensitively), when the
    /// operator has such a set: a value with none of them cannot match.
    pub(crate) fn literals(&self) -> Option<&[Vec<u8>]> {
        match self {
            Operator::Rx(r) => r.literals(),
            Operator::Pm(p) => p.literals(),
            _ => None,
        }
    }

    /// Whether the verdict depends on the input alone: no macro in the operand (TX changes),
    /// and an operator that reads nothing else. `@unconditionalMatch` and `@noMatch` do not
    /// look at the input at all.
    pub(crate) fn pure(&self) -> bool {
        match self {
            Operator::UnconditionalMatch | Operator::NoMatch => false,
            _ => self.operand().is_none(),
        }
    }

    /// The operand's macro, when the argument has one (it is expanded per evaluation).
    pub(crate) fn operand(&self) -> Option<&Macro> {
        match self {
            Operator::Eq(o)
            | Operator::Ge(o)
            | Operator::Gt(o)
            | Operator::Le(o)
            | Operator::Lt(o)
            | Operator::Streq(o)
            | Operator::BeginsWith(o)
            | Operator::EndsWith(o)
            | Operator::Contains(o)
            | Operator::ContainsWord(o)
            | Operator::Within(o) => match o {
                Operand::Macro(m) => Some(m),
                Operand::Const(_) => None,
            },
            _ => None,
        }
    }

    /// Whether `input` matches (before negation). With `caps`, fills the capture groups.
    pub(crate) fn matches(&self, tx: &Transaction<'_>, input: &[u8], caps: Option<&mut Captures>) -> bool {
        match self {
            Operator::Rx(r) => r.matches(input, caps),
            Operator::Pm(p) => p.matches(input, caps),
            // libinjection costs a microsecond or more per value: a connection's repeated values
            // (the User-Agent of every request) are tested once.
            Operator::DetectSqli => {
                tx.unless_known_clean(screen_memo::SQLI, input, |v| detect_sqli::detect_sqli(v, caps))
            }
            Operator::DetectXss => tx.unless_known_clean(screen_memo::XSS, input, detect_xss::detect_xss),
            Operator::ValidateByteRange(r) => r.matches(input),
            Operator::ValidateUrlEncoding => validate_url_encoding::invalid(input),
            Operator::ValidateUtf8Encoding => validate_utf8_encoding::invalid(input),
            Operator::IpMatch(set) => set.matches(input),
            Operator::Eq(o) => eq::eq(input, &o.get(tx)),
            Operator::Ge(o) => ge::ge(input, &o.get(tx)),
            Operator::Gt(o) => gt::gt(input, &o.get(tx)),
            Operator::Le(o) => le::le(input, &o.get(tx)),
            Operator::Lt(o) => lt::lt(input, &o.get(tx)),
            Operator::Streq(o) => streq::streq(input, &o.get(tx)),
            Operator::Strmatch(s) => strmatch::strmatch(input, s),
            Operator::BeginsWith(o) => begins_with::begins_with(input, &o.get(tx)),
            Operator::EndsWith(o) => ends_with::ends_with(input, &o.get(tx)),
            Operator::Contains(o) => contains::contains(input, &o.get(tx)),
            Operator::ContainsWord(o) => contains_word::contains_word(input, &o.get(tx)),
            Operator::Within(o) => within::within(input, &o.get(tx)),
            Operator::UnconditionalMatch => unconditional_match::unconditional_match(),
            Operator::NoMatch => no_match::no_match(),
        }
    }
}

/// ModSecurity reads numbers like C's `atoi`: optional leading space and sign, digits up to the
/// first non-digit, 0 when there are none.
pub(crate) fn atoi(s: &[u8]) -> i64 {
    let mut i = 0;
    while i < s.len() && s[i].is_ascii_whitespace() {
        i += 1;
    }
    let neg = match s.get(i) {
        Some(b'-') => {
            i += 1;
            true
        }
        Some(b'+') => {
            i += 1;
            false
        }
        _ => false,
    };
    let mut v: i64 = 0;
    while i < s.len() && s[i].is_ascii_digit() {
        v = v.saturating_mul(10).saturating_add((s[i] - b'0') as i64);
        i += 1;
    }
    if neg {
        -v
    } else {
        v
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn atoi_like_c() {
        assert_eq!(super::atoi(b" 42abc"), 42);
        assert_eq!(super::atoi(b"-7"), -7);
        assert_eq!(super::atoi(b"x"), 0);
    }
}
