//! `rampart scan`: webshells and malware in web roots and temporary directories.

use super::output::print_report;
use anyhow::Context as _;
use rampart_core::report::exit;
use rampart_core::{CheckError, Evidence, Finding, Report, Severity, Skipped, Step};
use rampart_quarantine::Quarantine;
use rampart_scan::{Detection, Engine, Options, Progress};
use std::io::IsTerminal;
use std::path::PathBuf;
use std::sync::atomic::Ordering;
use std::sync::Mutex;
use std::time::Duration;

/// Always scanned when no path is given: where droppers and tools land.
pub const TEMP_ROOTS: &[&str] = &["/tmp", "/var/tmp", "/dev/shm"];
/// Scanned when no path is given and no nginx/Apache configuration names a web root.
pub const USUAL_WEB_ROOTS: &[&str] = &["/var/www", "/srv/www", "/usr/share/nginx/html"];

/// The roots of a scan without paths: the web roots triage finds in the nginx and Apache
/// configs of `host` (or the usual locations when none is configured), plus the temporary
/// directories — those that exist — and a sentence saying where they came from.
pub fn default_roots(host: &rampart_core::HostRoot) -> (Vec<PathBuf>, String) {
    let configured = rampart_triage::checks::web::web_roots(host);
    let (web, from): (Vec<String>, &str) = if configured.is_empty() {
        (
            USUAL_WEB_ROOTS.iter().map(|s| s.to_string()).collect(),
            "no web root in nginx/Apache configs; usual locations",
        )
    } else {
        (configured, "web roots from nginx/Apache configs")
    };
    let exists = |p: &String| host.resolve(p).map(|l| l.exists()).unwrap_or(false);
    let web: Vec<String> = web.into_iter().filter(exists).collect();
    let tmp: Vec<String> = TEMP_ROOTS.iter().map(|s| s.to_string()).filter(exists).collect();
    let note = format!(
        "Scanning {from}: {}; temporary directories: {}.",
        if web.is_empty() {
            "(none exist)".to_string()
        } else {
            web.join(", ")
        },
        if tmp.is_empty() {
            "(none exist)".to_string()
        } else {
            tmp.join(", ")
        }
    );
    let roots = web
        .iter()
        .chain(tmp.iter())
        .filter_map(|p| host.resolve(p).ok())
        .collect();
    (roots, note)
}

#[derive(clap::Args)]
pub struct Args {
    /// Files or directories to scan (default: the web roots named by the nginx and Apache
    /// configs — or /var/www, /srv/www, /usr/share/nginx/html when none is — plus /tmp,
    /// /var/tmp, /dev/shm; those that exist).
    paths: Vec<PathBuf>,
    /// JSON lines: one finding per detection, skipped counts, errors, then a summary.
    #[arg(long)]
    json: bool,
    /// Exit 1 when a detection at or above this severity is found.
    #[arg(long, value_name = "SEVERITY", default_value = "high")]
    fail_on: Severity,
    /// Also load every *.yar / *.yara file of DIR (the operator's own rules).
    #[arg(long, value_name = "DIR")]
    rules: Option<PathBuf>,
    /// Skip (and count) files larger than this many bytes.
    #[arg(long, value_name = "BYTES", default_value_t = 32 << 20)]
    max_size: u64,
    /// Worker threads (default: one per CPU).
    #[arg(long, default_value_t = 0)]
    threads: usize,
    /// Move every detection at or above --fail-on into the quarantine store.
    #[arg(long)]
    quarantine: bool,
    /// The quarantine store (root-only).
    #[arg(long, value_name = "DIR", default_value = Quarantine::DEFAULT_DIR)]
    quarantine_dir: PathBuf,
    /// SHA-256 list (one per line) of known webshells: always detected.
    #[arg(long, value_name = "FILE")]
    known_bad: Option<PathBuf>,
    /// SHA-256 list of known-good files: never reported.
    #[arg(long, value_name = "FILE")]
    known_good: Option<PathBuf>,
    /// Keep watching the paths (inotify) and scan each file when it is written or moved in.
    #[arg(long)]
    watch: bool,
    /// Report suspicious files (score 50-99) as medium findings too.
    #[arg(long)]
    suspicious: bool,
}

