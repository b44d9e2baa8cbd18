/// ModSecurity's `cmdLine`: drops `\ " ' ^`, drops spaces before `/` and `(`, turns `,` and `;`
/// into spaces, squeezes whitespace and lowercases.
pub(crate) fn cmd_line(input: &[u8]) -> Option<Vec<u8>> {
    if unchanged(input) {
        return None;
    }
    let out = full(input);
    (out != input).then_some(out)
}

fn full(input: &[u8]) -> Vec<u8> {
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
    out
}

/// Whether the output would equal the input (most values), decided without building it: nothing
/// dropped, replaced or lower-cased, and every space single and not before `/` or `(`.
fn unchanged(input: &[u8]) -> bool {
    input.iter().enumerate().all(|(i, &c)| match c {
        b'\\' | b'"' | b'\'' | b'^' | b',' | b';' | b'\t' | b'\r' | b'\n' => false,
        b' ' => !matches!(input.get(i + 1), Some(b' ' | b'/' | b'(')),
        _ => !c.is_ascii_uppercase(),
    })
}

#[cfg(test)]
mod tests {
    #[test]
    fn normalises_command_lines() {
        let t = |s| super::super::t(super::cmd_line, s);
        assert_eq!(t("C^at /E\"tc\"/pa's'swd"), "cat/etc/passwd");
        assert_eq!(t("ls ,;  -la (x)"), "ls -la(x)");
    }

    /// The shortcut must agree with building the output, on every short string over the
    /// characters that matter.
    #[test]
    fn shortcut_agrees_with_the_full_transformation() {
        let alphabet = b" /(a,;\tA\\'\"^x";
        let mut inputs: Vec<Vec<u8>> = vec![Vec::new()];
        for _ in 0..4 {
            let next: Vec<Vec<u8>> = inputs
                .iter()
                .flat_map(|p| alphabet.iter().map(move |&c| [p.as_slice(), &[c]].concat()))
                .collect();
            inputs.extend(next);
        }
        for i in &inputs {
            let full = super::full(i);
            assert_eq!(
                super::unchanged(i),
                full == *i,
                "{:?}",
                String::from_utf8_lossy(i)
            );
        }
    }
}
