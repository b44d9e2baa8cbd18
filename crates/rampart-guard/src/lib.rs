//! `rampart guard`: host password-cracking defense.
//!
//! Data flows one way: [`source`]s (followed files, the journal, a replayed file)
//! yield lines → [`parse`] turns a line into an [`parse::Event`] → [`detect`] counts
//! events per address and service and decides bans → the daemon enforces them with
//! [`rampart_nft::bans`] and records them in [`rampart_store`].

pub mod parse;
