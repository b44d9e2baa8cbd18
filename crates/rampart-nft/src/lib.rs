//! The firewall. Rampart owns exactly one nftables table, `inet rampart`, and never
//! touches another: everything here is scoped to it. Commands go to `nft` as JSON
//! batches on stdin (`nft -j -f -`), one process per batch, so a batch applies
//! atomically or not at all.
//!
//! `bans` holds the ban sets of `rampart guard`; `baseline` the input policy of
//! `rampart respond firewall`.

pub mod bans;
pub mod baseline;

use rampart_core::cmd::{self, CmdError, Options};
use serde_json::{json, Value};
use std::time::Duration;
use thiserror::Error;

pub const FAMILY: &str = "inet";
pub const TABLE: &str = "rampart";

#[derive(Debug, Error)]
pub enum NftError {
    #[error(transparent)]
    Cmd(#[from] CmdError),
    #[error("nft {what} failed: {message}")]
    Rejected { what: String, message: String },
    #[error("nft printed JSON Rampart could not read: {0}")]
    BadJson(String),
}

/// Runs `nft` with `args`, optionally in the network namespace `netns` (tests and
/// multi-namespace hosts), feeding `input` on stdin.
fn nft(netns: Option<&str>, args: &[&str], input: Option<Vec<u8>>, what: &str) -> Result<Vec<u8>, NftError> {
    let opts = Options {
        timeout: Duration::from_secs(30),
        stdin: input,
        ..Default::default()
    };
    let out = match netns {
        Some(ns) => {
            let mut full = vec!["netns", "exec", ns, "nft"];
            full.extend_from_slice(args);
            cmd::run_with("ip", full, &opts)?
        }
        None => cmd::run_with("nft", args, &opts)?,
    };
    if !out.success() {
        return Err(NftError::Rejected {
            what: what.to_string(),
            message: String::from_utf8_lossy(&out.stderr).trim().to_string(),
        });
    }
    Ok(out.stdout)
}

/// A handle on nftables in one network namespace (`None`: the current one).
#[derive(Debug, Clone, Default)]
pub struct Nft {
    pub netns: Option<String>,
}

impl Nft {
    pub fn new() -> Self {
        Nft { netns: None }
    }

    pub fn in_netns(ns: impl Into<String>) -> Self {
        Nft {
            netns: Some(ns.into()),
        }
    }

    /// Applies a list of JSON commands (`{"add": …}`, `{"delete": …}`…) as one atomic batch.
    pub fn apply(&self, commands: Vec<Value>, what: &str) -> Result<(), NftError> {
        let batch = json!({ "nftables": commands });
        let bytes = serde_json::to_vec(&batch).map_err(|e| NftError::BadJson(e.to_string()))?;
        nft(self.netns.as_deref(), &["-j", "-f", "-"], Some(bytes), what)?;
        Ok(())
    }

    /// The JSON listing of a table, or `None` if the table does not exist.
    pub fn list_table(&self, family: &str, table: &str) -> Result<Option<Value>, NftError> {
        match nft(
            self.netns.as_deref(),
            &["-j", "list", "table", family, table],
            None,
            "list table",
        ) {
            Ok(out) => serde_json::from_slice(&out)
                .map(Some)
                .map_err(|e| NftError::BadJson(e.to_string())),
            Err(NftError::Rejected { message, .. }) if message.contains("No such file") => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// The whole loaded ruleset as JSON (read-only; used by triage).
    pub fn list_ruleset(&self) -> Result<Value, NftError> {
        let out = nft(
            self.netns.as_deref(),
            &["-j", "list", "ruleset"],
            None,
            "list ruleset",
        )?;
        serde_json::from_slice(&out).map_err(|e| NftError::BadJson(e.to_string()))
    }
}

/// `{"add": {"table": {"family": "inet", "name": "rampart"}}}` — adding an existing
/// table is a no-op in nftables, so this is safe at the head of every batch.
pub fn add_table() -> Value {
    json!({"add": {"table": {"family": FAMILY, "name": TABLE}}})
}
