//! `rampart guard`: host password-cracking defense.
//!
//! Data flows one way: [`source`]s (followed files, the journal, a replayed file)
//! yield lines → [`parse`] turns a line into an [`parse::Event`] → [`detect`] counts
//! events per address and service and decides bans → the daemon enforces them with
//! [`rampart_nft::bans`] and records them in [`rampart_store`].

pub mod config;
pub mod daemon;
pub mod detect;
pub mod engine;
pub mod events;
pub mod net;
pub mod parse;
pub mod replay;
pub mod source;
pub mod status;
pub mod webshell;

use thiserror::Error;

#[derive(Debug, Error)]
pub enum GuardError {
    #[error("{path}: {source}")]
    Io { path: String, source: std::io::Error },
    #[error(transparent)]
    Config(#[from] config::ConfigError),
    #[error(transparent)]
    Nft(#[from] rampart_nft::NftError),
    #[error(transparent)]
    Store(#[from] rampart_store::StoreError),
    #[error("{0}")]
    Other(String),
}
