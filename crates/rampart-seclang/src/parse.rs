//! Directive parsing: arguments, target lists, operators and action lists.

use std::sync::Arc;

use crate::ast::*;
use crate::lines::{logical_lines, LogicalLine};
use crate::ParseError;

/// Parses SecLang text. `Include` directives are returned unresolved (see [`crate::load_file`]).
pub fn parse(text: &str, origin: &str) -> Result<Vec<Directive>, ParseError> {
    let file: Arc<str> = Arc::from(origin);
    let mut out: Vec<Directive> = Vec::new();
    // Set while the last rule read ends with `chain`: the next SecRule continues it.
    let mut chain_open = false;
    for line in logical_lines(text) {
        let directive = parse_line(&line, &file)?;
        if chain_open {
            let Directive::Rule(next) = directive else {
                return Err(err_at(
                    &line,
                    &file,
                    0,
                    "a chained rule must be followed by a SecRule",
                ));
            };
            let opens = has_chain(&next.actions);
            let Some(Directive::Rule(head)) = out.last_mut() else {
                unreachable!("chain without rule")
            };
            let mut tail = head;
            while tail.chained.is_some() {
                tail = tail.chained.as_mut().expect("checked");
            }
            tail.chained = Some(Box::new(next));
            chain_open = opens;
            continue;
        }
        if let Directive::Rule(r) = &directive {
            chain_open = has_chain(&r.actions);
        }
        out.push(directive);
    }
    if chain_open {
        let loc = out.last().map(|d| d.location().clone()).unwrap_or(Location {
            file,
            line: 1,
            column: 1,
        });
        return Err(ParseError::new(
            loc,
            "the last rule has `chain` but no rule follows it",
        ));
    }
    Ok(out)
}

fn has_chain(actions: &[ActionSpec]) -> bool {
    actions.iter().any(|a| a.name.eq_ignore_ascii_case("chain"))
}

fn err_at(line: &LogicalLine, file: &Arc<str>, offset: usize, msg: impl Into<String>) -> ParseError {
    let (l, c) = line.position(offset);
    ParseError::new(
        Location {
            file: file.clone(),
            line: l,
            column: c,
        },
        msg,
    )
}

/// A directive argument with the offset where it starts in the logical line.
struct Arg {
    text: String,
    offset: usize,
}

/// Splits a directive line into words; double- or single-quoted words may contain spaces and
/// `\"` (resp. `\'`) for a literal quote. Other backslashes are kept for the operators to read.
fn split_args(line: &LogicalLine, file: &Arc<str>) -> Result<Vec<Arg>, ParseError> {
    let s = line.text.as_bytes();
    let mut args = Vec::new();
    let mut i = 0;
    while i < s.len() {
        if s[i].is_ascii_whitespace() {
            i += 1;
            continue;
        }
        let start = i;
        if s[i] == b'"' || s[i] == b'\'' {
            let quote = s[i];
            i += 1;
            let mut buf = Vec::new();
            let mut closed = false;
            while i < s.len() {
                if s[i] == b'\\' && i + 1 < s.len() && s[i + 1] == quote {
                    buf.push(quote);
                    i += 2;
                } else if s[i] == quote {
                    closed = true;
                    i += 1;
                    break;
                } else {
                    buf.push(s[i]);
                    i += 1;
                }
            }
            if !closed {
                return Err(err_at(line, file, start, "unterminated quoted argument"));
            }
            if i < s.len() && !s[i].is_ascii_whitespace() {
                return Err(err_at(
                    line,
                    file,
                    i,
                    "expected whitespace after a quoted argument",
                ));
            }
            let text = String::from_utf8(buf).map_err(|_| err_at(line, file, start, "invalid UTF-8"))?;
            args.push(Arg { text, offset: start });
        } else {
            while i < s.len() && !s[i].is_ascii_whitespace() {
                i += 1;
            }
            args.push(Arg {
                text: line.text[start..i].to_string(),
                offset: start,
            });
        }
    }
    Ok(args)
}

