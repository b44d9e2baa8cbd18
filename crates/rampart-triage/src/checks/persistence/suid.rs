//! SUID and SGID files: a parallel walk of the places programs live (and the temp and
//! home directories where they must not), never following links, one file system per
//! walk root on a live host, bounded in depth and count. Each file found is compared with
//! the dpkg file lists.

use super::Owners;
use crate::context::{Context, Out};
use rampart_core::{Evidence, Finding, Severity, Step};
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::PathBuf;
use std::sync::{Condvar, Mutex};

const ROOTS: &[&str] = &[
    "/usr", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32", "/opt", "/tmp", "/var/tmp", "/dev/shm",
    "/home", "/root", "/srv", "/var/www",
];
/// Where a SUID file is never legitimate.
const NEVER: &[&str] = &["/tmp/", "/var/tmp/", "/dev/shm/", "/home/", "/root/"];
const MAX_DEPTH: usize = 40;
/// Home directories hold whole toolchains (hundreds of thousands of files under
/// ~/.rustup or ~/.pyenv); planted SUID shells sit near the top. `--deep` searches all.
const HOME_DEPTH: usize = 5;
const HOMES: &[&str] = &["/home", "/root"];
/// Entries looked at before the walk stops (and says so).
const MAX_ENTRIES: usize = 3_000_000;
const MAX_THREADS: usize = 4;

#[derive(Debug, Clone)]
pub struct Special {
    pub host_path: String,
    pub mode: u32,
    pub uid: u32,
    pub gid: u32,
    pub size: u64,
    pub mtime: i64,
}

#[derive(Debug, Default)]
pub struct Walk {
    pub found: Vec<Special>,
    /// Directories that could not be read: (host path, error).
    pub unreadable: Vec<(String, String)>,
    pub denied: usize,
    pub entries: usize,
    pub capped: bool,
    /// Directories in homes below HOME_DEPTH that were not searched.
    pub pruned: usize,
}

struct Task {
    local: PathBuf,
    depth: usize,
    max_depth: usize,
    dev: u64,
}

struct Queue {
    tasks: Vec<Task>,
    busy: usize,
}

pub fn walk(ctx: &Context) -> Walk {
    let mut initial = Vec::new();
    let mut result = Walk::default();
    for root in ROOTS {
        // `/bin -> usr/bin` on merged-/usr systems: the link is not followed, /usr is walked.
        let Ok(md) = ctx.host.symlink_metadata(root) else {
            continue;
        };
        if !md.is_dir() {
            continue;
        }
        let max_depth = if HOMES.contains(root) && !ctx.options.deep_integrity {
            HOME_DEPTH
        } else {
            MAX_DEPTH
        };
        match ctx.host.resolve(root) {
            Ok(local) => initial.push(Task {
                local,
                depth: 0,
                max_depth,
                dev: md.dev(),
            }),
            Err(e) => result.unreadable.push((root.to_string(), e.to_string())),
        }
    }
    let live = ctx.host.is_live();
    let queue = Mutex::new(Queue {
        tasks: initial,
        busy: 0,
    });
    let cv = Condvar::new();
    let total = std::sync::atomic::AtomicUsize::new(0);
    let threads = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(2)
        .clamp(2, MAX_THREADS);
    let parts: Vec<Walk> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..threads)
            .map(|_| s.spawn(|| worker(ctx, live, &queue, &cv, &total)))
            .collect();
        handles.into_iter().filter_map(|h| h.join().ok()).collect()
    });
    for p in parts {
        result.found.extend(p.found);
        result.unreadable.extend(p.unreadable);
        result.denied += p.denied;
        result.entries += p.entries;
        result.capped |= p.capped;
        result.pruned += p.pruned;
    }
    result.found.sort_by(|a, b| a.host_path.cmp(&b.host_path));
    result.unreadable.sort();
    result
}

