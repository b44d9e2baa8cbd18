//! One synthetic shell per obfuscation layer and per language; each must be detected,
//! and the reasons must name the layer and sink. Benign look-alikes must stay clean.

use rampart_script::{analyze, Lang, Verdict};

fn php(src: &str) -> Verdict {
    analyze(src.as_bytes(), Lang::Php)
}

fn b64(s: &[u8]) -> String {
    const A: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::new();
    for c in s.chunks(3) {
        let n = (c[0] as u32) << 16 | (*c.get(1).unwrap_or(&0) as u32) << 8 | *c.get(2).unwrap_or(&0) as u32;
        for i in 0..4 {
            if i <= c.len() {
                out.push(A[(n >> (18 - 6 * i) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

fn deflate(s: &[u8]) -> Vec<u8> {
    use std::io::Write;
    let mut e = flate2::write::DeflateEncoder::new(Vec::new(), flate2::Compression::default());
    e.write_all(s).unwrap();
    e.finish().unwrap()
}

fn assert_detected(v: &Verdict, signal: &str) {
    assert!(v.is_malicious(), "not detected: {v:#?}");
    assert!(
        v.reasons.iter().any(|r| r.signal.contains(signal)),
        "no {signal} reason: {v:#?}"
    );
}

#[test]
fn direct_request_to_system() {
    let v = php("<?php system($_GET['c']); ?>");
    assert_detected(&v, "flow.command");
    assert_eq!(
        v.reasons
            .iter()
            .find(|r| r.signal == "php.flow.command")
            .unwrap()
            .line,
        1
    );
}

#[test]
fn flow_through_two_assignments_and_a_function() {
    let v = php("<?php\n$a = $_POST['x'];\n$b = 'cmd /c ' . $a;\nfunction run($c) { return shell_exec($c); }\necho run($b);\n");
    assert_detected(&v, "flow.command");
}

#[test]
fn backticks_and_heredoc() {
    assert_detected(&php("<?php $c = $_REQUEST['c']; echo `$c`;"), "flow.command");
    assert_detected(
        &php("<?php $x = <<<EOT\n{$_COOKIE['z']}\nEOT;\neval($x);"),
        "flow.code",
    );
}

#[test]
fn base64_gzinflate_layers_are_peeled() {
    let inner = b"system($_GET['c']);";
    let packed = b64(&deflate(inner));
    let v = php(&format!("<?php eval(gzinflate(base64_decode('{packed}'))); ?>"));
    assert_detected(&v, "flow.command");
    assert!(
        v.reasons
            .iter()
            .any(|r| r.layer == 1 && r.signal == "php.flow.command"),
        "{v:#?}"
    );
    assert!(v.reasons.iter().any(|r| r.detail.contains("gzinflate")), "{v:#?}");
}

#[test]
fn rot13_strrev_hex_and_octal_names() {
    assert_detected(
        &php("<?php $f = str_rot13('flfgrz'); $f($_GET['c']);"),
        "variable-function",
    );
    assert_detected(
        &php("<?php $f = strrev('metsys'); $f($_POST['c']);"),
        "variable-function",
    );
    assert_detected(
        &php("<?php $f = \"\\x73\\x79\\x73\\164\\145\\155\"; $f($_GET['c']);"),
        "variable-function",
    );
}

#[test]
fn chr_chains_and_concatenation() {
    let v = php("<?php $f = chr(97).chr(115).chr(115).chr(101).chr(114).chr(116); $f($_REQUEST['p']);");
    assert_detected(&v, "variable-function");
    assert_detected(
        &php("<?php $f = 'sys' . 'tem'; $f($_GET['x']);"),
        "variable-function",
    );
}

#[test]
fn string_alphabet_indexing() {
    let v = php("<?php $k = 'abcdefghijklmnopqrstuvwxyz'; $f = $k[18].$k[24].$k[18].$k[19].$k[4].$k[12]; $f($_GET['c']);");
    assert_detected(&v, "variable-function");
}

#[test]
fn preg_replace_e_create_function_assert_and_callbacks() {
    assert_detected(
        &php("<?php preg_replace('/.*/e', $_POST['code'], '');"),
        "flow.code",
    );
    assert_detected(
        &php("<?php $f = create_function('', $_POST['c']); $f();"),
        "flow.code",
    );
    assert_detected(&php("<?php @assert($_REQUEST['a']);"), "flow.code");
    assert_detected(
        &php("<?php array_map($_GET['f'], array($_GET['a']));"),
        "flow.callback",
    );
    assert_detected(&php("<?php $_POST['a']($_POST['b']);"), "dynamic-call");
}

#[test]
fn file_writer_fed_by_request() {
    let v = php("<?php file_put_contents($_GET['name'], $_POST['body']);");
    assert!(
        v.reasons.iter().any(|r| r.signal == "php.flow.file-write"),
        "{v:#?}"
    );
}

#[test]
fn jsp_runtime_exec_and_processbuilder() {
    let v = analyze(
        b"<%@ page import=\"java.io.*\" %><% String c = request.getParameter(\"c\"); Process p = Runtime.getRuntime().exec(c); %>",
        Lang::Jsp,
    );
    assert_detected(&v, "flow.command");
    let v = analyze(
        b"<% new ProcessBuilder(request.getParameter(\"c\").split(\" \")).start(); %>",
        Lang::Jsp,
    );
    assert_detected(&v, "flow.command");
}

#[test]
fn jspx_scriptlet_with_entities() {
    let v = analyze(
        b"<jsp:root><jsp:scriptlet>Runtime.getRuntime().exec(request.getParameter(&quot;c&quot;));</jsp:scriptlet></jsp:root>",
        Lang::Jsp,
    );
    assert_detected(&v, "flow.command");
}

#[test]
fn asp_vbscript_execute_and_eval() {
    assert_detected(&analyze(b"<%eval request(\"cmd\")%>", Lang::Asp), "flow.code");
    assert_detected(
        &analyze(b"<%\nx = Request.Form(\"c\")\nExecute(x)\n%>", Lang::Asp),
        "flow.code",
    );
    let v = analyze(
        b"<%\nSet s = CreateObject(\"WScript.Shell\")\nSet o = s.Exec(\"cmd /c \" & Request(\"c\"))\n%>",
        Lang::Asp,
    );
    assert_detected(&v, "flow.command");
}

#[test]
fn aspx_csharp_process_start_and_assembly_load() {
    let v = analyze(
        b"<%@ Page Language=\"C#\" %><script runat=\"server\">void P(){ var psi = new ProcessStartInfo(); psi.FileName = \"cmd.exe\"; psi.Arguments = \"/c \" + Request.Form[\"c\"]; Process.Start(psi); }</script>",
        Lang::Aspx,
    );
    assert_detected(&v, "flow.command");
    let v = analyze(
        b"<%@ Page Language=\"C#\" %><% System.Reflection.Assembly.Load(Request.BinaryRead(Request.ContentLength)).CreateInstance(\"x\"); %>",
        Lang::Aspx,
    );
    assert_detected(&v, "flow.code");
    assert_detected(
        &analyze(
            b"<%@ Page Language=\"Jscript\"%><%eval(Request.Item[\"z\"],\"unsafe\");%>",
            Lang::Aspx,
        ),
        "flow.code",
    );
}

#[test]
fn php_inside_an_asp_extension_is_found() {
    assert_detected(
        &analyze(b"<html><?php @eval($_POST['x']); ?></html>", Lang::Asp),
        "flow.code",
    );
}

#[test]
fn benign_look_alikes_stay_clean() {
    for src in [
        "<?php $page = intval($_GET['p']); echo htmlspecialchars($page);",
        "<?php $out = shell_exec('uptime'); echo $out;",
        "<?php $files = array_map('trim', $_POST['names']); $db->exec($sql);",
        "<?php $handlers = ['a' => 'show_a']; $h = $handlers[$_GET['action']]; $h();",
        "<?php class A { function f() { $this->x = $_GET['x']; return array_filter($this->items, [$this, 'ok']); } }",
        "<?php exec('rrdtool update ' . escapeshellarg($_GET['f']));",
    ] {
        let v = php(src);
        assert!(!v.is_malicious(), "false positive on {src}: {v:#?}");
    }
}

#[test]
fn binary_and_broken_input_never_panics() {
    let mut junk: Vec<u8> = (0..=255u8).cycle().take(70_000).collect();
    junk.extend_from_slice(b"<?php \"unterminated $x {$ <<<EOT\n");
    for lang in [Lang::Php, Lang::Jsp, Lang::Asp, Lang::Aspx, Lang::Unknown] {
        let _ = analyze(&junk, lang);
        let _ = analyze(b"<?php eval(gzinflate(base64_decode('////')));", lang);
        let _ = analyze(b"<% %><script runat=server>", lang);
    }
}
