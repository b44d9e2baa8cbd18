//! Scoring: request input (sources) reaching code or command execution (sinks), through at
//! most a few assignments; decoded payloads analysed again one layer deeper.

use crate::decode;
use crate::eval::{is_decoder, matching, split_args, Evaluator};
use crate::lex_other::{self, find_ci, Dialect};
use crate::lex_php;
use crate::token::{Tok, Token};
use crate::{Lang, Reason, Verdict};
use std::collections::{HashMap, HashSet};

const MAX_TOKENS: usize = 1_500_000;
const MAX_DEPTH: u8 = 6;
/// Payload bytes analysed again over all layers of one file.
const MAX_PAYLOAD_TOTAL: usize = 4 << 20;

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Flavor {
    Php,
    Java,
    CSharp,
    JScript,
    Vbs,
}

pub fn run(src: &[u8], hint: Lang) -> Verdict {
    let mut budget = Budget {
        payload: MAX_PAYLOAD_TOTAL,
    };
    let mut reasons = Vec::new();
    let lang = file_layer(src, hint, 0, &mut budget, &mut reasons);
    finish(lang, reasons)
}

struct Budget {
    payload: usize,
}

fn finish(lang: Lang, mut reasons: Vec<Reason>) -> Verdict {
    let mut best: HashMap<&'static str, u32> = HashMap::new();
    for r in &reasons {
        let e = best.entry(r.signal).or_insert(0);
        *e = (*e).max(r.weight);
    }
    let score = best.values().sum();
    // Keep the report short: the first occurrence of each signal plus up to 20 more.
    let mut seen = HashSet::new();
    let mut kept = Vec::new();
    let mut extra = 0;
    reasons.sort_by_key(|r| (r.layer, r.line));
    for r in reasons {
        if seen.insert((r.signal, r.layer)) {
            kept.push(r);
        } else if extra < 20 {
            extra += 1;
            kept.push(r);
        }
    }
    Verdict {
        lang,
        score,
        reasons: kept,
    }
}

/// Analyses one layer as a file (markup with code regions). Returns the language used.
fn file_layer(src: &[u8], hint: Lang, layer: u8, budget: &mut Budget, reasons: &mut Vec<Reason>) -> Lang {
    let mut lang = hint;
    let php = hint == Lang::Php || lex_php::has_open_tag(src);
    if php {
        let toks = lex_php::lex(src, false, MAX_TOKENS);
        analyze_tokens(&toks, Flavor::Php, layer, false, budget, reasons);
        if hint == Lang::Unknown {
            lang = Lang::Php;
        }
    }
    let has_pct = lex_php::find(src, b"<%").is_some()
        || find_ci(src, b"runat").is_some()
        || lex_php::find(src, b"<jsp:").is_some();
    let server = match hint {
        Lang::Jsp | Lang::Asp | Lang::Aspx => true,
        _ => has_pct && (!php || lex_php::find(src, b"<%").is_some()),
    };
    if server {
        let flavor = server_flavor(src, hint);
        if lang == Lang::Unknown {
            lang = match flavor {
                Flavor::Java => Lang::Jsp,
                Flavor::Vbs => Lang::Asp,
                _ => Lang::Aspx,
            };
        }
        let dialect = if flavor == Flavor::Vbs {
            Dialect::VbScript
        } else {
            Dialect::CLike
        };
        let regions = lex_other::regions(src);
        let mut toks = Vec::new();
        if regions.is_empty() {
            lex_other::lex(src, dialect, 1, &mut toks, MAX_TOKENS);
        } else {
            for r in regions {
                let body = &src[r.start..r.end.max(r.start)];
                if flavor == Flavor::Java && lex_php::find(body, b"&quot;").is_some()
                    || lex_php::find(body, b"&lt;").is_some()
                {
                    let un = lex_other::xml_unescape(body);
                    lex_other::lex(&un, dialect, r.line, &mut toks, MAX_TOKENS);
                } else {
                    lex_other::lex(body, dialect, r.line, &mut toks, MAX_TOKENS);
                }
            }
        }
        let controls = flavor != Flavor::Java
            && (find_ci(src, b"<asp:textbox").is_some()
                || find_ci(src, b"HtmlInputText").is_some()
                || find_ci(src, b"<input").is_some() && find_ci(src, b"runat").is_some());
        analyze_tokens(&toks, flavor, layer, controls, budget, reasons);
    }
    raw_signals(src, layer, reasons);
    lang
}

