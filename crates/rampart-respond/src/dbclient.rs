//! Talking to the local database servers through their own clients, SQL on stdin (never
//! a password in argv): MariaDB/MySQL as root over the local socket, PostgreSQL as the
//! `postgres` OS user over its socket.

use crate::error::{RespondError, Result};
use rampart_core::cmd::{self, Options};
use std::time::Duration;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Engine {
    MariaDb,
    Postgres,
}

impl Engine {
    pub fn parse(s: &str) -> Result<Engine> {
        match s.to_ascii_lowercase().as_str() {
            "mariadb" | "mysql" => Ok(Engine::MariaDb),
            "postgresql" | "postgres" | "pgsql" => Ok(Engine::Postgres),
            _ => Err(RespondError::Input(format!(
                "db-rotate: engine={s}: expected mariadb (or mysql) or postgresql"
            ))),
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Engine::MariaDb => "mariadb",
            Engine::Postgres => "postgresql",
        }
    }
}

/// `'text'` as a MariaDB string literal.
pub fn my_str(s: &str) -> String {
    format!(
        "'{}'",
        s.replace('\\', "\\\\").replace('\'', "\\'").replace('\0', "\\0")
    )
}

/// `'text'` as a PostgreSQL string literal (standard_conforming_strings).
pub fn pg_str(s: &str) -> String {
    format!("'{}'", s.replace('\'', "''"))
}

/// `"name"` as a PostgreSQL identifier.
pub fn pg_ident(s: &str) -> String {
    format!("\"{}\"", s.replace('"', "\"\""))
}

fn mariadb_client() -> Result<&'static str> {
    ["mariadb", "mysql"]
        .into_iter()
        .find(|c| cmd::which(c).is_some())
        .ok_or_else(|| RespondError::Precondition("the mariadb (or mysql) client is not installed".into()))
}

/// Runs `sql` and returns the rows, tab-separated columns (MariaDB) or `|` (PostgreSQL).
pub fn query(engine: Engine, sql: &str) -> Result<Vec<Vec<String>>> {
    let opts = Options {
        timeout: Duration::from_secs(30),
        stdin: Some(sql.as_bytes().to_vec()),
        ..Default::default()
    };
    let (out, sep, what) = match engine {
        Engine::MariaDb => {
            let client = mariadb_client()?;
            (
                cmd::run_with(
                    client,
                    ["--protocol=socket", "-u", "root", "-N", "-B", "-r"],
                    &opts,
                )?,
                '\t',
                client,
            )
        }
        Engine::Postgres => {
            if cmd::which("psql").is_none() {
                return Err(RespondError::Precondition(
                    "psql (postgresql-client) is not installed".into(),
                ));
            }
            (
                cmd::run_with(
                    "runuser",
                    [
                        "-u",
                        "postgres",
                        "--",
                        "psql",
                        "-X",
                        "-q",
                        "-A",
                        "-t",
                        "-F",
                        "|",
                        "-v",
                        "ON_ERROR_STOP=1",
                        "-d",
                        "postgres",
                    ],
                    &opts,
                )?,
                '|',
                "psql",
            )
        }
    };
    if !out.success() {
        return Err(RespondError::Precondition(format!(
            "{what}: {}",
            String::from_utf8_lossy(&out.stderr).trim()
        )));
    }
    Ok(out
        .stdout_text()
        .lines()
        .filter(|l| !l.is_empty())
        .map(|l| l.split(sep).map(str::to_string).collect())
        .collect())
}

/// A database account: MariaDB `user@host`, PostgreSQL role name (host empty).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Account {
    pub user: String,
    pub host: String,
}

impl std::fmt::Display for Account {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.host.is_empty() {
            write!(f, "{}", self.user)
        } else {
            write!(f, "'{}'@'{}'", self.user, self.host)
        }
    }
}