fn parse_line(line: &LogicalLine, file: &Arc<str>) -> Result<Directive, ParseError> {
    let args = split_args(line, file)?;
    let (name, rest) = args.split_first().expect("logical lines are not empty");
    let location = {
        let (l, c) = line.position(name.offset);
        Location {
            file: file.clone(),
            line: l,
            column: c,
        }
    };
    let lower = name.text.to_ascii_lowercase();
    let want = |min: usize, max: usize| -> Result<(), ParseError> {
        if rest.len() < min || rest.len() > max {
            let expected = if min == max {
                format!("{min}")
            } else {
                format!("{min} to {max}")
            };
            return Err(err_at(
                line,
                file,
                name.offset,
                format!("{} takes {expected} argument(s), got {}", name.text, rest.len()),
            ));
        }
        Ok(())
    };
    let at = |a: &Arg, msg: String| err_at(line, file, a.offset, msg);
    Ok(match lower.as_str() {
        "secrule" => {
            want(2, 3)?;
            let variables = parse_variables(&rest[0].text).map_err(|m| at(&rest[0], m))?;
            let operator = parse_operator(&rest[1].text);
            let actions = match rest.get(2) {
                Some(a) => parse_actions(&a.text).map_err(|m| at(a, m))?,
                None => Vec::new(),
            };
            Directive::Rule(RuleSpec {
                location,
                variables,
                operator,
                actions,
                chained: None,
            })
        }
        "secaction" => {
            want(1, 1)?;
            let actions = parse_actions(&rest[0].text).map_err(|m| at(&rest[0], m))?;
            Directive::Action { location, actions }
        }
        "secmarker" => {
            want(1, 1)?;
            Directive::Marker {
                location,
                name: rest[0].text.clone(),
            }
        }
        "secdefaultaction" => {
            want(1, 1)?;
            let actions = parse_actions(&rest[0].text).map_err(|m| at(&rest[0], m))?;
            Directive::DefaultAction { location, actions }
        }
        "secruleremovebyid" => {
            want(1, usize::MAX)?;
            let mut ranges = Vec::new();
            for a in rest {
                for part in a.text.split([' ', ',']).filter(|p| !p.is_empty()) {
                    ranges.push(parse_id_range(part).map_err(|m| at(a, m))?);
                }
            }
            Directive::RemoveById { location, ranges }
        }
        "secruleremovebytag" => {
            want(1, 1)?;
            Directive::RemoveByTag {
                location,
                tag: rest[0].text.clone(),
            }
        }
        "secruleremovebymsg" => {
            want(1, 1)?;
            Directive::RemoveByMsg {
                location,
                msg: rest[0].text.clone(),
            }
        }
        "secruleupdatetargetbyid" => {
            want(2, 3)?;
            if rest.len() == 3 {
                return Err(at(&rest[2], "target replacement is not supported".into()));
            }
            let mut ranges = Vec::new();
            for part in rest[0].text.split([' ', ',']).filter(|p| !p.is_empty()) {
                ranges.push(parse_id_range(part).map_err(|m| at(&rest[0], m))?);
            }
            let targets = parse_variables(&rest[1].text).map_err(|m| at(&rest[1], m))?;
            Directive::UpdateTargetById {
                location,
                ranges,
                targets,
            }
        }
        "secruleupdatetargetbytag" => {
            want(2, 2)?;
            let targets = parse_variables(&rest[1].text).map_err(|m| at(&rest[1], m))?;
            Directive::UpdateTargetByTag {
                location,
                tag: rest[0].text.clone(),
                targets,
            }
        }
        "secruleupdateactionbyid" => {
            want(2, 2)?;
            let id = rest[0]
                .text
                .parse()
                .map_err(|_| at(&rest[0], "expected a rule id".into()))?;
            let actions = parse_actions(&rest[1].text).map_err(|m| at(&rest[1], m))?;
            Directive::UpdateActionById {
                location,
                id,
                actions,
            }
        }
        "include" | "includeoptional" => {
            want(1, 1)?;
            Directive::Include {
                location,
                pattern: rest[0].text.clone(),
                optional: lower == "includeoptional",
            }
        }
        _ if lower.starts_with("sec") => Directive::Config {
            location,
            name: name.text.clone(),
            args: rest.iter().map(|a| a.text.clone()).collect(),
        },
        _ => return Err(at(name, format!("unknown directive `{}`", name.text))),
    })
}

/// Parses `942100` or `900000-900999`.
pub fn parse_id_range(s: &str) -> Result<IdRange, String> {
    let s = s.trim();
    let num = |t: &str| {
        t.trim()
            .parse::<u64>()
            .map_err(|_| format!("`{s}` is not a rule id or id range"))
    };
    match s.split_once('-') {
        Some((a, b)) => {
            let (start, end) = (num(a)?, num(b)?);
            if start > end {
                return Err(format!("id range `{s}` is empty"));
            }
            Ok(IdRange { start, end })
        }
        None => {
            let id = num(s)?;
            Ok(IdRange { start: id, end: id })
        }
    }
}

