//! One module per subcommand: flags and printing only.

pub mod output;
pub mod respond;
pub mod triage;
pub mod waf;
