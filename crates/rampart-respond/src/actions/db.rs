//! `db-rotate engine=mariadb|postgresql [user=NAME[@HOST]…|user=all] [length=N]`: new
//! generated passwords for database accounts, set over a real connection (MariaDB as root
//! on its local socket, PostgreSQL as the postgres user on its socket), SQL on stdin with
//! statement logging off for the session. The previous credentials (password hashes) go
//! to the entry's root-only secret file, so undo puts them back. The plan also lists
//! every other credential on the host that should change, with how.

use crate::action::{Action, Outcome, Plan, Secret};
use crate::dbclient::{self, Account, Engine};
use crate::env::Env;
use crate::error::{RespondError, Result};
use crate::inventory;
use crate::journal::Entry;
use crate::spec::ActionSpec;

pub struct DbRotate {
    engine: Engine,
    users: Vec<String>,
    length: usize,
}

impl DbRotate {
    pub fn from_spec(spec: &ActionSpec) -> Result<Self> {
        spec.only_keys(&["engine", "user", "length"])?;
        let engine = Engine::parse(&spec.required("engine")?)?;
        let users = spec.list("user");
        let length = match spec.one("length")? {
            None => 24,
            Some(v) => v
                .parse::<usize>()
                .ok()
                .filter(|n| (12..=128).contains(n))
                .ok_or_else(|| RespondError::Input(format!("db-rotate: length={v}: must be 12-128")))?,
        };
        Ok(DbRotate {
            engine,
            users,
            length,
        })
    }

    /// The accounts to rotate, each checked to exist.
    fn targets(&self) -> Result<Vec<Account>> {
        let all = dbclient::accounts(self.engine)?;
        if self.users.is_empty() || self.users.iter().any(|u| u == "all") {
            let v: Vec<Account> = all
                .into_iter()
                .filter(|a| !dbclient::is_system(self.engine, a))
                .collect();
            if v.is_empty() {
                return Err(RespondError::Precondition(format!(
                    "{}: no non-system accounts to rotate",
                    self.engine.name()
                )));
            }
            return Ok(v);
        }
        let mut out = Vec::new();
        for u in &self.users {
            let (name, host) = match (self.engine, u.split_once('@')) {
                (Engine::MariaDb, Some((n, h))) => (n, Some(h)),
                _ => (u.as_str(), None),
            };
            let hits: Vec<&Account> = all
                .iter()
                .filter(|a| a.user == name && host.is_none_or(|h| a.host == h))
                .collect();
            if hits.is_empty() {
                return Err(RespondError::Precondition(format!(
                    "{}: unknown database user {u:?}",
                    self.engine.name()
                )));
            }
            out.extend(hits.into_iter().cloned());
        }
        out.dedup();
        Ok(out)
    }
}

impl Action for DbRotate {
    fn name(&self) -> &'static str {
        "db-rotate"
    }

    fn plan(&self, env: &Env) -> Result<Plan> {
        let targets = self.targets()?;
        let mut plan = Plan::default();
        let verb = match self.engine {
            Engine::MariaDb => "ALTER USER … IDENTIFIED BY",
            Engine::Postgres => "ALTER ROLE … PASSWORD",
        };
        for a in &targets {
            plan.changes.push(format!(
                "{}: new generated {}-character password for {a} ({verb}, over the local socket)",
                self.engine.name(),
                self.length
            ));
        }
        plan.warnings.push(
            "applications that use these accounts need the new passwords in their configuration".into(),
        );
        let other = match self.engine {
            Engine::MariaDb => Engine::Postgres,
            Engine::Postgres => Engine::MariaDb,
        };
        if let Ok(accts) = inventory::database_accounts(other) {
            for a in accts {
                plan.warnings.push(format!(
                    "also change: {} account {a} — rampart respond apply db-rotate engine={} user={}",
                    other.name(),
                    other.name(),
                    if a.host.is_empty() {
                        a.user.clone()
                    } else {
                        format!("{}@{}", a.user, a.host)
                    }
                ));
            }
        }
        for c in inventory::other_credentials(env) {
            plan.warnings.push(format!("also change: {} — {}", c.what, c.how));
        }
        Ok(plan)
    }

    fn apply(&self, _env: &Env, entry: &mut Entry) -> Result<Outcome> {
        let targets = self.targets()?;
        let mut restore = String::new();
        for a in &targets {
            restore.push_str(&dbclient::restore_statement(self.engine, a)?);
            restore.push('\n');
        }
        entry.write_secret(restore.as_bytes())?;
        entry.put("accounts", &targets)?;
        entry.commit()?;
        let mut out = Outcome::default();
        let mut sql = String::from(dbclient::quiet_prefix(self.engine));
        for a in &targets {
            let pw =
                rampart_passwd::generate(self.length).map_err(|e| RespondError::failed("generate", e))?;
            sql.push_str(&dbclient::set_password_statement(self.engine, a, &pw));
            sql.push('\n');
            out.done
                .push(format!("{} {a}: new password set", self.engine.name()));
            out.secrets.push(Secret {
                label: format!("{} {a}", self.engine.name()),
                value: pw,
            });
        }
        if self.engine == Engine::MariaDb {
            sql.push_str("FLUSH PRIVILEGES;\n");
        }
        // One session, stop at the first error: all passwords are set or the error says which.
        dbclient::query(self.engine, &sql).map_err(|e| RespondError::failed(self.engine.name(), e))?;
        Ok(out)
    }

    fn verify(&self, _env: &Env, entry: &Entry) -> Result<()> {
        let before = String::from_utf8_lossy(&entry.read_secret()?).into_owned();
        let accounts: Vec<Account> = entry.get("accounts")?;
        for a in &accounts {
            let now = dbclient::restore_statement(self.engine, a)?;
            if before.lines().any(|l| l == now) {
                return Err(RespondError::failed(format!("{a}"), "credentials unchanged"));
            }
        }
        Ok(())
    }

    fn undo(&self, _env: &Env, entry: &Entry) -> Result<Vec<String>> {
        let Ok(secret) = entry.read_secret() else {
            return Ok(vec!["nothing had been changed".into()]);
        };
        let accounts: Vec<Account> = entry.get("accounts").unwrap_or_default();
        let mut sql = String::from(dbclient::quiet_prefix(self.engine));
        sql.push_str(&String::from_utf8_lossy(&secret));
        if self.engine == Engine::MariaDb {
            sql.push_str("FLUSH PRIVILEGES;\n");
        }
        dbclient::query(self.engine, &sql)?;
        Ok(accounts
            .iter()
            .map(|a| format!("{} {a}: previous password restored", self.engine.name()))
            .collect())
    }
}
