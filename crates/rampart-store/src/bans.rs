//! Bans decided by `rampart guard` (or added by hand), kept after they expire so a
//! returning offender's ban time keeps escalating across restarts.

use crate::{Store, StoreError};
use rusqlite::{params, OptionalExtension, Row};

pub const MIGRATIONS: &[&str] = &["CREATE TABLE bans (
        net TEXT PRIMARY KEY,
        addr TEXT NOT NULL,
        service TEXT NOT NULL,
        rule TEXT NOT NULL,
        failures INTEGER NOT NULL,
        offence INTEGER NOT NULL,
        created INTEGER NOT NULL,
        expires INTEGER NOT NULL);
     CREATE INDEX bans_expires ON bans (expires);"];

/// One ban; times are Unix seconds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BanRecord {
    /// `1.2.3.4` or `2001:db8::/64`.
    pub net: String,
    /// The address whose failures led to the ban.
    pub addr: String,
    pub service: String,
    pub rule: String,
    pub failures: u32,
    pub offence: u32,
    pub created: i64,
    pub expires: i64,
}

pub struct Bans<'a> {
    pub(crate) store: &'a Store,
}

fn row(r: &Row<'_>) -> rusqlite::Result<BanRecord> {
    Ok(BanRecord {
        net: r.get(0)?,
        addr: r.get(1)?,
        service: r.get(2)?,
        rule: r.get(3)?,
        failures: r.get(4)?,
        offence: r.get(5)?,
        created: r.get(6)?,
        expires: r.get(7)?,
    })
}

const COLS: &str = "net, addr, service, rule, failures, offence, created, expires";

impl Bans<'_> {
    /// Inserts or replaces the ban of `b.net`.
    pub fn upsert(&self, b: &BanRecord) -> Result<(), StoreError> {
        self.upsert_many(std::slice::from_ref(b))
    }

    /// Many bans in one transaction (a flood of decisions costs one fsync).
    pub fn upsert_many(&self, bans: &[BanRecord]) -> Result<(), StoreError> {
        let s = self.store;
        let tx = s.conn.unchecked_transaction().map_err(|e| s.err(e))?;
        {
            let mut st = tx
                .prepare_cached(&format!(
                    "INSERT OR REPLACE INTO bans ({COLS}) VALUES (?1,?2,?3,?4,?5,?6,?7,?8)"
                ))
                .map_err(|e| s.err(e))?;
            for b in bans {
                st.execute(params![
                    b.net, b.addr, b.service, b.rule, b.failures, b.offence, b.created, b.expires
                ])
                .map_err(|e| s.err(e))?;
            }
        }
        tx.commit().map_err(|e| s.err(e))
    }

    /// Ends the ban of `net` now (the record stays for escalation); false if none was active.
    pub fn lift(&self, net: &str, now: i64) -> Result<bool, StoreError> {
        let s = self.store;
        let n = s
            .conn
            .execute(
                "UPDATE bans SET expires = ?2 WHERE net = ?1 AND expires > ?2",
                params![net, now],
            )
            .map_err(|e| s.err(e))?;
        Ok(n > 0)
    }

    pub fn get(&self, net: &str) -> Result<Option<BanRecord>, StoreError> {
        let s = self.store;
        s.conn
            .query_row(
                &format!("SELECT {COLS} FROM bans WHERE net = ?1"),
                params![net],
                row,
            )
            .optional()
            .map_err(|e| s.err(e))
    }

    /// Bans still running at `now`, soonest expiry first.
    pub fn active(&self, now: i64) -> Result<Vec<BanRecord>, StoreError> {
        self.query(
            &format!("SELECT {COLS} FROM bans WHERE expires > ?1 ORDER BY expires"),
            now,
        )
    }

    /// Every record, expired ones included.
    pub fn all(&self) -> Result<Vec<BanRecord>, StoreError> {
        self.query(
            &format!("SELECT {COLS} FROM bans WHERE ?1 = ?1 ORDER BY created"),
            0,
        )
    }

    fn query(&self, sql: &str, arg: i64) -> Result<Vec<BanRecord>, StoreError> {
        let s = self.store;
        let mut st = s.conn.prepare_cached(sql).map_err(|e| s.err(e))?;
        let rows = st.query_map(params![arg], row).map_err(|e| s.err(e))?;
        rows.collect::<Result<Vec<_>, _>>().map_err(|e| s.err(e))
    }

    /// Forgets records that expired before `before` (offences too old to escalate).
    pub fn purge(&self, before: i64) -> Result<usize, StoreError> {
        let s = self.store;
        s.conn
            .execute("DELETE FROM bans WHERE expires < ?1", params![before])
            .map_err(|e| s.err(e))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rec(net: &str, expires: i64) -> BanRecord {
        BanRecord {
            net: net.into(),
            addr: net.split('/').next().unwrap().into(),
            service: "ssh".into(),
            rule: "burst".into(),
            failures: 5,
            offence: 1,
            created: 100,
            expires,
        }
    }

    #[test]
    fn bans_round_trip_and_survive_reopening() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("sub/rampart.db");
        {
            let s = Store::open(&path).unwrap();
            s.bans().upsert(&rec("192.0.2.1", 1000)).unwrap();
            s.bans()
                .upsert_many(&[rec("2001:db8::/64", 2000), rec("192.0.2.2", 50)])
                .unwrap();
            let mut again = rec("192.0.2.1", 3000);
            again.offence = 2;
            s.bans().upsert(&again).unwrap();
        }
        let s = Store::open(&path).unwrap();
        let active = s.bans().active(100).unwrap();
        assert_eq!(
            active.iter().map(|b| b.net.as_str()).collect::<Vec<_>>(),
            ["2001:db8::/64", "192.0.2.1"]
        );
        assert_eq!(s.bans().get("192.0.2.1").unwrap().unwrap().offence, 2);
        assert!(s.bans().lift("192.0.2.1", 200).unwrap());
        assert!(!s.bans().lift("192.0.2.1", 200).unwrap());
        assert_eq!(s.bans().active(200).unwrap().len(), 1);
        assert_eq!(s.bans().all().unwrap().len(), 3);
        assert_eq!(s.bans().purge(100).unwrap(), 1);
        let mode = std::fs::metadata(&path).unwrap();
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(mode.permissions().mode() & 0o777, 0o600);
    }

    #[test]
    fn migrations_run_once_per_module() {
        let s = Store::open_in_memory().unwrap();
        let steps = ["CREATE TABLE t (x INTEGER)", "ALTER TABLE t ADD COLUMN y INTEGER"];
        s.migrate("test", &steps[..1]).unwrap();
        s.migrate("test", &steps[..1]).unwrap();
        s.migrate("test", &steps).unwrap();
        s.conn()
            .execute("INSERT INTO t (x, y) VALUES (1, 2)", [])
            .unwrap();
        let n: i64 = s
            .conn()
            .query_row(
                "SELECT COUNT(*) FROM schema_migrations WHERE module = 'test'",
                [],
                |r| r.get(0),
            )
            .unwrap();
        assert_eq!(n, 2);
    }
}
