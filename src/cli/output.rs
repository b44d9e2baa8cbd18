//! Printing reports: human text on a terminal, JSON lines with `--json`.

use rampart_core::report::Report;
use rampart_core::Severity;
use std::io::{IsTerminal, Write};

/// Prints `report` and returns the exit code it calls for.
pub fn print_report(report: &Report, title: &str, json: bool, fail_on: Severity) -> anyhow::Result<i32> {
    let stdout = std::io::stdout();
    let mut lock = stdout.lock();
    if json {
        for record in report.records(fail_on) {
            serde_json::to_writer(&mut lock, &record)?;
            lock.write_all(b"\n")?;
        }
    } else {
        let colour = stdout.is_terminal() && std::env::var_os("NO_COLOR").is_none();
        lock.write_all(rampart_core::render::human(report, title, fail_on, colour).as_bytes())?;
    }
    lock.flush()?;
    Ok(report.exit_code(fail_on))
}
