/*
   Rampart webshell signatures: ASP.NET (aspx/ashx/asmx).

   Written for this project from what webshells do (capabilities, obfuscation shapes) and
   from well-known family/tool markers, never from hashes or one sample's strings. The
   script analyzer (rampart-script) does the semantic work; each rule's `score` meta is
   added to the analyzer's score and 100 or more is a detection, so weak evidence
   (score < 50) never decides alone. Every file in rules/ is compiled into the binary
   (crates/rampart-scan/build.rs) and also runs under the classic `yara` CLI
   (bench/scan/speed), so only syntax both accept is used.
*/

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

rule aspx_registry_browser
{
    meta:
        description = "ASP.NET page that opens registry hives on request (a webshell's registry browser)"
        score = 100
    strings:
        $d = /<%@[ \t]*(Page|WebHandler|WebService|Control)/ nocase
        $w = "Microsoft.Win32" nocase
        $h1 = "Registry.LocalMachine"
        $h2 = "Registry.Users"
        $h3 = "Registry.CurrentConfig"
        $h4 = "Registry.ClassesRoot"
        $r = /Request(\.Form|\.QueryString|\.Params)?\[/ nocase
    condition:
        $d and $w and 3 of ($h*) and $r
}

rule aspx_socket_tunnel
{
    meta:
        description = "ASP.NET page that opens raw sockets driven by request headers or body (reGeorg-style tunnel, port scanner, relay)"
        score = 100
    strings:
        $d = /<%@[ \t]*(Page|WebHandler|WebService)/ nocase
        $s1 = "System.Net.Sockets" nocase
        $s2 = "new Socket(" nocase
        $s3 = "TcpClient" nocase
        $c1 = /Request\.Headers(\[|\.Get\()/ nocase
        $c2 = "Request.InputStream" nocase
        $c3 = /\.Connect[ \t]*\([^)\n]{0,80}(Request|IPAddress\.Parse)/ nocase
        $c4 = /(Request\.Form|Request\.QueryString|Request)\[["'][^"'\n]{1,20}["']\][^\n]{0,80}(Port|Connect|IPAddress)/ nocase
    condition:
        $d and any of ($s*) and 2 of ($c*)
}

rule aspx_file_manager
{
    meta:
        description = "ASP.NET file manager: lists directories and creates/deletes/uploads files on request"
        score = 60
    strings:
        $d = /<%@[ \t]*(Page|WebHandler|WebService)/ nocase
        $l1 = "DirectoryInfo" nocase
        $l2 = "GetFiles(" nocase
        $l3 = "GetDirectories(" nocase
        $l4 = "GetLogicalDrives" nocase
        $w1 = "File.Delete" nocase
        $w2 = "File.Create" nocase
        $w3 = "File.WriteAll" nocase
        $w4 = ".SaveAs(" nocase
        $w5 = "Directory.Delete" nocase
        $w6 = "File.Move" nocase
        $w7 = "File.Copy" nocase
        $w8 = "StreamWriter" nocase
        $r = /Request(\.Form|\.QueryString|\.Params|\.Files)?\[|\.PostedFile/ nocase
    condition:
        $d and 2 of ($l*) and 2 of ($w*) and $r
}

rule aspx_process_or_wmi_shell
{
    meta:
        description = "ASP.NET page that starts cmd.exe / arbitrary processes or WMI queries from a form"
        score = 60
    strings:
        $d = /<%@[ \t]*(Page|WebHandler|WebService)/ nocase
        $p1 = /FileName[ \t]*=[ \t]*@?["'](cmd|cmd\.exe|powershell|powershell\.exe|c:\\\\windows\\\\system32\\\\cmd\.exe)["']/ nocase
        $p2 = /Process\.Start[ \t]*\([ \t]*@?["'](cmd|cmd\.exe|powershell)/ nocase
        $p3 = "ManagementObjectSearcher" nocase
        $p4 = "RedirectStandardOutput" nocase
        $r = /Request(\.Form|\.QueryString|\.Params)?\[|\.Text\b/ nocase
    condition:
        $d and 2 of ($p*) and $r
}

rule aspx_request_eval
{
    meta:
        description = "ASP.NET JScript evaluates request input (eval(Request…, \"unsafe\")) or compiles request code"
        score = 100
    strings:
        $a = /eval[ \t]*\([ \t]*(System\.Text\.Encoding[^)]{0,80}\()?[ \t]*Request/ nocase
        $b = /"unsafe"/
        $c = /CompileAssemblyFromSource[ \t]*\([^)\n]{0,100}Request/ nocase
        $d = /Assembly\.Load[ \t]*\([^\n]{0,120}(Request|FromBase64String)/ nocase
    condition:
        ($a and $b) or $c or $d
}

rule aspx_xslt_script
{
    meta:
        description = "ASP.NET runs an XSLT with embedded script enabled (code execution through msxsl:script)"
        score = 100
    strings:
        $x = "XslCompiledTransform" nocase
        $s = /XsltSettings[ \t]*\([ \t]*true[ \t]*,[ \t]*true/ nocase
        $m = "msxsl:script" nocase
        $e = "EnableScript" nocase
    condition:
        $x and (($m and ($s or $e)) or ($s and $e))
}

rule aspx_precompiled_shell_stub
{
    meta:
        description = "ASP.NET page whose only content instantiates a class from a precompiled assembly with a key (a stub for a precompiled webshell)"
        score = 60
    strings:
        $a = /runat[ \t]*=[ \t]*["']?server["']?[ \t]*>[ \t\r\n]{0,10}[A-Za-z0-9_.]{3,40}[ \t]+[A-Za-z0-9_]{1,20}[ \t]*=[ \t]*new[ \t]+[A-Za-z0-9_.]{3,40}\(["'][0-9a-f]{16,32}["']\)/ nocase
    condition:
        filesize < 2KB and $a
}

rule aspx_jscript_eval
{
    meta:
        description = "ASP.NET JScript page or web service that calls eval (with the 'unsafe' flag or on request/parameter data)"
        score = 100
    strings:
        $l = /<%@[^>]{0,80}Language[ \t]*=[ \t]*["']?J(ava)?Script/ nocase
        $e = /\beval[ \t]*\(/
        $u = "unsafe"
        $r = /\beval[ \t]*\([ \t]*(Request|[A-Za-z_][A-Za-z0-9_]{0,20}[ \t]*\))/
    condition:
        $l and $e and ($u or $r)
}

rule aspx_textbox_file_writer
{
    meta:
        description = "ASP.NET page that writes a text box's content to a path typed into another text box (an uploader)"
        score = 100
    strings:
        $a = /StreamWriter[ \t]*\([ \t]*(this\.)?[A-Za-z_][A-Za-z0-9_]{0,30}\.Text/ nocase
        $b = /\.Write(Line)?[ \t]*\([ \t]*(this\.)?[A-Za-z_][A-Za-z0-9_]{0,30}\.Text[ \t]*\)/ nocase
        $c = /File\.WriteAll(Text|Bytes)[ \t]*\([ \t]*(this\.)?[A-Za-z_][A-Za-z0-9_]{0,30}\.Text[ \t]*,[^;\n]{0,80}\.Text/ nocase
    condition:
        ($a and $b) or $c
}

rule aspx_request_file_transfer
{
    meta:
        description = "ASP.NET page that serves or stores arbitrary files chosen by request parameters behind a key (a file-transfer webshell)"
        score = 100
    strings:
        $d = /<%@[ \t]*(Page|WebHandler|WebService)/ nocase
        $p = /Request(\.Params|\.QueryString|\.Form)?\[["'](file|path|dir|directory|operation|cmd|action)["']\]/ nocase
        $o1 = "Response.WriteFile" nocase
        $o2 = "Response.TransmitFile" nocase
        $o3 = "File.ReadAllBytes" nocase
        $o4 = "Request.Files" nocase
        $o5 = "FileMode.Create" nocase
        $o6 = "Directory.GetFiles" nocase
        $o7 = "GetDirectories" nocase
        $k = /!=[ \t]*[A-Z_]{4,20}\)|==[ \t]*"[^"\n]{3,40}"\)/
    condition:
        $d and $p and 2 of ($o*) and $k
}

rule aspx_request_database_tool
{
    meta:
        description = "ASP.NET page that opens a database connection string typed by the user and runs their SQL"
        score = 60
    strings:
        $c = /new[ \t]+(SqlConnection|OleDbConnection|OdbcConnection|MySqlConnection)[ \t]*\([ \t]*[A-Za-z_][A-Za-z0-9_.]{0,40}\)/ nocase
        $q = /(SqlDataAdapter|OleDbDataAdapter|ExecuteReader|ExecuteNonQuery|SqlCommand|OleDbCommand)/ nocase
        $i1 = /(Request(\.Form|\.Params|\.QueryString)?\[|\.Text\b)/ nocase
        $i2 = /ConnStr|ConnectionString|connstr/ nocase
    condition:
        $c and $q and $i1 and $i2
}

rule aspx_directory_rights_scanner
{
    meta:
        description = "ASP.NET page that walks directories testing where it can write (post-exploitation writable-directory scan)"
        score = 100
    strings:
        $d = "DirectoryInfo" nocase
        $g = "GetDirectories" nocase
        $t1 = /File\.(Create|WriteAllText)[ \t]*\(/ nocase
        $t2 = "Directory.CreateDirectory" nocase
        $r = /rights|writable|writeable|canwrite/ nocase
    condition:
        $d and $g and any of ($t*) and $r
}

rule aspx_admin_toolkit_assemblies
{
    meta:
        description = "ASP.NET page that loads the directory-services, WMI, service-control and registry assemblies together (the ASPXSpy-style all-in-one shell header)"
        score = 100
    strings:
        $a1 = /<%@[ \t]*(Assembly|Import)[ \t]+(Name|Namespace)[ \t]*=[ \t]*["']System\.DirectoryServices/ nocase
        $a2 = /<%@[ \t]*(Assembly|Import)[ \t]+(Name|Namespace)[ \t]*=[ \t]*["']System\.Management/ nocase
        $a3 = /<%@[ \t]*(Assembly|Import)[ \t]+(Name|Namespace)[ \t]*=[ \t]*["']System\.ServiceProcess/ nocase
        $a4 = /<%@[ \t]*(Assembly|Import)[ \t]+(Name|Namespace)[ \t]*=[ \t]*["']Microsoft\.Win32/ nocase
        $a5 = /<%@[ \t]*(Assembly|Import)[ \t]+(Name|Namespace)[ \t]*=[ \t]*["']System\.Net\.Sockets/ nocase
    condition:
        $a1 and $a2 and $a3 and ($a4 or $a5)
}

rule aspx_packet_sniffer
{
    meta:
        description = "ASP.NET page that opens a raw socket in receive-all mode (a packet sniffer)"
        score = 100
    strings:
        $a = "SocketType.Raw" nocase
        $b = /IOControlCode\.ReceiveAll|SIO_RCVALL|0x98000001/ nocase
    condition:
        $a and $b
}

rule script_comment_chopped_code
{
    meta:
        description = "Code chopped into single tokens by inline comments (/*-/*-*/x/*-/*-*/) around eval, to defeat token matching"
        score = 100
    strings:
        $c = /\/\*[^*\n]{0,10}\*\/[^\/\n]{1,8}\/\*[^*\n]{0,10}\*\//
        // `/*-/*-*/` comments hold a second `/*`: match from the close of one to the close of the next.
        $d = /\*\/[^\/\n]{1,8}\/\*[^\n]{0,8}\*\//
        $e = /eval[ \t]*\(/ nocase
    condition:
        (#c > 8 or #d > 6) and $e
}

rule aspx_websniff_ui
{
    meta:
        description = "WebSniff: ASP.NET raw-socket sniffer kit (its capture form: bind IP, auto-sniff FTP/HTTP POST/SMTP, keyword filter, minimum capture size) - matches copies whose code-behind was removed or moved"
        score = 100
    strings:
        $a = "MiniSizeToCapture" nocase
        $b = "KeyWordsFilter" nocase
        $c = "WebSniff" nocase
        $d = "s_http_post"
        $e = "FTP Password:"
    condition:
        3 of them
}
