//! Required literals of a regular expression: a small set of strings such that every match
//! contains at least one of them (compared ASCII case-insensitively). When a value contains none,
//! the regex cannot match and the full search is skipped.
//!
//! Most values of a benign request contain none of an attack pattern's literals, and many CRS
//! patterns start with classes or alternations the `regex` crate cannot build a prefilter from, so
//! this turns most `@rx` evaluations into one Aho-Corasick scan. The extraction is the classic
//! "necessary factors" walk over the parsed pattern (HIR): exact string sets where they stay small,
//! otherwise the best required set of a concatenation's parts, the union over an alternation's
//! branches. Anything it cannot bound yields no prefilter (the regex then runs as before).

use std::collections::BTreeSet;

use regex_syntax::hir::{Class, Hir, HirKind};

/// Strings are ASCII-lowercased; matching is ASCII case-insensitive.
type Set = BTreeSet<Vec<u8>>;

/// Limits that keep the sets (and the cross products of concatenations) small.
const MAX_SET: usize = 64;
const MAX_LEN: usize = 32;
const MAX_CLASS: usize = 8;

struct Info {
    /// Every string the node can match, when that set is small.
    exact: Option<Set>,
    /// Every match contains one of these (never contains the empty string).
    required: Option<Set>,
}

/// The required-literal set of a parsed pattern, or `None` when it has none worth checking.
pub(crate) fn required(hir: &Hir) -> Option<Vec<Vec<u8>>> {
    let info = walk(hir);
    let set = best(&info)?;
    // A literal that contains another member is implied by it: keep the shorter one.
    let list: Vec<Vec<u8>> = set.iter().cloned().collect();
    let kept: Vec<Vec<u8>> = list
        .iter()
        .filter(|s| {
            !list
                .iter()
                .any(|o| o.len() < s.len() && memchr::memmem::find(s, o).is_some())
        })
        .cloned()
        .collect();
    Some(kept)
}

fn usable(s: &Set) -> bool {
    !s.is_empty() && s.len() <= MAX_SET && !s.iter().any(Vec::is_empty)
}

/// Higher is a better prefilter: longer shortest member first, then fewer members.
fn quality(s: &Set) -> (usize, isize) {
    let min = s.iter().map(Vec::len).min().unwrap_or(0);
    (min.min(8), -(s.len() as isize))
}

fn pick(a: Option<Set>, b: Option<Set>) -> Option<Set> {
    match (a.filter(usable), b.filter(usable)) {
        (Some(a), Some(b)) => Some(if quality(&b) > quality(&a) { b } else { a }),
        (a, b) => a.or(b),
    }
}

/// The best required set a node offers (its exact set counts as one).
fn best(i: &Info) -> Option<Set> {
    pick(i.exact.clone(), i.required.clone())
}

fn single(bytes: &[u8]) -> Set {
    let mut s = Set::new();
    s.insert(bytes.to_ascii_lowercase());
    s
}

fn cross(a: &Set, b: &Set) -> Option<Set> {
    if a.len() * b.len() > MAX_SET {
        return None;
    }
    let mut out = Set::new();
    for x in a {
        for y in b {
            if x.len() + y.len() > MAX_LEN {
                return None;
            }
            let mut v = x.clone();
            v.extend_from_slice(y);
            out.insert(v);
        }
    }
    Some(out)
}

fn class_bytes(c: &Class) -> Option<Set> {
    let mut bytes = BTreeSet::new();
    match c {
        Class::Bytes(b) => {
            for r in b.ranges() {
                if (r.end() - r.start()) as usize >= 2 * MAX_CLASS {
                    return None;
                }
                for x in r.start()..=r.end() {
                    bytes.insert(x.to_ascii_lowercase());
                    if bytes.len() > MAX_CLASS {
                        return None;
                    }
                }
            }
        }
        Class::Unicode(u) => {
            for r in u.ranges() {
                let (s, e) = (r.start() as u32, r.end() as u32);
                if e > 0x7f || e - s >= 2 * MAX_CLASS as u32 {
                    return None;
                }
                for x in s..=e {
                    bytes.insert((x as u8).to_ascii_lowercase());
                    if bytes.len() > MAX_CLASS {
                        return None;
                    }
                }
            }
        }
    }
    if bytes.is_empty() {
        // An empty class matches nothing; no useful bound either way.
        return None;
    }
    Some(bytes.into_iter().map(|b| vec![b]).collect())
}

