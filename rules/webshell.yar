/*
   Rampart's own webshell signatures. Written for this project from the behaviour
   webshells share (what they do), not from the strings of particular samples; the script
   analyzer (rampart-script) does the semantic work and these rules add cheap, broad
   evidence. Each rule's `score` is added to the analyzer's score; 100 or more is a
   detection, so weak rules (score < 50) never decide alone.

   Compatible with both YARA-X and the classic `yara` CLI (used by bench/scan to compare).
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

rule shell_ui_strings
{
    meta:
        description = "Operator interface of a file-manager / command webshell (several of its typical labels)"
        score = 45
    strings:
        $s1 = "uname -a" nocase
        $s2 = "safe_mode" nocase
        $s3 = "disable_functions" nocase
        $s4 = "/etc/passwd"
        $s5 = "netstat -an" nocase
        $s6 = "back connect" nocase
        $s7 = "bind port" nocase
        $s8 = "backconnect" nocase
        $s9 = "cmd.exe /c" nocase
        $s10 = "whoami" nocase
        $s11 = "open_basedir" nocase
        $s12 = "ps -aux" nocase
        $s13 = "ps aux" nocase
        $s14 = "find / -type f -perm" nocase
        $s15 = "locate config.inc.php" nocase
        $s16 = "/etc/shadow"
        $s17 = "net user" nocase
        $s18 = "wget http" nocase
        $s19 = "bash -i" nocase
        $s20 = "nc -e" nocase
    condition:
        filesize < 2MB and 4 of them
}

rule asp_command_shell
{
    meta:
        description = "ASP page that creates a shell object and reads the request"
        score = 70
    strings:
        $obj1 = "wscript.shell" nocase
        $obj2 = "shell.application" nocase
        $obj3 = "wscript.network" nocase
        $req = "request" nocase
    condition:
        any of ($obj*) and $req
}

rule aspx_process_from_request
{
    meta:
        description = "ASP.NET page that starts processes and reads request input"
        score = 60
    strings:
        $p1 = "ProcessStartInfo" nocase
        $p2 = "Process.Start" nocase
        $r1 = "Request" nocase
        $r2 = ".Text" nocase
        $d = "<%@" 
    condition:
        $d and any of ($p*) and any of ($r*)
}

rule jsp_runtime_exec
{
    meta:
        description = "JSP page that runs OS commands"
        score = 60
    strings:
        $d1 = "<%"
        $d2 = "jsp:" nocase
        $e1 = "getRuntime().exec" nocase
        $e2 = "ProcessBuilder"
    condition:
        any of ($d*) and any of ($e*)
}

rule jsp_class_loader_backdoor
{
    meta:
        description = "JSP that defines classes from (decrypted) request bytes"
        score = 100
    strings:
        $d1 = "<%"
        $d2 = "jsp:" nocase
        $c1 = "defineClass"
        $c2 = "ClassLoader"
        $r1 = "getReader()"
        $r2 = "getInputStream()"
        $r3 = "getParameter("
        $k1 = "Cipher"
        $k2 = "BASE64Decoder"
        $k3 = "Base64"
    condition:
        any of ($d*) and $c1 and $c2 and any of ($r*) and any of ($k*)
}

rule perl_cgi_shell
{
    meta:
        description = "Perl CGI that passes request input to the shell"
        score = 100
    strings:
        $cgi1 = "QUERY_STRING"
        $cgi2 = "param(" nocase

        $x1 = /system[ \t]*\(?[ \t]*\$/
        $x2 = /exec[ \t]*\(?[ \t]*\$/
        $x3 = /`[^`\n]{0,80}\$[a-zA-Z_{]/
        $x4 = /open[ \t]*\([^\n]{0,80}\|[ \t]*["')]/
        $x5 = "/bin/sh"
        $x6 = "cmd.exe" nocase
        $pl = /^#![^\n]{0,40}perl/
        $pl2 = "use CGI"
        $pl3 = "$ENV{"
    condition:
        any of ($pl*) and ($cgi1 or $cgi2) and any of ($x*)
}

rule perl_reverse_shell
{
    meta:
        description = "Perl connects out and attaches a shell to the socket"
        score = 100
    strings:
        $s1 = "socket(" nocase
        $s2 = "IO::Socket" nocase
        $d1 = "open(STDIN" nocase
        $d2 = "open STDIN" nocase
        $d3 = "dup2"
        $d4 = "STDOUT" 
        $sh1 = "/bin/sh"
        $sh2 = "/bin/bash"
        $sh3 = "cmd.exe" nocase
    condition:
        any of ($s*) and 2 of ($d*) and any of ($sh*)
}

rule python_cgi_shell
{
    meta:
        description = "Python CGI or app that runs request input"
        score = 100
    strings:
        $r1 = "cgi.FieldStorage"
        $r2 = "request.args"
        $r3 = "request.form"
        $r4 = "QUERY_STRING"
        $x1 = "os.system("
        $x2 = "os.popen("
        $x3 = "subprocess."
        $x4 = "commands.getoutput"
    condition:
        any of ($r*) and any of ($x*)
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

rule asp_server_object_shell
{
    meta:
        description = "ASP page instantiates a command shell COM object server-side (WScript.Shell / Shell.Application by CLSID)"
        score = 100
    strings:
        $o = "runat" nocase
        $c1 = "72C24DD5-D70A-438B-8A42-98424B88AFB8" nocase
        $c2 = "F935DC22-1CF0-11D0-ADB9-00C04FD58A0B" nocase
        $c3 = "13709620-C279-11CE-A49E-444553540000" nocase
    condition:
        $o and any of ($c*)
}

rule asp_encoded_server_script
{
    meta:
        description = "Server-side script hidden with the Microsoft Script Encoder (VBScript.Encode / JScript.Encode)"
        score = 100
    strings:
        $l1 = /language[ \t]*=[ \t]*["']?(VBScript|JScript)\.Encode/ nocase
        $m = "#@~^"
        $e = "^#~@"
        $p1 = "<%"
        $p2 = "runat" nocase
    condition:
        uint32(0) != 0x474e5089 and ($l1 or ($m and $e)) and any of ($p*)
}
