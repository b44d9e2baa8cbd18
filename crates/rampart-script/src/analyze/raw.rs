//! Signals read from the raw bytes rather than tokens.

use crate::lex_php;
use crate::Reason;

/// Signals read from the raw bytes: encoded blobs, entropy, well-known shell families.
pub(super) fn raw_signals(src: &[u8], layer: u8, reasons: &mut Vec<Reason>) {
    if layer > 0 {
        return;
    }
    const FAMILIES: &[&[u8]] = &[
        b"FilesMan",
        b"c99shell",
        b"r57shell",
        b"b374k",
        b"WSO ",
        b"Web Shell by",
        b"webshell",
        b"WebShell",
        b"phpspy",
        b"Behinder",
        b"antSword",
    ];
    for f in FAMILIES {
        if lex_php::find(src, f).is_some() {
            reasons.push(Reason {
                signal: "fingerprint.family",
                weight: if matches!(&f[..2], b"We" | b"we" | b"WS") {
                    60
                } else {
                    100
                },
                line: 0,
                layer,
                detail: format!(
                    "names a known webshell family: {}",
                    String::from_utf8_lossy(f).trim()
                ),
            });
            break;
        }
    }
}