fn walk(h: &Hir) -> Info {
    match h.kind() {
        HirKind::Empty | HirKind::Look(_) => Info {
            exact: Some(single(b"")),
            required: None,
        },
        HirKind::Literal(l) => Info {
            exact: (l.0.len() <= MAX_LEN).then(|| single(&l.0)),
            required: Some(single(&l.0[..l.0.len().min(MAX_LEN)])),
        },
        HirKind::Class(c) => Info {
            exact: class_bytes(c),
            required: None,
        },
        HirKind::Capture(c) => walk(&c.sub),
        HirKind::Repetition(r) => {
            let sub = walk(&r.sub);
            if r.min == 0 {
                let exact = match (&sub.exact, r.max) {
                    (Some(e), Some(1)) if e.len() < MAX_SET => {
                        let mut e = e.clone();
                        e.insert(Vec::new());
                        Some(e)
                    }
                    _ => None,
                };
                return Info {
                    exact,
                    required: None,
                };
            }
            let exact = match (&sub.exact, r.max) {
                (Some(e), Some(max)) if max == r.min && r.min <= 4 => {
                    let mut acc = single(b"");
                    let mut ok = true;
                    for _ in 0..r.min {
                        match cross(&acc, e) {
                            Some(n) => acc = n,
                            None => {
                                ok = false;
                                break;
                            }
                        }
                    }
                    ok.then_some(acc)
                }
                _ => None,
            };
            Info {
                exact,
                required: best(&sub),
            }
        }
        HirKind::Concat(subs) => {
            let infos: Vec<Info> = subs.iter().map(walk).collect();
            // Exact set of the whole, when every part has one and the product stays small.
            let mut exact = Some(single(b""));
            for i in &infos {
                exact = match (exact, &i.exact) {
                    (Some(acc), Some(e)) => cross(&acc, e),
                    _ => None,
                };
            }
            // Otherwise the best of: each part's required set, and the products of runs of
            // consecutive exact parts.
            let mut required: Option<Set> = None;
            let mut run: Option<Set> = None;
            for i in &infos {
                required = pick(required, i.required.clone());
                match &i.exact {
                    Some(e) => {
                        run = match run.take() {
                            Some(r) => match cross(&r, e) {
                                Some(n) => Some(n),
                                None => {
                                    required = pick(required, Some(r));
                                    Some(e.clone())
                                }
                            },
                            None => Some(e.clone()),
                        };
                    }
                    None => {
                        if let Some(r) = run.take() {
                            required = pick(required, Some(r));
                        }
                    }
                }
            }
            if let Some(r) = run {
                required = pick(required, Some(r));
            }
            Info { exact, required }
        }
        HirKind::Alternation(subs) => {
            let infos: Vec<Info> = subs.iter().map(walk).collect();
            let mut exact = Some(Set::new());
            for i in &infos {
                exact = match (exact, &i.exact) {
                    (Some(mut acc), Some(e)) if acc.len() + e.len() <= MAX_SET => {
                        acc.extend(e.iter().cloned());
                        Some(acc)
                    }
                    _ => None,
                };
            }
            let mut required = Some(Set::new());
            for i in &infos {
                required = match (required, best(i)) {
                    (Some(mut acc), Some(b)) if acc.len() + b.len() <= MAX_SET => {
                        acc.extend(b);
                        Some(acc)
                    }
                    _ => None,
                };
            }
            Info { exact, required }
        }
    }
}

#[cfg(test)]
mod tests {
    fn req(p: &str) -> Option<Vec<String>> {
        let hir = regex_syntax::ParserBuilder::new()
            .unicode(false)
            .utf8(false)
            .dot_matches_new_line(true)
            .build()
            .parse(p)
            .unwrap();
        super::required(&hir).map(|v| {
            v.into_iter()
                .map(|s| String::from_utf8_lossy(&s).into_owned())
                .collect()
        })
    }

    #[test]
    fn extracts_required_literals() {
        assert_eq!(req(r"(?i)\bunion\s+select\b"), Some(vec!["select".into()]));
        assert_eq!(req(r"foo|bar"), Some(vec!["bar".into(), "foo".into()]));
        assert_eq!(req(r"(?i)<script"), Some(vec!["<script".into()]));
        assert_eq!(req(r"a?b?"), None);
        assert_eq!(req(r"x|.*"), None);
        assert_eq!(req(r"[a-z]+\d"), None);
        // Optional parts shorten the candidates but stay sound.
        assert_eq!(req(r"ab?c"), Some(vec!["abc".into(), "ac".into()]));
        assert_eq!(
            req(r"(?:on|x)(?:load|error)="),
            Some(vec![
                "onerror=".into(),
                "onload=".into(),
                "xerror=".into(),
                "xload=".into()
            ])
        );
    }
}
