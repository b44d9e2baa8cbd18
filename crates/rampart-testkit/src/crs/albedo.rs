//! The albedo backend the CRS tests expect (github.com/coreruleset/albedo): every path answers
//! 200 with an empty body, and `POST /reflect` answers with the status, headers and body its
//! JSON describes.

use base64::Engine as _;

pub struct Reply {
    pub status: u16,
    /// In the order the reflection spec gives them; the caller drops what its HTTP stack
    /// cannot send (albedo drops invalid names and values too).
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

pub fn reflect(method: &str, path: &str, body: &[u8]) -> Reply {
    let empty = Reply {
        status: 200,
        headers: Vec::new(),
        body: Vec::new(),
    };
    if method != "POST" || path != "/reflect" {
        return empty;
    }
    let spec: serde_json::Value = match serde_json::from_slice(body) {
        Ok(v) => v,
        Err(_) => {
            return Reply {
                status: 400,
                headers: Vec::new(),
                body: b"invalid reflection spec".to_vec(),
            }
        }
    };
    let status = spec.get("status").and_then(|s| s.as_u64()).unwrap_or(200) as u16;
    let mut out_body: Vec<u8> = spec
        .get("body")
        .and_then(|b| b.as_str())
        .unwrap_or_default()
        .as_bytes()
        .to_vec();
    if let Some(enc) = spec.get("encodedBody").and_then(|b| b.as_str()) {
        if let Ok(d) = base64::engine::general_purpose::STANDARD.decode(enc) {
            out_body = d;
        }
    }
    let mut headers = Vec::new();
    if let Some(h) = spec.get("headers").and_then(|h| h.as_object()) {
        for (k, v) in h {
            let v = match v {
                serde_json::Value::String(s) => s.clone(),
                other => other.to_string(),
            };
            headers.push((k.clone(), v));
        }
    }
    if !out_body.is_empty()
        && !headers
            .iter()
            .any(|(k, _)| k.eq_ignore_ascii_case("content-type"))
    {
        // Go's net/http (albedo) sniffs a Content-Type when none is set.
        headers.push(("Content-Type".into(), sniff(&out_body).into()));
    }
    Reply {
        status,
        headers,
        body: out_body,
    }
}

/// The part of Go's `http.DetectContentType` that matters for text responses.
fn sniff(body: &[u8]) -> &'static str {
    let start = body
        .iter()
        .position(|b| !b" \t\n\r\x0c".contains(b))
        .unwrap_or(body.len());
    let data = &body[start..];
    const HTML: [&[u8]; 17] = [
        b"<!DOCTYPE HTML",
        b"<HTML",
        b"<HEAD",
        b"<SCRIPT",
        b"<IFRAME",
        b"<H1",
        b"<DIV",
        b"<FONT",
        b"<TABLE",
        b"<A",
        b"<STYLE",
        b"<TITLE",
        b"<B",
        b"<BODY",
        b"<BR",
        b"<P",
        b"<!--",
    ];
    for sig in HTML {
        if data.len() > sig.len()
            && data[..sig.len()].eq_ignore_ascii_case(sig)
            && (data[sig.len()] == b' ' || data[sig.len()] == b'>')
        {
            return "text/html; charset=utf-8";
        }
    }
    if data.starts_with(b"<?xml") {
        return "text/xml; charset=utf-8";
    }
    if data.starts_with(b"%PDF-") {
        return "application/pdf";
    }
    let sample = &body[..body.len().min(512)];
    if sample
        .iter()
        .any(|&b| b <= 0x08 || b == 0x0b || (0x0e..=0x1a).contains(&b) || (0x1c..=0x1f).contains(&b))
    {
        return "application/octet-stream";
    }
    "text/plain; charset=utf-8"
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reflect_answers_as_described() {
        let r = reflect(
            "POST",
            "/reflect",
            br#"{"status":302,"headers":{"Location":"/x","X-N":5},"body":"<html>hi"}"#,
        );
        assert_eq!(r.status, 302);
        assert_eq!(r.body, b"<html>hi");
        assert!(r.headers.contains(&("X-N".to_string(), "5".to_string())));
        assert!(r
            .headers
            .contains(&("Content-Type".to_string(), "text/html; charset=utf-8".to_string())));
    }

    #[test]
    fn other_paths_and_bad_specs() {
        let r = reflect("GET", "/reflect", b"{}");
        assert_eq!((r.status, r.body.len(), r.headers.len()), (200, 0, 0));
        assert_eq!(reflect("POST", "/reflect", b"not json").status, 400);
        let r = reflect("POST", "/reflect", br#"{"encodedBody":"AAEC"}"#);
        assert_eq!(r.body, [0, 1, 2]);
        assert!(r.headers[0].1.starts_with("application/octet-stream"));
    }
}
