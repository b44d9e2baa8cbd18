//! One module per subcommand: flags and printing only.

pub mod bans;
pub mod config;
pub mod guard;
pub mod output;
pub mod passwd;
pub mod quarantine;
pub mod respond;
pub mod scan;
pub mod triage;
pub mod waf;
