//! Database accounts, when a local socket is available (live host, as root): MariaDB/MySQL
//! anonymous accounts, accounts without a password and `root` reachable from other hosts;
//! PostgreSQL `trust` lines in pg_hba.conf and roles with legacy MD5 hashes. The queries
//! run through the servers' own clients over their sockets (root's unix_socket login, the
//! postgres OS user), read-only; no password hash ever goes into a finding.

use crate::context::{Context, Out};
use crate::runner::Check;
use rampart_core::cmd::{self, Options};
use rampart_core::{Evidence, Finding, Severity, Step};
use std::time::Duration;

pub struct Databases;

const MYSQL_SOCKETS: &[&str] = &[
    "/run/mysqld/mysqld.sock",
    "/var/run/mysqld/mysqld.sock",
    "/var/lib/mysql/mysql.sock",
];
const PG_SOCKET_DIR: &str = "/var/run/postgresql";

fn run_sql(program: &str, args: &[&str], sql: &str) -> Result<String, String> {
    let out = cmd::run_with(
        program,
        args,
        &Options {
            timeout: Duration::from_secs(10),
            stdin: Some(sql.as_bytes().to_vec()),
            ..Default::default()
        },
    )
    .map_err(|e| e.to_string())?;
    if !out.success() {
        return Err(String::from_utf8_lossy(&out.stderr).trim().to_string());
    }
    Ok(out.stdout_text())
}

fn is_local_host(h: &str) -> bool {
    matches!(h, "localhost" | "127.0.0.1" | "::1")
}

/// One MariaDB account row: user, host, auth plugin, whether it has a password, locked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MyAccount {
    pub user: String,
    pub host: String,
    pub plugin: String,
    pub has_password: bool,
    pub locked: bool,
}

/// Findings for MariaDB accounts (pure, for tests).
pub fn judge_mysql(accounts: &[MyAccount]) -> Vec<Finding> {
    let mut out = Vec::new();
    for a in accounts {
        let who = format!("'{}'@'{}'", a.user, a.host);
        let loc = format!("mariadb account {who}");
        if a.locked {
            continue;
        }
        if a.user.is_empty() {
            out.push(
                Finding::new(
                    "databases.mysql-anonymous",
                    Severity::High,
                    Step::Passwords,
                    "MariaDB anonymous account",
                )
                .evidence(Evidence::at(loc.clone(), "anyone can log in without a user name"))
                .remedy(format!(
                    "DROP USER {who}; (mariadb-secure-installation removes it too)"
                )),
            );
            continue;
        }
        let password_plugin =
            a.plugin.is_empty() || a.plugin == "mysql_native_password" || a.plugin == "mysql_old_password";
        if password_plugin && !a.has_password && a.user != "mariadb.sys" {
            out.push(
                Finding::new(
                    "databases.mysql-empty-password",
                    Severity::Critical,
                    Step::Passwords,
                    format!("MariaDB account {who} has no password"),
                )
                .evidence(Evidence::at(
                    loc.clone(),
                    "password authentication with an empty password",
                ))
                .remedy(
                    "Set a strong password (rampart respond can generate and set one), or drop the account.",
                )
                .action(format!("db-rotate engine=mariadb user={}@{}", a.user, a.host)),
            );
        }
        if a.user == "root" && !is_local_host(&a.host) {
            out.push(
                Finding::new(
                    "databases.mysql-root-remote",
                    Severity::High,
                    Step::Firewall,
                    format!("MariaDB root can log in from {}", a.host),
                )
                .evidence(Evidence::at(
                    loc.clone(),
                    format!("root account for host {:?}", a.host),
                ))
                .remedy(format!(
                    "DROP USER {who}; administer the server locally (or through an SSH tunnel) instead"
                )),
            );
        }
    }
    out
}

