//! Webshell analysis of server-side scripts: PHP, JSP/Java, ASP (VBScript, JScript) and
//! ASP.NET (C#).
//!
//! [`analyze`] is a pure function from bytes to a [`Verdict`]: it lexes the code (binary
//! or broken input is fine), peels obfuscation layers statically (base64, gzinflate,
//! rot13, strrev, escapes, chr() chains, variable functions …) and recurses into the
//! payloads, then scores what it sees — above all request input flowing into code or
//! command execution. Every score comes with its reasons (signal, line, layer).
//! It never panics and bounds its memory and work for any input.

mod analyze;
pub mod decode;
mod eval;
pub mod lex_other;
pub mod lex_php;
pub mod screnc;
pub mod token;

use serde::Serialize;
use std::path::Path;

/// The language a file is expected to hold, from its name; content can add PHP (a
/// `.asp` upload that is really PHP is analysed as both).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Lang {
    Php,
    Jsp,
    /// Classic ASP: VBScript (or JScript by directive).
    Asp,
    /// ASP.NET pages and handlers: C# (or JScript/VB by directive).
    Aspx,
    /// Perl CGI scripts (`.pl`, `.cgi`).
    Perl,
    /// Anything else: sniffed from content.
    Unknown,
}

impl Lang {
    /// The language for a path's extension, or `None` for files that are not server scripts.
    pub fn from_path(path: &Path) -> Option<Lang> {
        let ext = path.extension()?.to_str()?.to_ascii_lowercase();
        Some(match ext.as_str() {
            "php" | "php3" | "php4" | "php5" | "php7" | "php8" | "phtml" | "pht" | "phps" | "phar"
            | "inc" => Lang::Php,
            "jsp" | "jspx" | "jspf" | "jsw" | "jsv" | "java" => Lang::Jsp,
            "asp" | "asa" | "cer" | "cdx" => Lang::Asp,
            "aspx" | "ashx" | "asmx" | "ascx" | "asax" | "svc" | "cshtml" | "vbhtml" | "cs" | "soap" => {
                Lang::Aspx
            }
            "pl" | "cgi" => Lang::Perl,
            _ => return None,
        })
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Lang::Php => "php",
            Lang::Jsp => "jsp",
            Lang::Asp => "asp",
            Lang::Aspx => "aspx",
            Lang::Perl => "perl",
            Lang::Unknown => "unknown",
        }
    }
}

/// One reason behind a score.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Reason {
    /// Stable signal name, e.g. `php.flow.command` or `deobf.eval-decoded`.
    pub signal: &'static str,
    pub weight: u32,
    /// 1-based line in the layer it was found in.
    pub line: u32,
    /// 0 for the file itself, n for a payload decoded n times.
    pub layer: u8,
    pub detail: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Verdict {
    pub lang: Lang,
    /// Sum of the strongest reason per signal.
    pub score: u32,
    pub reasons: Vec<Reason>,
}

/// Score from which a file is reported as a webshell.
pub const MALICIOUS: u32 = 100;
/// Score from which a file is reported as suspicious.
pub const SUSPICIOUS: u32 = 50;

impl Verdict {
    pub fn is_malicious(&self) -> bool {
        self.score >= MALICIOUS
    }
    pub fn is_suspicious(&self) -> bool {
        self.score >= SUSPICIOUS
    }
    /// The strongest reasons first.
    pub fn top_reasons(&self, n: usize) -> Vec<&Reason> {
        let mut r: Vec<&Reason> = self.reasons.iter().collect();
        r.sort_by(|a, b| b.weight.cmp(&a.weight).then(a.line.cmp(&b.line)));
        r.truncate(n);
        r
    }
}

/// Analyses `src`, expected to be `hint` (from the file name; [`Lang::Unknown`] sniffs).
pub fn analyze(src: &[u8], hint: Lang) -> Verdict {
    analyze::run(src, hint)
}
