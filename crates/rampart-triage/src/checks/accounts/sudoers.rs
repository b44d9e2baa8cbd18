//! sudoers and its includes: who may run what as root, with file:line.
//!
//! Understood: logical lines joined at a trailing backslash, comments, `@include`,
//! `#include`, `@includedir`, `#includedir` (relative paths are relative to the including
//! file's directory; in a directory, names with a `.` or ending in `~` are skipped, as
//! sudo does), `Defaults` lines, `Cmnd_Alias` (so `Cmnd_Alias X = ALL` counts as ALL),
//! and user specifications with Runas lists and tags.

use rampart_core::HostRoot;
use std::collections::HashMap;

pub const SUDOERS: &str = "/etc/sudoers";
const FILE_LIMIT: u64 = 1024 * 1024;
const MAX_DEPTH: usize = 8;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rule {
    pub file: String,
    pub line: u64,
    /// The users and %groups the rule is for, as written.
    pub principals: String,
    /// The rule as written (comments removed, continuations joined).
    pub text: String,
    pub nopasswd: bool,
    /// Some command list is ALL (directly or through a Cmnd_Alias).
    pub all_commands: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DefaultsLine {
    pub file: String,
    pub line: u64,
    pub text: String,
}

#[derive(Debug, Default)]
pub struct Sudoers {
    pub rules: Vec<Rule>,
    pub defaults: Vec<DefaultsLine>,
    pub files: Vec<String>,
}

/// A file or directory that could not be read.
#[derive(Debug)]
pub enum LoadProblem {
    Host(rampart_core::HostError),
    Loop(String),
}

/// Reads `/etc/sudoers` and everything it includes. `Ok(None)` when sudo is not installed.
pub fn load(host: &HostRoot) -> Result<Option<(Sudoers, Vec<LoadProblem>)>, rampart_core::HostError> {
    let text = match host.read_limited(SUDOERS, FILE_LIMIT) {
        Ok(b) => String::from_utf8_lossy(&b).into_owned(),
        Err(e) if e.is_not_found() => return Ok(None),
        Err(e) => return Err(e),
    };
    let mut l = Loader {
        host,
        out: Sudoers::default(),
        problems: Vec::new(),
        aliases: HashMap::new(),
        stack: Vec::new(),
    };
    l.parse_file(SUDOERS, &text, 0);
    Ok(Some((l.out, l.problems)))
}

struct Loader<'h> {
    host: &'h HostRoot,
    out: Sudoers,
    problems: Vec<LoadProblem>,
    aliases: HashMap<String, String>,
    stack: Vec<String>,
}

impl Loader<'_> {
    fn parse_file(&mut self, file: &str, text: &str, depth: usize) {
        if depth > MAX_DEPTH || self.stack.iter().any(|f| f == file) {
            self.problems.push(LoadProblem::Loop(file.to_string()));
            return;
        }
        self.stack.push(file.to_string());
        self.out.files.push(file.to_string());
        for (line, logical) in logical_lines(text) {
            self.parse_line(file, line, &logical, depth);
        }
        self.stack.pop();
    }

    fn include_file(&mut self, from: &str, path: &str, depth: usize) {
        match self.host.read_limited(path, FILE_LIMIT) {
            Ok(b) => {
                let text = String::from_utf8_lossy(&b).into_owned();
                self.parse_file(path, &text, depth + 1);
            }
            Err(e) => {
                let _ = from;
                self.problems.push(LoadProblem::Host(e));
            }
        }
    }

    fn parse_line(&mut self, file: &str, line: u64, s: &str, depth: usize) {
        let t = s.trim();
        for (directive, is_dir) in [
            ("@includedir", true),
            ("#includedir", true),
            ("@include", false),
            ("#include", false),
        ] {
            if let Some(arg) = t.strip_prefix(directive) {
                if !arg.starts_with(char::is_whitespace) {
                    continue;
                }
                let arg = arg.trim().trim_matches('"');
                let path = relative_to(file, arg);
                if is_dir {
                    match self.host.read_dir(&path) {
                        Ok(entries) => {
                            for e in entries {
                                let name = e.name.to_string_lossy();
                                if name.contains('.') || name.ends_with('~') {
                                    continue;
                                }
                                self.include_file(file, &e.host_path, depth);
                            }
                        }
                        Err(e) if e.is_not_found() => {}
                        Err(e) => self.problems.push(LoadProblem::Host(e)),
                    }
                } else {
                    self.include_file(file, &path, depth);
                }
                return;
            }
        }
        let t = strip_comment(t);
        if t.is_empty() {
            return;
        }
        let first = t.split(|c: char| c.is_whitespace()).next().unwrap_or("");
        if first.starts_with("Defaults") {
            self.out.defaults.push(DefaultsLine {
                file: file.to_string(),
                line,
                text: t.to_string(),
            });
            return;
        }
        if matches!(
            first,
            "User_Alias" | "Runas_Alias" | "Host_Alias" | "Cmnd_Alias" | "Cmd_Alias"
        ) {
            if first.starts_with("Cmnd") || first.starts_with("Cmd") {
                // `Cmnd_Alias A = x, y : B = z`
                for def in t[first.len()..].split(':') {
                    if let Some((name, value)) = def.split_once('=') {
                        self.aliases
                            .insert(name.trim().to_string(), value.trim().to_string());
                    }
                }
            }
            return;
        }
        let Some((left, right)) = t.split_once('=') else {
            return;
        };
        let mut words: Vec<&str> = left.split_whitespace().collect();
        // The last word before `=` is the host list.
        words.pop();
        let principals = words.join(" ");
        if principals.is_empty() {
            return;
        }
        let (nopasswd, all_commands) = judge_commands(right, &self.aliases);
        self.out.rules.push(Rule {
            file: file.to_string(),
            line,
            principals,
            text: t.to_string(),
            nopasswd,
            all_commands,
        });
    }
}