fn mysql(ctx: &Context, out: &mut Out) {
    let Some(sock) = MYSQL_SOCKETS.iter().find(|s| ctx.host.exists(s)) else {
        return;
    };
    let Some(client) = ["mariadb", "mysql"].into_iter().find(|c| cmd::which(c).is_some()) else {
        out.skip(format!(
            "mariadb: a server socket is at {sock} but no client is installed"
        ));
        return;
    };
    let args = ["--protocol=socket", "--socket", sock, "-u", "root", "-N", "-B"];
    let with_lock =
        "SELECT User, Host, plugin, authentication_string <> '', account_locked = 'Y' FROM mysql.user;";
    let without = "SELECT User, Host, plugin, authentication_string <> '', 0 FROM mysql.user;";
    let text = match run_sql(client, &args, with_lock).or_else(|_| run_sql(client, &args, without)) {
        Ok(t) => t,
        Err(e) => {
            out.skip(format!("mariadb: root cannot query mysql.user over {sock}: {e}"));
            return;
        }
    };
    let accounts: Vec<MyAccount> = text
        .lines()
        .filter_map(|l| {
            let f: Vec<&str> = l.split('\t').collect();
            (f.len() >= 5).then(|| MyAccount {
                user: f[0].to_string(),
                host: f[1].to_string(),
                plugin: f[2].to_string(),
                has_password: f[3] == "1",
                locked: f[4] == "1",
            })
        })
        .collect();
    for f in judge_mysql(&accounts) {
        out.finding(f);
    }
}

fn postgres(ctx: &Context, out: &mut Out) {
    if !ctx.host.exists(PG_SOCKET_DIR) || cmd::which("psql").is_none() || cmd::which("runuser").is_none() {
        return;
    }
    let args = [
        "-u", "postgres", "--", "psql", "-X", "-q", "-A", "-t", "-d", "postgres",
    ];
    let hba = match run_sql("runuser", &args, "SHOW hba_file;") {
        Ok(t) => t.trim().to_string(),
        Err(e) => {
            out.skip(format!("postgresql: cannot query the server as postgres: {e}"));
            return;
        }
    };
    match ctx.host.read_text(&hba) {
        Ok(text) => {
            for (i, line) in text.lines().enumerate() {
                let w: Vec<&str> = line.split('#').next().unwrap_or("").split_whitespace().collect();
                if w.last() != Some(&"trust") || w.is_empty() {
                    continue;
                }
                let network = w[0].starts_with("host");
                let (sev, title) = if network {
                    (
                        Severity::Critical,
                        "PostgreSQL accepts network logins without a password (trust)",
                    )
                } else {
                    (
                        Severity::High,
                        "PostgreSQL lets every local user log in as any role (trust)",
                    )
                };
                out.finding(
                    Finding::new("databases.pg-trust", sev, Step::Passwords, title)
                        .evidence(Evidence::file(hba.clone(), Some(i as u64 + 1), line.trim()))
                        .remedy("Use scram-sha-256 (host) or peer (local) instead of trust, then reload PostgreSQL."),
                );
            }
        }
        Err(e) => out.host_error(&e),
    }
    match run_sql(
        "runuser",
        &args,
        "SELECT rolname FROM pg_authid WHERE rolcanlogin AND rolpassword LIKE 'md5%' ORDER BY 1;",
    ) {
        Ok(t) => {
            for role in t.lines().filter(|l| !l.is_empty()) {
                out.finding(
                    Finding::new(
                        "databases.pg-md5",
                        Severity::Medium,
                        Step::Passwords,
                        format!("PostgreSQL role {role} has a legacy MD5 password hash"),
                    )
                    .evidence(Evidence::at(
                        format!("postgresql role {role}"),
                        "password stored as MD5",
                    ))
                    .remedy("Set a new password with password_encryption = scram-sha-256.")
                    .action(format!("db-rotate engine=postgresql user={role}")),
                );
            }
        }
        Err(e) => out.error("postgresql", e),
    }
}

