//! The sink pass: walks the tokens once and reports sources reaching sinks.

use super::*;

impl Ctx<'_> {
    /// Finds sinks; returns decoded payloads to analyse one layer down.
    pub(super) fn sinks(&mut self) -> Vec<(u32, Vec<&'static str>, Vec<u8>)> {
        let mut payloads: Vec<(u32, Vec<&'static str>, Vec<u8>)> = Vec::new();
        let mut covered_until = 0usize;
        let n = self.toks.len();
        let mut has_source = false;
        let mut cmd_sinks: HashSet<String> = HashSet::new();
        let mut code_sink_var = false;
        if self.flavor == Flavor::Php {
            self.exec_literal = (0..n).any(|k| self.is_exec_literal(k));
        }
        for i in 0..n {
            if !has_source && self.is_source(i).is_some() {
                has_source = true;
            }
            let tok = self.toks[i].tok.clone();
            match &tok {
                Tok::Ident(name) => {
                    let call = matches!(self.tok(i + 1), Some(Tok::Op("(")));
                    if i > 0 && self.toks[i - 1].is_ident("function") {
                        continue;
                    }
                    // Decoders with constant input: the payload is analysed again.
                    if call
                        && is_decoder(name)
                        && i >= covered_until
                        && !self.is_code_sink_arg(i)
                        && !matches!(
                            name.as_str(),
                            "chr"
                                | "chrw"
                                | "chrb"
                                | "trim"
                                | "strtolower"
                                | "strtoupper"
                                | "decode"
                                | "getstring"
                                | "substr"
                        )
                    {
                        let ev = self.evaluator();
                        if let Some((v, j)) = ev.concat(i, n, 0) {
                            covered_until = j;
                            let decoded = v.steps.iter().any(|s| {
                                matches!(
                                    *s,
                                    "base64_decode"
                                        | "gzinflate"
                                        | "gzuncompress"
                                        | "gzdecode"
                                        | "str_rot13"
                                        | "hex2bin"
                                        | "unescape"
                                        | "frombase64string"
                                        | "decodebuffer"
                                        | "pack"
                                        | "convert_uudecode"
                                )
                            });
                            if decoded && v.bytes.len() < 200 && names_request_input(&v.bytes) {
                                self.reason(
                                    "deobf.hidden-source",
                                    100,
                                    i,
                                    format!(
                                        "request input `{}` hidden by {}",
                                        String::from_utf8_lossy(&v.bytes).trim(),
                                        v.steps.join(" ← ")
                                    ),
                                );
                            }
                            if decoded && decode::looks_like_code(&v.bytes) && payloads.len() < 64 {
                                payloads.push((self.line(i), v.steps.clone(), v.bytes));
                            } else if let Some(d) = is_dangerous_name(&v.bytes) {
                                if v.steps.len() + v.pieces > 1 {
                                    self.reason(
                                        "deobf.hidden-name",
                                        100,
                                        i,
                                        format!("`{d}` built by {}", v.steps.join("(")),
                                    );
                                }
                            }
                        }
                    }
                    if self.flavor == Flavor::Php {
                        self.php_call(i, name, call, &mut payloads, &mut cmd_sinks, &mut code_sink_var);
                    } else {
                        self.other_call(i, name, call, &mut payloads, &mut cmd_sinks, &mut code_sink_var);
                    }
                }
                Tok::Var(v) if v == "$" && matches!(self.tok(i + 1), Some(Tok::Op("{"))) => {
                    if let Some(c) = matching(self.toks, i + 1, n) {
                        let mut k = c + 1;
                        while matches!(self.tok(k), Some(Tok::Op("["))) {
                            match matching(self.toks, k, n) {
                                Some(e) => k = e + 1,
                                None => break,
                            }
                        }
                        if matches!(self.tok(k), Some(Tok::Op("("))) {
                            let ev = self.evaluator();
                            let name = ev
                                .concat(i + 2, c, 0)
                                .filter(|(_, j)| *j == c)
                                .map(|(v, _)| v.bytes);
                            match name.as_deref().and_then(is_exec_name) {
                                Some(d) => self.reason(
                                    "php.variable-function",
                                    100,
                                    i,
                                    format!("${{...}} names `{d}` and is called"),
                                ),
                                None => self.reason(
                                    "php.varvar-call",
                                    100,
                                    i,
                                    "calls a function taken from a variable variable ${...}".into(),
                                ),
                            }
                        }
                    }
                }
                Tok::Var(v) => {
                    // $f(...): a variable function.
                    if matches!(self.tok(i + 1), Some(Tok::Op("(")))
                        && !(i > 0 && matches!(self.tok(i - 1), Some(Tok::Op("->" | "::"))))
                        && !(i > 0 && self.toks[i - 1].is_ident("new"))
                    {
                        self.dynamic_call(i, Some(v.clone()), i + 1);
                    }
                    // $_POST['x'](...) / $a['b'](...)
                    if matches!(self.tok(i + 1), Some(Tok::Op("["))) {
                        let mut k = i + 1;
                        let mut guard = 0;
                        while matches!(self.tok(k), Some(Tok::Op("["))) && guard < 8 {
                            match matching(self.toks, k, n) {
                                Some(c) => k = c + 1,
                                None => break,
                            }
                            guard += 1;
                        }
                        if matches!(self.tok(k), Some(Tok::Op("("))) && k > i + 1 && self.exec_literal {
                            if let Some(c) = matching(self.toks, k, n) {
                                if let Some(src) = self.tainted_in(k + 1, c) {
                                    self.reason("php.flow.dynamic-call", 100, i, format!("array element called with request input {src} in a file that names an exec function"));
                                }
                            }
                        }
                        if matches!(self.tok(k), Some(Tok::Op("("))) && k > i + 1 {
                            if let Some(src) = self.tainted_in(i, k) {
                                self.reason(
                                    "php.flow.dynamic-call",
                                    100,
                                    i,
                                    format!("request input {src} called as a function"),
                                );
                            }
                        }
                    }
                }
                Tok::Shell { vars, .. } => {
                    cmd_sinks.insert("`backticks`".into());
                    let hit = vars
                        .iter()
                        .find(|v| PHP_SUPERGLOBALS.contains(&v.as_str()) || self.is_tainted(i, v))
                        .cloned();
                    if let Some(v) = hit {
                        self.reason(
                            "php.flow.command",
                            100,
                            i,
                            format!("request input ${v} in a backtick shell command"),
                        );
                    }
                }
                Tok::Str { val, vars }
                    if self.flavor == Flavor::Php
                        && vars.is_empty()
                        && val.len() < 2048
                        && !matches!(self.tok(i.wrapping_sub(1)), Some(Tok::Op(".")))
                        && matches!(self.tok(i + 1), Some(Tok::Op("."))) =>
                {
                    // `'as'.'se'.'rt'` anywhere: a function name assembled to dodge signatures.
                    let ev = self.evaluator();
                    if let Some((v, _)) = ev.concat(i, n, 0) {
                        if v.pieces >= 2 {
                            if let Some(d) = is_exec_name(&v.bytes) {
                                self.reason(
                                    "deobf.hidden-name",
                                    100,
                                    i,
                                    format!("`{d}` assembled from {} pieces", v.pieces),
                                );
                            }
                        }
                    }
                }
                Tok::Str { val, vars }
                    if val.len() >= 16
                        && val.len() < 2048
                        && (lex_php::find(val, b"<?php").is_some()
                            || lex_php::find(val, b"<?=").is_some()) =>
                {
                    // PHP code inside a string: a dropper writes it somewhere; analyse it too.
                    let _ = vars;
                    if payloads.len() < 64 {
                        payloads.push((self.line(i), vec!["string literal"], val.clone()));
                    }
                }
                Tok::Str { val, vars }
                    if vars.is_empty()
                        && (16..2048).contains(&val.len())
                        && i >= covered_until
                        && payloads.len() < 64 =>
                {
                    // A short encoded literal that decodes to a one-line shell, to be written
                    // somewhere or evaluated later (`<?php @eval($_POST[x]);?>` in base64 or hex).
                    if let Some((step, plain)) = decode_small_literal(val) {
                        payloads.push((self.line(i), vec![step], plain));
                    }
                }
                Tok::Str { val, vars } if vars.is_empty() && val.len() >= 2048 => {
                    let trimmed = val.trim_ascii();
                    if decode::base64_share(trimmed) > 0.98 && !trimmed.contains(&b' ') {
                        let head = decode::base64(&trimmed[..trimmed.len().min(64)]);
                        let image = head.starts_with(b"\x89PNG")
                            || head.starts_with(b"GIF8")
                            || head.starts_with(b"\xff\xd8")
                            || head.starts_with(b"PK");
                        if !image {
                            self.reason(
                                "blob.encoded",
                                if val.len() > 20_000 { 60 } else { 40 },
                                i,
                                format!("{}-byte encoded string", val.len()),
                            );
                            if i >= covered_until && payloads.len() < 64 {
                                // Try the obvious decodings; analyse whatever looks like code.
                                let b = decode::base64(trimmed);
                                let (steps, plain) = if decode::looks_like_code(&b) {
                                    (vec!["base64_decode"], b)
                                } else {
                                    match decode::any_deflate(&b) {
                                        Some(d) => (vec!["base64_decode", "gzinflate"], d),
                                        None => (vec!["base64_decode"], b),
                                    }
                                };
                                let program = embedded_program(&plain);
                                if program.is_none() && decode::looks_like_code(&plain) {
                                    payloads.push((self.line(i), steps, plain));
                                }
                                if let Some(what) = program {
                                    self.reason(
                                        "blob.program",
                                        60,
                                        i,
                                        format!("{}-byte encoded string holds {what}", val.len()),
                                    );
                                }
                            }
                        }
                    } else if decode::entropy(val) > 5.5 && !val.contains(&b' ') {
                        self.reason(
                            "blob.entropy",
                            20,
                            i,
                            format!("{}-byte high-entropy string", val.len()),
                        );
                    }
                }
                _ => {}
            }
        }
        if self.flavor == Flavor::Php {
            self.php_profile(has_source);
            let hit = if self.written_paths.is_empty() {
                None
            } else {
                let ev = self.evaluator();
                self.included_paths.iter().find_map(|&(at, (mut a, b))| {
                    while matches!(self.tok(a), Some(Tok::Op("(" | "@"))) {
                        a += 1;
                    }
                    let (v, _) = ev.concat(a, b, 0)?;
                    self.written_paths.contains(&v.bytes).then_some((at, v.bytes))
                })
            };
            if let Some((at, p)) = hit {
                self.reason(
                    "php.flow.code",
                    100,
                    at,
                    format!(
                        "includes {}, a file this script writes request input into",
                        String::from_utf8_lossy(&p)
                    ),
                );
            }
        }
        if self.fs_ops.len() >= 4 {
            let mut ops: Vec<_> = self.fs_ops.iter().cloned().collect();
            ops.sort();
            let w = if self.fs_ops.len() >= 5 { 100 } else { 40 };
            self.reason(
                "php.file-manager",
                w,
                0,
                format!("request input names the files of {}", ops.join(", ")),
            );
        }
        if has_source && !cmd_sinks.is_empty() {
            let mut names: Vec<_> = cmd_sinks.iter().cloned().collect();
            names.sort();
            // A JSP or ASP page that runs OS commands and reads the request is a shell; PHP
            // applications (cacti, zabbix …) legitimately do both.
            let w = if self.flavor != Flavor::Php {
                100
            } else if cmd_sinks.len() >= 3 {
                45
            } else {
                30
            };
            self.reason(
                "capability.command",
                w,
                0,
                format!("runs commands ({}) and reads request input", names.join(", ")),
            );
        }
        if has_source && code_sink_var {
            self.reason(
                "capability.code",
                if self.flavor == Flavor::Php { 30 } else { 70 },
                0,
                "evaluates non-constant code and reads request input".into(),
            );
        }
        payloads
    }

    /// The first variable of `r` that is read in global scope but never assigned, bound or
    /// declared anywhere in the file (register_globals shells take their input that way).
    pub(super) fn unbound_global(&self, r: (usize, usize)) -> Option<String> {
        for k in r.0..r.1.min(self.toks.len()) {
            if let Some(Tok::Var(v)) = self.tok(k) {
                if self.scope.get(k) == Some(&0)
                    && v != "$"
                    && v != "this"
                    && !PHP_SUPERGLOBALS.contains(&v.as_str())
                    && !matches!(
                        v.as_str(),
                        "_server" | "_env" | "_session" | "globals" | "argv" | "argc"
                    )
                    && !self.assigned.contains(v)
                    && !self.bound_elsewhere(v)
                {
                    return Some(v.clone());
                }
            }
        }
        None
    }

    /// Bound by foreach, list(), global, static, catch or a parameter anywhere in the file.
    pub(super) fn bound_elsewhere(&self, v: &str) -> bool {
        self.toks.iter().enumerate().any(|(k, t)| {
            matches!(&t.tok, Tok::Var(x) if x == v)
                && (self.scope.get(k) != Some(&0)
                    || matches!(self.tok(k.wrapping_sub(1)), Some(Tok::Ident(w)) if matches!(w.as_str(), "as" | "global" | "static" | "list"))
                    || matches!(self.tok(k.wrapping_sub(1)), Some(Tok::Op("=>" | "&" | "[")))
                    // An out parameter comes last: `preg_match($re, $s, $m)`, `exec($c, $out)`.
                    || matches!(self.tok(k.wrapping_sub(1)), Some(Tok::Op(",")))
                        && matches!(self.tok(k + 1), Some(Tok::Op(")")))
                    // `list($a, …)` / `catch (E $e)`; `empty($a)` and `isset($a)` only read.
                    || matches!(self.tok(k.wrapping_sub(1)), Some(Tok::Op("(")))
                        && matches!(self.tok(k.wrapping_sub(2)), Some(Tok::Ident(w)) if w == "list" || w == "catch")
                    || matches!(self.tok(k + 1), Some(Tok::Op("=" | "++" | "--" | "->" | "[")) ))
        })
    }

    pub(super) fn has_any_source(&self) -> bool {
        (0..self.toks.len()).any(|k| self.is_source(k).is_some())
    }

    /// A string literal that is exactly an exec function's name, not inside a feature check
    /// (`function_exists('exec')`) or a comparison.
    pub(super) fn is_exec_literal(&self, k: usize) -> bool {
        let Some(Tok::Str { val, vars }) = self.tok(k) else {
            return false;
        };
        if !vars.is_empty() || val.len() > 16 || is_exec_name(val).is_none() {
            return false;
        }
        if matches!(
            self.tok(k + 1),
            Some(Tok::Op("." | "==" | "===" | "!=" | "!==" | "=>" | ")" | "]"))
        ) && !matches!(self.tok(k + 1), Some(Tok::Op(")" | "]")))
        {
            return false;
        }
        if matches!(
            self.tok(k.wrapping_sub(1)),
            Some(Tok::Op("." | "==" | "===" | "!=" | "!==" | "["))
        ) || self
            .toks
            .get(k.wrapping_sub(1))
            .is_some_and(|t| t.is_ident("case"))
        {
            return false;
        }
        // Inside a call to a function that only inspects names.
        let mut depth = 0i32;
        let mut j = k;
        while j > 0 && k - j < 40 {
            j -= 1;
            match self.tok(j) {
                Some(Tok::Op(")" | "]")) => depth += 1,
                Some(Tok::Op("(" | "[")) => {
                    if depth == 0 {
                        // `f($x, array('k' => 'assert'))`: an array passed on; judge the call.
                        let arg_array = (self.toks[j].is_op("[")
                            || self
                                .toks
                                .get(j.wrapping_sub(1))
                                .is_some_and(|t| t.is_ident("array")))
                            && matches!(
                                self.tok(j.wrapping_sub(if self.toks[j].is_op("[") { 1 } else { 2 })),
                                Some(Tok::Op("," | "("))
                            );
                        if arg_array {
                            continue;
                        }
                        if let Some(Tok::Ident(f)) = self.tok(j.wrapping_sub(1)) {
                            return !matches!(
                                f.as_str(),
                                "function_exists"
                                    | "is_callable"
                                    | "in_array"
                                    | "array_search"
                                    | "ini_get"
                                    | "strpos"
                                    | "stripos"
                                    | "str_contains"
                                    | "explode"
                                    | "define"
                                    | "defined"
                                    | "array_key_exists"
                                    | "method_exists"
                                    | "strcasecmp"
                                    | "strcmp"
                                    | "preg_match"
                                    | "str_replace"
                                    | "array"
                                    | "t"
                                    | "__"
                                    | "_e"
                                    | "gettext"
                                    | "_"
                                    | "sprintf"
                                    | "printf"
                                    | "echo"
                                    | "print"
                                    | "htmlspecialchars"
                            );
                        }
                        return true;
                    }
                    depth -= 1;
                }
                Some(Tok::Op(";" | "{" | "}")) | Some(Tok::End) => return true,
                _ => {}
            }
        }
        true
    }

    /// Whether the call at `i` is the direct argument of eval/assert/create_function, which
    /// evaluate (and decode) it themselves.
    pub(super) fn is_code_sink_arg(&self, i: usize) -> bool {
        let mut k = i;
        while k > 0 && matches!(self.tok(k - 1), Some(Tok::Op("@"))) {
            k -= 1;
        }
        k >= 2
            && matches!(self.tok(k - 1), Some(Tok::Op("(")))
            && matches!(self.tok(k - 2), Some(Tok::Ident(n)) if PHP_CODE_SINKS.contains(&n.as_str()))
    }

    pub(super) fn dynamic_call(&mut self, i: usize, var: Option<String>, open: usize) {
        let Some(v) = var else { return };
        let Some((_close, args)) = self.args(open) else {
            return;
        };
        // A name that resolves to an exec function is reported by name further down.
        let ordered = !self.consts.contains_key(&v);
        let known = match self.consts.get(&v) {
            Some(c) => c.clone(),
            None => self.seq_value(&v, i).map(<[u8]>::to_vec),
        };
        let resolved = matches!(&known, Some(val) if is_exec_name(val).is_some());
        if self.comment_vars.contains(&v) {
            self.reason(
                "deobf.doc-comment",
                100,
                i,
                format!("${v}, built from a doc comment read by reflection, is called as a function"),
            );
            return;
        }
        if self.computed_names.contains(&v) && !resolved {
            if let Some(src) = args.iter().find_map(|a| self.tainted_in(a.0, a.1)) {
                self.reason(
                    "php.flow.computed-call",
                    100,
                    i,
                    format!("${v}, a function name computed piece by piece, called with request input {src}"),
                );
                return;
            }
        }
        if self.is_tainted(i, &v) {
            self.reason(
                "php.flow.dynamic-call",
                100,
                i,
                format!("request input (via ${v}) called as a function"),
            );
            return;
        }
        if self.exec_literal && !self.consts.contains_key(&v) {
            if let Some(src) = args.iter().find_map(|a| self.tainted_in(a.0, a.1)) {
                self.reason(
                    "php.flow.dynamic-call",
                    100,
                    i,
                    format!("${v}(…) called with request input {src} in a file that names an exec function"),
                );
                return;
            }
        }
        if let Some(val) = known {
            if let Some(d) = is_exec_name(&val) {
                let src = args.iter().find_map(|a| self.tainted_in(a.0, a.1));
                match src {
                    Some(s) => self.reason(
                        "php.flow.variable-function",
                        100,
                        i,
                        format!("${v} is `{d}`, called with request input {s}"),
                    ),
                    // A variable set to one of several names (`$f = 'preg_replace'` or
                    // `'preg_replace_callback'`) is a dispatch, unless request input is passed.
                    None if ordered => {}
                    None => self.reason(
                        "php.variable-function",
                        100,
                        i,
                        format!("${v} is `{d}`, called through a variable"),
                    ),
                }
            }
        }
    }
}