/// Parses `@name argument`, `!@name argument` or a bare regular expression.
pub fn parse_operator(s: &str) -> OperatorSpec {
    let t = s.trim_start();
    let (negated, t) = match t.strip_prefix('!') {
        Some(r) => (true, r),
        None => (false, t),
    };
    match t.strip_prefix('@') {
        Some(r) => {
            let end = r.find(|c: char| c.is_ascii_whitespace()).unwrap_or(r.len());
            let name = r[..end].to_string();
            let argument = r[end..].trim_start().to_string();
            OperatorSpec {
                negated,
                name,
                argument,
            }
        }
        None => OperatorSpec {
            negated,
            name: "rx".into(),
            argument: t.to_string(),
        },
    }
}

/// Parses a `|`-separated target list such as `ARGS|!ARGS:foo|REQUEST_HEADERS:/^x-/|&TX:score|XML:/*`.
pub fn parse_variables(s: &str) -> Result<Vec<VariableSpec>, String> {
    let b = s.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    loop {
        while i < b.len() && (b[i].is_ascii_whitespace() || b[i] == b'|') {
            i += 1;
        }
        if i >= b.len() {
            break;
        }
        let mut exclude = false;
        let mut count = false;
        loop {
            match b.get(i) {
                Some(b'!') => exclude = true,
                Some(b'&') => count = true,
                _ => break,
            }
            i += 1;
        }
        let start = i;
        while i < b.len() && (b[i].is_ascii_alphanumeric() || b[i] == b'_') {
            i += 1;
        }
        if start == i {
            return Err(format!("expected a variable name at `{}`", &s[start..]));
        }
        let name = s[start..i].to_ascii_uppercase();
        let mut selector = None;
        if b.get(i) == Some(&b':') || b.get(i) == Some(&b'.') {
            i += 1;
            if b.get(i) == Some(&b'/') && name != "XML" {
                // A regex runs to the first unescaped `/` that ends the entry.
                let rs = i + 1;
                let mut j = rs;
                let mut end = None;
                while j < b.len() {
                    if b[j] == b'\\' {
                        j += 2;
                        continue;
                    }
                    if b[j] == b'/'
                        && (j + 1 == b.len() || b[j + 1] == b'|' || b[j + 1].is_ascii_whitespace())
                    {
                        end = Some(j);
                        break;
                    }
                    j += 1;
                }
                let Some(end) = end else {
                    return Err(format!("unterminated regular expression selector in `{s}`"));
                };
                selector = Some(Selector::Regex(s[rs..end].to_string()));
                i = end + 1;
            } else if b.get(i) == Some(&b'\'') {
                let ks = i + 1;
                let Some(len) = s[ks..].find('\'') else {
                    return Err(format!("unterminated quoted selector in `{s}`"));
                };
                let key = &s[ks..ks + len];
                selector = Some(match key.strip_prefix('/').and_then(|k| k.strip_suffix('/')) {
                    Some(re) if name != "XML" => Selector::Regex(re.to_string()),
                    _ => Selector::Key(key.to_string()),
                });
                i = ks + len + 1;
            } else {
                let ks = i;
                while i < b.len() && b[i] != b'|' {
                    i += 1;
                }
                let key = s[ks..i].trim_end();
                if key.is_empty() {
                    return Err(format!("empty selector after `{name}:`"));
                }
                selector = Some(Selector::Key(key.to_string()));
            }
        }
        if i < b.len() && b[i] != b'|' && !b[i].is_ascii_whitespace() {
            return Err(format!("unexpected `{}` in target list `{s}`", &s[i..]));
        }
        out.push(VariableSpec {
            exclude,
            count,
            name,
            selector,
        });
    }
    if out.is_empty() {
        return Err("empty target list".into());
    }
    Ok(out)
}

