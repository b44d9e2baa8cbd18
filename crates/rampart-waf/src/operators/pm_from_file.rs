//! `@pmFromFile` / `@pmf`: `@pm` with phrases read from files (one per line, `#` comments),
//! resolved relative to the rule file.

use std::path::Path;

use super::pm::Pm;

const MAX_DATA_FILE: u64 = 16 << 20;

pub(crate) fn load(arg: &str, base: &Path) -> Result<Pm, String> {
    let mut phrases = Vec::new();
    for name in arg.split_whitespace() {
        let path = base.join(name);
        let text = read_bounded(&path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
        for line in text.lines() {
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            phrases.push(line.as_bytes().to_vec());
        }
    }
    Pm::new(phrases)
}

pub(crate) fn read_bounded(path: &Path) -> std::io::Result<String> {
    use std::io::Read;
    let mut buf = Vec::new();
    std::fs::File::open(path)?
        .take(MAX_DATA_FILE)
        .read_to_end(&mut buf)?;
    Ok(String::from_utf8_lossy(&buf).into_owned())
}

#[cfg(test)]
mod tests {
    #[test]
    fn loads_phrases_relative_to_the_rules() {
        let dir = std::env::temp_dir().join(format!("waf-pmf-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("x.data"), "# comment\n\n.htaccess\nweb.config\n").unwrap();
        let pm = super::load("x.data", &dir).unwrap();
        assert!(pm.matches(b"/a/WEB.CONFIG", None));
        assert!(!pm.matches(b"# comment", None));
        assert!(super::load("missing.data", &dir).is_err());
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
