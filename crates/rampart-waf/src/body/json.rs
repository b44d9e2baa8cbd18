//! `application/json`: flattened into `json.a.b` / `json.list.0` names with scalar values.

use super::Pairs;

const MAX_DEPTH: usize = 256;

pub(crate) fn parse(body: &[u8]) -> Result<Pairs, String> {
    let v: serde_json::Value =
        serde_json::from_slice(body).map_err(|e| format!("JSON parsing error: {e}"))?;
    let mut out = Vec::new();
    let mut key = b"json".to_vec();
    flatten(&v, &mut key, &mut out, 0)?;
    Ok(out)
}

fn flatten(v: &serde_json::Value, key: &mut Vec<u8>, out: &mut Pairs, depth: usize) -> Result<(), String> {
    use serde_json::Value;
    if depth > MAX_DEPTH {
        return Err("JSON nesting too deep".into());
    }
    let base = key.len();
    match v {
        Value::Object(map) => {
            for (k, child) in map {
                key.push(b'.');
                key.extend_from_slice(k.as_bytes());
                flatten(child, key, out, depth + 1)?;
                key.truncate(base);
            }
        }
        Value::Array(items) => {
            for (i, child) in items.iter().enumerate() {
                key.push(b'.');
                key.extend_from_slice(i.to_string().as_bytes());
                flatten(child, key, out, depth + 1)?;
                key.truncate(base);
            }
            // Like Coraza, the array itself holds its length.
            if !items.is_empty() {
                out.push((key.clone(), items.len().to_string().into_bytes()));
            }
        }
        Value::String(s) => out.push((key.clone(), s.as_bytes().to_vec())),
        Value::Number(n) => out.push((key.clone(), n.to_string().into_bytes())),
        Value::Bool(b) => out.push((key.clone(), b.to_string().into_bytes())),
        Value::Null => out.push((key.clone(), Vec::new())),
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    #[test]
    fn flattens() {
        let p = super::parse(br#"{"a":{"b":"x"},"l":[1,true,null]}"#).unwrap();
        let s: Vec<(String, String)> = p
            .into_iter()
            .map(|(k, v)| (String::from_utf8(k).unwrap(), String::from_utf8(v).unwrap()))
            .collect();
        assert_eq!(
            s,
            [
                ("json.a.b", "x"),
                ("json.l.0", "1"),
                ("json.l.1", "true"),
                ("json.l.2", ""),
                ("json.l", "3")
            ]
            .map(|(a, b)| (a.to_string(), b.to_string()))
        );
        assert!(super::parse(b"{bad").is_err());
    }
}