/// Parses a comma-separated action list; values may be single-quoted (`msg:'a, b'`) with `\'` inside.
pub fn parse_actions(s: &str) -> Result<Vec<ActionSpec>, String> {
    let b = s.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        while i < b.len() && (b[i].is_ascii_whitespace() || b[i] == b',') {
            i += 1;
        }
        if i >= b.len() {
            break;
        }
        let start = i;
        while i < b.len() && b[i] != b':' && b[i] != b',' {
            i += 1;
        }
        let name = s[start..i].trim().to_string();
        if name.is_empty()
            || !name
                .bytes()
                .all(|c| c.is_ascii_alphanumeric() || c == b'_' || c == b'-')
        {
            return Err(format!("invalid action name `{name}`"));
        }
        let mut value = None;
        if i < b.len() && b[i] == b':' {
            i += 1;
            while i < b.len() && b[i] == b' ' {
                i += 1;
            }
            if i < b.len() && b[i] == b'\'' {
                i += 1;
                let mut buf = Vec::new();
                let mut closed = false;
                while i < b.len() {
                    if b[i] == b'\\' && i + 1 < b.len() && b[i + 1] == b'\'' {
                        buf.push(b'\'');
                        i += 2;
                    } else if b[i] == b'\'' {
                        closed = true;
                        i += 1;
                        break;
                    } else {
                        buf.push(b[i]);
                        i += 1;
                    }
                }
                if !closed {
                    return Err(format!("unterminated quoted value of action `{name}`"));
                }
                while i < b.len() && b[i].is_ascii_whitespace() {
                    i += 1;
                }
                if i < b.len() && b[i] != b',' {
                    return Err(format!("expected `,` after the quoted value of action `{name}`"));
                }
                value = Some(String::from_utf8(buf).map_err(|_| "invalid UTF-8".to_string())?);
            } else {
                let vs = i;
                while i < b.len() && b[i] != b',' {
                    i += 1;
                }
                value = Some(s[vs..i].trim().to_string());
            }
        }
        out.push(ActionSpec { name, value });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_a_chained_rule() {
        let text = r#"
SecRule REQUEST_HEADERS:Content-Type "!@rx ^a\"b" \
    "id:920100,phase:1,block,t:none,t:lowercase,msg:'it\'s, bad',\
    setvar:'tx.score=+%{tx.critical}',chain"
    SecRule &ARGS|!ARGS:/^(x|y)$/|XML:/* "@eq 0" "setvar:tx.a=1"
SecMarker "END-X"
"#;
        let d = parse(text, "t.conf").unwrap();
        assert_eq!(d.len(), 2);
        let Directive::Rule(r) = &d[0] else { panic!() };
        assert_eq!(r.location.line, 2);
        assert_eq!(
            r.operator,
            OperatorSpec {
                negated: true,
                name: "rx".into(),
                argument: "^a\"b".into()
            }
        );
        assert_eq!(
            r.actions[5],
            ActionSpec {
                name: "msg".into(),
                value: Some("it's, bad".into())
            }
        );
        assert_eq!(r.actions[6].value.as_deref(), Some("tx.score=+%{tx.critical}"));
        let c = r.chained.as_ref().unwrap();
        assert_eq!(c.variables.len(), 3);
        assert!(c.variables[0].count);
        assert_eq!(c.variables[1].selector, Some(Selector::Regex("^(x|y)$".into())));
        assert!(c.variables[1].exclude);
        assert_eq!(c.variables[2].selector, Some(Selector::Key("/*".into())));
        assert_eq!(
            d[1],
            Directive::Marker {
                location: d[1].location().clone(),
                name: "END-X".into()
            }
        );
    }

    #[test]
    fn errors_name_line_and_column() {
        let e = parse(
            "SecRuleEngine On\n  SecRule ARGS \"@rx a\" \"id:1,msg:'x\"\n",
            "f.conf",
        )
        .unwrap_err();
        assert_eq!((e.location.line, e.location.column), (2, 24));
        assert!(e.to_string().starts_with("f.conf:2:24: "), "{e}");
        let e = parse("Bogus x\n", "f.conf").unwrap_err();
        assert_eq!(e.location.line, 1);
        let e = parse("SecRule ARGS \"@rx a\" \"id:1,chain\"\n", "f.conf").unwrap_err();
        assert!(e.message.contains("chain"));
    }

    #[test]
    fn id_ranges() {
        assert_eq!(
            parse_id_range("1-999999").unwrap(),
            IdRange {
                start: 1,
                end: 999_999
            }
        );
        assert!(parse_id_range("9-1").is_err());
        assert!(parse_id_range("x").is_err());
    }
}
