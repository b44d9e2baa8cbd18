//! Rampart's WAF reverse proxy: an HTTP/1.1 front end that runs the SecLang engine's
//! phases 1–5 around a pooled upstream client.
//!
//! The front end parses requests itself (see [`http1::head`]) instead of using hyper's
//! server: the WAF must see malformed and hostile requests exactly as sent and answer
//! them the way Apache httpd does, which the CRS regression suite checks. The upstream
//! side is a small HTTP/1.1 client run by the same task (see [`upstream`]).

pub mod config;
mod conn;
pub mod http1;
pub mod logs;
pub mod paths;
pub mod rules;
mod server;
pub mod tls;
pub mod upstream;
mod workers;

pub use config::{Limits, ProxyConfig, TlsFiles};
pub use rules::Rules;
pub use server::{default_workers, reload_on_sighup, run_blocking, start, ProxyError, RunningProxy};
