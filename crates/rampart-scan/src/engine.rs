//! The detection engine: YARA-X rules compiled once, plus the script analyzer; one
//! [`FileScanner`] per worker thread.

use rampart_script::{Lang, Reason};
use serde::Serialize;
use std::collections::HashSet;
use std::path::{Path, PathBuf};

/// The project's rule set (every `rules/*.yar` file, by name), built into the binary.
pub const BUILTIN_RULES: &[(&str, &str)] = include!(concat!(env!("OUT_DIR"), "/builtin_rules.rs"));

#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    #[error("{file}: {message}")]
    Rule { file: String, message: String },
    #[error("{path}: {source}")]
    Io { path: PathBuf, source: std::io::Error },
    #[error("{path}:{line}: bad SHA-256 {text:?} (expected 64 hex digits)")]
    BadHash {
        path: PathBuf,
        line: usize,
        text: String,
    },
}

/// A rule that matched, with its score from the rule's `score` metadata (default 50).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RuleMatch {
    pub rule: String,
    pub namespace: String,
    pub score: u32,
    pub description: String,
}

/// What the engine concluded about one file's content.
#[derive(Debug, Clone, Serialize)]
pub struct ContentVerdict {
    pub score: u32,
    pub lang: Option<Lang>,
    pub reasons: Vec<Reason>,
    pub rules: Vec<RuleMatch>,
    /// Set when a known-bad hash list matched.
    pub known_bad: bool,
}

pub struct Engine {
    /// The project's webshell rules: run only on files that may hold server-side code.
    rules: yara_x::Rules,
    /// The operator's rules: run on every file (they may look for anything, e.g. ELF
    /// implants in /tmp).
    operator_rules: Option<yara_x::Rules>,
    known_bad: HashSet<[u8; 32]>,
    known_good: HashSet<[u8; 32]>,
}

impl Engine {
    /// Compiles the built-in rules plus every `*.yar`/`*.yara` file in `extra_dir`.
    pub fn new(extra_dir: Option<&Path>) -> Result<Engine, EngineError> {
        Engine::with_rule_set(BUILTIN_RULES, extra_dir)
    }

    /// Like [`Engine::new`] with `(name, source)` files in place of the built-in rule set
    /// (benches use it to try rule changes without rebuilding).
    pub fn with_rule_set<N: AsRef<str>, S: AsRef<str>>(
        rule_set: &[(N, S)],
        extra_dir: Option<&Path>,
    ) -> Result<Engine, EngineError> {
        let mut c = yara_x::Compiler::new();
        c.new_namespace("rampart");
        for (name, src) in rule_set {
            let (name, src) = (name.as_ref(), src.as_ref());
            c.add_source(yara_x::SourceCode::from(src).with_origin(name))
                .map_err(|e| EngineError::Rule {
                    file: name.to_string(),
                    message: e.to_string(),
                })?;
        }
        let rules = c.build();
        let mut operator_rules = None;
        if let Some(dir) = extra_dir {
            let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
                .map_err(|source| EngineError::Io {
                    path: dir.to_path_buf(),
                    source,
                })?
                .filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|p| p.extension().is_some_and(|x| x == "yar" || x == "yara"))
                .collect();
            files.sort();
            let mut c = yara_x::Compiler::new();
            c.new_namespace("operator");
            for f in &files {
                let src = std::fs::read_to_string(f).map_err(|source| EngineError::Io {
                    path: f.clone(),
                    source,
                })?;
                let origin = f.display().to_string();
                c.add_source(yara_x::SourceCode::from(src.as_str()).with_origin(origin.as_str()))
                    .map_err(|e| EngineError::Rule {
                        file: origin.clone(),
                        message: e.to_string(),
                    })?;
            }
            if !files.is_empty() {
                operator_rules = Some(c.build());
            }
        }
        Ok(Engine {
            rules,
            operator_rules,
            known_bad: HashSet::new(),
            known_good: HashSet::new(),
        })
    }

    /// Loads a hash list: one SHA-256 in hex per line (first word), `#` comments.
    pub fn load_hashes(&mut self, path: &Path, bad: bool) -> Result<usize, EngineError> {
        let text = std::fs::read_to_string(path).map_err(|source| EngineError::Io {
            path: path.to_path_buf(),
            source,
        })?;
        let mut n = 0;
        for (i, line) in text.lines().enumerate() {
            let word = line.split_whitespace().next().unwrap_or("");
            if word.is_empty() || word.starts_with('#') {
                continue;
            }
            let h = parse_hex32(word).ok_or_else(|| EngineError::BadHash {
                path: path.to_path_buf(),
                line: i + 1,
                text: word.chars().take(80).collect(),
            })?;
            if bad {
                self.known_bad.insert(h);
            } else {
                self.known_good.insert(h);
            }
            n += 1;
        }
        Ok(n)
    }

    pub fn uses_hashes(&self) -> bool {
        !self.known_bad.is_empty() || !self.known_good.is_empty()
    }

    pub fn scanner(&self) -> FileScanner<'_> {
        let new = |rules| {
            let mut s = yara_x::Scanner::new(rules);
            s.set_timeout(std::time::Duration::from_secs(10));
            s
        };
        FileScanner {
            engine: self,
            yara: new(&self.rules),
            operator: self.operator_rules.as_ref().map(new),
        }
    }
}

fn parse_hex32(s: &str) -> Option<[u8; 32]> {
    if s.len() != 64 {
        return None;
    }
    let mut out = [0u8; 32];
    for (i, o) in out.iter_mut().enumerate() {
        *o = u8::from_str_radix(s.get(2 * i..2 * i + 2)?, 16).ok()?;
    }
    Some(out)
}

