//! Minimal runner for profiling the proxy without building the whole `rampart` binary:
//! `cargo run --release -p rampart-proxy --example serve -- LISTEN UPSTREAM RULES...`

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.len() < 3 {
        eprintln!("usage: serve LISTEN UPSTREAM RULES...");
        std::process::exit(2);
    }
    let rules = rampart_proxy::paths::expand_rule_paths(&args[2..]).unwrap_or_else(|e| {
        eprintln!("{e}");
        std::process::exit(2)
    });
    let config = rampart_proxy::ProxyConfig {
        listen: args[0].parse().expect("LISTEN address"),
        upstream: args[1].clone(),
        rules,
        error_log: std::env::var_os("ERROR_LOG").map(Into::into),
        audit_log: None,
        tls: None,
        limits: rampart_proxy::Limits::default(),
        workers: std::env::var("WORKERS")
            .ok()
            .and_then(|w| w.parse().ok())
            .unwrap_or(0),
    };
    if let Err(e) = rampart_proxy::run_blocking(config) {
        eprintln!("{e}");
        std::process::exit(1);
    }
}