/// The server language of an ASP/JSP page: its directive, else the extension's default.
fn server_flavor(src: &[u8], hint: Lang) -> Flavor {
    let head = &src[..src.len().min(64 << 10)];
    if let Some(p) = find_ci(head, b"language") {
        let tail = &head[p..head.len().min(p + 40)];
        let t = String::from_utf8_lossy(tail).to_ascii_lowercase();
        if t.contains("c#") || t.contains("csharp") {
            return Flavor::CSharp;
        }
        if t.contains("jscript") || t.contains("javascript") {
            return Flavor::JScript;
        }
        if t.contains("vb") {
            return if hint == Lang::Aspx {
                Flavor::CSharp
            } else {
                Flavor::Vbs
            };
        }
        if t.contains("java") {
            return Flavor::Java;
        }
    }
    match hint {
        Lang::Jsp => Flavor::Java,
        Lang::Asp => Flavor::Vbs,
        Lang::Aspx => Flavor::CSharp,
        _ => {
            if find_ci(head, b"<%@ page import").is_some() || find_ci(head, b"java.").is_some() {
                Flavor::Java
            } else if find_ci(head, b"system.").is_some() {
                Flavor::CSharp
            } else {
                Flavor::Vbs
            }
        }
    }
}

/// Signals read from the raw bytes: encoded blobs, entropy, well-known shell families.
fn raw_signals(src: &[u8], layer: u8, reasons: &mut Vec<Reason>) {
    if layer > 0 {
        return;
    }
    const FAMILIES: &[&[u8]] = &[
        b"FilesMan",
        b"c99shell",
        b"r57shell",
        b"b374k",
        b"WSO ",
        b"Web Shell by",
        b"webshell",
        b"WebShell",
        b"phpspy",
        b"Behinder",
        b"antSword",
    ];
    for f in FAMILIES {
        if lex_php::find(src, f).is_some() {
            reasons.push(Reason {
                signal: "fingerprint.family",
                weight: if matches!(&f[..2], b"We" | b"we" | b"WS") {
                    60
                } else {
                    100
                },
                line: 0,
                layer,
                detail: format!(
                    "names a known webshell family: {}",
                    String::from_utf8_lossy(f).trim()
                ),
            });
            break;
        }
    }
}

struct Ctx<'a> {
    toks: &'a [Token],
    flavor: Flavor,
    layer: u8,
    tainted: HashSet<(u32, String)>,
    /// Function scope of each token (PHP variables are local to their function).
    scope: Vec<u32>,
    /// An ASP.NET page with server-side input controls: their `.Text` is request input.
    web_controls: bool,
    /// A PHP string literal names an exec function outside of feature checks.
    exec_literal: bool,
    /// Variables assigned straight from request input (one hop).
    direct: HashSet<(u32, String)>,
    /// Request-controlled database connection / SQL seen (ASP.NET, JSP).
    db: (bool, bool),
    db_reported: bool,
    /// Variables assigned (or bound) anywhere in the file: others read in global scope come
    /// from outside, e.g. register_globals request input.
    assigned: HashSet<String>,
    /// File operations (unlink, rmdir, chmod …) whose arguments carry request input.
    fs_ops: HashSet<String>,
    consts: HashMap<String, Option<Vec<u8>>>,
    funcs: HashMap<String, (u32, Vec<String>)>,
    reasons: Vec<Reason>,
}

const PHP_SUPERGLOBALS: &[&str] = &[
    "_get",
    "_post",
    "_request",
    "_cookie",
    "_files",
    "http_get_vars",
    "http_post_vars",
    "http_cookie_vars",
    "http_post_files",
    "http_raw_post_data",
];