impl Check for Databases {
    fn name(&self) -> &'static str {
        "databases"
    }

    fn needs_live(&self) -> bool {
        true
    }

    fn run(&self, ctx: &Context, out: &mut Out) {
        if !ctx.is_root {
            out.skip("database accounts need root (the servers' local sockets)");
            return;
        }
        mysql(ctx, out);
        postgres(ctx, out);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn acct(user: &str, host: &str, plugin: &str, has_password: bool) -> MyAccount {
        MyAccount {
            user: user.into(),
            host: host.into(),
            plugin: plugin.into(),
            has_password,
            locked: false,
        }
    }

    #[test]
    fn judges_anonymous_empty_and_remote_root() {
        let f = judge_mysql(&[
            acct("", "localhost", "mysql_native_password", false),
            acct("app", "%", "mysql_native_password", false),
            acct("root", "%", "mysql_native_password", true),
            acct("root", "localhost", "unix_socket", false),
            acct("ok", "localhost", "mysql_native_password", true),
            MyAccount {
                locked: true,
                ..acct("mariadb.sys", "localhost", "mysql_native_password", false)
            },
        ]);
        let ids: Vec<&str> = f.iter().map(|f| f.id.as_str()).collect();
        assert_eq!(
            ids,
            [
                "databases.mysql-anonymous",
                "databases.mysql-empty-password",
                "databases.mysql-root-remote"
            ]
        );
        assert_eq!(
            f[1].action.as_deref(),
            Some("db-rotate engine=mariadb user=app@%")
        );
    }

    /// Against the real MariaDB server (scripts/install-test-deps starts it).
    #[test]
    fn live_mariadb_accounts_are_reported() {
        // SAFETY: geteuid cannot fail.
        if unsafe { libc::geteuid() } != 0 || !MYSQL_SOCKETS.iter().any(|s| std::path::Path::new(s).exists())
        {
            eprintln!("skipped: needs root and a running MariaDB");
            return;
        }
        let tag = std::process::id();
        let setup = format!(
            "CREATE USER ''@'anon{tag}.invalid'; CREATE USER 'rampart_e{tag}'@'empty{tag}.invalid';
             CREATE USER 'root'@'remote{tag}.invalid' IDENTIFIED BY 'x-Y-z-123456';"
        );
        let args = ["--protocol=socket", "-u", "root", "-N", "-B"];
        if let Err(e) = run_sql("mariadb", &args, &setup) {
            eprintln!("skipped: cannot create test accounts: {e}");
            return;
        }
        let host = rampart_core::HostRoot::live();
        let ctx = Context::new(host, crate::context::Options::default());
        let mut out = Out::new("databases");
        Databases.run(&ctx, &mut out);
        let _ = run_sql(
            "mariadb",
            &args,
            &format!(
                "DROP USER ''@'anon{tag}.invalid'; DROP USER 'rampart_e{tag}'@'empty{tag}.invalid';
                 DROP USER 'root'@'remote{tag}.invalid';"
            ),
        );
        let has = |id: &str, needle: &str| {
            out.findings
                .iter()
                .any(|f| f.id == id && f.evidence.iter().any(|e| e.location.contains(needle)))
        };
        assert!(
            has("databases.mysql-anonymous", &format!("anon{tag}")),
            "{:#?}",
            out.findings
        );
        assert!(has("databases.mysql-empty-password", &format!("empty{tag}")));
        assert!(has("databases.mysql-root-remote", &format!("remote{tag}")));
        let text = serde_json::to_string(&out.findings).unwrap();
        assert!(!text.contains("x-Y-z-123456"));
    }

    /// Against the real PostgreSQL server: a role with an MD5 hash is reported with the fix.
    #[test]
    fn live_postgresql_md5_role_is_reported() {
        // SAFETY: geteuid cannot fail.
        if unsafe { libc::geteuid() } != 0 || !std::path::Path::new(PG_SOCKET_DIR).exists() {
            eprintln!("skipped: needs root and a running PostgreSQL");
            return;
        }
        let role = format!("rampart_md5_{}", std::process::id());
        let args = [
            "-u", "postgres", "--", "psql", "-X", "-q", "-A", "-t", "-d", "postgres",
        ];
        let setup =
            format!("SET password_encryption = 'md5'; CREATE ROLE {role} LOGIN PASSWORD 'Md5-old-pass!';");
        if let Err(e) = run_sql("runuser", &args, &setup) {
            eprintln!("skipped: cannot create a test role: {e}");
            return;
        }
        let hash = run_sql(
            "runuser",
            &args,
            &format!("SELECT rolpassword FROM pg_authid WHERE rolname = '{role}';"),
        )
        .unwrap_or_default();
        let ctx = Context::new(rampart_core::HostRoot::live(), crate::context::Options::default());
        let mut out = Out::new("databases");
        Databases.run(&ctx, &mut out);
        let _ = run_sql("runuser", &args, &format!("DROP ROLE {role};"));
        assert!(hash.trim().starts_with("md5"), "{hash}");
        let f = out
            .findings
            .iter()
            .find(|f| f.id == "databases.pg-md5" && f.title.contains(&role))
            .unwrap_or_else(|| panic!("{:#?}", out.findings));
        assert_eq!(
            f.action.as_deref(),
            Some(format!("db-rotate engine=postgresql user={role}").as_str())
        );
        assert!(
            !serde_json::to_string(&out.findings).unwrap().contains("md5a"),
            "no hash in findings"
        );
    }
}
