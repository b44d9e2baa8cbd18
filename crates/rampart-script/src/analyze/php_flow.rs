//! PHP data flow beyond plain assignments: request values passed on untouched (pure), callbacks
//! named by a string or written as closures, output-buffer handlers, `global` variables and
//! register_globals form fields.

use super::*;

/// A function of this file (or a closure) that some call runs with the values of `ranges`:
/// (scope of its body, parameters, argument ranges that feed them).
/// Functions that return their argument whole, only unescaped or decoded.
const PASS_THROUGH: &[&str] = &[
    "stripslashes",
    "trim",
    "urldecode",
    "rawurldecode",
    "base64_decode",
    "html_entity_decode",
    "str_rot13",
    "strrev",
    "hex2bin",
];

/// Keywords followed by `(` that are no calls.
const NOT_CALLS: &[&str] = &[
    "function", "fn", "if", "while", "for", "foreach", "switch", "elseif", "use",
];

/// A call of a function defined in the file: (its scope and parameters), argument range.
pub(super) type FileCall = ((u32, Vec<String>), usize, usize);

pub(super) type CallbackCall = (u32, Vec<String>, Vec<(usize, usize)>);

impl Ctx<'_> {
    /// `[a, b)` is exactly one request value: `$_GET['f']`, `@$_POST["a"]["b"]`.
    pub(super) fn is_pure_source(&self, a: usize, b: usize) -> bool {
        let mut k = a;
        loop {
            match self.tok(k) {
                Some(Tok::Op("@" | "(")) if k < b => k += 1,
                // Wrappers that keep the value whole: `stripslashes($_GET['p'])`.
                Some(Tok::Ident(f))
                    if PASS_THROUGH.contains(&f.as_str())
                        && matches!(self.tok(k + 1), Some(Tok::Op("("))) =>
                {
                    k += 2
                }
                _ => break,
            }
        }
        if !matches!(self.tok(k), Some(Tok::Var(v)) if PHP_SUPERGLOBALS.contains(&v.as_str())) {
            return false;
        }
        k += 1;
        let mut keys = 0;
        while matches!(self.tok(k), Some(Tok::Op("["))) && keys < 4 {
            // `$_FILES[f]['tmp_name']` is a path the server chose.
            if matches!(self.tok(k + 1), Some(Tok::Str { val, .. }) if val == b"tmp_name") {
                return false;
            }
            if !matches!(self.tok(k + 1), Some(Tok::Str { .. } | Tok::Num(_)))
                || !matches!(self.tok(k + 2), Some(Tok::Op("]")))
            {
                return false;
            }
            k += 3;
            keys += 1;
        }
        while matches!(self.tok(k), Some(Tok::Op(")"))) && k < b {
            k += 1;
        }
        keys > 0 && k == b
    }

    /// `[a, b)` is a request value whole: a pure source or a variable holding one.
    pub(super) fn is_pure_value(&self, a: usize, b: usize) -> bool {
        self.is_pure_source(a, b)
            || b == a + 1
                && matches!(self.tok(a), Some(Tok::Var(v)) if self.pure.contains(&(self.scope[a], v.clone())))
    }

    /// Variables that hold a request value untouched (`$f = $_GET['f']`, or a parameter
    /// called with one), and variables built by concatenation from such values
    /// (`$dest = $dir . $name`): the request chooses them whole.
    pub(super) fn pure_and_transitive_direct(
        &mut self,
        assigns: &[(usize, String, usize, usize)],
        calls: &[FileCall],
    ) {
        for (eq, name, a, b) in assigns {
            if self.toks[*eq].is_op("=") && self.is_pure_source(*a, *b) {
                self.pure.insert((self.scope[*eq], name.clone()));
            }
        }
        for ((sc, params), a, b) in calls {
            for (p, arg) in split_args(self.toks, *a, *b).into_iter().enumerate() {
                let Some(param) = params.get(p) else { break };
                let pure_var = arg.1 == arg.0 + 1
                    && matches!(self.tok(arg.0), Some(Tok::Var(v)) if self.pure.contains(&(self.scope[arg.0], v.clone())));
                if pure_var || self.is_pure_source(arg.0, arg.1) {
                    self.pure.insert((*sc, param.clone()));
                }
            }
        }
        self.direct.extend(self.pure.iter().cloned());
        if self.direct.is_empty() {
            return;
        }
        for _ in 0..2 {
            // Names first (no allocation), then the exact (scope, name).
            let names: HashSet<String> = self.direct.iter().map(|d| d.1.clone()).collect();
            let is_direct = |sc: u32, v: &String| names.contains(v) && self.direct.contains(&(sc, v.clone()));
            let mut add = Vec::new();
            for (eq, name, a, b) in assigns {
                let sc = self.scope[*eq];
                if is_direct(sc, name) {
                    continue;
                }
                let mut via = false;
                let plain = (*a..*b).all(|k| match self.tok(k) {
                    Some(Tok::Var(v)) => {
                        via |= is_direct(sc, v);
                        true
                    }
                    Some(Tok::Str { vars, .. }) => {
                        via |= vars.iter().any(|v| is_direct(sc, v));
                        true
                    }
                    Some(Tok::Num(_) | Tok::Op("." | "[" | "]")) => true,
                    _ => false,
                });
                if plain && via {
                    add.push((sc, name.clone()));
                }
            }
            if add.is_empty() {
                break;
            }
            self.direct.extend(add);
        }
    }

    /// The call whose argument list holds token `k`, looking through `array(…)` and `[…]`
    /// literals: (name token, `(`, `)`).
    fn enclosing_call(&self, k: usize) -> Option<(usize, usize, usize)> {
        let mut depth = 0u32;
        let mut j = k;
        while j > 0 && k - j < 200 {
            j -= 1;
            match self.tok(j)? {
                Tok::Op(")" | "]") => depth += 1,
                Tok::Op("[") => depth = depth.saturating_sub(1),
                Tok::Op("(") if depth > 0 => depth -= 1,
                Tok::Op("(") => match self.tok(j.checked_sub(1)?)? {
                    Tok::Ident(f) if f == "array" => {}
                    Tok::Ident(f)
                        if !NOT_CALLS.contains(&f.as_str())
                            && (j < 2 || !self.toks[j - 2].is_ident("function")) =>
                    {
                        let close = matching(self.toks, j, self.toks.len())?;
                        return Some((j - 1, j, close));
                    }
                    _ => return None,
                },
                Tok::Op(";" | "{" | "}") | Tok::End => return None,
                _ => {}
            }
        }
        None
    }

    /// Statements that print (`echo`, `print`): what an output-buffer handler receives.
    fn output_ranges(&self) -> Vec<(usize, usize)> {
        let mut out = Vec::new();
        for i in 0..self.toks.len() {
            if matches!(self.tok(i), Some(Tok::Ident(f)) if matches!(f.as_str(), "echo" | "print" | "printf" | "print_r" | "var_dump"))
                && !self.prev_is_member(i)
            {
                let mut e = i + 1;
                while e < self.toks.len()
                    && !matches!(self.tok(e), Some(Tok::Op(";") | Tok::End))
                    && e < i + 2000
                {
                    e += 1;
                }
                out.push((i + 1, e));
                if out.len() >= 256 {
                    break;
                }
            }
        }
        out
    }

    /// Functions of this file run as callbacks: named by a string argument
    /// (`filter_var($x, FILTER_CALLBACK, ['options' => 'f'])`, `array_map('f', $a)`) or
    /// written as a closure argument. Their parameters take the other arguments; an
    /// `ob_start()` handler takes what the script prints.
    pub(super) fn callback_calls(&self) -> Vec<CallbackCall> {
        let mut out: Vec<CallbackCall> = Vec::new();
        let mut printed: Option<Vec<(usize, usize)>> = None;
        let n = self.toks.len();
        for k in 0..n {
            let (sc, params) = match self.tok(k) {
                Some(Tok::Str { val, vars })
                    if vars.is_empty()
                        && !self.funcs.is_empty()
                        && (1..64).contains(&val.len())
                        && val.iter().all(|b| crate::token::is_ident_byte(*b)) =>
                {
                    let Ok(name) = std::str::from_utf8(val) else {
                        continue;
                    };
                    let found = match self.funcs.get(name) {
                        Some(f) => Some(f),
                        None if name.bytes().any(|b| b.is_ascii_uppercase()) => {
                            self.funcs.get(name.to_ascii_lowercase().as_str())
                        }
                        None => None,
                    };
                    match found {
                        Some((sc, params)) if !params.is_empty() => (*sc, params.clone()),
                        _ => continue,
                    }
                }
                Some(Tok::Ident(f))
                    if (f == "function" || f == "fn")
                        && matches!(self.tok(k + 1), Some(Tok::Op("(")))
                        && matches!(self.tok(k.wrapping_sub(1)), Some(Tok::Op("(" | ","))) =>
                {
                    let Some(close) = matching(self.toks, k + 1, n) else {
                        continue;
                    };
                    let params: Vec<String> = (k + 2..close)
                        .filter_map(|j| match self.tok(j) {
                            Some(Tok::Var(v)) => Some(v.clone()),
                            _ => None,
                        })
                        .collect();
                    if params.is_empty() {
                        continue;
                    }
                    (self.scope[k + 1], params)
                }
                _ => continue,
            };
            let Some((name_at, open, close)) = self.enclosing_call(k) else {
                continue;
            };
            let Some(Tok::Ident(call)) = self.tok(name_at) else {
                continue;
            };
            // Only calls known to run their callback with their other arguments: a function
            // of this file handed a name may call it with anything.
            let runs = PHP_CALLBACKS.iter().any(|(f, _)| f == call)
                || PHP_CALLBACK_METHODS.iter().any(|(f, _)| f == call)
                || matches!(
                    call.as_str(),
                    "filter_var" | "filter_var_array" | "filter_input" | "filter_input_array"
                );
            if !runs {
                continue;
            }
            let ranges = if call == "ob_start" {
                printed.get_or_insert_with(|| self.output_ranges()).clone()
            } else {
                split_args(self.toks, open + 1, close)
                    .into_iter()
                    .filter(|a| !(a.0..a.1).contains(&k))
                    .collect()
            };
            if !ranges.is_empty() && out.len() < 256 {
                out.push((sc, params, ranges));
            }
        }
        out
    }

    /// Variables computed from a doc comment read by reflection (`getDocComment()`): code
    /// or a function name hidden in a comment, where no signature looks.
    pub(super) fn doc_comment_vars(&mut self, assigns: &[(usize, String, usize, usize)]) {
        for _ in 0..4 {
            let before = self.comment_vars.len();
            for (_, name, a, b) in assigns {
                if self.comment_vars.contains(name) {
                    continue;
                }
                let from_comment = (*a..*b).any(|k| match self.tok(k) {
                    Some(Tok::Ident(f)) => f == "getdoccomment",
                    Some(Tok::Var(v)) => self.comment_vars.contains(v),
                    _ => false,
                });
                if from_comment && self.comment_vars.len() < 64 {
                    self.comment_vars.insert(name.clone());
                }
            }
            if self.comment_vars.len() == before {
                break;
            }
        }
    }

    /// Function names produced by a decoder function of this file from short constants and
    /// then called (`$f = d('sUrA…'); $f($x)`): a whole program whose calls are hidden.
    pub(super) fn decoded_names(
        &mut self,
        assigns: &[(usize, String, usize, usize)],
        decoder_scopes: &HashSet<u32>,
        called: &HashSet<&str>,
    ) {
        let decoders: HashSet<&str> = self
            .funcs
            .iter()
            .filter(|(_, (sc, _))| decoder_scopes.contains(sc))
            .map(|(f, _)| f.as_str())
            .collect();
        if decoders.is_empty() {
            return;
        }
        let mut hidden: Vec<(usize, String, String)> = Vec::new();
        for (eq, name, a, b) in assigns {
            if let (
                Some(Tok::Ident(f)),
                Some(Tok::Op("(")),
                Some(Tok::Str { vars, .. }),
                Some(Tok::Op(")")),
            ) = (self.tok(*a), self.tok(a + 1), self.tok(a + 2), self.tok(a + 3))
            {
                if *b == a + 4
                    && vars.is_empty()
                    && decoders.contains(f.as_str())
                    && called.contains(name.as_str())
                {
                    hidden.push((*eq, name.clone(), f.clone()));
                }
            }
        }
        for (_, name, _) in &hidden {
            self.computed_names.insert(name.clone());
        }
        if hidden.len() >= 3 {
            let (eq, _, f) = &hidden[0];
            let (eq, f) = (*eq, f.clone());
            self.reason(
                "deobf.name-decoder",
                100,
                eq,
                format!("{} function names decoded at run time by {f}(), a decoding loop of this file, and called", hidden.len()),
            );
        }
    }

    /// `global $x, $y;` inside functions: variable name → the function scopes declaring it.
    pub(super) fn global_decls(&self) -> HashMap<String, Vec<u32>> {
        let mut out: HashMap<String, Vec<u32>> = HashMap::new();
        for i in 0..self.toks.len() {
            if !self.toks[i].is_ident("global") || self.scope[i] == 0 {
                continue;
            }
            let sc = self.scope[i];
            let mut k = i + 1;
            while let Some(Tok::Var(v)) = self.tok(k) {
                let e = out.entry(v.clone()).or_default();
                if !e.contains(&sc) && e.len() < 256 {
                    e.push(sc);
                }
                if !matches!(self.tok(k + 1), Some(Tok::Op(","))) {
                    break;
                }
                k += 2;
            }
        }
        out
    }

    /// register_globals scripts: a `global $x` that nothing in the file sets, where `x` is a
    /// field of a form (or a query parameter of a link) the script itself prints. Under
    /// register_globals the request fills it.
    pub(super) fn form_field_globals(
        &mut self,
        assigns: &[(usize, String, usize, usize)],
        globals: &HashMap<String, Vec<u32>>,
    ) {
        let mut unset: HashSet<&str> = globals
            .keys()
            .filter(|g| !matches!(g.as_str(), "_server" | "_env" | "_session" | "globals" | "this"))
            .map(String::as_str)
            .collect();
        for (eq, name, _, _) in assigns {
            let sc = self.scope[*eq];
            if unset.contains(name.as_str()) && (sc == 0 || globals[name].contains(&sc)) {
                unset.remove(name.as_str());
            }
        }
        if unset.is_empty() {
            return;
        }
        // register_globals code predates the superglobals (PHP 4.1): a script that reads
        // `$_GET` & co. takes its input from there, its globals come from other files.
        let modern = self.toks.iter().any(
            |t| matches!(&t.tok, Tok::Var(v) if matches!(v.as_str(), "_get" | "_post" | "_request" | "_cookie" | "_files")),
        );
        if modern {
            return;
        }
        // Bound some other way in the file's own scope (foreach, list(), a by-reference call).
        for k in 0..self.toks.len() {
            if self.scope[k] == 0 {
                if let Some(Tok::Var(v)) = self.tok(k) {
                    if unset.contains(v.as_str()) && self.bound_elsewhere(v) {
                        unset.remove(v.as_str());
                    }
                }
            }
        }
        if unset.is_empty() {
            return;
        }
        let mut fields: Vec<(usize, String)> = Vec::new();
        for k in 0..self.toks.len() {
            if let Some(Tok::Str { val, .. }) = self.tok(k) {
                if val.len() < 4096 {
                    for f in form_fields(val) {
                        if unset.contains(f.as_str()) && !fields.iter().any(|x| x.1 == f) {
                            fields.push((k, f));
                        }
                    }
                }
            }
        }
        for (k, f) in fields {
            self.tainted.insert((0, f.clone()));
            for sc in &globals[&f] {
                self.tainted.insert((*sc, f.clone()));
            }
            self.reason(
                "php.register-globals-field",
                0,
                k,
                format!(
                    "${f} is never set but is a field of a form the script prints (register_globals input)"
                ),
            );
        }
    }
}

