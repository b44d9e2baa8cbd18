//! The `rampart guard` daemon: follows its sources, decides bans, enforces them in
//! nftables, records them in SQLite, and restores them on start.
//!
//! One thread does the work (the journal reader has its own): it sleeps on inotify
//! and a wake-up socket, reads what is new from every source, and applies the bans a
//! round decided as one nft batch — so a flood costs one `nft` process per round,
//! and a single failure line costs one as soon as it is written.

use crate::config::{GuardConfig, JournalMode};
use crate::detect::{Decision, Detector, Rule};
use crate::engine::{process_line, process_outcome, unix_now, Clock, Counters};
use crate::events;
use crate::net::Net;
use crate::parse::{Parser, Service};
use crate::source::{self, auto, file::Follower, journal, Wake};
use crate::status::{SourceStatus, Status};
use crate::GuardError;
use rampart_nft::bans::{self, Ban};
use rampart_nft::Nft;
use rampart_store::bans::BanRecord;
use rampart_store::Store;
use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::io::Write;
use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{sync_channel, Receiver};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Longest sleep between two looks at the sources (files that cannot be watched,
/// expiry of bans, the status file).
const TICK: Duration = Duration::from_millis(250);
/// Ban log lines per round before they are summarised.
const LOG_BURST: usize = 10;

pub struct Options {
    pub cfg: GuardConfig,
    /// Where ban/unban events go as JSON lines (besides the log).
    pub events: Option<Box<dyn Write + Send>>,
    /// Read these journal files (tests; `journalctl --file`) instead of the system journal.
    pub journal_files: Vec<PathBuf>,
    /// The host's own addresses, never banned (default: read with `ip -j addr`).
    pub own_addresses: Option<Vec<IpAddr>>,
}

impl Options {
    pub fn new(cfg: GuardConfig) -> Self {
        Options {
            cfg,
            events: None,
            journal_files: Vec::new(),
            own_addresses: None,
        }
    }
}

struct FileSource {
    follower: Follower,
    parser: Parser,
}

/// Stops a running daemon from another thread (or a signal handler's flag).
#[derive(Clone)]
pub struct StopHandle {
    flag: Arc<AtomicBool>,
    waker: Arc<std::os::unix::net::UnixStream>,
}

impl StopHandle {
    pub fn stop(&self) {
        self.flag.store(true, Ordering::SeqCst);
        source::wake(&self.waker);
    }

    pub fn flag(&self) -> Arc<AtomicBool> {
        self.flag.clone()
    }
}

pub struct Daemon {
    cfg: GuardConfig,
    nft: Option<Nft>,
    store: Store,
    detector: Detector,
    files: Vec<FileSource>,
    journal: Option<(journal::Reader, Receiver<journal::Entry>, Parser)>,
    wake: Wake,
    stop: StopHandle,
    events: Option<Box<dyn Write + Send>>,
    expiries: BinaryHeap<Reverse<(i64, String)>>,
    counters: Counters,
    started: i64,
    enforce_errors: u64,
    last_enforce_error: Option<String>,
    webshell: Option<crate::webshell::Watcher>,
}

/// The host's addresses (`ip -j addr show`); empty if `ip` fails.
pub fn own_addresses() -> Vec<IpAddr> {
    let Ok(out) = rampart_core::cmd::run("ip", ["-j", "addr", "show"]) else {
        return Vec::new();
    };
    let Ok(v) = serde_json::from_slice::<serde_json::Value>(&out.stdout) else {
        return Vec::new();
    };
    let mut addrs = Vec::new();
    for iface in v.as_array().into_iter().flatten() {
        for a in iface
            .get("addr_info")
            .and_then(|a| a.as_array())
            .into_iter()
            .flatten()
        {
            if let Some(ip) = a
                .get("local")
                .and_then(|l| l.as_str())
                .and_then(|l| l.parse().ok())
            {
                addrs.push(ip);
            }
        }
    }
    addrs
}

/// The database record of a decided ban.
pub fn record(d: &Decision) -> BanRecord {
    BanRecord {
        net: d.net.to_string(),
        addr: d.addr.to_string(),
        service: d.service.name().into(),
        rule: d.rule.name().into(),
        failures: d.failures,
        offence: d.offence,
        created: d.at,
        expires: d.at + d.ban_secs as i64,
    }
}

pub fn to_ban(net: &Net, secs: u64) -> Ban {
    Ban {
        addr: net.addr,
        prefix: net.prefix,
        timeout_secs: secs.max(1),
    }
}

impl Daemon {
    /// Opens the store, creates the nft sets, restores running bans and opens the
    /// sources. Nothing is read yet.
    pub fn new(opts: Options) -> Result<Daemon, GuardError> {
        let cfg = opts.cfg;
        cfg.validate().map_err(GuardError::Other)?;
        let store = Store::open(&cfg.db)?;
        let nft = if cfg.dry_run {
            None
        } else {
            let nft = match &cfg.netns {
                Some(ns) => Nft::in_netns(ns.clone()),
                None => Nft::new(),
            };
            bans::ensure(&nft)?;
            Some(nft)
        };
        let own = opts.own_addresses.unwrap_or_else(own_addresses);
        let detector = Detector::new(&cfg, &own);
        let mut wake = Wake::new().map_err(|source| GuardError::Io {
            path: "inotify".into(),
            source,
        })?;
        let waker = Arc::new(wake.waker().map_err(|source| GuardError::Io {
            path: "socketpair".into(),
            source,
        })?);
        let stop = StopHandle {
            flag: Arc::new(AtomicBool::new(false)),
            waker,
        };

        // Sources: configured paths (followed even before they exist), then the usual
        // ones that exist.
        let mut paths: Vec<PathBuf> = Vec::new();
        for s in &cfg.sources {
            let expanded = source::file::expand(&s.path);
            if expanded.is_empty() && !s.path.to_string_lossy().contains('*') {
                paths.push(s.path.clone());
            }
            paths.extend(expanded);
        }
        if cfg.auto_sources {
            paths.extend(auto::detect(Path::new("/")));
        }
        let mut seen = std::collections::HashSet::new();
        paths.retain(|p| seen.insert(p.clone()));
        let mut files = Vec::new();
        for p in paths {
            if !wake.watch_dir_of(&p) {
                tracing::info!("Cannot watch the directory of {} yet; polling it.", p.display());
            }
            files.push(FileSource {
                follower: Follower::new(&p, cfg.from_beginning),
                parser: Parser::default(),
            });
        }
        let use_journal = match cfg.journal {
            JournalMode::On => true,
            JournalMode::Off => false,
            JournalMode::Auto => {
                !opts.journal_files.is_empty()
                    || (!auto::has_auth_log(Path::new("/"))
                        && rampart_core::cmd::which("journalctl").is_some())
            }
        };
        let journal = if use_journal {
            let (tx, rx) = sync_channel(4096);
            let jopts = journal::JournalOptions {
                files: opts.journal_files.clone(),
                follow: true,
                from_beginning: cfg.from_beginning,
            };
            let w = wake.waker().map_err(|source| GuardError::Io {
                path: "socketpair".into(),
                source,
            })?;
            let reader = journal::spawn(jopts, tx, w).map_err(|e| GuardError::Other(e.to_string()))?;
            Some((reader, rx, Parser::default()))
        } else {
            None
        };
        if files.is_empty() && journal.is_none() {
            tracing::warn!(
                "No log source: nothing to guard (configure [[guard.source]] or enable the journal)."
            );
        }

        let webshell = if cfg.webshell.enabled {
            let waker = stop.waker.clone();
            let w = crate::webshell::spawn(
                &cfg.webshell,
                stop.flag.clone(),
                Box::new(move || source::wake(&waker)),
            )
            .map_err(GuardError::Other)?;
            Some(w)
        } else {
            None
        };
        let mut d = Daemon {
            cfg,
            nft,
            store,
            detector,
            files,
            journal,
            wake,
            stop,
            events: opts.events,
            expiries: BinaryHeap::new(),
            counters: Counters::default(),
            started: unix_now(),
            enforce_errors: 0,
            last_enforce_error: None,
            webshell,
        };
        d.restore()?;
        Ok(d)
    }

    pub fn stop_handle(&self) -> StopHandle {
        self.stop.clone()
    }

    /// Bans still running in the database go back into nft with their remaining time;
    /// recent expired ones keep their offence count for escalation.
    fn restore(&mut self) -> Result<(), GuardError> {
        let now = unix_now();
        let memory = self.cfg.offence_memory.0 as i64;
        self.store.bans().purge(now - memory)?;
        let mut to_add = Vec::new();
        for r in self.store.bans().all()? {
            let Ok(net) = r.net.parse::<Net>() else {
                tracing::warn!(
                    "Ignoring ban of `{}` in {}: not an address.",
                    r.net,
                    self.store.path().display()
                );
                continue;
            };
            self.detector.restore(net, r.expires, r.offence, r.created);
            if r.expires > now {
                to_add.push(to_ban(&net, (r.expires - now) as u64));
                self.expiries.push(Reverse((r.expires, r.net.clone())));
            }
        }
        if !to_add.is_empty() {
            if let Some(nft) = &self.nft {
                bans::add(nft, &to_add)?;
            }
            tracing::info!("Restored {} bans.", to_add.len());
        }
        Ok(())
    }

    /// Runs until stopped; returns the counters.
    pub fn run(mut self) -> Result<Counters, GuardError> {
        let mut last_status = Instant::now() - Duration::from_secs(10);
        let mut last_glob = Instant::now();
        loop {
            if self.stop.flag.load(Ordering::SeqCst) {
                break;
            }
            let decisions = self.read_sources();
            if !decisions.is_empty() {
                self.enforce(decisions);
            }
            self.expire(unix_now());
            self.webshell_events();
            if last_status.elapsed() >= Duration::from_secs(1) {
                self.write_status();
                last_status = Instant::now();
            }
            if last_glob.elapsed() >= Duration::from_secs(10) {
                self.rescan_globs();
                last_glob = Instant::now();
            }
            if self.stop.flag.load(Ordering::SeqCst) {
                break;
            }
            self.wake.wait(self.next_timeout());
        }
        if let Some((mut reader, _, _)) = self.journal.take() {
            reader.stop();
        }
        if let Some(mut w) = self.webshell.take() {
            w.join();
            self.webshell = Some(w);
            self.webshell_events();
        }
        self.write_status();
        tracing::info!("Stopped.");
        Ok(self.counters)
    }

    /// Logs and emits what the webshell watcher found since the last round.
    fn webshell_events(&mut self) {
        let Some(w) = &self.webshell else { return };
        let got: Vec<serde_json::Value> = w.events.try_iter().collect();
        if got.is_empty() {
            return;
        }
        for v in &got {
            let path = v["path"].as_str().unwrap_or("?");
            if v["type"] == "webshell" {
                tracing::warn!(path, score = %v["score"], action = %v["action"], "Webshell detected: {path}.");
            } else {
                tracing::warn!(
                    path,
                    "Webshell watcher: {}.",
                    v["message"].as_str().unwrap_or("?")
                );
            }
            self.emit(v);
        }
        self.flush_events();
    }

    fn next_timeout(&self) -> Duration {
        let mut t = TICK;
        if let Some(Reverse((at, _))) = self.expiries.peek() {
            let ms = (at - unix_now()).max(0) as u64 * 1000;
            t = t.min(Duration::from_millis(ms.max(10)));
        }
        t
    }

    fn read_sources(&mut self) -> Vec<(Decision, String)> {
        let mut out = Vec::new();
        let mut last = 0i64;
        for fs in &mut self.files {
            let src = fs.follower.path.display().to_string();
            let (parser, det, counters) = (&mut fs.parser, &mut self.detector, &mut self.counters);
            fs.follower.poll(&mut |line| {
                if let Some(d) = process_line(parser, det, counters, Clock::Wall, &mut last, line) {
                    out.push((d, src.clone()));
                }
            });
        }
        if let Some((_, rx, parser)) = &mut self.journal {
            while let Ok(e) = rx.try_recv() {
                let o = parser.parse_message(&e.tag, e.pid, &e.message);
                if let Some(d) = process_outcome(&o, Clock::Wall, 0, &mut self.detector, &mut self.counters) {
                    out.push((d, "journal".into()));
                }
            }
        }
        out
    }

    fn enforce(&mut self, decisions: Vec<(Decision, String)>) {
        let bans: Vec<Ban> = decisions
            .iter()
            .map(|(d, _)| to_ban(&d.net, d.ban_secs))
            .collect();
        if let Some(nft) = &self.nft {
            // Someone may have flushed the ruleset: recreate the sets once and retry.
            let result =
                bans::add(nft, &bans).or_else(|_| bans::ensure(nft).and_then(|()| bans::add(nft, &bans)));
            if let Err(e) = result {
                self.enforce_errors += 1;
                tracing::error!("Could not add {} bans to nftables: {e}.", bans.len());
                self.last_enforce_error = Some(e.to_string());
            }
        }
        // A dry run records nothing: its decisions must not come back as real bans
        // when the daemon later starts for real.
        let records: Vec<BanRecord> = decisions.iter().map(|(d, _)| record(d)).collect();
        if !self.cfg.dry_run {
            if let Err(e) = self.store.bans().upsert_many(&records) {
                tracing::error!("Could not record {} bans: {e}.", records.len());
            }
        }
        for (i, (d, src)) in decisions.iter().enumerate() {
            // Warning level: a ban is what an operator reading the default log wants to see.
            if i < LOG_BURST {
                tracing::warn!(net = %d.net, service = d.service.name(), rule = d.rule.name(), "{}", events::ban_text(d));
            }
            self.expiries
                .push(Reverse((d.at + d.ban_secs as i64, d.net.to_string())));
            self.emit(&events::ban(d, src));
        }
        if decisions.len() > LOG_BURST {
            tracing::info!(
                "Banned {} more addresses in the same round.",
                decisions.len() - LOG_BURST
            );
        }
        self.flush_events();
    }

    fn expire(&mut self, now: i64) {
        let mut any = false;
        while let Some(Reverse((at, _))) = self.expiries.peek() {
            if *at > now {
                break;
            }
            let Some(Reverse((at, net))) = self.expiries.pop() else {
                break;
            };
            // A newer ban of the same network may have replaced this one.
            let current = self.store.bans().get(&net).ok().flatten();
            if current.as_ref().is_some_and(|r| r.expires > at) {
                continue;
            }
            tracing::info!(net = %net, "Ban of {net} expired.");
            self.emit(&events::unban(&net, at, "expired"));
            any = true;
        }
        if any {
            self.flush_events();
        }
    }

    fn emit(&mut self, v: &serde_json::Value) {
        if let Some(w) = self.events.as_mut() {
            let _ = serde_json::to_writer(&mut *w, v);
            let _ = w.write_all(b"\n");
        }
    }

    fn flush_events(&mut self) {
        if let Some(w) = self.events.as_mut() {
            let _ = w.flush();
        }
    }

    fn rescan_globs(&mut self) {
        let known: std::collections::HashSet<PathBuf> =
            self.files.iter().map(|f| f.follower.path.clone()).collect();
        let mut new = Vec::new();
        for s in &self.cfg.sources {
            if s.path.to_string_lossy().contains('*') {
                for p in source::file::expand(&s.path) {
                    if !known.contains(&p) {
                        new.push(p);
                    }
                }
            }
        }
        for p in new {
            self.wake.watch_dir_of(&p);
            // A file that appeared while running is read from its start.
            self.files.push(FileSource {
                follower: Follower::new(&p, true),
                parser: Parser::default(),
            });
        }
    }

    fn write_status(&self) {
        let now = unix_now();
        let active = self.store.bans().active(now).map(|v| v.len()).unwrap_or(0);
        let mut det = self.detector.counters;
        det.tracked = self.detector.tracked() as u64;
        let st = Status {
            pid: std::process::id(),
            started: self.started,
            updated: now,
            counters: self.counters,
            detector: det,
            active_bans: active,
            enforce_errors: self.enforce_errors,
            last_enforce_error: self.last_enforce_error.clone(),
            journal: self.journal.is_some(),
            sources: self
                .files
                .iter()
                .map(|f| SourceStatus {
                    path: f.follower.path.display().to_string(),
                    open: f.follower.is_open(),
                    offset: f.follower.offset(),
                    rotations: f.follower.rotations,
                    truncations: f.follower.truncations,
                    error: f.follower.last_error.clone(),
                })
                .collect(),
        };
        if let Err(e) = st.write(&self.cfg.status_file) {
            tracing::debug!("Cannot write {}: {e}.", self.cfg.status_file.display());
        }
    }
}

/// Enforces and records bans decided elsewhere (`--replay --enforce`), each for its
/// full time from now, in one nft batch and one transaction.
pub fn apply_decisions(store: &Store, nft: Option<&Nft>, decisions: &[Decision]) -> Result<(), GuardError> {
    let now = unix_now();
    if let Some(nft) = nft {
        bans::ensure(nft)?;
        let nets: Vec<(IpAddr, u8)> = decisions.iter().map(|d| (d.net.addr, d.net.prefix)).collect();
        bans::remove(nft, &nets)?;
        let b: Vec<Ban> = decisions.iter().map(|d| to_ban(&d.net, d.ban_secs)).collect();
        bans::add(nft, &b)?;
    }
    let records: Vec<BanRecord> = decisions
        .iter()
        .map(|d| {
            let mut r = record(d);
            r.created = now;
            r.expires = now + d.ban_secs as i64;
            r
        })
        .collect();
    store.bans().upsert_many(&records)?;
    Ok(())
}

/// A ban added by hand (`rampart bans add`): recorded and enforced at once.
pub fn manual_ban(store: &Store, nft: Option<&Nft>, net: Net, secs: u64) -> Result<BanRecord, GuardError> {
    let now = unix_now();
    let offence = store
        .bans()
        .get(&net.to_string())?
        .map(|r| r.offence)
        .unwrap_or(0)
        + 1;
    let d = Decision {
        net,
        addr: net.addr,
        service: Service::Ssh,
        rule: Rule::Manual,
        failures: 0,
        offence,
        ban_secs: secs,
        at: now,
    };
    let mut rec = record(&d);
    rec.service = "manual".into();
    if let Some(nft) = nft {
        bans::ensure(nft)?;
        // Replace a running ban so the new timeout applies.
        bans::remove(nft, &[(net.addr, net.prefix)])?;
        bans::add(nft, &[to_ban(&net, secs)])?;
    }
    store.bans().upsert(&rec)?;
    Ok(rec)
}

/// Lifts a ban by hand; false if `net` was not banned.
pub fn manual_unban(store: &Store, nft: Option<&Nft>, net: Net) -> Result<bool, GuardError> {
    let mut removed = 0;
    if let Some(nft) = nft {
        removed = bans::remove(nft, &[(net.addr, net.prefix)])?;
    }
    let lifted = store.bans().lift(&net.to_string(), unix_now())?;
    Ok(lifted || removed > 0)
}
