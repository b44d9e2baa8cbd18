//! db-rotate against the real MariaDB and PostgreSQL servers that
//! scripts/install-test-deps starts: a test account is created, rotated (the new password
//! works over TCP, the old one fails), restored by undo, and dropped. The credential
//! inventory finds a WordPress site's administrators through its wp-config.php.

use rampart_respond::dbclient::{query, Engine};
use rampart_respond::engine::{self, Which};
use rampart_respond::{ActionSpec, Env};
use std::time::Duration;

fn up(engine: Engine) -> bool {
    if !rampart_testkit::require::root("database administration over the local socket") {
        return false;
    }
    match query(engine, "SELECT 1;") {
        Ok(_) => true,
        Err(e) => {
            eprintln!(
                "skipped: {} is not running ({e}); scripts/install-test-deps starts it",
                engine.name()
            );
            false
        }
    }
}

fn mariadb_login(user: &str, pw: &str) -> bool {
    rampart_core::cmd::run_with(
        "mariadb",
        [
            "--protocol=tcp",
            "-h",
            "127.0.0.1",
            "-P",
            "3306",
            "-u",
            user,
            "-N",
            "-e",
            "SELECT 1",
        ],
        &rampart_core::cmd::Options {
            env: vec![("MYSQL_PWD".into(), pw.into())],
            timeout: Duration::from_secs(10),
            ..Default::default()
        },
    )
    .is_ok_and(|o| o.success())
}

fn pg_login(user: &str, pw: &str) -> bool {
    rampart_core::cmd::run_with(
        "psql",
        [
            "-X",
            "-h",
            "127.0.0.1",
            "-U",
            user,
            "-d",
            "postgres",
            "-c",
            "SELECT 1",
        ],
        &rampart_core::cmd::Options {
            env: vec![
                ("PGPASSWORD".into(), pw.into()),
                ("PGCONNECT_TIMEOUT".into(), "5".into()),
            ],
            timeout: Duration::from_secs(10),
            ..Default::default()
        },
    )
    .is_ok_and(|o| o.success())
}

struct Cleanup(Engine, String);
impl Drop for Cleanup {
    fn drop(&mut self) {
        let _ = query(self.0, &self.1);
    }
}

fn env(dir: &std::path::Path) -> Env {
    Env {
        journal_dir: dir.join("journal"),
        ..Env::live()
    }
}

#[test]
fn mariadb_rotation_over_a_real_connection() {
    if !up(Engine::MariaDb) {
        return;
    }
    let user = format!("rampart_t{}", std::process::id());
    let old = "Old-pass-4711!x";
    query(
        Engine::MariaDb,
        &format!("CREATE USER '{user}'@'127.0.0.1' IDENTIFIED BY '{old}';"),
    )
    .unwrap();
    let _c = Cleanup(
        Engine::MariaDb,
        format!("DROP USER IF EXISTS '{user}'@'127.0.0.1';"),
    );
    assert!(mariadb_login(&user, old));

    let d = tempfile::tempdir().unwrap();
    let spec = ActionSpec::parse_str(&format!("db-rotate engine=mariadb user={user}@127.0.0.1")).unwrap();
    let plan = engine::plan(&env(d.path()), &spec).unwrap();
    assert_eq!(plan.changes.len(), 1, "{:?}", plan.changes);
    let applied = engine::apply(&env(d.path()), &spec).unwrap();
    let new = &applied.outcome.secrets[0].value;
    assert!(mariadb_login(&user, new), "the new password must work");
    assert!(!mariadb_login(&user, old), "the old password must fail");
    let record =
        std::fs::read_to_string(d.path().join("journal").join(&applied.id).join("record.json")).unwrap();
    assert!(!record.contains(new.as_str()));

    engine::undo(&env(d.path()), &Which::Id(applied.id)).unwrap();
    assert!(
        mariadb_login(&user, old),
        "undo must restore the previous password"
    );
    assert!(!mariadb_login(&user, new));

    let bad = ActionSpec::parse_str("db-rotate engine=mariadb user=no_such_user_rampart").unwrap();
    assert!(engine::plan(&env(d.path()), &bad)
        .unwrap_err()
        .to_string()
        .contains("unknown database user"));
}

