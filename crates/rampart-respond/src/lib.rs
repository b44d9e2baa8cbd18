//! `rampart respond`: the playbook's instant actions.
//!
//! Every action goes plan → apply → verify → undo. `plan` checks the input and the host
//! and changes nothing; bad input is an error there, before anything changes. Before
//! `apply` touches the host, the exact state needed to undo it is written to the
//! [`journal`] (atomically, fsynced), so `undo` works after a crash or a reboot. Actions
//! that could lock the operator out (firewall, SSH port) arm a detached rollback
//! process first ([`guard`]) that restores the previous state unless
//! `rampart respond confirm` runs in time.

pub mod action;
pub mod actions;
pub mod dbclient;
pub mod engine;
pub mod env;
pub mod error;
pub mod fsutil;
pub mod ftp;
pub mod guard;
pub mod hash;
pub mod inventory;
pub mod journal;
pub mod pwfile;
pub mod spec;
pub mod sshd;

pub use action::{Action, Outcome, Plan, Secret};
pub use engine::{apply, confirm, plan, undo, Applied};
pub use env::{Env, Session};
pub use error::RespondError;
pub use journal::{Journal, Record, State};
pub use spec::ActionSpec;
