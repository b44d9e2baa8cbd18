//! File-level capability profiles: what a PHP file can do, taken together. All-in-one shells
//! (file managers, SQL clients, mailers, command consoles) show many unrelated capabilities
//! of server administration in one script, each harmless alone; obfuscators leave traces of
//! their own (bitwise string arithmetic); reverse shells pair a socket with a shell.

use super::*;

/// One capability: its label and the identifiers (called functions) that show it.
const PHP_CAPABILITIES: &[(&str, &[&str])] = &[
    (
        "commands",
        &[
            "system",
            "exec",
            "passthru",
            "shell_exec",
            "popen",
            "proc_open",
            "pcntl_exec",
        ],
    ),
    ("uploads", &["move_uploaded_file"]),
    (
        "directory listing",
        &["opendir", "readdir", "scandir", "glob", "dir"],
    ),
    ("file writing", &["fwrite", "fputs", "file_put_contents"]),
    ("file removal", &["unlink", "rmdir"]),
    ("permission changes", &["chmod", "chown", "chgrp", "touch"]),
    (
        "system probing",
        &[
            "posix_getpwuid",
            "posix_getgrgid",
            "posix_geteuid",
            "posix_uname",
            "php_uname",
            "getmyuid",
            "get_current_user",
            "disk_free_space",
            "disk_total_space",
        ],
    ),
    (
        "sockets",
        &[
            "fsockopen",
            "pfsockopen",
            "socket_create",
            "stream_socket_client",
            "stream_socket_server",
        ],
    ),
    (
        "database client",
        &[
            "mysql_connect",
            "mysqli_connect",
            "mysql_query",
            "pg_connect",
            "mssql_connect",
            "oci_connect",
        ],
    ),
    ("mail", &["mail"]),
    ("code evaluation", &["eval", "assert", "create_function"]),
];

/// Strings a server-administration shell mentions and applications do not.
const SHELL_STRINGS: &[(&str, &[u8])] = &[
    ("reads /etc/passwd", b"/etc/passwd"),
    ("probes safe_mode", b"safe_mode"),
    ("probes disable_functions", b"disable_functions"),
    ("probes open_basedir", b"open_basedir"),
];

