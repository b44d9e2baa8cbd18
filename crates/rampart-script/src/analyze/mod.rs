//! Scoring: request input (sources) reaching code or command execution (sinks), through at
//! most a few assignments; decoded payloads analysed again one layer deeper.

use crate::decode;
use crate::eval::{is_decoder, matching, split_args, Evaluator};
use crate::lex_other::{self, find_ci, Dialect};
use crate::lex_php;
use crate::token::{Tok, Token};
use crate::{Lang, Reason, Verdict};
use std::collections::{HashMap, HashSet};

mod capabilities;
mod other_calls;
mod perl;
mod php_calls;
mod php_flow;
mod raw;
mod sinks;
mod taint;

use raw::raw_signals;

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
        binary: memchr::memchr(0, &src[..src.len().min(64 << 10)]).is_some(),
    };
    let mut reasons = Vec::new();
    let lang = file_layer(src, hint, 0, &mut budget, &mut reasons);
    finish(lang, reasons)
}

/// Per-file limits and facts shared by every layer.
struct Budget {
    payload: usize,
    /// The file holds NUL bytes (an image or archive with a PHP tag somewhere): byte-pattern
    /// signals would fire on noise.
    binary: bool,
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
    if layer < MAX_DEPTH && crate::screnc::has_encoded(src) && budget.payload >= src.len() {
        if let Some(plain) = crate::screnc::decode_blocks(src) {
            budget.payload -= src.len();
            reasons.push(Reason {
                signal: "deobf.script-encoder",
                weight: 30,
                line: 0,
                layer,
                detail: "Script Encoder (#@~^…^#~@) block decoded".into(),
            });
            let hint = if hint == Lang::Unknown { Lang::Asp } else { hint };
            return file_layer(&plain, hint, layer + 1, budget, reasons);
        }
    }
    if layer < MAX_DEPTH && budget.binary && budget.payload >= src.len() {
        if let Some(text) = decode::utf16_text(src) {
            budget.payload -= src.len();
            budget.binary = memchr::memchr(0, &text).is_some();
            reasons.push(Reason {
                signal: "deobf.utf16",
                weight: 10,
                line: 0,
                layer,
                detail: "script saved as UTF-16, decoded".into(),
            });
            return file_layer(&text, hint, layer + 1, budget, reasons);
        }
    }
    if layer == 0 && budget.payload >= src.len() {
        // `<%@ codepage=65000 %>`: the page is UTF-7, so `+AGU-` spells `e`.
        let head = &src[..src.len().min(4096)];
        let utf7 = lex_php::find(head, b"65000").is_some_and(|q| {
            let before = &head[q.saturating_sub(14)..q];
            find_ci(before, b"codepage").is_some()
        });
        {
            if utf7 && src.contains(&b'+') {
                budget.payload -= src.len();
                reasons.push(Reason {
                    signal: "deobf.utf7",
                    weight: 30,
                    line: 0,
                    layer,
                    detail: "page declared UTF-7 (codepage 65000), decoded".into(),
                });
                let text = decode::utf7(src);
                return file_layer(&text, hint, layer + 1, budget, reasons);
            }
        }
    }
    if hint == Lang::Perl {
        perl::perl_layer(src, layer, reasons);
        return lang;
    }
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
        let mut regions = lex_other::regions(src);
        // A handler or web service (`<%@ WebHandler … %>`, `<%@ WebService … %>`) is code from
        // the directive on; `<%` further down is inside its strings.
        let head = &src[..src.len().min(2048)];
        // `<%@` or `<% @`.
        let at = lex_php::find(head, b"<%@").map(|p| (p, 3)).or_else(|| {
            let p = lex_php::find(head, b"<%")?;
            let ws = head[p + 2..]
                .iter()
                .take(8)
                .take_while(|b| matches!(b, b' ' | b'\t'))
                .count();
            (head.get(p + 2 + ws) == Some(&b'@')).then_some((p, 3 + ws))
        });
        if let Some((p, skip)) = at {
            let directive = &head[p..];
            let end = lex_php::find(directive, b"%>");
            let kind = directive[skip.min(end.unwrap_or(skip))..end.unwrap_or(skip)].trim_ascii_start();
            let handler = kind.len() >= 10
                && (kind[..10].eq_ignore_ascii_case(b"webhandler")
                    || kind[..10].eq_ignore_ascii_case(b"webservice"));
            if let (true, Some(q)) = (handler, end) {
                let start = p + q + 2;
                regions = vec![lex_other::Region {
                    start,
                    end: src.len(),
                    line: 1 + src[..start].iter().filter(|&&b| b == b'\n').count() as u32,
                }];
            }
        }
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

struct Ctx<'a> {
    toks: &'a [Token],
    flavor: Flavor,
    layer: u8,
    tainted: HashSet<(u32, String)>,
    /// Function scope of each token (PHP variables are local to their function).
    scope: Vec<u32>,
    /// An ASP.NET page with server-side input controls: their `.Text` is request input.
    web_controls: bool,
    binary: bool,
    /// A PHP string literal names an exec function outside of feature checks.
    exec_literal: bool,
    /// Variables assigned straight from request input (one hop).
    direct: HashSet<(u32, String)>,
    /// Variables holding one request value untouched (`$f = $_GET['f']`), or parameters
    /// called with one.
    pure: HashSet<(u32, String)>,
    /// Request-controlled database connection / SQL seen (ASP.NET, JSP).
    db: (bool, bool),
    db_reported: bool,
    /// Variables assigned (or bound) anywhere in the file: others read in global scope come
    /// from outside, e.g. register_globals request input.
    assigned: HashSet<String>,
    /// File operations (unlink, rmdir, chmod …) whose arguments carry request input.
    fs_ops: HashSet<String>,
    /// Variables appended to with chr()/ord()/bitwise pieces: the output of a decoding loop.
    decoder_vars: HashSet<String>,
    /// Variables assigned a string built from pieces (`'c'.'o'.'py'`, chr(), substr(),
    /// strrev()…): when called as functions, a name hidden from signatures.
    computed_names: HashSet<String>,
    /// Variables computed from a doc comment read by reflection.
    comment_vars: HashSet<String>,
    /// Variables assigned content fetched from a URL.
    remote_vars: HashSet<String>,
    consts: HashMap<String, Option<Vec<u8>>>,
    /// Values of variables reassigned in order (`x = "…"; x = Replace(x, "0", "")`).
    seq: crate::eval::Seq,
    funcs: HashMap<String, (u32, Vec<String>)>,
    reasons: Vec<Reason>,
    /// Constant paths written with request input, and constant paths included (PHP): a
    /// file both written and included runs the request's code.
    written_paths: Vec<Vec<u8>>,
    included_paths: Vec<(usize, (usize, usize))>,
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
    ("array_diff_ukey", LAST),
    ("array_intersect_ukey", LAST),
    ("array_udiff", LAST),
    ("array_diff_uassoc", LAST),
    ("array_intersect_uassoc", LAST),
    ("array_udiff_assoc", LAST),
    ("array_udiff_uassoc", LAST),
    ("array_uintersect", LAST),
    ("array_uintersect_assoc", LAST),
    ("array_uintersect_uassoc", LAST),
    ("preg_replace_callback", 1),
    ("mb_ereg_replace_callback", 1),
    ("session_set_save_handler", 0),
    ("xml_set_element_handler", 1),
    ("xml_set_character_data_handler", 1),
];
/// Callback position meaning "the last argument" (variadic array functions).
const LAST: usize = usize::MAX;
/// Methods that register a callback the database or XML engine calls later, and the
/// position of their callback argument (`$db->sqliteCreateFunction('f', $cb)`).
const PHP_CALLBACK_METHODS: &[(&str, usize)] = &[
    ("sqlitecreatefunction", 1),
    ("sqlitecreateaggregate", 1),
    ("sqlitecreatecollation", 1),
    ("createfunction", 1),
    ("createaggregate", 1),
    ("createcollation", 1),
    ("setsavehandler", 0),
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
        binary: budget.binary,
        exec_literal: false,
        assigned: HashSet::new(),
        db: (false, false),
        direct: HashSet::new(),
        pure: HashSet::new(),
        db_reported: false,
        fs_ops: HashSet::new(),
        decoder_vars: HashSet::new(),
        computed_names: HashSet::new(),
        remote_vars: HashSet::new(),
        comment_vars: HashSet::new(),
        consts: HashMap::new(),
        seq: HashMap::new(),
        funcs: HashMap::new(),
        reasons: Vec::new(),
        written_paths: Vec::new(),
        included_paths: Vec::new(),
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
                    // A page the code writes out may be in any server language: sniff it.
                    _ if steps == ["written file"] => Lang::Unknown,
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

    /// The value of a reassigned variable read at token `at` (see `ordered_values`).
    fn seq_value(&self, name: &str, at: usize) -> Option<&[u8]> {
        let vals = self.seq.get(name)?;
        let k = vals.partition_point(|(eq, _)| *eq < at);
        vals.get(k.checked_sub(1)?)?.1.as_deref()
    }

    fn evaluator(&self) -> Evaluator<'_> {
        Evaluator {
            toks: self.toks,
            consts: &self.consts,
            seq: &self.seq,
            idents_are_vars: self.idents_are_vars(),
            budget: std::cell::Cell::new(100_000),
        }
    }

    /// Call arguments of the call whose `(` is at `open`.
    fn args(&self, open: usize) -> Option<(usize, Vec<(usize, usize)>)> {
        let close = matching(self.toks, open, self.toks.len())?;
        Some((close, split_args(self.toks, open + 1, close)))
    }
}