const PHP_CODE_SINKS: &[&str] = &["eval", "assert", "create_function"];
const PHP_CMD_SINKS: &[&str] = &[
    "system",
    "exec",
    "passthru",
    "shell_exec",
    "popen",
    "proc_open",
    "pcntl_exec",
    "expect_popen",
];
/// Callback-taking functions and the position of their callback argument.
const PHP_CALLBACKS: &[(&str, usize)] = &[
    ("call_user_func", 0),
    ("call_user_func_array", 0),
    ("forward_static_call", 0),
    ("forward_static_call_array", 0),
    ("array_map", 0),
    ("array_filter", 1),
    ("array_walk", 1),
    ("array_walk_recursive", 1),
    ("array_reduce", 1),
    ("usort", 1),
    ("uasort", 1),
    ("uksort", 1),
    ("register_shutdown_function", 0),
    ("register_tick_function", 0),
    ("ob_start", 0),
    ("iterator_apply", 1),
    ("set_error_handler", 0),
    ("set_exception_handler", 0),
    ("spl_autoload_register", 0),
    ("header_register_callback", 0),
    ("array_diff_ukey", 2),
    ("array_intersect_ukey", 2),
    ("array_udiff", 2),
    ("preg_replace_callback", 1),
    ("mb_ereg_replace_callback", 1),
];
const SANITIZERS: &[&str] = &[
    "escapeshellarg",
    "escapeshellcmd",
    "intval",
    "floatval",
    "(int)",
    "(bool)",
    "(float)",
    "is_numeric",
    "is_array",
    "isset",
    "empty",
    "count",
    "strlen",
    "md5",
    "sha1",
    "crc32",
    "hash",
    "htmlspecialchars",
    "htmlentities",
    "basename",
    "in_array",
    "array_key_exists",
    "preg_match",
    "is_file",
    "is_dir",
    "file_exists",
    "parseint",
    "ctype_digit",
    "ctype_alnum",
    "preg_quote",
    "addslashes",
    "mysql_real_escape_string",
    "mysqli_real_escape_string",
    "urlencode",
    "rawurlencode",
    "json_encode",
    "strip_tags",
    "sanitize_file_name",
    "realpath",
    "equals",
    "equalsignorecase",
    "startswith",
];

/// Functions that run code or commands when called by name.
fn is_exec_name(v: &[u8]) -> Option<&'static str> {
    let d = is_dangerous_name(v)?;
    matches!(
        d,
        "eval"
            | "assert"
            | "system"
            | "exec"
            | "passthru"
            | "shell_exec"
            | "popen"
            | "proc_open"
            | "pcntl_exec"
            | "create_function"
            | "call_user_func"
            | "preg_replace"
            | "file_put_contents"
            | "executeglobal"
            | "execute"
    )
    .then_some(d)
}

fn is_dangerous_name(v: &[u8]) -> Option<&'static str> {
    const NAMES: &[&str] = &[
        "eval",
        "assert",
        "system",
        "exec",
        "passthru",
        "shell_exec",
        "popen",
        "proc_open",
        "pcntl_exec",
        "create_function",
        "base64_decode",
        "gzinflate",
        "gzuncompress",
        "str_rot13",
        "call_user_func",
        "preg_replace",
        "file_put_contents",
        "move_uploaded_file",
        "execute",
        "executeglobal",
        "wscript.shell",
        "shell.application",
        "cmd.exe",
        "/bin/sh",
        "_post",
        "_get",
        "_request",
        "_cookie",
        "getruntime",
        "processbuilder",
        "defineclass",
    ];
    let s = std::str::from_utf8(v).ok()?.trim().to_ascii_lowercase();
    NAMES.iter().find(|n| **n == s).copied()
}

