//! `rampart config check`: validates the configuration file.

use rampart_guard::config::{Config, DEFAULT_PATH};
use std::path::PathBuf;

#[derive(clap::Args)]
pub struct Args {
    #[command(subcommand)]
    command: Sub,
}

#[derive(clap::Subcommand)]
enum Sub {
    /// Parse and validate the file; errors name the line and the key.
    Check {
        #[arg(long, value_name = "FILE")]
        config: Option<PathBuf>,
    },
}

pub fn run(args: Args) -> anyhow::Result<i32> {
    match args.command {
        Sub::Check { config } => {
            let shown = config.clone().unwrap_or_else(|| PathBuf::from(DEFAULT_PATH));
            match Config::load(config.as_deref()) {
                Ok(_) => {
                    if config.is_none() && !shown.exists() {
                        println!("{}: not present; the defaults apply.", shown.display());
                    } else {
                        println!("{}: OK.", shown.display());
                    }
                    Ok(0)
                }
                Err(e) => {
                    eprintln!("rampart: {e}");
                    Ok(2)
                }
            }
        }
    }
}
