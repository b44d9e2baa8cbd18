//! `sshd_config` as sshd reads it: keywords are case-insensitive, `Include` pulls in
//! files by glob (relative paths are under `/etc/ssh`), the first value of a keyword wins,
//! and `Match` blocks apply only to the connections they match, so they are kept apart.
//! Every directive remembers the file and line it came from, for evidence.

use rampart_core::HostRoot;

pub const MAIN: &str = "/etc/ssh/sshd_config";
const SSH_DIR: &str = "/etc/ssh";
/// sshd itself stops at 16 levels of Include.
const MAX_DEPTH: usize = 16;
const FILE_LIMIT: u64 = 1024 * 1024;

/// Keywords that may appear several times and add up instead of the first one winning.
const MULTI: &[&str] = &[
    "port",
    "listenaddress",
    "hostkey",
    "acceptenv",
    "subsystem",
    "allowusers",
    "denyusers",
    "allowgroups",
    "denygroups",
    "setenv",
    "hostcertificate",
];

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Directive {
    /// Lower-case keyword.
    pub key: String,
    pub value: String,
    pub file: String,
    pub line: u64,
}

impl Directive {
    pub fn location(&self) -> String {
        if self.line == 0 {
            self.file.clone()
        } else {
            format!("{}:{}", self.file, self.line)
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MatchBlock {
    /// The criteria as written (`User backup`, `Address 10.0.0.0/8`).
    pub criteria: String,
    pub file: String,
    pub line: u64,
    pub directives: Vec<Directive>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SshdConfig {
    /// Directives outside any Match block, in the order sshd reads them.
    pub global: Vec<Directive>,
    pub matches: Vec<MatchBlock>,
    /// Every file read, main file first.
    pub files: Vec<String>,
}

/// Something in the configuration that could not be read or understood.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    pub subject: String,
    pub message: String,
}

impl SshdConfig {
    /// The value sshd uses for a single-valued keyword: the first one.
    pub fn get(&self, key: &str) -> Option<&Directive> {
        first(&self.global, key)
    }

    /// Every occurrence of a keyword (for `Port`, `ListenAddress`…).
    pub fn all(&self, key: &str) -> Vec<&Directive> {
        self.global.iter().filter(|d| d.key == key).collect()
    }

    /// Parses `sshd -T` output (`keyword value` per line, keywords lower-case).
    pub fn from_sshd_t(text: &str) -> SshdConfig {
        let mut cfg = SshdConfig {
            files: vec!["sshd -T".into()],
            ..Default::default()
        };
        for line in text.lines() {
            let Some((k, v)) = line.trim().split_once(' ') else {
                continue;
            };
            cfg.global.push(Directive {
                key: k.to_ascii_lowercase(),
                value: v.trim().to_string(),
                file: "sshd -T".into(),
                line: 0,
            });
        }
        cfg
    }
}

impl MatchBlock {
    pub fn get(&self, key: &str) -> Option<&Directive> {
        first(&self.directives, key)
    }
}

fn first<'a>(ds: &'a [Directive], key: &str) -> Option<&'a Directive> {
    ds.iter().find(|d| d.key == key)
}

pub fn is_multi(key: &str) -> bool {
    MULTI.contains(&key)
}

/// Reads `path` and everything it includes. `Ok(None)` when the main file does not exist.
pub fn load(
    host: &HostRoot,
    path: &str,
) -> Result<Option<(SshdConfig, Vec<Problem>)>, rampart_core::HostError> {
    let text = match host.read_limited(path, FILE_LIMIT) {
        Ok(b) => String::from_utf8_lossy(&b).into_owned(),
        Err(e) if e.is_not_found() => return Ok(None),
        Err(e) => return Err(e),
    };
    let mut p = Parser {
        host,
        cfg: SshdConfig::default(),
        problems: Vec::new(),
        in_match: false,
    };
    p.cfg.files.push(path.to_string());
    p.parse(path, &text, 0);
    Ok(Some((p.cfg, p.problems)))
}

/// Parses one configuration text without following includes (for tests and tools).
pub fn parse_text(host: &HostRoot, path: &str, text: &str) -> (SshdConfig, Vec<Problem>) {
    let mut p = Parser {
        host,
        cfg: SshdConfig::default(),
        problems: Vec::new(),
        in_match: false,
    };
    p.parse(path, text, 0);
    (p.cfg, p.problems)
}

struct Parser<'h> {
    host: &'h HostRoot,
    cfg: SshdConfig,
    problems: Vec<Problem>,
    in_match: bool,
}

