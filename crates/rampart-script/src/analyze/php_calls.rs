//! PHP calls: code, command, callback, include, upload and file-write sinks.

use super::*;

impl Ctx<'_> {
    /// What makes the code evaluated in `[a, b)` computed by the file itself: the result of a
    /// function called through a variable, of a function of this file fed a long constant
    /// (a custom decoder), or a variable assembled byte by byte in a decoding loop.
    pub(super) fn dynamic_code(&self, a: usize, b: usize) -> Option<String> {
        for k in a..b.min(self.toks.len()) {
            let after_member = k > 0 && matches!(self.tok(k - 1), Some(Tok::Op("->" | "::")));
            match self.tok(k)? {
                Tok::Var(v) if !after_member => {
                    let mut j = k + 1;
                    while matches!(self.tok(j), Some(Tok::Op("[" | "{"))) {
                        j = matching(self.toks, j, b)? + 1;
                    }
                    if matches!(self.tok(j), Some(Tok::Op("("))) && v != "this" {
                        return Some(format!("the result of a function called through ${v}"));
                    }
                    if self.remote_vars.contains(v) {
                        return Some(format!("${v}, fetched from a URL"));
                    }
                    if self.decoder_vars.contains(v) {
                        return Some(format!("${v}, assembled byte by byte in a decoding loop"));
                    }
                    if self.comment_vars.contains(v) {
                        return Some(format!("${v}, taken from a doc comment read by reflection"));
                    }
                }
                Tok::Ident(f) if !after_member && self.funcs.contains_key(f) => {
                    if !matches!(self.tok(k + 1), Some(Tok::Op("("))) {
                        continue;
                    }
                    // A file cut short inside the call: the rest of it is the argument.
                    let args = self.args(k + 1).map_or_else(|| vec![(k + 2, b)], |(_, a)| a);
                    let long = args.iter().any(|&(x, y)| {
                        (x..y).any(|t| match self.tok(t) {
                            Some(Tok::Str { val, .. }) => val.len() >= 64,
                            Some(Tok::Var(v)) => {
                                matches!(self.consts.get(v), Some(Some(c)) if c.len() >= 64)
                            }
                            _ => false,
                        })
                    });
                    if long {
                        return Some(format!("{f}() of this file applied to a long constant"));
                    }
                }
                _ => {}
            }
        }
        None
    }

    #[allow(clippy::too_many_arguments)]
    pub(super) fn php_call(
        &mut self,
        i: usize,
        name: &str,
        call: bool,
        payloads: &mut Vec<(u32, Vec<&'static str>, Vec<u8>)>,
        cmd_sinks: &mut HashSet<String>,
        code_sink_var: &mut bool,
    ) {
        if self.prev_is_member(i) || (i > 0 && self.toks[i - 1].is_ident("new")) {
            if call {
                if let Some((_, args)) = self.args(i + 1) {
                    let tainted = args.iter().find_map(|a| self.tainted_in(a.0, a.1));
                    // `new ReflectionFunction($_GET['f'])`: a function chosen by the request.
                    let method_cb = PHP_CALLBACK_METHODS
                        .iter()
                        .find(|(f, _)| *f == name)
                        .and_then(|(_, p)| args.get(*p).copied());
                    if let Some(src) = method_cb.and_then(|cb| self.tainted_in(cb.0, cb.1)) {
                        // `$db->sqliteCreateFunction('f', $_GET['cb'])`: SQL calls a function the
                        // request names.
                        self.reason(
                            "php.flow.callback",
                            100,
                            i,
                            format!("method {name}() registers a callback named by request input {src}"),
                        );
                    } else if name == "reflectionfunction" {
                        if let Some(src) = tainted {
                            self.reason(
                                "php.flow.callback",
                                100,
                                i,
                                format!("{name} of a function named by request input {src}"),
                            );
                        } else if self.has_any_source()
                            && args.iter().any(|a| (a.0..a.1).any(|k| self.is_exec_literal(k)))
                        {
                            // `(new ReflectionFunction('assert'))->invoke($_POST[x])`.
                            self.reason(
                                "php.flow.callback",
                                100,
                                i,
                                format!("{name} wraps an exec function in a file that reads request input"),
                            );
                        }
                    } else if (PHP_CALLBACKS.iter().any(|(f, _)| *f == name) || method_cb.is_some())
                        && self.has_any_source()
                        && args.iter().any(|a| (a.0..a.1).any(|k| self.is_exec_literal(k)))
                    {
                        // `$arrayObject->uasort('assert')`: a method given an exec function as callback.
                        self.reason(
                            "php.flow.callback",
                            100,
                            i,
                            format!("method {name}() gets an exec function's name as callback"),
                        );
                    }
                }
            }
            return;
        }
        let n = self.toks.len();
        // eval and include take an expression without parentheses.
        let (range, args) = if call {
            match self.args(i + 1) {
                Some((close, args)) => ((i + 2, close), args),
                // A file cut short inside `eval(`: the rest of it is the argument.
                None if PHP_CODE_SINKS.contains(&name) => ((i + 2, n), vec![(i + 2, n)]),
                None => return,
            }
        } else if matches!(
            name,
            "eval" | "include" | "include_once" | "require" | "require_once" | "print" | "echo"
        ) {
            let e = self.expr_end(i + 1);
            ((i + 1, e), vec![(i + 1, e)])
        } else {
            return;
        };
        let _ = n;
        if PHP_CODE_SINKS.contains(&name) {
            if name == "assert" && self.boolean_assertion(args.first().copied().unwrap_or(range)) {
                return;
            }
            if let Some(src) = self.tainted_in(range.0, range.1) {
                self.reason(
                    "php.flow.code",
                    100,
                    i,
                    format!("request input {src} reaches {name}()"),
                );
            }
            let ev = self.evaluator();
            let params = if name == "create_function" {
                args.first()
                    .and_then(|a| ev.concat(a.0, a.1, 0))
                    .map(|(v, _)| v.bytes)
            } else {
                None
            };
            let first = args.first().copied().unwrap_or(range);
            let arg = if name == "create_function" {
                args.get(1).copied().unwrap_or(first)
            } else {
                first
            };
            match ev.concat(arg.0, arg.1, 0) {
                Some((v, j)) if j == arg.1 => {
                    if !v.steps.is_empty() || v.pieces > 2 || v.bytes.len() > 200 {
                        self.reason(
                            "deobf.eval-decoded",
                            100,
                            i,
                            format!(
                                "{name}() of a decoded constant ({})",
                                if v.steps.is_empty() {
                                    "concatenation".to_string()
                                } else {
                                    v.steps.join(" ← ")
                                }
                            ),
                        );
                    }
                    if let Some(cmd) = runs_command(&v.bytes) {
                        self.reason(
                            "deobf.eval-command",
                            100,
                            i,
                            format!("{name}() of constant code that runs commands through {cmd}"),
                        );
                    }
                    if payloads.len() < 64 && v.bytes.len() >= 4 {
                        let mut body = v.bytes;
                        if name == "create_function" {
                            // The created function's parameters carry whatever it is called
                            // with; treat them as input so `assert($a)` inside is a flow.
                            if let Some(p) = &params {
                                let mut pre = Vec::new();
                                for part in p.split(|&b| b == b',') {
                                    let var = part.trim_ascii();
                                    if var.len() > 1
                                        && var[0] == b'$'
                                        && var[1..].iter().all(|&b| crate::token::is_ident_byte(b))
                                    {
                                        pre.extend_from_slice(var);
                                        pre.extend_from_slice(b" = $_REQUEST[0]; ");
                                    }
                                }
                                pre.extend_from_slice(&body);
                                body = pre;
                            }
                        }
                        payloads.push((self.line(i), vec![name_static(name)], body));
                    }
                }
                _ => {
                    // Non-constant code: a decoder inside is the classic packed shell.
                    let has_decoder = (arg.0..arg.1).any(|k| matches!(self.tok(k), Some(Tok::Ident(f)) if is_decoder(f) && !matches!(f.as_str(), "trim" | "strtolower")));
                    if has_decoder {
                        self.reason("deobf.eval-decoded", 100, i, format!("{name}() of decoded data"));
                    } else if name != "assert" || self.has_any_source() {
                        if let Some(what) = self.dynamic_code(arg.0, arg.1) {
                            self.reason("deobf.eval-dynamic", 100, i, format!("{name}() of {what}"));
                        }
                    }
                    if (arg.0..arg.1).any(|k| matches!(self.tok(k), Some(Tok::Var(_)))) {
                        *code_sink_var = true;
                    }
                }
            }
            return;
        }
        if PHP_CMD_SINKS.contains(&name) {
            cmd_sinks.insert(name.to_string());
            let arg = args.first().copied().unwrap_or(range);
            if let Some(src) = self.tainted_in(arg.0, arg.1) {
                self.reason(
                    "php.flow.command",
                    100,
                    i,
                    format!("request input {src} reaches {name}()"),
                );
            } else if let Some(v) = self.unbound_global(arg) {
                self.reason(
                    "php.flow.command-global",
                    100,
                    i,
                    format!(
                        "${v}, never set in this file (register_globals request input), reaches {name}()"
                    ),
                );
            }
            return;
        }
        if matches!(
            name,
            "unlink"
                | "rmdir"
                | "mkdir"
                | "chmod"
                | "rename"
                | "fopen"
                | "readfile"
                | "file_get_contents"
                | "opendir"
                | "scandir"
                | "touch"
                | "chdir"
                | "highlight_file"
                | "show_source"
                | "fpassthru"
                | "copy"
                | "move_uploaded_file"
                | "file_put_contents"
                | "chown"
                | "symlink"
        ) && args.first().is_some_and(|a| self.tainted_in(a.0, a.1).is_some())
        {
            self.fs_ops.insert(name.to_string());
            // The whole path is the request's: any file of the server, not one the code chose.
            // (Deleting or renaming a file the request names is what demo file browsers do.)
            if matches!(name, "chmod" | "chown" | "symlink")
                && args.first().is_some_and(|a| self.is_pure_value(a.0, a.1))
            {
                self.reason(
                    "php.flow.file-op",
                    100,
                    i,
                    format!("{name}() of a path that is a request value, whole"),
                );
            }
        }
        if matches!(name, "file_put_contents" | "fwrite" | "fputs") && payloads.len() < 64 {
            // Constant PHP code written to a file: the script it drops is analysed as a layer.
            // Only data that can hold an open tag: a literal with `<?` or a constant with one.
            let tagged = |k: usize| match self.tok(k) {
                Some(Tok::Str { val, .. }) => lex_php::find(val, b"<?").is_some(),
                Some(Tok::Var(v)) => {
                    matches!(self.consts.get(v), Some(Some(c)) if lex_php::find(c, b"<?").is_some())
                }
                _ => false,
            };
            if let Some(&(a, b)) = args.get(1).filter(|&&(a, b)| (a..b).any(tagged)) {
                let ev = self.evaluator();
                if let Some((v, j)) = ev.concat(a, b, 0) {
                    if j == b
                        && v.bytes.len() >= 16
                        && lex_php::has_open_tag(&v.bytes)
                        // A lone literal is analysed where it stands.
                        && !(b == a + 1 && matches!(self.tok(a), Some(Tok::Str { .. })))
                    {
                        payloads.push((self.line(i), vec!["written file"], v.bytes));
                    }
                }
            }
        }
        if matches!(
            name,
            "preg_replace" | "preg_filter" | "mb_ereg_replace" | "mb_eregi_replace"
        ) {
            let Some(pat) = args.first().copied() else { return };
            let ev = self.evaluator();
            let e_mod = match ev.concat(pat.0, pat.1, 0) {
                Some((v, _)) => regex_has_e(&v.bytes),
                None => false,
            } || (name.starts_with("mb_")
                && args.get(3).is_some_and(
                    |a| matches!(self.tok(a.0), Some(Tok::Str { val, .. }) if val.contains(&b'e')),
                ));
            if e_mod {
                let src = args.iter().skip(1).find_map(|a| self.tainted_in(a.0, a.1));
                match src {
                    Some(s) => self.reason(
                        "php.flow.code",
                        100,
                        i,
                        format!("{name}() with /e evaluates request input {s}"),
                    ),
                    None => self.reason(
                        "php.preg-e",
                        100,
                        i,
                        format!("{name}() with the /e modifier evaluates its replacement"),
                    ),
                }
            }
            return;
        }
        // Any call that gets an exec function's name and request input: a callback in disguise
        // (filter_var FILTER_CALLBACK, CallbackFilterIterator, sqliteCreateFunction …).
        if args.len() >= 2 {
            let lit = args
                .iter()
                .position(|a| (a.0..a.1).any(|k| self.is_exec_literal(k)));
            if let Some(p) = lit {
                if let Some(src) = args
                    .iter()
                    .enumerate()
                    .filter(|(k, _)| *k != p)
                    .find_map(|(_, a)| self.tainted_in(a.0, a.1))
                {
                    self.reason(
                        "php.flow.callback",
                        100,
                        i,
                        format!("{name}() gets an exec function's name and request input {src}"),
                    );
                    return;
                }
            }
        }
        if let Some(&(_, pos)) = PHP_CALLBACKS.iter().find(|(f, _)| *f == name) {
            let pos = if pos == LAST {
                args.len().saturating_sub(1)
            } else {
                pos
            };
            let pos = &pos;
            // `usort(...$_GET)`: the spread puts request input in the callback position.
            if let Some(first) = args.first() {
                if matches!(self.tok(first.0), Some(Tok::Op("..."))) {
                    if let Some(src) = self.tainted_in(first.0, first.1) {
                        self.reason(
                            "php.flow.callback",
                            100,
                            i,
                            format!("{name}() spreads request input {src} into its callback"),
                        );
                        return;
                    }
                }
            }
            let Some(cb) = args.get(*pos).copied() else { return };
            // A closure is code of this file: its body is analysed where it stands.
            let mut c0 = cb.0;
            if self.toks.get(c0).is_some_and(|t| t.is_ident("static")) {
                c0 += 1;
            }
            if self
                .toks
                .get(c0)
                .is_some_and(|t| t.is_ident("function") || t.is_ident("fn"))
            {
                return;
            }
            // A callback name computed at run time (`$a[1].$a[3]`, `~"..."`) with request input as argument.
            let computed = (cb.0..cb.1).any(|k| matches!(self.tok(k), Some(Tok::Op("." | "~" | "^"))))
                // `$f = $k ^ hex2bin('…')`: a name computed from pieces, unknown statically.
                || cb.1 == cb.0 + 1
                    && matches!(self.tok(cb.0), Some(Tok::Var(v))
                        if self.computed_names.contains(v) && !matches!(self.consts.get(v), Some(Some(_))));
            if computed {
                if let Some(s) = self.tainted_arg_except(&args, *pos) {
                    self.reason(
                        "php.flow.callback",
                        100,
                        i,
                        format!("{name}() calls a computed function name with request input {s}"),
                    );
                    return;
                }
            }
            if let Some(src) = self.tainted_in(cb.0, cb.1) {
                self.reason(
                    "php.flow.callback",
                    100,
                    i,
                    format!("{name}() calls a function named by request input {src}"),
                );
                return;
            }
            // `array_udiff($a, $b, $f)` with `$f` never set: register_globals names the callback.
            if let (true, Some(Tok::Var(v))) = (cb.1 == cb.0 + 1, self.tok(cb.0)) {
                // Used only here: the out-parameter exemption of `unbound_global` does not apply.
                let v = v.clone();
                let once = self.scope[cb.0] == 0
                    && !PHP_SUPERGLOBALS.contains(&v.as_str())
                    && !matches!(
                        v.as_str(),
                        "$" | "this" | "_server" | "_env" | "_session" | "globals"
                    )
                    && !self.assigned.contains(&v)
                    && self
                        .toks
                        .iter()
                        .filter(|t| matches!(&t.tok, Tok::Var(x) if *x == v))
                        .count()
                        == 1;
                if once {
                    if let Some(s) = self.tainted_arg_except(&args, *pos) {
                        self.reason(
                            "php.flow.callback",
                            100,
                            i,
                            format!("{name}() calls ${v}, never set in this file (register_globals input), with request input {s}"),
                        );
                        return;
                    }
                }
            }
            let ev = self.evaluator();
            if let Some((v, j)) = ev.concat(cb.0, cb.1, 0) {
                if j == cb.1 {
                    if let Some(d) = is_exec_name(&v.bytes) {
                        let src = args
                            .iter()
                            .enumerate()
                            .filter(|(k, _)| k != pos)
                            .find_map(|(_, a)| self.tainted_in(a.0, a.1));
                        match src {
                            Some(s) => self.reason(
                                "php.flow.callback",
                                100,
                                i,
                                format!("{name}() calls `{d}` with request input {s}"),
                            ),
                            None => self.reason("php.callback-sink", 100, i, format!("{name}() calls `{d}`")),
                        }
                    }
                }
            }
            return;
        }
        match name {
            "include" | "include_once" | "require" | "require_once" => {
                if self.included_paths.len() < 64 {
                    // Evaluated at the end, and only if the file writes request input somewhere.
                    self.included_paths.push((i, range));
                }
                if let Some(src) = self.tainted_in(range.0, range.1) {
                    // `include($_GET['x'])` with nothing around it: any file or URL.
                    let mut a = range.0;
                    while matches!(self.tok(a), Some(Tok::Op("(" | "@"))) {
                        a += 1;
                    }
                    let direct = self.is_source(a).is_some()
                        && !(a..range.1).any(|k| {
                            matches!(self.tok(k), Some(Tok::Op(".")) | Some(Tok::Str { .. })) && k > a + 3
                        })
                        // `$f = $_GET['f']; include $f;`
                        || matches!(self.tok(a), Some(Tok::Var(v)) if self.pure.contains(&(self.scope[a], v.clone())))
                            && (a + 1..range.1).all(|k| self.toks[k].is_op(")"));
                    let w = if src == "php://input" || direct { 100 } else { 60 };
                    self.reason(
                        "php.flow.include",
                        w,
                        i,
                        format!("{name} of a path from request input {src}"),
                    );
                }
            }
            "copy" | "file_put_contents"
                if args.len() >= 2
                    && {
                        let url = |a: (usize, usize)| {
                            (a.0..a.1).any(|k| matches!(self.tok(k), Some(Tok::Str { val, .. }) if val.starts_with(b"http://") || val.starts_with(b"https://") || val.starts_with(b"ftp://")))
                        };
                        let php_dest = matches!(self.tok(args[0].0), Some(Tok::Str { val, .. }) if val.ends_with(b".php") || val.ends_with(b".phtml"))
                            || matches!(self.tok(args[1].0), Some(Tok::Str { val, .. }) if val.ends_with(b".php") || val.ends_with(b".phtml"));
                        php_dest && (url(args[0]) || url(args[1]))
                    } =>
            {
                self.reason(
                    "php.dropper",
                    100,
                    i,
                    format!("{name}() fetches a remote file into a .php file"),
                );
            }
            "file_put_contents" | "fwrite" | "fputs" => {
                let Some(c) = args.get(1).and_then(|a| self.tainted_in(a.0, a.1)) else {
                    return;
                };
                let target = if name == "file_put_contents" {
                    args.first().copied()
                } else {
                    args.first().and_then(|a| self.fopen_path(a.0, a.1))
                };
                let dest = target.and_then(|a| self.tainted_in(a.0, a.1).map(|d| (a, d)));
                if let Some((a, d)) = dest {
                    // A path and content both straight from the request: a file-writer shell.
                    let direct = (a.0..a.1).any(|k| {
                        self.is_source(k).is_some()
                            || matches!(self.tok(k), Some(Tok::Var(v)) if self.direct.contains(&(self.scope[k], v.clone())))
                    });
                    if !direct && name != "file_put_contents" {
                        // Installers write settings through fopen() to paths they build.
                        self.reason(
                            "php.flow.file-write-data",
                            30,
                            i,
                            format!("{name}() writes request input {c}"),
                        );
                        return;
                    }
                    self.reason(
                        "php.flow.file-write",
                        if direct { 100 } else { 80 },
                        i,
                        format!("{name}() writes request input {c} to a path from {d}"),
                    );
                    return;
                }
                let path = target.and_then(|a| {
                    let ev = self.evaluator();
                    ev.concat(a.0, a.1, 0)
                        .filter(|(_, j)| *j == a.1)
                        .map(|(v, _)| v.bytes)
                });
                match path {
                    Some(p) if is_php_path(&p) => self.reason(
                        "php.flow.file-write",
                        100,
                        i,
                        format!(
                            "{name}() writes request input {c} into the PHP script {}",
                            String::from_utf8_lossy(&p)
                        ),
                    ),
                    _ => {
                        if let Some(p) = path {
                            if self.written_paths.len() < 64 {
                                self.written_paths.push(p);
                            }
                        }
                        self.reason(
                            "php.flow.file-write-data",
                            30,
                            i,
                            format!("{name}() writes request input {c}"),
                        );
                    }
                }
            }
            "move_uploaded_file" | "copy" => {
                let dest_php = args.get(1).is_some_and(|a| {
                    let ev = self.evaluator();
                    matches!(ev.concat(a.0, a.1, 0), Some((v, j)) if j == a.1 && is_php_path(&v.bytes))
                });
                let uploaded = name == "move_uploaded_file"
                    || args.first().is_some_and(|a| {
                        (a.0..a.1).any(|k| matches!(self.tok(k), Some(Tok::Var(v)) if v == "_files"))
                    });
                if dest_php && uploaded {
                    self.reason(
                        "php.dropper",
                        100,
                        i,
                        format!("{name}() stores an uploaded file as a fixed PHP script"),
                    );
                }
                if let Some(d) = args.get(1).and_then(|a| self.tainted_in(a.0, a.1)) {
                    // The request names the destination itself (`$_FILES[f]['name']`, `$_POST[path]`).
                    // The request names the destination itself, or one assignment away.
                    let direct = args.get(1).is_some_and(|a| {
                        (a.0..a.1).any(|k| {
                            self.is_source(k).is_some()
                                || matches!(self.tok(k), Some(Tok::Var(v)) if self.direct.contains(&(self.scope[k], v.clone())))
                        })
                    });
                    self.reason(
                        "php.flow.upload",
                        if direct { 100 } else { 70 },
                        i,
                        format!("{name}() to a path from request input {d}"),
                    );
                }
            }
            "unserialize" => {
                if let Some(s) = self.tainted_in(range.0, range.1) {
                    self.reason(
                        "php.flow.unserialize",
                        30,
                        i,
                        format!("unserialize() of request input {s}"),
                    );
                }
            }
            "extract" | "parse_str" | "import_request_variables" | "mb_parse_str" => {
                if let Some(s) = self.tainted_in(range.0, range.1) {
                    self.reason(
                        "php.register-globals",
                        20,
                        i,
                        format!("{name}() turns request input {s} into variables"),
                    );
                }
            }
            "reflectionfunction" => {}
            _ => {}
        }
    }
}

