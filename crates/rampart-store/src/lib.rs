//! Rampart's persistent state: one SQLite database (`/var/lib/rampart/rampart.db` by
//! default). Each module owns its tables and its list of migrations, recorded in
//! `schema_migrations` as (module, version); a module adds a step by appending to its
//! list, never by editing an applied one.

pub mod bans;

use rusqlite::{params, Connection};
use std::path::{Path, PathBuf};
use thiserror::Error;

#[derive(Debug, Error)]
pub enum StoreError {
    #[error("{path}: {source}")]
    Io { path: PathBuf, source: std::io::Error },
    #[error("{path}: {source}")]
    Sqlite { path: PathBuf, source: rusqlite::Error },
}

pub struct Store {
    conn: Connection,
    path: PathBuf,
}

impl Store {
    /// Opens (creating, with a root-only directory and file) the database at `path` and
    /// applies every module's migrations.
    pub fn open(path: &Path) -> Result<Store, StoreError> {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            if !dir.exists() {
                use std::os::unix::fs::DirBuilderExt;
                std::fs::DirBuilder::new()
                    .recursive(true)
                    .mode(0o700)
                    .create(dir)
                    .map_err(|source| StoreError::Io {
                        path: dir.to_path_buf(),
                        source,
                    })?;
            }
        }
        let conn = Connection::open(path).map_err(|source| StoreError::Sqlite {
            path: path.to_path_buf(),
            source,
        })?;
        {
            use std::os::unix::fs::PermissionsExt;
            let _ = std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600));
        }
        Store::init(conn, path.to_path_buf())
    }

    pub fn open_in_memory() -> Result<Store, StoreError> {
        let conn = Connection::open_in_memory().map_err(|source| StoreError::Sqlite {
            path: PathBuf::from(":memory:"),
            source,
        })?;
        Store::init(conn, PathBuf::from(":memory:"))
    }

    fn init(conn: Connection, path: PathBuf) -> Result<Store, StoreError> {
        let store = Store { conn, path };
        store
            .conn
            .execute_batch(
                "PRAGMA journal_mode = WAL;
                 PRAGMA synchronous = NORMAL;
                 PRAGMA busy_timeout = 5000;
                 CREATE TABLE IF NOT EXISTS schema_migrations (
                     module TEXT NOT NULL,
                     version INTEGER NOT NULL,
                     applied INTEGER NOT NULL,
                     PRIMARY KEY (module, version));",
            )
            .map_err(|e| store.err(e))?;
        store.migrate("bans", bans::MIGRATIONS)?;
        Ok(store)
    }

    pub(crate) fn err(&self, source: rusqlite::Error) -> StoreError {
        StoreError::Sqlite {
            path: self.path.clone(),
            source,
        }
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Applies the steps of `module` not applied yet, each in its own transaction.
    pub fn migrate(&self, module: &str, steps: &[&str]) -> Result<(), StoreError> {
        let done: i64 = self
            .conn
            .query_row(
                "SELECT COALESCE(MAX(version), 0) FROM schema_migrations WHERE module = ?1",
                params![module],
                |r| r.get(0),
            )
            .map_err(|e| self.err(e))?;
        for (i, sql) in steps.iter().enumerate().skip(done.max(0) as usize) {
            let version = i as i64 + 1;
            let tx = self.conn.unchecked_transaction().map_err(|e| self.err(e))?;
            tx.execute_batch(sql).map_err(|e| self.err(e))?;
            tx.execute(
                "INSERT INTO schema_migrations (module, version, applied) VALUES (?1, ?2, strftime('%s','now'))",
                params![module, version],
            )
            .map_err(|e| self.err(e))?;
            tx.commit().map_err(|e| self.err(e))?;
        }
        Ok(())
    }

    /// The connection, for modules of other crates with their own tables.
    pub fn conn(&self) -> &Connection {
        &self.conn
    }

    pub fn bans(&self) -> bans::Bans<'_> {
        bans::Bans { store: self }
    }
}
