//! Reading rule files and resolving `Include` globs.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::{parse, Directive, Location, ParseError};

const MAX_DEPTH: usize = 16;
/// Rule files are small; a bigger one is a mistake or an attack on the loader.
const MAX_FILE_BYTES: u64 = 64 << 20;

/// Reads and parses `path`, replacing each `Include` by the directives of the files it names
/// (relative patterns resolve against the including file's directory; `*`/`?` globs in the file
/// name match in sorted order).
pub fn load_file(path: &Path) -> Result<Vec<Directive>, ParseError> {
    let mut out = Vec::new();
    let at = Location {
        file: Arc::from(path.display().to_string()),
        line: 0,
        column: 0,
    };
    load_into(path, &at, 0, &mut out)?;
    Ok(out)
}

fn load_into(path: &Path, from: &Location, depth: usize, out: &mut Vec<Directive>) -> Result<(), ParseError> {
    if depth > MAX_DEPTH {
        return Err(ParseError::new(
            from.clone(),
            "includes nest too deeply (a cycle?)",
        ));
    }
    let text =
        read_bounded(path).map_err(|e| ParseError::new(from.clone(), format!("{}: {e}", path.display())))?;
    for d in parse(&text, &path.display().to_string())? {
        match d {
            Directive::Include {
                location,
                pattern,
                optional,
            } => {
                let base = path.parent().unwrap_or(Path::new("."));
                let files = expand(base, &pattern).map_err(|e| ParseError::new(location.clone(), e))?;
                if files.is_empty() && !optional && !has_glob(&pattern) {
                    return Err(ParseError::new(
                        location,
                        format!("included file `{pattern}` does not exist"),
                    ));
                }
                for f in files {
                    load_into(&f, &location, depth + 1, out)?;
                }
            }
            other => out.push(other),
        }
    }
    Ok(())
}

fn read_bounded(path: &Path) -> std::io::Result<String> {
    use std::io::Read;
    let mut f = std::fs::File::open(path)?;
    let mut buf = String::new();
    (&mut f).take(MAX_FILE_BYTES + 1).read_to_string(&mut buf)?;
    if buf.len() as u64 > MAX_FILE_BYTES {
        return Err(std::io::Error::other("file too large"));
    }
    Ok(buf)
}

fn has_glob(s: &str) -> bool {
    s.contains(['*', '?'])
}

fn expand(base: &Path, pattern: &str) -> Result<Vec<PathBuf>, String> {
    let p = Path::new(pattern);
    let full = if p.is_absolute() {
        p.to_path_buf()
    } else {
        base.join(p)
    };
    let name = full
        .file_name()
        .and_then(|n| n.to_str())
        .unwrap_or("")
        .to_string();
    if !has_glob(&name) {
        return Ok(if full.exists() { vec![full] } else { Vec::new() });
    }
    let dir = full.parent().unwrap_or(Path::new("."));
    if has_glob(&dir.display().to_string()) {
        return Err(format!("globs are supported in the file name only: `{pattern}`"));
    }
    let rd = std::fs::read_dir(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    let mut files: Vec<PathBuf> = rd
        .filter_map(|e| e.ok())
        .filter(|e| {
            e.file_name()
                .to_str()
                .is_some_and(|n| wildcard(name.as_bytes(), n.as_bytes()))
        })
        .map(|e| e.path())
        .filter(|p| p.is_file())
        .collect();
    files.sort();
    Ok(files)
}

/// `*` and `?` matching over bytes.
fn wildcard(p: &[u8], s: &[u8]) -> bool {
    let (mut pi, mut si) = (0, 0);
    let (mut star, mut mark) = (None, 0);
    while si < s.len() {
        if pi < p.len() && (p[pi] == b'?' || p[pi] == s[si]) {
            pi += 1;
            si += 1;
        } else if pi < p.len() && p[pi] == b'*' {
            star = Some(pi);
            mark = si;
            pi += 1;
        } else if let Some(st) = star {
            pi = st + 1;
            mark += 1;
            si = mark;
        } else {
            return false;
        }
    }
    while pi < p.len() && p[pi] == b'*' {
        pi += 1;
    }
    pi == p.len()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wildcards() {
        assert!(wildcard(b"*.conf", b"REQUEST-901.conf"));
        assert!(!wildcard(b"*.conf", b"x.conf.example"));
        assert!(wildcard(b"a?c*", b"abcdef"));
    }

    #[test]
    fn includes_resolve_relative_globs_in_order() {
        let dir = std::env::temp_dir().join(format!("seclang-inc-{}", std::process::id()));
        std::fs::create_dir_all(dir.join("rules")).unwrap();
        std::fs::write(dir.join("main.conf"), "SecRuleEngine On\nInclude rules/*.conf\n").unwrap();
        std::fs::write(dir.join("rules/b.conf"), "SecMarker B\n").unwrap();
        std::fs::write(dir.join("rules/a.conf"), "SecMarker A\n").unwrap();
        std::fs::write(dir.join("rules/c.conf.example"), "SecMarker C\n").unwrap();
        let d = load_file(&dir.join("main.conf")).unwrap();
        let names: Vec<_> = d
            .iter()
            .filter_map(|d| match d {
                Directive::Marker { name, .. } => Some(name.as_str()),
                _ => None,
            })
            .collect();
        assert_eq!(names, ["A", "B"]);
        std::fs::write(dir.join("rules/a.conf"), "SecRule ARGS\n").unwrap();
        let e = load_file(&dir.join("main.conf")).unwrap_err();
        assert!(e.location.file.ends_with("a.conf") && e.location.line == 1, "{e}");
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
