//! A rule compiled from a `SecRule`/`SecAction` and its chain, with the phase's defaults merged in.

use std::path::Path;
use std::sync::Arc;

use rampart_seclang::{RuleSpec, Selector, VariableSpec};

use crate::actions::{Actions, Ctl, DisruptiveAction, SetVar};
use crate::macros::Macro;
use crate::operators::Operator;
use crate::screen::RuleScreen;
use crate::transformations::Transform;
use crate::variables::{Exclusion, KeySel, Target, Var};

#[derive(Debug)]
pub(crate) struct Rule {
    pub id: u64,
    pub phase: u8,
    pub file: Arc<str>,
    pub line: usize,
    pub targets: Vec<Target>,
    pub exclusions: Vec<Exclusion>,
    /// Bit set of the variables named in `exclusions` (see [`Var::bit`]), set by the loader.
    pub excluded_vars: u128,
    /// `None` for `SecAction`, which always matches.
    pub operator: Option<Operator>,
    pub negated: bool,
    /// `@rx …` as written, for logs.
    pub operator_text: String,
    pub transforms: Vec<Transform>,
    /// Same id ⇔ same transformation chain (assigned by the loader), for the transformation cache.
    pub chain_id: u32,
    /// Set on head links the rule screen covers (see [`crate::screen`]); the loader then moves it
    /// into the phase list's [`crate::engine::Entry`].
    pub screen: Option<RuleScreen>,
    /// Set by the loader on head links that read one TX variable untransformed: the key and
    /// whether it is a count (`&TX:key`), for a direct look-up before the full evaluation.
    pub tx_check: Option<(String, bool)>,
    pub multi_match: bool,
    pub capture: bool,
    pub msg: Option<Macro>,
    pub logdata: Option<Macro>,
    pub severity: Option<u8>,
    pub tags: Vec<String>,
    pub ver: Option<String>,
    pub rev: Option<String>,
    pub maturity: Option<String>,
    pub accuracy: Option<String>,
    /// Resolved: `block` and "none given" are replaced by the default action's.
    pub disruptive: DisruptiveAction,
    pub status: Option<u16>,
    pub log: bool,
    /// Accepted for compatibility; the proxy writes the audit record of every logged match.
    #[allow(dead_code)]
    pub auditlog: bool,
    pub setvars: Vec<SetVar>,
    pub ctls: Vec<Ctl>,
    pub skip: u32,
    pub skip_after: Option<String>,
    pub chain: Option<Box<Rule>>,
}

/// The defaults a `SecDefaultAction` sets for one phase.
#[derive(Debug)]
pub(crate) struct Defaults {
    pub transforms: Vec<Transform>,
    pub disruptive: DisruptiveAction,
    pub status: Option<u16>,
    pub log: bool,
    pub auditlog: bool,
}

impl Default for Defaults {
    fn default() -> Self {
        // ModSecurity's built-in default action: phase:2,log,auditlog,pass.
        Defaults {
            transforms: Vec::new(),
            disruptive: DisruptiveAction::Pass,
            status: None,
            log: true,
            auditlog: true,
        }
    }
}

impl Defaults {
    pub(crate) fn from_actions(a: &Actions) -> Result<Defaults, String> {
        if a.id.is_some() || a.chain || !a.setvars.is_empty() || a.msg.is_some() || a.skip_after.is_some() {
            return Err("SecDefaultAction may not carry id, chain, setvar, msg or skipAfter".into());
        }
        Ok(Defaults {
            transforms: a.transforms.iter().map(|t| t.1).collect(),
            disruptive: match &a.disruptive {
                None | Some(DisruptiveAction::Block) => DisruptiveAction::Pass,
                Some(d) => d.clone(),
            },
            status: a.status,
            log: a.log.unwrap_or(true),
            auditlog: a.auditlog.unwrap_or(a.log.unwrap_or(true)),
        })
    }
}

pub(crate) fn target_of(v: &VariableSpec) -> Result<Target, String> {
    let var = Var::from_name(&v.name).ok_or_else(|| format!("unknown variable `{}`", v.name))?;
    Ok(Target {
        var,
        sel: selector(var, v.selector.as_ref())?,
        count: v.count,
    })
}

pub(crate) fn exclusion_of(v: &VariableSpec) -> Result<Exclusion, String> {
    let var = Var::from_name(&v.name).ok_or_else(|| format!("unknown variable `{}`", v.name))?;
    Ok(Exclusion {
        var,
        sel: selector(var, v.selector.as_ref())?,
    })
}

fn selector(var: Var, s: Option<&Selector>) -> Result<Option<KeySel>, String> {
    Ok(match s {
        None => None,
        Some(Selector::Key(k)) => Some(KeySel::Key(if var == Var::Xml {
            k.clone()
        } else {
            k.to_ascii_lowercase()
        })),
        Some(Selector::Regex(r)) => Some(KeySel::regex(r)?),
    })
}

