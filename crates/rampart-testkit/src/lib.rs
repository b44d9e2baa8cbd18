//! Fixtures shared by Rampart's integration tests (a dev-dependency only, never shipped).
//!
//! Real components, not mocks: network namespaces made by the test ([`netns`]), a real
//! sshd with a generated host key inside one ([`sshd`]), the real ssh client logging in
//! with a key or a password ([`ssh`]). Everything a fixture creates is removed on drop,
//! also when the test fails. Commands are argument vectors, never shell strings.

#[cfg(feature = "crs")]
pub mod crs;
pub mod fs;
pub mod netns;
pub mod process;
pub mod require;
pub mod rng;
pub mod ssh;
pub mod sshd;
pub mod wait;

pub use netns::Netns;
pub use process::{run, stderr, stdout, KillOnDrop};
pub use ssh::{Auth, Login};
pub use sshd::{Sshd, SshdConfig};
