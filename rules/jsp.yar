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