pub fn severity_of(score: u32) -> Option<Severity> {
    match score {
        s if s >= 2 * rampart_scan::DETECT => Some(Severity::Critical),
        s if s >= rampart_scan::DETECT => Some(Severity::High),
        s if s >= rampart_script::SUSPICIOUS => Some(Severity::Medium),
        _ => None,
    }
}

/// The finding for one detection.
pub fn finding(d: &Detection, sev: Severity) -> Finding {
    let path = d.path.display().to_string();
    let id = if sev >= Severity::High {
        "malware.webshell"
    } else {
        "malware.suspicious-script"
    };
    let title = if sev >= Severity::High {
        format!("Webshell or backdoor: {path} (score {})", d.verdict.score)
    } else {
        format!("Suspicious script: {path} (score {})", d.verdict.score)
    };
    let mut f = Finding::new(id, sev, Step::Malware, title).remedy(
        "Take the file out of service (`rampart scan --quarantine` moves it into a restorable store), \
         find how it was written (web server logs around its mtime, the upload path), rotate the \
         site's credentials, and restore the site from a known-good copy.",
    );
    for r in &d.verdict.rules {
        f = f.evidence(Evidence::file(
            &path,
            None,
            format!(
                "rule {}:{} (+{}): {}",
                r.namespace, r.rule, r.score, r.description
            ),
        ));
    }
    let mut reasons: Vec<_> = d.verdict.reasons.iter().collect();
    reasons.sort_by(|a, b| b.weight.cmp(&a.weight).then(a.line.cmp(&b.line)));
    for r in reasons.into_iter().take(8) {
        let line = (r.line > 0 && r.layer == 0).then_some(r.line as u64);
        let layer = if r.layer > 0 {
            format!(" [decoded layer {}, line {}]", r.layer, r.line)
        } else {
            String::new()
        };
        f = f.evidence(Evidence::file(
            &path,
            line,
            format!("{} (+{}): {}{layer}", r.signal, r.weight, r.detail),
        ));
    }
    if d.verdict.known_bad {
        f = f.evidence(Evidence::file(&path, None, "SHA-256 is on the known-bad list"));
    }
    if d.nlink > 1 {
        f = f.evidence(Evidence::file(
            &path,
            None,
            format!(
                "has {} hard links: other names may be outside the scanned tree; not moved",
                d.nlink
            ),
        ));
    }
    f
}

fn build_engine(args: &Args) -> anyhow::Result<Engine> {
    let mut engine = Engine::new(args.rules.as_deref()).context("compiling YARA rules")?;
    if let Some(p) = &args.known_bad {
        engine.load_hashes(p, true).context("--known-bad")?;
    }
    if let Some(p) = &args.known_good {
        engine.load_hashes(p, false).context("--known-good")?;
    }
    Ok(engine)
}

