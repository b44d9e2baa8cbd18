//! `rampart triage`: read-only checks over a [`HostRoot`], one module per family.
//!
//! A check never changes the host and never fails the run: what it cannot read becomes
//! a counted [`CheckError`](rampart_core::CheckError) naming the file, and the other
//! checks go on.

pub mod checks;
pub mod context;
pub mod dpkg;
pub mod etc;
pub mod http_probe;
pub mod pam;
pub mod procnet;
pub mod runner;
pub mod sshd_config;
pub mod suspicious;

pub use context::{Context, Options, Out};
pub use runner::{run, Check};