impl Account {
    pub fn sql(&self, engine: Engine) -> String {
        match engine {
            Engine::MariaDb => format!("{}@{}", my_str(&self.user), my_str(&self.host)),
            Engine::Postgres => pg_ident(&self.user),
        }
    }
}

/// Accounts Rampart never rotates with `user=all`: the server's own and the anonymous one.
pub fn is_system(engine: Engine, a: &Account) -> bool {
    match engine {
        Engine::MariaDb => {
            matches!(
                a.user.as_str(),
                "" | "root"
                    | "mysql"
                    | "mariadb.sys"
                    | "debian-sys-maint"
                    | "mysql.sys"
                    | "mysql.session"
                    | "mysql.infoschema"
            )
        }
        Engine::Postgres => a.user == "postgres" || a.user.starts_with("pg_"),
    }
}

/// Every account that can log in.
pub fn accounts(engine: Engine) -> Result<Vec<Account>> {
    let rows = match engine {
        Engine::MariaDb => query(engine, "SELECT User, Host FROM mysql.user ORDER BY User, Host;")?,
        Engine::Postgres => query(
            engine,
            "SELECT rolname FROM pg_roles WHERE rolcanlogin ORDER BY rolname;",
        )?,
    };
    Ok(rows
        .into_iter()
        .map(|r| Account {
            user: r.first().cloned().unwrap_or_default(),
            host: r.get(1).cloned().unwrap_or_default(),
        })
        .collect())
}

/// The statement that puts `a`'s current credentials back (a secret: it holds the hash).
pub fn restore_statement(engine: Engine, a: &Account) -> Result<String> {
    match engine {
        Engine::MariaDb => {
            let rows = query(engine, &format!("SHOW CREATE USER {};", a.sql(engine)))?;
            let create = rows.first().and_then(|r| r.first()).cloned().unwrap_or_default();
            // `CREATE USER `u`@`h` IDENTIFIED BY PASSWORD '*…'` → the same options as ALTER USER.
            let rest = create
                .strip_prefix("CREATE USER ")
                .and_then(|r| r.find(' ').map(|i| &r[i..]))
                .unwrap_or("");
            Ok(format!("ALTER USER {}{rest};", a.sql(engine)))
        }
        Engine::Postgres => {
            let rows = query(
                engine,
                &format!(
                    "SELECT coalesce(rolpassword, '') FROM pg_authid WHERE rolname = {};",
                    pg_str(&a.user)
                ),
            )?;
            let old = rows.first().and_then(|r| r.first()).cloned().unwrap_or_default();
            let pw = if old.is_empty() {
                "NULL".to_string()
            } else {
                pg_str(&old)
            };
            Ok(format!("ALTER ROLE {} PASSWORD {pw};", a.sql(engine)))
        }
    }
}

/// Session settings that keep the statement (and so the password) out of server logs.
pub fn quiet_prefix(engine: Engine) -> &'static str {
    match engine {
        Engine::MariaDb => "SET SESSION sql_log_off = 1;\n",
        Engine::Postgres => "SET log_statement = 'none';\nSET log_min_duration_statement = -1;\n",
    }
}

pub fn set_password_statement(engine: Engine, a: &Account, password: &str) -> String {
    match engine {
        Engine::MariaDb => format!("ALTER USER {} IDENTIFIED BY {};", a.sql(engine), my_str(password)),
        Engine::Postgres => format!("ALTER ROLE {} PASSWORD {};", a.sql(engine), pg_str(password)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quoting_is_safe() {
        assert_eq!(my_str("a'b\\c"), "'a\\'b\\\\c'");
        assert_eq!(pg_str("it's"), "'it''s'");
        assert_eq!(pg_ident("we\"ird"), "\"we\"\"ird\"");
        let a = Account {
            user: "x'; DROP USER root; --".into(),
            host: "%".into(),
        };
        assert_eq!(a.sql(Engine::MariaDb), "'x\\'; DROP USER root; --'@'%'");
        assert!(Engine::parse("oracle").is_err());
    }
}
