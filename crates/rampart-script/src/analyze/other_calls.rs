//! Calls in JSP/Java, ASP (VBScript/JScript) and ASP.NET (C#).

use super::*;

impl Ctx<'_> {
    #[allow(clippy::too_many_arguments)]
    pub(super) fn other_call(
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
                // A file cut short inside `eval(`: the rest of it is the argument.
                None if matches!(name, "eval" | "execute" | "executeglobal") => (i + 2, self.toks.len()),
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
        // `{'E': eval}` / `var e = eval`: eval taken as a value, to be called under another name.
        if name == "eval"
            && !call
            && !member
            && matches!(
                self.tok(i + 1),
                Some(Tok::Op("}" | "," | ";" | ")")) | Some(Tok::End)
            )
            && matches!(self.tok(i.wrapping_sub(1)), Some(Tok::Op(":" | "=" | "," | "(")))
        {
            self.reason(
                "deobf.eval-alias",
                60,
                i,
                "eval is stored under another name to be called indirectly".into(),
            );
        }
        if name == "savetofile" && (call || vbs && member) {
            let ev = self.evaluator();
            let script = (range.0..range.1).any(|k| {
                matches!(self.tok(k), Some(Tok::Str { val, .. }) if is_server_script_path(val))
                    || ev
                        .concat(k, range.1, 0)
                        .is_some_and(|(v, _)| is_server_script_path(&v.bytes))
            });
            if script {
                self.reason(
                    "flow.dropper",
                    100,
                    i,
                    "ADODB.Stream saves data as a server script".into(),
                );
            }
        }
        // A writer given constant server-page code (`<%…%>`, `<?php`): the page it drops is
        // analysed as a layer of its own.
        if call
            && member
            && matches!(
                name,
                "write" | "writeline" | "writealltext" | "appendalltext" | "print" | "println" | "savetofile"
            )
            && payloads.len() < 64
        {
            if let Some((_, args)) = self.args(i + 1) {
                let ev = self.evaluator();
                let code = args.iter().find_map(|a| {
                    ev.concat(a.0, a.1, 0)
                        .filter(|(v, j)| *j == a.1 && is_page_code(&v.bytes))
                        .map(|(v, _)| v.bytes)
                });
                if let Some(c) = code {
                    payloads.push((self.line(i), vec!["written file"], c));
                }
            }
        }
        let file_write_mode = || {
            (range.0..range.1).any(|k| {
                matches!(self.tok(k), Some(Tok::Ident(m)) if matches!(m.as_str(), "create" | "createnew" | "append" | "openorcreate" | "write" | "readwrite"))
                    && matches!(self.tok(k.wrapping_sub(1)), Some(Tok::Op(".")))
            })
        };
        let (kind, label): (&str, String) = match name {
            // MSScriptControl: a script engine inside the page.
            "executestatement" | "addcode" if member && (call || vbs) => ("code", format!(".{name}()")),
            // Registry and WMI browsers: the request names the key or the query.
            "opensubkey" | "createsubkey" | "deletesubkey" | "deletesubkeytree" | "deletevalue"
                if member && call =>
            {
                ("registry", format!(".{name}()"))
            }
            "managementobjectsearcher"
            | "objectquery"
            | "wqlobjectquery"
            | "managementobject"
            | "managementclass"
                if call =>
            {
                ("registry", format!("new {name}()"))
            }
            "filehandler" if call => ("file", "new FileHandler()".into()),
            "filestream" if call && file_write_mode() => ("file", "new FileStream()".into()),
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
            // Tunnels (reGeorg and kin): the request names the host the server connects to.
            "socket" | "tcpclient" | "inetsocketaddress" | "ipendpoint" | "connect" | "gethostaddresses"
            | "gethostentry" | "getbyname"
                if call =>
            {
                if let Some(src) = self.tainted_in(range.0, range.1) {
                    self.reason(
                        "flow.tunnel",
                        100,
                        i,
                        format!("request input {src} names the host of a network connection ({name})"),
                    );
                }
                return;
            }
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
                } else if (range.0..range.1).any(
                    |k| matches!(self.tok(k), Some(Tok::Str { val, .. }) if is_reverse_shell_command(val)),
                ) {
                    self.reason(
                        "capability.reverse-shell",
                        100,
                        i,
                        format!("{label} runs a shell wired to a network connection"),
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
                    match ev.concat(range.0, range.1, 0) {
                        Some((v, j)) if j == range.1 => {
                            if v.pieces > 2 || !v.steps.is_empty() {
                                self.reason(
                                    "deobf.eval-decoded",
                                    100,
                                    i,
                                    format!("{label} of a constant built from {} pieces", v.pieces),
                                );
                            }
                            // Constant code is analysed as a layer of its own.
                            if payloads.len() < 64 && v.bytes.len() >= 8 {
                                payloads.push((self.line(i), vec!["eval"], v.bytes));
                            }
                        }
                        _ => {
                            *code_sink_var = true;
                            let decoder = (range.0..range.1).find_map(|k| match self.tok(k) {
                                Some(Tok::Ident(f))
                                    if self.funcs.contains_key(f)
                                        // C#/Java methods are only collected for their parameters.
                                        && !matches!(self.flavor, Flavor::CSharp | Flavor::Java)
                                        || matches!(
                                            f.as_str(),
                                            "unescape" | "strreverse" | "chrw" | "chr"
                                        ) =>
                                {
                                    Some(f.clone())
                                }
                                _ => None,
                            });
                            if let Some(f) = decoder {
                                self.reason(
                                    "deobf.eval-dynamic",
                                    100,
                                    i,
                                    format!("{label} of code decoded at run time by {f}()"),
                                );
                            }
                        }
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
            "registry" => {
                if let Some(src) = self.tainted_in(range.0, range.1) {
                    self.reason(
                        "flow.system-admin",
                        100,
                        i,
                        format!("request input {src} names the registry key or WMI query of {label}"),
                    );
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

/// A command line that wires a shell to a network connection: `bash -i >& /dev/tcp/h/p 0>&1`,
/// `nc -e /bin/sh h p`, `sh -i` piped through a socket tool.
pub(super) fn is_reverse_shell_command(v: &[u8]) -> bool {
    let l = v.to_ascii_lowercase();
    let has = |p: &[u8]| lex_php::find(&l, p).is_some();
    has(b"/dev/tcp/")
        || has(b"/dev/udp/")
        || (has(b"nc ") || has(b"ncat ") || has(b"netcat ")) && (has(b" -e ") || has(b" -c "))
        || has(b"sh -i") && (has(b"0>&1") || has(b"mkfifo") || has(b"socat"))
}

/// Server-page code: an ASP/JSP block or a PHP open tag.
fn is_page_code(v: &[u8]) -> bool {
    v.len() >= 16
        && (lex_php::find(v, b"<%").is_some() && lex_php::find(v, b"%>").is_some()
            || lex_php::find(v, b"<?php").is_some())
}

/// A file name the web server would execute.
fn is_server_script_path(p: &[u8]) -> bool {
    let l = p.trim_ascii().to_ascii_lowercase();
    [
        &b".asp"[..],
        b".aspx",
        b".asa",
        b".cer",
        b".cdx",
        b".ashx",
        b".php",
        b".jsp",
    ]
    .iter()
    .any(|e| l.ends_with(e))
}
