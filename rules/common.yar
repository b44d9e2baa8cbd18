/*
   Rampart webshell signatures: language-independent (operator UIs, Python, tool markers).

   Written for this project from what webshells do (capabilities, obfuscation shapes) and
   from well-known family/tool markers, never from hashes or one sample's strings. The
   script analyzer (rampart-script) does the semantic work; each rule's `score` meta is
   added to the analyzer's score and 100 or more is a detection, so weak evidence
   (score < 50) never decides alone. Every file in rules/ is compiled into the binary
   (crates/rampart-scan/build.rs) and also runs under the classic `yara` CLI
   (bench/scan/speed), so only syntax both accept is used.
*/

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
        filesize < 2MB and 5 of them
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

rule webshell_family_name
{
    meta:
        description = "Names a well-known webshell family or tunnelling tool (c99, r57, WSO/FilesMan, b374k, JspSpy, ASPXSpy, reGeorg, Behinder, Godzilla, AntSword, China Chopper…)"
        score = 100
    strings:
        $s1 = /\b(c99shell|c99madshell|r57shell|FilesMan|b374k|phpRemoteView|RemView|Lolipop\.php|KingDefacer|PHVayv|IIS ?Spy|udf\.dll)\b/ nocase
        $s4 = /(c99sh|c99ftp|c99_|r57_|wso_|b374k_)[A-Za-z]/
        $t = /<title>[^<\n]{0,80}\b(c99|r57|c100|WSO|b374k|FilesMan|Lolipop|KingDefacer|JspSpy|ASPXSpy)[^<\n]{0,80}<\/title>/ nocase
        $s2 = /\b(JspSpy|JFolder|ASPXSpy|AspxSpy2?|reGeorg|reDuh|Tunna|Behinder|rebeyond|antSword|AntSword|caidao|Cknife|pwnshell|WebAdmin2Y|Ani-Shell|N3tshell|FaTaLisTiCz|PHP_KIT|JSP_KIT|CmdAsp|wso_version|WebShellOrb|php-reverse-shell|PhpSpy|WebShell|Web-Shell)\b/
        $s3 = /\b(Godzilla|Dive Shell|Mister Spy|Dark Raver|WSO [0-9]\.[0-9])\b/
        $code1 = /<\?(php|=|[ \t\r\n])/ nocase
        $code2 = /<%([ \t\r\n=@!]|[A-Za-z]{3})/
        $code3 = /runat[ \t]*=[ \t]*["']?server/ nocase
        $code4 = /^#![ \t]*\//
        $s5 = /\b(IndoXploit|AnonymousFox|ALFA_DATA|alfacgiapi|Alfa[ _-]Shell|p0wny|SimAttacker|DxShell|Dx Shell|nstview|zehir4?|ctt_sh|Safe0ver|NetworkFileManagerPHP|w4ck1ng|SnIpEr_SA|Ajax_PHP_Command_Shell|PHPJackal|aZRaiLPhp|KAdot|Cyber Shell|GFS Web-Shell|NIX REMOTE WEB-SHELL|CasuS|Crystal ?Shell|JspWebshell|jsp File Browser|KJ021320|aspydrv|ntdaddy|EFSO_2|RHTools|ASPXTool|wsoEx|wsoHeader|actionFilesMan|Sadrazam|Ayyildiz|MulCiShell|Locus7s|PHANTASMA|Rootshell|Pouya_Server|NCC-Shell|SyRiAn Sh3ll|Storm7Shell|Mini Shell|Priv8|Bypass Shell|Shell Uploader|Jack Shell|lostDC|Worse Linux Shell|Cmd\.jsp|cmdjsp|jspshell|JspSpyWeb)\b/ nocase
        $u = /WebAdmin2Y\.x\.y/
        $g1 = /["']X-CMD["']/ nocase
        $g2 = /["']X-(TARGET|STATUS|ERROR|PORT)["']/ nocase
    condition:
        (any of ($s*) and any of ($code*)) or $t or $u or ($g1 and $g2)
}

rule shell_reverse_connect_string
{
    meta:
        description = "A script embeds a reverse-shell command line (bash -i to /dev/tcp, nc -e, mkfifo pipe)"
        score = 100
    strings:
        $a = /bash[ \t]+-i[ \t]*>&?[ \t]*\/dev\/tcp\// nocase
        $b = /\/dev\/tcp\/[0-9$"'{+]/
        $c = /\bnc(at)?[ \t]+(-[a-z]{1,4}[ \t]+)*-e[ \t]+\/bin\/(ba)?sh/
        $d = /mkfifo[ \t]+\/tmp\/[^ \n]{1,20};[ \t]*(cat|nc)/
        $code1 = /<\?(php|=|[ \t\r\n])/ nocase
        $code2 = /<%([ \t\r\n=@!]|[A-Za-z]{3})/
        $code3 = /runat[ \t]*=[ \t]*["']?server/ nocase
    condition:
        any of ($a, $b, $c, $d) and any of ($code*)
}

rule chopper_parameter_names
{
    meta:
        description = "Request parameters z0/z1/z2 read together (the China Chopper client's protocol)"
        score = 70
    strings:
        $z1 = /(\$_(POST|GET|REQUEST)\[|getParameter\(|Request\.(Form|Item|QueryString)?\(?\[?|Request\()["']z1["']/ nocase
        $z2 = /(\$_(POST|GET|REQUEST)\[|getParameter\(|Request\.(Form|Item|QueryString)?\(?\[?|Request\()["']z2["']/ nocase
    condition:
        $z1 and $z2
}

rule base64_of_request_access
{
    meta:
        description = "A base64 string that decodes to request access or a code sink (Request.Item, $_POST, eval(…)), hidden from plain-text matching"
        score = 100
    strings:
        $a1 = "UmVxdWVzdC5JdGVt"
        $a2 = "UmVxdWVzdC5Gb3Jt"
        $a3 = "JF9QT1NU"
        $a4 = "JF9HRVRb"
        $a5 = "JF9SRVFVRVNU"
        $a6 = "ZXZhbChSZXF1ZXN0"
        $a7 = "ZXZhbCgkX1"
        $a8 = "YXNzZXJ0KCRf"
        $a9 = "QGV2YWwoJF9"
        $a10 = "c3lzdGVtKCRf"
        $a11 = "ZXhlY3V0ZShyZXF1ZXN0"
        $a12 = "PD9waHAgQGV2YWwo"
        $a13 = "PD9waHAgZXZhbCg"
    condition:
        any of them
}

rule embedded_one_line_shell
{
    meta:
        description = "A script carries another server page in a string whose code evaluates request input (a dropper writing a one-line webshell)"
        score = 100
    strings:
        $a = /<(%|\?php|\?)[^\r\n]{0,60}(eval|execute|executeglobal|assert)[ \t]*\(?[ \t]*(@[ \t]*)?(request|\$_(POST|GET|REQUEST|COOKIE)|\$\{?["']?_(POST|GET))/ nocase
        $b = /<(%|\?php|\?)[^\r\n]{0,60}(system|passthru|shell_exec|eval|assert)[ \t]*\([ \t]*\\?\$_(POST|GET|REQUEST|COOKIE)/ nocase
        $w1 = "CreateText" nocase
        $w2 = "WriteAll" nocase
        $w3 = "fwrite" nocase
        $w4 = "file_put_contents" nocase
        $w5 = "fputs" nocase
        $w6 = "FileOutputStream" nocase
        $w7 = "FileWriter" nocase
        $w8 = "CreateTextFile" nocase
        $w9 = "SaveToFile" nocase
        $w10 = ".Write(" nocase
        $w11 = ".write(" nocase
    condition:
        any of ($a, $b) and any of ($w*)
}

rule sink_name_list
{
    meta:
        description = "A list of command-execution function names to try in turn (shells and their clients)"
        score = 100
    strings:
        $a = /["'](system|passthru|exec|shell_exec|popen|proc_open)["'][ \t]*,[ \t]*["'](system|passthru|exec|shell_exec|popen|proc_open)["'][ \t]*,[ \t]*["'](system|passthru|exec|shell_exec|popen|proc_open)["']/
    condition:
        $a
}

rule setuid_shell_dropper
{
    meta:
        description = "A script writes or builds a setuid-root shell (setuid(0) + /bin/sh, compiled with gcc)"
        score = 100
    strings:
        $a = /setuid[ \t]*\([ \t]*0[ \t]*\)/
        $b = "/bin/sh"
        $c = /gcc[ \t]|\.c["' \t]/
    condition:
        all of them
}

rule tool_self_description
{
    meta:
        description = "A script describes itself as a backdoor or a web shell (more than once)"
        score = 50
    strings:
        $b = /\b(back[ -]?door|web[ -]?shell|php[ -]?shell|asp[ -]?shell|jsp[ -]?shell|shell[ -]?uploader|r00t[ -]?kit)\b/ nocase
        $code1 = /<\?(php|=|[ \t\r\n])/ nocase
        $code2 = /<%([ \t\r\n=@!]|[A-Za-z]{3})/
        $code3 = /^#![^\n]{0,40}(perl|python|sh|bash)/
    condition:
        any of ($code*) and #b > 1
}

rule tool_mass_defacer
{
    meta:
        description = "A script that calls itself a mass-defacement tool"
        score = 100
    strings:
        $d = /mass[ \t_-]?deface(r|ment)?/ nocase
        $code1 = /<\?(php|=|[ \t\r\n])/ nocase
        $code2 = /<%([ \t\r\n=@!]|[A-Za-z]{3})/
        $code3 = /^#![^\n]{0,40}(perl|python|sh|bash)/
    condition:
        $d and any of ($code*)
}

rule iis_metabase_site_enumeration
{
    meta:
        description = "A script opens the IIS metabase (IIS://localhost/W3SVC) through COM / GetObject / DirectoryEntry to list the server's sites, paths and accounts (webshell reconnaissance module)"
        score = 100
    strings:
        $m = "IIS://localhost/w3svc" nocase
        $o1 = "new COM(" nocase
        $o2 = "GetObject(" nocase
        $o3 = "DirectoryEntry(" nocase
    condition:
        $m and any of ($o*)
}

rule hacker_group_banner
{
    meta:
        description = "A script carries the banner of a hacker group or exploit site known for webshells and hack tools (Silic Group / BlackBap, t00ls, AventGrup, Hacksys, pentestmonkey tools…)"
        score = 100
    strings:
        $b1 = /Silic Group|Hacker Army|blackbap\.org|BlackBap/ nocase
        $b2 = /www\.t00ls\.net|t00ls\.net\/thread/ nocase
        $b3 = /AventGrup/ nocase
        $b4 = /Hacksys Team|hacksysteam/ nocase
        $b5 = /pentestmonkey@pentestmonkey\.net/ nocase
        $b6 = /Safe[ -]?mode breaker|break fucking safe-mode/ nocase
        $b7 = /cyberlords\.net|CL SQL Client/ nocase
        $code1 = /<\?(php|=|[ \t\r\n])/ nocase
        $code2 = /<%([ \t\r\n=@!]|[A-Za-z]{3})/
        $code3 = /runat[ \t]*=[ \t]*["']?server/ nocase
    condition:
        any of ($b*) and any of ($code*)
}

rule irc_bot_protocol
{
    meta:
        description = "A script speaks IRC over its own socket (NICK/JOIN/PRIVMSG) and offers flooding, scanning or command execution to the channel (an IRC bot / DDoS bot in any language)"
        score = 100
    strings:
        $s1 = "IO::Socket"
        $s2 = "fsockopen" nocase
        $s3 = "socket_create" nocase
        $s4 = "new Socket(" nocase
        $s5 = "socket.socket(" nocase
        $p = "PRIVMSG"
        $j = /["']JOIN[ \t]/
        $n = /["']NICK[ \t]/
        $a1 = "flood" nocase
        $a2 = "portscan" nocase
        $a3 = "backconnect" nocase
    condition:
        any of ($s*) and #p >= 3 and $j and $n and any of ($a*)
}

rule hack_tool_family_name
{
    meta:
        description = "Names a known hack tool or shell client family in a script (ShellBOT, icmpsh, Gorosaurus client, Metasploit's JSP StreamConnector reverse shell)"
        score = 100
    strings:
        $n1 = /\bShellBOT\b/
        $n2 = /\bicmpsh\b/
        $n3 = /\bGorosaurus\b/ nocase
        $n4 = /class[ \t]+StreamConnector[ \t]+extends[ \t]+Thread/
        $code1 = /<\?(php|=|[ \t\r\n])/ nocase
        $code2 = /<%([ \t\r\n=@!]|[A-Za-z]{3})/
        $code3 = /^#![^\n]{0,40}(perl|python|sh|bash)/
        $code4 = "use LWP::"
        $code5 = "use IO::Socket"
    condition:
        any of ($n*) and any of ($code*)
}

rule one_line_eval_variants
{
    meta:
        description = "One-line backdoor variants in any server language: eval_r(request…), eval spelled letter by letter, 'eval request(' with no parentheses, a StreamWriter opened on a request-supplied path"
        score = 100
    strings:
        $r = /eval_r[ \t]*\([ \t]*(request|\$_(POST|GET|REQUEST|COOKIE))/ nocase
        $l = /["']e["'][ \t]*[&+.][ \t]*["']v["'][ \t]*[&+.][ \t]*["']a["'][ \t]*[&+.][ \t]*["']l["']/ nocase
        $q = /(eval|execute|executeglobal)[ \t]+request[ \t]*\(/ nocase
        $w = /new[ \t]+streamwriter[ \t]*\([ \t]*request(\.form|\.querystring|\.item|\.params)?[ \t]*[\(\[]/ nocase
    condition:
        any of them
}
