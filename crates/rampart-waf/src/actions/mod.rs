//! Actions: the part of a rule after the operator. Parsed once into [`Actions`]; the
//! transaction executes the non-disruptive ones (setvar, ctl, …) when a rule matches.

pub(crate) mod ctl;
pub(crate) mod disruptive;
pub(crate) mod setvar;
pub(crate) mod severity;

use rampart_seclang::ActionSpec;

use crate::macros::Macro;
use crate::transformations::{self, Transform};

pub(crate) use ctl::Ctl;
pub(crate) use disruptive::DisruptiveAction;
pub(crate) use setvar::SetVar;

/// Everything a rule's action list says, before defaults are merged in.
#[derive(Debug, Default)]
pub(crate) struct Actions {
    pub id: Option<u64>,
    pub phase: Option<u8>,
    pub msg: Option<Macro>,
    pub logdata: Option<Macro>,
    pub severity: Option<u8>,
    pub tags: Vec<String>,
    pub ver: Option<String>,
    pub rev: Option<String>,
    pub maturity: Option<String>,
    pub accuracy: Option<String>,
    pub disruptive: Option<DisruptiveAction>,
    pub status: Option<u16>,
    /// `Some(true)` for `log`, `Some(false)` for `nolog`.
    pub log: Option<bool>,
    pub auditlog: Option<bool>,
    pub setvars: Vec<SetVar>,
    pub ctls: Vec<Ctl>,
    pub chain: bool,
    pub skip: u32,
    pub skip_after: Option<String>,
    pub capture: bool,
    pub multi_match: bool,
    /// `t:none` seen: the default action's transformations are dropped.
    pub t_none: bool,
    pub transforms: Vec<(String, Transform)>,
}

impl Actions {
    pub(crate) fn parse(specs: &[ActionSpec]) -> Result<Actions, String> {
        let mut a = Actions::default();
        for s in specs {
            let v = s.value.as_deref();
            let need = || v.ok_or_else(|| format!("action `{}` needs a value", s.name));
            match s.name.to_ascii_lowercase().as_str() {
                "id" => {
                    a.id = Some(
                        need()?
                            .trim()
                            .parse()
                            .map_err(|_| format!("bad rule id `{}`", need().unwrap_or("")))?,
                    )
                }
                "phase" => a.phase = Some(parse_phase(need()?)?),
                "msg" => a.msg = Some(Macro::parse(need()?)),
                "logdata" => a.logdata = Some(Macro::parse(need()?)),
                "severity" => a.severity = Some(severity::parse(need()?)?),
                "tag" => a.tags.push(need()?.to_string()),
                "ver" => a.ver = Some(need()?.to_string()),
                "rev" => a.rev = Some(need()?.to_string()),
                "maturity" => a.maturity = Some(need()?.to_string()),
                "accuracy" => a.accuracy = Some(need()?.to_string()),
                "status" => {
                    a.status = Some(
                        need()?
                            .trim()
                            .parse()
                            .map_err(|_| format!("bad status `{}`", need().unwrap_or("")))?,
                    )
                }
                "log" => a.log = Some(true),
                "nolog" => a.log = Some(false),
                "auditlog" => a.auditlog = Some(true),
                "noauditlog" => a.auditlog = Some(false),
                "setvar" => a.setvars.push(SetVar::parse(need()?)?),
                "ctl" => a.ctls.push(Ctl::parse(need()?)?),
                "chain" => a.chain = true,
                "skip" => {
                    a.skip = need()?
                        .trim()
                        .parse()
                        .map_err(|_| "skip takes a number of rules".to_string())?
                }
                "skipafter" => a.skip_after = Some(need()?.to_string()),
                "capture" => a.capture = true,
                "multimatch" => a.multi_match = true,
                "t" => {
                    let name = need()?;
                    if name.eq_ignore_ascii_case("none") {
                        a.t_none = true;
                        a.transforms.clear();
                    } else {
                        let f = transformations::lookup(name)
                            .ok_or(format!("unknown transformation `{name}`"))?;
                        a.transforms.push((name.to_string(), f));
                    }
                }
                "pass" | "deny" | "drop" | "block" | "allow" | "redirect" | "proxy" => {
                    a.disruptive = Some(DisruptiveAction::parse(&s.name, v)?)
                }
                // Persistent collections and their timers are accepted; this engine keeps them per
                // transaction, which is all CRS needs.
                "initcol"
                | "setuid"
                | "setsid"
                | "expirevar"
                | "deprecatevar"
                | "setenv"
                | "sanitisearg"
                | "sanitisematched"
                | "sanitisematchedbytes"
                | "sanitiserequestheader"
                | "sanitiseresponseheader"
                | "append"
                | "prepend"
                | "exec"
                | "xmlns"
                | "pause"
                | "sanitizearg"
                | "sanitizematched" => {}
                other => return Err(format!("unknown action `{other}`")),
            }
        }
        Ok(a)
    }
}

fn parse_phase(v: &str) -> Result<u8, String> {
    match v.trim().to_ascii_lowercase().as_str() {
        "1" => Ok(1),
        "2" | "request" => Ok(2),
        "3" => Ok(3),
        "4" | "response" => Ok(4),
        "5" | "logging" => Ok(5),
        other => Err(format!("bad phase `{other}`")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rampart_seclang::parse_actions;

    #[test]
    fn parses_a_crs_action_list() {
        let specs = parse_actions(
            "id:942100,phase:2,block,capture,t:none,t:utf8toUnicode,t:urlDecodeUni,msg:'SQLi',\
             logdata:'Matched Data: %{TX.0}',tag:'a',tag:'b',ver:'OWASP_CRS/4',severity:'CRITICAL',\
             multiMatch,setvar:'tx.sql_injection_score=+%{tx.critical_anomaly_score}',nolog",
        )
        .unwrap();
        let a = Actions::parse(&specs).unwrap();
        assert_eq!((a.id, a.phase, a.severity), (Some(942100), Some(2), Some(2)));
        assert!(a.capture && a.multi_match && a.t_none);
        assert_eq!(a.transforms.len(), 2);
        assert_eq!(a.tags, ["a", "b"]);
        assert_eq!(a.log, Some(false));
        assert!(matches!(a.disruptive, Some(DisruptiveAction::Block)));
        assert!(Actions::parse(&parse_actions("t:bogus").unwrap()).is_err());
        assert!(Actions::parse(&parse_actions("frobnicate").unwrap()).is_err());
    }
}
