//! Real-time webshell detection hosted by the daemon (`[guard.webshell]`): the
//! `rampart-scan` watcher (recursive inotify, signatures + script analyzer) runs on its
//! own thread over the configured web roots; each detection is quarantined or only
//! reported, per `action`, and becomes a guard event.
//!
//! Event schema (JSON lines, next to ban/unban):
//! `{"type":"webshell","time","path","score","rules":[…],"reasons":[…],"action","quarantine_id"?,"error"?}`
//! and `{"type":"webshell_error","time","path","message"}` for watch problems (watch limit,
//! unreadable files, a lost-event rescan).

use rampart_quarantine::Quarantine;
use rampart_scan::watch::{self, Event, WatchOptions};
use rampart_scan::Engine;
use serde::Deserialize;
use serde_json::{json, Value};
use std::path::PathBuf;
use std::sync::atomic::AtomicBool;
use std::sync::mpsc::{sync_channel, Receiver, SyncSender};
use std::sync::Arc;
use std::thread::JoinHandle;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum Action {
    /// Move the file into the quarantine store (restorable with `rampart quarantine`).
    #[default]
    Quarantine,
    /// Only report it.
    Alert,
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct WebshellConfig {
    pub enabled: bool,
    /// Directories watched recursively (new subdirectories included).
    pub roots: Vec<PathBuf>,
    pub action: Action,
    pub quarantine_dir: PathBuf,
    /// Larger files are not scanned.
    pub max_file_size: u64,
    /// Extra `*.yar` rules of the operator.
    pub rules_dir: Option<PathBuf>,
}

impl Default for WebshellConfig {
    fn default() -> Self {
        WebshellConfig {
            enabled: false,
            roots: Vec::new(),
            action: Action::Quarantine,
            quarantine_dir: PathBuf::from(Quarantine::DEFAULT_DIR),
            max_file_size: 32 << 20,
            rules_dir: None,
        }
    }
}

impl WebshellConfig {
    pub fn validate(&self) -> Result<(), String> {
        if !self.enabled {
            return Ok(());
        }
        if self.roots.is_empty() {
            return Err("guard.webshell.roots must list at least one directory when enabled".into());
        }
        if let Some(r) = self.roots.iter().find(|r| !r.is_absolute()) {
            return Err(format!(
                "guard.webshell.roots: `{}` is not an absolute path",
                r.display()
            ));
        }
        if !self.quarantine_dir.is_absolute() {
            return Err(format!(
                "guard.webshell.quarantine_dir: `{}` is not an absolute path",
                self.quarantine_dir.display()
            ));
        }
        if self.max_file_size == 0 {
            return Err("guard.webshell.max_file_size must be positive".into());
        }
        Ok(())
    }
}

/// The running watcher thread.
pub struct Watcher {
    pub events: Receiver<Value>,
    thread: Option<JoinHandle<()>>,
}

impl Watcher {
    /// Waits for the thread after the stop flag was set (it checks it every 100 ms).
    pub fn join(&mut self) {
        if let Some(t) = self.thread.take() {
            if t.join().is_err() {
                tracing::error!("The webshell watcher thread panicked.");
            }
        }
    }
}

fn now() -> i64 {
    crate::engine::unix_now()
}

/// The guard event for one watcher event (`None` for clean files and readiness).
pub fn event_json(ev: &Event, action: Action) -> Option<Value> {
    match ev {
        Event::Ready { .. } | Event::Clean { .. } => None,
        Event::Detection {
            detection,
            quarantined,
            ..
        } => {
            let rules: Vec<&str> = detection.verdict.rules.iter().map(|r| r.rule.as_str()).collect();
            let mut reasons: Vec<_> = detection.verdict.reasons.iter().collect();
            reasons.sort_by_key(|r| std::cmp::Reverse(r.weight));
            let reasons: Vec<String> = reasons
                .iter()
                .take(5)
                .map(|r| format!("{} (+{}): {}", r.signal, r.weight, r.detail))
                .collect();
            let mut v = json!({
                "type": "webshell",
                "time": now(),
                "path": detection.path,
                "score": detection.verdict.score,
                "rules": rules,
                "reasons": reasons,
                "action": match action { Action::Quarantine => "quarantine", Action::Alert => "alert" },
            });
            match quarantined {
                Some(Ok(item)) => v["quarantine_id"] = json!(item.id),
                Some(Err(e)) => v["error"] = json!(e),
                None => {}
            }
            Some(v)
        }
        Event::WatchLimit { path } => Some(json!({
            "type": "webshell_error", "time": now(), "path": path,
            "message": "inotify watch limit reached (raise fs.inotify.max_user_watches); this directory is not watched",
        })),
        Event::Overflow { rescanned_files } => Some(json!({
            "type": "webshell_error", "time": now(), "path": null,
            "message": format!("inotify queue overflowed; rescanned {rescanned_files} files"),
        })),
        Event::Error { path, message } => Some(json!({
            "type": "webshell_error", "time": now(), "path": path, "message": message,
        })),
    }
}

/// Starts the watcher thread and returns once its watches are in place (or with the
/// error that kept it from starting: bad rules, a missing root, no quarantine store).
/// `wake` is called after every event so the daemon emits it at once.
pub fn spawn(
    cfg: &WebshellConfig,
    stop: Arc<AtomicBool>,
    wake: Box<dyn Fn() + Send>,
) -> Result<Watcher, String> {
    let cfg = cfg.clone();
    let (tx, rx) = sync_channel::<Value>(1024);
    let (ready_tx, ready_rx) = sync_channel::<Result<usize, String>>(1);
    let thread = std::thread::Builder::new()
        .name("webshell-watch".into())
        .spawn(move || watch_thread(cfg, stop, tx, ready_tx, wake))
        .map_err(|e| format!("starting the webshell watcher: {e}"))?;
    match ready_rx.recv() {
        Ok(Ok(dirs)) => {
            tracing::info!("Watching {dirs} web directories for webshells.");
            Ok(Watcher {
                events: rx,
                thread: Some(thread),
            })
        }
        Ok(Err(e)) => {
            let _ = thread.join();
            Err(e)
        }
        Err(_) => {
            let _ = thread.join();
            Err("the webshell watcher stopped before it was ready".into())
        }
    }
}

fn watch_thread(
    cfg: WebshellConfig,
    stop: Arc<AtomicBool>,
    tx: SyncSender<Value>,
    ready: SyncSender<Result<usize, String>>,
    wake: Box<dyn Fn() + Send>,
) {
    let engine = match Engine::new(cfg.rules_dir.as_deref()) {
        Ok(e) => e,
        Err(e) => {
            let _ = ready.send(Err(format!("guard.webshell: compiling rules: {e}")));
            return;
        }
    };
    let store = match cfg.action {
        Action::Quarantine => match Quarantine::open(&cfg.quarantine_dir) {
            Ok(q) => Some(q),
            Err(e) => {
                let _ = ready.send(Err(format!(
                    "guard.webshell.quarantine_dir {}: {e}",
                    cfg.quarantine_dir.display()
                )));
                return;
            }
        },
        Action::Alert => None,
    };
    let opts = WatchOptions {
        max_file_size: cfg.max_file_size,
        quarantine: store.as_ref(),
        threshold: rampart_scan::DETECT,
        stop: &stop,
    };
    let mut ready = Some(ready);
    let res = watch::run(&cfg.roots, &engine, &opts, &mut |ev| {
        if let Event::Ready { dirs } = ev {
            if let Some(r) = ready.take() {
                let _ = r.send(Ok(dirs));
            }
            return;
        }
        if let Some(v) = event_json(&ev, cfg.action) {
            // A full channel means the daemon is far behind: block rather than lose a
            // detection (the watcher's own queue absorbs the wait).
            if tx.send(v).is_err() {
                return;
            }
            wake();
        }
    });
    if let Err(e) = res {
        let msg = format!("guard.webshell: {e}");
        match ready.take() {
            Some(r) => {
                let _ = r.send(Err(msg));
            }
            None => tracing::error!("{msg}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::config::Config;

    #[test]
    fn config_table_parses_and_rejects_unknown_keys() {
        let c = Config::parse(
            "[guard.webshell]\nenabled = true\nroots = [\"/var/www\"]\naction = \"alert\"\n",
            "f",
        )
        .unwrap();
        assert!(c.guard.webshell.enabled);
        assert_eq!(c.guard.webshell.action, super::Action::Alert);
        let e = Config::parse("[guard.webshell]\nenabled = true\nroot = [\"/var/www\"]\n", "f")
            .unwrap_err()
            .to_string();
        assert!(e.contains("root") && e.contains("line 3"), "{e}");
        let e = Config::parse("[guard.webshell]\naction = \"delete\"\n", "f")
            .unwrap_err()
            .to_string();
        assert!(e.contains("delete"), "{e}");
        let e = Config::parse("[guard.webshell]\nenabled = true\n", "f")
            .unwrap_err()
            .to_string();
        assert!(e.contains("guard.webshell.roots"), "{e}");
        let e = Config::parse("[guard.webshell]\nenabled = true\nroots = [\"www\"]\n", "f")
            .unwrap_err()
            .to_string();
        assert!(e.contains("not an absolute path"), "{e}");
        assert!(!Config::default().guard.webshell.enabled);
    }
}
