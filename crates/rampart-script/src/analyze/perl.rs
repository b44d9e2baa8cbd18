//! Perl CGI scripts (`.pl`, `.cgi`): no full lexer, only enough to drop comments and POD
//! and look for request input, command execution, sockets and shell interpreters.

use crate::lex_other::find_ci;
use crate::Reason;

/// Code with `#` comments, POD blocks and everything after `__END__` / `__DATA__` blanked
/// (lines kept, so line numbers still hold). Approximate: a `#` inside a string on a line
/// with quotes is left alone.
fn strip(src: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(src.len());
    let mut in_pod = false;
    for (n, line) in src.split(|&b| b == b'\n').enumerate() {
        if n > 0 {
            out.push(b'\n');
        }
        if line.starts_with(b"__END__") || line.starts_with(b"__DATA__") {
            break;
        }
        if line.first() == Some(&b'=') && line.get(1).is_some_and(u8::is_ascii_alphabetic) {
            in_pod = !line.starts_with(b"=cut");
            continue;
        }
        if in_pod {
            continue;
        }
        let mut quote: Option<u8> = None;
        let mut end = line.len();
        for (k, &b) in line.iter().enumerate() {
            match (quote, b) {
                (Some(q), c) if c == q && line.get(k.wrapping_sub(1)) != Some(&b'\\') => quote = None,
                (None, b'"' | b'\'') => quote = Some(b),
                // `$#array` and `s#..#..#` are not comments.
                (None, b'#') if k == 0 || matches!(line[k - 1], b' ' | b'\t' | b';' | b'}' | b')') => {
                    end = k;
                    break;
                }
                _ => {}
            }
        }
        out.extend_from_slice(&line[..end]);
    }
    out
}

fn line_of(code: &[u8], at: usize) -> u32 {
    code[..at.min(code.len())].iter().filter(|&&b| b == b'\n').count() as u32 + 1
}

fn first_of(code: &[u8], pats: &'static [&'static [u8]]) -> Option<(usize, &'static str)> {
    pats.iter()
        .filter_map(|p| find_ci(code, p).map(|at| (at, std::str::from_utf8(p).unwrap_or("?"))))
        .min_by_key(|x| x.0)
}

const INPUT: &[&[u8]] = &[
    b"param(",
    b"->param",
    b"QUERY_STRING",
    b"read(STDIN",
    b"read (STDIN",
    b"ReadParse",
    b"HTTP_COOKIE",
    b"CGI->new",
    b"new CGI",
    b"CONTENT_LENGTH",
];
const SOCKET: &[&[u8]] = &[b"IO::Socket", b"socket(", b"socket (", b"use Socket"];
const SHELL: &[&[u8]] = &[b"/bin/sh", b"/bin/bash", b"cmd.exe", b"sh -i"];
const DUP: &[&[u8]] = &[b"open(STDIN", b"open STDIN", b"open(STDOUT", b"open STDOUT"];
/// IRC client commands a bot sends (the server's replies use the same words).
const IRC_JOIN: &[&[u8]] = &[b"JOIN #", b"JOIN $", b"\"JOIN", b"NICK $", b"\"NICK", b"USER $"];
/// Hides or hardens the process: a new `ps` name, hangups ignored.
const STEALTH: &[&[u8]] = &[
    b"$0=",
    b"$0 =",
    b"{'HUP'} = 'IGNORE'",
    b"{HUP} = 'IGNORE'",
    b"{'HUP'}='IGNORE'",
];

fn is_word_at(line: &[u8], k: usize, w: &[u8]) -> bool {
    line[k..].starts_with(w)
        && (k == 0
            || !(line[k - 1].is_ascii_alphanumeric()
                || matches!(line[k - 1], b'_' | b'$' | b'>' | b'@' | b'%')))
        && !line
            .get(k + w.len())
            .is_some_and(|&b| b.is_ascii_alphanumeric() || b == b'_')
}

