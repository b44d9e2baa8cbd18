//! `text/xml` and friends: the text nodes (for `XML:/*`) and attribute values (`XML://@*`).

use quick_xml::events::Event;
use quick_xml::Reader;

#[derive(Debug, Default)]
pub(crate) struct XmlDoc {
    pub texts: Vec<Vec<u8>>,
    pub attrs: Vec<Vec<u8>>,
}

const MAX_DEPTH: usize = 1024;

pub(crate) fn parse(body: &[u8]) -> Result<XmlDoc, String> {
    let mut reader = Reader::from_reader(body);
    reader.config_mut().check_end_names = true;
    let mut doc = XmlDoc::default();
    let mut depth = 0usize;
    let mut seen_root = false;
    let mut buf = Vec::new();
    loop {
        let ev = reader
            .read_event_into(&mut buf)
            .map_err(|e| format!("XML parsing error: {e}"))?;
        let ev_kind = if matches!(ev, Event::Start(_)) {
            Kind::Start
        } else {
            Kind::Other
        };
        match ev {
            Event::Start(e) | Event::Empty(e) => {
                for a in e.attributes() {
                    let a = a.map_err(|e| format!("XML parsing error: {e}"))?;
                    let v = a.unescape_value().map(|v| v.into_owned().into_bytes());
                    doc.attrs.push(v.unwrap_or_else(|_| a.value.into_owned()));
                }
                if matches!(ev_kind, Kind::Start) {
                    depth += 1;
                }
                seen_root = true;
            }
            Event::End(_) => depth = depth.saturating_sub(1),
            Event::Text(t) => {
                let raw = t.into_inner();
                let text = raw.trim_ascii();
                if depth > 0 && !text.is_empty() {
                    doc.texts.push(unescape(text));
                }
            }
            Event::CData(c) => doc.texts.push(c.into_inner().into_owned()),
            Event::Eof => break,
            _ => {}
        }
        buf.clear();
        if depth > MAX_DEPTH {
            return Err("XML nesting too deep".into());
        }
    }
    if !seen_root {
        return Err("XML parsing error: no root element".into());
    }
    Ok(doc)
}

enum Kind {
    Start,
    Other,
}

fn unescape(raw: &[u8]) -> Vec<u8> {
    let s = String::from_utf8_lossy(raw);
    match quick_xml::escape::unescape(&s) {
        Ok(u) => u.into_owned().into_bytes(),
        Err(_) => raw.to_vec(),
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn texts_and_attributes() {
        let d =
            super::parse(br#"<?xml version="1.0"?><a x="1"><b>hi &lt;</b><c/><![CDATA[raw]]></a>"#).unwrap();
        assert_eq!(d.texts, vec![b"hi <".to_vec(), b"raw".to_vec()]);
        assert_eq!(d.attrs, vec![b"1".to_vec()]);
        assert!(super::parse(b"<a><b></a>").is_err());
        assert!(super::parse(b"not xml").is_err());
    }
}
