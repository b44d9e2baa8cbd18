//! Randomised robustness tests run with every `cargo test` (the coverage-guided cargo-fuzz
//! targets in fuzz/ go deeper but need nightly): the body processors, transformations and the
//! regex translation get random and mutated inputs and must neither panic nor hang. Seeds are
//! fixed, so a failure reproduces.

use crate::body;
use crate::operators::compile_regex;
use crate::transformations;
use rampart_testkit::rng::Rng;

const ROUNDS: usize = 3000;

#[test]
fn body_processors_survive_mutated_input() {
    let seeds: [&[u8]; 4] = [
        b"--B\r\nContent-Disposition: form-data; name=\"a\"; filename=\"x\"\r\nContent-Type: text/plain\r\n\r\nhi\r\n--B--\r\n",
        br#"{"a":[1,{"b":"c\u0041"}],"d":null,"e":-1.5e3}"#,
        br#"<?xml version="1.0"?><!DOCTYPE a><a x="&amp;1"><b><![CDATA[z]]></b>t&lt;</a>"#,
        b"a=1&b=%41%zz&&c&d=+",
    ];
    let mut rng = Rng(0x5eed_0001);
    for round in 0..ROUNDS {
        let seed = seeds[round % seeds.len()];
        let input = rng.mutate(seed, b"-\r\n\";=&%{}[]<>/:\\");
        let m = body::multipart::parse(b"multipart/form-data; boundary=B", &input);
        assert!(m.files.iter().all(|f| f.2 <= input.len()));
        let _ = body::json::parse(&input);
        let _ = body::xml::parse(&input);
        let pairs = body::urlencoded::parse(&input, b'&');
        assert!(pairs.iter().map(|(k, v)| k.len() + v.len()).sum::<usize>() <= input.len());
    }
    // Deep nesting is refused, not a stack overflow.
    let deep = "[".repeat(100_000);
    assert!(body::json::parse(deep.as_bytes()).is_err());
    let deep_xml = "<a>".repeat(100_000);
    assert!(body::xml::parse(deep_xml.as_bytes()).is_err());
}

#[test]
fn transformations_survive_random_input() {
    let names = [
        "lowercase",
        "urlDecode",
        "urlDecodeUni",
        "htmlEntityDecode",
        "jsDecode",
        "cssDecode",
        "cmdLine",
        "utf8toUnicode",
        "normalizePath",
        "normalizePathWin",
        "removeNulls",
        "removeWhitespace",
        "replaceComments",
        "removeCommentsChar",
        "compressWhitespace",
        "base64Decode",
        "base64DecodeExt",
        "hexEncode",
        "hexDecode",
        "sqlHexDecode",
        "escapeSeqDecode",
        "length",
        "sha1",
        "trim",
        "urlEncode",
    ];
    let fs: Vec<_> = names
        .iter()
        .map(|n| transformations::lookup(n).expect(n))
        .collect();
    let mut rng = Rng(0x5eed_0002);
    for _ in 0..ROUNDS {
        let input = rng.mutate(
            b"%u00e9&#x41;\\x41\\u0041/*a*/../\\0\xc3\xa9 ",
            b"%&#;\\/*.u0123456789abcdefx\0 ",
        );
        for f in &fs {
            if let Some(out) = f(&input) {
                // Decoders never grow the input beyond what the encoders could (6x for %uXXXX).
                assert!(out.len() <= input.len() * 6 + 64);
            }
        }
    }
}

#[test]
fn regex_translation_never_panics() {
    let mut rng = Rng(0x5eed_0003);
    for _ in 0..ROUNDS {
        let p = rng.mutate(br"(?i)[a-z\x{ff}]++(?>b|c)*+\Z", br"()[]{}*+?\x{}|^$");
        let _ = compile_regex(&String::from_utf8_lossy(&p), true);
    }
}