impl Ctx<'_> {
    /// The first argument other than the one at `skip` that carries request input.
    fn tainted_arg_except(&self, args: &[(usize, usize)], skip: usize) -> Option<String> {
        args.iter()
            .enumerate()
            .filter(|(k, _)| *k != skip)
            .find_map(|(_, a)| self.tainted_in(a.0, a.1))
    }

    /// `assert(is_string($x))`, `assert($a === $b)`: an assertion on a value, not code. Only a
    /// string argument is evaluated, and a predicate call or a comparison never yields one.
    fn boolean_assertion(&self, (a, b): (usize, usize)) -> bool {
        let mut k = a;
        while matches!(self.tok(k), Some(Tok::Op("!"))) && k < b {
            k += 1;
        }
        if let Some(Tok::Ident(f)) = self.tok(k) {
            let predicate = f.starts_with("is_")
                || f.starts_with("ctype_")
                || matches!(
                    f.as_str(),
                    "isset"
                        | "empty"
                        | "in_array"
                        | "array_key_exists"
                        | "method_exists"
                        | "function_exists"
                        | "class_exists"
                        | "property_exists"
                        | "file_exists"
                );
            if predicate && matches!(self.tok(k + 1), Some(Tok::Op("("))) {
                if let Some(c) = matching(self.toks, k + 1, b) {
                    return c + 1 == b;
                }
            }
        }
        // A comparison or logical operator at the top level of the argument.
        let mut depth = 0i32;
        for j in a..b {
            match self.tok(j) {
                Some(Tok::Op("(" | "[" | "{")) => depth += 1,
                Some(Tok::Op(")" | "]" | "}")) => depth -= 1,
                Some(Tok::Op("===" | "!==" | "==" | "!=" | "<" | ">" | "<=" | ">=" | "&&" | "||"))
                    if depth == 0 =>
                {
                    return true
                }
                Some(Tok::Ident(w)) if depth == 0 && w == "instanceof" => return true,
                _ => {}
            }
        }
        false
    }

    /// The path argument of the `fopen()` that produced the handle in `[a, b)`: the call
    /// itself (`fwrite(fopen($p, 'w'), …)`) or a variable assigned from it earlier.
    pub(super) fn fopen_path(&self, a: usize, b: usize) -> Option<(usize, usize)> {
        let mut k = a;
        while matches!(self.tok(k), Some(Tok::Op("@"))) {
            k += 1;
        }
        let open = match self.tok(k)? {
            Tok::Ident(f) if f == "fopen" => k + 1,
            Tok::Var(h) if k + 1 == b => {
                let at = (a.saturating_sub(50_000)..a).rev().find(|&j| {
                    matches!(self.tok(j), Some(Tok::Var(x)) if x == h)
                        && matches!(self.tok(j + 1), Some(Tok::Op("=")))
                })?;
                let mut f = at + 2;
                while matches!(self.tok(f), Some(Tok::Op("@"))) {
                    f += 1;
                }
                if !self.toks.get(f)?.is_ident("fopen") {
                    return None;
                }
                f + 1
            }
            _ => return None,
        };
        if !self.toks.get(open)?.is_op("(") {
            return None;
        }
        let (_, args) = self.args(open)?;
        args.first().copied()
    }
}