const TAGS: &[&str] = &[
    "NOPASSWD",
    "PASSWD",
    "NOEXEC",
    "EXEC",
    "SETENV",
    "NOSETENV",
    "LOG_INPUT",
    "NOLOG_INPUT",
    "LOG_OUTPUT",
    "NOLOG_OUTPUT",
    "MAIL",
    "NOMAIL",
    "FOLLOW",
    "NOFOLLOW",
    "INTERCEPT",
    "NOINTERCEPT",
];

/// (NOPASSWD anywhere, some command is ALL) for the right side of a user specification.
fn judge_commands(right: &str, aliases: &HashMap<String, String>) -> (bool, bool) {
    let mut nopasswd = false;
    let mut all = false;
    // Runas lists `(root : ALL)` contain a colon that is not a host-spec separator.
    let mut cleaned = String::new();
    let mut depth = 0;
    for c in right.chars() {
        match c {
            '(' => depth += 1,
            ')' => depth -= 1,
            _ if depth > 0 => {}
            _ => cleaned.push(c),
        }
    }
    for cmd in cleaned.split(',') {
        let mut rest = cmd.trim();
        // Host-spec continuation: `ALL = /bin/ls : db = ALL`.
        if let Some((_, after)) = rest.rsplit_once('=') {
            if !rest.starts_with('/') {
                rest = after.trim();
            }
        }
        while let Some((tag, after)) = rest.split_once(':') {
            let tag = tag.trim();
            if TAGS.contains(&tag) {
                if tag == "NOPASSWD" {
                    nopasswd = true;
                }
                rest = after.trim();
            } else {
                break;
            }
        }
        let rest = rest.trim_start_matches('!').trim();
        let name = rest.split_whitespace().next().unwrap_or("");
        if name == "ALL"
            || aliases
                .get(name)
                .is_some_and(|v| v.split(',').any(|c| c.trim() == "ALL"))
        {
            all = true;
        }
    }
    (nopasswd, all)
}

/// Joins backslash continuations; returns (first line number, text).
fn logical_lines(text: &str) -> Vec<(u64, String)> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut start = 0u64;
    for (i, raw) in text.lines().enumerate() {
        if cur.is_empty() {
            start = i as u64 + 1;
        }
        match raw.strip_suffix('\\') {
            Some(part) => {
                cur.push_str(part);
                cur.push(' ');
            }
            None => {
                cur.push_str(raw);
                out.push((start, std::mem::take(&mut cur)));
            }
        }
    }
    if !cur.is_empty() {
        out.push((start, cur));
    }
    out
}

/// Removes a comment: `#` starts one unless followed by a digit (`#1000` is a uid).
fn strip_comment(s: &str) -> &str {
    let b = s.as_bytes();
    for (i, &c) in b.iter().enumerate() {
        if c == b'#' && !b.get(i + 1).is_some_and(|n| n.is_ascii_digit()) {
            return s[..i].trim();
        }
    }
    s.trim()
}

fn relative_to(file: &str, path: &str) -> String {
    if path.starts_with('/') {
        return path.to_string();
    }
    let dir = file.rsplit_once('/').map(|(d, _)| d).unwrap_or("");
    format!("{dir}/{path}")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn aliases() -> HashMap<String, String> {
        let mut m = HashMap::new();
        m.insert("EVERYTHING".into(), "ALL".into());
        m
    }

    #[test]
    fn commands_and_tags() {
        assert_eq!(judge_commands(" (ALL:ALL) ALL", &aliases()), (false, true));
        assert_eq!(judge_commands(" (ALL) NOPASSWD: ALL", &aliases()), (true, true));
        assert_eq!(
            judge_commands(" NOPASSWD: /usr/bin/systemctl restart nginx", &aliases()),
            (true, false)
        );
        assert_eq!(
            judge_commands(" (root) NOPASSWD:SETENV: EVERYTHING", &aliases()),
            (true, true)
        );
        assert_eq!(judge_commands(" /bin/ls, /bin/cat", &aliases()), (false, false));
    }

    #[test]
    fn comments_and_continuations() {
        assert_eq!(
            strip_comment("alice ALL=(ALL) ALL # admin"),
            "alice ALL=(ALL) ALL"
        );
        assert_eq!(strip_comment("#1000 ALL=(ALL) ALL"), "#1000 ALL=(ALL) ALL");
        let l = logical_lines("a \\\n b\nc\n");
        assert_eq!(l, vec![(1, "a   b".to_string()), (3, "c".to_string())]);
    }
}