impl Parser<'_> {
    fn problem(&mut self, subject: String, message: String) {
        self.problems.push(Problem { subject, message });
    }

    fn parse(&mut self, file: &str, text: &str, depth: usize) {
        for (i, raw) in text.lines().enumerate() {
            let line = i as u64 + 1;
            let Some((key, value)) = split_line(raw) else {
                continue;
            };
            if key.chars().any(|c| c.is_control()) || !key.chars().all(|c| c.is_ascii_alphanumeric()) {
                self.problem(
                    format!("{file}:{line}"),
                    format!("{file}:{line}: not an sshd keyword (binary garbage?)"),
                );
                continue;
            }
            match key.as_str() {
                "include" => self.include(file, line, &value, depth),
                "match" => {
                    self.in_match = true;
                    self.cfg.matches.push(MatchBlock {
                        criteria: value,
                        file: file.to_string(),
                        line,
                        directives: Vec::new(),
                    });
                }
                _ => {
                    let d = Directive {
                        key,
                        value,
                        file: file.to_string(),
                        line,
                    };
                    match (self.in_match, self.cfg.matches.last_mut()) {
                        (true, Some(m)) => m.directives.push(d),
                        _ => self.cfg.global.push(d),
                    }
                }
            }
        }
    }

    fn include(&mut self, file: &str, line: u64, value: &str, depth: usize) {
        if depth + 1 > MAX_DEPTH {
            self.problem(
                format!("{file}:{line}"),
                format!("{file}:{line}: Include nested more than {MAX_DEPTH} deep (a loop?); not followed"),
            );
            return;
        }
        for pattern in value.split_whitespace() {
            let pattern = pattern.trim_matches('"');
            let full = if pattern.starts_with('/') {
                pattern.to_string()
            } else {
                format!("{SSH_DIR}/{pattern}")
            };
            let paths = match expand_glob(self.host, &full) {
                Ok(p) => p,
                Err(e) => {
                    self.problem(
                        format!("{file}:{line}"),
                        format!("{file}:{line}: Include {pattern}: {e}"),
                    );
                    continue;
                }
            };
            for path in paths {
                match self.host.read_limited(&path, FILE_LIMIT) {
                    Ok(bytes) => {
                        self.cfg.files.push(path.clone());
                        let text = String::from_utf8_lossy(&bytes).into_owned();
                        self.parse(&path, &text, depth + 1);
                    }
                    // A literal Include of a missing file is not an error for sshd.
                    Err(e) if e.is_not_found() => {}
                    Err(e) => {
                        let msg = e.to_string();
                        self.problem(path.clone(), format!("{msg} (included from {file}:{line})"));
                    }
                }
            }
        }
    }
}

/// The keyword (lower-case) and value of a line, or None for blanks and comments.
fn split_line(raw: &str) -> Option<(String, String)> {
    let s = raw.trim();
    if s.is_empty() || s.starts_with('#') {
        return None;
    }
    let end = s.find(|c: char| c.is_whitespace() || c == '=').unwrap_or(s.len());
    let key = s[..end].to_ascii_lowercase();
    let mut rest = s[end..].trim_start();
    if let Some(r) = rest.strip_prefix('=') {
        rest = r.trim_start();
    }
    // A `#` that starts a word begins a comment.
    let mut value = String::new();
    let mut in_quote = false;
    let mut prev_space = true;
    for c in rest.chars() {
        if c == '"' {
            in_quote = !in_quote;
        }
        if c == '#' && prev_space && !in_quote {
            break;
        }
        prev_space = c.is_whitespace();
        value.push(c);
    }
    let value = value.trim();
    let value =
        if value.len() >= 2 && value.starts_with('"') && value.ends_with('"') && !value[1..].contains(' ') {
            value[1..value.len() - 1].to_string()
        } else {
            value.to_string()
        };
    Some((key, value))
}

/// Expands a glob (`*`, `?`, `[…]` in any component) against the host, sorted as glob(3)
/// sorts. A pattern without wildcards is returned as it is.
pub fn expand_glob(host: &HostRoot, pattern: &str) -> Result<Vec<String>, String> {
    if !pattern.contains(['*', '?', '[']) {
        return Ok(vec![pattern.to_string()]);
    }
    let mut current = vec![String::new()];
    let comps: Vec<&str> = pattern.split('/').filter(|c| !c.is_empty()).collect();
    for (i, comp) in comps.iter().enumerate() {
        let last = i + 1 == comps.len();
        let mut next = Vec::new();
        for base in &current {
            if !comp.contains(['*', '?', '[']) {
                next.push(format!("{base}/{comp}"));
                continue;
            }
            let dir = if base.is_empty() {
                "/".to_string()
            } else {
                base.clone()
            };
            let entries = match host.read_dir(&dir) {
                Ok(e) => e,
                Err(e) if e.is_not_found() => continue,
                Err(e) => return Err(e.to_string()),
            };
            for e in entries {
                let name = e.name.to_string_lossy();
                if glob_match(comp, &name) {
                    let p = format!("{base}/{name}");
                    if last || host.metadata(&p).map(|m| m.is_dir()).unwrap_or(false) {
                        next.push(p);
                    }
                }
            }
        }
        current = next;
    }
    current.sort();
    Ok(current)
}

