//! Techniques of shells not in the development corpus, one hand-written snippet each (in
//! the style of real ones, not copied from any sample), with benign look-alikes that must
//! stay below the threshold.

use rampart_script::{analyze, Lang, Verdict};

fn assert_detected(v: &Verdict, signal: &str) {
    assert!(v.is_malicious(), "not detected: {v:#?}");
    assert!(
        v.reasons.iter().any(|r| r.signal == signal),
        "no {signal} reason: {v:#?}"
    );
}

fn assert_clean(v: &Verdict) {
    assert!(!v.is_malicious(), "false positive: {v:#?}");
}

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
