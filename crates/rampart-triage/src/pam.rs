//! PAM configuration files as Linux-PAM reads them: `type control module args…` lines,
//! `[value=action …]` controls (which may contain spaces), `@include`, and the actions a
//! control maps each module result to. Shared by the password-policy check and the PAM
//! backdoor check.

use rampart_core::Evidence;
use std::collections::BTreeMap;

/// What a module returns; only the three an intruder without a password can cause.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ret {
    Success,
    AuthErr,
    Ignore,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    Ignore,
    Ok,
    Done,
    Bad,
    Die,
    Reset,
    Jump(usize),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Control {
    /// The actions for success, auth_err and ignore.
    Actions([Action; 3]),
    Include,
    Substack,
}

impl Control {
    pub fn parse(s: &str) -> Option<Control> {
        use Action::*;
        Some(match s {
            "required" => Control::Actions([Ok, Bad, Ignore]),
            "requisite" => Control::Actions([Ok, Die, Ignore]),
            "sufficient" => Control::Actions([Done, Ignore, Ignore]),
            "optional" => Control::Actions([Ok, Ignore, Ignore]),
            "include" => Control::Include,
            "substack" => Control::Substack,
            _ => {
                let inner = s.strip_prefix('[')?.strip_suffix(']')?;
                let mut map = BTreeMap::new();
                for pair in inner.split_whitespace() {
                    let (k, v) = pair.split_once('=')?;
                    let a = match v {
                        "ignore" => Ignore,
                        "ok" => Ok,
                        "done" => Done,
                        "bad" => Bad,
                        "die" => Die,
                        "reset" => Reset,
                        n => Jump(n.parse().ok()?),
                    };
                    map.insert(k.to_ascii_lowercase(), a);
                }
                // Linux-PAM starts every value at `bad`; `default` overrides the unnamed ones.
                let default = map.get("default").copied().unwrap_or(Bad);
                let of = |k: &str| map.get(k).copied().unwrap_or(default);
                Control::Actions([of("success"), of("auth_err"), of("ignore")])
            }
        })
    }

    pub fn action(&self, r: Ret) -> Action {
        match self {
            Control::Actions(a) => a[r as usize],
            // A substack's result counts like a required module's.
            _ => [Action::Ok, Action::Bad, Action::Ignore][r as usize],
        }
    }
}

/// One line of a PAM file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PamLine {
    pub file: String,
    pub line: u64,
    pub raw: String,
    /// `auth`, `account`, `password`, `session`; empty for `@include`.
    pub kind: String,
    pub control: Control,
    /// The module as written (a name or an absolute path); for include lines, the file.
    pub module: String,
    pub args: Vec<String>,
}

impl PamLine {
    /// The module's file name (`pam_unix.so`), whether written as a name or a path.
    pub fn name(&self) -> &str {
        self.module.rsplit('/').next().unwrap_or(&self.module)
    }

    /// Evidence pointing at this line, with `detail`.
    pub fn evidence(&self, detail: impl Into<String>) -> Evidence {
        Evidence::file(self.file.clone(), Some(self.line), detail)
    }

    /// The value of a `key=value` argument (the last one wins, as modules read them).
    pub fn arg(&self, key: &str) -> Option<&str> {
        self.args
            .iter()
            .rev()
            .find_map(|a| a.strip_prefix(key)?.strip_prefix('='))
    }

    pub fn flag(&self, key: &str) -> bool {
        self.args.iter().any(|a| a == key)
    }

    pub fn is_include(&self) -> bool {
        matches!(self.control, Control::Include | Control::Substack)
    }
}

/// Parses a PAM file; returns its lines and the numbers of lines PAM would reject.
pub fn parse(file: &str, text: &str) -> (Vec<PamLine>, Vec<u64>) {
    let mut lines = Vec::new();
    let mut bad = Vec::new();
    for (i, raw) in text.lines().enumerate() {
        let n = i as u64 + 1;
        let l = raw.trim();
        if l.is_empty() || l.starts_with('#') {
            continue;
        }
        if let Some(target) = l.strip_prefix("@include") {
            lines.push(PamLine {
                file: file.to_string(),
                line: n,
                raw: l.to_string(),
                kind: String::new(),
                control: Control::Include,
                module: target.trim().to_string(),
                args: Vec::new(),
            });
            continue;
        }
        let l = l.strip_prefix('-').unwrap_or(l);
        let Some((kind, rest)) = l.split_once(char::is_whitespace) else {
            bad.push(n);
            continue;
        };
        let rest = rest.trim_start();
        let (control, rest) = if rest.starts_with('[') {
            match rest.find(']') {
                Some(end) => (&rest[..=end], &rest[end + 1..]),
                None => {
                    bad.push(n);
                    continue;
                }
            }
        } else {
            rest.split_once(char::is_whitespace).unwrap_or((rest, ""))
        };
        let mut words = rest.split_whitespace();
        let (Some(control), Some(module)) = (Control::parse(control), words.next()) else {
            bad.push(n);
            continue;
        };
        lines.push(PamLine {
            file: file.to_string(),
            line: n,
            raw: l.to_string(),
            kind: kind.to_ascii_lowercase(),
            control,
            module: module.to_string(),
            args: words.map(str::to_string).collect(),
        });
    }
    (lines, bad)
}