/// Shell-style matching of one path component; a leading dot must be matched literally.
pub fn glob_match(pattern: &str, name: &str) -> bool {
    if name.starts_with('.') && !pattern.starts_with('.') {
        return false;
    }
    let p: Vec<char> = pattern.chars().collect();
    let n: Vec<char> = name.chars().collect();
    match_from(&p, &n)
}

fn match_from(p: &[char], n: &[char]) -> bool {
    let (mut pi, mut ni) = (0usize, 0usize);
    let mut star: Option<(usize, usize)> = None;
    while ni < n.len() {
        if pi < p.len() {
            match p[pi] {
                '*' => {
                    star = Some((pi, ni));
                    pi += 1;
                    continue;
                }
                '?' => {
                    pi += 1;
                    ni += 1;
                    continue;
                }
                '[' => {
                    if let Some((matched, len)) = class(&p[pi..], n[ni]) {
                        if matched {
                            pi += len;
                            ni += 1;
                            continue;
                        }
                    } else if n[ni] == '[' {
                        pi += 1;
                        ni += 1;
                        continue;
                    }
                }
                c if c == n[ni] => {
                    pi += 1;
                    ni += 1;
                    continue;
                }
                _ => {}
            }
        }
        match star {
            Some((sp, sn)) => {
                pi = sp + 1;
                ni = sn + 1;
                star = Some((sp, sn + 1));
            }
            None => return false,
        }
    }
    p[pi..].iter().all(|&c| c == '*')
}

/// Matches `c` against the class at the start of `p` (`[abc]`, `[a-z]`, `[!x]`);
/// returns (matched, length of the class) or None if the class is not closed.
fn class(p: &[char], c: char) -> Option<(bool, usize)> {
    let mut i = 1;
    let negate = matches!(p.get(1), Some('!') | Some('^'));
    if negate {
        i += 1;
    }
    let mut matched = false;
    let start = i;
    while i < p.len() {
        if p[i] == ']' && i > start {
            return Some((matched != negate, i + 1));
        }
        if i + 2 < p.len() && p[i + 1] == '-' && p[i + 2] != ']' {
            if p[i] <= c && c <= p[i + 2] {
                matched = true;
            }
            i += 3;
        } else {
            if p[i] == c {
                matched = true;
            }
            i += 1;
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn globs() {
        assert!(glob_match("*.conf", "a.conf"));
        assert!(!glob_match("*.conf", "a.conf.bak"));
        assert!(!glob_match("*.conf", ".hidden.conf"));
        assert!(glob_match("[0-9]?-x*", "10-xyz"));
        assert!(!glob_match("[!0-9]*", "1a"));
        assert!(glob_match("*", "anything"));
    }

    #[test]
    fn lines_split_like_sshd() {
        assert_eq!(
            split_line("  PermitRootLogin yes # old"),
            Some(("permitrootlogin".into(), "yes".into()))
        );
        assert_eq!(split_line("Port=2222"), Some(("port".into(), "2222".into())));
        assert_eq!(
            split_line("Banner \"/etc/issue.net\""),
            Some(("banner".into(), "/etc/issue.net".into()))
        );
        assert_eq!(split_line("# PermitRootLogin yes"), None);
        assert_eq!(split_line("   "), None);
    }

    #[test]
    fn first_value_wins_and_match_blocks_are_separate() {
        let dir = tempfile::tempdir().unwrap();
        let host = HostRoot::at(dir.path()).unwrap();
        let (cfg, problems) = parse_text(
            &host,
            MAIN,
            "PermitRootLogin no\nPermitRootLogin yes\nPort 22\nPort 2222\nMatch User backup\n  PasswordAuthentication yes\n",
        );
        assert!(problems.is_empty());
        assert_eq!(cfg.get("permitrootlogin").unwrap().value, "no");
        assert_eq!(cfg.get("permitrootlogin").unwrap().line, 1);
        assert_eq!(cfg.all("port").len(), 2);
        assert_eq!(cfg.get("passwordauthentication"), None);
        assert_eq!(cfg.matches.len(), 1);
        assert_eq!(cfg.matches[0].criteria, "User backup");
        assert_eq!(cfg.matches[0].get("passwordauthentication").unwrap().line, 6);
    }

    #[test]
    fn sshd_t_output() {
        let cfg = SshdConfig::from_sshd_t("port 22\nport 2222\npermitrootlogin without-password\n");
        assert_eq!(cfg.all("port").len(), 2);
        assert_eq!(cfg.get("permitrootlogin").unwrap().value, "without-password");
    }
}