fn analyze_tokens(
    toks: &[Token],
    flavor: Flavor,
    layer: u8,
    web_controls: bool,
    budget: &mut Budget,
    out: &mut Vec<Reason>,
) {
    if toks.is_empty() {
        return;
    }
    let mut cx = Ctx {
        toks,
        flavor,
        layer,
        tainted: HashSet::new(),
        scope: Vec::new(),
        web_controls,
        exec_literal: false,
        assigned: HashSet::new(),
        db: (false, false),
        direct: HashSet::new(),
        db_reported: false,
        fs_ops: HashSet::new(),
        consts: HashMap::new(),
        funcs: HashMap::new(),
        reasons: Vec::new(),
    };
    cx.compute_scopes();
    cx.collect_functions();
    cx.propagate();
    let payloads = cx.sinks();
    out.append(&mut cx.reasons);
    if layer < MAX_DEPTH {
        for (line, steps, bytes) in payloads {
            if budget.payload < bytes.len() {
                break;
            }
            budget.payload -= bytes.len();
            let before = out.len();
            let mut sub = Vec::new();
            // An eval'd PHP payload has no open tag; other decoded blobs may be whole files.
            if flavor == Flavor::Php && !lex_php::has_open_tag(&bytes) {
                let t = lex_php::lex(&bytes, true, MAX_TOKENS);
                analyze_tokens(&t, Flavor::Php, layer + 1, false, budget, &mut sub);
            } else {
                let hint = match flavor {
                    Flavor::Php => Lang::Php,
                    Flavor::Java => Lang::Jsp,
                    Flavor::Vbs => Lang::Asp,
                    _ => Lang::Aspx,
                };
                file_layer(&bytes, hint, layer + 1, budget, &mut sub);
            }
            if !sub.is_empty() {
                out.push(Reason {
                    signal: "deobf.layer",
                    weight: 10,
                    line,
                    layer,
                    detail: format!(
                        "decoded payload ({} bytes) via {}",
                        bytes.len(),
                        steps.join(" ← ")
                    ),
                });
            }
            out.append(&mut sub);
            let _ = before;
        }
    }
}

