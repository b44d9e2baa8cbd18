/// `severity:'CRITICAL'` or `severity:2` → 0 (EMERGENCY) … 7 (DEBUG).
pub(crate) fn parse(v: &str) -> Result<u8, String> {
    let v = v.trim();
    if let Ok(n) = v.parse::<u8>() {
        if n <= 7 {
            return Ok(n);
        }
    }
    NAMES
        .iter()
        .position(|n| n.eq_ignore_ascii_case(v))
        .map(|p| p as u8)
        .ok_or_else(|| format!("unknown severity `{v}`"))
}

pub(crate) const NAMES: [&str; 8] = [
    "EMERGENCY",
    "ALERT",
    "CRITICAL",
    "ERROR",
    "WARNING",
    "NOTICE",
    "INFO",
    "DEBUG",
];

pub(crate) fn name(s: u8) -> &'static str {
    NAMES.get(s as usize).copied().unwrap_or("UNKNOWN")
}

#[cfg(test)]
mod tests {
    #[test]
    fn severities() {
        assert_eq!(super::parse("CRITICAL"), Ok(2));
        assert_eq!(super::parse("5"), Ok(5));
        assert!(super::parse("9").is_err());
        assert_eq!(super::name(4), "WARNING");
    }
}
