//! SecLang rule engine, ModSecurity compatible, that runs the OWASP Core Rule Set.
//!
//! [`Engine`] holds compiled rules (`Send + Sync`); each HTTP exchange gets a [`Transaction`] that is
//! fed the request and response piece by piece and evaluates phases 1–5. The layout follows
//! Coraza: one file per operator, transformation and action kind.
//!
//! Semantics follow ModSecurity v2 where CRS depends on them: regexes run in PCRE byte mode with
//! DOTALL (`regex::bytes`, Unicode off; possessive quantifiers and atomic groups rewritten), a
//! rule's non-disruptive actions run once per matched value as soon as its chain link matches,
//! `block` takes the phase's `SecDefaultAction`, REQUEST_FILENAME is percent-decoded, and only
//! logging or disruptive matches are reported.
//!
//! Known limits: `XML:` understands the XPath expressions CRS uses (`/*` text nodes, `//@*`
//! attribute values) and treats any other as `/*`; persistent collections (`initcol`, IP, GLOBAL,
//! SESSION) live for one transaction; GEO is empty; `@rbl`, `@geoLookup`, `@inspectFile`,
//! `@verifyCC`/`CPF`/`SSN`, `@validateSchema`/`DTD`, `@fuzzyHash` and `SecRuleUpdateActionById`
//! are load errors rather than silently ignored.

mod actions;
mod body;
mod conf_files;
mod config;
mod engine;
#[cfg(test)]
mod fuzz_tests;
mod macros;
mod operators;
mod rule;
mod screen;
mod screen_memo;
mod template;
mod transaction;
mod transformations;
mod variables;

pub use conf_files::conf_files_in;
pub use config::{AuditEngineMode, ConnInfo, EngineConfig, LimitAction, RuleEngineMode};
pub use engine::{Engine, LoadError};
pub use rampart_seclang::Location;
pub use transaction::{Transaction, TxBuffers};

/// What the caller must do to the exchange.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Intervention {
    pub status: u16,
    pub action: Disruptive,
    /// The rule that decided it; `None` for limit violations.
    pub rule_id: Option<u64>,
    /// The error-log line that explains it.
    pub log: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Disruptive {
    Deny,
    /// Close the connection without a response.
    Drop,
    Redirect(String),
}

/// A rule (chain) that matched.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MatchedRule {
    pub id: u64,
    pub phase: u8,
    pub msg: String,
    pub data: String,
    pub severity: Option<u8>,
    pub tags: Vec<String>,
    pub matched_var: String,
    pub matched_var_name: String,
    /// Whether the rule writes to the error log (`log`, not `nolog`).
    pub log: bool,
    /// Whether the rule's action is deny/drop/redirect (whether or not the engine blocked).
    pub disruptive: bool,
}
