/*
   Rampart webshell signatures: Perl CGI.

   Written for this project from what webshells do (capabilities, obfuscation shapes) and
   from well-known family/tool markers, never from hashes or one sample's strings. The
   script analyzer (rampart-script) does the semantic work; each rule's `score` meta is
   added to the analyzer's score and 100 or more is a detection, so weak evidence
   (score < 50) never decides alone. Every file in rules/ is compiled into the binary
   (crates/rampart-scan/build.rs) and also runs under the classic `yara` CLI
   (bench/scan/speed), so only syntax both accept is used.
*/

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
        $x3 = /`\$[a-zA-Z_{]/
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

rule perl_cgi_file_browser
{
    meta:
        description = "Perl CGI file browser: lists directories and opens files at paths taken from the request (a webshell's file manager)"
        score = 100
    strings:
        $pl1 = /^#![^\n]{0,40}perl/
        $pl2 = "use CGI"
        $q1 = "QUERY_STRING"
        $q2 = "param(" nocase
        $d1 = "opendir" nocase
        $d2 = "readdir" nocase
        $o = /open[ \t]*\(?[ \t]*[A-Z_]{2,12}[ \t]*,[ \t]*["']?[<>+]{0,2}[ \t]*\$(path|file|dir|[A-Za-z_]{0,10}(path|file|dir))/ nocase
    condition:
        filesize < 200KB and any of ($pl*) and any of ($q*) and $d1 and $d2 and $o
}
