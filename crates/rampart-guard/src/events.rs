//! Ban and unban events: one JSON object per line (`--json-events`, `--replay --json`)
//! and one log line each. Schema (stable, tested):
//!
//! - `{"type":"ban","time","net","addr","service","rule","failures","offence","ban_secs","expires","source"}`
//! - `{"type":"unban","time","net","reason"}` — `reason` is `expired` or `manual`.
//!
//! Times are Unix seconds.

use crate::detect::Decision;
use serde_json::{json, Value};

pub fn ban(d: &Decision, source: &str) -> Value {
    json!({
        "type": "ban",
        "time": d.at,
        "net": d.net.to_string(),
        "addr": d.addr.to_string(),
        "service": d.service.name(),
        "rule": d.rule.name(),
        "failures": d.failures,
        "offence": d.offence,
        "ban_secs": d.ban_secs,
        "expires": d.at + d.ban_secs as i64,
        "source": source,
    })
}

pub fn unban(net: &str, time: i64, reason: &str) -> Value {
    json!({"type": "unban", "time": time, "net": net, "reason": reason})
}

/// "1h", "2d", "90s".
pub fn human_secs(s: u64) -> String {
    match s {
        s if s % 604800 == 0 => format!("{}w", s / 604800),
        s if s % 86400 == 0 => format!("{}d", s / 86400),
        s if s % 3600 == 0 => format!("{}h", s / 3600),
        s if s % 60 == 0 => format!("{}m", s / 60),
        s => format!("{s}s"),
    }
}

pub fn ban_text(d: &Decision) -> String {
    format!(
        "Banned {} for {} ({} {}: {} failures, offence {}).",
        d.net,
        human_secs(d.ban_secs),
        d.service.name(),
        d.rule.name(),
        d.failures,
        d.offence
    )
}
