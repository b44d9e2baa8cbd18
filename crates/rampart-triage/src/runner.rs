//! Runs the checks in parallel and gathers one report.

use crate::context::{Context, Out};
use rampart_core::Report;
use std::time::Instant;

pub trait Check: Send + Sync {
    /// The family name, which is also the prefix of its finding ids (`accounts`, `ssh`…).
    fn name(&self) -> &'static str;
    /// Checks that need a running system (processes, sockets, loaded firewall) are
    /// skipped with `--root`.
    fn needs_live(&self) -> bool {
        false
    }
    fn run(&self, ctx: &Context, out: &mut Out);
}

/// Runs every check on its own thread (one alone on the caller's); a check that panics
/// becomes an error of the report, never the end of the run.
pub fn run(ctx: &Context, checks: &[Box<dyn Check>]) -> Report {
    let start = Instant::now();
    let mut report = Report::default();
    let outs: Vec<Out> = if let [check] = checks {
        let check = check.as_ref();
        vec![
            std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| run_one(ctx, check)))
                .unwrap_or_else(|_| crashed(check)),
        ]
    } else {
        run_threads(ctx, checks)
    };
    for out in outs {
        report.findings.extend(out.findings);
        report.errors.extend(out.errors);
        report.skipped.extend(out.skipped);
        report.checks_run += 1;
    }
    report.sort();
    report.elapsed = start.elapsed();
    report
}

fn run_one(ctx: &Context, check: &dyn Check) -> Out {
    let mut out = Out::new(check.name());
    if check.needs_live() && !ctx.host.is_live() {
        out.skip("needs the running system; not available with --root");
    } else {
        check.run(ctx, &mut out);
    }
    out
}

fn crashed(check: &dyn Check) -> Out {
    let mut out = Out::new(check.name());
    out.error(
        check.name(),
        "check crashed; this is a bug in Rampart, please report it",
    );
    out
}

fn run_threads(ctx: &Context, checks: &[Box<dyn Check>]) -> Vec<Out> {
    std::thread::scope(|s| {
        let handles: Vec<_> = checks
            .iter()
            .map(|check| {
                let check = check.as_ref();
                s.spawn(move || run_one(ctx, check))
            })
            .collect();
        handles
            .into_iter()
            .zip(checks)
            .map(|(h, check)| h.join().unwrap_or_else(|_| crashed(check.as_ref())))
            .collect()
    })
}
