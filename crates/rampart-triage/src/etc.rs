//! The account files (`/etc/passwd`, `/etc/shadow`, `/etc/group`), parsed once.
//!
//! Password hashes are classified on parse and then dropped: nothing downstream can put
//! a hash into a finding because no hash is kept.

use rampart_core::{CheckError, HostRoot};

pub const PASSWD: &str = "/etc/passwd";
pub const SHADOW: &str = "/etc/shadow";
pub const GROUP: &str = "/etc/group";

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PasswdEntry {
    pub line: u64,
    pub name: String,
    /// The second field: `x` when the hash lives in shadow.
    pub password_field: HashKind,
    pub uid: u32,
    pub gid: u32,
    pub gecos: String,
    pub home: String,
    pub shell: String,
}

/// What kind of password a hash field holds. The hash itself is never kept.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HashKind {
    /// Empty field: login without a password.
    Empty,
    /// `x` in passwd: look in shadow.
    Shadowed,
    /// `!`, `*`, `!!` or a hash prefixed with `!`: no password login.
    Locked,
    Des,
    Md5,
    Bcrypt,
    Sha256,
    Sha512,
    Yescrypt,
    GostYescrypt,
    Scrypt,
    Unknown,
}

impl HashKind {
    pub fn classify(field: &str) -> HashKind {
        if field.is_empty() {
            return HashKind::Empty;
        }
        if field == "x" {
            return HashKind::Shadowed;
        }
        if field.starts_with('!') || field.starts_with('*') {
            return HashKind::Locked;
        }
        let scheme = field
            .strip_prefix('$')
            .and_then(|rest| rest.split('$').next())
            .unwrap_or("");
        match scheme {
            "1" => HashKind::Md5,
            "2a" | "2b" | "2y" | "2x" => HashKind::Bcrypt,
            "5" => HashKind::Sha256,
            "6" => HashKind::Sha512,
            "y" => HashKind::Yescrypt,
            "gy" => HashKind::GostYescrypt,
            "7" => HashKind::Scrypt,
            "" if field.len() == 13 && !field.starts_with('$') => HashKind::Des,
            _ => HashKind::Unknown,
        }
    }

    /// A hash that can be cracked quickly today.
    pub fn is_legacy(self) -> bool {
        matches!(self, HashKind::Des | HashKind::Md5)
    }

    /// A password that allows logging in (set and not locked).
    pub fn allows_login(self) -> bool {
        !matches!(self, HashKind::Locked | HashKind::Shadowed)
    }

