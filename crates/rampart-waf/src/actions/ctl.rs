//! `ctl:` — per-transaction changes to the engine's configuration and rule set.

use rampart_seclang::{parse_id_range, parse_variables, IdRange};

use crate::body::BodyProcessor;
use crate::config::{parse_engine_mode, parse_on_off, RuleEngineMode};
use crate::variables::Exclusion;

#[derive(Debug)]
pub(crate) enum Ctl {
    RuleEngine(RuleEngineMode),
    RuleRemoveById(Vec<IdRange>),
    RuleRemoveByTag(String),
    RuleRemoveByMsg(String),
    RuleRemoveTargetById(Vec<IdRange>, Vec<Exclusion>),
    RuleRemoveTargetByTag(String, Vec<Exclusion>),
    RuleRemoveTargetByMsg(String, Vec<Exclusion>),
    RequestBodyProcessor(BodyProcessor),
    ForceRequestBodyVariable(bool),
    RequestBodyAccess(bool),
    ResponseBodyAccess(bool),
    RequestBodyLimit(usize),
    ResponseBodyLimit(usize),
    /// Audit settings are accepted; the audit record is produced by the caller regardless.
    Audit,
}

impl Ctl {
    pub(crate) fn parse(v: &str) -> Result<Ctl, String> {
        let Some((name, value)) = v.split_once('=') else {
            return Err(format!("ctl `{v}` needs name=value"));
        };
        let value = value.trim();
        let on_off = || parse_on_off(value).ok_or(format!("ctl:{name} takes On or Off"));
        Ok(match name.trim().to_ascii_lowercase().as_str() {
            "ruleengine" => Ctl::RuleEngine(
                parse_engine_mode(value).ok_or("ctl:ruleEngine takes On, Off or DetectionOnly")?,
            ),
            "ruleremovebyid" => Ctl::RuleRemoveById(
                value
                    .split([' ', ','])
                    .filter(|p| !p.is_empty())
                    .map(parse_id_range)
                    .collect::<Result<_, _>>()?,
            ),
            "ruleremovebytag" => Ctl::RuleRemoveByTag(value.to_string()),
            "ruleremovebymsg" => Ctl::RuleRemoveByMsg(value.to_string()),
            "ruleremovetargetbyid" => {
                let (ids, targets) = split_targets(value)?;
                let ranges = ids.split(',').map(parse_id_range).collect::<Result<_, _>>()?;
                Ctl::RuleRemoveTargetById(ranges, targets)
            }
            "ruleremovetargetbytag" => {
                let (tag, targets) = split_targets(value)?;
                Ctl::RuleRemoveTargetByTag(tag.to_string(), targets)
            }
            "ruleremovetargetbymsg" => {
                let (msg, targets) = split_targets(value)?;
                Ctl::RuleRemoveTargetByMsg(msg.to_string(), targets)
            }
            "requestbodyprocessor" => Ctl::RequestBodyProcessor(
                BodyProcessor::parse(value).ok_or(format!("unknown request body processor `{value}`"))?,
            ),
            "forcerequestbodyvariable" => Ctl::ForceRequestBodyVariable(on_off()?),
            "requestbodyaccess" => Ctl::RequestBodyAccess(on_off()?),
            "responsebodyaccess" => Ctl::ResponseBodyAccess(on_off()?),
            "requestbodylimit" => {
                Ctl::RequestBodyLimit(value.parse().map_err(|_| "ctl:requestBodyLimit takes bytes")?)
            }
            "responsebodylimit" => {
                Ctl::ResponseBodyLimit(value.parse().map_err(|_| "ctl:responseBodyLimit takes bytes")?)
            }
            "auditengine" | "auditlogparts" | "debugloglevel" | "hashengine" | "hashenforcement" => {
                Ctl::Audit
            }
            other => return Err(format!("unsupported ctl `{other}`")),
        })
    }
}

fn split_targets(value: &str) -> Result<(&str, Vec<Exclusion>), String> {
    let Some((what, targets)) = value.split_once(';') else {
        return Err(format!("`{value}` needs `;TARGET`"));
    };
    let specs = parse_variables(targets)?;
    let ex = specs
        .iter()
        .map(crate::rule::exclusion_of)
        .collect::<Result<_, _>>()?;
    Ok((what.trim(), ex))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_ctls() {
        assert!(matches!(
            Ctl::parse("ruleEngine=DetectionOnly"),
            Ok(Ctl::RuleEngine(RuleEngineMode::DetectionOnly))
        ));
        match Ctl::parse("ruleRemoveById=1-999999").unwrap() {
            Ctl::RuleRemoveById(r) => assert!(r[0].contains(942100)),
            other => panic!("{other:?}"),
        }
        match Ctl::parse("ruleRemoveTargetByTag=xss-perf-disable;REQUEST_FILENAME").unwrap() {
            Ctl::RuleRemoveTargetByTag(t, ex) => assert_eq!((t.as_str(), ex.len()), ("xss-perf-disable", 1)),
            other => panic!("{other:?}"),
        }
        assert!(matches!(
            Ctl::parse("requestBodyProcessor=JSON"),
            Ok(Ctl::RequestBodyProcessor(BodyProcessor::Json))
        ));
        assert!(Ctl::parse("requestBodyProcessor=YAML").is_err());
        assert!(Ctl::parse("bogus=1").is_err());
    }
}
