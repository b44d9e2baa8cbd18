//! Request input (sources) and its propagation through assignments, loops and calls.

use super::*;

impl Ctx<'_> {
    /// Whether token `i` is request input.
    pub(super) fn is_source(&self, i: usize) -> Option<String> {
        match self.tok(i)? {
            Tok::Var(n) if n == "$" => {
                // `${'_PO'.'ST'}` / `$$k` naming a superglobal through a constant.
                let name = match self.tok(i + 1)? {
                    Tok::Op("{") => {
                        let c = matching(self.toks, i + 1, self.toks.len().min(i + 400))?;
                        let (v, j) = self.evaluator().concat(i + 2, c, 0)?;
                        (j == c).then_some(v.bytes)?
                    }
                    Tok::Var(x) => self.consts.get(x)?.clone()?,
                    _ => return None,
                };
                let name = String::from_utf8_lossy(&name)
                    .trim()
                    .trim_start_matches('$')
                    .to_ascii_lowercase();
                PHP_SUPERGLOBALS
                    .contains(&name.as_str())
                    .then(|| format!("${} through a variable variable", name.to_uppercase()))
            }
            Tok::Var(n) if PHP_SUPERGLOBALS.contains(&n.as_str()) => {
                Some(format!("$_{}", n.trim_start_matches('_').to_uppercase()))
            }
            Tok::Var(n) if n == "_server" => {
                if let (Some(Tok::Op("[")), Some(Tok::Str { val, .. })) = (self.tok(i + 1), self.tok(i + 2)) {
                    let k = String::from_utf8_lossy(val).to_ascii_uppercase();
                    if k.starts_with("HTTP_")
                        || matches!(
                            k.as_str(),
                            "QUERY_STRING" | "REQUEST_URI" | "PATH_INFO" | "PHP_AUTH_PW" | "PHP_AUTH_USER"
                        )
                    {
                        return Some(format!("$_SERVER['{k}']"));
                    }
                }
                None
            }
            Tok::Str { val, vars } => {
                for v in vars {
                    if PHP_SUPERGLOBALS.contains(&v.as_str()) {
                        return Some(format!("${v} in a string"));
                    }
                }
                let lv = val.to_ascii_lowercase();
                if lv == b"php://input" {
                    return Some("php://input".into());
                }
                if self.flavor == Flavor::Php
                    && matches!(lv.as_slice(), b"_post" | b"_get" | b"_request" | b"_cookie")
                {
                    return Some(format!("${} by name", String::from_utf8_lossy(val)));
                }
                None
            }
            Tok::Ident(n) => {
                let call = matches!(self.tok(i + 1), Some(Tok::Op("(")));
                match self.flavor {
                    Flavor::Php => {
                        if call && matches!(n.as_str(), "getallheaders" | "apache_request_headers") {
                            return Some(format!("{n}()"));
                        }
                        if call && n == "getenv" {
                            if let Some(Tok::Str { val, .. }) = self.tok(i + 2) {
                                if val.len() > 5 && val[..5].eq_ignore_ascii_case(b"HTTP_") {
                                    return Some(format!("getenv('{}')", String::from_utf8_lossy(val)));
                                }
                            }
                        }
                        None
                    }
                    Flavor::Java => {
                        if !call {
                            return None;
                        }
                        match n.as_str() {
                            "getparameter" | "getparametervalues" | "getparametermap" | "getquerystring"
                            | "getheader" | "getheaders" | "getparameternames" | "getpart" | "getparts" => {
                                Some(format!("request.{n}()"))
                            }
                            "getinputstream" | "getreader" => {
                                let r = self.receiver(i)?;
                                (r.contains("request") || r == "req" || r == "getrequest")
                                    .then(|| format!("{r}.{n}()"))
                            }
                            _ => None,
                        }
                    }
                    _ => {
                        if n == "text"
                            && self.web_controls
                            && i > 0
                            && matches!(self.tok(i - 1), Some(Tok::Op(".")))
                            && !matches!(self.tok(i + 1), Some(Tok::Op("=" | "(")))
                        {
                            return Some(format!("{}.Text", self.receiver(i).unwrap_or("control")));
                        }
                        if n == "session" && matches!(self.tok(i + 1), Some(Tok::Op("(" | "["))) {
                            // Session values are what earlier requests stored.
                            return Some("Session".into());
                        }
                        if n == "request" && matches!(self.tok(i + 1), Some(Tok::Op("." | "(" | "["))) {
                            // `Request.ServerVariables` is the server's own data, not the attacker's… mostly.
                            if let (Some(Tok::Op(".")), Some(Tok::Ident(m))) =
                                (self.tok(i + 1), self.tok(i + 2))
                            {
                                if matches!(
                                    m.as_str(),
                                    "servervariables"
                                        | "applicationpath"
                                        | "physicalapplicationpath"
                                        | "url"
                                        | "path"
                                        | "mappath"
                                        | "isauthenticated"
                                        | "httpmethod"
                                        | "requesttype"
                                        | "useragent"
                                        | "userhostaddress"
                                        | "isseconnection"
                                        | "issecureconnection"
                                        | "filepath"
                                        | "physicalpath"
                                ) {
                                    return None;
                                }
                            }
                            return Some("Request".into());
                        }
                        None
                    }
                }
            }
            _ => None,
        }
    }

    pub(super) fn var_name(&self, i: usize) -> Option<&str> {
        match self.tok(i)? {
            Tok::Var(n) => Some(n),
            Tok::Ident(n) if self.idents_are_vars() && !matches!(self.tok(i + 1), Some(Tok::Op("("))) => {
                Some(n)
            }
            // VBScript indexes arrays with parentheses: `a(0)` reads the variable `a` when the
            // script assigns to `a` (a function's name is assigned only inside it, for its
            // return value, which also flows).
            Tok::Ident(n) if self.flavor == Flavor::Vbs && self.assigned.contains(n) => Some(n),
            _ => None,
        }
    }

    /// First request input or tainted variable in `[a, b)`, skipping sanitiser calls.
    pub(super) fn tainted_in(&self, a: usize, b: usize) -> Option<String> {
        let mut k = a;
        let b = b.min(self.toks.len());
        while k < b {
            if let Some(s) = self.is_source(k) {
                return Some(s);
            }
            match self.tok(k) {
                Some(Tok::Ident(n)) if SANITIZERS.contains(&n.as_str()) => {
                    if matches!(self.tok(k + 1), Some(Tok::Op("("))) {
                        if let Some(c) = matching(self.toks, k + 1, b) {
                            k = c + 1;
                            continue;
                        }
                    } else if n.starts_with('(') {
                        // A cast covers the next operand.
                        k += 2;
                        continue;
                    }
                }
                Some(Tok::Str { vars, .. }) | Some(Tok::Shell { vars, .. }) => {
                    for v in vars {
                        if self.is_tainted(k, v) {
                            return Some(format!("${v}"));
                        }
                    }
                }
                _ => {}
            }
            // `$table[$_GET['k']]`: the key is the attacker's, the value is not.
            if matches!(self.tok(k), Some(Tok::Op("[")))
                && k > a
                && matches!(self.tok(k - 1), Some(Tok::Var(_) | Tok::Ident(_) | Tok::Op("]")))
                && self.is_source(k - 1).is_none()
                && !matches!(self.tok(k - 1), Some(Tok::Var(v)) if v == "_server" || v == "globals")
            {
                if let Some(c) = matching(self.toks, k, b) {
                    k = c + 1;
                    continue;
                }
            }
            if let Some(n) = self.var_name(k) {
                if self.is_tainted(k, n)
                    && !(self.flavor != Flavor::Php && k > 0 && matches!(self.tok(k - 1), Some(Tok::Op("."))))
                {
                    return Some(if self.flavor == Flavor::Php {
                        format!("${n}")
                    } else {
                        n.to_string()
                    });
                }
            }
            k += 1;
        }
        None
    }

    /// End of the expression starting at `i`: `;`, a statement boundary, or a closing
    /// bracket / comma at depth 0.
    pub(super) fn expr_end(&self, i: usize) -> usize {
        let mut depth = 0i32;
        let mut k = i;
        while k < self.toks.len() && k < i + 20_000 {
            match self.tok(k) {
                Some(Tok::Op(";")) | Some(Tok::End) => return k,
                Some(Tok::Op("(" | "[" | "{")) => depth += 1,
                Some(Tok::Op(")" | "]" | "}")) => {
                    depth -= 1;
                    if depth < 0 {
                        return k;
                    }
                }
                Some(Tok::Op(",")) if depth == 0 => return k,
                _ => {}
            }
            k += 1;
        }
        k
    }

    pub(super) fn collect_functions(&mut self) {
        if self.flavor == Flavor::CSharp || self.flavor == Flavor::Java {
            self.collect_methods();
        }
        if self.flavor == Flavor::Vbs || self.flavor == Flavor::JScript {
            self.collect_script_functions();
        }
        for (i, name, close) in self.function_headers(&["function"]) {
            let params: Vec<String> = (i + 3..close)
                .filter_map(|k| match self.tok(k) {
                    Some(Tok::Var(v)) => Some(v.clone()),
                    _ => None,
                })
                .collect();
            let scope = self.scope.get(close + 1).copied().unwrap_or(0);
            self.funcs.insert(name, (scope, params));
        }
    }

    /// Function definitions `KEYWORD name(…)`: the keyword's index, the name and the index of
    /// the closing parenthesis.
    pub(super) fn function_headers(&self, keywords: &[&str]) -> Vec<(usize, String, usize)> {
        let mut out = Vec::new();
        for i in 0..self.toks.len() {
            if !keywords.iter().any(|k| self.toks[i].is_ident(k)) {
                continue;
            }
            let Some(Tok::Ident(name)) = self.tok(i + 1) else {
                continue;
            };
            if !matches!(self.tok(i + 2), Some(Tok::Op("("))) {
                continue;
            }
            if let Some(close) = matching(self.toks, i + 2, self.toks.len()) {
                out.push((i, name.clone(), close));
            }
        }
        out
    }

    /// C# and Java methods, `Type Name(Type a, Type b) {`: their parameters take the taint of
    /// the arguments they are called with (scope 0: these languages get no scopes here).
    fn collect_methods(&mut self) {
        const NOT_TYPES: &[&str] = &[
            "new", "return", "else", "throw", "await", "case", "in", "is", "as",
        ];
        let n = self.toks.len();
        for i in 1..n {
            let Some(Tok::Ident(name)) = self.tok(i) else {
                continue;
            };
            if !matches!(self.tok(i + 1), Some(Tok::Op("("))) {
                continue;
            }
            let typed = match self.tok(i - 1) {
                Some(Tok::Ident(t)) => !NOT_TYPES.contains(&t.as_str()),
                Some(Tok::Op(">" | "]")) => true,
                _ => false,
            };
            if !typed {
                continue;
            }
            let Some(close) = matching(self.toks, i + 1, n) else {
                continue;
            };
            // The body follows, maybe after `throws X`.
            if !(close + 1..n.min(close + 8)).any(|k| self.toks[k].is_op("{")) {
                continue;
            }
            let params: Vec<String> = (i + 2..close)
                .filter_map(|k| match (self.tok(k), self.tok(k + 1)) {
                    (Some(Tok::Ident(p)), Some(Tok::Op("," | ")" | "="))) => Some(p.clone()),
                    _ => None,
                })
                .collect();
            if !params.is_empty() && self.funcs.len() < 4096 {
                self.funcs.insert(name.clone(), (0, params));
            }
        }
    }

    /// Gives the tokens of each PHP function body their own scope number.
    pub(super) fn compute_scopes(&mut self) {
        let n = self.toks.len();
        self.scope = vec![0; n];
        if self.flavor != Flavor::Php {
            return;
        }
        let mut next = 1u32;
        for i in 0..n {
            if !self.toks[i].is_ident("function") && !self.toks[i].is_ident("fn") {
                continue;
            }
            let Some(open) = (i + 1..n.min(i + 4)).find(|&k| self.toks[k].is_op("(")) else {
                continue;
            };
            let Some(close) = matching(self.toks, open, n) else {
                continue;
            };
            // Skip `use (...)` and a return type up to the body's `{`.
            let Some(body) =
                (close + 1..n.min(close + 40)).find(|&k| self.toks[k].is_op("{") || self.toks[k].is_op(";"))
            else {
                continue;
            };
            if !self.toks[body].is_op("{") {
                continue;
            }
            let end = matching(self.toks, body, n).unwrap_or(n - 1);
            for s in &mut self.scope[open..=end] {
                *s = next;
            }
            next += 1;
        }
    }

    pub(super) fn is_tainted(&self, at: usize, name: &str) -> bool {
        let sc = self.scope.get(at).copied().unwrap_or(0);
        self.tainted.contains(&(sc, name.to_string()))
    }

    /// Assignment target: the base variable of `$a`, `$a['x']`, `$o->p`, `obj.Prop`, and
    /// outside PHP `a(0)` (VBScript indexes arrays with parentheses).
    pub(super) fn lvalue_base(&self, eq: usize) -> Option<(usize, String)> {
        let mut k = eq.checked_sub(1)?;
        let mut guard = 0;
        loop {
            guard += 1;
            if guard > 50 {
                return None;
            }
            match self.tok(k)? {
                Tok::Op(close @ ("]" | ")")) if *close == "]" || self.flavor != Flavor::Php => {
                    // Walk back to the matching `[` or `(`.
                    let (close, open) = if *close == "]" { ("]", "[") } else { (")", "(") };
                    let mut depth = 0i32;
                    loop {
                        match self.tok(k)? {
                            Tok::Op(c) if *c == close => depth += 1,
                            Tok::Op(o) if *o == open => {
                                depth -= 1;
                                if depth == 0 {
                                    break;
                                }
                            }
                            _ => {}
                        }
                        k = k.checked_sub(1)?;
                    }
                    k = k.checked_sub(1)?;
                }
                // `${'name'} = …` assigns `$name`.
                Tok::Op("}") if k >= 3 => {
                    return match (self.tok(k - 1)?, self.tok(k - 2)?, self.tok(k - 3)?) {
                        (Tok::Str { val, vars }, Tok::Op("{"), Tok::Var(d))
                            if vars.is_empty() && d == "$" =>
                        {
                            Some((k - 3, String::from_utf8_lossy(val).to_ascii_lowercase()))
                        }
                        _ => None,
                    };
                }
                Tok::Var(n) if n == "globals" => {
                    // `$GLOBALS['x'] = …` assigns `$x`.
                    return match (self.tok(k + 1), self.tok(k + 2), self.tok(k + 3)) {
                        (Some(Tok::Op("[")), Some(Tok::Str { val, vars }), Some(Tok::Op("]")))
                            if vars.is_empty() =>
                        {
                            Some((k, String::from_utf8_lossy(val).to_ascii_lowercase()))
                        }
                        _ => None,
                    };
                }
                Tok::Var(n) => {
                    if k > 0 && matches!(self.tok(k - 1), Some(Tok::Op("->" | "::"))) {
                        k = k.checked_sub(2)?;
                        continue;
                    }
                    if n == "this" {
                        return None;
                    }
                    return Some((k, n.clone()));
                }
                Tok::Ident(n) => {
                    if self.flavor == Flavor::Php
                        && k > 0
                        && matches!(self.tok(k - 1), Some(Tok::Op("->" | "::")))
                    {
                        // Object properties are not tracked: `$this->x = $_GET[..]` would
                        // otherwise taint every use of `$this`.
                        return None;
                    }
                    if k > 0 && matches!(self.tok(k - 1), Some(Tok::Op("->" | "::" | "."))) {
                        k = k.checked_sub(2)?;
                        continue;
                    }
                    if self.flavor == Flavor::Php {
                        return None;
                    }
                    return Some((k, n.clone()));
                }
                _ => return None,
            }
        }
    }

    /// Computes tainted variables and constant string variables to a fixed point.
    pub(super) fn propagate(&mut self) {
        let n = self.toks.len();
        let mut assigns: Vec<(usize, String, usize, usize)> = Vec::new();
        let mut lists: Vec<(Vec<String>, usize, usize)> = Vec::new();
        let mut const_count: HashMap<String, u32> = HashMap::new();
        // Variables whose value can reach a sink (see `ordered_values`), found in this pass.
        let toks = self.toks;
        let mut wanted: HashSet<&str> = HashSet::new();
        let mut doc_comment = false;
        // Function bodies that build a string with chr()/ord()/XOR: custom decoders.
        let mut decoder_scopes: HashSet<u32> = HashSet::new();
        for i in 0..n {
            let op = match &toks[i].tok {
                Tok::Op(op) => op,
                Tok::Var(v) => {
                    if toks.get(i + 1).is_some_and(|t| t.is_op("(")) {
                        wanted.insert(v);
                    }
                    continue;
                }
                Tok::Ident(f) => {
                    if f == "getdoccomment" {
                        doc_comment = true;
                    }
                    if matches!(f.as_bytes().first(), Some(b'e' | b'a' | b'c' | b'p'))
                        && matches!(
                            f.as_str(),
                            "eval"
                                | "assert"
                                | "execute"
                                | "executeglobal"
                                | "create_function"
                                | "executestatement"
                                | "addcode"
                                | "preg_replace"
                        )
                    {
                        let end = (i + 8).min(n);
                        wanted.extend(var_names(&toks[(i + 1).min(end)..end], self.idents_are_vars()));
                    }
                    continue;
                }
                _ => continue,
            };
            if !matches!(*op, "=" | ".=" | "+=" | "&=") {
                // foreach ($src as $k => $v)
                continue;
            }
            if *op == "&=" && self.flavor != Flavor::Vbs {
                continue;
            }
            let end = self.expr_end(i + 1);
            if let Some((_, name)) = self.lvalue_base(i) {
                assigns.push((i, name.clone(), i + 1, end));
                if *op == "=" {
                    *const_count.entry(name).or_insert(0) += 1;
                }
            } else if i > 0 && matches!(self.tok(i - 1), Some(Tok::Op(")" | "]"))) {
                // list($a, $b) = … / [$a, $b] = …
                let mut k = i - 1;
                let mut names = Vec::new();
                let mut depth = 0;
                loop {
                    match self.tok(k) {
                        Some(Tok::Op(")" | "]")) => depth += 1,
                        Some(Tok::Op("(" | "[")) => {
                            depth -= 1;
                            if depth == 0 {
                                break;
                            }
                        }
                        Some(Tok::Var(v)) => names.push(v.clone()),
                        None => break,
                        _ => {}
                    }
                    if k == 0 || i - k > 200 {
                        break;
                    }
                    k -= 1;
                }
                lists.push((names, i + 1, end));
            }
        }
        // Appending (`$cmd .= ' 2>&1'`) to a variable never set does not bind it: under
        // register_globals it still comes from the request.
        self.assigned.extend(
            assigns
                .iter()
                .filter(|a| !self.toks[a.0].is_op(".=") && !self.toks[a.0].is_op("+="))
                .map(|a| a.1.clone()),
        );
        for (eq, name, a, b) in &assigns {
            let strs = (*a..*b)
                .filter(|&k| matches!(self.tok(k), Some(Tok::Str { .. })))
                .count();
            let pieces = (*a..*b).any(|k| {
                matches!(self.tok(k), Some(Tok::Ident(f)) if matches!(f.as_str(), "chr" | "substr" | "strrev" | "str_replace" | "base64_decode" | "hex2bin" | "pack" | "str_rot13" | "implode" | "join"))
                    || matches!(self.tok(k), Some(Tok::Op("^" | "~")))
            });
            // Only a string expression: literals, variables and string functions.
            let string_expr = (*a..*b).all(|k| match self.tok(k) {
                Some(Tok::Str { .. } | Tok::Num(_) | Tok::Var(_)) => true,
                // `~BAREWORD`: PHP reads an undefined constant as its own name.
                Some(Tok::Ident(_))
                    if matches!(self.tok(k.wrapping_sub(1)), Some(Tok::Op("~" | "^")))
                        && !matches!(self.tok(k + 1), Some(Tok::Op("("))) =>
                {
                    true
                }
                Some(Tok::Op(o)) => matches!(
                    *o,
                    "." | "(" | ")" | "," | "^" | "~" | "+" | "-" | "[" | "]" | "{" | "}"
                ),
                Some(Tok::Ident(f)) => matches!(
                    f.as_str(),
                    "chr"
                        | "substr"
                        | "strrev"
                        | "str_replace"
                        | "base64_decode"
                        | "hex2bin"
                        | "pack"
                        | "str_rot13"
                        | "implode"
                        | "join"
                        | "md5"
                        | "strtolower"
                        | "strtoupper"
                        | "ucfirst"
                        | "trim"
                        // The script's own name or location spelling a function name.
                        | "__file__"
                        | "__dir__"
                        | "__line__"
                        | "__function__"
                        | "__class__"
                        | "__method__"
                        | "basename"
                ),
                _ => false,
            });
            if self.flavor == Flavor::Php && string_expr && (strs >= 3 || pieces) {
                self.computed_names.insert(name.clone());
            }
            let fetch = (*a..*b).any(|k| matches!(self.tok(k), Some(Tok::Ident(f)) if matches!(f.as_str(), "file_get_contents" | "curl_exec" | "fread" | "stream_get_contents" | "fgets" | "file")));
            let url = (*a..*b).any(|k| matches!(self.tok(k), Some(Tok::Str { val, .. }) if is_url(val)));
            if fetch && url {
                self.remote_vars.insert(name.clone());
            }
            if self.toks[*eq].is_op(".=")
                && (*a..*b).any(|k| {
                    matches!(self.tok(k), Some(Tok::Ident(f)) if f == "chr" || f == "ord")
                        || matches!(self.tok(k), Some(Tok::Op("^" | "<<")))
                })
            {
                self.decoder_vars.insert(name.clone());
                if self.scope[*eq] != 0 && decoder_scopes.len() < 64 {
                    decoder_scopes.insert(self.scope[*eq]);
                }
            }
        }
        // foreach (EXPR as $k => $v)
        let mut foreach: Vec<(usize, usize, Vec<String>)> = Vec::new();
        for i in 0..n {
            if !(self.toks[i].is_ident("foreach")
                || self.toks[i].is_ident("for") && self.flavor != Flavor::Php)
            {
                continue;
            }
            if !matches!(self.tok(i + 1), Some(Tok::Op("("))) {
                continue;
            }
            let Some(close) = matching(self.toks, i + 1, n) else {
                continue;
            };
            let Some(as_at) =
                (i + 2..close).find(|&k| self.toks[k].is_ident("as") || self.toks[k].is_op(":"))
            else {
                continue;
            };
            let names = (as_at..close)
                .filter_map(|k| self.var_name(k).map(str::to_string))
                .collect();
            foreach.push((i + 2, as_at, names));
        }
        // Calls to functions defined in the file pass taint into their parameters.
        let mut calls: Vec<((u32, Vec<String>), usize, usize)> = Vec::new();
        if !self.funcs.is_empty() {
            for i in 0..n {
                let Some(Tok::Ident(name)) = self.tok(i) else {
                    continue;
                };
                if i > 0 && self.toks[i - 1].is_ident("function") {
                    continue;
                }
                let Some(params) = self.funcs.get(name) else {
                    continue;
                };
                if !matches!(self.tok(i + 1), Some(Tok::Op("("))) {
                    continue;
                }
                if let Some(close) = matching(self.toks, i + 1, n) {
                    calls.push((params.clone(), i + 2, close));
                }
            }
        }
        if !decoder_scopes.is_empty() && self.flavor == Flavor::Php {
            self.decoded_names(&assigns, &decoder_scopes, &wanted);
        }
        if doc_comment && self.flavor == Flavor::Php {
            self.doc_comment_vars(&assigns);
        }
        let callback_calls = if self.flavor == Flavor::Php {
            self.callback_calls()
        } else {
            Vec::new()
        };
        // Constants: variables assigned exactly once from a constant expression.
        let consts_empty = HashMap::new();
        let mut hidden = Vec::new();
        // `$s = 'ev'; $s .= 'al';`: appends after the single assignment extend the constant.
        let mut appends: HashMap<&str, Vec<(usize, usize, usize)>> = HashMap::new();
        for (eq, name, a, b) in &assigns {
            if self.toks[*eq].is_op(".=") && const_count.get(name) == Some(&1) {
                appends.entry(name.as_str()).or_default().push((*eq, *a, *b));
            }
        }
        for round in 0..6 {
            let snapshot = if round == 0 {
                &consts_empty
            } else {
                &self.consts.clone()
            };
            let ev = Evaluator {
                toks: self.toks,
                consts: snapshot,
                seq: &self.seq,
                idents_are_vars: self.idents_are_vars(),
                budget: std::cell::Cell::new(200_000),
            };
            let mut found = Vec::new();
            for (eq, name, a, b) in &assigns {
                if const_count.get(name) != Some(&1) || !self.toks[*eq].is_op("=") {
                    continue;
                }
                if let Some((mut v, j)) = ev.concat(*a, *b, 0) {
                    let mut whole = j == *b;
                    for &(at, a2, b2) in appends.get(name.as_str()).map(Vec::as_slice).unwrap_or(&[]) {
                        match ev.concat(a2, b2, 0) {
                            Some((more, j2)) if whole && at > *eq && j2 == b2 && v.bytes.len() < 1 << 20 => {
                                v.bytes.extend_from_slice(&more.bytes);
                                v.pieces += more.pieces;
                                v.steps.extend(more.steps);
                            }
                            _ => whole = false,
                        }
                    }
                    if whole {
                        if round == 0 || !self.consts.contains_key(name) {
                            if let Some(d) = is_dangerous_name(&v.bytes) {
                                if v.pieces > 1 || !v.steps.is_empty() {
                                    hidden.push((*eq, d, v.pieces, v.steps.join("(")));
                                }
                            }
                        }
                        found.push((name.clone(), v.bytes));
                    }
                }
            }
            let before = self.consts.len();
            for (k, v) in found {
                self.consts.insert(k, Some(v));
            }
            if self.consts.len() == before && round > 0 {
                break;
            }
        }
        self.ordered_values(&assigns, &wanted);
        for (eq, d, pieces, steps) in hidden {
            let w = if is_exec_name(d.as_bytes()).is_some() {
                60
            } else {
                40
            };
            let how = if steps.is_empty() {
                format!("{pieces} pieces")
            } else {
                steps
            };
            self.reason("deobf.hidden-name", w, eq, format!("`{d}` assembled from {how}"));
        }
        for (eq, name, a, b) in &assigns {
            // `$_FILES[f]['tmp_name']` is a path the server chose, not the client.
            if (*a..*b).any(|k| self.is_source(k).is_some())
                && !(*a..*b).any(|k| matches!(self.tok(k), Some(Tok::Str { val, .. }) if val == b"tmp_name"))
            {
                self.direct.insert((self.scope[*eq], name.clone()));
            }
        }
        if self.flavor == Flavor::Php {
            self.pure_and_transitive_direct(&assigns, &calls);
        }
        let globals = if self.flavor == Flavor::Php {
            self.global_decls()
        } else {
            HashMap::new()
        };
        if !globals.is_empty() {
            self.form_field_globals(&assigns, &globals);
        }
        if self.flavor != Flavor::Php {
            let params = self.web_method_params();
            self.tainted.extend(params.into_iter().map(|p| (0, p)));
        }
        // Source → variable → variable → parameter: a few hops, not full data flow.
        for _round in 0..3 {
            let before = self.tainted.len();
            let mut add = Vec::new();
            for (eq, name, a, b) in &assigns {
                if !self.is_tainted(*eq, name) && self.tainted_in(*a, *b).is_some() {
                    add.push((self.scope[*eq], name.clone()));
                }
            }
            for (names, a, b) in &lists {
                if self.tainted_in(*a, *b).is_some() {
                    add.extend(names.iter().map(|v| (self.scope[*a], v.clone())));
                }
            }
            for (a, b, names) in &foreach {
                if self.tainted_in(*a, *b).is_some() {
                    add.extend(names.iter().map(|v| (self.scope[*a], v.clone())));
                }
            }
            for ((sc, params), a, b) in &calls {
                if self.tainted_in(*a, *b).is_some() {
                    add.extend(params.iter().map(|v| (*sc, v.clone())));
                }
            }
            for (sc, params, ranges) in &callback_calls {
                if ranges.iter().any(|r| self.tainted_in(r.0, r.1).is_some()) {
                    add.extend(params.iter().map(|v| (*sc, v.clone())));
                }
            }
            // `global $x` shares the variable between the function and the file.
            for (name, scopes) in &globals {
                if self.tainted.contains(&(0, name.clone()))
                    || scopes.iter().any(|s| self.tainted.contains(&(*s, name.clone())))
                {
                    add.push((0, name.clone()));
                    add.extend(scopes.iter().map(|s| (*s, name.clone())));
                }
            }
            self.tainted.extend(add);
            if self.tainted.len() == before {
                break;
            }
        }
    }
}

