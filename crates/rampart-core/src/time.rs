//! Calendar dates for reports and logs, without a date crate: Unix time to the
//! proleptic Gregorian calendar in UTC.

/// Days since 1970-01-01 to (year, month, day) (Howard Hinnant's `civil_from_days`).
pub fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d)
}

/// Unix seconds to (year, month, day, hour, minute, second) in UTC.
pub fn utc_parts(secs: i64) -> (i64, u32, u32, u32, u32, u32) {
    let (y, m, d) = civil_from_days(secs.div_euclid(86_400));
    let rem = secs.rem_euclid(86_400) as u32;
    (y, m, d, rem / 3600, rem / 60 % 60, rem % 60)
}

/// `2026-11-25 16:05 UTC`.
pub fn utc_minute(secs: i64) -> String {
    let (y, m, d, h, mi, _) = utc_parts(secs);
    format!("{y:04}-{m:02}-{d:02} {h:02}:{mi:02} UTC")
}

/// `2026-11-25T16:05:09Z` (RFC 3339).
pub fn utc_rfc3339(secs: i64) -> String {
    let (y, m, d, h, mi, s) = utc_parts(secs);
    format!("{y:04}-{m:02}-{d:02}T{h:02}:{mi:02}:{s:02}Z")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_dates() {
        assert_eq!(civil_from_days(0), (1970, 1, 1));
        assert_eq!(civil_from_days(20_782), (2026, 11, 25));
        assert_eq!(civil_from_days(11_016), (2000, 2, 29));
        assert_eq!(civil_from_days(-1), (1969, 12, 31));
        let t = 20_782 * 86_400 + 16 * 3600 + 5 * 60 + 9;
        assert_eq!(utc_minute(t), "2026-11-25 16:05 UTC");
        assert_eq!(utc_rfc3339(t), "2026-11-25T16:05:09Z");
        assert_eq!(utc_rfc3339(-1), "1969-12-31T23:59:59Z");
    }
}
