//! One module per family of checks. `all()` is the list `rampart triage` runs.

pub mod firewall;
pub mod integrity;
pub mod network;
pub mod patches;

use crate::runner::Check;

/// Every check family, in playbook order.
pub fn all() -> Vec<Box<dyn Check>> {
    vec![
        Box::new(patches::Patches),
        Box::new(firewall::Firewall),
        Box::new(network::Network::new()),
        Box::new(integrity::Integrity),
    ]
}
