//! `rampart quarantine list|restore|purge`.

use anyhow::Context as _;
use rampart_quarantine::Quarantine;
use std::path::PathBuf;

#[derive(clap::Args)]
pub struct Args {
    /// The quarantine store.
    #[arg(long, value_name = "DIR", default_value = Quarantine::DEFAULT_DIR, global = true)]
    dir: PathBuf,
    /// JSON output (one item per line).
    #[arg(long, global = true)]
    json: bool,
    #[command(subcommand)]
    action: Action,
}

#[derive(clap::Subcommand)]
enum Action {
    /// List quarantined files.
    List,
    /// Put item ID back where it was, byte-identical, with owner, mode and mtime.
    Restore {
        id: String,
        /// Replace a file that now exists at the original path.
        #[arg(long)]
        force: bool,
    },
    /// Delete item ID for good.
    Purge { id: String },
}

pub fn run(args: Args) -> anyhow::Result<i32> {
    let q = Quarantine::open(&args.dir).with_context(|| format!("opening {}", args.dir.display()))?;
    match args.action {
        Action::List => {
            let (items, errors) = q.list()?;
            for item in &items {
                if args.json {
                    println!("{}", serde_json::to_string(item)?);
                } else {
                    println!(
                        "{}  {}  {} bytes  uid {} gid {} mode {:o}  {}",
                        item.id,
                        item.original_path.display(),
                        item.size,
                        item.uid,
                        item.gid,
                        item.mode,
                        item.reason
                    );
                }
            }
            for e in &errors {
                eprintln!("rampart: {e}");
            }
            if !args.json && items.is_empty() {
                println!("Quarantine {} is empty.", args.dir.display());
            }
            Ok(if errors.is_empty() { 0 } else { 2 })
        }
        Action::Restore { id, force } => {
            let item = q.restore(&id, force)?;
            println!("Restored {} to {}.", item.id, item.original_path.display());
            Ok(0)
        }
        Action::Purge { id } => {
            let item = q.purge(&id)?;
            println!("Purged {} (was {}).", item.id, item.original_path.display());
            Ok(0)
        }
    }
}