pub fn run(args: Args) -> anyhow::Result<i32> {
    let roots: Vec<PathBuf> = if args.paths.is_empty() {
        let (roots, note) = default_roots(&rampart_core::HostRoot::live());
        eprintln!("{note}");
        roots
    } else {
        args.paths.clone()
    };
    let engine = build_engine(&args)?;
    if args.watch {
        return watch_cmd::run(&args_watch(&args), &engine, &roots);
    }
    let opts = Options {
        max_file_size: args.max_size,
        threads: args.threads,
        one_file_system: true,
    };
    let progress = Progress::default();
    let detections: Mutex<Vec<Detection>> = Mutex::new(Vec::new());
    let show_bar = std::io::stderr().is_terminal() && !args.json;
    let done = std::sync::atomic::AtomicBool::new(false);
    let summary = std::thread::scope(|s| {
        if show_bar {
            s.spawn(|| {
                let bar = indicatif::ProgressBar::new_spinner();
                bar.set_draw_target(indicatif::ProgressDrawTarget::stderr());
                while !done.load(Ordering::Relaxed) {
                    bar.set_message(format!(
                        "{} files, {} MB scanned",
                        progress.files.load(Ordering::Relaxed),
                        progress.bytes.load(Ordering::Relaxed) >> 20
                    ));
                    bar.tick();
                    std::thread::sleep(Duration::from_millis(100));
                }
                bar.finish_and_clear();
            });
        }
        let sum = rampart_scan::scan(&roots, &engine, &opts, &progress, &|d| {
            if severity_of(d.verdict.score).is_some() {
                detections.lock().unwrap_or_else(|e| e.into_inner()).push(d);
            }
        });
        done.store(true, Ordering::Relaxed);
        sum
    });
    let mut report = Report {
        checks_run: 1,
        elapsed: summary.elapsed,
        ..Default::default()
    };
    let store = if args.quarantine {
        Some(
            Quarantine::open(&args.quarantine_dir)
                .with_context(|| format!("opening {}", args.quarantine_dir.display()))?,
        )
    } else {
        None
    };
    let mut dets = detections.into_inner().unwrap_or_else(|e| e.into_inner());
    dets.sort_by(|a, b| a.path.cmp(&b.path));
    for d in &dets {
        let Some(sev) = severity_of(d.verdict.score) else {
            continue;
        };
        if sev == Severity::Medium && !args.suspicious && args.fail_on > Severity::Medium {
            continue;
        }
        let mut f = finding(d, sev);
        if let (Some(q), true) = (&store, sev >= args.fail_on) {
            let reason = format!("rampart scan: score {}", d.verdict.score);
            match q.quarantine_checked(&d.path, &reason, Some((d.dev, d.ino))) {
                Ok(item) => {
                    f = f.evidence(Evidence::file(
                        d.path.display().to_string(),
                        None,
                        format!(
                            "quarantined as {} (restore: rampart quarantine restore {})",
                            item.id, item.id
                        ),
                    ))
                }
                Err(e) => report.errors.push(CheckError {
                    check: "scan.quarantine".into(),
                    subject: d.path.display().to_string(),
                    message: e.to_string(),
                }),
            }
        }
        report.findings.push(f);
    }
    for (reason, n) in &summary.skipped {
        report.skipped.push(Skipped {
            check: "scan".into(),
            reason: format!("{n} file(s) skipped: {reason}"),
        });
    }
    for (path, msg) in &summary.errors {
        report.errors.push(CheckError {
            check: "scan".into(),
            subject: path.display().to_string(),
            message: msg.clone(),
        });
    }
    report.sort();
    let title = format!(
        "Rampart scan of {} ({} files, {} MB in {:.1} s)",
        roots
            .iter()
            .map(|p| p.display().to_string())
            .collect::<Vec<_>>()
            .join(", "),
        summary.files_scanned,
        summary.bytes_scanned >> 20,
        summary.elapsed.as_secs_f64()
    );
    let code = print_report(&report, &title, args.json, args.fail_on)?;
    Ok(if code == exit::CLEAN && roots.is_empty() {
        exit::CLEAN
    } else {
        code
    })
}

fn args_watch(args: &Args) -> watch_cmd::WatchArgs {
    watch_cmd::WatchArgs {
        json: args.json,
        quarantine: args.quarantine,
        quarantine_dir: args.quarantine_dir.clone(),
        max_size: args.max_size,
        fail_on: args.fail_on,
    }
}

/// `rampart scan --watch`: the real-time watcher in the foreground.
mod watch_cmd {
    use rampart_core::Severity;
    use rampart_quarantine::Quarantine;
    use rampart_scan::watch::{self, Event, WatchOptions};
    use rampart_scan::Engine;
    use std::path::PathBuf;
    use std::sync::atomic::AtomicBool;

    pub struct WatchArgs {
        pub json: bool,
        pub quarantine: bool,
        pub quarantine_dir: PathBuf,
        pub max_size: u64,
        pub fail_on: Severity,
    }

