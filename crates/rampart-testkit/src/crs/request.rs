//! A stage's request bytes, built exactly as go-ftw builds them.

use std::sync::OnceLock;

use base64::Engine as _;
use regex::Regex;

use super::Input;

pub fn build_request(input: &Input) -> Result<Vec<u8>, String> {
    if let Some(enc) = &input.encoded_request {
        let clean: String = enc.chars().filter(|c| !c.is_whitespace()).collect();
        return base64::engine::general_purpose::STANDARD
            .decode(clean)
            .map_err(|e| format!("encoded_request is not base64: {e}"));
    }
    let method = input.method.clone().unwrap_or_else(|| "GET".into());
    let uri = input.uri.clone().unwrap_or_else(|| "/".into());
    let version = input.version.clone().unwrap_or_else(|| "HTTP/1.1".into());
    let autocomplete = input.autocomplete_headers.unwrap_or(true);
    // go-ftw adds the YAML's headers in name order, then appends the ones it completes; its
    // look-ups compare canonical names, so `Content-type` counts as a Content-Type.
    let mut headers: Vec<(String, String)> = input
        .headers
        .iter()
        .flatten()
        .map(|(k, v)| {
            let v = match v {
                serde_yaml::Value::String(s) => s.clone(),
                serde_yaml::Value::Number(n) => n.to_string(),
                serde_yaml::Value::Bool(b) => b.to_string(),
                serde_yaml::Value::Null => String::new(),
                other => serde_yaml::to_string(other)
                    .unwrap_or_default()
                    .trim()
                    .to_string(),
            };
            (k.clone(), v)
        })
        .collect();
    let has = |h: &[(String, String)], name: &str| h.iter().any(|(k, _)| k.eq_ignore_ascii_case(name));
    let has_value = |h: &[(String, String)], name: &str, pred: &dyn Fn(&str) -> bool| {
        h.iter().any(|(k, v)| k.eq_ignore_ascii_case(name) && pred(v))
    };
    let mut data: Vec<u8> = match (&input.data, &input.encoded_data) {
        (Some(d), _) => expand_template(d).into_bytes(),
        (None, Some(e)) => base64::engine::general_purpose::STANDARD
            .decode(e.trim())
            .map_err(|e| format!("encoded_data is not base64: {e}"))?,
        (None, None) => Vec::new(),
    };
    if !data.is_empty() && autocomplete {
        if !has(&headers, "Content-Type") {
            headers.push(("Content-Type".into(), "application/x-www-form-urlencoded".into()));
        }
        if has_value(&headers, "Content-Type", &|v| {
            v.eq_ignore_ascii_case("application/x-www-form-urlencoded")
        }) {
            data = encode_form(&data);
        }
    }
    if has_value(&headers, "Content-Type", &|v| {
        v.to_ascii_lowercase().contains("multipart/form-data;")
    }) {
        let mut out = Vec::with_capacity(data.len() + 64);
        for &b in &data {
            if b == b'\n' {
                out.extend_from_slice(b"\r\n");
            } else {
                out.push(b);
            }
        }
        data = out;
    }
    if autocomplete {
        if !has(&headers, "Connection") {
            headers.push(("Connection".into(), "close".into()));
        }
        // go-ftw's `^POST|PUT|PATCH|DELETE$`: the anchors bind to the outer alternatives only.
        let body_method = method.starts_with("POST")
            || method.contains("PUT")
            || method.contains("PATCH")
            || method.ends_with("DELETE");
        if !has(&headers, "Content-Length") && (!data.is_empty() || body_method) {
            headers.push(("Content-Length".into(), data.len().to_string()));
        }
    }
    let mut out = format!("{method} {uri} {version}\r\n").into_bytes();
    for (k, v) in &headers {
        out.extend_from_slice(k.as_bytes());
        out.extend_from_slice(b": ");
        out.extend_from_slice(v.as_bytes());
        out.extend_from_slice(b"\r\n");
    }
    out.extend_from_slice(b"\r\n");
    out.extend_from_slice(&data);
    Ok(out)
}