    pub fn name(self) -> &'static str {
        match self {
            HashKind::Empty => "empty",
            HashKind::Shadowed => "shadowed",
            HashKind::Locked => "locked",
            HashKind::Des => "DES crypt",
            HashKind::Md5 => "MD5 crypt",
            HashKind::Bcrypt => "bcrypt",
            HashKind::Sha256 => "SHA-256 crypt",
            HashKind::Sha512 => "SHA-512 crypt",
            HashKind::Yescrypt => "yescrypt",
            HashKind::GostYescrypt => "gost-yescrypt",
            HashKind::Scrypt => "scrypt",
            HashKind::Unknown => "unknown scheme",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ShadowEntry {
    pub line: u64,
    pub name: String,
    pub hash: HashKind,
    /// Day of last change (days since 1970), when set.
    pub last_change: Option<u64>,
    pub max_days: Option<u64>,
    pub expire: Option<u64>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GroupEntry {
    pub line: u64,
    pub name: String,
    pub gid: u32,
    pub members: Vec<String>,
}

#[derive(Debug, Clone, Default)]
pub struct Accounts {
    pub passwd: Vec<PasswdEntry>,
    /// None when shadow could not be read (not root, or missing).
    pub shadow: Option<Vec<ShadowEntry>>,
    pub group: Vec<GroupEntry>,
}

impl Accounts {
    /// Reads and parses the three files; every bad line or unreadable file is an error
    /// naming it, and parsing goes on.
    pub fn load(host: &HostRoot) -> (Accounts, Vec<CheckError>) {
        let mut errors = Vec::new();
        let mut acc = Accounts::default();
        let mut err = |subject: String, message: String| {
            errors.push(CheckError {
                check: "accounts".into(),
                subject,
                message,
            })
        };
        match host.read_text(PASSWD) {
            Ok(text) => acc.passwd = parse_lines(PASSWD, &text, parse_passwd, &mut err),
            Err(e) => err(PASSWD.into(), e.to_string()),
        }
        match host.read_text(SHADOW) {
            Ok(text) => acc.shadow = Some(parse_lines(SHADOW, &text, parse_shadow, &mut err)),
            Err(e) if e.is_not_found() => {}
            Err(e) if e.is_permission_denied() => {}
            Err(e) => err(SHADOW.into(), e.to_string()),
        }
        match host.read_text(GROUP) {
            Ok(text) => acc.group = parse_lines(GROUP, &text, parse_group, &mut err),
            Err(e) => err(GROUP.into(), e.to_string()),
        }
        (acc, errors)
    }

    pub fn user(&self, name: &str) -> Option<&PasswdEntry> {
        self.passwd.iter().find(|p| p.name == name)
    }

    pub fn shadow_of(&self, name: &str) -> Option<&ShadowEntry> {
        self.shadow.as_ref()?.iter().find(|s| s.name == name)
    }

    pub fn group(&self, name: &str) -> Option<&GroupEntry> {
        self.group.iter().find(|g| g.name == name)
    }

    /// Members of a group: listed members plus users whose primary group it is.
    pub fn group_members(&self, name: &str) -> Vec<String> {
        let Some(g) = self.group(name) else {
            return Vec::new();
        };
        let mut v = g.members.clone();
        for p in &self.passwd {
            if p.gid == g.gid && !v.contains(&p.name) {
                v.push(p.name.clone());
            }
        }
        v
    }

    /// Home directory of a user, by name.
    pub fn home_of(&self, name: &str) -> Option<&str> {
        self.user(name).map(|p| p.home.as_str())
    }
}

fn parse_lines<T>(
    file: &str,
    text: &str,
    parse: fn(u64, &str) -> Result<T, String>,
    err: &mut impl FnMut(String, String),
) -> Vec<T> {
    let mut out = Vec::new();
    for (i, raw) in text.lines().enumerate() {
        let line = i as u64 + 1;
        let trimmed = raw.trim_end_matches('\r');
        // NIS compat entries and blank lines carry no local account.
        if trimmed.is_empty()
            || trimmed.starts_with('+')
            || trimmed.starts_with('-')
            || trimmed.starts_with('#')
        {
            continue;
        }
        match parse(line, trimmed) {
            Ok(v) => out.push(v),
            Err(msg) => err(format!("{file}:{line}"), format!("{file}:{line}: {msg}")),
        }
    }
    out
}

fn check_name(name: &str) -> Result<(), String> {
    if name.is_empty() {
        return Err("empty user name".into());
    }
    if name.chars().any(|c| c.is_control()) {
        return Err("user name contains control characters (binary garbage?)".into());
    }
    Ok(())
}

fn num<T: std::str::FromStr>(field: &str, what: &str) -> Result<T, String> {
    field
        .parse()
        .map_err(|_| format!("{what} {:?} is not a number", truncate(field)))
}

fn opt_num(field: &str, what: &str) -> Result<Option<u64>, String> {
    if field.is_empty() {
        Ok(None)
    } else {
        num(field, what).map(Some)
    }
}

fn truncate(s: &str) -> String {
    s.chars().take(32).collect()
}

pub fn parse_passwd(line: u64, s: &str) -> Result<PasswdEntry, String> {
    let f: Vec<&str> = s.split(':').collect();
    if f.len() != 7 {
        return Err(format!("expected 7 colon-separated fields, found {}", f.len()));
    }
    check_name(f[0])?;
    Ok(PasswdEntry {
        line,
        name: f[0].to_string(),
        password_field: HashKind::classify(f[1]),
        uid: num(f[2], "uid")?,
        gid: num(f[3], "gid")?,
        gecos: f[4].to_string(),
        home: f[5].to_string(),
        shell: f[6].to_string(),
    })
}

pub fn parse_shadow(line: u64, s: &str) -> Result<ShadowEntry, String> {
    let f: Vec<&str> = s.split(':').collect();
    if f.len() < 8 || f.len() > 9 {
        return Err(format!("expected 9 colon-separated fields, found {}", f.len()));
    }
    check_name(f[0])?;
    Ok(ShadowEntry {
        line,
        name: f[0].to_string(),
        hash: HashKind::classify(f[1]),
        last_change: opt_num(f[2], "last change")?,
        max_days: opt_num(f[4], "maximum age")?,
        expire: opt_num(f[7], "expiry")?,
    })
}

pub fn parse_group(line: u64, s: &str) -> Result<GroupEntry, String> {
    let f: Vec<&str> = s.split(':').collect();
    if f.len() != 4 {
        return Err(format!("expected 4 colon-separated fields, found {}", f.len()));
    }
    check_name(f[0])?;
    Ok(GroupEntry {
        line,
        name: f[0].to_string(),
        gid: num(f[2], "gid")?,
        members: f[3]
            .split(',')
            .filter(|m| !m.is_empty())
            .map(str::to_string)
            .collect(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hash_kinds() {
        assert_eq!(HashKind::classify(""), HashKind::Empty);
        assert_eq!(HashKind::classify("x"), HashKind::Shadowed);
        assert_eq!(HashKind::classify("!$y$j9T$abc"), HashKind::Locked);
        assert_eq!(HashKind::classify("*"), HashKind::Locked);
        assert_eq!(HashKind::classify("$1$salt$hash"), HashKind::Md5);
        assert_eq!(HashKind::classify("abJnggxhB/yWI"), HashKind::Des);
        assert_eq!(HashKind::classify("$y$j9T$salt$hash"), HashKind::Yescrypt);
        assert_eq!(HashKind::classify("$6$salt$hash"), HashKind::Sha512);
    }

    #[test]
    fn bad_lines_name_file_and_line() {
        let mut errs = Vec::new();
        let v = parse_lines(
            PASSWD,
            "root:x:0:0:root:/root:/bin/bash\n\u{1}\u{2}garbage\nbob:x:abc:1::/h:/bin/sh\n",
            parse_passwd,
            &mut |s, m| errs.push((s, m)),
        );
        assert_eq!(v.len(), 1);
        assert_eq!(errs.len(), 2);
        assert_eq!(errs[0].0, "/etc/passwd:2");
        assert!(errs[1].1.contains("uid \"abc\" is not a number"), "{:?}", errs[1]);
    }
}
