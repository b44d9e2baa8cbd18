//! The parsed form of SecLang: directives with their variables, operator and actions, unevaluated.

use std::fmt;
use std::sync::Arc;

/// Where a directive (or a part of it) starts: file, 1-based line and column.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Location {
    pub file: Arc<str>,
    pub line: usize,
    pub column: usize,
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}:{}", self.file, self.line, self.column)
    }
}

/// A selector after `COLLECTION:`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Selector {
    /// A literal key, e.g. `REQUEST_HEADERS:User-Agent`.
    Key(String),
    /// A regular expression between slashes, e.g. `ARGS:/^id_/`.
    Regex(String),
}

/// One entry of a rule's target list, e.g. `!REQUEST_COOKIES:/__utm/` or `&ARGS`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VariableSpec {
    /// `!`: removes matching entries from the rule's targets.
    pub exclude: bool,
    /// `&`: the number of entries instead of their values.
    pub count: bool,
    /// Upper-cased collection or variable name.
    pub name: String,
    pub selector: Option<Selector>,
}

impl fmt::Display for VariableSpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.exclude {
            f.write_str("!")?;
        }
        if self.count {
            f.write_str("&")?;
        }
        f.write_str(&self.name)?;
        match &self.selector {
            Some(Selector::Key(k)) => write!(f, ":{k}"),
            Some(Selector::Regex(r)) => write!(f, ":/{r}/"),
            None => Ok(()),
        }
    }
}

/// `@name argument`, possibly negated with `!`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OperatorSpec {
    pub negated: bool,
    /// The operator name as written (without `@`); `rx` when the rule gives a bare pattern.
    pub name: String,
    pub argument: String,
}

/// One action, e.g. `id:942100`, `msg:'…'`, `t:none`, `block`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ActionSpec {
    pub name: String,
    /// The value with surrounding quotes removed and `\'` unescaped.
    pub value: Option<String>,
}

/// A `SecRule` with its chain continuation (if the actions contain `chain`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RuleSpec {
    pub location: Location,
    pub variables: Vec<VariableSpec>,
    pub operator: OperatorSpec,
    pub actions: Vec<ActionSpec>,
    /// The next rule of the chain, when this one carries `chain`.
    pub chained: Option<Box<RuleSpec>>,
}

/// A rule id or an inclusive range of ids, as `SecRuleRemoveById` and `ctl:ruleRemoveById` take them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IdRange {
    pub start: u64,
    pub end: u64,
}

impl IdRange {
    pub fn contains(&self, id: u64) -> bool {
        self.start <= id && id <= self.end
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Directive {
    Rule(RuleSpec),
    /// `SecAction`: a rule that always matches.
    Action {
        location: Location,
        actions: Vec<ActionSpec>,
    },
    Marker {
        location: Location,
        name: String,
    },
    DefaultAction {
        location: Location,
        actions: Vec<ActionSpec>,
    },
    RemoveById {
        location: Location,
        ranges: Vec<IdRange>,
    },
    RemoveByTag {
        location: Location,
        tag: String,
    },
    RemoveByMsg {
        location: Location,
        msg: String,
    },
    UpdateTargetById {
        location: Location,
        ranges: Vec<IdRange>,
        targets: Vec<VariableSpec>,
    },
    UpdateTargetByTag {
        location: Location,
        tag: String,
        targets: Vec<VariableSpec>,
    },
    UpdateActionById {
        location: Location,
        id: u64,
        actions: Vec<ActionSpec>,
    },
    /// `Include`/`IncludeOptional`: resolved by [`crate::load_file`], kept as-is by [`crate::parse`].
    Include {
        location: Location,
        pattern: String,
        optional: bool,
    },
    /// Any other configuration directive (`SecRuleEngine On`, `SecRequestBodyLimit 13107200`, …),
    /// with its name as written and its arguments unquoted.
    Config {
        location: Location,
        name: String,
        args: Vec<String>,
    },
}

impl Directive {
    pub fn location(&self) -> &Location {
        match self {
            Directive::Rule(r) => &r.location,
            Directive::Action { location, .. }
            | Directive::Marker { location, .. }
            | Directive::DefaultAction { location, .. }
            | Directive::RemoveById { location, .. }
            | Directive::RemoveByTag { location, .. }
            | Directive::RemoveByMsg { location, .. }
            | Directive::UpdateTargetById { location, .. }
            | Directive::UpdateTargetByTag { location, .. }
            | Directive::UpdateActionById { location, .. }
            | Directive::Include { location, .. }
            | Directive::Config { location, .. } => location,
        }
    }
}
