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
