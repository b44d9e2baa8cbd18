/*
   Rampart webshell signatures: PHP.

   Written for this project from what webshells do (capabilities, obfuscation shapes) and
   from well-known family/tool markers, never from hashes or one sample's strings. The
   script analyzer (rampart-script) does the semantic work; each rule's `score` meta is
   added to the analyzer's score and 100 or more is a detection, so weak evidence
   (score < 50) never decides alone. Every file in rules/ is compiled into the binary
   (crates/rampart-scan/build.rs) and also runs under the classic `yara` CLI
   (bench/scan/speed), so only syntax both accept is used.
*/

rule php_request_into_eval
{
    meta:
        description = "PHP evaluates request input directly"
        score = 100
    strings:
        $a = /(eval|assert|create_function)[ \t]*\([ \t@]*(stripslashes\(|base64_decode\(|str_rot13\(|gzinflate\(|urldecode\()*[ \t]*\$_(POST|GET|REQUEST|COOKIE|SERVER)\b/ nocase
    condition:
        $a
}

rule php_request_called_as_function
{
    meta:
        description = "PHP calls a function whose name comes from the request"
        score = 100
    strings:
        $a = /\$_(POST|GET|REQUEST|COOKIE)\[[^\]]{1,40}\][ \t]*\(/
    condition:
        $a
}

rule php_packed_eval
{
    meta:
        description = "PHP evaluates a packed payload (eval of a decoder chain)"
        score = 80
    strings:
        $a = /eval[ \t]*\([ \t]*(gzinflate|gzuncompress|gzdecode|str_rot13|base64_decode|strrev|hex2bin)[ \t]*\([ \t]*(gzinflate|gzuncompress|gzdecode|str_rot13|base64_decode|strrev|hex2bin|"|')/ nocase
    condition:
        $a
}

rule php_reverse_shell
{
    meta:
        description = "PHP connects out and hands a shell to the socket"
        score = 100
    strings:
        $sock1 = "fsockopen" nocase
        $sock2 = "socket_create" nocase
        $sock3 = "stream_socket_client" nocase
        $sh1 = "/bin/sh"
        $sh2 = "/bin/bash"
        $sh3 = "cmd.exe" nocase
        $run1 = "proc_open" nocase
        $run2 = "shell_exec" nocase
        $run3 = "passthru" nocase
        $run4 = "popen" nocase
    condition:
        any of ($sock*) and any of ($sh*) and any of ($run*)
}

rule php_password_gate
{
    meta:
        description = "PHP compares a hash of a request field with a constant (a webshell login)"
        score = 30
    strings:
        $a = /(md5|sha1)[ \t]*\([ \t]*\$_(POST|GET|REQUEST|COOKIE)\[[^\]]{1,30}\][ \t]*\)[ \t]*(==|!=)/ nocase
    condition:
        $a
}


rule php_o0_variable_obfuscator
{
    meta:
        description = "PHP names its variables with only O and 0 (a widespread shell obfuscator)"
        score = 100
    strings:
        $v = /\$[O0]{0,20}(O0|0O)[O0]{2,20}/ nocase
        $d1 = "urldecode(" nocase
        $d2 = "base64_decode" nocase
        $d3 = "eval(" nocase
        $d4 = "strtr(" nocase
        $d5 = "gethostbyname" nocase
        $d6 = "$_"
    condition:
        #v > 5 and any of ($d*)
}

rule php_char_table_assembly
{
    meta:
        description = "PHP assembles names by indexing characters out of a table string ($t[12].$t[3].…)"
        score = 80
    strings:
        $idx1 = /\]\.\$[A-Za-z_][A-Za-z0-9_]{0,30}\[[0-9]{1,3}\]\.\$[A-Za-z_][A-Za-z0-9_]{0,30}\[[0-9]{1,3}\]\.\$/
        $idx2 = /\}\.\$[A-Za-z_][A-Za-z0-9_]{0,30}\{[0-9]{1,3}\}\.\$[A-Za-z_][A-Za-z0-9_]{0,30}\{[0-9]{1,3}\}\.\$/
        $idx3 = /\] \. \$[A-Za-z_][A-Za-z0-9_]{0,30}\[[0-9]{1,3}\] \. \$[A-Za-z_][A-Za-z0-9_]{0,30}\[[0-9]{1,3}\] \. \$/
        $g = "$GLOBALS[" nocase
    condition:
        (#idx1 + #idx2 + #idx3) > 2 and $g
}

rule php_substitution_decoder
{
    meta:
        description = "PHP maps every character through a lookup table and hands the result to base64_decode (a packer's decoder)"
        score = 100
    strings:
        $map = /isset\(\$[A-Za-z_][A-Za-z0-9_]{0,30}\[\$[A-Za-z_][A-Za-z0-9_]{0,30}\[\$[A-Za-z_][A-Za-z0-9_]{0,10}\]\]\)[ \t]*\?[ \t]*\$[A-Za-z_][A-Za-z0-9_]{0,30}\[\$/
        $b = /["']base64_decode["']/ nocase
    condition:
        $map and $b
}

rule php_hidden_sink_name
{
    meta:
        description = "PHP spells a code/command sink's name backwards or in ROT13 (only done to hide it)"
        score = 100
    strings:
        $r1 = /["'](tressa|lave|metsys|cexe_llehs|urhtssap|nepop|nepo_corp|edoced_46esab|etalfnizg|noitcnuf_etaerc)["']/ nocase
        $r2 = /["'](riny|nffreg|flfgrz|furyy_rkrp|cnffgueh|onfr64_qrpbqr|tmvasyngr|perngr_shapgvba|cert_ercynpr)["']/ nocase
    condition:
        any of them
}

rule php_sink_name_in_string
{
    meta:
        description = "PHP keeps a code/command sink's name in a string variable (to call it indirectly)"
        score = 30
    strings:
        $s = /=[ \t]*["'](assert|eval|system|shell_exec|passthru|exec|popen|proc_open|create_function|base64_decode|gzinflate|str_rot13|call_user_func|array_map|preg_replace)["'][ \t]*;/ nocase
    condition:
        $s
}

rule php_underscore_only_code
{
    meta:
        description = "PHP written with variables made only of underscores and operators on punctuation (non-alphanumeric shell)"
        score = 100
    strings:
        $php = "<?"
        $u = /\$_{1,10}[^A-Za-z0-9_]/
        $x1 = /\(?["'][^A-Za-z0-9"'\n]{1,3}["'][ \t]*\^[ \t]*["'][^A-Za-z0-9"'\n]{1,3}["']/
        $x2 = /\$_{1,10}\[[^\]\n]{0,8}\]\+\+/
        $x3 = "('>'>'<')"
        $x4 = /\$_{1,10}[ \t]*=[ \t]*@?["']\$_{1,10}["']/
        $x5 = /\$_{1,10}\[\+?["']{0,2}\]/
    condition:
        $php and filesize < 20KB and #u > 10 and any of ($x*)
}

rule php_eval_of_remote_or_decoded
{
    meta:
        description = "PHP evaluates code fetched from a URL or decoded from a blob"
        score = 100
    strings:
        $a = /(eval|assert)[ \t]*\([ \t]*(@?file_get_contents|@?curl_exec|@?fread|@?stream_get_contents)[ \t]*\([ \t]*["']?(https?:|ftp:|\$)/ nocase
        $b = /\$[A-Za-z_][A-Za-z0-9_]{0,30}[ \t]*=[ \t]*@?file_get_contents\([ \t]*["']https?:\/\/[^"'\n]{4,200}["'][ \t]*\);[ \t\r\n]{0,8}@?(eval|assert)[ \t]*\(/ nocase
    condition:
        any of them
}

rule php_long_encoded_blob_into_decoder
{
    meta:
        description = "PHP feeds a very long base64 string literal to a decoder"
        score = 60
    strings:
        $a = /(base64_decode|gzinflate|gzuncompress|str_rot13|strrev)[ \t]*\([ \t]*["'][A-Za-z0-9+\/=]{2000}/ nocase
    condition:
        $a
}

rule php_request_copy_upload
{
    meta:
        description = "PHP stores an uploaded file under the client-supplied name with no checks in sight"
        score = 45
    strings:
        $a = /(move_uploaded_file|copy)[ \t]*\([ \t]*\$_FILES\[[^\]]{1,30}\]\[["']?tmp_name["']?\][ \t]*,[ \t]*\$_FILES\[[^\]]{1,30}\]\[["']?name["']?\]/ nocase
    condition:
        $a
}

rule php_request_writes_file
{
    meta:
        description = "PHP writes request data to a request-named file (a dropper / uploader)"
        score = 100
    strings:
        $a = /(fwrite|fputs|file_put_contents)[ \t]*\([ \t]*@?fopen[ \t]*\([ \t]*\$_(POST|GET|REQUEST|COOKIE|SERVER)\[/ nocase
        $b = /file_put_contents[ \t]*\([ \t]*\$_(POST|GET|REQUEST|COOKIE|SERVER)\[[^\]]{1,40}\][ \t]*,[ \t]*\$_(POST|GET|REQUEST|COOKIE|SERVER)\[/ nocase
        $c = /fopen[ \t]*\([ \t]*\$_(POST|GET|REQUEST)\[[^\]]{1,40}\][ \t]*,[ \t]*["'][wa]/ nocase
    condition:
        any of them
}

rule php_include_request
{
    meta:
        description = "PHP includes a file named by the request"
        score = 100
    strings:
        $a = /(include|require)(_once)?[ \t]*\(?[ \t]*\$_(GET|POST|REQUEST|COOKIE)\[/ nocase
    condition:
        $a
}

rule php_extract_then_call
{
    meta:
        description = "PHP extracts request input into variables and calls one as a function"
        score = 100
    strings:
        $e = /extract[ \t]*\([ \t]*\$_(GET|POST|REQUEST|COOKIE)/ nocase
        $c = /(die|exit|echo|print)[ \t]*\(?[ \t]*\$[A-Za-z_][A-Za-z0-9_]{0,30}[ \t]*\([ \t]*\$[A-Za-z_][A-Za-z0-9_]{0,30}[ \t]*\)/
    condition:
        $e and $c
}

rule php_callback_sink_from_request
{
    meta:
        description = "PHP passes request input to a callback-taking function with a sink name (array_map/usort/register_shutdown_function…)"
        score = 100
    strings:
        $a = /(array_map|call_user_func|call_user_func_array|register_shutdown_function|register_tick_function|forward_static_call)[ \t]*\([ \t]*\$_(GET|POST|REQUEST|COOKIE|SERVER)\[/ nocase
        $c = /(array_filter|array_walk|usort|uasort|uksort|iterator_apply|array_reduce|preg_replace_callback)[ \t]*\([ \t]*\$[A-Za-z_][A-Za-z0-9_]{0,30}[ \t]*,[ \t]*\$_(GET|POST|REQUEST|COOKIE|SERVER)\[/ nocase
        $b = /(array_map|call_user_func|call_user_func_array|register_shutdown_function)[ \t]*\([ \t]*["'](assert|eval|system|passthru|shell_exec|exec)["'][ \t]*,/ nocase
    condition:
        any of them
}

rule php_preg_replace_eval
{
    meta:
        description = "PHP preg_replace with the /e modifier (code execution through a regex replacement)"
        score = 90
    strings:
        $a = /preg_replace[ \t]*\([ \t]*["'][\/#|~!@%].{1,80}[\/#|~!@%][imsxuADSUX]{0,6}e[imsxuADSUX]{0,6}["'][ \t]*,/ nocase
    condition:
        $a
}

rule php_sink_through_reflection_or_callback_api
{
    meta:
        description = "PHP reaches a code/command sink through reflection, SQLite user functions, YAML/XSL callbacks or image metadata"
        score = 100
    strings:
        $a = /new[ \t]+ReflectionFunction[ \t]*\([ \t]*["'](assert|system|exec|passthru|shell_exec|popen|proc_open|create_function|call_user_func)["']/ nocase
        $b = /(createFunction|sqliteCreateFunction)[ \t]*\([^,;]{1,40},[ \t]*\$(_(GET|POST|REQUEST|COOKIE)\[|[A-Za-z_][A-Za-z0-9_]{0,20}[ \t]*[,)])/ nocase
        $req = /\$_(GET|POST|REQUEST|COOKIE)\[/
        $b2 = /(createFunction|sqliteCreateFunction)[ \t]*\([^,;]{1,40},[ \t]*["'](assert|system|exec|passthru|shell_exec|eval)["']/ nocase
        $c = /yaml_parse[ \t]*\([^;]{0,200}=>[ \t]*["'](preg_replace|assert|system|exec|passthru|create_function)["']/ nocase
        $d = /function[ \t]*\([ \t]*["'](assert|system|exec|passthru|shell_exec|popen|call_user_func)["'][ \t]*,/ nocase
        $e1 = "exif_read_data" nocase
        $e2 = /preg_replace[ \t]*\([ \t]*\$[A-Za-z_][A-Za-z0-9_]{0,30}\[/ nocase
        $f = /registerPHPFunctions[ \t]*\([ \t]*\)/ nocase
        $g = /(transformToXml|importStylesheet)[ \t]*\(/ nocase
    condition:
        $a or ($b and $req and filesize < 4KB) or $b2 or $c or ($d and filesize < 50KB) or ($e1 and $e2) or ($f and $g and $d)
}

rule php_upload_to_script_name
{
    meta:
        description = "PHP stores an upload under a fixed script name (.php) — a dropper, not an uploader"
        score = 100
    strings:
        $a = /(move_uploaded_file|copy)[ \t]*\([^,;]{1,80},[ \t]*["'][^"'\n]{0,60}\.(php[0-9]?|phtml|asp|aspx|jsp)["'][ \t]*\)/ nocase
    condition:
        $a
}

rule php_hex_pair_writer
{
    meta:
        description = "PHP rebuilds bytes from request hex pairs (urldecode('%'.substr(…,2))) and writes them to a file (China Chopper-style uploader)"
        score = 100
    strings:
        $h = /urldecode[ \t]*\([ \t]*["']%["'][ \t]*\.[ \t]*substr[ \t]*\(/ nocase
        // Literals, not regexes: these names are everywhere in PHP and a regex atom hit
        // costs a regex run; $h alone is rare.
        $w1 = "fwrite" nocase
        $w2 = "fputs" nocase
        $w3 = "file_put_contents" nocase
        $r1 = "$_POST["
        $r2 = "$_GET["
        $r3 = "$_REQUEST["
    condition:
        $h and any of ($w*) and any of ($r*)
}

rule php_destructor_eval
{
    meta:
        description = "PHP class whose destructor/wakeup evaluates a property (an unserialize backdoor)"
        score = 90
    strings:
        $a = /function[ \t]+(__destruct|__wakeup|__toString|__call|__get)[ \t]*\([^)]{0,40}\)[ \t\r\n]*\{[^}]{0,200}(eval|assert|system|passthru|shell_exec)[ \t]*\([ \t]*\$this->/ nocase
    condition:
        $a
}

rule php_defacement_writer
{
    meta:
        description = "PHP overwrites the site's index page with a 'hacked by' message (a defacement tool)"
        score = 100
    strings:
        $h = /hacked[ \t_-]{0,3}by/ nocase
        $w = /fopen[ \t]*\([ \t]*["'][^"'\n]{0,40}index\.(php|html?)["'][ \t]*,[ \t]*["'][wa]/ nocase
    condition:
        $h and $w
}

rule php_mass_mailer
{
    meta:
        description = "Small PHP page that splits a pasted address list into lines and mails each one in a loop (a spam mailer)"
        score = 100
    strings:
        $m = /\bmail[ \t]*\(/ nocase
        $s = /(explode|split|preg_split)[ \t]*\([ \t]*["'](\\r)?\\n["'][ \t]*,[ \t]*(trim\()?[ \t]*\$/ nocase
        $loop = /\b(for|while|foreach)[ \t]*\(/ nocase
        $ui1 = "<textarea" nocase
        $ui2 = /\$_(POST|GET|REQUEST)\[/
        $ui3 = "<form" nocase
    condition:
        filesize < 64KB and $m and $s and $loop and 2 of ($ui*)
}

rule php_credential_harvester
{
    meta:
        description = "PHP collects posted passwords or card data into a message and mails or stores it (a phishing kit's result script)"
        score = 100
    strings:
        $c = /\.=[ \t]*["'][^"'\n]{0,40}(pass(word|wd)?|card ?(number|no)|cvv2?|ccv|ssn|pin|expir[a-z]*|security code)[^"'\n]{0,20}["'][ \t]*\.[ \t]*\$_(POST|GET|REQUEST)\[/ nocase
        $o1 = /\bmail[ \t]*\(/ nocase
        $o2 = /(fwrite|fputs|file_put_contents)[ \t]*\(/ nocase
        $ip = /REMOTE_ADDR|HTTP_USER_AGENT|gethostbyaddr/ nocase
    condition:
        #c > 1 and any of ($o*) and $ip
}

rule php_payload_base64_php_written
{
    meta:
        description = "PHP writes a base64 blob that decodes to PHP code into a file (a dropper)"
        score = 100
    strings:
        $a = /base64_decode[ \t]*\([ \t]*["']PD9(waH|=|\+|ICR|IGV|IEBl|Cg|DQ)/
        $w1 = /(fwrite|fputs|file_put_contents)[ \t]*\(/ nocase
    condition:
        $a and $w1
}

rule php_remote_script_dropper
{
    meta:
        description = "PHP downloads code from a paste/raw URL and saves it as a .php file in the web root"
        score = 100
    strings:
        $t1 = /DOCUMENT_ROOT['"]?\][ \t]*\.[ \t]*["']\/[^"'\n]{1,60}\.(php[0-9]?|phtml)["']/ nocase
        $t2 = /(fopen|file_put_contents)[ \t]*\([ \t]*["'][^"'\n$]{1,60}\.(php[0-9]?|phtml)["'][ \t]*,/ nocase
        $u1 = /["']https?:\/\/[^"'\n]{4,160}(\.txt|\/raw|\/raw\/[^"'\n]{1,40}|\.jpg|\.gif|\.png)["']/ nocase
        $u2 = /pastebin\.com|ghostbin|hastebin|paste\.ee|raw\.githubusercontent|pastie\.org/ nocase
        $g1 = "curl_exec" nocase
        $g2 = /file_get_contents[ \t]*\([ \t]*["']https?:/ nocase
        $g3 = /(fopen|copy)[ \t]*\([ \t]*["']https?:/ nocase
    condition:
        any of ($t*) and any of ($u*) and any of ($g*)
}

rule php_sql_outfile_shell
{
    meta:
        description = "PHP builds SQL that writes PHP code INTO OUTFILE (plants a shell through the database)"
        score = 100
    strings:
        $a = /<\?(php)?[^'"\n]{0,30}(system|eval|passthru|shell_exec|assert)[ \t]*\([^\n]{0,80}INTO[ \t]+(OUT|DUMP)FILE/ nocase
    condition:
        $a
}

rule php_mof_command
{
    meta:
        description = "PHP drops a WMI MOF file to run commands on Windows (wbem\\mof autoload)"
        score = 100
    strings:
        $a = /wbem[\\\/]{1,2}mof/ nocase
        $b = /ActiveScriptEventConsumer|CommandLineEventConsumer|#pragma namespace/ nocase
    condition:
        $a and $b
}

rule php_bare_sink_constant
{
    meta:
        description = "PHP assigns a sink's bare name (undefined constant used as a string) to a variable to call it"
        score = 70
    strings:
        $a = /\$[A-Za-z_][A-Za-z0-9_]{0,30}[ \t]*=[ \t]*(passthru|system|shell_exec|assert|popen|proc_open)[ \t]*;/
    condition:
        $a
}

rule php_exec_enabling_htaccess
{
    meta:
        description = "PHP writes an .htaccess that makes other file types executable (CGI or PHP handlers)"
        score = 90
    strings:
        $h = ".htaccess" nocase
        $a1 = /Options[ \t]+\+?ExecCGI/ nocase
        $a2 = /AddHandler[ \t]+(cgi-script|application\/x-httpd-php|php[0-9]?-script)/ nocase
        $a3 = /AddType[ \t]+application\/x-httpd-php/ nocase
        $a4 = /SetHandler[ \t]+(cgi-script|application\/x-httpd-php)/ nocase
        $w = /(fwrite|fputs|file_put_contents|fopen)[ \t]*\(/ nocase
    condition:
        $h and any of ($a*) and $w
}

rule php_root_symlink
{
    meta:
        description = "PHP links the filesystem root (or /etc/passwd, other users' homes) into the web root to read other sites (symlink bypass)"
        score = 100
    strings:
        $a = /symlink[ \t]*\([ \t]*["']\/["']/ nocase
        $b = /ln[ \t]+-s[ \t]+\/[ \t]/
        $c = /symlink[ \t]*\([ \t]*["']\/home\/["'][ \t]*\./ nocase
        $d = /symlink[ \t]*\([^;\n]{0,80}(wp-config|configuration|config\.inc)\.php/ nocase
    condition:
        any of them
}

rule html_title_names_a_shell
{
    meta:
        description = "The page's title names a spy, uploader, mailer or hack tool (weaker words; shells and backdoors: html_title_names_a_webshell)"
        score = 50
    strings:
        $t = /<title>[^<\n]{0,80}\b(hack|spy|uploader|mailer)\b[^<\n]{0,80}<\/title>/ nocase
        $code1 = /<\?(php|=|[ \t\r\n])/ nocase
        $code2 = /<%[ \t\r\n=@!]/
    condition:
        $t and any of ($code*)
}

rule php_exec_fallback_chain
{
    meta:
        description = "PHP probes for several command-execution functions in turn to run a command with whichever works"
        score = 70
    strings:
        $f1 = /(function_exists|is_callable)[ \t]*\([ \t]*["']system["']/ nocase
        $f2 = /(function_exists|is_callable)[ \t]*\([ \t]*["']shell_exec["']/ nocase
        $f3 = /(function_exists|is_callable)[ \t]*\([ \t]*["']passthru["']/ nocase
        $f4 = /(function_exists|is_callable)[ \t]*\([ \t]*["']exec["']/ nocase
        $f5 = /(function_exists|is_callable)[ \t]*\([ \t]*["']popen["']/ nocase
        $f6 = /(function_exists|is_callable)[ \t]*\([ \t]*["']proc_open["']/ nocase
        $x = /(system|shell_exec|passthru|exec|popen|proc_open)[ \t]*\([ \t]*\$[A-Za-z_]/ nocase
    condition:
        3 of ($f*) and $x
}

rule php_irc_bot
{
    meta:
        description = "PHP IRC bot: connects to an IRC server and takes commands from a channel"
        score = 100
    strings:
        $s = /fsockopen|socket_create|stream_socket_client/ nocase
        $i1 = /["']PRIVMSG[ \t]/
        $i2 = /["']JOIN[ \t]/
        $i3 = /["']NICK[ \t]/
        $i4 = /["']USER[ \t]/
        $i5 = /["']PONG[ \t]/
    condition:
        $s and 3 of ($i*)
}

rule php_char_map_decoder
{
    meta:
        description = "PHP decodes a payload through a table that maps each base64 character to another, then evaluates it"
        score = 100
    strings:
        $m = /(['"][A-Za-z0-9+\/=]['"][ \t]*=>[ \t]*['"][A-Za-z0-9+\/=]['"][ \t]*,[ \t\r\n]*){24}/
        $e = /\b(eval|assert|create_function)[ \t]*\(/ nocase
        $d = /base64_decode|strtr|str_replace/ nocase
    condition:
        $m and $e and $d
}

rule php_utf16_code
{
    meta:
        description = "PHP code stored as UTF-16 (NUL-interleaved) around eval/decoders, to slip past byte-oriented scanners"
        score = 100
    strings:
        $p = "<?php" wide
        $e1 = "eval(" wide
        $e2 = "base64_decode(" wide
        $e3 = "gzinflate(" wide
        $e4 = "assert(" wide
        $e5 = "$_POST" wide
    condition:
        $p and 2 of ($e*) and uint8(1) == 0 or (uint16(0) == 0xfeff and $p and 2 of ($e*))
}

rule php_request_db_client
{
    meta:
        description = "PHP connects to a database server with request-supplied host/user/password (a database webshell or client)"
        score = 50
    strings:
        $a = /(mysql_connect|mysqli_connect|mysql_pconnect|pg_connect|mssql_connect|new[ \t]+mysqli)[ \t]*\([ \t]*\$_(POST|GET|REQUEST|COOKIE)\[/ nocase
        $b = /(mysql_connect|mysqli_connect|mysql_pconnect|mssql_connect)[ \t]*\([^;\n]{0,60}\$_(POST|GET|REQUEST|COOKIE)\[[^\]]{1,20}\][^;\n]{0,10},[^;\n]{0,60}\$_(POST|GET|REQUEST|COOKIE)\[/ nocase
    condition:
        any of them
}

rule php_variable_function_on_request
{
    meta:
        description = "PHP calls a variable as a function with request input as the argument ($f($_POST[…]))"
        score = 100
    strings:
        $a = /(^|[^A-Za-z0-9_>:$])\$[A-Za-z_][A-Za-z0-9_]{0,30}[ \t]*\([ \t]*\$_(POST|GET|REQUEST|COOKIE)\[/
    condition:
        $a
}

rule php_name_from_tiny_pieces
{
    meta:
        description = "PHP spells a name from one- or two-letter string pieces (\"c\".\"o\".\"p\".\"y\") to hide it"
        score = 100
    strings:
        $a = /(["'][A-Za-z_]{1,2}["']\.){3,}["'][A-Za-z_]{1,2}["']/
    condition:
        $a
}

rule php_sink_name_with_separators
{
    meta:
        description = "A sink name written with separators between its letters (s,y,s,t,e,m / e.v.a.l) to be reassembled"
        score = 100
    strings:
        $a1 = "s,y,s,t,e,m" nocase
        $a2 = "a,s,s,e,r,t" nocase
        $a3 = "p,a,s,s,t,h,r,u" nocase
        $a4 = "s,h,e,l,l,_,e,x,e,c" nocase
        $a5 = "e,v,a,l" nocase
        $php = /<\?(php|[ \t\r\n=])/ nocase
    condition:
        any of ($a*) and $php
}

rule php_code_pushed_off_screen
{
    meta:
        description = "PHP opening tag followed by a long run of blanks so the code starts off-screen in an editor"
        score = 60
    strings:
        $a = /<\?php[ \t]{80,}[^ \t\r\n]/ nocase
    condition:
        $a
}


rule php_pack_char_codes
{
    meta:
        description = "PHP builds a string from character codes with pack('c*', …)"
        score = 60
    strings:
        $a = /pack[ \t]*\([ \t]*["'][cC]\*["'][ \t]*,[ \t]*(0x[0-9a-fA-F]{2}|[0-9]{2,3})([ \t]*,[ \t]*(0x[0-9a-fA-F]{2}|[0-9]{2,3})){3}/
    condition:
        $a
}

rule php_sink_name_split_in_pieces
{
    meta:
        description = "PHP spells a code/command sink or decoder name in concatenated string pieces ('bas'.'e64_decode')"
        score = 100
    strings:
        $s0 = /["']bas(["\'][ \t]*\.[ \t]*["\'])?e(["\'][ \t]*\.[ \t]*["\'])?6(["\'][ \t]*\.[ \t]*["\'])?4(["\'][ \t]*\.[ \t]*["\'])?_(["\'][ \t]*\.[ \t]*["\'])?d(["\'][ \t]*\.[ \t]*["\'])?e(["\'][ \t]*\.[ \t]*["\'])?c(["\'][ \t]*\.[ \t]*["\'])?o(["\'][ \t]*\.[ \t]*["\'])?d(["\'][ \t]*\.[ \t]*["\'])?e["']/ nocase
        $p0 = /["']base64_decode["']/ nocase
        $s1 = /["']gzi(["\'][ \t]*\.[ \t]*["\'])?n(["\'][ \t]*\.[ \t]*["\'])?f(["\'][ \t]*\.[ \t]*["\'])?l(["\'][ \t]*\.[ \t]*["\'])?a(["\'][ \t]*\.[ \t]*["\'])?t(["\'][ \t]*\.[ \t]*["\'])?e["']/ nocase
        $p1 = /["']gzinflate["']/ nocase
        $s2 = /["']gzu(["\'][ \t]*\.[ \t]*["\'])?n(["\'][ \t]*\.[ \t]*["\'])?c(["\'][ \t]*\.[ \t]*["\'])?o(["\'][ \t]*\.[ \t]*["\'])?m(["\'][ \t]*\.[ \t]*["\'])?p(["\'][ \t]*\.[ \t]*["\'])?r(["\'][ \t]*\.[ \t]*["\'])?e(["\'][ \t]*\.[ \t]*["\'])?s(["\'][ \t]*\.[ \t]*["\'])?s["']/ nocase
        $p2 = /["']gzuncompress["']/ nocase
        $s3 = /["']str(["\'][ \t]*\.[ \t]*["\'])?_(["\'][ \t]*\.[ \t]*["\'])?r(["\'][ \t]*\.[ \t]*["\'])?o(["\'][ \t]*\.[ \t]*["\'])?t(["\'][ \t]*\.[ \t]*["\'])?1(["\'][ \t]*\.[ \t]*["\'])?3["']/ nocase
        $p3 = /["']str_rot13["']/ nocase
        $s4 = /["']cre(["\'][ \t]*\.[ \t]*["\'])?a(["\'][ \t]*\.[ \t]*["\'])?t(["\'][ \t]*\.[ \t]*["\'])?e(["\'][ \t]*\.[ \t]*["\'])?_(["\'][ \t]*\.[ \t]*["\'])?f(["\'][ \t]*\.[ \t]*["\'])?u(["\'][ \t]*\.[ \t]*["\'])?n(["\'][ \t]*\.[ \t]*["\'])?c(["\'][ \t]*\.[ \t]*["\'])?t(["\'][ \t]*\.[ \t]*["\'])?i(["\'][ \t]*\.[ \t]*["\'])?o(["\'][ \t]*\.[ \t]*["\'])?n["']/ nocase
        $p4 = /["']create_function["']/ nocase
        $s5 = /["']she(["\'][ \t]*\.[ \t]*["\'])?l(["\'][ \t]*\.[ \t]*["\'])?l(["\'][ \t]*\.[ \t]*["\'])?_(["\'][ \t]*\.[ \t]*["\'])?e(["\'][ \t]*\.[ \t]*["\'])?x(["\'][ \t]*\.[ \t]*["\'])?e(["\'][ \t]*\.[ \t]*["\'])?c["']/ nocase
        $p5 = /["']shell_exec["']/ nocase
        $s6 = /["']pas(["\'][ \t]*\.[ \t]*["\'])?s(["\'][ \t]*\.[ \t]*["\'])?t(["\'][ \t]*\.[ \t]*["\'])?h(["\'][ \t]*\.[ \t]*["\'])?r(["\'][ \t]*\.[ \t]*["\'])?u["']/ nocase
        $p6 = /["']passthru["']/ nocase
        $s7 = /["']ass(["\'][ \t]*\.[ \t]*["\'])?e(["\'][ \t]*\.[ \t]*["\'])?r(["\'][ \t]*\.[ \t]*["\'])?t["']/ nocase
        $p7 = /["']assert["']/ nocase
        $s8 = /["']sys(["\'][ \t]*\.[ \t]*["\'])?t(["\'][ \t]*\.[ \t]*["\'])?e(["\'][ \t]*\.[ \t]*["\'])?m["']/ nocase
        $p8 = /["']system["']/ nocase
        $s9 = /["']eva(["\'][ \t]*\.[ \t]*["\'])?l["']/ nocase
        $p9 = /["']eval["']/ nocase
        $s10 = /["']pre(["\'][ \t]*\.[ \t]*["\'])?g(["\'][ \t]*\.[ \t]*["\'])?_(["\'][ \t]*\.[ \t]*["\'])?r(["\'][ \t]*\.[ \t]*["\'])?e(["\'][ \t]*\.[ \t]*["\'])?p(["\'][ \t]*\.[ \t]*["\'])?l(["\'][ \t]*\.[ \t]*["\'])?a(["\'][ \t]*\.[ \t]*["\'])?c(["\'][ \t]*\.[ \t]*["\'])?e["']/ nocase
        $p10 = /["']preg_replace["']/ nocase
        $s11 = /["']cal(["\'][ \t]*\.[ \t]*["\'])?l(["\'][ \t]*\.[ \t]*["\'])?_(["\'][ \t]*\.[ \t]*["\'])?u(["\'][ \t]*\.[ \t]*["\'])?s(["\'][ \t]*\.[ \t]*["\'])?e(["\'][ \t]*\.[ \t]*["\'])?r(["\'][ \t]*\.[ \t]*["\'])?_(["\'][ \t]*\.[ \t]*["\'])?f(["\'][ \t]*\.[ \t]*["\'])?u(["\'][ \t]*\.[ \t]*["\'])?n(["\'][ \t]*\.[ \t]*["\'])?c["']/ nocase
        $p11 = /["']call_user_func["']/ nocase
        $s12 = /["']fil(["\'][ \t]*\.[ \t]*["\'])?e(["\'][ \t]*\.[ \t]*["\'])?_(["\'][ \t]*\.[ \t]*["\'])?p(["\'][ \t]*\.[ \t]*["\'])?u(["\'][ \t]*\.[ \t]*["\'])?t(["\'][ \t]*\.[ \t]*["\'])?_(["\'][ \t]*\.[ \t]*["\'])?c(["\'][ \t]*\.[ \t]*["\'])?o(["\'][ \t]*\.[ \t]*["\'])?n(["\'][ \t]*\.[ \t]*["\'])?t(["\'][ \t]*\.[ \t]*["\'])?e(["\'][ \t]*\.[ \t]*["\'])?n(["\'][ \t]*\.[ \t]*["\'])?t(["\'][ \t]*\.[ \t]*["\'])?s["']/ nocase
        $p12 = /["']file_put_contents["']/ nocase
        $s13 = /["']mov(["\'][ \t]*\.[ \t]*["\'])?e(["\'][ \t]*\.[ \t]*["\'])?_(["\'][ \t]*\.[ \t]*["\'])?u(["\'][ \t]*\.[ \t]*["\'])?p(["\'][ \t]*\.[ \t]*["\'])?l(["\'][ \t]*\.[ \t]*["\'])?o(["\'][ \t]*\.[ \t]*["\'])?a(["\'][ \t]*\.[ \t]*["\'])?d(["\'][ \t]*\.[ \t]*["\'])?e(["\'][ \t]*\.[ \t]*["\'])?d(["\'][ \t]*\.[ \t]*["\'])?_(["\'][ \t]*\.[ \t]*["\'])?f(["\'][ \t]*\.[ \t]*["\'])?i(["\'][ \t]*\.[ \t]*["\'])?l(["\'][ \t]*\.[ \t]*["\'])?e["']/ nocase
        $p13 = /["']move_uploaded_file["']/ nocase
    condition:
        #s0 > #p0 or #s1 > #p1 or #s2 > #p2 or #s3 > #p3 or #s4 > #p4 or #s5 > #p5 or #s6 > #p6 or #s7 > #p7 or #s8 > #p8 or #s9 > #p9 or #s10 > #p10 or #s11 > #p11 or #s12 > #p12 or #s13 > #p13
}

rule php_eval_of_decoder_call
{
    meta:
        description = "PHP evaluates what a function returns for a long encoded literal (eval(decode(\"…blob…\")))"
        score = 100
    strings:
        $a = /\b(eval|assert)[ \t]*\([ \t]*[A-Za-z_][A-Za-z0-9_]{0,30}[ \t]*\([ \t]*["'][A-Za-z0-9+\/=\\]{200}/ nocase
    condition:
        $a
}

rule php_numbered_globals_obfuscator
{
    meta:
        description = "PHP obfuscator shape: numbered $GLOBALS['_123456_'] tables and _123456() accessor functions"
        score = 100
    strings:
        $a = /\$GLOBALS\[['"]_{1,2}[0-9]{5,}_{0,2}['"]\]/
        $b = /function[ \t]+_[0-9]{5,}[ \t]*\(/
    condition:
        $a or $b
}

rule php_seo_cloaker
{
    meta:
        description = "Small PHP that checks for search-engine crawlers' user agents and serves them content fetched from elsewhere (SEO spam injection)"
        score = 100
    strings:
        $ua = "HTTP_USER_AGENT" nocase
        $bot = /googlebot|bingbot|slurp|baiduspider|yandex/ nocase
        $f = /curl_exec|file_get_contents[ \t]*\([ \t]*["']?https?:|fsockopen/ nocase
    condition:
        filesize < 30KB and $ua and $bot and $f
}

rule php_reverse_ip_lookup
{
    meta:
        description = "PHP asks a search engine for every site on an IP address (a reverse-IP tool used to find neighbour sites to attack)"
        score = 100
    strings:
        $a = /bing\.com\/search\?q=(ip(%3A|:)|["']?[ \t]*\.)/ nocase
        $b = "ip:" nocase
    condition:
        $a and $b
}

rule php_request_directory_lister
{
    meta:
        description = "PHP lists any directory the request names (a drive-letter path box feeding opendir/scandir)"
        score = 100
    strings:
        $a = /(opendir|scandir|glob)[ \t]*\([ \t]*\$_(GET|POST|REQUEST)\[/ nocase
        $b = /(opendir|scandir)[ \t]*\([ \t]*\$[A-Za-z_]+/
        $c = /\$_(GET|POST|REQUEST)\[["'](dir|path|d)["']\]/ nocase
        $d = /value[ \t]*=[ \t]*\\?["']?[cC]:[\/\\]/
    condition:
        $a or ($b and $c and $d)
}

rule php_request_reaches_sink_on_one_line
{
    meta:
        description = "PHP passes request input (possibly wrapped in other calls) straight into eval/assert or a command function on one line"
        score = 100
    strings:
        $e = /\b(eval|assert|create_function)[ \t]*\([^;\n]{0,100}\$_(POST|GET|REQUEST|COOKIE|SERVER\[["']HTTP_)/ nocase
        $x = /\b(system|passthru|shell_exec|exec|popen|proc_open|pcntl_exec)[ \t]*\([^;\n]{0,100}\$_(POST|GET|REQUEST|COOKIE|SERVER\[["']HTTP_)/ nocase
    condition:
        $e or $x
}

rule php_other_request_channels_into_sinks
{
    meta:
        description = "PHP feeds php://input, request headers, the session or an uploaded file straight into code execution"
        score = 100
    strings:
        $a = /\b(eval|assert|system|passthru|shell_exec|create_function)[ \t]*\([^;\n]{0,80}(php:\/\/input|getallheaders[ \t]*\(|apache_request_headers[ \t]*\(|\$_SESSION\[)/ nocase
        $b = /\b(include|require)(_once)?[ \t]*\(?[ \t]*\$_FILES\[[^\]]{1,30}\]\[["']?tmp_name/ nocase
        $c = /\b(ob_start|set_error_handler|set_exception_handler|spl_autoload_register|header_register_callback|register_tick_function)[ \t]*\([ \t]*["'](assert|system|eval|passthru|shell_exec|exec)["']/ nocase
        $d = /\b(mb_ereg_replace|mb_eregi_replace)[ \t]*\([^;\n]{0,120},[ \t]*["'][a-z]{0,4}e[a-z]{0,4}["'][ \t]*\)/ nocase
    condition:
        any of them
}

/* ---- Tool families and techniques with no request-to-sink data flow (mailers, tunnels, dumpers, planted loaders) ---- */

rule php_b374k_module
{
    meta:
        description = "b374k 3.x shell module (registers a tab in $GLOBALS['module'] with its title, content and js_ontabselected hook) or packed resource ($GLOBALS['resources'][…] = base64)"
        score = 100
    strings:
        $m = "$GLOBALS['module']['" nocase
        $t = "['js_ontabselected']" nocase
        $c = "['content']" nocase
        $r = /\$GLOBALS\[["']resources["']\]\[["'][A-Za-z0-9_]{2,20}["']\][ \t]*=[ \t]*["'][A-Za-z0-9+\/]{200}/
    condition:
        ($m and $t and $c) or $r
}

rule php_myshell_family
{
    meta:
        description = "MyShell / phpShell family (interactive command page by digitart, based on Martin Geisler's phpShell)"
        score = 100
    strings:
        $a = "digitart" nocase
        $b = "MyShell"
        $c = "phpShell" nocase
        $d = "execute any command" nocase
    condition:
        $a and 2 of ($b, $c, $d)
}

rule php_wp_vcd_link_injector
{
    meta:
        description = "WP-VCD backdoor: password-gated actions that list and rewrite posts to plant hidden link code (wp_cd_code)"
        score = 100
    strings:
        $a = "wp_cd_code"
        $b = "get_all_links"
        $c = "set_id_links"
        $p = /\$_REQUEST\[["']password["']\][ \t]*==/
    condition:
        $a and 2 of ($b, $c, $p)
}

rule php_com_account_creator
{
    meta:
        description = "PHP drives Windows COM user objects (Shell.Users / WinNT:// ADSI) to create accounts or add administrators"
        score = 100
    strings:
        $o = "new COM(" nocase
        $u1 = "Shell.Users" nocase
        $u2 = "WinNT://" nocase
        $a1 = "changePassword" nocase
        $a2 = "AccountType" nocase
        $a3 = "SetPassword" nocase
        $a4 = "Administrators" nocase
    condition:
        $o and any of ($u*) and any of ($a*)
}

rule php_fork_bomb
{
    meta:
        description = "PHP forks itself in an endless loop (a fork bomb / resource-exhaustion DoS)"
        score = 100
    strings:
        $f = "pcntl_fork" nocase
        $w1 = "while(1)" nocase
        $w2 = "while (1)" nocase
        $w3 = "while(true)" nocase
        $w4 = "while (true)" nocase
        $w5 = "for(;;)"
        $w6 = "for (;;)"
    condition:
        filesize < 2KB and $f and any of ($w*)
}

rule php_self_deleting_persistent_loop
{
    meta:
        description = "PHP deletes its own file, ignores client disconnect and keeps running a loop that evaluates or rewrites code (immortal in-memory shell / remote-code poller)"
        score = 100
    strings:
        $u1 = /unlink[ \t]*\([ \t]*(__FILE__|\$_SERVER\[["']SCRIPT_FILENAME["']\])[ \t]*\)/ nocase
        $i = /ignore_user_abort[ \t]*\([ \t]*(true|1)?[ \t]*\)/ nocase
        $x1 = /(eval|assert)[ \t]*\([ \t]*\$/ nocase
        $x2 = /(file_put_contents|fwrite|fputs)[ \t]*\(/ nocase
        $s = /(sleep|usleep)[ \t]*\(/ nocase
    condition:
        $u1 and $i and any of ($x*) and $s
}

rule php_navicat_http_tunnel
{
    meta:
        description = "Navicat HTTP tunnel script (relays arbitrary SQL to the database server through the web server)"
        score = 100
    strings:
        $a = "function GetLongBinary" nocase
        $b = "function EchoResultSetHeader" nocase
        $c = "function EchoFieldsHeader" nocase
        $d = "function EchoConnInfo" nocase
    condition:
        3 of them
}

rule php_request_sql_query
{
    meta:
        description = "PHP runs SQL text taken straight from the request (an SQL console page)"
        score = 50
    strings:
        $a = /(mysql_query|mysqli_query|pg_query|mssql_query|sqlsrv_query|mysql_db_query)[ \t]*\([ \t]*(\$[A-Za-z_][A-Za-z0-9_]{0,20}[ \t]*,[ \t]*)?\$_(POST|GET|REQUEST)\[/ nocase
    condition:
        $a
}

rule php_socket_command_loop
{
    meta:
        description = "PHP opens a socket to a fixed peer, sends the host's identity and runs the commands it reads back (reverse shell without a literal /bin/sh)"
        score = 100
    strings:
        $s1 = /fsockopen[ \t]*\([ \t]*\$/ nocase
        $s2 = /socket_connect[ \t]*\([ \t]*\$/ nocase
        $s3 = /stream_socket_client[ \t]*\(/ nocase
        $r1 = /(fgets|fread|socket_read|stream_get_line)[ \t]*\([ \t]*\$[a-z_]{0,10}sock/ nocase
        $x1 = /(shell_exec|passthru|system|popen|proc_open)[ \t]*\([ \t]*\$(cmd|command|com|c)\b/ nocase
        $i1 = "php_uname()" nocase
        $i2 = "uname -a" nocase
        $i3 = /shell_exec[ \t]*\([ \t]*["'](id|whoami|pwd)/ nocase
    condition:
        filesize < 200KB and any of ($s*) and $r1 and $x1 and any of ($i*)
}

rule php_tcp_relay
{
    meta:
        description = "PHP listens on a port and also connects out, pumping data between the sockets (port forwarder / tunnel / SOCKS proxy)"
        score = 100
    strings:
        $l1 = "socket_listen" nocase
        $l2 = "socket_accept" nocase
        $l3 = "socket_bind" nocase
        $c1 = "socket_connect" nocase
        $c2 = "fsockopen" nocase
        $sel = "socket_select" nocase
        $w = "socket_write" nocase
    condition:
        filesize < 200KB and all of ($l*) and any of ($c*) and $sel and $w
}

rule php_bulk_mailer_form
{
    meta:
        description = "PHP mails a request-supplied address list with request-supplied sender and subject (a spam mailer form)"
        score = 100
    strings:
        $m = /\bmail[ \t]*\(/ nocase
        $l = /\$_(POST|GET|REQUEST)\[["'](emails|maillist|mail_list|emaillist|email_list|lista|listmail|mailist|emailz|mailto_list)["']\]/ nocase
        $f = /\$_(POST|GET|REQUEST)\[["'](from|remetente|realname|real_name|sender|fromname|from_name|senderName|senderEmail)["']\]/ nocase
        $s = /\$_(POST|GET|REQUEST)\[["'](subject|assunto|asunto|sujet)["']\]/ nocase
        $w = /\$config\[["'](remetente|assunto|maillist)["']\]/ nocase
    condition:
        filesize < 200KB and $m and $l and ($f or $s or $w)
}

rule php_card_skimmer_exfil
{
    meta:
        description = "PHP (a patched shop payment module) reads card number / CVV and mails them to a base64-hidden address or with a geo-IP lookup of the buyer (card skimmer)"
        score = 100
    strings:
        $cc1 = "getCcNumber()"
        $cc2 = /\[["']cc_number["']\]/
        $cc3 = "getCcCid()"
        $cc4 = /\[["']cc_cid["']\]/
        $m = /\bmail[ \t]*\(/
        $g = "geoplugin" nocase
        $b = /mail[ \t]*\([ \t]*base64_decode[ \t]*\(/
    condition:
        any of ($cc*) and $m and ($g or $b)
}

rule php_phish_geoip_mail
{
    meta:
        description = "PHP looks up the visitor's location (geoplugin) and mails login data to a fixed address (a phishing kit's result or login-stealer hook)"
        score = 100
    strings:
        $g = "geoplugin.net" nocase
        $m = /\bmail[ \t]*\([ \t]*["'][^"'@\n]{1,64}@/
        $p1 = /user(name)?[ \t]*\|[ \t]*pass/ nocase
        $p2 = "REMOTE_ADDR"
    condition:
        $g and $m and any of ($p*)
}

rule html_title_names_a_webshell
{
    meta:
        description = "A server page's title calls it a shell, backdoor, bypass, r00t or hacker tool"
        score = 100
    strings:
        $t = /<title>[^<\n]{0,80}\b(shell|backdoor|bypass|hacked|hackers?|r00t|defacer)\b/ nocase
        $code1 = /<\?(php|=|[ \t\r\n])/ nocase
        $code2 = /<%[ \t\r\n=@!]/
    condition:
        $t and any of ($code*)
}

rule php_r57_exec_helper
{
    meta:
        description = "The r57/c99 family's command helper: a function of $cfe that runs it through exec/shell_exec/system/passthru/popen"
        score = 100
    strings:
        $f = "($cfe)"
        $x1 = "exec($cfe"
        $x2 = "system($cfe"
        $x3 = "passthru($cfe"
        $x4 = "popen($cfe"
    condition:
        $f and 2 of ($x*)
}

rule php_wp_rogue_admin
{
    meta:
        description = "WordPress backdoor: creates an administrator from request input behind a hash check, or logs the caller in as the first administrator without a password"
        score = 100
    strings:
        $c1 = /wp_(create|insert)_user[ \t]*\([ \t]*\$_(GET|POST|REQUEST)\[/ nocase
        $r = /set_role[ \t]*\([ \t]*["']administrator["']/ nocase
        $g1 = "md5($_GET["
        $g2 = "md5( $_GET["
        $g3 = "md5($_POST["
        $g4 = "md5( $_POST["
        $g5 = "md5($_REQUEST["
        $g6 = "md5( $_REQUEST["
        $l1 = /require(_once)?[ \t]*\(?[ \t]*["'][.\/]{0,20}wp-(blog-header|load)\.php["']/ nocase
        $l2 = /wp_set_auth_cookie[ \t]*\(/ nocase
        $l3 = /user_can[ \t]*\([^)\n]{1,40}["']administrator["']/ nocase
    condition:
        ($c1 and $r and any of ($g*)) or all of ($l*)
}

rule php_cgi_shell_dropper
{
    meta:
        description = "PHP writes a CGI shell script that runs the query string (#!/bin/sh … $QUERY_STRING) to escape PHP restrictions"
        score = 100
    strings:
        $s = /#![ \t]*\/(bin\/(ba)?sh|usr\/bin\/perl|usr\/bin\/env)/
        $q = /\/bin\/(ba)?sh[ \t]+-c[ \t]+\\?"?\\?\$QUERY_STRING/
        $w = /(fwrite|fputs|file_put_contents)[ \t]*\(/ nocase
    condition:
        $s and $q and $w
}

rule php_fake_error_page_gate
{
    meta:
        description = "PHP shows a fake 403/404 page unless the caller passes a password check, and hides an uploader or shell behind it"
        score = 60
    strings:
        $f = /<title>40[34] (Forbidden|Not Found)<\/title>/ nocase
        $g = /md5[ \t]*\([ \t]*\$_(GET|POST|REQUEST|COOKIE)\[/ nocase
        $u = /move_uploaded_file[ \t]*\(/ nocase
    condition:
        $f and $g and $u
}

rule php_encoded_sink_name
{
    meta:
        description = "PHP spells a code/command sink's name in percent-encoding or \\x hex escapes (only done to hide it)"
        score = 100
    strings:
        $p1 = "%65%76%61%6C" nocase
        $p2 = "%61%73%73%65%72%74" nocase
        $p3 = "%70%72%65%67%5F%72" nocase
        $p4 = "%73%79%73%74%65%6D" nocase
        $p5 = "%62%61%73%65%36%34" nocase
        $p6 = "%67%7A%69%6E%66%6C" nocase
        $x1 = "\\x65\\x76\\x61\\x6c" nocase
        $x2 = "\\x61\\x73\\x73\\x65\\x72\\x74" nocase
        $x3 = "\\x73\\x79\\x73\\x74\\x65\\x6d" nocase
        $x4 = "\\x62\\x61\\x73\\x65\\x36\\x34" nocase
        $x5 = "\\x67\\x7a\\x69\\x6e\\x66\\x6c" nocase
        $x6 = "\\x73\\x68\\x65\\x6c\\x6c\\x5f" nocase
        $x7 = "\\x70\\x61\\x73\\x73\\x74\\x68" nocase
    condition:
        any of them
}

rule php_encoder_family_marker
{
    meta:
        description = "PHP packed by a free encoder that webshell authors favour (PHPJiaMi, MZG/PHPDP _MzgLock): the payload is hidden from every other check"
        score = 100
    strings:
        $j1 = "PHPJiaMi.Com" nocase
        $m1 = "_MzgLock"
        $m2 = "$enb64_"
        $m3 = "MZG_PHPDP"
        $m4 = /www\.phpdp\.(org|com)/ nocase
        $m5 = "End of the decryption code"
    condition:
        $j1 or ($m1 and $m2) or $m3 or ($m4 and $m5)
}

rule php_high_byte_identifiers
{
    meta:
        description = "PHP whose constants, functions and $GLOBALS keys are named with non-ASCII bytes (machine-obfuscated code)"
        score = 100
    strings:
        $g = /\$GLOBALS\[['"][\x80-\xff]/
        $f = /function[ \t]+[\x80-\xff][\x80-\xff0-9]{2}/
        $d = /define\([ \t]*['"][\x80-\xff]/
        $b = "base64_decode" nocase
    condition:
        $b and 2 of ($g, $f, $d)
}

rule php_shifted_reversed_keywords
{
    meta:
        description = "PHP carries keywords spelled backwards with every letter shifted by one (opjudovg = function, tutjyf = exists, osvufs = return): a widespread injector's packer"
        score = 100
    strings:
        $a = "opjudovg"
        $b = "tutjyf"
        $c = "osvufs"
        $d = "fepmqyf"
    condition:
        2 of them
}

rule php_reversed_decoder_fragments
{
    meta:
        description = "PHP passes pieces of a decoder's reversed name to strrev (edoced_46esab = base64_decode)"
        score = 100
    strings:
        $r = /strrev[ \t]*\(/ nocase
        $a = /edoced|etalfnizg|sserpmocnuzg|31tor_rts/ nocase
    condition:
        $r and $a
}

rule php_script_tag_eval
{
    meta:
        description = "PHP code in a <script language=\"php\"> block that evaluates something (old-style tag used to dodge <?php scanners)"
        score = 100
    strings:
        $t = /<script[ \t]+language[ \t]*=[ \t]*["']?php["']?[ \t]*>[^<]{0,300}(eval|assert|system|passthru|shell_exec)(_r)?[ \t]*\(/ nocase
    condition:
        $t
}

rule php_eval_superglobal_like
{
    meta:
        description = "PHP evaluates an entry of a superglobal-style array ($_FILES, $_ENV, $_SESSION, $_FILE…) directly"
        score = 100
    strings:
        $a = /(eval|assert)[ \t]*\([ \t@]*\$_(FILES?|ENV|SESSION)\[/ nocase
        $b = /\$\{[ \t]*chr[ \t]*\([ \t]*95[ \t]*\)/
        $c = /=[ \t]*["'](asser|asse|syste|shell_exe|passthr|base64_decod|gzinflat|create_functio)["'][ \t]*;/
    condition:
        any of them
}

rule php_output_buffer_eval
{
    meta:
        description = "PHP echoes request input into an output buffer whose callback captures it, then asserts/evaluates the captured text"
        score = 100
    strings:
        $o = /ob_start[ \t]*\(/ nocase
        $e = /echo[ \t]+\$_(REQUEST|POST|GET|COOKIE)\[/ nocase
        $a = /(assert|eval)[ \t]*\([ \t]*\$[A-Za-z_][A-Za-z0-9_]{0,30}[ \t]*\)/ nocase
    condition:
        $o and $e and $a
}

rule php_request_logged_to_image
{
    meta:
        description = "PHP appends request or cookie data to a file named like an image (a credential/card logger hiding its loot in media folders)"
        score = 100
    strings:
        $a = /(file_put_contents|fopen)[ \t]*\([ \t]*["'][^"'\n]{1,160}\.(jpe?g|png|gif|ico|bmp)["'][ \t]*,[^;\n]{0,120}\$_(REQUEST|POST|COOKIE)\b/ nocase
    condition:
        $a
}

rule php_request_var_included
{
    meta:
        description = "PHP copies a request parameter into a variable and includes it on the next statement (remote/local file inclusion backdoor)"
        score = 50
    strings:
        $a = /\$[A-Za-z_][A-Za-z0-9_]{0,30}[ \t]*=[ \t]*\$_(GET|POST|REQUEST|COOKIE)\[[^\]\n]{1,30}\][ \t]*;[ \t\r\n]{1,8}(include|require)(_once)?[ \t]*\(?[ \t]*\$/ nocase
    condition:
        $a
}

rule php_tiny_client_name_uploader
{
    meta:
        description = "Small PHP page that saves an upload under the client's own file name and chmods it or puts it in a request-chosen directory (a dropped uploader)"
        score = 30
    strings:
        $m = /(move_uploaded_file|copy)[ \t]*\([ \t]*\$/ nocase
        $n = /\$_FILES\[["'][A-Za-z0-9_]{1,20}["']\]\[["']name["']\]/ nocase
        $c = /chmod[ \t]*\(/ nocase
        $d = /\$_(POST|GET|REQUEST)\[["'](dir|path|folder|pwd|d)["']\]/ nocase
        $f = /<input[ \t]+type=["']?file/ nocase
    condition:
        filesize < 4KB and $m and $n and $f and ($c or $d)
}

rule php_decoded_name_called_inline
{
    meta:
        description = "PHP decodes a function name into $_ and calls it in the same expression: (@$_=decode('…')).@$_(decode('…'))"
        score = 100
    strings:
        $a = /\(@?\$_[ \t]*=[ \t]*[A-Za-z_][A-Za-z0-9_]{0,30}[ \t]*\([ \t]*["'][^"'\n]{1,300}["'][^)\n]{0,30}\)[ \t]*\)[ \t]*\.[ \t]*@?\$_[ \t]*\(/
    condition:
        $a
}

rule php_chopper_relay
{
    meta:
        description = "PHP relays China Chopper traffic (its z0 code parameter, base64) to another shell over HTTP"
        score = 100
    strings:
        $z = /\$[A-Za-z_]{1,10}[ \t]*===?[ \t]*["']z0["']/
        $b = "base64_decode" nocase
        $c1 = "CURLOPT_POSTFIELDS"
        $c2 = "stream_context_create"
    condition:
        $z and $b and any of ($c*)
}

rule php_wget_table_dumper
{
    meta:
        description = "PHP database dumper whose usage line pulls tables out with wget … -O file (bulk data theft script)"
        score = 100
    strings:
        $u = /wget[ \t]+["']?https?:\/\/[^"'\s]{1,80}\.php\?[^"'\s]{1,160}["']?[ \t]+-O[ \t]+[^\s]{1,40}/
        $d = /mysql_connect|mysqli_connect|mysqli|new[ \t]+PDO/ nocase
        $s = /select[ \t]+(\*|[a-z_`,]{1,80})[ \t]+from/ nocase
    condition:
        $u and $d and $s
}

rule php_spam_tool_banner
{
    meta:
        description = "PHP spam, scam-redirect or link-selling tool by its own banner or client constants (SSS Scam Redirector, SAPE/Linkfeed/Trustlink clients)"
        score = 100
    strings:
        $s1 = "Scam Redirector" nocase
        $s2 = "Smart Spamming Solutions" nocase
        $s3 = "Getting Spam To A Higher Level" nocase
        $l1 = /define[ \t]*\([ \t]*["'](_SAPE_USER|LINKFEED_USER|TRUSTLINK_USER)["']/
        $l2 = /class[ \t]+(SAPE_base|SAPE_client|LinkfeedClient|TrustlinkClient)\b/
        $l3 = /new[ \t]+(SAPE_client|LinkfeedClient|TrustlinkClient)[ \t]*\(/
    condition:
        any of ($s*) or any of ($l*)
}

rule php_mysql_web_interface_family
{
    meta:
        description = "'MySQL Web Interface' database shell family (logs into a victim's MySQL with credentials read from its config; mysql_web_admin cookies)"
        score = 100
    strings:
        $a = "mysql_web_admin_username"
        $b = "mysql_web_admin_password"
    condition:
        $a and $b
}

rule php_security_plugin_tamper
{
    meta:
        description = "PHP disables or wipes several vendors' WordPress security scanners at once (Wordfence, iThemes, Acunetix WSD, Exploit Scanner, AIOWPS)"
        score = 100
    strings:
        $w = /wfIssues|wfConfig|wfStatus/
        $i = "itsec_file_change"
        $a = "_wsd_plugin_scan"
        $e = "exploitscanner_"
        $o = "aiowps_global_meta"
    condition:
        3 of them
}

rule php_chr_built_sink_name
{
    meta:
        description = "PHP spells a sink's name (or chr itself) as a chain of character codes through chr or an alias of it"
        score = 100
    strings:
        $c = /chr[ \t]*\([ \t]*99[ \t]*\)[ \t]*\.[ \t]*chr[ \t]*\([ \t]*104[ \t]*\)[ \t]*\.[ \t]*chr[ \t]*\([ \t]*114[ \t]*\)/ nocase
        $e1 = /\(101\)[ \t]*\.[ \t]*[$A-Za-z_]{1,8}\(118\)[ \t]*\.[ \t]*[$A-Za-z_]{1,8}\(97\)[ \t]*\.[ \t]*[$A-Za-z_]{1,8}\(108\)/
        $e2 = /\(101\)[ \t]*\.[ \t]*[$A-Za-z_]{1,8}\(120\)[ \t]*\.[ \t]*[$A-Za-z_]{1,8}\(101\)[ \t]*\.[ \t]*[$A-Za-z_]{1,8}\(99\)/
        $e3 = /\(115\)[ \t]*\.[ \t]*[$A-Za-z_]{1,8}\(121\)[ \t]*\.[ \t]*[$A-Za-z_]{1,8}\(115\)[ \t]*\.[ \t]*[$A-Za-z_]{1,8}\(116\)[ \t]*\.[ \t]*[$A-Za-z_]{1,8}\(101\)/
        $e4 = /\(97\)[ \t]*\.[ \t]*[$A-Za-z_]{1,8}\(115\)[ \t]*\.[ \t]*[$A-Za-z_]{1,8}\(115\)[ \t]*\.[ \t]*[$A-Za-z_]{1,8}\(101\)[ \t]*\.[ \t]*[$A-Za-z_]{1,8}\(114\)/
        $e5 = /\(112\)[ \t]*\.[ \t]*[$A-Za-z_]{1,8}\(97\)[ \t]*\.[ \t]*[$A-Za-z_]{1,8}\(115\)[ \t]*\.[ \t]*[$A-Za-z_]{1,8}\(115\)[ \t]*\.[ \t]*[$A-Za-z_]{1,8}\(116\)/
    condition:
        any of them
}

rule php_chr_built_regex_e
{
    meta:
        description = "PHP builds a preg_replace pattern from chr(47)…chr(101) (a /e code-evaluating modifier hidden from text search)"
        score = 100
    strings:
        $a = /preg_replace[ \t]*\([ \t\r\n]*chr[ \t]*\([ \t]*47[ \t]*\)[^;]{0,80}chr[ \t]*\([ \t]*101[ \t]*\)/ nocase
    condition:
        $a
}

rule php_superglobal_name_in_pieces
{
    meta:
        description = "PHP keeps a superglobal's name split inside string literals ('$_G' . \"ET[…]\") and evaluates the assembled code"
        score = 100
    strings:
        $p1 = "'$_G'"
        $p2 = "\"$_G\""
        $p3 = "'$_P'"
        $p4 = "\"$_P\""
        $p5 = "'$_R'"
        $p6 = "\"$_R\""
        $p7 = "'$_C'"
        $p8 = "\"$_C\""
        $e = /(eval|assert)[ \t]*\(/ nocase
    condition:
        any of ($p*) and $e
}

rule php_globals_nested_call
{
    meta:
        description = "PHP calls a function stored in $GLOBALS on the result of another one stored there ($GLOBALS['c']($GLOBALS['e'](…)))"
        score = 70
    strings:
        $a = /\$GLOBALS\[["'][A-Za-z0-9_]{1,10}["']\][ \t]*\([ \t]*\$GLOBALS\[["'][A-Za-z0-9_]{1,10}["']\][ \t]*\(/
    condition:
        $a
}

rule php_request_array_to_callback
{
    meta:
        description = "PHP hands a request value to filter_var FILTER_CALLBACK, or (behind a hash-check ternary) cast to an array to array_map: a hidden callback runs on it"
        score = 70
    strings:
        $a = /array_map[ \t]*\([^,\n]{1,40},[ \t]*\(array\)[ \t]*\$_(REQUEST|POST|GET|COOKIE)\[/ nocase
        $b = /filter_var[ \t]*\([ \t]*\$_(POST|GET|REQUEST|COOKIE)\[[^\]\n]{1,30}\][ \t]*,[ \t]*FILTER_CALLBACK/ nocase
        $g = /md5[ \t]*\([ \t]*\$_(GET|POST|REQUEST|COOKIE)\[[^\]\n]{1,30}\][ \t]*\)[ \t]*==[ \t]*["'][0-9a-f]{32}["'][ \t]*\?/ nocase
    condition:
        ($a and $g) or $b
}

rule php_junk_substr_name_builder
{
    meta:
        description = "PHP builds function names from substr() slices of junk strings and calls them through variables with empty str_replace pieces (generated obfuscator)"
        score = 100
    strings:
        $s = /\.substr\(["'][A-Za-z0-9_]{5,40}["'][ \t]*,[ \t]*[0-9]{1,2}[ \t]*,[ \t]*[0-9]{1,2}[ \t]*\);/
        $r1 = "\",\"\",\""
        $r2 = "','','"
    condition:
        #s >= 2 and (#r1 + #r2) >= 2
}

rule php_binary_dropper
{
    meta:
        description = "PHP writes an ELF executable or library it carries in a string (escaped or base64 ELF header), or preloads one with LD_PRELOAD (disable_functions bypass / implant)"
        score = 100
    strings:
        $e1 = "\\x7f\\x45\\x4c\\x46" nocase
        $e2 = "\\x7fELF"
        $e3 = "\\177ELF"
        $e4 = "f0VMRgE"
        $e5 = "f0VMRgI"
        $w = /(file_put_contents|fwrite|fputs)[ \t]*\(/ nocase
        $l = /(putenv[ \t]*\([ \t]*["']|export[ \t]+)LD_PRELOAD=/
    condition:
        (any of ($e*) and $w) or $l
}

rule php_crontab_persistence
{
    meta:
        description = "PHP appends a job to the web user's crontab through a shell pipeline (crontab -l … | crontab) to keep an implant running"
        score = 100
    strings:
        $c = /crontab[ \t]+-l[^\n]{0,160}\|[ \t]*crontab\b/
    condition:
        $c
}

rule php_curly_offset_name_assembly
{
    meta:
        description = "PHP assembles function names from single characters of a decoded table ($t{28} . $t{29} . …) and calls them"
        score = 100
    strings:
        $i1 = /\} \. \$[A-Za-z_][A-Za-z0-9_]{0,30}\{[0-9]{1,3}\} \. \$/
        $c = /return[ \t]+\$[A-Za-z_][A-Za-z0-9_]{0,30}[ \t]*\([ \t]*\$/
        $d = /(str_rot13|gzinflate|base64_decode|gzuncompress)[ \t]*\(/ nocase
    condition:
        #i1 > 4 and $c and $d
}

rule php_non_alnum_builder
{
    meta:
        description = "PHP builds strings from an array cast with [+\"\"] and XOR/OR of punctuation (non-alphanumeric shell construction)"
        score = 100
    strings:
        $a = "$_[+\"\"]"
        $b1 = "$_[+\"\"]|"
        $b2 = "$_[+\"\"]^"
        $b3 = "$_[+\"\"] |"
        $b4 = "$_[+\"\"] ^"
    condition:
        #a >= 2 and any of ($b*)
}

rule php_reads_account_database
{
    meta:
        description = "Small PHP page that prints /etc/passwd or /etc/shadow"
        score = 100
    strings:
        $a = /(file_get_contents|readfile|highlight_file|show_source|file|fopen)[ \t]*\([ \t]*["']\/etc\/(passwd|shadow)["']/ nocase
    condition:
        filesize < 4KB and $a
}

rule php_server_array_by_position
{
    meta:
        description = "PHP takes request data out of array_values($_SERVER/$_GET/…) by position and runs it (hides which header carries the command)"
        score = 100
    strings:
        $a = /array_values[ \t]*\([ \t]*\$_(SERVER|GET|POST|REQUEST|COOKIE)[ \t]*\)/
        $x = /(system|eval|assert|passthru|shell_exec|exec)[ \t]*\([ \t]*\$[A-Za-z_]{1,20}(\[[0-9]{1,3}\]|[ \t]*\.[ \t]*\$[A-Za-z_]{1,20}\[[0-9]{1,3}\])/ nocase
    condition:
        $a and $x
}

rule php_preg_e_pattern_literal
{
    meta:
        description = "PHP keeps a match-everything regex with the /e (evaluate) modifier in a string and passes request input to preg_replace/preg_filter"
        score = 100
    strings:
        $p = /["'](\|\.\*\||\/\.\*\/|#\.\*#|~\.\*~|@\.\*@|!\.\*!)e["']/
        $f = /preg_(replace|filter)[ \t]*\([^;\n]{0,60}\$_(GET|POST|REQUEST|COOKIE)\[/ nocase
    condition:
        $p and $f
}

rule php_token_stripped_eval
{
    meta:
        description = "PHP strips uppercase junk tokens out of a string with a chain of str_replace calls and evaluates the result"
        score = 100
    strings:
        $r = /str_replace[ \t]*\([ \t]*["'][A-Z]{4,20}["'][ \t]*,[ \t]*["'][^"'\n]{0,3}["'][ \t]*,/
        $e = /(eval|assert)[ \t]*\([ \t]*\$[A-Za-z_]/ nocase
    condition:
        #r >= 4 and $e
}

rule php_self_appending_request
{
    meta:
        description = "PHP opens its own source file for writing and stores posted text in it (self-modifying page: planted code runs on the next visit)"
        score = 100
    strings:
        $f = /fopen[ \t]*\([ \t]*__FILE__[ \t]*,[ \t]*["'][aw]/ nocase
        $p = /\$_(POST|GET|REQUEST)\[/
        $w = /(fwrite|fputs)[ \t]*\(/ nocase
    condition:
        $f and $p and $w
}

rule php_request_chmod_777
{
    meta:
        description = "Small PHP page that makes a request-chosen path world-writable (chmod 0777)"
        score = 100
    strings:
        $a = /\$_(GET|POST|REQUEST)\[[^\]\n]{1,30}\]\)?[ \t]*;[ \t\r\n]{1,8}[^;\n]{0,20}chmod[ \t]*\([ \t]*\$[A-Za-z_]{1,20}[ \t]*,[ \t]*0?777/ nocase
        $b = /chmod[ \t]*\([ \t]*(stripslashes\()?\$_(GET|POST|REQUEST)\[[^\]\n]{1,30}\]\)?[ \t]*,[ \t]*0?777/ nocase
    condition:
        filesize < 4KB and any of them
}

rule php_function_named_after_own_file
{
    meta:
        description = "Tiny PHP that takes a function name from the tail of its own file name (substr(__FILE__,-N,-M)) and calls it on request input"
        score = 100
    strings:
        $a = /substr[ \t]*\([ \t]*__FILE__[ \t]*,[ \t]*-[0-9]{1,2}[ \t]*,[ \t]*-[0-9]/
        $p = /\$_(POST|GET|REQUEST|COOKIE)\[/
    condition:
        filesize < 2KB and $a and $p
}

rule php_subnet_web_sweeper
{
    meta:
        description = "PHP walks a whole /24 (http:// . prefix . $i for i up to 255) fetching each host's page, title or Server header (intranet web scanner)"
        score = 100
    strings:
        $u = /["']https?:\/\/["'][ \t]*\.[ \t]*\$[A-Za-z_][A-Za-z0-9_]{0,20}[ \t]*\.[ \t]*\$i\b/
        $l = /\$i[ \t]*<=?[ \t]*25[456][ \t]*;/
    condition:
        $u and $l
}

rule php_smtp_address_verifier
{
    meta:
        description = "PHP checks lists of e-mail addresses against their MX servers with RCPT TO probes (a spammer's list cleaner)"
        score = 100
    strings:
        $r = "RCPT TO:"
        $m = /getmxrr|DNS_MX/
        $v = /function[ \t]+verify_?e?mails?[ \t]*\(/ nocase
    condition:
        $r and $m and #v >= 2
}

rule php_code_written_to_non_php_then_included
{
    meta:
        description = "PHP writes '<?php' plus decoded input into a file with a non-PHP extension and then includes that file (a dropper that hides its stage as .html/.txt/.jpg)"
        score = 100
    strings:
        $w = /(file_put_contents|fwrite|fputs)[ \t]*\([^;\n]{1,80},[ \t]*["']<\?php/ nocase
        $i = /(require|include)(_once)?[ \t]*\(?[ \t]*["'][^"'\n]{1,60}\.(html?|txt|jpe?g|png|gif|log|dat|ico)["']/ nocase
        $d = /base64_decode|gzinflate|str_rot13/ nocase
    condition:
        $w and $i and $d
}
