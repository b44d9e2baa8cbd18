//! authorized_keys lines: options, key type and comment. The key material itself is
//! never kept.

/// One key line, without the key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Key {
    pub line: u64,
    pub key_type: String,
    pub comment: String,
    /// Option names (`from`, `command`, `restrict`…).
    pub options: Vec<String>,
    /// The value of `command="…"`, if any.
    pub command: Option<String>,
}

impl Key {
    pub fn has_option(&self, name: &str) -> bool {
        self.options.iter().any(|o| o == name)
    }
}

#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct KeyFile {
    pub keys: Vec<Key>,
    /// Lines that are neither comments nor keys (garbage, truncated keys).
    pub bad_lines: Vec<u64>,
}

fn is_key_type(s: &str) -> bool {
    s.starts_with("ssh-")
        || s.starts_with("ecdsa-sha2-")
        || s.starts_with("sk-ssh-")
        || s.starts_with("sk-ecdsa-")
}

/// Splits off the options field, which may contain quoted strings with spaces.
fn split_options(s: &str) -> (&str, &str) {
    let mut in_quote = false;
    let mut escaped = false;
    for (i, c) in s.char_indices() {
        if escaped {
            escaped = false;
            continue;
        }
        match c {
            '\\' => escaped = true,
            '"' => in_quote = !in_quote,
            c if c.is_whitespace() && !in_quote => return (&s[..i], s[i..].trim_start()),
            _ => {}
        }
    }
    (s, "")
}

/// Option names and the command= value of an options field.
fn parse_options(opts: &str) -> (Vec<String>, Option<String>) {
    let mut names = Vec::new();
    let mut command = None;
    let mut cur = String::new();
    let mut in_quote = false;
    let mut parts = Vec::new();
    for c in opts.chars() {
        match c {
            '"' => {
                in_quote = !in_quote;
                cur.push(c);
            }
            ',' if !in_quote => parts.push(std::mem::take(&mut cur)),
            _ => cur.push(c),
        }
    }
    parts.push(cur);
    for p in parts {
        let (name, value) = match p.split_once('=') {
            Some((n, v)) => (
                n.trim().to_ascii_lowercase(),
                Some(v.trim().trim_matches('"').to_string()),
            ),
            None => (p.trim().to_ascii_lowercase(), None),
        };
        if name == "command" {
            command = value;
        }
        if !name.is_empty() {
            names.push(name);
        }
    }
    (names, command)
}

pub fn parse(text: &str) -> KeyFile {
    let mut out = KeyFile::default();
    for (i, raw) in text.lines().enumerate() {
        let line = i as u64 + 1;
        let l = raw.trim();
        if l.is_empty() || l.starts_with('#') {
            continue;
        }
        let (options, rest) = match l.split_whitespace().next() {
            Some(first) if is_key_type(first) => ("", l),
            _ => split_options(l),
        };
        let mut words = rest.split_whitespace();
        let (Some(key_type), Some(blob)) = (words.next(), words.next()) else {
            out.bad_lines.push(line);
            continue;
        };
        if !is_key_type(key_type)
            || !blob
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"+/=".contains(&b))
        {
            out.bad_lines.push(line);
            continue;
        }
        let (options, command) = parse_options(options);
        out.keys.push(Key {
            line,
            key_type: key_type.to_string(),
            comment: words.collect::<Vec<_>>().join(" "),
            options: if options.iter().all(|o| o.is_empty()) {
                Vec::new()
            } else {
                options
            },
            command,
        });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_with_and_without_options() {
        let f = parse(
            "# comment\n\
             ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIB alice@laptop\n\
             from=\"10.0.0.0/8\",command=\"/usr/bin/backup --run now\",no-pty ssh-rsa AAAAB3NzaC1yc2E= backup key\n\
             garbage line here\n\
             ssh-rsa\n",
        );
        assert_eq!(f.keys.len(), 2);
        assert_eq!(f.keys[0].key_type, "ssh-ed25519");
        assert_eq!(f.keys[0].comment, "alice@laptop");
        assert!(f.keys[0].options.is_empty());
        assert_eq!(f.keys[1].options, vec!["from", "command", "no-pty"]);
        assert_eq!(f.keys[1].command.as_deref(), Some("/usr/bin/backup --run now"));
        assert_eq!(f.keys[1].comment, "backup key");
        assert_eq!(f.bad_lines, vec![4, 5]);
    }
}
