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
        // `eval_r(…)`: eval as mangled by sites that republish shells; kept in copies of them.
        let name = if name == "eval_r" && !member { "eval" } else { name };
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
        // Classic ASP: `conn.Open <connection string>` and `conn.Execute <sql>` on ADODB objects.
        let ado = member
            && matches!(self.flavor, Flavor::Vbs | Flavor::JScript)
            && matches!(name, "open" | "execute")
            && self.tainted_in(range.0, range.1).is_some()
            && receiver
                .as_deref()
                .and_then(|r| self.object_kind(r, i))
                .is_some_and(|k| k == "adodb.connection" || k == "adodb.recordset" && name == "open");
        let ado_conn = ado
            && name == "open"
            && receiver
                .as_deref()
                .and_then(|r| self.object_kind(r, i))
                .is_some_and(|k| k == "adodb.connection");
        if ado {
            self.note_db_input(ado_conn, i, "ADODB connection");
            return;
        }
        if db_conn || db_cmd || prop {
            let r = if prop {
                (i + 2, self.expr_end(i + 2))
            } else {
                range
            };
            if self.tainted_in(r.0, r.1).is_some() {
                self.note_db_input(db_conn || name == "connectionstring", i, "database connection");
            }
            return;
        }
        // JScript.NET `eval(code, "unsafe")`: full trust for the evaluated code.
        if name == "eval" && call && self.flavor == Flavor::JScript {
            if let Some((_, args)) = self.args(i + 1) {
                let ev = self.evaluator();
                if args.iter().skip(1).any(|a| {
                    ev.concat(a.0, a.1, 0)
                        .map(|(v, _)| v.bytes)
                        // Locals reassigned elsewhere in the file: the assignment just before.
                        .or_else(|| self.local_string(a.0, a.1, 0))
                        .is_some_and(|v| v.eq_ignore_ascii_case(b"unsafe"))
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
        // Request input written into a text stream opened on a server script (a constant
        // `.asp` name or the page's own path): the next request runs what was written.
        if member
            && matches!(name, "write" | "writeline" | "writetext")
            && matches!(self.flavor, Flavor::Vbs | Flavor::JScript)
        {
            let src = self.tainted_in(range.0, range.1);
            // Chained: `fso.CreateTextFile("x.asp").Write(<request>)`.
            if let (Some(src), Some(open)) = (&src, self.paren_receiver_at(i)) {
                if let Some(target) = self.script_stream_args(open) {
                    self.reason(
                        "flow.dropper",
                        100,
                        i,
                        format!("request input {src} is written into {target}"),
                    );
                }
            }
            if let (Some(src), Some(r)) = (src, receiver.as_deref()) {
                if let Some(target) = self.script_stream(r, i) {
                    self.reason(
                        "flow.dropper",
                        100,
                        i,
                        format!("request input {src} is written into {target}"),
                    );
                }
            }
        }
        // `new FileInfo(<request>)` then `.CreateText()` / `.Delete()` …: the request names the file.
        if member
            && call
            && matches!(
                name,
                "createtext" | "appendtext" | "openwrite" | "create" | "delete" | "moveto" | "copyto"
            )
            && matches!(self.flavor, Flavor::CSharp | Flavor::JScript | Flavor::Vbs)
        {
            if let Some(r) = receiver.as_deref() {
                if self.is_tainted(i, r)
                    && self
                        .object_kind(r, i)
                        .is_some_and(|k| k == "fileinfo" || k == "directoryinfo")
                {
                    self.reason(
                        "flow.file",
                        100,
                        i,
                        format!("request input names the file {r} of .{name}()"),
                    );
                }
            }
        }
        // java.io.File named by the request, then deleted/renamed/listed.
        if member
            && call
            && self.flavor == Flavor::Java
            && matches!(
                name,
                "delete"
                    | "renameto"
                    | "deleteonexit"
                    | "listfiles"
                    | "list"
                    | "setwritable"
                    | "setexecutable"
            )
        {
            let chained = i >= 2 && self.toks[i - 2].is_op(")");
            let named = if chained {
                self.paren_receiver_at(i).is_some_and(|open| {
                    self.toks[open].is_ident("file")
                        && (open.saturating_sub(5)..open).any(|k| self.toks[k].is_ident("new"))
                        && matching(self.toks, open + 1, self.toks.len())
                            .is_some_and(|c| self.tainted_in(open + 2, c).is_some())
                })
            } else {
                receiver.as_deref().is_some_and(|r| {
                    self.is_tainted(i, r) && self.object_kind(r, i).is_some_and(|k| k == "file")
                })
            };
            if named {
                if matches!(name, "listfiles" | "list") {
                    self.reason(
                        "flow.file-browser",
                        60,
                        i,
                        format!("request input names the directory of .{name}()"),
                    );
                } else {
                    self.reason(
                        "flow.file",
                        100,
                        i,
                        format!("request input names the file of .{name}()"),
                    );
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
            // Script engines, BeanShell / Jython interpreters, EL processors, Groovy shells.
            "eval" | "evaluate"
                if !member && name == "eval"
                    || receiver.as_deref().is_some_and(|r| {
                        is_code_runner(r) || self.object_kind(r, i).is_some_and(|k| is_code_runner(&k))
                    })
                    || self.paren_receiver(i).is_some_and(is_code_runner) =>
            {
                ("code", name.to_string())
            }
            // Compilers and evaluators of .NET source: CodeDOM, JScript.NET, Roslyn scripting.
            "compileassemblyfromsource" | "jscriptevaluate" if call => ("code", format!("{name}()")),
            "evaluateasync" | "runasync" if call && receiver.as_deref() == Some("csharpscript") => {
                ("code", format!("CSharpScript.{name}()"))
            }
            // java.nio `Files.write(Paths.get(<request>), …)` and kin.
            "write" | "writestring" | "newoutputstream" | "newbufferedwriter" | "copy" | "move"
            | "createfile"
                if call && receiver.as_deref() == Some("files") && self.flavor == Flavor::Java =>
            {
                ("file", format!("Files.{name}()"))
            }
            // `GetObject("script:http://…")`: a remote scriptlet run inside the page.
            "getobject"
                if call
                    && matches!(self.tok(i + 2), Some(Tok::Str { val, .. })
                        if val.len() >= 7 && val[..7].eq_ignore_ascii_case(b"script:")) =>
            {
                if let Some(src) = self.tainted_in(range.0, range.1) {
                    self.reason(
                        "flow.code",
                        100,
                        i,
                        format!("request input {src} names a scriptlet GetObject(\"script:…\") runs"),
                    );
                } else {
                    self.reason(
                        "capability.remote-code",
                        100,
                        i,
                        "GetObject(\"script:…\") loads and runs a scriptlet".into(),
                    );
                }
                return;
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
            | "printwriter" | "streamwriter"
                if call || (vbs && member) =>
            {
                ("file", format!("{name}()"))
            }
            // `.FileName =` also sets attachments and content dispositions: skip receivers known
            // to hold another class.
            "arguments" | "filename"
                if member
                    && matches!(self.tok(i + 1), Some(Tok::Op("=")))
                    && !receiver.as_deref().is_some_and(|r| {
                        r != "startinfo"
                            && self
                                .object_kind(r, i)
                                .is_some_and(|k| k != "processstartinfo" && k != "process")
                    }) =>
            {
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
            // Object initialiser `new Process { StartInfo = { Arguments = … } }`: only when the
            // request reaches it (`FileName =` alone initialises many other classes).
            "arguments"
                if self.flavor == Flavor::CSharp
                    && matches!(self.tok(i.wrapping_sub(1)), Some(Tok::Op("{" | ",")))
                    && matches!(self.tok(i + 1), Some(Tok::Op("="))) =>
            {
                let e = self.expr_end(i + 2);
                if let Some(src) = self.tainted_in(i + 2, e) {
                    self.reason(
                        "flow.command",
                        100,
                        i,
                        format!("request input {src} set as the process arguments (initialiser)"),
                    );
                }
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
                } else if (range.0..range.1)
                    .any(|k| matches!(self.tok(k), Some(Tok::Str { val, .. }) if is_bare_shell(val)))
                    && self.pipes_a_socket()
                {
                    self.reason(
                        "capability.reverse-shell",
                        100,
                        i,
                        format!(
                            "{label} starts a bare shell and the page pipes streams of a socket it opens"
                        ),
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
                        // Assembled from many pieces until a part the evaluator cannot read
                        // (a mangled quote, a call): what it did assemble reads the request.
                        Some((v, _))
                            if v.pieces >= 6
                                && v.bytes.len() < 4096
                                && crate::lex_other::find_ci(&v.bytes, b"request").is_some() =>
                        {
                            *code_sink_var = true;
                            self.reason(
                                "deobf.eval-decoded",
                                100,
                                i,
                                format!(
                                    "{label} of code assembled from {} pieces that reads request input ({})",
                                    v.pieces,
                                    String::from_utf8_lossy(&v.bytes[..v.bytes.len().min(40)])
                                ),
                            );
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
                let src = self.tainted_in(range.0, range.1);
                // Reflection spelled out to a process or script engine (`Class.forName(
                // "java.lang.Runtime").getMethod("exec", …).invoke(r, cmd)`).
                if let (Some(src), Some(target)) = (&src, src.as_ref().and_then(|_| self.reflected_runner()))
                {
                    self.reason(
                        "flow.command",
                        100,
                        i,
                        format!("request input {src} reaches {label} of {target}"),
                    );
                    return;
                }
                if let Some(src) = src {
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

impl Ctx<'_> {
    /// A class that runs commands or code named in a string together with one of its
    /// running methods (the pair reflection needs), e.g. `"java.lang.Runtime"` and `"exec"`.
    fn reflected_runner(&self) -> Option<String> {
        let mut class = None;
        let mut method = false;
        for t in self.toks {
            if let Tok::Str { val, .. } = &t.tok {
                let l = val.trim_ascii().to_ascii_lowercase();
                match l.as_slice() {
                    b"java.lang.runtime"
                    | b"java.lang.processbuilder"
                    | b"java.lang.processimpl"
                    | b"java.lang.unixprocess"
                    | b"javax.script.scriptenginemanager"
                    | b"system.diagnostics.process"
                    | b"wscript.shell"
                    | b"shell.application"
                    | b"msscriptcontrol.scriptcontrol" => {
                        class = Some(String::from_utf8_lossy(val).into_owned())
                    }
                    b"exec" | b"start" | b"eval" | b"command" | b"getruntime" | b"run" | b"shellexecute"
                    | b"executestatement" => method = true,
                    // `ClassLoader.class.getDeclaredMethod("defineClass", …)`: the class is a
                    // class literal, the method name says it all.
                    b"defineclass" => return Some("ClassLoader.defineClass".into()),
                    _ => {}
                }
            }
        }
        class.filter(|_| method)
    }

    /// Request input reached a database connection (`conn`) or the SQL it runs; once both
    /// have, the page is an SQL shell.
    fn note_db_input(&mut self, conn: bool, i: usize, what: &str) {
        if conn {
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
                format!("request input supplies both the {what} and the SQL to run"),
            );
        }
    }

    /// VBScript `Function`/`Sub` and JScript `function` parameters (plain names in these
    /// languages): they take the taint of the arguments the file calls them with.
    pub(super) fn collect_script_functions(&mut self) {
        for (i, name, close) in self.function_headers(&["function", "sub"]) {
            let params: Vec<String> = (i + 3..close)
                .filter_map(|k| match (self.tok(k), self.tok(k + 1)) {
                    (Some(Tok::Ident(p)), Some(Tok::Op("," | ")")))
                        if !matches!(p.as_str(), "byval" | "byref" | "optional") =>
                    {
                        Some(p.clone())
                    }
                    _ => None,
                })
                .collect();
            if !params.is_empty() && self.funcs.len() < 4096 {
                self.funcs.insert(name, (0, params));
            }
        }
    }

    /// The method whose call result `.name` at `i` is called on: `getEngineByName("js").eval`.
    fn paren_receiver(&self, i: usize) -> Option<&str> {
        match self.tok(self.paren_receiver_at(i)?)? {
            Tok::Ident(n) => Some(n),
            _ => None,
        }
    }

    /// Token index of the method name in `name(…).x` for `.x` at `i`.
    fn paren_receiver_at(&self, i: usize) -> Option<usize> {
        if !(i >= 3 && self.toks[i - 1].is_op(".") && self.toks[i - 2].is_op(")")) {
            return None;
        }
        let mut depth = 0i32;
        let lo = i.saturating_sub(400);
        for k in (lo..i - 1).rev() {
            match self.tok(k)? {
                Tok::Op(")") => depth += 1,
                Tok::Op("(") => {
                    depth -= 1;
                    if depth == 0 {
                        let m = k.checked_sub(1)?;
                        return matches!(self.tok(m)?, Tok::Ident(_)).then_some(m);
                    }
                }
                _ => {}
            }
        }
        None
    }

    /// Right-hand side (token range) of the nearest assignment to `var` before token `before`.
    fn assignment_before(&self, var: &str, before: usize) -> Option<(usize, usize)> {
        let lo = before.saturating_sub(20_000);
        (lo..before.min(self.toks.len())).rev().find_map(|k| {
            let hit = matches!(self.tok(k), Some(Tok::Ident(n)) if n == var)
                && matches!(self.tok(k + 1), Some(Tok::Op("=")))
                && !matches!(self.tok(k.wrapping_sub(1)), Some(Tok::Op(".")));
            hit.then(|| (k + 2, self.expr_end(k + 2)))
        })
    }

    /// A string made of literals and of variables last assigned such strings, joined with
    /// `+` / `&` (straight-line reading: the assignment just before wins).
    fn local_string(&self, a: usize, b: usize, depth: u8) -> Option<Vec<u8>> {
        let mut out = Vec::new();
        for k in a..b {
            match self.tok(k)? {
                Tok::Str { val, .. } => out.extend_from_slice(val),
                Tok::Op("+" | "&") => {}
                Tok::Ident(n) if depth < 4 => {
                    let (s, e) = self.assignment_before(n, k)?;
                    out.extend(self.local_string(s, e, depth + 1)?);
                }
                _ => return None,
            }
            if out.len() > 4096 {
                return None;
            }
        }
        Some(out)
    }

    /// What `var` holds at token `before`: the ProgID of `CreateObject("…")` or the class of
    /// `new …(…)`, lowercased.
    fn object_kind(&self, var: &str, before: usize) -> Option<String> {
        let (s, e) = self.assignment_before(var, before)?;
        let e = e.min(s + 16);
        let k = (s..e)
            .find(|&k| matches!(self.tok(k), Some(Tok::Ident(n)) if n == "createobject" || n == "new"))?;
        if self.toks[k].is_ident("createobject") {
            return match (self.tok(k + 1), self.tok(k + 2)) {
                (Some(Tok::Op("(")), Some(Tok::Str { val, .. })) => {
                    Some(String::from_utf8_lossy(val).trim().to_ascii_lowercase())
                }
                _ => None,
            };
        }
        // `new System.IO.FileInfo(` → the last name before `(`.
        let open = (k + 1..e).find(|&j| matches!(self.tok(j), Some(Tok::Op("("))))?;
        match self.tok(open - 1)? {
            Tok::Ident(n) if open - 1 > k => Some(n.clone()),
            _ => None,
        }
    }

    /// Whether `var` is a text stream opened (CreateTextFile / OpenTextFile) on a server
    /// script: a constant script name or the page's own path. Returns what it names.
    fn script_stream(&self, var: &str, before: usize) -> Option<String> {
        let (s, e) = self.assignment_before(var, before)?;
        let open = (s..e.min(s + 8)).find(|&k| {
            matches!(self.tok(k), Some(Tok::Ident(n)) if n == "createtextfile" || n == "opentextfile")
                && matches!(self.tok(k.wrapping_sub(1)), Some(Tok::Op(".")))
        })?;
        self.script_stream_args(open)
    }

    /// The CreateTextFile / OpenTextFile call at `open` names a server script.
    fn script_stream_args(&self, open: usize) -> Option<String> {
        if !matches!(self.tok(open), Some(Tok::Ident(n)) if n == "createtextfile" || n == "opentextfile") {
            return None;
        }
        let (a, b) = if matches!(self.tok(open + 1), Some(Tok::Op("("))) {
            let close = matching(self.toks, open + 1, self.toks.len())?;
            (open + 2, close)
        } else {
            (open + 1, self.expr_end(open + 1))
        };
        if let Some(p) = (a..b).find_map(|k| match self.tok(k) {
            Some(Tok::Str { val, .. }) if is_server_script_path(val) => Some(val),
            _ => None,
        }) {
            return Some(format!("the server script {}", String::from_utf8_lossy(p)));
        }
        self.names_own_page(a, b, 0)
            .then(|| "the page's own file (its script path from ServerVariables)".to_string())
    }

    /// `[a, b)` reads the running page's path: `Request.ServerVariables("SCRIPT_NAME")`,
    /// directly or through a variable assigned it.
    fn names_own_page(&self, a: usize, b: usize, depth: u8) -> bool {
        (a..b).any(|k| match self.tok(k) {
            Some(Tok::Str { val, .. }) => {
                let l = val.to_ascii_lowercase();
                matches!(
                    l.as_slice(),
                    b"script_name" | b"path_info" | b"path_translated" | b"url" | b"script_filename"
                ) && (k.saturating_sub(3)..k).any(|j| self.toks[j].is_ident("servervariables"))
            }
            Some(Tok::Ident(n)) if depth < 2 && !matches!(self.tok(k + 1), Some(Tok::Op("(" | "."))) => self
                .assignment_before(n, k)
                .is_some_and(|(s, e)| self.names_own_page(s, e.min(s + 64), depth + 1)),
            _ => false,
        })
    }

    /// The page opens a network socket and moves data between streams (a process's and the
    /// socket's): the body of a reverse or bind shell.
    fn pipes_a_socket(&self) -> bool {
        let mut socket = false;
        let mut streams = false;
        for (k, t) in self.toks.iter().enumerate() {
            if let Tok::Ident(n) = &t.tok {
                match n.as_str() {
                    "socket" | "tcpclient" | "serversocket" | "tcplistener"
                        if k > 0 && self.toks[k - 1].is_ident("new") =>
                    {
                        socket = true
                    }
                    "getoutputstream" | "getstream" | "standardinput" => streams = true,
                    _ => {}
                }
            }
            if socket && streams {
                return true;
            }
        }
        false
    }
}

/// Names of objects that evaluate code: script engines, BeanShell / Jython interpreters,
/// EL processors, Groovy shells.
fn is_code_runner(r: &str) -> bool {
    r.contains("engine")
        || r == "se"
        || r.contains("interpreter")
        || r.contains("elprocessor")
        || r.contains("groovyshell")
}

/// A shell interpreter named alone, to be fed commands through its standard input.
fn is_bare_shell(v: &[u8]) -> bool {
    let l = v.trim_ascii().to_ascii_lowercase();
    let base = l.rsplit(|&b| b == b'/' || b == b'\\').next().unwrap_or(&l);
    matches!(
        base,
        b"cmd" | b"cmd.exe" | b"sh" | b"bash" | b"dash" | b"zsh" | b"powershell" | b"powershell.exe"
    ) && (base.len() == l.len()
        || l.starts_with(b"/bin/")
        || l.starts_with(b"/usr/bin/")
        || l.starts_with(b"c:\\"))
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