impl Ctx<'_> {
    pub(super) fn php_profile(&mut self, has_source: bool) {
        let mut caps: Vec<&'static str> = Vec::new();
        let mut seen = HashSet::new();
        let mut shell_literal = false;
        let mut reverse_literal = false;
        let mut bitwise_literals = 0u32;
        // Non-alphanumeric obfuscation: variables named `$_`, `$__` … bumped with `++`
        // (string increment walks the alphabet) and finally called.
        let (mut under_vars, mut under_bumps, mut under_calls, mut vars) = (0u32, 0u32, 0u32, 0u32);
        let mut xsl_exec: Option<(usize, String)> = None;
        let mut php_functions = false;
        for k in 0..self.toks.len() {
            match self.tok(k) {
                Some(Tok::Var(v)) => {
                    vars += 1;
                    if !v.is_empty() && v.bytes().all(|b| b == b'_') {
                        under_vars += 1;
                        if matches!(self.tok(k + 1), Some(Tok::Op("++" | "--")))
                            || matches!(self.tok(k.wrapping_sub(1)), Some(Tok::Op("++" | "--")))
                        {
                            under_bumps += 1;
                        }
                        let mut j = k + 1;
                        while matches!(self.tok(j), Some(Tok::Op("[" | "{"))) && j < k + 64 {
                            match matching(self.toks, j, self.toks.len().min(j + 256)) {
                                Some(c) => j = c + 1,
                                None => break,
                            }
                        }
                        if matches!(self.tok(j), Some(Tok::Op("(")))
                            && !matches!(self.tok(k.wrapping_sub(1)), Some(Tok::Op("->" | "::")))
                        {
                            under_calls += 1;
                        }
                    }
                }
                Some(Tok::Ident(f)) if f == "registerphpfunctions" => php_functions = true,
                _ => {}
            }
            match self.tok(k) {
                Some(Tok::Ident(f))
                    if matches!(self.tok(k + 1), Some(Tok::Op("("))) && !self.prev_is_member(k) =>
                {
                    for (label, names) in PHP_CAPABILITIES {
                        if names.contains(&f.as_str()) && seen.insert(*label) {
                            caps.push(label);
                        }
                    }
                }
                Some(Tok::Shell { .. }) if seen.insert("commands") => caps.push("commands"),
                Some(Tok::Str { val, .. }) => {
                    if val.len() < 200 {
                        for (label, s) in SHELL_STRINGS {
                            if lex_php::find(val, s).is_some() && seen.insert(*label) {
                                caps.push(label);
                            }
                        }
                        let l = val.to_ascii_lowercase();
                        if super::other_calls::is_reverse_shell_command(val) {
                            reverse_literal = true;
                        }
                        if lex_php::find(&l, b"/bin/sh").is_some()
                            || lex_php::find(&l, b"/bin/bash").is_some()
                            || lex_php::find(&l, b"cmd.exe").is_some()
                        {
                            shell_literal = true;
                        }
                    }
                    if xsl_exec.is_none() && val.len() > 20 {
                        if let Some(f) = xsl_php_function(val) {
                            xsl_exec = Some((k, f));
                        }
                    }
                    // `'a8C'^'L=x'`: a string computed from two literals by bit arithmetic.
                    if matches!(self.tok(k + 1), Some(Tok::Op("^" | "|" | "&")))
                        && matches!(self.tok(k + 2), Some(Tok::Str { .. } | Tok::Op("~")))
                    {
                        bitwise_literals += 1;
                    }
                }
                _ => {}
            }
        }
        if bitwise_literals >= 6 && !self.binary {
            self.reason(
                "deobf.string-bitwise",
                if bitwise_literals >= 15 { 100 } else { 60 },
                0,
                format!("{bitwise_literals} strings computed by XOR/AND/OR of literals"),
            );
        }
        if under_calls > 0 && (under_bumps >= 8 || under_vars >= 20 && under_vars * 10 >= vars * 9) {
            self.reason(
                "deobf.non-alnum",
                100,
                0,
                format!(
                    "code without letters: {under_vars} uses of `$_`-style variables, {under_bumps} string increments, called as functions"
                ),
            );
        }
        if let (Some((k, f)), true) = (xsl_exec, php_functions) {
            self.reason(
                "php.xslt-callback",
                100,
                k,
                format!("an XSL stylesheet calls PHP's `{f}` (php:function) and the file enables PHP functions in XSLT"),
            );
        }
        if seen.contains("commands") && (reverse_literal || shell_literal && seen.contains("sockets")) {
            self.reason(
                "capability.reverse-shell",
                100,
                0,
                "connects a socket and runs a shell interpreter".into(),
            );
        }
        let n = caps.len();
        // Big single-file admin tools (Adminer) and libraries (cacti) reach 7–9 as well: the
        // profile only adds to flows and other signals, and only with a dangerous core.
        let core = ["commands", "uploads", "code evaluation"]
            .iter()
            .any(|c| seen.contains(c));
        if n >= 4 && has_source && core {
            let w = match n {
                4 => 10,
                5 => 20,
                6 => 35,
                7 => 50,
                _ => 60,
            };
            self.reason(
                "capability.profile",
                w,
                0,
                format!("{n} shell capabilities in one file: {}", caps.join(", ")),
            );
        }
    }
}

/// The exec function an XSL stylesheet calls through `php:function('assert', …)` (any
/// namespace prefix bound to http://php.net/xsl).
fn xsl_php_function(val: &[u8]) -> Option<String> {
    let mut from = 0;
    // XPath function names are case-sensitive: `php:function(` as written.
    while let Some(p) = lex_php::find(&val[from..], b"function(") {
        let at = from + p;
        from = at + 9;
        if at == 0 || val[at - 1] != b':' {
            continue;
        }
        let rest = &val[from..];
        let name: Vec<u8> = rest
            .iter()
            .skip_while(|b| matches!(b, b' ' | b'\'' | b'"' | b'\\'))
            .take_while(|b| crate::token::is_ident_byte(**b))
            .copied()
            .collect();
        if let Some(d) = is_exec_name(&name) {
            return Some(d.to_string());
        }
    }
    None
}
