//! Real-time benchmark (run by bench/scan/watch): write→quarantine latency of webshells
//! dropped into a watched tree (p50/p99 over 200 writes, target p99 ≤ 100 ms), then a
//! burst of 10,000 benign writes with 20 shells mixed in: every write must be scanned
//! (one event each), every shell quarantined, and the kernel queue must not overflow.

use rampart_quarantine::Quarantine;
use rampart_scan::watch::{self, Event, WatchOptions};
use std::collections::HashSet;
use std::io::Write;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc;
use std::time::{Duration, Instant};

enum Msg {
    Ready,
    Detected(PathBuf, bool, Instant),
    Clean(PathBuf),
    Overflow,
    Limit,
}

fn main() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path().join("www");
    std::fs::create_dir_all(root.join("uploads")).unwrap();
    let qdir = tmp.path().join("q");
    let engine = rampart_scan::Engine::new(None).unwrap();
    let q = Quarantine::open(&qdir).unwrap();
    let stop = AtomicBool::new(false);
    let (tx, rx) = mpsc::channel();
    std::thread::scope(|s| {
        let roots = vec![root.clone()];
        let (engine, q, stop) = (&engine, &q, &stop);
        s.spawn(move || {
            let opts = WatchOptions {
                max_file_size: 32 << 20,
                quarantine: Some(q),
                threshold: rampart_scan::DETECT,
                stop,
            };
            watch::run(&roots, engine, &opts, &mut |ev| {
                let m = match ev {
                    Event::Ready { .. } => Msg::Ready,
                    Event::Detection {
                        detection,
                        quarantined,
                        ..
                    } => Msg::Detected(
                        detection.path.clone(),
                        matches!(quarantined, Some(Ok(_))),
                        Instant::now(),
                    ),
                    Event::Clean { path } => Msg::Clean(path),
                    Event::Overflow { .. } => Msg::Overflow,
                    Event::WatchLimit { .. } => Msg::Limit,
                    Event::Error { .. } => return,
                };
                let _ = tx.send(m);
            })
            .unwrap();
        });
        assert!(matches!(rx.recv_timeout(Duration::from_secs(10)), Ok(Msg::Ready)));

        // 1. Latency: one shell at a time, from close() to quarantined.
        let mut lat = Vec::new();
        for i in 0..200 {
            let p = root.join("uploads").join(format!("shell{i}.php"));
            let mut f = std::fs::File::create(&p).unwrap();
            f.write_all(format!("<?php @eval($_POST['k{i}']); ?>").as_bytes())
                .unwrap();
            drop(f);
            let t0 = Instant::now();
            loop {
                match rx
                    .recv_timeout(Duration::from_secs(5))
                    .expect("detection within 5 s")
                {
                    Msg::Detected(path, ok, at) if path == p => {
                        assert!(ok, "not quarantined: {}", p.display());
                        lat.push(at.duration_since(t0));
                        break;
                    }
                    _ => {}
                }
            }
        }
        lat.sort();
        let pct = |q: f64| lat[((lat.len() as f64 * q) as usize).min(lat.len() - 1)];
        println!(
            "write->quarantine latency over {} shells: p50 {:.2} ms, p99 {:.2} ms, max {:.2} ms (target p99 <= 100 ms)",
            lat.len(),
            pct(0.50).as_secs_f64() * 1e3,
            pct(0.99).as_secs_f64() * 1e3,
            lat.last().unwrap().as_secs_f64() * 1e3
        );

        // 2. Burst: 10,000 benign writes with 20 shells mixed in, as fast as possible.
        let burst = root.join("burst");
        std::fs::create_dir(&burst).unwrap();
        std::thread::sleep(Duration::from_millis(200));
        while rx.try_recv().is_ok() {}
        let t0 = Instant::now();
        let mut shells = HashSet::new();
        let mut benign = HashSet::new();
        for i in 0..10_020 {
            let p = burst.join(format!("f{i}.php"));
            if i % 501 == 0 && shells.len() < 20 {
                std::fs::write(&p, format!("<?php system($_GET['c{i}']);")).unwrap();
                shells.insert(p);
            } else {
                std::fs::write(&p, format!("<?php echo 'page {i}'; ?>")).unwrap();
                benign.insert(p);
            }
        }
        let written = t0.elapsed();
        let (mut clean, mut caught, mut overflow, mut limit) = (0usize, 0usize, false, false);
        let deadline = Instant::now() + Duration::from_secs(60);
        while (clean < benign.len() || caught < shells.len()) && Instant::now() < deadline {
            match rx.recv_timeout(Duration::from_secs(5)) {
                Ok(Msg::Clean(p)) if benign.contains(&p) => clean += 1,
                Ok(Msg::Detected(p, ok, _)) if shells.contains(&p) => caught += ok as usize,
                Ok(Msg::Overflow) => overflow = true,
                Ok(Msg::Limit) => limit = true,
                Ok(_) => {}
                Err(_) => break,
            }
        }
        println!(
            "burst: {} benign writes in {:.2} s, all scanned in {:.2} s: {clean}/{} clean events, {caught}/{} shells quarantined, queue overflow: {overflow}, watch limit hit: {limit}",
            benign.len(),
            written.as_secs_f64(),
            t0.elapsed().as_secs_f64(),
            benign.len(),
            shells.len()
        );
        stop.store(true, Ordering::Relaxed);
        let ok = clean == benign.len() && caught == shells.len() && !overflow;
        println!(
            "{}",
            if ok {
                "PASS: no event dropped"
            } else {
                "FAIL: events were dropped"
            }
        );
    });
}