/// A short decoded string that is itself a request access: `Request.Item["z"]`, `$_POST[x]`.
fn names_request_input(v: &[u8]) -> bool {
    let l = v.to_ascii_lowercase();
    let has = |p: &[u8]| lex_php::find(&l, p).is_some();
    has(b"request.item")
        || has(b"request.form")
        || has(b"request.querystring")
        || has(b"request[")
        || has(b"request(")
        || has(b"getparameter(")
        || has(b"$_post[")
        || has(b"$_get[")
        || has(b"$_request[")
        || has(b"$_cookie[")
}

/// Base64 or hex text that decodes to something with a PHP tag or a request superglobal.
fn decode_small_literal(val: &[u8]) -> Option<(&'static str, Vec<u8>)> {
    let t = val.trim_ascii();
    if t.contains(&b' ') {
        return None;
    }
    let (step, plain) = if t.len() % 2 == 0 && t.iter().all(u8::is_ascii_hexdigit) {
        ("hex2bin", decode::hex(t)?)
    } else if decode::base64_share(t) > 0.98 {
        ("base64_decode", decode::base64(t))
    } else {
        return None;
    };
    let l = plain.to_ascii_lowercase();
    let has = |p: &[u8]| lex_php::find(&l, p).is_some();
    (has(b"<?php")
        || has(b"$_post")
        || has(b"$_get[")
        || has(b"$_request")
        || has(b"eval(")
        || has(b"assert("))
    .then_some((step, plain))
}

/// Decoded bytes that are a native executable or a network script in another language:
/// the bind/back-connect kits shells drop to disk and run.
fn embedded_program(b: &[u8]) -> Option<&'static str> {
    if b.starts_with(b"\x7fELF") {
        return Some("a Linux executable");
    }
    if b.starts_with(b"MZ") && b.len() >= 64 {
        return Some("a Windows executable");
    }
    let l = b[..b.len().min(2048)].to_ascii_lowercase();
    let has = |p: &[u8]| lex_php::find(&l, p).is_some();
    (l.starts_with(b"#!") && (has(b"socket") || has(b"/bin/sh") || has(b"cmd.exe")))
        .then_some("a network script")
}