#[test]
fn postgresql_rotation_over_a_real_connection() {
    if !up(Engine::Postgres) {
        return;
    }
    let role = format!("rampart_t{}", std::process::id());
    let old = "Old-pass-4711!x";
    query(
        Engine::Postgres,
        &format!("CREATE ROLE {role} LOGIN PASSWORD '{old}';"),
    )
    .unwrap();
    let _c = Cleanup(Engine::Postgres, format!("DROP ROLE IF EXISTS {role};"));
    assert!(pg_login(&role, old));

    let d = tempfile::tempdir().unwrap();
    let spec = ActionSpec::parse_str(&format!("db-rotate engine=postgresql user={role}")).unwrap();
    let applied = engine::apply(&env(d.path()), &spec).unwrap();
    let new = &applied.outcome.secrets[0].value;
    assert!(pg_login(&role, new), "the new password must work");
    assert!(!pg_login(&role, old), "the old password must fail");

    engine::undo(&env(d.path()), &Which::Last).unwrap();
    assert!(pg_login(&role, old), "undo must restore the previous password");
}

#[test]
fn wordpress_administrators_are_listed_through_wp_config() {
    if !up(Engine::MariaDb) {
        return;
    }
    let name = format!("rampart_wp{}", std::process::id());
    let pw = "Wp-db-pass-0815!";
    query(
        Engine::MariaDb,
        &format!(
            "CREATE DATABASE {name}; CREATE USER '{name}'@'localhost' IDENTIFIED BY '{pw}';
             GRANT SELECT ON {name}.* TO '{name}'@'localhost';
             CREATE TABLE {name}.wp_users (ID INT PRIMARY KEY, user_login VARCHAR(60));
             CREATE TABLE {name}.wp_usermeta (umeta_id INT AUTO_INCREMENT PRIMARY KEY, user_id INT,
                 meta_key VARCHAR(255), meta_value LONGTEXT);
             INSERT INTO {name}.wp_users VALUES (1, 'site_admin'), (2, 'reader');
             INSERT INTO {name}.wp_usermeta (user_id, meta_key, meta_value) VALUES
                 (1, 'wp_capabilities', 'a:1:{{s:13:\"administrator\";b:1;}}'),
                 (2, 'wp_capabilities', 'a:1:{{s:10:\"subscriber\";b:1;}}');"
        ),
    )
    .unwrap();
    let _c = Cleanup(
        Engine::MariaDb,
        format!("DROP DATABASE IF EXISTS {name}; DROP USER IF EXISTS '{name}'@'localhost';"),
    );
    let d = tempfile::tempdir().unwrap();
    let site = d.path().join("var/www/blog");
    std::fs::create_dir_all(&site).unwrap();
    std::fs::write(
        site.join("wp-config.php"),
        format!(
            "<?php\ndefine( 'DB_NAME', '{name}' );\ndefine( 'DB_USER', '{name}' );\n\
             define( 'DB_PASSWORD', '{pw}' );\ndefine( 'DB_HOST', 'localhost' );\n$table_prefix = 'wp_';\n"
        ),
    )
    .unwrap();
    let env = Env {
        root: d.path().to_path_buf(),
        ..Env::live()
    };
    let creds = rampart_respond::inventory::other_credentials(&env);
    let whats: Vec<&str> = creds.iter().map(|c| c.what.as_str()).collect();
    assert!(
        whats
            .iter()
            .any(|w| w.starts_with("WordPress administrator site_admin")),
        "{whats:?}"
    );
    assert!(!whats.iter().any(|w| w.contains("reader")), "{whats:?}");
    assert!(whats
        .iter()
        .any(|w| w.starts_with(&format!("WordPress database user {name}"))));
    // The database password is used, never shown.
    assert!(!creds.iter().any(|c| c.what.contains(pw) || c.how.contains(pw)));
}