pub struct FileScanner<'e> {
    engine: &'e Engine,
    yara: yara_x::Scanner<'e>,
    operator: Option<yara_x::Scanner<'e>>,
}

/// Whether content with this name should go through the script analyzer, and as what.
pub fn script_lang(name: &Path, content: &[u8]) -> Option<Lang> {
    if let Some(l) = Lang::from_path(name) {
        return Some(l);
    }
    // Sniff: server code in a file with an unexpected extension (`.jpg`, `.txt`, none).
    let head = &content[..content.len().min(4096)];
    if rampart_script::lex_php::find(head, b"<?php").is_some()
        || rampart_script::lex_php::find(head, b"<?=").is_some()
        || rampart_script::lex_php::find(head, b"<%@").is_some()
        || rampart_script::lex_php::find(head, b"<% ").is_some()
    {
        return Some(Lang::Unknown);
    }
    None
}

impl FileScanner<'_> {
    /// Scans one file's content; `name` gives the extension.
    pub fn scan(&mut self, name: &Path, content: &[u8]) -> ContentVerdict {
        let mut v = ContentVerdict {
            score: 0,
            lang: None,
            reasons: Vec::new(),
            rules: Vec::new(),
            known_bad: false,
        };
        if self.engine.uses_hashes() {
            use sha2::Digest;
            let h: [u8; 32] = sha2::Sha256::digest(content).into();
            if self.engine.known_good.contains(&h) {
                return v;
            }
            if self.engine.known_bad.contains(&h) {
                v.known_bad = true;
                v.score += 100;
            }
        }
        let code = crate::prefilter::may_hold_server_code(name, content);
        if code {
            if let Ok(res) = self.yara.scan(content) {
                add_matches(&mut v, res);
            }
            if let Some(lang) = script_lang(name, content) {
                let a = rampart_script::analyze(content, lang);
                v.lang = Some(a.lang);
                v.score += a.score;
                v.reasons = a.reasons;
            }
        }
        if let Some(op) = self.operator.as_mut() {
            if let Ok(res) = op.scan(content) {
                add_matches(&mut v, res);
            }
        }
        v
    }
}

fn add_matches(v: &mut ContentVerdict, res: yara_x::ScanResults<'_, '_>) {
    for r in res.matching_rules() {
        let mut score = 50u32;
        let mut description = String::new();
        for (k, val) in r.metadata() {
            match (k, val) {
                ("score", yara_x::MetaValue::Integer(i)) => score = i.clamp(0, 1000) as u32,
                ("description", yara_x::MetaValue::String(s)) => description = s.to_string(),
                _ => {}
            }
        }
        v.score += score;
        v.rules.push(RuleMatch {
            rule: r.identifier().to_string(),
            namespace: r.namespace().to_string(),
            score,
            description,
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_rule_file_is_built_in_and_compiles() {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../rules");
        let mut on_disk: Vec<String> = std::fs::read_dir(&dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .filter(|n| n.ends_with(".yar"))
            .collect();
        on_disk.sort();
        let built: Vec<String> = BUILTIN_RULES.iter().map(|(n, _)| n.to_string()).collect();
        assert_eq!(built, on_disk);
        for lang in [
            "php.yar",
            "asp.yar",
            "aspx.yar",
            "jsp.yar",
            "perl.yar",
            "common.yar",
        ] {
            assert!(built.iter().any(|n| n == lang), "{lang} missing");
        }
        Engine::new(None).unwrap();
    }

    #[test]
    fn every_rule_has_a_description_and_a_score() {
        let engine = Engine::new(None).unwrap();
        let mut n = 0;
        for r in engine.rules.iter() {
            let metas: Vec<_> = r.metadata().map(|(k, _)| k.to_string()).collect();
            assert!(
                metas.iter().any(|k| k == "score"),
                "{} has no score",
                r.identifier()
            );
            assert!(
                metas.iter().any(|k| k == "description"),
                "{} has no description",
                r.identifier()
            );
            n += 1;
        }
        assert!(n > 20, "only {n} rules");
    }

    #[test]
    fn a_php_request_eval_is_detected_and_plain_php_is_not() {
        let engine = Engine::new(None).unwrap();
        let mut s = engine.scanner();
        let bad = s.scan(Path::new("x.php"), b"<?php @eval($_POST['c']); ?>");
        assert!(bad.score >= crate::DETECT, "{bad:?}");
        let good = s.scan(Path::new("x.php"), b"<?php echo htmlspecialchars($_GET['q']); ?>");
        assert!(good.score < crate::DETECT, "{good:?}");
    }

    #[test]
    fn builtin_rules_skip_static_files_but_operator_rules_see_every_file() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join("elf.yar"),
            "rule elf_implant { meta: score = 100 description = \"test\" strings: $m = \"IMPLANT\" \
             condition: uint32(0) == 0x464c457f and $m }",
        )
        .unwrap();
        let engine = Engine::new(Some(dir.path())).unwrap();
        let mut s = engine.scanner();
        let elf = s.scan(Path::new("tmp/x"), b"\x7fELF....IMPLANT");
        assert_eq!(elf.rules.len(), 1, "{elf:?}");
        assert_eq!(elf.rules[0].namespace, "operator");
        // Shell text in a file no web server would run is not a built-in-rule match...
        let json = s.scan(Path::new("a.json"), b"{\"x\": \"eval($_POST['c'])\"}");
        assert!(json.rules.is_empty() && json.score == 0, "{json:?}");
        // ...but the same text behind a PHP opening tag is, whatever the file's name.
        let gif = s.scan(Path::new("a.gif"), b"GIF89a <?php eval($_POST['c']); ?>");
        assert!(gif.score >= crate::DETECT, "{gif:?}");
    }
}
