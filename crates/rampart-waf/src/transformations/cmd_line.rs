/// ModSecurity's `cmdLine`: drops `\ " ' ^`, drops spaces before `/` and `(`, turns `,` and `;`
/// into spaces, squeezes whitespace and lowercases.
pub(crate) fn cmd_line(input: &[u8]) -> Option<Vec<u8>> {
    let mut out: Vec<u8> = Vec::with_capacity(input.len());
    let mut space = false;
    for &c in input {
        match c {
            b'\\' | b'"' | b'\'' | b'^' => {}
            b' ' | b',' | b';' | b'\t' | b'\r' | b'\n' => space = true,
            b'/' | b'(' => {
                space = false;
                out.push(c);
            }
            _ => {
                if space {
                    out.push(b' ');
                }
                space = false;
                out.push(c.to_ascii_lowercase());
            }
        }
    }
    if space {
        out.push(b' ');
    }
    (out != input).then_some(out)
}

#[cfg(test)]
mod tests {
    #[test]
    fn normalises_command_lines() {
        let t = |s| super::super::t(super::cmd_line, s);
        assert_eq!(t("C^at /E\"tc\"/pa's'swd"), "cat/etc/passwd");
        assert_eq!(t("ls ,;  -la (x)"), "ls -la(x)");
    }
}