/// The command function constant code calls (`system("id")`, a backtick command), if any.
pub(super) fn runs_command(code: &[u8]) -> Option<&'static str> {
    if code.len() > 64 << 10 {
        return None;
    }
    let l = code.to_ascii_lowercase();
    for &f in PHP_CMD_SINKS {
        let mut from = 0;
        while let Some(p) = lex_php::find(&l[from..], f.as_bytes()) {
            let at = from + p;
            let before_ok =
                at == 0 || !crate::token::is_ident_byte(l[at - 1]) && !matches!(l[at - 1], b'>' | b':');
            let rest = l[at + f.len()..].trim_ascii_start();
            if before_ok && rest.first() == Some(&b'(') {
                return Some(f);
            }
            from = at + f.len();
        }
    }
    None
}

pub(super) fn name_static(name: &str) -> &'static str {
    match name {
        "eval" => "eval",
        "assert" => "assert",
        "create_function" => "create_function",
        _ => "code",
    }
}

/// Whether a PCRE pattern literal carries the `e` modifier.
pub(super) fn regex_has_e(p: &[u8]) -> bool {
    let p = p.trim_ascii();
    let Some(&delim) = p.first() else { return false };
    if delim.is_ascii_alphanumeric() || delim == b'\\' {
        return false;
    }
    let close = match delim {
        b'(' => b')',
        b'{' => b'}',
        b'[' => b']',
        b'<' => b'>',
        d => d,
    };
    match p.iter().rposition(|&b| b == close) {
        Some(end) if end > 0 => p[end + 1..].contains(&b'e'),
        _ => false,
    }
}

/// A path whose name PHP would execute: `x.php`, `shell.phtml`, `a.php5`.
fn is_php_path(p: &[u8]) -> bool {
    let l = p.trim_ascii().to_ascii_lowercase();
    [
        &b".php"[..],
        b".phtml",
        b".php3",
        b".php4",
        b".php5",
        b".php7",
        b".phar",
    ]
    .iter()
    .any(|e| l.ends_with(e))
}
