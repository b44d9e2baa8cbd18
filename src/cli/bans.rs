//! `rampart bans list|add|del`: the bans of `rampart guard`, by hand.

use anyhow::Context as _;
use rampart_guard::config::{Config, Secs};
use rampart_guard::daemon::{manual_ban, manual_unban};
use rampart_guard::engine::unix_now;
use rampart_guard::net::Net;
use std::path::PathBuf;

#[derive(clap::Args)]
pub struct Args {
    #[command(subcommand)]
    command: Sub,
    /// Configuration file (database path, network namespace).
    #[arg(long, value_name = "FILE", global = true)]
    config: Option<PathBuf>,
    /// JSON lines.
    #[arg(long, global = true)]
    json: bool,
}

#[derive(clap::Subcommand)]
enum Sub {
    /// Running bans (with --all, expired ones still remembered for escalation).
    List {
        #[arg(long)]
        all: bool,
    },
    /// Ban an address (an IPv6 address is banned with its configured prefix).
    Add {
        addr: String,
        /// How long (90s, 10m, 1h, 1d, 1w); default: the configured ban time.
        #[arg(long = "time", value_name = "DURATION")]
        time: Option<String>,
    },
    /// Lift a ban.
    Del { addr: String },
}

fn net_of(s: &str, v6_prefix: u8) -> anyhow::Result<Net> {
    let n: Net = s.parse().map_err(|e: String| anyhow::anyhow!(e))?;
    Ok(if n.is_host() {
        Net::of(n.addr, 32, v6_prefix)
    } else {
        n
    })
}

pub fn run(args: Args) -> anyhow::Result<i32> {
    let cfg = Config::load(args.config.as_deref())?.guard;
    let store =
        rampart_store::Store::open(&cfg.db).with_context(|| format!("opening {}", cfg.db.display()))?;
    let nft = super::guard::nft_of(&cfg);
    let now = unix_now();
    match args.command {
        Sub::List { all } => {
            let recs = if all {
                store.bans().all()?
            } else {
                store.bans().active(now)?
            };
            for r in recs {
                if args.json {
                    println!(
                        "{}",
                        serde_json::json!({"net": r.net, "addr": r.addr, "service": r.service, "rule": r.rule,
                            "failures": r.failures, "offence": r.offence, "created": r.created,
                            "expires": r.expires, "remaining_secs": (r.expires - now).max(0)})
                    );
                } else {
                    println!(
                        "{:<40} {:<9} {:<11} offence {:<3} {}",
                        r.net,
                        r.service,
                        r.rule,
                        r.offence,
                        if r.expires > now {
                            format!("{} s left", r.expires - now)
                        } else {
                            "expired".into()
                        }
                    );
                }
            }
        }
        Sub::Add { addr, time } => {
            let net = net_of(&addr, cfg.ipv6_prefix)?;
            let secs = match time {
                Some(t) => Secs::parse(&t).map_err(|e| anyhow::anyhow!("--time: {e}"))?.0,
                None => cfg.ban_time.0,
            };
            if secs == 0 {
                anyhow::bail!("--time must be positive");
            }
            let rec = manual_ban(&store, nft.as_ref(), net, secs)?;
            if args.json {
                println!(
                    "{}",
                    serde_json::json!({"type": "ban", "net": rec.net, "expires": rec.expires})
                );
            } else {
                println!("Banned {} for {} s.", rec.net, secs);
            }
        }
        Sub::Del { addr } => {
            let net = net_of(&addr, cfg.ipv6_prefix)?;
            let lifted = manual_unban(&store, nft.as_ref(), net)?;
            if args.json {
                println!(
                    "{}",
                    serde_json::json!({"type": "unban", "net": net.to_string(), "lifted": lifted})
                );
            } else if lifted {
                println!("Lifted the ban of {net}.");
            } else {
                println!("{net} was not banned.");
            }
            if !lifted {
                return Ok(1);
            }
        }
    }
    Ok(0)
}
