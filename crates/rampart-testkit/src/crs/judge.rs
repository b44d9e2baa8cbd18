//! What a stage expects of the log, judged the same way by both runners.

use regex::Regex;

use super::suite::{Output, StatusSpec};

/// A stage's expectations, taken from its `output`.
#[derive(Clone, Default)]
pub struct Expect {
    pub status: Vec<u16>,
    pub expect_ids: Vec<u64>,
    pub no_expect_ids: Vec<u64>,
    pub match_regex: Option<String>,
    pub no_match_regex: Option<String>,
    pub response_contains: Option<String>,
    pub expect_error: bool,
    pub retry_once: bool,
}

impl Expect {
    pub fn new(o: &Output) -> Expect {
        Expect {
            status: match &o.status {
                Some(StatusSpec::One(s)) => vec![*s],
                Some(StatusSpec::Many(v)) => v.clone(),
                None => Vec::new(),
            },
            expect_ids: o.log.expect_ids.clone().unwrap_or_default(),
            no_expect_ids: o.log.no_expect_ids.clone().unwrap_or_default(),
            match_regex: o.log.match_regex.clone().or_else(|| o.log_contains.clone()),
            no_match_regex: o.log.no_match_regex.clone().or_else(|| o.no_log_contains.clone()),
            response_contains: o.response_contains.clone(),
            expect_error: o.expect_error.unwrap_or(false),
            retry_once: o.retry_once.unwrap_or(false),
        }
    }

    /// Whether anything is expected of the log (else only status and transport are judged).
    pub fn judges_log(&self) -> bool {
        !self.expect_ids.is_empty()
            || !self.no_expect_ids.is_empty()
            || self.match_regex.is_some()
            || self.no_match_regex.is_some()
    }
}

/// The rule ids named in error-log lines (`[id "942100"]`), sorted, each once.
pub fn logged_ids(lines: &[String]) -> Vec<u64> {
    static RE: std::sync::OnceLock<Regex> = std::sync::OnceLock::new();
    let re = RE.get_or_init(|| Regex::new(r#"\[id "(\d+)"\]"#).unwrap());
    let mut ids: Vec<u64> = lines
        .iter()
        .flat_map(|l| {
            re.captures_iter(l)
                .filter_map(|c| c[1].parse().ok())
                .collect::<Vec<_>>()
        })
        .collect();
    ids.sort_unstable();
    ids.dedup();
    ids
}

/// Judges the error-log `lines` of one stage and the rule ids they name (`logged`).
pub fn judge_log(e: &Expect, lines: &[String], logged: &[u64]) -> Result<(), String> {
    let text = lines.join("\n");
    if let Some(re) = &e.match_regex {
        let re = Regex::new(re).map_err(|err| format!("bad match_regex: {err}"))?;
        if !re.is_match(&text) {
            return Err(format!("log does not match {re}; ids logged: {logged:?}"));
        }
    }
    let missing: Vec<u64> = e
        .expect_ids
        .iter()
        .copied()
        .filter(|id| !logged.contains(id))
        .collect();
    if !missing.is_empty() {
        return Err(format!(
            "expected ids {missing:?} not logged; ids logged: {logged:?}"
        ));
    }
    if let Some(re) = &e.no_match_regex {
        let re = Regex::new(re).map_err(|err| format!("bad no_match_regex: {err}"))?;
        if re.is_match(&text) {
            return Err(format!("log matches {re}"));
        }
    }
    let unwanted: Vec<u64> = e
        .no_expect_ids
        .iter()
        .copied()
        .filter(|id| logged.contains(id))
        .collect();
    if !unwanted.is_empty() {
        return Err(format!("ids {unwanted:?} logged but not expected"));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_expectation_can_fail() {
        let lines = vec![r#"ModSecurity: Warning. [id "942100"] [msg "x"]"#.to_string()];
        let ok = Expect {
            expect_ids: vec![942100],
            no_expect_ids: vec![1],
            match_regex: Some("942100".into()),
            no_match_regex: Some("920".into()),
            ..Default::default()
        };
        assert_eq!(logged_ids(&lines), [942100]);
        assert!(judge_log(&ok, &lines, &[942100]).is_ok());
        let missing = Expect {
            expect_ids: vec![7],
            ..Default::default()
        };
        assert!(judge_log(&missing, &lines, &[942100])
            .unwrap_err()
            .contains("[7]"));
        let unwanted = Expect {
            no_expect_ids: vec![942100],
            ..Default::default()
        };
        assert!(judge_log(&unwanted, &lines, &[942100]).is_err());
        let nomatch = Expect {
            no_match_regex: Some(r#"\[id "\d+"\]"#.into()),
            ..Default::default()
        };
        assert!(judge_log(&nomatch, &lines, &[942100]).is_err());
    }
}
