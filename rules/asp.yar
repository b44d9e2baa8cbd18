/*
   Rampart webshell signatures: classic ASP (VBScript/JScript).

   Written for this project from what webshells do (capabilities, obfuscation shapes) and
   from well-known family/tool markers, never from hashes or one sample's strings. The
   script analyzer (rampart-script) does the semantic work; each rule's `score` meta is
   added to the analyzer's score and 100 or more is a detection, so weak evidence
   (score < 50) never decides alone. Every file in rules/ is compiled into the binary
   (crates/rampart-scan/build.rs) and also runs under the classic `yara` CLI
   (bench/scan/speed), so only syntax both accept is used.
*/

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

rule asp_reversed_or_split_sink
{
    meta:
        description = "ASP hides eval/execute/request by reversing or splitting the words (StrReverse, Replace of filler characters)"
        score = 100
    strings:
        $r1 = /tseuqer|etucexe|[^a-z]lave[ \t]*["(]/ nocase
        $asp1 = /<%([ \t\r\n=@!]|[A-Za-z]{3})/
        $asp2 = /runat[ \t]*=[ \t]*["']?server/ nocase
        $f1 = "StrReverse" nocase
        $f2 = "Replace" nocase
        $f3 = "execute" nocase
        $f4 = "eval" nocase
    condition:
        any of ($asp*) and any of ($r*) and any of ($f*)
}

rule asp_eval_request_in_string
{
    meta:
        description = "ASP builds 'eval(request(…))' / 'execute(request(…))' as text to run it"
        score = 100
    strings:
        $a = /["'(&][ \t]*(eval|execute|executeglobal)[ \t]*\(?[ \t]*request[ \t]*(\(|\.item|\.form|\.querystring)/ nocase
        $asp1 = /<%([ \t\r\n=@!]|[A-Za-z]{3})/
        $asp2 = /runat[ \t]*=[ \t]*["']?server/ nocase
    condition:
        $a and any of ($asp*)
}

rule asp_execute_decoded
{
    meta:
        description = "ASP executes the output of a decoding function (Chr/Asc/StrReverse/Replace/Mid loops)"
        score = 100
    strings:
        $x = /\b(execute|executeglobal|eval)[ \t]*\(?[ \t]*[A-Za-z_][A-Za-z0-9_]{1,30}[ \t]*\(/ nocase
        $d1 = /\bchr[wb]?[ \t]*\(/ nocase
        $d2 = "StrReverse" nocase
        $d3 = /\basc[wb]?[ \t]*\(/ nocase
        $d4 = /\bmid[b]?[ \t]*\(/ nocase
        $d5 = /\breplace[ \t]*\(/ nocase
        $d6 = /\bsplit[ \t]*\(/ nocase
        $asp1 = /<%([ \t\r\n=@!]|[A-Za-z]{3})/
        $asp2 = /runat[ \t]*=[ \t]*["']?server/ nocase
    condition:
        filesize < 200KB and any of ($asp*) and $x and 2 of ($d*)
}

rule asp_eval_held_in_object
{
    meta:
        description = "Server-side JScript stores eval in an object or returns it from a function to call it indirectly"
        score = 100
    strings:
        $a = /[:=][ \t]*eval[ \t]*[},;\r\n]/
        $b = /return[ \t]+eval[ \t]*[;}\r\n]/
        $srv1 = /runat[ \t]*=[ \t]*["']?server/ nocase
        $srv2 = /language[ \t]*=[ \t]*["']?j(ava)?script/ nocase
        $req = "Request" nocase
    condition:
        any of ($a, $b) and any of ($srv*) and $req
}

rule asp_utf7_codepage
{
    meta:
        description = "ASP page declared in UTF-7 (codepage 65000) so its code hides behind +…- escapes"
        score = 100
    strings:
        $a = /codepage[ \t]*=[ \t]*["']?65000/ nocase
        $b = /\+[A-Za-z0-9\/]{1,6}-/
    condition:
        $a and #b > 3
}


rule asp_script_control
{
    meta:
        description = "ASP runs request text through MSScriptControl (an eval by another name)"
        score = 100
    strings:
        $a = "MSScriptControl.ScriptControl" nocase
        $r = "request" nocase
    condition:
        $a and $r
}

rule asp_xsl_command
{
    meta:
        description = "ASP runs script inside an XSL transform (msxsl:script) or puts a command line in XML"
        score = 100
    strings:
        $a = "msxsl:script" nocase
        $b = /<root[^>]{0,10}>[ \t]*cmd(\.exe)?[ \t]+\/c/ nocase
        $c = "transformNode" nocase
    condition:
        ($a or $b) and $c
}

rule asp_remote_download_to_file
{
    meta:
        description = "ASP fetches a URL and saves the response to a file (XMLHTTP + ADODB.Stream SaveToFile)"
        score = 100
    strings:
        $h1 = "XMLHTTP" nocase
        $h2 = "ServerXMLHTTP" nocase
        $h3 = "WinHttp.WinHttpRequest" nocase
        $s = "ADODB.Stream" nocase
        $w = "SaveToFile" nocase
    condition:
        any of ($h*) and $s and $w
}

rule asp_request_file_writer
{
    meta:
        description = "ASP writes request-supplied text to a request-named file (FileSystemObject / ADODB.Stream)"
        score = 100
    strings:
        $fso = /scripting\.filesystemobject|ADODB\.Stream/ nocase
        $w1 = /CreateTextFile[ \t]*\([^)\n]{0,80}request/ nocase
        $w2 = /OpenTextFile[ \t]*\([^)\n]{0,80}request/ nocase
        $w3 = /SaveToFile[ \t]*\(?[^)\n]{0,80}request/ nocase
        $w4 = /\.(write|writeline)[ \t]*\(?[ \t]*request/ nocase
    condition:
        $fso and any of ($w*)
}

rule asp_file_manager
{
    meta:
        description = "ASP file manager: request-driven listing, deleting, renaming and attribute changes through FileSystemObject"
        score = 60
    strings:
        $fso = "FileSystemObject" nocase
        $req = /request[ \t]*(\(|\.form|\.querystring)/ nocase
        $o1 = ".DeleteFile" nocase
        $o2 = ".DeleteFolder" nocase
        $o3 = ".CopyFile" nocase
        $o4 = ".MoveFile" nocase
        $o5 = ".CreateFolder" nocase
        $o6 = ".Attributes" nocase
        $o7 = ".GetFolder" nocase
        $o8 = "DateLastModified" nocase
        $o9 = ".Drives" nocase
        $o10 = "SaveToFile" nocase
    condition:
        $fso and $req and 3 of ($o*)
}

rule asp_request_database_tool
{
    meta:
        description = "ASP connects to a database server named by the request and runs request SQL (a database webshell)"
        score = 100
    strings:
        $c = "ADODB.Connection" nocase
        $p = /(Provider|Driver|Server|Data Source|uid|pwd)[ \t]*=[ \t]*["&]{0,3}[ \t]*&?[ \t]*(Trim\()?[ \t]*(request|sql_|[A-Za-z_]{1,20}(ip|user|pass))/ nocase
        $r = /\.execute[ \t]*\(?[ \t]*(request|sql|str)/ nocase
    condition:
        $c and $p and $r
}

rule asp_progid_split_in_pieces
{
    meta:
        description = "ASP spells a dangerous COM ProgID (FileSystemObject, WScript.Shell, ADODB.Stream, XMLHTTP…) in concatenated pieces to hide it"
        score = 100
    strings:
        $s0 = /scr(["\'][ \t]*[&+][ \t]*["\'])?i(["\'][ \t]*[&+][ \t]*["\'])?p(["\'][ \t]*[&+][ \t]*["\'])?t(["\'][ \t]*[&+][ \t]*["\'])?i(["\'][ \t]*[&+][ \t]*["\'])?n(["\'][ \t]*[&+][ \t]*["\'])?g(["\'][ \t]*[&+][ \t]*["\'])?\.(["\'][ \t]*[&+][ \t]*["\'])?f(["\'][ \t]*[&+][ \t]*["\'])?i(["\'][ \t]*[&+][ \t]*["\'])?l(["\'][ \t]*[&+][ \t]*["\'])?e(["\'][ \t]*[&+][ \t]*["\'])?s(["\'][ \t]*[&+][ \t]*["\'])?y(["\'][ \t]*[&+][ \t]*["\'])?s(["\'][ \t]*[&+][ \t]*["\'])?t(["\'][ \t]*[&+][ \t]*["\'])?e(["\'][ \t]*[&+][ \t]*["\'])?m(["\'][ \t]*[&+][ \t]*["\'])?o(["\'][ \t]*[&+][ \t]*["\'])?b(["\'][ \t]*[&+][ \t]*["\'])?j(["\'][ \t]*[&+][ \t]*["\'])?e(["\'][ \t]*[&+][ \t]*["\'])?c(["\'][ \t]*[&+][ \t]*["\'])?t/ nocase
        $p0 = /scripting\.filesystemobject/ nocase
        $s1 = /wsc(["\'][ \t]*[&+][ \t]*["\'])?r(["\'][ \t]*[&+][ \t]*["\'])?i(["\'][ \t]*[&+][ \t]*["\'])?p(["\'][ \t]*[&+][ \t]*["\'])?t(["\'][ \t]*[&+][ \t]*["\'])?\.(["\'][ \t]*[&+][ \t]*["\'])?s(["\'][ \t]*[&+][ \t]*["\'])?h(["\'][ \t]*[&+][ \t]*["\'])?e(["\'][ \t]*[&+][ \t]*["\'])?l(["\'][ \t]*[&+][ \t]*["\'])?l/ nocase
        $p1 = /wscript\.shell/ nocase
        $s2 = /she(["\'][ \t]*[&+][ \t]*["\'])?l(["\'][ \t]*[&+][ \t]*["\'])?l(["\'][ \t]*[&+][ \t]*["\'])?\.(["\'][ \t]*[&+][ \t]*["\'])?a(["\'][ \t]*[&+][ \t]*["\'])?p(["\'][ \t]*[&+][ \t]*["\'])?p(["\'][ \t]*[&+][ \t]*["\'])?l(["\'][ \t]*[&+][ \t]*["\'])?i(["\'][ \t]*[&+][ \t]*["\'])?c(["\'][ \t]*[&+][ \t]*["\'])?a(["\'][ \t]*[&+][ \t]*["\'])?t(["\'][ \t]*[&+][ \t]*["\'])?i(["\'][ \t]*[&+][ \t]*["\'])?o(["\'][ \t]*[&+][ \t]*["\'])?n/ nocase
        $p2 = /shell\.application/ nocase
        $s3 = /ado(["\'][ \t]*[&+][ \t]*["\'])?d(["\'][ \t]*[&+][ \t]*["\'])?b(["\'][ \t]*[&+][ \t]*["\'])?\.(["\'][ \t]*[&+][ \t]*["\'])?s(["\'][ \t]*[&+][ \t]*["\'])?t(["\'][ \t]*[&+][ \t]*["\'])?r(["\'][ \t]*[&+][ \t]*["\'])?e(["\'][ \t]*[&+][ \t]*["\'])?a(["\'][ \t]*[&+][ \t]*["\'])?m/ nocase
        $p3 = /adodb\.stream/ nocase
        $s4 = /mic(["\'][ \t]*[&+][ \t]*["\'])?r(["\'][ \t]*[&+][ \t]*["\'])?o(["\'][ \t]*[&+][ \t]*["\'])?s(["\'][ \t]*[&+][ \t]*["\'])?o(["\'][ \t]*[&+][ \t]*["\'])?f(["\'][ \t]*[&+][ \t]*["\'])?t(["\'][ \t]*[&+][ \t]*["\'])?\.(["\'][ \t]*[&+][ \t]*["\'])?x(["\'][ \t]*[&+][ \t]*["\'])?m(["\'][ \t]*[&+][ \t]*["\'])?l(["\'][ \t]*[&+][ \t]*["\'])?h(["\'][ \t]*[&+][ \t]*["\'])?t(["\'][ \t]*[&+][ \t]*["\'])?t(["\'][ \t]*[&+][ \t]*["\'])?p/ nocase
        $p4 = /microsoft\.xmlhttp/ nocase
        $s5 = /wsc(["\'][ \t]*[&+][ \t]*["\'])?r(["\'][ \t]*[&+][ \t]*["\'])?i(["\'][ \t]*[&+][ \t]*["\'])?p(["\'][ \t]*[&+][ \t]*["\'])?t(["\'][ \t]*[&+][ \t]*["\'])?\.(["\'][ \t]*[&+][ \t]*["\'])?n(["\'][ \t]*[&+][ \t]*["\'])?e(["\'][ \t]*[&+][ \t]*["\'])?t(["\'][ \t]*[&+][ \t]*["\'])?w(["\'][ \t]*[&+][ \t]*["\'])?o(["\'][ \t]*[&+][ \t]*["\'])?r(["\'][ \t]*[&+][ \t]*["\'])?k/ nocase
        $p5 = /wscript\.network/ nocase
        $s6 = /mss(["\'][ \t]*[&+][ \t]*["\'])?c(["\'][ \t]*[&+][ \t]*["\'])?r(["\'][ \t]*[&+][ \t]*["\'])?i(["\'][ \t]*[&+][ \t]*["\'])?p(["\'][ \t]*[&+][ \t]*["\'])?t(["\'][ \t]*[&+][ \t]*["\'])?c(["\'][ \t]*[&+][ \t]*["\'])?o(["\'][ \t]*[&+][ \t]*["\'])?n(["\'][ \t]*[&+][ \t]*["\'])?t(["\'][ \t]*[&+][ \t]*["\'])?r(["\'][ \t]*[&+][ \t]*["\'])?o(["\'][ \t]*[&+][ \t]*["\'])?l/ nocase
        $p6 = /msscriptcontrol/ nocase
    condition:
        #s0 > #p0 or #s1 > #p1 or #s2 > #p2 or #s3 > #p3 or #s4 > #p4 or #s5 > #p5 or #s6 > #p6
}

rule asp_request_reaches_sink_on_one_line
{
    meta:
        description = "ASP passes request input into Execute/Eval or a shell's Run/Exec on one line"
        score = 100
    strings:
        $e = /\b(eval|execute|executeglobal)\b[ \t]*\(?[^\r\n]{0,60}\brequest[ \t]*(\(|\.form|\.querystring|\.item)/ nocase
        $x = /\.(run|exec)[ \t]*\(?[^\r\n]{0,60}\brequest[ \t]*(\(|\.form|\.querystring|\.item)/ nocase
        $asp1 = /<%([ \t\r\n=@!]|[A-Za-z]{3})/
        $asp2 = /runat[ \t]*=[ \t]*["']?server/ nocase
    condition:
        ($e or $x) and any of ($asp*)
}

rule asp_shell_object_runs_commands
{
    meta:
        description = "ASP creates WScript.Shell / Shell.Application and runs commands, reading their output (a command shell)"
        score = 100
    strings:
        $o1 = "wscript.shell" nocase
        $o2 = "shell.application" nocase
        $x1 = /\.exec[ \t]*\(/ nocase
        $x2 = /\.run[ \t]*\(?/ nocase
        $x3 = /\.ShellExecute[ \t]*\(?/ nocase
        $out1 = "stdout.readall" nocase
        $out2 = /cmd(\.exe)?[ \t]+\/c/ nocase
        $req = /request[ \t]*(\(|\.form|\.querystring|\.item)/ nocase
    condition:
        any of ($o*) and any of ($x*) and (any of ($out*)) and $req
}

rule asp_bulk_table_dumper
{
    meta:
        description = "ASP/ASP.NET page that lifts the script time limit to its maximum and streams every row of a database query to the client in flushed chunks (a table dumper, fetched with wget)"
        score = 100
    strings:
        $t = /ScriptTimeout[ \t\xc2\xa0]*=[ \t\xc2\xa0]*(2147483647|[0-9]{8,})/ nocase
        $f = "Response.Flush" nocase
        $db1 = "ADODB.Connection" nocase
        $db2 = "SqlConnection" nocase
        $db3 = "OleDbConnection" nocase
        $db4 = "OdbcConnection" nocase
        $r1 = /\.Fields\.Count/ nocase
        $r2 = /\.Rows\.Count/ nocase
        $r3 = /\.Columns\.Count/ nocase
    condition:
        filesize < 100KB and $t and $f and any of ($db*) and any of ($r*)
}

rule asp_tagless_eval_request
{
    meta:
        description = "Tiny ASP fragment without its own <% %> whose whole job is Eval/Execute of request input: a line made to be pasted into an existing script or include (e.g. after a closing quote in a config file)"
        score = 100
    strings:
        $e = /\b(eval|execute|executeglobal)[ \t]*\(?[ \t]*request[ \t]*(\(|\.form|\.querystring|\.item)/ nocase
    condition:
        filesize < 512 and $e
}

rule asp_chr_built_executable
{
    meta:
        description = "Script assembles a Windows executable from Chr() codes (MZ header as Chr(77)&Chr(90)), writes it to disk and runs it: the exe-in-script dropper template of payload generators"
        score = 100
    strings:
        $mz1 = /chr[wb]?[ \t]*\([ \t]*77[ \t]*\)[ \t]*[&+][ \t_\r\n]*chr[wb]?[ \t]*\([ \t]*90[ \t]*\)/ nocase
        $mz2 = /chr[wb]?[ \t]*\([ \t]*&h4d[ \t]*\)[ \t]*[&+][ \t_\r\n]*chr[wb]?[ \t]*\([ \t]*&h5a[ \t]*\)/ nocase
        $w1 = "CreateTextFile" nocase
        $w2 = "SaveToFile" nocase
        $w3 = "OpenTextFile" nocase
        $x1 = /\.run[ \t(]/ nocase
        $x2 = /\.exec[ \t(]/ nocase
        $x3 = "ShellExecute" nocase
    condition:
        any of ($mz*) and any of ($w*) and any of ($x*)
}

rule servu_local_admin_exploit
{
    meta:
        description = "Speaks Serv-U's local administration protocol (SITE MAINTENANCE, -SETUSERSETUP, -SETDOMAIN/-DELETEDOMAIN) to create a system-level FTP user: the Serv-U privilege escalation carried by ASP/ASPX/PHP/JSP kits"
        score = 100
    strings:
        $a = "-SETUSERSETUP" nocase
        $b = "SITE MAINTENANCE" nocase
        $c = "-DELETEDOMAIN" nocase
        $d = "-SETDOMAIN" nocase
        $e = "-MaintenanceType=" nocase
        $f = "LocalAdministrator"
    condition:
        3 of them
}
