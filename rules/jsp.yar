/*
   Rampart webshell signatures: JSP / Java.

   Written for this project from what webshells do (capabilities, obfuscation shapes) and
   from well-known family/tool markers, never from hashes or one sample's strings. The
   script analyzer (rampart-script) does the semantic work; each rule's `score` meta is
   added to the analyzer's score and 100 or more is a detection, so weak evidence
   (score < 50) never decides alone. Every file in rules/ is compiled into the binary
   (crates/rampart-scan/build.rs) and also runs under the classic `yara` CLI
   (bench/scan/speed), so only syntax both accept is used.
*/

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

rule jsp_request_file_writer
{
    meta:
        description = "JSP writes request text into a file under the web root named by the request"
        score = 100
    strings:
        $o1 = "FileOutputStream" nocase
        $o2 = "FileWriter" nocase
        $o3 = "FileHandler" nocase
        $o4 = "RandomAccessFile" nocase
        $p = /getRealPath[ \t]*\([^;\n]{0,60}\)[ \t]*\+[ \t]*request\.getParameter/ nocase
    condition:
        any of ($o*) and $p
}

rule jsp_file_manager
{
    meta:
        description = "JSP file manager: lists, deletes, renames and uploads files on request"
        score = 60
    strings:
        $f = "java.io" nocase
        $l1 = ".listFiles()"
        $l2 = ".listRoots()"
        $l3 = ".list()"
        $w1 = ".delete()"
        $w2 = ".renameTo("
        $w3 = "FileOutputStream"
        $w4 = ".mkdir"
        $w5 = "setLastModified"
        $r = "request.getParameter" nocase
    condition:
        $f and any of ($l*) and 3 of ($w*) and $r
}

rule jsp_request_database_tool
{
    meta:
        description = "JSP connects to a database named by the request and runs request SQL"
        score = 100
    strings:
        $c = /DriverManager\.getConnection[ \t]*\([^;\n]{0,100}(request\.getParameter|url|conn)/ nocase
        $r = "request.getParameter" nocase
        $q1 = /execute(Query|Update)?[ \t]*\([ \t]*(request\.getParameter|sql|query|s)/ nocase
        $k = /Class\.forName[ \t]*\([ \t]*(request\.getParameter|driver|[a-z][A-Za-z]{0,10}\[)/ nocase
    condition:
        $c and $r and ($q1 or $k)
}

rule jsp_script_engine_eval
{
    meta:
        description = "JSP evaluates request text with a script engine (Nashorn/Rhino eval)"
        score = 100
    strings:
        $a = "ScriptEngineManager"
        $b = /\.eval[ \t]*\([^;\n]{0,60}request\.getParameter/ nocase
        $c = /getEngineByName[ \t]*\([ \t]*["'](js|javascript|nashorn|rhino)["']/ nocase
    condition:
        $a and ($b or $c) and filesize < 100KB
}

rule jsp_database_dumper
{
    meta:
        description = "JSP that connects to a database and dumps its tables into files (data theft tool)"
        score = 100
    strings:
        $c = "DriverManager.getConnection"
        $q = /SHOW CREATE TABLE|SHOW TABLES|"SELECT \* FROM "[ \t]*\+/ nocase
        $w = /FileOutputStream|FileWriter/
    condition:
        all of them
}

rule jsp_chopper_server
{
    meta:
        description = "JSP server side of China Chopper / Cknife: its short helper functions (EC, GC, AA…NN) dispatching on a password parameter"
        score = 100
    strings:
        $a = /(String|void|Connection)[ \t]+(AA|BB|CC|DD|EE|FF|GG|HH|II|JJ|KK|LL|MM|NN|EC|GC)[ \t]*\(/
    condition:
        #a > 3
}

rule jsp_subnet_sweeper
{
    meta:
        description = "JSP that takes an address from the request, cuts it to its /24 prefix and sweeps hosts 1-255 from worker threads with HTTP or socket connections (an intranet port/title scanner)"
        score = 100
    strings:
        $p = "getParameter("
        $pre = /substring[ \t]*\([^;]{0,60}lastIndexOf[ \t]*\([ \t]*"\."[ \t]*\)/
        $loop = /<=?[ \t]*25[456][ \t]*;/
        $t1 = "new Thread("
        $t2 = "ThreadGroup"
        $t3 = "ExecutorService"
        $n1 = "openConnection"
        $n2 = /new[ \t]+(java\.net\.)?Socket[ \t]*\(/
        $n3 = "isReachable"
    condition:
        $p and $pre and $loop and any of ($t*) and any of ($n*)
}

rule hacker_chat_room_kit
{
    meta:
        description = "'Chating Room' defacement kit (ASP/JSP/PHP): a page announcing it was hacked that keeps visitors' messages"
        score = 100
    strings:
        $a = "Chating Room" nocase
        $b = "Hacked! Owned by" nocase
        $c = "Silic Group Hacker Army" nocase
        $d = ">>> Fucked at" nocase
    condition:
        $a and 2 of ($b, $c, $d)
}
