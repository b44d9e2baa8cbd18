//! One module per family of checks. `all()` is the list `rampart triage` runs.

pub mod accounts;
pub mod databases;
pub mod firewall;
pub mod integrity;
pub mod network;
pub mod passwords;
pub mod patches;
pub mod persistence;
pub mod ssh;
pub mod web;

use crate::runner::Check;

/// Every check family, in playbook order.
pub fn all() -> Vec<Box<dyn Check>> {
    vec![
        Box::new(web::Web::new()),
        Box::new(patches::Patches),
        Box::new(passwords::Passwords),
        Box::new(databases::Databases),
        Box::new(ssh::Ssh),
        Box::new(firewall::Firewall),
        Box::new(network::Network::new()),
        Box::new(integrity::Integrity),
        Box::new(accounts::Accounts),
        Box::new(persistence::Persistence),
    ]
}