    pub fn run(args: &WatchArgs, engine: &Engine, roots: &[PathBuf]) -> anyhow::Result<i32> {
        let store = if args.quarantine {
            Some(Quarantine::open(&args.quarantine_dir)?)
        } else {
            None
        };
        let stop = AtomicBool::new(false);
        let threshold = match args.fail_on {
            Severity::Critical => 2 * rampart_scan::DETECT,
            Severity::High => rampart_scan::DETECT,
            _ => rampart_script::SUSPICIOUS,
        };
        let opts = WatchOptions {
            max_file_size: args.max_size,
            quarantine: store.as_ref(),
            threshold,
            stop: &stop,
        };
        let json = args.json;
        watch::run(roots, engine, &opts, &mut |ev| print_event(json, ev))?;
        Ok(0)
    }

    fn print_event(json: bool, ev: Event) {
        let line = match ev {
            Event::Ready { dirs } => {
                if json {
                    serde_json::json!({"type": "ready", "dirs": dirs})
                } else {
                    eprintln!("Watching {dirs} directories.");
                    return;
                }
            }
            Event::Clean { .. } => return,
            Event::Detection {
                detection,
                quarantined,
                ..
            } => {
                let q = match &quarantined {
                    Some(Ok(item)) => serde_json::json!({"id": item.id}),
                    Some(Err(e)) => serde_json::json!({"error": e}),
                    None => serde_json::Value::Null,
                };
                if !json {
                    let sev = super::severity_of(detection.verdict.score).unwrap_or(Severity::Medium);
                    let f = super::finding(&detection, sev);
                    println!("{}: {}", sev, f.title);
                    for e in &f.evidence {
                        println!("    {}: {}", e.location, e.detail);
                    }
                    match quarantined {
                        Some(Ok(item)) => println!("    quarantined as {}", item.id),
                        Some(Err(e)) => println!("    NOT quarantined: {e}"),
                        None => {}
                    }
                    return;
                }
                serde_json::json!({"type": "detection", "path": detection.path, "score": detection.verdict.score,
                    "rules": detection.verdict.rules, "reasons": detection.verdict.reasons, "quarantine": q})
            }
            Event::WatchLimit { path } => {
                serde_json::json!({"type": "error", "check": "scan.watch", "subject": path,
                    "message": "inotify watch limit reached (raise fs.inotify.max_user_watches); this directory is not watched"})
            }
            Event::Overflow { rescanned_files } => {
                serde_json::json!({"type": "overflow", "rescanned_files": rescanned_files})
            }
            Event::Error { path, message } => {
                serde_json::json!({"type": "error", "check": "scan.watch", "subject": path, "message": message})
            }
        };
        if json {
            println!("{line}");
        } else {
            eprintln!("rampart: {line}");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_roots_are_the_configured_web_roots_and_temp_dirs() {
        let dir = tempfile::tempdir().unwrap();
        let w = |p: &str, s: &str| {
            let path = dir.path().join(p);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(path, s).unwrap();
        };
        w("etc/nginx/nginx.conf", "http {\n  include sites-enabled/*;\n}\n");
        w(
            "etc/nginx/sites-enabled/a",
            "server {\n  listen 80;\n  root /srv/shop;\n}\n",
        );
        w("srv/shop/index.php", "<?php echo 1;\n");
        w("var/www/html/index.html", "hi");
        std::fs::create_dir_all(dir.path().join("tmp")).unwrap();
        let host = rampart_core::HostRoot::at(dir.path()).unwrap();
        let (roots, note) = default_roots(&host);
        let local = |p: &str| host.resolve(p).unwrap();
        assert_eq!(roots, vec![local("/srv/shop"), local("/tmp")], "{note}");
        assert!(note.contains("nginx/Apache configs: /srv/shop"), "{note}");
        assert!(note.contains("temporary directories: /tmp"), "{note}");

        // No configured site: the usual locations.
        std::fs::remove_dir_all(dir.path().join("etc/nginx")).unwrap();
        let (roots, note) = default_roots(&host);
        assert_eq!(roots, vec![local("/var/www"), local("/tmp")], "{note}");
        assert!(note.contains("usual locations"), "{note}");
    }
}