/// Compiles a rule (and its chain). `defaults` maps a phase to its default actions.
pub(crate) fn compile(
    spec: &RuleSpec,
    base: &Path,
    defaults: &dyn Fn(u8) -> Option<Arc<Defaults>>,
) -> Result<Rule, (rampart_seclang::Location, String)> {
    compile_link(spec, base, defaults, None)
}

fn compile_link(
    spec: &RuleSpec,
    base: &Path,
    defaults: &dyn Fn(u8) -> Option<Arc<Defaults>>,
    head: Option<(u64, u8)>,
) -> Result<Rule, (rampart_seclang::Location, String)> {
    let err = |m: String| (spec.location.clone(), m);
    let a = Actions::parse(&spec.actions).map_err(err)?;
    let is_action = spec.variables.is_empty();
    let (mut targets, mut exclusions) = (Vec::new(), Vec::new());
    for v in &spec.variables {
        if v.exclude {
            exclusions.push(exclusion_of(v).map_err(err)?);
        } else {
            targets.push(target_of(v).map_err(err)?);
        }
    }
    let (operator, negated, operator_text) = if is_action {
        (None, false, String::new())
    } else {
        let op = &spec.operator;
        let compiled =
            Operator::compile(&op.name, &op.argument, base).map_err(|e| err(format!("@{}: {e}", op.name)))?;
        (
            Some(compiled),
            op.negated,
            format!(
                "{}@{} {}",
                if op.negated { "!" } else { "" },
                op.name,
                op.argument
            ),
        )
    };
    let (id, phase, dflt) = match head {
        Some((id, phase)) => {
            if a.id.is_some() || a.phase.is_some() {
                // ModSecurity refuses these in chained rules too.
                return Err(err("a chained rule may not have its own id or phase".into()));
            }
            (id, phase, None)
        }
        None => {
            let id = a.id.ok_or_else(|| err("rule has no id".into()))?;
            let phase = a.phase.unwrap_or(2);
            (id, phase, Some(defaults(phase).unwrap_or_default()))
        }
    };
    let mut transforms: Vec<Transform> = Vec::new();
    if let Some(d) = &dflt {
        if !a.t_none {
            transforms.extend(d.transforms.iter().copied());
        }
    }
    transforms.extend(a.transforms.iter().map(|t| t.1));
    let disruptive = match (&a.disruptive, &dflt) {
        (Some(DisruptiveAction::Block) | None, Some(d)) => d.disruptive.clone(),
        (Some(DisruptiveAction::Block) | None, None) => DisruptiveAction::Pass,
        (Some(x), _) => x.clone(),
    };
    let log = a.log.or(dflt.as_ref().map(|d| d.log)).unwrap_or(true);
    let auditlog = a
        .auditlog
        .or(a.log)
        .or(dflt.as_ref().map(|d| d.auditlog))
        .unwrap_or(true);
    let chain = match (&spec.chained, a.chain) {
        (Some(next), true) => Some(Box::new(compile_link(next, base, defaults, Some((id, phase)))?)),
        (None, false) => None,
        _ => return Err(err("`chain` and the chained rule do not line up".into())),
    };
    Ok(Rule {
        id,
        phase,
        file: spec.location.file.clone(),
        line: spec.location.line,
        targets,
        exclusions,
        excluded_vars: u128::MAX,
        operator,
        negated,
        operator_text,
        transforms,
        chain_id: 0,
        screen: None,
        tx_check: None,
        multi_match: a.multi_match,
        capture: a.capture,
        msg: a.msg,
        logdata: a.logdata,
        severity: a.severity,
        tags: a.tags,
        ver: a.ver,
        rev: a.rev,
        maturity: a.maturity,
        accuracy: a.accuracy,
        disruptive,
        status: a.status.or(dflt.as_ref().and_then(|d| d.status)),
        log,
        auditlog,
        setvars: a.setvars,
        ctls: a.ctls,
        skip: a.skip,
        skip_after: a.skip_after,
        chain,
    })
}

impl Rule {
    /// The TX variable this rule link alone reads, untransformed, when it is one: a look-up and
    /// the operator decide whether it can match without gathering values.
    pub(crate) fn single_tx_target(&self) -> Option<(String, bool)> {
        match (self.targets.as_slice(), &self.operator) {
            (
                [Target {
                    var: Var::Tx,
                    sel: Some(KeySel::Key(k)),
                    count,
                }],
                Some(_),
            ) if self.transforms.is_empty() && self.exclusions.is_empty() => Some((k.clone(), *count)),
            _ => None,
        }
    }

    pub(crate) fn msg_text(&self) -> Option<&[u8]> {
        self.msg.as_ref().and_then(|m| m.constant())
    }
}
