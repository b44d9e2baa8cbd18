//! The daemon's status file (`/run/rampart/guard-status.json`), rewritten every
//! second and read by `rampart guard status`.

use crate::detect::DetectCounters;
use crate::engine::Counters;
use serde::{Deserialize, Serialize};
use std::path::Path;

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SourceStatus {
    pub path: String,
    pub open: bool,
    pub offset: u64,
    pub rotations: u64,
    pub truncations: u64,
    pub error: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Status {
    pub pid: u32,
    pub started: i64,
    pub updated: i64,
    pub counters: Counters,
    pub detector: DetectCounters,
    pub active_bans: usize,
    pub enforce_errors: u64,
    pub last_enforce_error: Option<String>,
    pub journal: bool,
    pub sources: Vec<SourceStatus>,
}

impl Status {
    /// Writes atomically (a reader never sees half a file).
    pub fn write(&self, path: &Path) -> std::io::Result<()> {
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir)?;
        }
        let tmp = path.with_extension("json.tmp");
        let bytes = serde_json::to_vec_pretty(self).map_err(std::io::Error::other)?;
        std::fs::write(&tmp, bytes)?;
        std::fs::rename(&tmp, path)
    }

    pub fn read(path: &Path) -> std::io::Result<Status> {
        let bytes = std::fs::read(path)?;
        if bytes.len() > 16 << 20 {
            return Err(std::io::Error::other("status file too large"));
        }
        serde_json::from_slice(&bytes).map_err(std::io::Error::other)
    }
}
