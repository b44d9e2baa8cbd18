//! Shared types of Rampart.
//!
//! Every capability crate speaks in [`Finding`]s collected into a [`Report`], reads the
//! host only through a [`HostRoot`] (so tests run against synthetic trees and operators
//! can analyse a mounted disk image) and runs external programs only through
//! [`cmd::run`] (argument vectors, never a shell string).

pub mod cmd;
pub mod finding;
pub mod host;
pub mod render;
pub mod report;
pub mod time;

pub use finding::{Evidence, Finding, Severity, Step};
pub use host::{HostError, HostRoot};
pub use report::{CheckError, Report, Skipped};
