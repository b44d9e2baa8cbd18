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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::detect::Rule;
    use crate::parse::Service;

    #[test]
    fn event_schema() {
        let d = Decision {
            net: "2001:db8::/64".parse().unwrap(),
            addr: "2001:db8::7".parse().unwrap(),
            service: Service::Ssh,
            rule: Rule::Burst,
            failures: 5,
            offence: 2,
            ban_secs: 7200,
            at: 1000,
        };
        let v = ban(&d, "/var/log/auth.log");
        let mut keys: Vec<_> = v.as_object().unwrap().keys().cloned().collect();
        keys.sort();
        assert_eq!(
            keys,
            [
                "addr", "ban_secs", "expires", "failures", "net", "offence", "rule", "service", "source",
                "time", "type"
            ]
        );
        assert_eq!(v["net"], "2001:db8::/64");
        assert_eq!(v["expires"], 8200);
        assert_eq!(v["type"], "ban");
        // Compared as values: key order depends on serde_json's `preserve_order`, which
        // another crate of the workspace may switch on.
        assert_eq!(
            unban("1.2.3.4", 5, "expired"),
            serde_json::json!({"net":"1.2.3.4","reason":"expired","time":5,"type":"unban"})
        );
        assert_eq!(
            ban_text(&d),
            "Banned 2001:db8::/64 for 2h (ssh burst: 5 failures, offence 2)."
        );
    }
}
