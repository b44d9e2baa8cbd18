//! `setvar:'tx.name=value'`, `=+`, `=-`, `!tx.name`, bare `tx.name` (= 1). Name and value may hold macros.

use crate::macros::Macro;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum SetOp {
    Set,
    Add,
    Sub,
    Delete,
}

#[derive(Debug)]
pub(crate) struct SetVar {
    /// Lower-cased collection name (`tx`, `ip`, `global`, …).
    pub collection: String,
    pub name: Macro,
    pub op: SetOp,
    pub value: Macro,
}

impl SetVar {
    pub(crate) fn parse(v: &str) -> Result<SetVar, String> {
        let v = v.trim();
        let (delete, v) = match v.strip_prefix('!') {
            Some(r) => (true, r),
            None => (false, v),
        };
        let (target, op, value) = match v.find('=') {
            Some(eq) if !delete => {
                let rest = &v[eq + 1..];
                let (op, value) = match rest.as_bytes().first() {
                    Some(b'+') => (SetOp::Add, &rest[1..]),
                    Some(b'-') => (SetOp::Sub, &rest[1..]),
                    _ => (SetOp::Set, rest),
                };
                (&v[..eq], op, value)
            }
            _ => (
                v,
                if delete { SetOp::Delete } else { SetOp::Set },
                if delete { "" } else { "1" },
            ),
        };
        let Some((collection, name)) = target.split_once('.') else {
            return Err(format!(
                "setvar target `{target}` needs a collection, e.g. tx.{target}"
            ));
        };
        if name.is_empty() {
            return Err(format!("setvar target `{target}` has no variable name"));
        }
        Ok(SetVar {
            collection: collection.trim().to_ascii_lowercase(),
            // Collection keys are case-insensitive; constant names are lower-cased once, here.
            name: Macro::parse(&lower_outside_macros(name.trim())),
            op,
            value: Macro::parse(value),
        })
    }
}

/// Lower-cases a setvar name except inside `%{…}` (whose expansion is lower-cased at run time).
fn lower_outside_macros(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut depth = 0;
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '%' && chars.peek() == Some(&'{') {
            depth += 1;
        } else if c == '}' && depth > 0 {
            depth -= 1;
        }
        out.push(if depth == 0 { c.to_ascii_lowercase() } else { c });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn forms() {
        let s = SetVar::parse("tx.score=+%{tx.critical}").unwrap();
        assert_eq!((s.collection.as_str(), s.op), ("tx", SetOp::Add));
        assert!(s.value.constant().is_none());
        let s = SetVar::parse("!TX.x").unwrap();
        assert_eq!((s.collection.as_str(), s.op), ("tx", SetOp::Delete));
        let s = SetVar::parse("tx.flag").unwrap();
        assert_eq!(s.value.constant(), Some(&b"1"[..]));
        let s = SetVar::parse("tx.n=-5").unwrap();
        assert_eq!(s.op, SetOp::Sub);
        assert!(SetVar::parse("novar").is_err());
    }
}