impl Ctx<'_> {
    /// Parameters of ASP.NET web service methods (`[WebMethod] string Run(string cmd)`,
    /// JScript `WebMethodAttribute function Run(cmd : String)`): the request supplies them.
    fn web_method_params(&self) -> Vec<String> {
        let mut out = Vec::new();
        for i in 0..self.toks.len() {
            if !matches!(self.tok(i), Some(Tok::Ident(n)) if n == "webmethod" || n == "webmethodattribute") {
                continue;
            }
            let mut k = i + 1;
            if self.toks.get(k).is_some_and(|t| t.is_op("(")) {
                match matching(self.toks, k, self.toks.len()) {
                    Some(c) => k = c + 1,
                    None => continue,
                }
            }
            let Some(open) = (k..self.toks.len().min(k + 30)).find(|&j| self.toks[j].is_op("(")) else {
                continue;
            };
            let Some(close) = matching(self.toks, open, self.toks.len()) else {
                continue;
            };
            for j in open + 1..close {
                if let Some(Tok::Ident(p)) = self.tok(j) {
                    if matches!(self.tok(j + 1), Some(Tok::Op("," | ")" | ":" | "="))) && out.len() < 64 {
                        out.push(p.clone());
                    }
                }
            }
        }
        out
    }

    /// Values of variables assigned more than once, in token order: each assignment is
    /// evaluated with the values before it (`x = "e0va0l"; x = Replace(x, "0", "")`,
    /// `$s = 'as'; $s .= 'sert'` after a second `=`). A value that cannot be known hides the
    /// earlier ones from later reads; variables bumped with `++`/`--` are left out.
    fn ordered_values(&mut self, assigns: &[(usize, String, usize, usize)], wanted: &HashSet<&str>) {
        // Only values that can reach a sink matter: variables called as functions or read
        // right after a code sink. Evaluating every reassigned variable would cost every file.
        if wanted.is_empty() {
            return;
        }
        // And the variables those are computed from (`$a = str_replace('X', '', $b)` with `$b`
        // reassigned as well: two variables replacing into each other in turn).
        let toks = self.toks;
        let mut wanted: HashSet<&str> = wanted.clone();
        for _ in 0..3 {
            let before = wanted.len();
            for (_, name, a, b) in assigns {
                if wanted.len() >= 64 {
                    break;
                }
                if wanted.contains(name.as_str()) {
                    wanted.extend(var_names(&toks[*a..*b], self.idents_are_vars()));
                }
            }
            if wanted.len() == before {
                break;
            }
        }
        let mut count: HashMap<&str, u32> = HashMap::new();
        for (_, name, _, _) in assigns {
            if wanted.contains(name.as_str()) && !self.consts.contains_key(name) {
                *count.entry(name.as_str()).or_insert(0) += 1;
            }
        }
        count.retain(|_, c| *c >= 2);
        if count.is_empty() {
            return;
        }
        let mut bumped: HashSet<String> = HashSet::new();
        for k in 0..self.toks.len() {
            if matches!(self.tok(k), Some(Tok::Op("++" | "--"))) {
                for j in [k.wrapping_sub(1), k + 1] {
                    if let Some(v) = self.var_name(j) {
                        bumped.insert(v.to_string());
                    }
                }
            }
        }
        let mut seq: crate::eval::Seq = HashMap::new();
        let mut budget = 100_000u32;
        let mut stored = 0usize;
        for (eq, name, a, b) in assigns {
            if !count.contains_key(name.as_str()) || bumped.contains(name) {
                continue;
            }
            if budget == 0 || stored > decode::MAX_OUT {
                break;
            }
            let ev = Evaluator {
                toks: self.toks,
                consts: &self.consts,
                seq: &seq,
                idents_are_vars: self.idents_are_vars(),
                budget: std::cell::Cell::new(budget),
            };
            let rhs = ev.concat(*a, *b, 0).filter(|(_, j)| j == b).map(|(v, _)| v.bytes);
            budget = ev.budget.get();
            let prev = seq.get(name).and_then(|v| v.last());
            let val = match self.tok(*eq) {
                Some(Tok::Op("=")) => rhs,
                Some(Tok::Op(".=" | "&=")) | Some(Tok::Op("+="))
                    if self.flavor != Flavor::Php || self.toks[*eq].is_op(".=") =>
                {
                    let base = match prev {
                        Some((_, v)) => v.clone(),
                        None => Some(Vec::new()),
                    };
                    base.zip(rhs).map(|(mut x, y)| {
                        x.extend_from_slice(&y);
                        x
                    })
                }
                _ => None,
            };
            stored += val.as_ref().map_or(0, Vec::len);
            seq.entry(name.clone()).or_default().push((*eq, val));
        }
        self.seq = seq;
    }
}

pub(super) fn is_url(v: &[u8]) -> bool {
    let l = v.trim_ascii().to_ascii_lowercase();
    l.starts_with(b"http://") || l.starts_with(b"https://") || l.starts_with(b"ftp://")
}

/// The variable names among `toks`: `$x` tokens, and bare names in the languages where those
/// are variables (`idents`).
fn var_names(toks: &[Token], idents: bool) -> impl Iterator<Item = &str> {
    toks.iter().filter_map(move |t| match &t.tok {
        Tok::Var(v) => Some(v.as_str()),
        Tok::Ident(v) if idents => Some(v.as_str()),
        _ => None,
    })
}
