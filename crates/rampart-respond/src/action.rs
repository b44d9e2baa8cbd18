//! The `Action` trait: plan → apply → verify → undo.

use crate::env::Env;
use crate::error::Result;
use crate::journal::Entry;

/// What an action would do. Producing it changes nothing on the host.
#[derive(Debug, Clone, Default)]
pub struct Plan {
    /// One line per change, in the order they will be made.
    pub changes: Vec<String>,
    /// Things the operator should know (nothing is refused for them).
    pub warnings: Vec<String>,
    /// The change waits for `rampart respond confirm` and rolls back without it.
    pub needs_confirm: bool,
}

/// A secret produced by an action (a new password): shown once or written to a root-only
/// file by the caller, never logged, never journaled.
#[derive(Clone)]
pub struct Secret {
    pub label: String,
    pub value: String,
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Secret({}: <hidden>)", self.label)
    }
}

#[derive(Debug, Clone, Default)]
pub struct Outcome {
    pub done: Vec<String>,
    pub secrets: Vec<Secret>,
}

pub trait Action {
    /// The action name as written on the command line (`account-lock`).
    fn name(&self) -> &'static str;
    /// Checks the input and the host and says what would change. Every error here comes
    /// before anything changes.
    fn plan(&self, env: &Env) -> Result<Plan>;
    /// Saves the exact "before" state into `entry` and commits it, then changes the host.
    fn apply(&self, env: &Env, entry: &mut Entry) -> Result<Outcome>;
    /// Checks that the host is now as planned.
    fn verify(&self, env: &Env, entry: &Entry) -> Result<()>;
    /// For confirm-or-rollback actions: the step after the operator confirmed (closing
    /// the old SSH port).
    fn confirm(&self, _env: &Env, _entry: &mut Entry) -> Result<Vec<String>> {
        Ok(Vec::new())
    }
    /// Puts the host back as the journal says it was. Works from the journal alone
    /// (after a crash, in another process).
    fn undo(&self, env: &Env, entry: &Entry) -> Result<Vec<String>>;
}
