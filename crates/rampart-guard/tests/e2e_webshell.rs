//! `[guard.webshell]` end to end: the daemon, started from a config file, watches a web
//! root; a webshell written into it (also into a directory created after the start) is
//! quarantined and reported as an event, while a benign page stays untouched.

mod common;

use common::wait_for;
use rampart_guard::config::Config;
use rampart_guard::daemon::{Daemon, Options};
use std::io::Write;
use std::sync::{Arc, Mutex};
use std::time::Duration;

#[derive(Clone, Default)]
struct Events(Arc<Mutex<Vec<u8>>>);

impl Write for Events {
    fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(b);
        Ok(b.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Events {
    fn all(&self) -> Vec<serde_json::Value> {
        let text = String::from_utf8(self.0.lock().unwrap().clone()).unwrap();
        text.lines().map(|l| serde_json::from_str(l).unwrap()).collect()
    }
}

const SHELL: &[u8] = b"<?php if(isset($_POST['c'])){ @eval(base64_decode($_POST['c'])); } ?>\n";
const PAGE: &[u8] =
    b"<?php\n$name = htmlspecialchars($_GET['name'] ?? 'world');\necho \"<p>Hello $name</p>\";\n";

fn config(dir: &std::path::Path, action: &str) -> std::path::PathBuf {
    let d = dir.display();
    let text = format!(
        "[guard]\ndb = \"{d}/rampart.db\"\nstatus_file = \"{d}/status.json\"\nauto_sources = false\n\
         journal = \"off\"\ndry_run = true\n\n[guard.webshell]\nenabled = true\nroots = [\"{d}/www\"]\n\
         action = \"{action}\"\nquarantine_dir = \"{d}/quarantine\"\n"
    );
    let path = dir.join("rampart.toml");
    std::fs::write(&path, text).unwrap();
    path
}

fn start(
    cfg_path: &std::path::Path,
    events: &Events,
) -> (rampart_guard::daemon::StopHandle, std::thread::JoinHandle<()>) {
    let cfg = Config::load(Some(cfg_path)).unwrap().guard;
    let mut opts = Options::new(cfg);
    opts.own_addresses = Some(vec![]);
    opts.events = Some(Box::new(events.clone()));
    let daemon = Daemon::new(opts).expect("guard starts");
    let stop = daemon.stop_handle();
    let t = std::thread::spawn(move || {
        daemon.run().expect("guard runs");
    });
    (stop, t)
}

#[test]
fn a_webshell_written_into_a_watched_root_is_quarantined_and_a_page_is_not() {
    if !rampart_testkit::require::root_with(&[], "the quarantine store is root-only") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let www = dir.path().join("www");
    std::fs::create_dir(&www).unwrap();
    let events = Events::default();
    let (stop, thread) = start(&config(dir.path(), "quarantine"), &events);

    std::fs::write(www.join("index.php"), PAGE).unwrap();
    std::fs::write(www.join("cache.php"), SHELL).unwrap();
    // A directory made after the start is watched too.
    std::fs::create_dir(www.join("uploads")).unwrap();
    std::thread::sleep(Duration::from_millis(200));
    std::fs::write(www.join("uploads/img.php"), SHELL).unwrap();

    let found = || {
        events
            .all()
            .iter()
            .filter(|v| v["type"] == "webshell" && v["quarantine_id"].is_string())
            .count()
    };
    assert!(
        wait_for(Duration::from_secs(10), || found() >= 2),
        "events: {:?}",
        events.all()
    );
    stop.stop();
    thread.join().unwrap();

    assert!(!www.join("cache.php").exists(), "the webshell is still in place");
    assert!(!www.join("uploads/img.php").exists());
    assert_eq!(std::fs::read(www.join("index.php")).unwrap(), PAGE);
    let all = events.all();
    let shell = all
        .iter()
        .find(|v| v["path"].as_str().unwrap_or("").ends_with("cache.php"))
        .expect("event for cache.php");
    assert_eq!(shell["action"], "quarantine");
    assert!(shell["score"].as_u64().unwrap() >= 100, "{shell}");
    assert!(
        !all.iter()
            .any(|v| v["path"].as_str().unwrap_or("").ends_with("index.php")),
        "{all:?}"
    );
    // The store holds the shell, byte-identical.
    let q = rampart_quarantine::Quarantine::open(dir.path().join("quarantine")).unwrap();
    let (items, errors) = q.list().unwrap();
    assert!(errors.is_empty(), "{errors:?}");
    assert_eq!(items.len(), 2);
    let id = shell["quarantine_id"].as_str().unwrap();
    let item = q.restore(id, false).unwrap();
    assert_eq!(item.original_path, www.join("cache.php"));
    assert_eq!(std::fs::read(www.join("cache.php")).unwrap(), SHELL);
}

#[test]
fn alert_mode_reports_and_leaves_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let www = dir.path().join("www");
    std::fs::create_dir(&www).unwrap();
    let events = Events::default();
    let (stop, thread) = start(&config(dir.path(), "alert"), &events);
    std::fs::write(www.join("x.php"), SHELL).unwrap();
    assert!(
        wait_for(Duration::from_secs(10), || events
            .all()
            .iter()
            .any(|v| v["type"] == "webshell")),
        "no event"
    );
    stop.stop();
    thread.join().unwrap();
    let all = events.all();
    let v = all.iter().find(|v| v["type"] == "webshell").unwrap();
    assert_eq!(v["action"], "alert");
    assert!(v.get("quarantine_id").is_none(), "{v}");
    assert!(!v["rules"].as_array().unwrap().is_empty() || !v["reasons"].as_array().unwrap().is_empty());
    assert_eq!(std::fs::read(www.join("x.php")).unwrap(), SHELL);
}

#[test]
fn a_missing_root_stops_the_start_with_its_name() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = Config::load(Some(&config(dir.path(), "alert"))).unwrap().guard;
    let mut opts = Options::new(cfg);
    opts.own_addresses = Some(vec![]);
    let e = Daemon::new(opts).err().expect("start fails").to_string();
    assert!(e.contains("www"), "{e}");
}