/// The one Go template the suite uses: `{{ "x" | repeat N }}`.
pub fn expand_template(data: &str) -> String {
    static RE: OnceLock<Regex> = OnceLock::new();
    let re = RE.get_or_init(|| Regex::new(r#"\{\{\s*"([^"]*)"\s*\|\s*repeat\s+(\d+)\s*\}\}"#).unwrap());
    re.replace_all(data, |c: &regex::Captures| c[1].repeat(c[2].parse().unwrap_or(0)))
        .into_owned()
}

/// go-ftw URL-encodes form data that is not encoded yet (no '%' or '+' in it),
/// key and value separately, with Go's `url.QueryEscape`.
pub fn encode_form(data: &[u8]) -> Vec<u8> {
    if data.contains(&b'%') || data.contains(&b'+') {
        return data.to_vec();
    }
    let mut out = Vec::with_capacity(data.len() * 2);
    for token in data.split(|&b| b == b'&') {
        match token.iter().position(|&b| b == b'=') {
            None => query_escape(token, &mut out),
            Some(eq) => {
                query_escape(&token[..eq], &mut out);
                out.push(b'=');
                query_escape(&token[eq + 1..], &mut out);
            }
        }
        out.push(b'&');
    }
    // A trailing '&' in the input yields no empty token in go-ftw's loop.
    if data.ends_with(b"&") {
        out.pop();
    }
    out.pop();
    out
}

fn query_escape(s: &[u8], out: &mut Vec<u8>) {
    for &b in s {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => out.push(b),
            b' ' => out.push(b'+'),
            _ => out.extend_from_slice(format!("%{b:02X}").as_bytes()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    #[test]
    fn form_data_is_encoded_as_go_ftw_encodes_it() {
        assert_eq!(encode_form(b"a=b c&d=<e>"), b"a=b+c&d=%3Ce%3E");
        assert_eq!(encode_form(b"x=%41"), b"x=%41");
        assert_eq!(encode_form(b"a=b&"), b"a=b");
    }

    #[test]
    fn the_repeat_template_expands() {
        assert_eq!(expand_template(r#"x{{ "1" | repeat 3 }}y"#), "x111y");
    }

    #[test]
    fn headers_are_completed_after_the_given_ones() {
        let input = Input {
            method: Some("POST".into()),
            data: Some("a=b c".into()),
            headers: Some(BTreeMap::from([(
                "Host".to_string(),
                serde_yaml::Value::String("localhost".into()),
            )])),
            ..Default::default()
        };
        assert_eq!(
            String::from_utf8(build_request(&input).unwrap()).unwrap(),
            "POST / HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/x-www-form-urlencoded\r\n\
             Connection: close\r\nContent-Length: 5\r\n\r\na=b+c"
        );
    }

    #[test]
    fn header_names_are_compared_as_go_ftw_compares_them() {
        let input = Input {
            method: Some("POST".into()),
            data: Some("<a>ftp://x</a>".into()),
            headers: Some(BTreeMap::from([(
                "Content-type".to_string(),
                serde_yaml::Value::String("application/xml".into()),
            )])),
            ..Default::default()
        };
        let req = String::from_utf8(build_request(&input).unwrap()).unwrap();
        assert!(!req.contains("x-www-form-urlencoded"), "{req}");
        assert!(req.ends_with("\r\n\r\n<a>ftp://x</a>"), "{req}");
    }

    #[test]
    fn an_encoded_request_is_sent_as_it_is() {
        let input = Input {
            encoded_request: Some("R0VUIC8g\nSFRUUC8xLjENCg0K".into()),
            ..Default::default()
        };
        assert_eq!(build_request(&input).unwrap(), b"GET / HTTP/1.1\r\n\r\n");
        let bad = Input {
            encoded_request: Some("***".into()),
            ..Default::default()
        };
        assert!(build_request(&bad).unwrap_err().contains("encoded_request"));
    }
}
