//! Timestamps of the formats the parsers meet, as Unix seconds. Zone-less times are
//! read as UTC: detection only uses differences, and live following uses the clock.

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm).
pub fn days_from_civil(y: i32, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y - 1 } else { y } as i64;
    let era = if y >= 0 { y } else { y - 399 } / 400;
    let yoe = y - era * 400;
    let m = m as i64;
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + d as i64 - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146097 + doe - 719468
}

pub fn current_year() -> i32 {
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0);
    year_of(secs)
}

pub fn year_of(secs: i64) -> i32 {
    let days = secs.div_euclid(86400);
    // Inverse of days_from_civil, year part only.
    let z = days + 719468;
    let era = if z >= 0 { z } else { z - 146096 } / 146097;
    let doe = z - era * 146097;
    let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    (yoe + era * 400 + if m <= 2 { 1 } else { 0 }) as i32
}

fn num(b: &[u8]) -> Option<u32> {
    if b.is_empty() {
        return None;
    }
    let mut n = 0u32;
    for &c in b {
        if !c.is_ascii_digit() {
            return None;
        }
        n = n * 10 + (c - b'0') as u32;
    }
    Some(n)
}

pub fn month(b: &[u8]) -> Option<u32> {
    Some(match b {
        b"Jan" => 1,
        b"Feb" => 2,
        b"Mar" => 3,
        b"Apr" => 4,
        b"May" => 5,
        b"Jun" => 6,
        b"Jul" => 7,
        b"Aug" => 8,
        b"Sep" => 9,
        b"Oct" => 10,
        b"Nov" => 11,
        b"Dec" => 12,
        _ => return None,
    })
}

/// `HH:MM:SS` → seconds of the day.
pub fn hms(b: &[u8]) -> Option<i64> {
    if b.len() < 8 || b[2] != b':' || b[5] != b':' {
        return None;
    }
    let (h, m, s) = (num(&b[0..2])?, num(&b[3..5])?, num(&b[6..8])?);
    (h < 24 && m < 60 && s < 61).then_some((h * 3600 + m * 60 + s) as i64)
}

/// `YYYY-MM-DD` (or `YYYY/MM/DD`) → days.
pub fn ymd(b: &[u8]) -> Option<i64> {
    if b.len() < 10 || b[4] != b[7] || !(b[4] == b'-' || b[4] == b'/') {
        return None;
    }
    let (y, m, d) = (num(&b[0..4])?, num(&b[5..7])?, num(&b[8..10])?);
    ((1..=12).contains(&m) && (1..=31).contains(&d)).then(|| days_from_civil(y as i32, m, d))
}

/// A zone offset `Z`, `+hh:mm`, `-hhmm` → seconds east of UTC.
pub fn zone(b: &[u8]) -> Option<i64> {
    match b.first()? {
        b'Z' => Some(0),
        sign @ (b'+' | b'-') => {
            let r = &b[1..];
            let (h, m) = match r.len() {
                5 if r[2] == b':' => (num(&r[0..2])?, num(&r[3..5])?),
                4 => (num(&r[0..2])?, num(&r[2..4])?),
                2 => (num(r)?, 0),
                _ => return None,
            };
            let off = (h * 3600 + m * 60) as i64;
            Some(if *sign == b'-' { -off } else { off })
        }
        _ => None,
    }
}

/// The timestamp at the start of an application log line, for the formats met:
/// `2026-11-25 14:57:21`, `2026/11/25 14:57:53`, `Wed Nov 25 14:58:01 2026` (vsftpd).
pub fn leading(line: &[u8], _year: i32) -> Option<i64> {
    if line.len() >= 19 && line[0].is_ascii_digit() {
        let days = ymd(&line[..10])?;
        return Some(days * 86400 + hms(&line[11..19])?);
    }
    if line.len() >= 24 && line[3] == b' ' && line[7] == b' ' {
        let m = month(&line[4..7])?;
        let d = num(line[8..10].trim_ascii_start())?;
        let y = num(&line[20..24])?;
        return Some(days_from_civil(y as i32, m, d) * 86400 + hms(&line[11..19])?);
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn civil_round_trip() {
        assert_eq!(days_from_civil(1970, 1, 1), 0);
        assert_eq!(days_from_civil(2026, 11, 25), 20782);
        assert_eq!(year_of(20782 * 86400), 2026);
        assert_eq!(year_of(days_from_civil(2024, 12, 31) * 86400 + 86399), 2024);
        assert_eq!(year_of(days_from_civil(2025, 1, 1) * 86400), 2025);
    }

    #[test]
    fn leading_formats() {
        let t = days_from_civil(2026, 11, 25) * 86400 + 14 * 3600 + 58 * 60 + 1;
        assert_eq!(leading(b"Wed Nov 25 14:58:01 2026 [pid 1]", 0), Some(t));
        assert_eq!(leading(b"2026-11-25 14:58:01 4 [Warning]", 0), Some(t));
        assert_eq!(leading(b"2026/11/25 14:58:01 [error]", 0), Some(t));
        assert_eq!(leading(b"Failed password", 0), None);
    }
}
