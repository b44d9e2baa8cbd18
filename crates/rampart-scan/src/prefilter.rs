//! Which files can hold server-side code at all. The built-in rules and the analyzer look
//! for webshells, and a web server only runs a file as code when its name says so (an
//! extension mapped to an interpreter), when it starts with `#!` (CGI), or when another
//! script includes it — and then the code has to sit inside `<?…?>`, `<%…%>`,
//! `<script runat=server>` / `<script language=php>` or `<jsp:…>`. Every other file
//! (JSON, CSS, plain JavaScript, images, translations) is skipped by the built-in rules,
//! which is more than half of a typical web tree's bytes. Operator rules still see every
//! file.

use rampart_script::Lang;
use std::path::Path;

/// Extensions run as code that [`Lang::from_path`] does not analyze (the built-in rules
/// still cover them: Python CGI, shell, Perl modules).
const EXTRA_CODE_EXTENSIONS: &[&str] = &["py", "sh", "pm"];

/// How far into a `<script` tag to look for `runat` / `language=php`.
const TAG_WINDOW: usize = 512;

/// Whether `content` (named `name`) may be run as server-side code.
pub fn may_hold_server_code(name: &Path, content: &[u8]) -> bool {
    if Lang::from_path(name).is_some() {
        return true;
    }
    if let Some(ext) = name.extension().and_then(|e| e.to_str()) {
        if EXTRA_CODE_EXTENSIONS.iter().any(|x| ext.eq_ignore_ascii_case(x)) {
            return true;
        }
    }
    let body = content.strip_prefix(b"\xef\xbb\xbf").unwrap_or(content);
    if body.starts_with(b"#!") {
        return true;
    }
    memchr::memchr_iter(b'<', content).any(|i| opens_code(&content[i + 1..]))
}

/// Whether the text after a `<` opens a server-side code block.
fn opens_code(rest: &[u8]) -> bool {
    match rest.first() {
        Some(b'?' | b'%') => true,
        // UTF-16 (either byte order): `<` NUL `?` or `<` NUL `%`.
        Some(0) => matches!(rest.get(1), Some(b'?' | b'%')),
        Some(b'j' | b'J') => starts_with_nocase(rest, b"jsp:"),
        Some(b's' | b'S') if starts_with_nocase(rest, b"script") => {
            let tag = &rest[..rest.len().min(TAG_WINDOW)];
            let tag = &tag[..memchr::memchr(b'>', tag).unwrap_or(tag.len())];
            contains_nocase(tag, b"runat") || contains_nocase(tag, b"php")
        }
        _ => false,
    }
}

fn starts_with_nocase(hay: &[u8], needle: &[u8]) -> bool {
    hay.len() >= needle.len() && hay[..needle.len()].eq_ignore_ascii_case(needle)
}

fn contains_nocase(hay: &[u8], needle: &[u8]) -> bool {
    hay.windows(needle.len()).any(|w| w.eq_ignore_ascii_case(needle))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn code(name: &str, content: &[u8]) -> bool {
        may_hold_server_code(Path::new(name), content)
    }

    #[test]
    fn script_names_always_count() {
        assert!(code("x.php", b"plain text"));
        assert!(code("X.ASPX", b""));
        assert!(code("run.py", b"print(1)"));
        assert!(code("lib/Module.pm", b"1;"));
    }

    #[test]
    fn code_openers_anywhere_in_other_files_count() {
        let mut gif = b"GIF89a\x01\x00\x01\x00".to_vec();
        gif.extend(vec![0x80u8; 100_000]);
        gif.extend_from_slice(b"<?php system($_GET['c']); ?>");
        assert!(code("logo.gif", &gif));
        assert!(code("a.txt", b"x <% eval request(\"x\") %>"));
        assert!(code(
            "a.html",
            b"<SCRIPT Language=\"C#\" RunAt=\"server\">void f(){}</SCRIPT>"
        ));
        assert!(code("a.html", b"<script language=\"php\">system('id');</script>"));
        assert!(code(
            "a.xml",
            b"<JSP:scriptlet>Runtime.getRuntime()</JSP:scriptlet>"
        ));
        assert!(code("cgi", b"#!/usr/bin/perl\nprint 1;"));
        assert!(code("cgi", b"\xef\xbb\xbf#!/bin/sh\nid"));
        assert!(code("u16.txt", b"\xff\xfe<\0?\0p\0h\0p\0"));
        assert!(code("u16be.txt", b"\xfe\xff\0<\0%\0 "));
    }

    #[test]
    fn static_assets_are_skipped() {
        assert!(!code("app.js", b"if (a < b && c <d) { x = '<div>'; }"));
        assert!(!code(
            "page.html",
            b"<html><script src=\"a.js\"></script><p>#! not at start</p>"
        ));
        assert!(!code("data.json", b"{\"a\": \"<b>\"}"));
        assert!(!code("style.css", b"a > b { color: red }"));
        assert!(!code("trailing.html", b"text <"));
        assert!(!code("no-name", b""));
    }
}
