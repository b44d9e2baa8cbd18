//! `--rules` arguments: files, directories (their `*.conf`, sorted) and globs in the
//! last path component (`rules/*.conf`), expanded in the order given.

use std::path::{Path, PathBuf};

#[derive(Debug, thiserror::Error)]
pub enum RulePathError {
    #[error("{0}: no such file or directory")]
    Missing(String),
    #[error("{0}: the pattern matches no file")]
    NoMatch(String),
    #[error("{path}: {err}")]
    Read { path: String, err: std::io::Error },
}

pub fn expand_rule_paths(args: &[String]) -> Result<Vec<PathBuf>, RulePathError> {
    let mut out = Vec::new();
    for arg in args {
        let p = Path::new(arg);
        if arg.contains(['*', '?', '[']) {
            let dir = p
                .parent()
                .filter(|d| !d.as_os_str().is_empty())
                .unwrap_or(Path::new("."));
            let pattern = p.file_name().and_then(|n| n.to_str()).unwrap_or_default();
            let mut matched: Vec<PathBuf> = read_dir(dir)?
                .into_iter()
                .filter(|f| {
                    f.file_name()
                        .and_then(|n| n.to_str())
                        .is_some_and(|n| glob_match(pattern, n))
                })
                .filter(|f| f.is_file())
                .collect();
            if matched.is_empty() {
                return Err(RulePathError::NoMatch(arg.clone()));
            }
            matched.sort();
            out.extend(matched);
        } else if p.is_dir() {
            let mut confs: Vec<PathBuf> = read_dir(p)?
                .into_iter()
                .filter(|f| f.is_file() && f.extension().is_some_and(|e| e == "conf"))
                .collect();
            confs.sort();
            out.extend(confs);
        } else if p.is_file() {
            out.push(p.to_path_buf());
        } else {
            return Err(RulePathError::Missing(arg.clone()));
        }
    }
    Ok(out)
}

fn read_dir(dir: &Path) -> Result<Vec<PathBuf>, RulePathError> {
    let rd = std::fs::read_dir(dir).map_err(|err| RulePathError::Read {
        path: dir.display().to_string(),
        err,
    })?;
    Ok(rd.filter_map(|e| e.ok().map(|e| e.path())).collect())
}

/// Shell-style matching of one path component: `*`, `?` and `[abc]`/`[a-z]`.
pub fn glob_match(pattern: &str, name: &str) -> bool {
    let p: Vec<char> = pattern.chars().collect();
    let n: Vec<char> = name.chars().collect();
    fn class(p: &[char], c: char) -> Option<(bool, usize)> {
        // Returns (matches, length of the class in the pattern).
        let end = p.iter().skip(1).position(|&x| x == ']')? + 1;
        let body = &p[1..end];
        let (neg, body) = match body.first() {
            Some('!') | Some('^') => (true, &body[1..]),
            _ => (false, body),
        };
        let mut hit = false;
        let mut i = 0;
        while i < body.len() {
            if i + 2 < body.len() && body[i + 1] == '-' {
                hit |= body[i] <= c && c <= body[i + 2];
                i += 3;
            } else {
                hit |= body[i] == c;
                i += 1;
            }
        }
        Some((hit != neg, end + 1))
    }
    fn go(p: &[char], n: &[char]) -> bool {
        match p.first() {
            None => n.is_empty(),
            Some('*') => (0..=n.len()).any(|i| go(&p[1..], &n[i..])),
            Some('?') => !n.is_empty() && go(&p[1..], &n[1..]),
            Some('[') if !n.is_empty() => match class(p, n[0]) {
                Some((true, len)) => go(&p[len..], &n[1..]),
                Some((false, _)) => false,
                None => n[0] == '[' && go(&p[1..], &n[1..]),
            },
            Some(&c) => n.first() == Some(&c) && go(&p[1..], &n[1..]),
        }
    }
    go(&p, &n)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_globs() {
        assert!(glob_match("*.conf", "REQUEST-901-INITIALIZATION.conf"));
        assert!(!glob_match("*.conf", "x.data"));
        assert!(glob_match("REQUEST-9[0-3]?-*.conf", "REQUEST-920-X.conf"));
        assert!(!glob_match("REQUEST-9[0-3]?-*.conf", "REQUEST-941-X.conf"));
    }

    #[test]
    fn expands_files_dirs_and_globs_in_order() {
        let d = tempfile::tempdir().unwrap();
        for f in ["b.conf", "a.conf", "c.data"] {
            std::fs::write(d.path().join(f), "").unwrap();
        }
        let setup = d.path().join("setup.txt");
        std::fs::write(&setup, "").unwrap();
        let args = vec![setup.display().to_string(), d.path().display().to_string()];
        let got = expand_rule_paths(&args).unwrap();
        let names: Vec<_> = got
            .iter()
            .map(|p| p.file_name().unwrap().to_str().unwrap().to_string())
            .collect();
        assert_eq!(names, ["setup.txt", "a.conf", "b.conf"]);
        let glob = format!("{}/*.data", d.path().display());
        assert_eq!(expand_rule_paths(&[glob]).unwrap().len(), 1);
        let none = format!("{}/*.nothing", d.path().display());
        assert!(matches!(
            expand_rule_paths(&[none]),
            Err(RulePathError::NoMatch(_))
        ));
        assert!(matches!(
            expand_rule_paths(&["/nonexistent/x.conf".into()]),
            Err(RulePathError::Missing(_))
        ));
    }
}