fn worker(
    ctx: &Context,
    live: bool,
    queue: &Mutex<Queue>,
    cv: &Condvar,
    total: &std::sync::atomic::AtomicUsize,
) -> Walk {
    use std::sync::atomic::Ordering;
    let mut w = Walk::default();
    loop {
        let task = {
            let mut q = queue.lock().unwrap_or_else(|e| e.into_inner());
            loop {
                if let Some(t) = q.tasks.pop() {
                    q.busy += 1;
                    break Some(t);
                }
                if q.busy == 0 {
                    cv.notify_all();
                    break None;
                }
                q = cv.wait(q).unwrap_or_else(|e| e.into_inner());
            }
        };
        let Some(task) = task else { return w };
        let mut subdirs = Vec::new();
        match std::fs::read_dir(&task.local) {
            Ok(rd) => {
                for entry in rd.flatten() {
                    w.entries += 1;
                    if total.fetch_add(1, Ordering::Relaxed) >= MAX_ENTRIES {
                        w.capped = true;
                        break;
                    }
                    let Ok(ft) = entry.file_type() else { continue };
                    if ft.is_symlink() {
                        continue;
                    }
                    if ft.is_dir() {
                        if task.depth + 1 >= task.max_depth && task.max_depth < MAX_DEPTH {
                            w.pruned += 1;
                        } else if task.depth + 1 >= MAX_DEPTH {
                            w.unreadable.push((
                                ctx.host.host_path_of(&entry.path()),
                                format!("deeper than {MAX_DEPTH} levels; not searched"),
                            ));
                        } else if !live || entry.metadata().is_ok_and(|md| md.dev() == task.dev) {
                            subdirs.push(Task {
                                local: entry.path(),
                                depth: task.depth + 1,
                                max_depth: task.max_depth,
                                dev: task.dev,
                            });
                        }
                    } else if ft.is_file() {
                        // DirEntry::metadata is an lstat relative to the directory handle.
                        let Ok(md) = entry.metadata() else { continue };
                        if md.permissions().mode() & 0o6000 == 0 {
                            continue;
                        }
                        w.found.push(Special {
                            host_path: ctx.host.host_path_of(&entry.path()),
                            mode: md.permissions().mode(),
                            uid: md.uid(),
                            gid: md.gid(),
                            size: md.len(),
                            mtime: md.mtime(),
                        });
                    }
                }
            }
            Err(e) if e.kind() == std::io::ErrorKind::PermissionDenied => {
                w.denied += 1;
                w.unreadable
                    .push((ctx.host.host_path_of(&task.local), "permission denied".into()));
            }
            Err(e) => w
                .unreadable
                .push((ctx.host.host_path_of(&task.local), e.to_string())),
        }
        let mut q = queue.lock().unwrap_or_else(|e| e.into_inner());
        q.tasks.extend(subdirs);
        q.busy -= 1;
        cv.notify_all();
    }
}

pub fn report(ctx: &Context, w: Walk, owners: &Owners, out: &mut Out) {
    if w.capped {
        out.error(
            "SUID search",
            format!("stopped after {MAX_ENTRIES} entries; SUID files further on were not searched"),
        );
    }
    if !w.unreadable.is_empty() {
        let denied_only = w.denied == w.unreadable.len();
        let (first, why) = &w.unreadable[0];
        let msg = format!(
            "{} director{} could not be searched for SUID files (first: {first}: {why})",
            w.unreadable.len(),
            if w.unreadable.len() == 1 { "y" } else { "ies" }
        );
        if denied_only && !ctx.is_root {
            out.skip(format!("{msg}; run as root to search them"));
        } else {
            out.error(first.clone(), msg);
        }
    }
    if w.pruned > 0 {
        out.skip(format!(
            "SUID search went {HOME_DEPTH} levels deep into /home and /root ({} deeper directories not \
             searched); --deep searches them all",
            w.pruned
        ));
    }
    if !owners.known() && !w.found.is_empty() {
        out.skip(format!(
            "{} SUID/SGID files found but not compared with packages (no dpkg database)",
            w.found.len()
        ));
    }
    let users = ctx.accounts();
    let name_of = |uid: u32| {
        users
            .passwd
            .iter()
            .find(|p| p.uid == uid)
            .map(|p| p.name.clone())
            .unwrap_or_else(|| uid.to_string())
    };
    for f in &w.found {
        let in_never = NEVER.iter().any(|d| f.host_path.starts_with(d));
        let owner = owners.owner(&f.host_path);
        let suid_root = f.mode & 0o4000 != 0 && f.uid == 0;
        let bits = match (f.mode & 0o4000 != 0, f.mode & 0o2000 != 0) {
            (true, true) => "SUID+SGID",
            (true, false) => "SUID",
            _ => "SGID",
        };
        let (id, severity, why) = if in_never {
            (
                "persistence.suid-temp",
                Severity::Critical,
                "in a temp or home directory",
            )
        } else if owner == Some(None) {
            (
                "persistence.suid-unowned",
                if suid_root {
                    Severity::High
                } else {
                    Severity::Medium
                },
                "that no package installed",
            )
        } else {
            continue;
        };
        let detail = format!(
            "mode {:04o}, owner {}, group {}, {} bytes, modified {}",
            f.mode & 0o7777,
            name_of(f.uid),
            f.gid,
            f.size,
            crate::checks::accounts::date(f.mtime)
        );
        out.finding(
            Finding::new(
                id,
                severity,
                Step::Persistence,
                format!("{bits} file {why}: {}", f.host_path),
            )
            .evidence(Evidence::file(f.host_path.clone(), None, detail))
            .remedy(format!(
                "A {bits} program gives whoever runs it its owner's rights. Keep a copy for analysis, \
                     then `chmod u-s,g-s {}` (or remove it) unless you installed it on purpose.",
                f.host_path
            )),
        );
    }
}
