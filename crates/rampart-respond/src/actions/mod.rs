//! One module per action; [`build`] maps an [`ActionSpec`] to its implementation. The
//! names are the ones triage findings put in their `action` field (notes/ACTIONS.md).

use crate::action::Action;
use crate::error::{RespondError, Result};
use crate::spec::ActionSpec;

pub mod account;
pub mod db;
pub mod firewall;
pub mod kill;
pub mod passwd;
pub mod ssh_harden;
pub mod ssh_port;
pub mod webroot;

/// Every action name `rampart respond` accepts.
pub const NAMES: &[&str] = &[
    "passwd-rotate",
    "account-lock",
    "ssh-port",
    "firewall-baseline",
    "kill-quarantine",
    "webroot-readonly",
    "db-rotate",
    "ssh-harden",
];

pub fn build(spec: &ActionSpec) -> Result<Box<dyn Action>> {
    Ok(match spec.name.as_str() {
        "passwd-rotate" => Box::new(passwd::PasswdRotate::from_spec(spec)?),
        "account-lock" => Box::new(account::AccountLock::from_spec(spec)?),
        "firewall-baseline" => Box::new(firewall::FirewallBaseline::from_spec(spec)?),
        "ssh-port" => Box::new(ssh_port::SshPort::from_spec(spec)?),
        "kill-quarantine" => Box::new(kill::KillQuarantine::from_spec(spec)?),
        "db-rotate" => Box::new(db::DbRotate::from_spec(spec)?),
        "ssh-harden" => Box::new(ssh_harden::SshHarden::from_spec(spec)?),
        "webroot-readonly" => Box::new(webroot::WebrootReadonly::from_spec(spec)?),
        other => {
            return Err(RespondError::Input(format!(
                "unknown action {other:?} (known: {})",
                NAMES.join(", ")
            )))
        }
    })
}

/// Runs a tool and turns a non-zero exit into an error naming it and its first stderr line.
pub(crate) fn run_tool(program: &str, args: &[&str], stdin: Option<Vec<u8>>) -> Result<String> {
    let out = rampart_core::cmd::run_with(
        program,
        args,
        &rampart_core::cmd::Options {
            stdin,
            ..Default::default()
        },
    )?;
    if !out.success() {
        return Err(RespondError::failed(
            program,
            format!("exited with {}: {}", out.status, out.stderr_line()),
        ));
    }
    Ok(out.stdout_text())
}
