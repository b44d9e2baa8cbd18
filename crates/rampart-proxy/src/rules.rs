//! The running rule set: compiled once, swapped atomically on reload.

use arc_swap::ArcSwap;
use rampart_waf::{Engine, LoadError};
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

/// The engine in force plus what it was loaded from. Requests take a snapshot
/// (`current()`); a reload builds a new engine and swaps it in, so in-flight requests
/// finish with the rules they started with.
pub struct Rules {
    paths: Vec<PathBuf>,
    current: ArcSwap<Engine>,
    generation: AtomicU64,
}

impl Rules {
    pub fn load(paths: Vec<PathBuf>) -> Result<Rules, LoadError> {
        let engine = Engine::from_files(&paths)?;
        Ok(Rules::from_engine(engine, paths))
    }

    /// Wraps an engine built elsewhere; `paths` are used by later reloads.
    pub fn from_engine(engine: Engine, paths: Vec<PathBuf>) -> Rules {
        Rules {
            paths,
            current: ArcSwap::from_pointee(engine),
            generation: AtomicU64::new(0),
        }
    }

    /// Shares one compiled engine between several proxies (tests run many side by side).
    pub fn from_shared(engine: Arc<Engine>, paths: Vec<PathBuf>) -> Rules {
        Rules {
            paths,
            current: ArcSwap::new(engine),
            generation: AtomicU64::new(0),
        }
    }

    pub fn current(&self) -> Arc<Engine> {
        self.current.load_full()
    }

    /// How many reloads succeeded.
    pub fn generation(&self) -> u64 {
        self.generation.load(Ordering::Relaxed)
    }

    pub fn paths(&self) -> &[PathBuf] {
        &self.paths
    }

    /// Loads the rule files again; on error the running rules stay in force.
    /// Blocking (compiles every rule, then waits up to 5 s for requests still using the
    /// old rules): call it off the async workers.
    pub fn reload(&self) -> Result<(), LoadError> {
        let engine = Engine::from_files(&self.paths)?;
        let old = self.current.swap(Arc::new(engine));
        self.generation.fetch_add(1, Ordering::Relaxed);
        release(old);
        Ok(())
    }
}

/// Frees the replaced engine once the requests still using it are done (they hold a
/// clone for one exchange), then hands the freed heap back to the kernel: the compiled
/// CRS is tens of megabytes in many small allocations, and glibc otherwise keeps the
/// freed pages, so the resident size would grow by a whole rule set at the first reloads.
/// (The `rampart` binary allocates with jemalloc, whose background thread does this; the
/// trim is for glibc's allocator, as in the tests.)
fn release(old: Arc<Engine>) {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
    while Arc::strong_count(&old) > 1 && std::time::Instant::now() < deadline {
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    let last = Arc::strong_count(&old) == 1;
    drop(old);
    if last {
        trim_heap();
    }
}

fn trim_heap() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: malloc_trim only returns free memory of the allocator to the kernel.
    unsafe {
        libc::malloc_trim(0);
    }
}