impl Ctx<'_> {
    fn tok(&self, i: usize) -> Option<&Tok> {
        self.toks.get(i).map(|t| &t.tok)
    }

    fn line(&self, i: usize) -> u32 {
        self.toks.get(i).map(|t| t.line).unwrap_or(0)
    }

    fn reason(&mut self, signal: &'static str, weight: u32, at: usize, detail: String) {
        let line = self.line(at);
        if self.reasons.len() < 500 {
            self.reasons.push(Reason {
                signal,
                weight,
                line,
                layer: self.layer,
                detail,
            });
        }
    }

    fn idents_are_vars(&self) -> bool {
        self.flavor != Flavor::Php
    }

    fn prev_is_member(&self, i: usize) -> bool {
        i > 0 && matches!(self.tok(i - 1), Some(Tok::Op("->" | "::" | "?->")))
            || (i > 0 && self.flavor != Flavor::Php && matches!(self.tok(i - 1), Some(Tok::Op("."))))
    }

    /// The identifier before `.` at `i - 1` (the object a method is called on), if any.
    fn receiver(&self, i: usize) -> Option<&str> {
        if i >= 2 && matches!(self.tok(i - 1), Some(Tok::Op("."))) {
            if let Some(Tok::Ident(n)) = self.tok(i - 2) {
                return Some(n);
            }
            if matches!(self.tok(i - 2), Some(Tok::Op(")"))) && i >= 4 {
                if let Some(Tok::Ident(n)) = self.tok(i - 4) {
                    return Some(n);
                }
                if let Some(Tok::Ident(n)) = self.tok(i - 3) {
                    return Some(n);
                }
            }
        }
        None
    }

    /// Whether token `i` is request input.
    fn is_source(&self, i: usize) -> Option<String> {
        match self.tok(i)? {
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

    fn var_name(&self, i: usize) -> Option<&str> {
        match self.tok(i)? {
            Tok::Var(n) => Some(n),
            Tok::Ident(n) if self.idents_are_vars() && !matches!(self.tok(i + 1), Some(Tok::Op("("))) => {
                Some(n)
            }
            _ => None,
        }
    }

    /// First request input or tainted variable in `[a, b)`, skipping sanitiser calls.
    fn tainted_in(&self, a: usize, b: usize) -> Option<String> {
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
    fn expr_end(&self, i: usize) -> usize {
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

    fn collect_functions(&mut self) {
        for i in 0..self.toks.len() {
            if !self.toks[i].is_ident("function") {
                continue;
            }
            let Some(Tok::Ident(name)) = self.tok(i + 1) else {
                continue;
            };
            if !matches!(self.tok(i + 2), Some(Tok::Op("("))) {
                continue;
            }
            let Some(close) = matching(self.toks, i + 2, self.toks.len()) else {
                continue;
            };
            let params: Vec<String> = (i + 3..close)
                .filter_map(|k| match self.tok(k) {
                    Some(Tok::Var(v)) => Some(v.clone()),
                    _ => None,
                })
                .collect();
            let name = name.clone();
            let scope = self.scope.get(close + 1).copied().unwrap_or(0);
            self.funcs.insert(name, (scope, params));
        }
    }

    /// Gives the tokens of each PHP function body their own scope number.
    fn compute_scopes(&mut self) {
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

    fn is_tainted(&self, at: usize, name: &str) -> bool {
        let sc = self.scope.get(at).copied().unwrap_or(0);
        self.tainted.contains(&(sc, name.to_string()))
    }

    /// Assignment target: the base variable of `$a`, `$a['x']`, `$o->p`, `obj.Prop`.
    fn lvalue_base(&self, eq: usize) -> Option<(usize, String)> {
        let mut k = eq.checked_sub(1)?;
        let mut guard = 0;
        loop {
            guard += 1;
            if guard > 50 {
                return None;
            }
            match self.tok(k)? {
                Tok::Op("]") => {
                    // Walk back to the matching `[`.
                    let mut depth = 0i32;
                    loop {
                        match self.tok(k)? {
                            Tok::Op("]") => depth += 1,
                            Tok::Op("[") => {
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
    fn propagate(&mut self) {
        let n = self.toks.len();
        let mut assigns: Vec<(usize, String, usize, usize)> = Vec::new();
        let mut lists: Vec<(Vec<String>, usize, usize)> = Vec::new();
        let mut const_count: HashMap<String, u32> = HashMap::new();
        for i in 0..n {
            let Some(Tok::Op(op)) = self.tok(i) else { continue };
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
        self.assigned.extend(assigns.iter().map(|a| a.1.clone()));
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
        // Constants: variables assigned exactly once from a constant expression.
        let consts_empty = HashMap::new();
        let mut hidden = Vec::new();
        for round in 0..3 {
            let snapshot = if round == 0 {
                &consts_empty
            } else {
                &self.consts.clone()
            };
            let ev = Evaluator {
                toks: self.toks,
                consts: snapshot,
                idents_are_vars: self.idents_are_vars(),
                budget: std::cell::Cell::new(200_000),
            };
            let mut found = Vec::new();
            for (eq, name, a, b) in &assigns {
                if const_count.get(name) != Some(&1) || !self.toks[*eq].is_op("=") {
                    continue;
                }
                if let Some((v, j)) = ev.concat(*a, *b, 0) {
                    if j == *b {
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
            if (*a..*b).any(|k| self.is_source(k).is_some()) {
                self.direct.insert((self.scope[*eq], name.clone()));
            }
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
            self.tainted.extend(add);
            if self.tainted.len() == before {
                break;
            }
        }
    }

    fn evaluator(&self) -> Evaluator<'_> {
        Evaluator {
            toks: self.toks,
            consts: &self.consts,
            idents_are_vars: self.idents_are_vars(),
            budget: std::cell::Cell::new(100_000),
        }
    }

    /// Call arguments of the call whose `(` is at `open`.
    fn args(&self, open: usize) -> Option<(usize, Vec<(usize, usize)>)> {
        let close = matching(self.toks, open, self.toks.len())?;
        Some((close, split_args(self.toks, open + 1, close)))
    }

    /// Finds sinks; returns decoded payloads to analyse one layer down.
    fn sinks(&mut self) -> Vec<(u32, Vec<&'static str>, Vec<u8>)> {
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
                                let cand = if decode::looks_like_code(&b) {
                                    Some((vec!["base64_decode"], b))
                                } else {
                                    decode::any_deflate(&b)
                                        .filter(|d| decode::looks_like_code(d))
                                        .map(|d| (vec!["base64_decode", "gzinflate"], d))
                                };
                                if let Some((steps, bytes)) = cand {
                                    payloads.push((self.line(i), steps, bytes));
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
    fn unbound_global(&self, r: (usize, usize)) -> Option<String> {
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
    fn bound_elsewhere(&self, v: &str) -> bool {
        self.toks.iter().enumerate().any(|(k, t)| {
            matches!(&t.tok, Tok::Var(x) if x == v)
                && (self.scope.get(k) != Some(&0)
                    || matches!(self.tok(k.wrapping_sub(1)), Some(Tok::Ident(w)) if matches!(w.as_str(), "as" | "global" | "static" | "list"))
                    || matches!(self.tok(k.wrapping_sub(1)), Some(Tok::Op("=>" | "&" | "," | "(" | "[")))
                    || matches!(self.tok(k + 1), Some(Tok::Op("=" | ".=" | "+=" | "++" | "--" | "->" | "[")) ))
        })
    }

    fn has_any_source(&self) -> bool {
        (0..self.toks.len()).any(|k| self.is_source(k).is_some())
    }

    /// A string literal that is exactly an exec function's name, not inside a feature check
    /// (`function_exists('exec')`) or a comparison.
    fn is_exec_literal(&self, k: usize) -> bool {
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
    fn is_code_sink_arg(&self, i: usize) -> bool {
        let mut k = i;
        while k > 0 && matches!(self.tok(k - 1), Some(Tok::Op("@"))) {
            k -= 1;
        }
        k >= 2
            && matches!(self.tok(k - 1), Some(Tok::Op("(")))
            && matches!(self.tok(k - 2), Some(Tok::Ident(n)) if PHP_CODE_SINKS.contains(&n.as_str()))
    }

    fn dynamic_call(&mut self, i: usize, var: Option<String>, open: usize) {
        let Some(v) = var else { return };
        let Some((_close, args)) = self.args(open) else {
            return;
        };
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
        if let Some(Some(val)) = self.consts.get(&v) {
            if let Some(d) = is_exec_name(val) {
                let src = args.iter().find_map(|a| self.tainted_in(a.0, a.1));
                match src {
                    Some(s) => self.reason(
                        "php.flow.variable-function",
                        100,
                        i,
                        format!("${v} is `{d}`, called with request input {s}"),
                    ),
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

    #[allow(clippy::too_many_arguments)]
    fn php_call(
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
                    if name == "reflectionfunction" {
                        if let Some(src) = tainted {
                            self.reason(
                                "php.flow.callback",
                                100,
                                i,
                                format!("{name} of a function named by request input {src}"),
                            );
                        }
                    } else if PHP_CALLBACKS.iter().any(|(f, _)| *f == name)
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
        if let Some((_, pos)) = PHP_CALLBACKS.iter().find(|(f, _)| *f == name) {
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
            // A callback name computed at run time (`$a[1].$a[3]`, `~"..."`) with request input as argument.
            let computed = (cb.0..cb.1).any(|k| matches!(self.tok(k), Some(Tok::Op("." | "~"))));
            if computed {
                let src = args
                    .iter()
                    .enumerate()
                    .filter(|(k, _)| k != pos)
                    .find_map(|(_, a)| self.tainted_in(a.0, a.1));
                if let Some(s) = src {
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
                if let Some(src) = self.tainted_in(range.0, range.1) {
                    // `include($_GET['x'])` with nothing around it: any file or URL.
                    let mut a = range.0;
                    while matches!(self.tok(a), Some(Tok::Op("(" | "@"))) {
                        a += 1;
                    }
                    let direct = self.is_source(a).is_some()
                        && !(a..range.1).any(|k| {
                            matches!(self.tok(k), Some(Tok::Op(".")) | Some(Tok::Str { .. })) && k > a + 3
                        });
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
            "file_put_contents" => {
                let dest = args.first().and_then(|a| self.tainted_in(a.0, a.1));
                let data = args.get(1).and_then(|a| self.tainted_in(a.0, a.1));
                if let (Some(d), Some(c)) = (dest, data) {
                    self.reason(
                        "php.flow.file-write",
                        80,
                        i,
                        format!("file_put_contents() writes request input {c} to a path from {d}"),
                    );
                }
            }
            "fwrite" | "fputs" => {
                if let Some(c) = args.get(1).and_then(|a| self.tainted_in(a.0, a.1)) {
                    self.reason(
                        "php.flow.file-write-data",
                        30,
                        i,
                        format!("{name}() writes request input {c}"),
                    );
                }
            }
            "move_uploaded_file" | "copy" => {
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

    #[allow(clippy::too_many_arguments)]
    fn other_call(
        &mut self,
        i: usize,
        name: &str,
        call: bool,
        payloads: &mut Vec<(u32, Vec<&'static str>, Vec<u8>)>,
        cmd_sinks: &mut HashSet<String>,
        code_sink_var: &mut bool,
    ) {
        let member = self.prev_is_member(i);
        let receiver = self.receiver(i).map(str::to_string);
        let range = if call {
            match self.args(i + 1) {
                Some((close, _)) => (i + 2, close),
                None => return,
            }
        } else {
            // VBScript calls without parentheses; Java `new ProcessBuilder(...)` has them.
            let e = self.expr_end(i + 1);
            (i + 1, e)
        };
        let vbs = self.flavor == Flavor::Vbs;
        // Database shells: the request supplies both the connection and the SQL.
        let db_conn = matches!(
            name,
            "sqlconnection" | "oledbconnection" | "odbcconnection" | "mysqlconnection" | "getconnection"
        ) && call;
        let db_cmd = matches!(
            name,
            "sqlcommand" | "oledbcommand" | "odbccommand" | "mysqlcommand" | "executequery" | "executeupdate"
        ) && call;
        let prop = matches!(name, "connectionstring" | "commandtext")
            && member
            && matches!(self.tok(i + 1), Some(Tok::Op("=")));
        if db_conn || db_cmd || prop {
            let r = if prop {
                (i + 2, self.expr_end(i + 2))
            } else {
                range
            };
            if self.tainted_in(r.0, r.1).is_some() {
                if db_conn || name == "connectionstring" {
                    self.db.0 = true;
                } else {
                    self.db.1 = true;
                }
                if self.db == (true, true) && !self.db_reported {
                    self.db_reported = true;
                    self.reason(
                        "flow.sql-shell",
                        100,
                        i,
                        "request input supplies both the database connection and the SQL to run".into(),
                    );
                }
            }
            return;
        }
        // JScript.NET `eval(code, "unsafe")`: full trust for the evaluated code.
        if name == "eval" && call && self.flavor == Flavor::JScript {
            if let Some((_, args)) = self.args(i + 1) {
                let ev = self.evaluator();
                if args.iter().skip(1).any(|a| {
                    ev.concat(a.0, a.1, 0)
                        .is_some_and(|(v, _)| v.bytes.eq_ignore_ascii_case(b"unsafe"))
                }) {
                    self.reason(
                        "flow.code",
                        100,
                        i,
                        "JScript eval(…, \"unsafe\") runs code with full trust".into(),
                    );
                }
            }
        }
        let (kind, label): (&str, String) = match name {
            "eval"
                if !member
                    || receiver
                        .as_deref()
                        .is_some_and(|r| r.contains("engine") || r == "se") =>
            {
                ("code", "eval".into())
            }
            "execute" | "executeglobal" if vbs && !member => ("code", name.into()),
            "exec" | "run" | "shellexecute" if member && (call || vbs) => ("cmd", format!(".{name}()")),
            "start" if receiver.as_deref() == Some("process") => ("cmd", "Process.Start()".into()),
            "processstartinfo" | "processbuilder" if call => ("cmd", format!("new {name}()")),
            "command" if member && call => ("cmd", ".command()".into()),
            "load" if receiver.as_deref() == Some("assembly") && call => ("code", "Assembly.Load()".into()),
            "defineclass" if call => ("code", "defineClass()".into()),
            "invoke" | "invokemember" if member && call => ("reflect", format!(".{name}()")),
            "forname" | "loadclass" | "newinstance" | "getmethod" if call => ("reflect", format!("{name}()")),
            // File system writes and deletes: FSO / ADODB.Stream (ASP), System.IO (C#), java.io.
            "createtextfile" | "opentextfile" | "savetofile" | "copyfile" | "movefile" | "deletefile"
            | "deletefolder" | "createfolder" | "copyfolder" | "writealltext" | "writeallbytes"
            | "appendalltext" | "saveas" | "fileoutputstream" | "filewriter" | "randomaccessfile"
            | "printwriter"
                if call || (vbs && member) =>
            {
                ("file", format!("{name}()"))
            }
            "arguments" | "filename" if member && matches!(self.tok(i + 1), Some(Tok::Op("="))) => {
                let e = self.expr_end(i + 2);
                if let Some(src) = self.tainted_in(i + 2, e) {
                    self.reason(
                        "flow.command",
                        100,
                        i,
                        format!("request input {src} set as the process {name}"),
                    );
                }
                cmd_sinks.insert(format!("ProcessStartInfo.{name}"));
                return;
            }
            _ => return,
        };
        match kind {
            "cmd" => {
                cmd_sinks.insert(label.clone());
                if let Some(src) = self.tainted_in(range.0, range.1) {
                    self.reason(
                        "flow.command",
                        100,
                        i,
                        format!("request input {src} reaches {label}"),
                    );
                }
            }
            "code" => {
                if let Some(src) = self.tainted_in(range.0, range.1) {
                    self.reason(
                        "flow.code",
                        100,
                        i,
                        format!("request input {src} reaches {label}"),
                    );
                } else {
                    let ev = self.evaluator();
                    if let Some((v, j)) = ev.concat(range.0, range.1, 0) {
                        if j == range.1 && (v.pieces > 2 || !v.steps.is_empty()) {
                            self.reason(
                                "deobf.eval-decoded",
                                100,
                                i,
                                format!("{label} of a constant built from {} pieces", v.pieces),
                            );
                            if payloads.len() < 64 {
                                payloads.push((self.line(i), vec!["eval"], v.bytes));
                            }
                        }
                    } else {
                        *code_sink_var = true;
                    }
                    if label == "defineClass()" || label == "Assembly.Load()" {
                        self.reason(
                            "capability.classload",
                            60,
                            i,
                            format!("{label} loads code at run time"),
                        );
                    }
                }
            }
            "file" => {
                if let Some(src) = self.tainted_in(range.0, range.1) {
                    self.reason(
                        "flow.file",
                        100,
                        i,
                        format!("request input {src} names the file of {label}"),
                    );
                }
            }
            _ => {
                if let Some(src) = self.tainted_in(range.0, range.1) {
                    self.reason(
                        "flow.reflection",
                        60,
                        i,
                        format!("request input {src} reaches {label}"),
                    );
                }
            }
        }
    }
}

fn name_static(name: &str) -> &'static str {
    match name {
        "eval" => "eval",
        "assert" => "assert",
        "create_function" => "create_function",
        _ => "code",
    }
}

/// Whether a PCRE pattern literal carries the `e` modifier.
fn regex_has_e(p: &[u8]) -> bool {
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
