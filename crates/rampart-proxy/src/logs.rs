//! The ModSecurity-style error log and the JSON-lines audit log.
//!
//! Each transaction's lines go out in one `write` so concurrent transactions never
//! interleave inside a line, and they are written before the client's connection is
//! closed, so a reader that saw the response also finds the log lines.

use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::{SystemTime, UNIX_EPOCH};

pub struct LogFile {
    path: PathBuf,
    file: Mutex<File>,
}

impl LogFile {
    pub fn open(path: &Path) -> std::io::Result<LogFile> {
        let file = open_append(path)?;
        Ok(LogFile {
            path: path.to_path_buf(),
            file: Mutex::new(file),
        })
    }

    /// Reopens the file (after logrotate moved it away).
    pub fn reopen(&self) -> std::io::Result<()> {
        let file = open_append(&self.path)?;
        *self.file.lock().unwrap_or_else(|e| e.into_inner()) = file;
        Ok(())
    }

    /// Appends whole lines; a failed write is reported once per call, never fatal.
    pub fn write_lines<S: AsRef<str>>(&self, lines: &[S]) {
        if lines.is_empty() {
            return;
        }
        let mut buf = String::with_capacity(lines.iter().map(|l| l.as_ref().len() + 1).sum());
        for l in lines {
            // A line break inside a line would forge a log entry: never write one.
            buf.extend(
                l.as_ref()
                    .chars()
                    .map(|c| if c == '\n' || c == '\r' { ' ' } else { c }),
            );
            buf.push('\n');
        }
        let mut f = self.file.lock().unwrap_or_else(|e| e.into_inner());
        if let Err(e) = f.write_all(buf.as_bytes()) {
            tracing::warn!("Cannot write to {}: {e}.", self.path.display());
        }
    }
}

fn open_append(path: &Path) -> std::io::Result<File> {
    let mut opts = OpenOptions::new();
    opts.create(true).append(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        // Logs may hold request data: readable by root only.
        opts.mode(0o600);
    }
    opts.open(path)
}

/// Apache's error-log timestamp: `[Mon Nov 23 16:15:18.123456 2026]` (UTC).
pub fn apache_timestamp(t: SystemTime) -> String {
    let d = t.duration_since(UNIX_EPOCH).unwrap_or_default();
    let secs = d.as_secs();
    let days = (secs / 86_400) as i64;
    let rem = secs % 86_400;
    let (y, m, day) = rampart_core::time::civil_from_days(days);
    const WD: [&str; 7] = ["Thu", "Fri", "Sat", "Sun", "Mon", "Tue", "Wed"];
    const MO: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    format!(
        "[{} {} {:02} {:02}:{:02}:{:02}.{:06} {}]",
        WD[(days.rem_euclid(7)) as usize],
        MO[(m - 1) as usize],
        day,
        rem / 3600,
        rem % 3600 / 60,
        rem % 60,
        d.subsec_micros(),
        y
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn formats_apache_timestamps() {
        let t = UNIX_EPOCH + Duration::from_secs(1_795_450_518) + Duration::from_micros(123_456);
        assert_eq!(apache_timestamp(t), "[Mon Nov 23 16:15:18.123456 2026]");
        assert_eq!(apache_timestamp(UNIX_EPOCH), "[Thu Jan 01 00:00:00.000000 1970]");
    }

    #[test]
    fn writes_lines_without_embedded_breaks() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("e.log");
        let log = LogFile::open(&p).unwrap();
        log.write_lines(&["a\nforged", "b"]);
        assert_eq!(std::fs::read_to_string(&p).unwrap(), "a forged\nb\n");
    }
}
