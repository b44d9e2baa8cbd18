//! One module per family of checks. `all()` is the list `rampart triage` runs.

use crate::runner::Check;

/// Every check family, in playbook order.
pub fn all() -> Vec<Box<dyn Check>> {
    vec![]
}
