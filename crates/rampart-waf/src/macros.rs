//! `%{COLLECTION.key}` macros in msg, logdata, setvar and operator arguments, compiled at load time.

use crate::variables::Var;

#[derive(Debug, Clone)]
pub(crate) enum Part {
    Lit(Vec<u8>),
    /// `%{VAR}` or `%{COLLECTION.key}` (key lower-cased).
    Var(Var, Option<String>),
}

#[derive(Debug, Clone)]
pub(crate) struct Macro {
    pub parts: Vec<Part>,
}

impl Macro {
    pub(crate) fn parse(s: &str) -> Macro {
        let mut parts = Vec::new();
        let mut lit: Vec<u8> = Vec::new();
        let mut rest = s;
        while let Some(start) = rest.find("%{") {
            let Some(len) = rest[start + 2..].find('}') else {
                break;
            };
            let inner = &rest[start + 2..start + 2 + len];
            let (name, key) = match inner.split_once('.') {
                Some((n, k)) => (n, Some(k.to_ascii_lowercase())),
                None => (inner, None),
            };
            lit.extend_from_slice(&rest.as_bytes()[..start]);
            match Var::from_name(&name.trim().to_ascii_uppercase()) {
                Some(var) => {
                    if !lit.is_empty() {
                        parts.push(Part::Lit(std::mem::take(&mut lit)));
                    }
                    parts.push(Part::Var(var, key));
                }
                // Unknown names stay as written, like ModSecurity does.
                None => lit.extend_from_slice(&rest.as_bytes()[start..start + 3 + len]),
            }
            rest = &rest[start + 3 + len..];
        }
        lit.extend_from_slice(rest.as_bytes());
        if !lit.is_empty() {
            parts.push(Part::Lit(lit));
        }
        Macro { parts }
    }

    /// The text when the macro has no variable part.
    pub(crate) fn constant(&self) -> Option<&[u8]> {
        match self.parts.as_slice() {
            [] => Some(b""),
            [Part::Lit(l)] => Some(l),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_macros() {
        let m = Macro::parse("a %{tx.Score} b %{MATCHED_VAR}%{bogus.x}");
        assert_eq!(m.parts.len(), 5);
        assert!(matches!(&m.parts[1], Part::Var(Var::Tx, Some(k)) if k == "score"));
        assert!(matches!(&m.parts[3], Part::Var(Var::MatchedVar, None)));
        assert!(matches!(&m.parts[4], Part::Lit(l) if l == b"%{bogus.x}"));
        assert_eq!(Macro::parse("plain").constant(), Some(&b"plain"[..]));
    }
}