/// Field names a piece of HTML submits: `name=x`, `name="x"`, and `?x=` / `&x=` in links.
fn form_fields(s: &[u8]) -> Vec<String> {
    let ident = |b: &u8| crate::token::is_ident_byte(*b);
    let mut out = Vec::new();
    for eq in memchr::memchr_iter(b'=', s) {
        if out.len() >= 64 {
            break;
        }
        let start = eq - s[..eq].iter().rev().take_while(|b| ident(b)).count();
        let word = &s[start..eq];
        let field = if word.eq_ignore_ascii_case(b"name") {
            let j = eq
                + 1
                + s[eq + 1..]
                    .iter()
                    .take_while(|b| matches!(b, b'"' | b'\'' | b'\\'))
                    .count();
            let e = j + s[j..].iter().take_while(|b| ident(b)).count();
            &s[j..e]
        } else if start > 0 && matches!(s[start - 1], b'?' | b'&' | b';') {
            // `&amp;x=` ends in `;`.
            if s[start - 1] == b';' && !s[..start].ends_with(b"&amp;") {
                continue;
            }
            word
        } else {
            continue;
        };
        if !field.is_empty() && field.len() < 40 && field[0].is_ascii_alphabetic() {
            out.push(String::from_utf8_lossy(field).to_ascii_lowercase());
        }
    }
    out
}
