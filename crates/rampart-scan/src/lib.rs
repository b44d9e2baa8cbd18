//! `rampart scan`: a parallel, symlink-safe walk of web roots and temporary directories
//! that runs YARA-X signatures (the project's `rules/` plus the operator's) and the
//! `rampart-script` analyzer over every file, and the real-time watcher that does the same
//! for each file as it is written.

pub mod engine;
pub mod prefilter;
pub mod walk;
pub mod watch;

pub use engine::{ContentVerdict, Engine, EngineError, RuleMatch};
pub use walk::{scan, Detection, Options, Progress, Summary};

/// Score from which a file is a detection (the analyzer's threshold, shared by rules).
pub const DETECT: u32 = rampart_script::MALICIOUS;
