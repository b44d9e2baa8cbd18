//! Splits SecLang text into logical lines (joining `\`-continued lines, dropping comments) and keeps
//! enough bookkeeping to map an offset in a logical line back to a physical line and column.

/// A directive's text after continuation lines were joined.
#[derive(Debug)]
pub(crate) struct LogicalLine {
    pub text: String,
    /// (offset in `text`, physical line (1-based), column (1-based) of that offset).
    segments: Vec<(usize, usize, usize)>,
}

impl LogicalLine {
    /// Physical (line, column) of a byte offset in `text`.
    pub fn position(&self, offset: usize) -> (usize, usize) {
        let idx = self.segments.partition_point(|s| s.0 <= offset).saturating_sub(1);
        let (start, line, col) = self.segments[idx];
        let chars = self
            .text
            .get(start..offset)
            .map_or(offset - start, |s| s.chars().count());
        (line, col + chars)
    }
}

pub(crate) fn logical_lines(text: &str) -> Vec<LogicalLine> {
    let mut out = Vec::new();
    let mut current: Option<LogicalLine> = None;
    for (idx, raw) in text.split('\n').enumerate() {
        let line_no = idx + 1;
        let raw = raw.strip_suffix('\r').unwrap_or(raw);
        let trimmed_end = raw.trim_end();
        let (body, continues) = match trimmed_end.strip_suffix('\\') {
            Some(b) => (b, true),
            None => (trimmed_end, false),
        };
        match current.as_mut() {
            Some(cur) => {
                cur.segments.push((cur.text.len(), line_no, 1));
                cur.text.push_str(body);
            }
            None => {
                let lead = body.len() - body.trim_start().len();
                let content = &body[lead..];
                if content.is_empty() && !continues {
                    continue;
                }
                if content.starts_with('#') {
                    // A comment ends at its physical line even when it ends with a backslash.
                    continue;
                }
                current = Some(LogicalLine {
                    text: content.to_string(),
                    segments: vec![(0, line_no, lead + 1)],
                });
            }
        }
        if !continues {
            if let Some(done) = current.take() {
                if !done.text.trim().is_empty() {
                    out.push(done);
                }
            }
        }
    }
    if let Some(done) = current.take() {
        if !done.text.trim().is_empty() {
            out.push(done);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn joins_continuations_and_maps_positions() {
        let text = "# comment\nSecRule ARGS \"@rx a\" \\\n    \"id:1,\\\n    deny\"\n\nSecMarker END\n";
        let lines = logical_lines(text);
        assert_eq!(lines.len(), 2);
        assert_eq!(lines[0].text, "SecRule ARGS \"@rx a\"     \"id:1,    deny\"");
        assert_eq!(lines[0].position(0), (2, 1));
        let off = lines[0].text.find("deny").unwrap();
        assert_eq!(lines[0].position(off), (4, 5));
        assert_eq!(lines[1].position(0), (6, 1));
    }
}
