//! Rampart's WAF reverse proxy (work in progress: the engine-facing parts land once the
//! rule engine's API compiles).

pub mod config;
pub mod http1;
pub mod logs;
pub mod tls;
pub mod upstream;