/// The first command run with a non-constant command line: `system`/`exec` with a variable,
/// backticks or `qx` interpolating one, or `open` of a pipe.
fn find_command(code: &[u8]) -> Option<(usize, &'static str)> {
    let mut off = 0;
    for line in code.split(|&b| b == b'\n') {
        let has_var = line.contains(&b'$');
        for k in 0..line.len() {
            let hit = match line[k] {
                b's' if has_var && is_word_at(line, k, b"system") => Some("system"),
                b'e' if has_var && is_word_at(line, k, b"exec") => Some("exec"),
                b'q' if is_word_at(line, k, b"qx")
                    || line[k..].starts_with(b"qx")
                        && k > 0
                        && !line[k - 1].is_ascii_alphanumeric()
                        && line
                            .get(k + 2)
                            .is_some_and(|&b| matches!(b, b'/' | b'{' | b'(' | b'|' | b'!' | b'[')) =>
                {
                    Some("qx")
                }
                b'`' if k == 0 || line[k - 1] != b'$' => line[k + 1..]
                    .iter()
                    .position(|&b| b == b'`')
                    .filter(|&e| line[k + 1..k + 1 + e].contains(&b'$'))
                    .map(|_| "backticks"),
                b'o' if is_word_at(line, k, b"open") => {
                    let rest = &line[k..];
                    let pipe = rest.windows(2).enumerate().any(|(j, w)| {
                        (w == b"\"|" && rest.get(j + 2) != Some(&b'"'))
                            || (w == b"|\"" && j > 0 && rest[j - 1] != b'"')
                            || w == b"-|"
                            || w == b"|-"
                    });
                    pipe.then_some("open of a pipe")
                }
                _ => None,
            };
            if let Some(h) = hit {
                return Some((off + k, h));
            }
        }
        off += line.len() + 1;
    }
    None
}

/// The first string `eval` of a variable or of request parameters (`eval $code`,
/// `eval($q->param('c'))`); `eval { … }` blocks are exception handling and never match.
fn find_string_eval(code: &[u8]) -> Option<usize> {
    let mut off = 0;
    for line in code.split(|&b| b == b'\n') {
        let mut k = 0;
        while let Some(p) = find_ci(&line[k..], b"eval") {
            let at = k + p;
            if is_word_at(line, at, b"eval") {
                let rest = line[at + 4..].trim_ascii_start();
                let rest = rest.strip_prefix(b"(").unwrap_or(rest).trim_ascii_start();
                if rest.starts_with(b"$") && !rest.starts_with(b"$@") || rest.starts_with(b"param(") {
                    return Some(off + at);
                }
            }
            k = at + 4;
        }
        off += line.len() + 1;
    }
    None
}

/// Scores one Perl file.
pub(super) fn perl_layer(src: &[u8], layer: u8, reasons: &mut Vec<Reason>) {
    let head = &src[..src.len().min(64 << 10)];
    if memchr::memchr(0, head).is_some() || head.starts_with(b"\x7fELF") {
        // Compiled CGI programs share the extension.
        return;
    }
    let code = strip(&src[..src.len().min(4 << 20)]);
    let input = first_of(&code, INPUT);
    let command = find_command(&code);
    let socket = first_of(&code, SOCKET);
    let shell = first_of(&code, SHELL);
    let dup = first_of(&code, DUP);
    let mut push = |signal: &'static str, at: usize, detail: String| {
        reasons.push(Reason {
            signal,
            weight: 100,
            line: line_of(&code, at),
            layer,
            detail,
        });
    };
    if let (Some((_, i)), Some(at)) = (input, find_string_eval(&code)) {
        push(
            "perl.cgi-eval",
            at,
            format!("a CGI script reading request input ({i}) evaluates a string of Perl code"),
        );
    }
    if let (Some((_, i)), Some((at, c))) = (input, command) {
        push(
            "perl.cgi-command",
            at,
            format!("a CGI script reading request input ({i}) runs commands ({c})"),
        );
    }
    // IRC bots (shellbots): a socket that joins a channel, takes commands from PRIVMSG
    // lines and runs them, in a process that renamed itself or ignores hangups.
    if let (Some((at, s)), Some((_, c)), Some(_), Some(_), Some(_)) = (
        socket,
        command,
        first_of(&code, &[b"PRIVMSG"]),
        first_of(&code, IRC_JOIN),
        first_of(&code, STEALTH),
    ) {
        push(
            "capability.irc-bot",
            at,
            format!("an IRC bot: connects a socket ({s}), speaks IRC (PRIVMSG/JOIN/NICK), runs commands ({c}) and hides its process"),
        );
    }
    if let (Some((at, s)), Some(_)) = (socket, shell.or(dup)) {
        if command.is_some() || dup.is_some() {
            push(
                "capability.reverse-shell",
                at,
                format!("connects a socket ({s}) and hands it a shell"),
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn comments_and_pod_are_blanked() {
        let s =
            strip(b"# system(1)\nprint 1; # exec\n=pod\nsystem(2)\n=cut\n$#a; \"#x\"\n__END__\nsystem(3)");
        assert_eq!(s, b"\nprint 1; \n\n\n\n$#a; \"#x\"\n".to_vec());
    }
}
